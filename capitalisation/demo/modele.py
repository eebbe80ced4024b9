"""The household model of the demo deliveries: rent account, procedure, contacts, indicators.

Everything here is deterministic given its random draws. Amounts are integer cents, months
are integer indices (year * 12 + month - 1) and dates are `datetime.date`.

One household is simulated from a `Scenario` (what happens to it: recovery month, repayment
plan, procedure stage at entry, departure...) and an `Alea` (its own uniform draws, month by
month). Two scenarios of the same household that share one `Alea` give its two potential
paths with common random numbers: this is how the true effect of the accompaniment is known.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field

import numpy as np

from capitalisation import contrat

# --------------------------------------------------------------------------- months and dates


def mois_de(date: dt.date) -> int:
    return date.year * 12 + date.month - 1


def premier_jour(mois: int) -> dt.date:
    annee, rang = divmod(mois, 12)
    return dt.date(annee, rang + 1, 1)


def dernier_jour(mois: int) -> dt.date:
    annee, rang = divmod(mois, 12)
    return dt.date(annee, rang + 1, calendar.monthrange(annee, rang + 1)[1])


def jour_du_mois(mois: int, jour: int) -> dt.date:
    annee, rang = divmod(mois, 12)
    return dt.date(annee, rang + 1, min(max(int(jour), 1), calendar.monthrange(annee, rang + 1)[1]))


def date_aleatoire(rng: np.random.Generator, debut: dt.date, fin: dt.date) -> dt.date:
    """A date uniformly drawn between two dates, both included."""
    ecart = (fin - debut).days
    return debut + dt.timedelta(days=int(rng.integers(0, ecart + 1)))


def identifiant_menage(graine: int, bailleur_id: str, numero_locataire: str) -> str:
    """Pseudonymous household id: the first 16 hex digits of an HMAC-SHA256 of a tenant number."""
    cle = f"capitalisation-demo-{graine}".encode()
    message = f"{bailleur_id}:{numero_locataire}".encode()
    return hmac.new(cle, message, hashlib.sha256).hexdigest()[:16]


def centimes(euros: float) -> int:
    return round(euros * 100)


# --------------------------------------------------------------------------- procedure

ETAPES = contrat.ETAPES_PROCEDURE  # commandement_payer ... expulsion_realisee
# Months between a procedure step and the next one: (minimum, maximum) for the step of the
# same rank (the first one, commandement_payer, follows the debt, not a delay).
DELAIS_ETAPES = ((0, 0), (2, 4), (2, 5), (1, 3), (2, 3), (1, 4), (1, 3))


def delai_etape(rang: int, u: float) -> int:
    bas, haut = DELAIS_ETAPES[rang]
    return bas + int(u * (haut - bas + 1))


# --------------------------------------------------------------------------- one household


@dataclass
class Alea:
    """A household's own uniform draws, indexed by month offset from its first account month."""

    paiement: np.ndarray
    fraction: np.ndarray
    rechute: np.ndarray
    regul: np.ndarray
    jours: np.ndarray
    delais: np.ndarray  # one per procedure step
    jours_anterieurs: np.ndarray  # days of the steps dated before the account window

    @classmethod
    def tirer(cls, rng: np.random.Generator, longueur: int) -> Alea:
        return cls(
            paiement=rng.random(longueur),
            fraction=rng.random(longueur),
            rechute=rng.random(longueur),
            regul=rng.random(longueur),
            jours=rng.integers(1, 26, size=longueur),
            delais=rng.random(len(ETAPES)),
            jours_anterieurs=rng.integers(1, 29, size=len(ETAPES) + 1),
        )


