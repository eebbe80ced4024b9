"""What the five demo projects share: a generated project, scenario classes, truncation,
and the headline figures recomputed for the truth file.

The descriptive projects are calibrated on the figures they published: households are
drawn in scenario classes whose sizes are fixed (e.g. 28 of the 123 accompaniments of
« Zéro expulsion » avoid an eviction in procedure), and each household's path is drawn
again until the indicators of indicators.md put it in its class (`conforme`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np

from capitalisation.demo.ecriture import FormatLivraison
from capitalisation.demo.modele import (
    Menage,
    Scenario,
    Trajectoire,
    centimes,
    identifiant_menage,
    indicateurs,
    jour_du_mois,
    mois_de,
    resultat_descriptif,
)
from capitalisation.demo.profils import Profil

ESSAIS = 80  # draws of a household's path before keeping the last one


@dataclass
class ProjetGenere:
    projet_id: str
    livraisons: dict[dt.date, list[Menage]]  # extraction date -> its households
    format: FormatLivraison
    consommations: bool
    verite: dict = field(default_factory=dict)

    @property
    def date_extraction(self) -> dt.date:
        return max(self.livraisons)

    @property
    def menages(self) -> list[Menage]:
        return self.livraisons[self.date_extraction]


# --------------------------------------------------------------------------- helpers


def ajouter_mois(date: dt.date, mois: int) -> dt.date:
    return jour_du_mois(mois_de(date) + mois, date.day)


def generateur_aleatoire(graine: int, projet: int, *autres: int) -> np.random.Generator:
    return np.random.default_rng([graine, projet, *autres])


def numeros_locataires(rng: np.random.Generator, n: int, prefixe: str) -> list[str]:
    """Distinct fake tenant numbers (only ever used through their HMAC)."""
    tirage = rng.choice(900_000, size=n, replace=False) + 100_000
    return [f"{prefixe}{int(x):07d}" for x in tirage]


def quotas_melanges(rng: np.random.Generator, quotas: dict[str, int]) -> list[str]:
    classes = [c for c, k in quotas.items() for _ in range(k)]
    return [classes[i] for i in rng.permutation(len(classes))]


def entier_uniforme(rng: np.random.Generator, bas: int, haut: int) -> int:
    return int(rng.integers(bas, haut + 1))


def nouveau_menage(
    *,
    graine: int,
    projet_id: str,
    numero: str,
    bailleur_id: str,
    departement: str,
    cohorte: str,
    volet: str,
    orientation: dt.date,
    debut: dt.date | None,
    fin: dt.date | None,
    motif: str | None,
    profil: Profil,
    trajectoire: Trajectoire,
    loyer_mensuel: int,
    classe: str,
) -> Menage:
    return Menage(
        menage_id=identifiant_menage(graine, bailleur_id, numero),
        projet_id=projet_id,
        bailleur_id=bailleur_id,
        cohorte=cohorte,
        volet=volet,
        date_orientation=orientation,
        date_debut_accompagnement=debut,
        date_fin_accompagnement=fin,
        motif_fin=motif,
        composition=profil.composition,
        tranche_age=profil.tranche_age,
        tranche_ressources=profil.tranche_ressources,
        loyer_mensuel=loyer_mensuel,
        taux_effort=profil.taux_effort,
        departement=departement,
        public_prioritaire=profil.public_prioritaire,
        origine_orientation=profil.origine_orientation,
        trajectoire=trajectoire,
        classe=classe,
    )


def loyer_index(sc: Scenario, trajectoire: Trajectoire, m0: int) -> int:
    """Rent and charges due in the index month (the first account month for a new tenant)."""
    for ligne in trajectoire.comptes:
        if ligne.mois >= m0:
            return ligne.quittance
    return sc.loyer


def cloture(
    trajectoire: Trajectoire,
    debut: dt.date,
    fin_prevue: dt.date,
    date_extraction: dt.date,
    motif_normal: str,
) -> tuple[dt.date | None, str | None, bool]:
    """End date and reason of an accompaniment; the flag is False when the path contradicts it."""
    if trajectoire.motif_arret:
        type_arret = (
            "expulsion_realisee" if trajectoire.motif_arret == "expulsion" else "depart_volontaire"
        )
        date_arret = trajectoire.date_evenement(type_arret)
        if date_arret < debut:
            return None, None, False
        if date_arret <= fin_prevue:
            return date_arret, trajectoire.motif_arret, True
    if fin_prevue > date_extraction:
        return None, None, True
    if trajectoire.mois_arret is None or mois_de(fin_prevue) <= trajectoire.mois_arret:
        return fin_prevue, motif_normal, True
    return None, None, False


def scenario_classe(
    rng: np.random.Generator,
    classe: str,
    *,
    premier: int,
    dernier: int,
    m0: int,
    md: int | None,
    profil: Profil,
    carence: int = 0,
    mois_regul: int = 5,
    premier_paiement: float | None = None,
) -> Scenario:
    """A scenario of the descriptive projects' classes."""
    net = max(profil.loyer - profil.aide, 1)
    sc = Scenario(
        mois_premier=premier,
        mois_dernier=dernier,
        loyer=profil.loyer,
        aide=profil.aide,
        carence_aide=carence,
        mois_regul=mois_regul,
        premier_paiement=premier_paiement,
    )
    debut_effet = (md if md is not None else m0) + entier_uniforme(rng, 1, 3)

    def plan(dette_estimee: float, bas: int, haut: int) -> int:
        return max(4000, int(dette_estimee / entier_uniforme(rng, bas, haut)))

    if classe == "stable":
        return replace(sc, mois_redressement=premier, p_rechute=0.02)
    if classe.startswith("dette_"):
        initiale = 0 if carence else int(net * rng.uniform(1.2, 3.0))
        sc = replace(sc, solde_initial=initiale, p_plein=0.45, seuil_commandement=3.0)
        if classe == "dette_resolue":
            return replace(sc, mois_redressement=debut_effet, plan=plan(initiale + 2 * net, 6, 14),
                           fsl=centimes(rng.uniform(300, 900)) if rng.random() < 0.3 else 0)
        if classe == "dette_soldee":
            return replace(sc, mois_redressement=debut_effet, plan=plan(initiale + 3 * net, 2, 4),
                           fsl=centimes(rng.uniform(300, 1500)) if rng.random() < 0.6 else 0)
        if classe == "dette_reduite":
            return replace(sc, mois_redressement=debut_effet, plan=plan(initiale + 2 * net, 12, 30),
                           p_rechute=0.08)
        if classe == "dette_accrue":
            sc = replace(sc, p_plein=0.5, procedure=rng.random() < 0.5)
            if rng.random() < 0.25:
                sc = replace(sc, mois_surendettement=(md or m0) + entier_uniforme(rng, 1, 5))
            return sc
        return replace(sc, p_plein=0.4, procedure=False)
    if classe in ("procedure_evitee", "procedure_en_cours", "depart"):
        etape = 2 if rng.random() < 0.6 else 3
        initiale = int(net * rng.uniform(3.0, 9.0))
        sc = replace(sc, solde_initial=initiale, p_plein=0.3, etape_initiale=etape,
                     mois_etape_initiale=m0 - entier_uniforme(rng, 0, 4))
        if classe == "procedure_evitee":
            return replace(sc, mois_redressement=debut_effet, plan=plan(initiale + 3 * net, 10, 30),
                           fsl=centimes(rng.uniform(500, 2000)) if rng.random() < 0.4 else 0)
        if classe == "depart":
            return replace(sc, mois_depart=(md or m0) + entier_uniforme(rng, 2, 6))
        if rng.random() < 0.3:  # an over-indebtedness file lodged while in procedure
            sc = replace(sc, mois_surendettement=(md or m0) + entier_uniforme(rng, 1, 5))
        return sc
    if classe == "expulsion":
        return replace(sc, solde_initial=int(net * rng.uniform(6.0, 14.0)), p_plein=0.2,
                       etape_initiale=4 if rng.random() < 0.7 else 5, mois_etape_initiale=m0,
                       cfp=True)
    raise ValueError(classe)