@dataclass
class Scenario:
    """What happens to one household's rent account (amounts in cents, months as indices)."""

    mois_premier: int  # first account month
    mois_dernier: int  # last possible account month (the extraction month)
    loyer: int  # rent and charges of the first account month
    aide: int = 0  # monthly housing benefit paid to the landlord
    carence_aide: int = 0  # first account months without housing benefit (new tenancy)
    solde_initial: int = 0  # balance before the first account month
    revision: float = 0.01  # yearly rent revision, applied each January
    # Before recovery: the household pays its net rent with probability p_plein, else a
    # fraction of it drawn in `fraction`.
    p_plein: float = 0.97
    fraction: tuple[float, float] = (0.2, 0.8)
    premier_paiement: float | None = None  # share of the net rent paid in the first month
    # Recovery: from this month on, the household pays its net rent plus `plan` while in
    # debt (a repayment plan is signed if it is in debt then), missing a month with
    # probability p_rechute.
    mois_redressement: int | None = None
    plan: int = 0
    p_rechute: float = 0.03
    fsl: int = 0  # FSL grant paid the month after recovery, up to the debt
    # Procedure: steps already done before the account window (0 = none) and the month of
    # the last of them; whether the landlord pursues, and whether the prefect grants the
    # police (without it no eviction).
    etape_initiale: int = 0
    mois_etape_initiale: int | None = None
    procedure: bool = True
    seuil_commandement: float = 2.0  # debt, in months of net rent, that triggers it
    cfp: bool = False
    mois_depart: int | None = None  # voluntary departure (the account stops that month)
    mois_relogement: int | None = None
    type_relogement: str = "relogement"
    mois_surendettement: int | None = None
    mois_regul: int = 5  # calendar month (1-12) of the yearly charge regularisation
    p_regul: float = 0.6


@dataclass
class LigneCompte:
    mois: int
    quittance: int
    aide_logement: int
    paiement: int
    regularisation: int
    solde_fin_mois: int
    plan_apurement: bool


@dataclass
class Trajectoire:
    comptes: list[LigneCompte]
    evenements: list[tuple[dt.date, str]]
    mois_arret: int | None = None  # eviction or departure month (last account month)
    motif_arret: str | None = None  # `expulsion` or `depart_volontaire`

    def date_evenement(self, type_evenement: str) -> dt.date | None:
        dates = [d for d, t in self.evenements if t == type_evenement]
        return min(dates) if dates else None

    def solde(self, mois: int) -> int | None:
        for ligne in self.comptes:
            if ligne.mois == mois:
                return ligne.solde_fin_mois
        return None


def quittance_du_mois(sc: Scenario, mois: int) -> int:
    revisions = sum(1 for m in range(sc.mois_premier + 1, mois + 1) if m % 12 == 0)
    return round(sc.loyer * (1 + sc.revision) ** revisions)