def conforme(classe: str, ind: dict, motif: str | None) -> bool:
    """Whether a household's indicators put it in its class (descriptive outcome)."""
    if classe in ("stable", "dette_resolue"):
        return ind["loyer_a_jour"] is True and not ind["en_procedure"]
    if classe == "dette_non_resolue":
        return ind["loyer_a_jour"] is False and not ind["en_procedure"]
    if classe == "procedure_evitee":
        return ind["loyer_a_jour"] is True and ind["expulsion_evitee"]
    if classe == "procedure_en_cours":
        return ind["loyer_a_jour"] is False and ind["expulsion_evitee"]
    if classe == "expulsion":
        return ind["expulse"] and motif == "expulsion" and ind["en_procedure"]
    if classe == "depart":
        return ind["depart_volontaire"] and motif == "depart_volontaire" and ind["en_procedure"]
    if classe == "dette_soldee":
        return ind["dette_resorbee"] is True
    if classe == "dette_reduite":
        return ind["dette_reduite"] is True and ind["dette_resorbee"] is False
    if classe == "dette_accrue":
        return ind["dette_reduite"] is False and not ind["expulse"]
    return True


def _proportion(k: int, n: int) -> dict:
    return {"k": int(k), "n": int(n), "proportion": round(k / n, 4) if n else None}