def simuler(sc: Scenario, alea: Alea) -> Trajectoire:
    """The household's rent account month by month, with the events it triggers."""
    evenements: list[tuple[dt.date, str]] = []
    net_reference = max(sc.loyer - sc.aide, 1)
    etape = sc.etape_initiale  # number of procedure steps done
    mois_derniere_etape = sc.mois_etape_initiale
    if etape:
        evenements += _etapes_anterieures(sc, alea)
    impaye_signale = etape > 0
    solde = sc.solde_initial
    plan_en_cours = False
    plan_signe = False
    comptes: list[LigneCompte] = []
    trajectoire = Trajectoire(comptes, evenements)
    for i, mois in enumerate(range(sc.mois_premier, sc.mois_dernier + 1)):
        jour = int(alea.jours[i])
        quittance = quittance_du_mois(sc, mois)
        aide = sc.aide if i >= sc.carence_aide else 0
        net = max(quittance - aide, 0)
        regul = 0
        if mois % 12 + 1 == sc.mois_regul and i > 0 and alea.regul[i] < sc.p_regul:
            # charge regularisation, from a 90 EUR refund to a 140 EUR call
            regul = round((alea.regul[i] / sc.p_regul) * 23000 - 9000)
        du = solde + quittance - aide + regul
        redresse = sc.mois_redressement is not None and mois >= sc.mois_redressement
        marque_plan = False
        if redresse:
            if not plan_signe and sc.plan > 0 and solde > 0:
                plan_signe = plan_en_cours = True
                evenements.append((jour_du_mois(mois, jour), "plan_apurement_signe"))
                if etape >= 3:  # resiliation pronounced: a protocol keeps the tenant in place
                    evenements.append((jour_du_mois(mois, jour + 2), "protocole_cohesion_sociale"))
            if alea.rechute[i] < sc.p_rechute and du > 0:
                paiement = round(net * (0.3 + 0.4 * alea.fraction[i]))
            else:
                rattrapage = sc.plan if plan_en_cours else net // 2
                paiement = min(max(du, 0), net + rattrapage)
            marque_plan = plan_en_cours
            if sc.fsl and sc.mois_redressement is not None and mois == sc.mois_redressement + 1:
                grant = min(sc.fsl, max(du - paiement, 0))
                if grant > 0:
                    paiement += grant
                    evenements.append((jour_du_mois(mois, jour + 1), "fsl_accorde"))
        else:
            if i == 0 and sc.premier_paiement is not None:
                paiement = round(net * sc.premier_paiement)
            elif alea.paiement[i] < sc.p_plein:
                paiement = min(max(du, 0), net)
            else:
                bas, haut = sc.fraction
                paiement = round(net * (bas + (haut - bas) * alea.fraction[i]))
        paiement = max(min(paiement, du), 0)
        solde = du - paiement
        if plan_en_cours and solde <= 0:
            plan_en_cours = False
        comptes.append(LigneCompte(mois, quittance, aide, paiement, regul, solde, marque_plan))

        # tenancy events of the month
        if sc.mois_relogement == mois:
            evenements.append((jour_du_mois(mois, jour + 1), sc.type_relogement))
        if sc.mois_surendettement == mois:
            evenements.append((jour_du_mois(mois, jour), "dossier_surendettement"))
        if not impaye_signale and solde >= net_reference:
            impaye_signale = True
            evenements.append((jour_du_mois(mois, jour), "impaye_signale"))
        # procedure: one step a month at most, after its delay, while the debt stays
        elif sc.procedure:
            if etape == 0:
                seuil = sc.seuil_commandement * net_reference
                if not redresse and impaye_signale and solde >= seuil:
                    etape, mois_derniere_etape = 1, mois
                    evenements.append((jour_du_mois(mois, jour), ETAPES[0]))
            elif etape < len(ETAPES) and not redresse:
                attente = delai_etape(etape, alea.delais[etape])
                prochaine = ETAPES[etape]
                if mois - mois_derniere_etape >= attente and (
                    prochaine == "expulsion_realisee" or solde > net_reference
                ):
                    if prochaine in ("cfp_accorde", "expulsion_realisee") and not sc.cfp:
                        pass  # the prefect does not grant the police: the procedure stalls
                    else:
                        etape, mois_derniere_etape = etape + 1, mois
                        evenements.append((jour_du_mois(mois, jour), prochaine))
                        if prochaine == "expulsion_realisee":
                            trajectoire.mois_arret, trajectoire.motif_arret = mois, "expulsion"
                            break
        if sc.mois_depart == mois:
            evenements.append((jour_du_mois(mois, jour + 1), "depart_volontaire"))
            trajectoire.mois_arret, trajectoire.motif_arret = mois, "depart_volontaire"
            break
    evenements.sort()
    return trajectoire


def _etapes_anterieures(sc: Scenario, alea: Alea) -> list[tuple[dt.date, str]]:
    """The procedure steps already done when the account window opens, dated backwards."""
    evenements = []
    mois = sc.mois_etape_initiale
    for rang in range(sc.etape_initiale - 1, -1, -1):
        evenements.append((jour_du_mois(mois, alea.jours_anterieurs[rang]), ETAPES[rang]))
        if rang > 0:
            mois -= delai_etape(rang, alea.delais[rang])
    # the unpaid rent was reported to the landlord's partners before the first step
    evenements.append((jour_du_mois(mois - 1, alea.jours_anterieurs[-1]), "impaye_signale"))
    return evenements


# --------------------------------------------------------------------------- contacts


@dataclass(frozen=True)
class RegleContacts:
    """How often and how the accompaniment meets a household."""

    par_mois: float  # mean number of contacts a month
    types: dict[str, float]  # type_contact -> weight (bilan excluded: one at the end)
    intervenants: dict[str, float]
    p_honore: float  # visits and office meetings
    p_honore_autres: float = 0.95
    bilan_final: bool = True