def indicateurs_descriptifs(menages: list[Menage], date_extraction: dt.date) -> dict:
    """The headline figures of a fiche, recomputed from the generated households."""
    accompagnes = [m for m in menages if m.cohorte == "accompagne"]
    adheres = [m for m in accompagnes if m.date_debut_accompagnement is not None]
    valeurs = [
        indicateurs(m, m.trajectoire, *resultat_descriptif(m, date_extraction)) for m in adheres
    ]

    def compter(cle: str, filtre=lambda v: True) -> dict:
        connus = [v[cle] for v in valeurs if filtre(v) and v[cle] is not None]
        return _proportion(sum(bool(x) for x in connus), len(connus))

    contacts = [c for m in adheres for c in m.contacts]
    rdv = [c for c in contacts if c[1] in ("visite_domicile", "rdv_bureau")]
    visites = [c for c in contacts if c[1] == "visite_domicile"]
    procedure = [v for v in valeurs if v["en_procedure"]]
    return {
        "menages_orientes": len(accompagnes),
        "menages_temoins": sum(m.cohorte == "temoin" for m in menages),
        "adhesion": _proportion(len(adheres), len(accompagnes)),
        "accompagnements_termines": sum(m.date_fin_accompagnement is not None for m in adheres),
        "accompagnements_en_cours": sum(m.date_fin_accompagnement is None for m in adheres),
        "loyer_a_jour": compter("loyer_a_jour"),
        "en_dette_entree": compter("en_dette_entree"),
        "dette_reduite": compter("dette_reduite"),
        "dette_resorbee": compter("dette_resorbee"),
        "en_procedure": compter("en_procedure"),
        "expulse": compter("expulse"),
        "expulsion_evitee": _proportion(
            sum(v["expulsion_evitee"] for v in procedure), len(procedure)
        ),
        "maintien": compter("maintien"),
        "relogement": compter("relogement"),
        "rdv_honores": _proportion(sum(c[2] for c in rdv), len(rdv)),
        "visites_domicile_honorees": _proportion(sum(c[2] for c in visites), len(visites)),
        "regle": "indicators.md, résultats descriptifs : date de résultat = fin d'accompagnement, "
        "sinon date d'extraction ; population = ménages accompagne avec adhésion",
    }


def tronquer(menage: Menage, coupure: dt.date) -> Menage | None:
    """The household as an older extraction dated `coupure` showed it."""
    if menage.date_orientation > coupure:
        return None
    debut = menage.date_debut_accompagnement
    fin = menage.date_fin_accompagnement
    termine = fin is not None and fin <= coupure
    mois = mois_de(coupure)
    trajectoire = Trajectoire(
        comptes=[ligne for ligne in menage.trajectoire.comptes if ligne.mois <= mois],
        evenements=[e for e in menage.trajectoire.evenements if e[0] <= coupure],
    )
    return replace(
        menage,
        date_debut_accompagnement=debut if debut is not None and debut <= coupure else None,
        date_fin_accompagnement=fin if termine else None,
        motif_fin=menage.motif_fin if termine else None,
        trajectoire=trajectoire,
        contacts=[c for c in menage.contacts if c[0] <= coupure],
        consommations=[c for c in menage.consommations if c[0] <= mois],
    )


def ordonner(menages: list[Menage]) -> list[Menage]:
    return sorted(menages, key=lambda m: (m.date_orientation, m.menage_id))