def tirer_contacts(
    rng: np.random.Generator, regle: RegleContacts, debut: dt.date, fin: dt.date, termine: bool
) -> list[tuple[dt.date, str, bool, str]]:
    """Contacts dated from `debut` to `fin`, the first one a home visit on the first day."""
    types = list(regle.types)
    poids_types = np.array([regle.types[t] for t in types], dtype=float)
    poids_types /= poids_types.sum()
    intervenants = list(regle.intervenants)
    poids_int = np.array([regle.intervenants[t] for t in intervenants], dtype=float)
    poids_int /= poids_int.sum()
    dates = [debut]
    lendemain = debut + dt.timedelta(days=1)
    for mois in range(mois_de(debut), mois_de(fin) + 1):
        bas = max(premier_jour(mois), lendemain)
        haut = min(dernier_jour(mois), fin)
        if bas > haut:
            continue
        for _ in range(int(rng.poisson(regle.par_mois))):
            dates.append(date_aleatoire(rng, bas, haut))
    dates.sort()
    contacts = []
    for rang, date in enumerate(dates):
        if rang == 0:
            type_contact = "visite_domicile"
        else:
            type_contact = types[rng.choice(len(types), p=poids_types)]
        rendez_vous = type_contact in ("visite_domicile", "rdv_bureau")
        p = regle.p_honore if rendez_vous else regle.p_honore_autres
        honore = True if rang == 0 else bool(rng.random() < p)
        intervenant = intervenants[rng.choice(len(intervenants), p=poids_int)]
        contacts.append((date, type_contact, honore, intervenant))
    if termine and regle.bilan_final and fin > debut:
        contacts.append((fin, "bilan", True, intervenants[int(np.argmax(poids_int))]))
    return contacts


# --------------------------------------------------------------------------- a household


@dataclass
class Menage:
    """One household of a delivery, with its tables' rows."""

    menage_id: str
    projet_id: str
    bailleur_id: str
    cohorte: str
    volet: str
    date_orientation: dt.date
    date_debut_accompagnement: dt.date | None
    date_fin_accompagnement: dt.date | None
    motif_fin: str | None
    composition: str
    tranche_age: str
    tranche_ressources: str
    loyer_mensuel: int
    taux_effort: float | None
    departement: str
    public_prioritaire: str
    origine_orientation: str
    trajectoire: Trajectoire
    contacts: list[tuple[dt.date, str, bool, str]] = field(default_factory=list)
    consommations: list[tuple[int, str, float, int]] = field(default_factory=list)
    # Scenario class the household was drawn in (kept for the truth, never delivered).
    classe: str = ""

    @property
    def mois_index(self) -> int:
        return mois_de(self.date_orientation)


# --------------------------------------------------------------------------- indicators


def indicateurs(
    menage: Menage,
    trajectoire: Trajectoire,
    mois_resultat: int,
    date_resultat: dt.date,
) -> dict:
    """The per-household indicators of indicators.md for one outcome month and date."""
    soldes = {ligne.mois: ligne for ligne in trajectoire.comptes}
    m0 = menage.mois_index
    avant = soldes.get(m0 - 1) or soldes.get(m0)
    dette_entree = avant.solde_fin_mois if avant is not None else None
    observes = [m for m in soldes if m0 <= m <= mois_resultat]
    dette_sortie = soldes[max(observes)].solde_fin_mois if observes else None
    loyer_a_jour = None
    if mois_resultat in soldes and soldes[mois_resultat].solde_fin_mois <= 0:
        loyer_a_jour = True
    elif all(m in soldes for m in range(mois_resultat - 2, mois_resultat + 1)):
        loyer_a_jour = all(
            soldes[m].paiement + soldes[m].aide_logement >= soldes[m].quittance
            for m in range(mois_resultat - 2, mois_resultat + 1)
        )
    avant_resultat = [(d, t) for d, t in trajectoire.evenements if d <= date_resultat]
    types = {t for _, t in avant_resultat}
    en_procedure = bool(types & set(ETAPES[1:]))
    expulse = "expulsion_realisee" in types
    depart = "depart_volontaire" in types
    en_dette = dette_entree is not None and dette_entree > 0
    connue = en_dette and dette_sortie is not None
    return {
        "dette_entree": dette_entree,
        "en_dette_entree": en_dette,
        "dette_sortie": dette_sortie,
        "dette_resorbee": (dette_sortie <= 0) if connue else None,
        "dette_reduite": (dette_sortie < dette_entree) if connue else None,
        "loyer_a_jour": loyer_a_jour,
        "en_procedure": en_procedure,
        "expulse": expulse,
        "depart_volontaire": depart,
        "expulsion_evitee": en_procedure and not expulse and not depart,
        "maintien": not expulse and not depart,
        "relogement": bool(types & {"relogement", "mutation"}),
    }


def resultat_descriptif(menage: Menage, date_extraction: dt.date) -> tuple[int, dt.date]:
    """Outcome month and date of the fiche: end of accompaniment, else the extraction date."""
    date = menage.date_fin_accompagnement or date_extraction
    return mois_de(date), date


def resultat_horizon(menage: Menage, horizon: int) -> tuple[int, dt.date]:
    mois = menage.mois_index + horizon
    return mois, dernier_jour(mois)
