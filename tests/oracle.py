"""Independent reference implementation of the indicators (shared/spec/indicators.md).

Plain pandas and plain Python, written from the definitions and nothing else, so that the
warehouse's marts can be checked against it. It shares no code with the pipeline: it has
its own small reader of the delivered CSV files (`lire_livraison_csv`, `lire_exports_csv`)
and of the landing Parquet files (`lire_landing`).

Amounts are `decimal.Decimal` from end to end: every sum and comparison of amounts is exact.

Readings of the definitions where the text leaves a choice (the warehouse mirrors them)
-----------------------------------------------------------------------------------------
Frames
  * `indicateurs_menage` returns every household of `menages` (both cohorts, adhered or
    not): each indicator is a property of the household. The populations of the
    "Outcome month" section are applied by `indicateurs_projet`, not here.
  * Descriptive frame: outcome date = date_fin_accompagnement when not null, else the
    extraction date of the project; mo = its month.
  * Cohort frame: mo = m0 + H, outcome date = last day of mo; a household enters when the
    month of its project's extraction date is >= mo (the outcome date may fall after the
    extraction date within that month).

Months and durations
  * m0 = month of date_orientation. Months are compared as calendar months.
  * duree_accompagnement_mois = the largest n such that date_debut + n months <= end date,
    where adding months clips to the last day of the month (2019-01-15 -> 2019-03-14 is 1,
    -> 2019-03-15 is 2; 2019-01-31 -> 2019-02-28 is 1; 2019-08-31 -> 2019-11-30 is 3).
    End date = date_fin_accompagnement, or the extraction date while running. Null when
    date_debut_accompagnement is null. (Same result as DuckDB's date_sub('month', a, b).)

Debt
  * dette_entree = solde(m0 - 1); when the month m0 - 1 is absent, solde(m0); null when
    both are absent (never solde of an earlier month).
  * en_dette_entree = dette_entree > 0; null when dette_entree is null.
  * dette_sortie = solde of the latest account month <= mo, null when that month is before
    m0 (or when there is no account month <= mo).
  * Descriptive frame: dette_resorbee / dette_reduite are False when en_dette_entree is
    False, null when en_dette_entree is null, null when en_dette_entree is True and
    dette_sortie is null, else dette_sortie <= 0 / dette_sortie < dette_entree.
  * Cohort frame (docs/architecture.md): dette_resorbee / dette_reduite are null unless
    en_dette_entree is True and dette_sortie is known.

Rent up to date
  * loyer_a_jour = True when the month mo is in the account with solde <= 0; otherwise,
    when mo - 2, mo - 1 and mo are all in the account, True exactly when each of them has
    paiement + aide_logement >= quittance (regularisation plays no part); otherwise null.

Events (no lower bound: a step dated before date_orientation counts)
  * Only events dated on or before the outcome date count.
  * en_procedure: one of assignation, jugement_resiliation, commandement_quitter,
    cfp_demande, cfp_accorde, expulsion_realisee (commandement_payer does not count).
  * expulse: expulsion_realisee. expulsion_evitee = en_procedure and not expulse and no
    depart_volontaire. maintien = not expulse and no depart_volontaire. relogement:
    relogement or mutation.

Contacts
  * rdv_prevus = number of the household's contacts of type visite_domicile or rdv_bureau,
    rdv_honores = those with honore true. All the household's contacts in the delivery
    count, whatever their date: unlike the event-based rows, the definition has no "on or
    before the outcome date". A null honore counts as planned, not honoured. Households
    without such contacts have 0 / 0.

Energy
  * Only households with date_debut_accompagnement. Monthly amount = sum of montant over
    all fluids of the month. Eligible months: months with at least one reading, from the
    month of date_debut_accompagnement to mo, both included. Null when fewer than six.
    gain_energie_eur = (sum of the first three eligible months - sum of the last three) / 3,
    positive when the household spends less, rounded once, at the end, to the cent,
    ROUND_HALF_UP (a third of a whole number of cents never ends in exactly half a cent,
    so the rounding mode cannot change a result; rounding each mean first could).

Project aggregates (`indicateurs_projet`)
  * adhesion over all `accompagne` households; the other rows over `accompagne` with
    adhesion; loyer_a_jour over those with a known value; dette_resorbee / dette_reduite
    over those with en_dette_entree True and dette_sortie known; expulsion_evitee over those
    en_procedure; rdv_honores: n = sum of rdv_prevus, k = sum of rdv_honores.
  * gain_energie_eur: n = households with a value, valeur = their mean, k and the interval
    null.
  * One row per project present and per indicator, also when n = 0 (valeur and interval
    null then).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import math
import re
import unicodedata
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

Z95 = 1.959963984540054

TABLES = ("menages", "comptes_mensuels", "evenements", "contacts", "consommations")
TABLES_OBLIGATOIRES = ("menages", "comptes_mensuels", "evenements", "contacts")

ETAPES_DEPUIS_ASSIGNATION = frozenset(
    {
        "assignation",
        "jugement_resiliation",
        "commandement_quitter",
        "cfp_demande",
        "cfp_accorde",
        "expulsion_realisee",
    }
)
TYPES_RDV = frozenset({"visite_domicile", "rdv_bureau"})

INDICATEURS_PROJET = (
    "adhesion",
    "loyer_a_jour",
    "dette_resorbee",
    "dette_reduite",
    "expulsion_evitee",
    "maintien",
    "relogement",
    "rdv_honores",
    "gain_energie_eur",
)

COLONNES_MENAGE = [
    "projet_id",
    "menage_id",
    "bailleur_id",
    "cohorte",
    "volet",
    "date_resultat",
    "mois_resultat",
    "adhesion",
    "duree_accompagnement_mois",
    "dette_entree",
    "en_dette_entree",
    "dette_sortie",
    "dette_resorbee",
    "dette_reduite",
    "loyer_a_jour",
    "en_procedure",
    "expulse",
    "expulsion_evitee",
    "maintien",
    "relogement",
    "rdv_honores",
    "rdv_prevus",
    "gain_energie_eur",
]
COLONNES_COHORTE = [
    "projet_id",
    "menage_id",
    "cohorte",
    "horizon_mois",
    "date_resultat",
    "mois_resultat",
    "loyer_a_jour",
    "dette_entree",
    "en_dette_entree",
    "dette_sortie",
    "dette_resorbee",
    "dette_reduite",
    "expulse",
    "maintien",
    "en_procedure",
]
COLONNES_PROJET = ["projet_id", "indicateur", "n", "k", "valeur", "ic_bas", "ic_haut"]

BOOLEENS = {
    "adhesion",
    "en_dette_entree",
    "dette_resorbee",
    "dette_reduite",
    "loyer_a_jour",
    "en_procedure",
    "expulse",
    "expulsion_evitee",
    "maintien",
    "relogement",
}
ENTIERS = {"duree_accompagnement_mois", "rdv_honores", "rdv_prevus", "horizon_mois"}


# --------------------------------------------------------------------------- scalars


def _manquant(valeur) -> bool:
    if valeur is None:
        return True
    try:
        return bool(pd.isna(valeur))
    except (TypeError, ValueError):
        return False


def _date(valeur) -> dt.date | None:
    if _manquant(valeur):
        return None
    if isinstance(valeur, dt.datetime):  # pandas Timestamp included
        return valeur.date()
    if isinstance(valeur, dt.date):
        return valeur
    if hasattr(valeur, "item"):  # numpy datetime64
        return _date(pd.Timestamp(valeur))
    if isinstance(valeur, str):
        return dt.date.fromisoformat(valeur.strip()[:10])
    raise TypeError(f"not a date: {valeur!r}")


def _mois(valeur) -> int | None:
    """Month as an integer index (year * 12 + month - 1)."""
    jour = _date(valeur)
    return None if jour is None else jour.year * 12 + jour.month - 1


def _date_du_mois(indice: int) -> dt.date:
    return dt.date(indice // 12, indice % 12 + 1, 1)


def _dernier_jour(indice: int) -> dt.date:
    annee, mois = indice // 12, indice % 12 + 1
    return dt.date(annee, mois, calendar.monthrange(annee, mois)[1])


def _montant(valeur) -> Decimal | None:
    if _manquant(valeur):
        return None
    if isinstance(valeur, Decimal):
        return valeur
    if isinstance(valeur, int):
        return Decimal(valeur)
    if isinstance(valeur, float):  # tolerated, brought back to the cent
        return Decimal(repr(valeur)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if isinstance(valeur, str):
        return Decimal(valeur)
    raise TypeError(f"not an amount: {valeur!r}")


def _booleen(valeur) -> bool | None:
    if _manquant(valeur):
        return None
    return bool(valeur)


def _texte(valeur) -> str | None:
    return None if _manquant(valeur) else str(valeur)


def ajouter_mois(jour: dt.date, n: int) -> dt.date:
    """`jour` plus n calendar months, clipped to the last day of the month."""
    indice = jour.year * 12 + jour.month - 1 + n
    annee, mois = indice // 12, indice % 12 + 1
    return dt.date(annee, mois, min(jour.day, calendar.monthrange(annee, mois)[1]))


def mois_entiers(debut: dt.date, fin: dt.date) -> int:
    """Whole months from `debut` to `fin`: the largest n with debut + n months <= fin."""
    n = (fin.year - debut.year) * 12 + (fin.month - debut.month)
    while n > 0 and ajouter_mois(debut, n) > fin:
        n -= 1
    while ajouter_mois(debut, n + 1) <= fin:
        n += 1
    return n


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n; (nan, nan) when n is 0."""
    if n == 0:
        return (math.nan, math.nan)
    if not 0 <= k <= n:
        raise ValueError(f"k={k} outside 0..n={n}")
    z2 = z * z
    centre = 2 * k + z2
    demi = z * math.sqrt(z2 + 4 * k * (n - k) / n)
    denominateur = 2 * (n + z2)
    return ((centre - demi) / denominateur, (centre + demi) / denominateur)


# --------------------------------------------------------------------------- households


class _Menage:
    """One household with its rows from the other tables, in plain Python types."""

    def __init__(self, ligne: dict):
        self.projet_id = _texte(ligne["projet_id"])
        self.menage_id = _texte(ligne["menage_id"])
        self.bailleur_id = _texte(ligne.get("bailleur_id"))
        self.cohorte = _texte(ligne.get("cohorte"))
        self.volet = _texte(ligne.get("volet"))
        self.date_orientation = _date(ligne["date_orientation"])
        self.date_debut = _date(ligne.get("date_debut_accompagnement"))
        self.date_fin = _date(ligne.get("date_fin_accompagnement"))
        self.m0 = _mois(self.date_orientation)
        self.comptes: dict[int, dict] = {}
        self.evenements: list[tuple[dt.date, str]] = []
        self.contacts: list[tuple[dt.date | None, str, bool | None]] = []
        self.energie: dict[int, Decimal] = {}

    # -- debt and rent --------------------------------------------------------

    def solde(self, mois: int) -> Decimal | None:
        compte = self.comptes.get(mois)
        return None if compte is None else compte["solde_fin_mois"]

    def dette_entree(self) -> Decimal | None:
        if self.m0 - 1 in self.comptes:
            return self.solde(self.m0 - 1)
        return self.solde(self.m0)

    def dette_sortie(self, mo: int) -> Decimal | None:
        avant = [mois for mois in self.comptes if mois <= mo]
        if not avant or max(avant) < self.m0:
            return None
        return self.solde(max(avant))

    def loyer_a_jour(self, mo: int) -> bool | None:
        solde = self.solde(mo)
        if solde is not None and solde <= 0:
            return True
        trois = [self.comptes.get(mois) for mois in (mo - 2, mo - 1, mo)]
        if any(compte is None for compte in trois):
            return None
        return all(
            compte["paiement"] + compte["aide_logement"] >= compte["quittance"] for compte in trois
        )

    # -- events ---------------------------------------------------------------

    def types_jusqua(self, date_resultat: dt.date) -> set[str]:
        return {
            type_ for jour, type_ in self.evenements if jour is not None and jour <= date_resultat
        }

    def indicateurs_resultat(self, date_resultat: dt.date, mo: int, cadre: str) -> dict:
        dette_entree = self.dette_entree()
        en_dette = None if dette_entree is None else dette_entree > 0
        dette_sortie = self.dette_sortie(mo)
        if en_dette is None or (en_dette and dette_sortie is None):
            resorbee = reduite = None
        elif not en_dette:
            resorbee = reduite = False if cadre == "descriptif" else None
        else:
            resorbee = dette_sortie <= 0
            reduite = dette_sortie < dette_entree

        types = self.types_jusqua(date_resultat)
        en_procedure = bool(types & ETAPES_DEPUIS_ASSIGNATION)
        expulse = "expulsion_realisee" in types
        depart = "depart_volontaire" in types
        return {
            "date_resultat": date_resultat,
            "mois_resultat": _date_du_mois(mo),
            "dette_entree": dette_entree,
            "en_dette_entree": en_dette,
            "dette_sortie": dette_sortie,
            "dette_resorbee": resorbee,
            "dette_reduite": reduite,
            "loyer_a_jour": self.loyer_a_jour(mo),
            "en_procedure": en_procedure,
            "expulse": expulse,
            "expulsion_evitee": en_procedure and not expulse and not depart,
            "maintien": not expulse and not depart,
            "relogement": bool(types & {"relogement", "mutation"}),
        }

    # -- accompaniment --------------------------------------------------------

    def rdv(self) -> tuple[int, int]:
        rdv = [honore for _, type_, honore in self.contacts if type_ in TYPES_RDV]
        return sum(1 for honore in rdv if honore is True), len(rdv)

    def gain_energie(self, mo: int) -> Decimal | None:
        if self.date_debut is None:
            return None
        debut = _mois(self.date_debut)
        mois = sorted(m for m in self.energie if debut <= m <= mo)
        if len(mois) < 6:
            return None
        premiers = sum((self.energie[m] for m in mois[:3]), Decimal(0))
        derniers = sum((self.energie[m] for m in mois[-3:]), Decimal(0))
        return ((premiers - derniers) / 3).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _lignes(tables: dict[str, pd.DataFrame], nom: str) -> list[dict]:
    table = tables.get(nom)
    if table is None or len(table) == 0:
        return []
    return table.to_dict("records")


def _menages(tables: dict[str, pd.DataFrame]) -> dict[tuple[str, str], _Menage]:
    menages: dict[tuple[str, str], _Menage] = {}
    for ligne in _lignes(tables, "menages"):
        menage = _Menage(ligne)
        cle = (menage.projet_id, menage.menage_id)
        if cle in menages:
            raise ValueError(f"duplicate household {cle}")
        menages[cle] = menage

    def trouver(ligne: dict) -> _Menage | None:
        return menages.get((_texte(ligne["projet_id"]), _texte(ligne["menage_id"])))

    for ligne in _lignes(tables, "comptes_mensuels"):
        menage = trouver(ligne)
        if menage is None:
            continue
        mois = _mois(ligne["mois"])
        if mois in menage.comptes:
            raise ValueError(f"duplicate account month {menage.menage_id} {_date_du_mois(mois)}")
        menage.comptes[mois] = {
            champ: _montant(ligne[champ]) for champ in ("quittance", "aide_logement", "paiement")
        } | {
            "regularisation": _montant(ligne.get("regularisation")) or Decimal(0),
            "solde_fin_mois": _montant(ligne["solde_fin_mois"]),
        }
    for ligne in _lignes(tables, "evenements"):
        menage = trouver(ligne)
        if menage is not None:
            menage.evenements.append((_date(ligne["date"]), _texte(ligne["type_evenement"])))
    for ligne in _lignes(tables, "contacts"):
        menage = trouver(ligne)
        if menage is not None:
            menage.contacts.append(
                (_date(ligne["date"]), _texte(ligne["type_contact"]), _booleen(ligne["honore"]))
            )
    for ligne in _lignes(tables, "consommations"):
        menage = trouver(ligne)
        montant = _montant(ligne.get("montant"))
        if menage is not None and montant is not None:
            mois = _mois(ligne["mois"])
            menage.energie[mois] = menage.energie.get(mois, Decimal(0)) + montant
    return menages


def _typer(lignes: list[dict], colonnes: list[str]) -> pd.DataFrame:
    cadre = pd.DataFrame(lignes, columns=colonnes)
    for colonne in colonnes:
        if colonne in BOOLEENS:
            cadre[colonne] = pd.array(
                [None if v is None else bool(v) for v in cadre[colonne].astype(object)],
                dtype="boolean",
            )
        elif colonne in ENTIERS:
            cadre[colonne] = pd.array(
                [None if v is None or _manquant(v) else int(v) for v in cadre[colonne]],
                dtype="Int64",
            )
        else:
            cadre[colonne] = pd.Series(
                [None if _manquant(v) else v for v in cadre[colonne].astype(object)],
                index=cadre.index,
                dtype=object,
            )
    return cadre.sort_values(["projet_id", "menage_id"], kind="stable").reset_index(drop=True)


def _date_extraction(dates_extraction: dict, projet_id: str) -> dt.date:
    if projet_id not in dates_extraction:
        raise KeyError(f"no extraction date for project {projet_id!r}")
    return _date(dates_extraction[projet_id])


def indicateurs_menage(
    tables: dict[str, pd.DataFrame], dates_extraction: dict[str, dt.date]
) -> pd.DataFrame:
    """Per-household indicators of the descriptive frame, one row per household."""
    lignes = []
    for menage in _menages(tables).values():
        extraction = _date_extraction(dates_extraction, menage.projet_id)
        date_resultat = menage.date_fin or extraction
        mo = _mois(date_resultat)
        honores, prevus = menage.rdv()
        ligne = {
            "projet_id": menage.projet_id,
            "menage_id": menage.menage_id,
            "bailleur_id": menage.bailleur_id,
            "cohorte": menage.cohorte,
            "volet": menage.volet,
            "adhesion": menage.cohorte == "accompagne" and menage.date_debut is not None,
            "duree_accompagnement_mois": (
                None
                if menage.date_debut is None
                else mois_entiers(menage.date_debut, menage.date_fin or extraction)
            ),
            "rdv_honores": honores,
            "rdv_prevus": prevus,
            "gain_energie_eur": menage.gain_energie(mo),
        }
        ligne.update(menage.indicateurs_resultat(date_resultat, mo, "descriptif"))
        lignes.append(ligne)
    return _typer(lignes, COLONNES_MENAGE)


def indicateurs_cohorte(
    tables: dict[str, pd.DataFrame],
    dates_extraction: dict[str, dt.date],
    horizon_mois: int = 12,
) -> pd.DataFrame:
    """Cohort-comparison frame at horizon H: mo = m0 + H, intention to treat."""
    lignes = []
    for menage in _menages(tables).values():
        mo = menage.m0 + horizon_mois
        if _mois(_date_extraction(dates_extraction, menage.projet_id)) < mo:
            continue
        ligne = {
            "projet_id": menage.projet_id,
            "menage_id": menage.menage_id,
            "cohorte": menage.cohorte,
            "horizon_mois": horizon_mois,
        }
        ligne.update(menage.indicateurs_resultat(_dernier_jour(mo), mo, "cohorte"))
        lignes.append({colonne: ligne[colonne] for colonne in COLONNES_COHORTE})
    return _typer(lignes, COLONNES_COHORTE)


# --------------------------------------------------------------------------- projects


def _proportion(projet_id: str, indicateur: str, k: int, n: int) -> dict:
    ic_bas, ic_haut = wilson(k, n)
    return {
        "projet_id": projet_id,
        "indicateur": indicateur,
        "n": n,
        "k": k,
        "valeur": k / n if n else math.nan,
        "ic_bas": ic_bas,
        "ic_haut": ic_haut,
    }


def _vrai(valeur) -> bool:
    return not _manquant(valeur) and bool(valeur)


def _vrais(serie: pd.Series) -> int:
    return sum(1 for v in serie.astype(object) if _vrai(v))


def _connus(serie: pd.Series) -> pd.Series:
    return pd.Series([not _manquant(v) for v in serie.astype(object)], index=serie.index)


def _est(serie: pd.Series) -> pd.Series:
    """True where the value is True (False for False and for null)."""
    return pd.Series([_vrai(v) for v in serie.astype(object)], index=serie.index)


def _filtrer(cadre: pd.DataFrame, masque: pd.Series) -> pd.DataFrame:
    return cadre.loc[masque.to_numpy(dtype=bool)]


def indicateurs_projet(menage_df: pd.DataFrame) -> pd.DataFrame:
    """One row per project and indicator: n, k, valeur = k/n and the Wilson 95 % interval."""
    lignes = []
    for projet_id in sorted(menage_df["projet_id"].unique()):
        projet = menage_df[menage_df["projet_id"] == projet_id]
        accompagnes = _filtrer(projet, projet["cohorte"] == "accompagne")
        adheres = _filtrer(accompagnes, _est(accompagnes["adhesion"]))

        lignes.append(
            _proportion(projet_id, "adhesion", _vrais(accompagnes["adhesion"]), len(accompagnes))
        )
        connus = _filtrer(adheres, _connus(adheres["loyer_a_jour"]))
        lignes.append(
            _proportion(projet_id, "loyer_a_jour", _vrais(connus["loyer_a_jour"]), len(connus))
        )
        endettes = _filtrer(
            adheres, _est(adheres["en_dette_entree"]) & _connus(adheres["dette_sortie"])
        )
        for indicateur in ("dette_resorbee", "dette_reduite"):
            lignes.append(
                _proportion(projet_id, indicateur, _vrais(endettes[indicateur]), len(endettes))
            )
        en_procedure = _filtrer(adheres, _est(adheres["en_procedure"]))
        lignes.append(
            _proportion(
                projet_id,
                "expulsion_evitee",
                _vrais(en_procedure["expulsion_evitee"]),
                len(en_procedure),
            )
        )
        for indicateur in ("maintien", "relogement"):
            lignes.append(
                _proportion(projet_id, indicateur, _vrais(adheres[indicateur]), len(adheres))
            )
        lignes.append(
            _proportion(
                projet_id,
                "rdv_honores",
                int(sum(int(v) for v in adheres["rdv_honores"])),
                int(sum(int(v) for v in adheres["rdv_prevus"])),
            )
        )
        gains = [v for v in adheres["gain_energie_eur"].astype(object) if not _manquant(v)]
        lignes.append(
            {
                "projet_id": projet_id,
                "indicateur": "gain_energie_eur",
                "n": len(gains),
                "k": None,
                "valeur": float(sum(gains, Decimal(0)) / len(gains)) if gains else math.nan,
                "ic_bas": math.nan,
                "ic_haut": math.nan,
            }
        )
    cadre = pd.DataFrame(lignes, columns=COLONNES_PROJET)
    cadre["n"] = cadre["n"].astype("int64")
    cadre["k"] = pd.array([None if _manquant(v) else int(v) for v in cadre["k"]], dtype="Int64")
    for colonne in ("valeur", "ic_bas", "ic_haut"):
        cadre[colonne] = cadre[colonne].astype("float64")
    return cadre


# --------------------------------------------------------------------------- landing


def lire_landing(dossier: Path) -> tuple[dict[str, pd.DataFrame], dict[str, dt.date]]:
    """Read warehouse/landing/<table>/<projet_id>__<YYYY-MM-DD>.parquet, newest per project.

    `dossier` is the landing folder or the folder that holds it. The newest extraction of
    a project is taken from its `menages` files and supersedes the older ones whole.
    """
    import pyarrow.parquet as pq

    dossier = Path(dossier)
    if (dossier / "landing").is_dir():
        dossier = dossier / "landing"

    def fichiers(table: str) -> dict[tuple[str, dt.date], Path]:
        trouves = {}
        for chemin in sorted((dossier / table).glob("*.parquet")):
            if chemin.name.startswith("_"):  # the empty, typed schema file of the table
                continue
            projet_id, _, jour = chemin.stem.rpartition("__")
            trouves[(projet_id, dt.date.fromisoformat(jour))] = chemin
        return trouves

    dates_extraction: dict[str, dt.date] = {}
    for projet_id, jour in fichiers("menages"):
        if projet_id not in dates_extraction or jour > dates_extraction[projet_id]:
            dates_extraction[projet_id] = jour

    tables: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        morceaux = [
            pq.read_table(chemin).to_pandas(date_as_object=True)
            for (projet_id, jour), chemin in fichiers(table).items()
            if dates_extraction.get(projet_id) == jour
        ]
        morceaux = [m for m in morceaux if len(m)]
        tables[table] = pd.concat(morceaux, ignore_index=True) if morceaux else pd.DataFrame()
    return tables, dates_extraction


# --------------------------------------------------------------------------- delivered CSV

# Column types of the contract, as far as this reader needs them.
_DATES = {"date_orientation", "date_debut_accompagnement", "date_fin_accompagnement", "date"}
_MOIS = {"mois"}
_MONTANTS = {
    "loyer_mensuel",
    "quittance",
    "aide_logement",
    "paiement",
    "regularisation",
    "solde_fin_mois",
    "montant",
}
_NOMBRES = {"taux_effort", "quantite"}
_BOOLEENS_CSV = {"plan_apurement", "honore"}
_TEXTES = {"menage_id", "projet_id", "bailleur_id", "departement"}
_VRAIS = {"oui", "1", "true", "vrai", "o", "y", "yes"}
_FAUX = {"non", "0", "false", "faux", "n", "no"}


def _nom_colonne(nom: str) -> str:
    nom = unicodedata.normalize("NFKD", nom.strip().lstrip("\ufeff"))
    return "".join(c for c in nom if not unicodedata.combining(c)).lower()


def _nombre_texte(texte: str) -> str:
    texte = re.sub(r"[\s\u00a0\u202f]", "", texte)
    return texte.replace(",", ".")


def _valeur_csv(colonne: str, texte: str):
    texte = texte.strip()
    if texte == "":
        return Decimal(0) if colonne == "regularisation" else None
    if colonne in _DATES:
        if re.fullmatch(r"\d{2}/\d{2}/\d{4}", texte):
            jour, mois, annee = texte.split("/")
            return dt.date(int(annee), int(mois), int(jour))
        return dt.date.fromisoformat(texte)
    if colonne in _MOIS:
        if re.fullmatch(r"\d{2}/\d{4}", texte):
            mois, annee = texte.split("/")
            return dt.date(int(annee), int(mois), 1)
        if re.fullmatch(r"\d{4}-\d{2}", texte):
            annee, mois = texte.split("-")
            return dt.date(int(annee), int(mois), 1)
        return _valeur_csv("date", texte).replace(day=1)
    if colonne in _MONTANTS:
        try:
            return Decimal(_nombre_texte(texte))
        except InvalidOperation as erreur:
            raise ValueError(f"{colonne}: not an amount: {texte!r}") from erreur
    if colonne in _NOMBRES:
        return float(_nombre_texte(texte))
    if colonne in _BOOLEENS_CSV:
        if texte.lower() in _VRAIS:
            return True
        if texte.lower() in _FAUX:
            return False
        raise ValueError(f"{colonne}: not a boolean: {texte!r}")
    if colonne in _TEXTES:
        return texte
    return texte.lower()  # codes


def _lire_csv(chemin: Path) -> pd.DataFrame:
    brut = chemin.read_bytes()
    try:
        texte = brut.decode("utf-8-sig")
    except UnicodeDecodeError:
        texte = brut.decode("cp1252")
    entete = texte.splitlines()[0] if texte else ""
    separateur = ";" if entete.count(";") > entete.count(",") else ","
    lignes = list(csv.reader(io.StringIO(texte, newline=""), delimiter=separateur))
    lignes = [ligne for ligne in lignes if any(cellule.strip() for cellule in ligne)]
    colonnes = [_nom_colonne(nom) for nom in lignes[0]]
    enregistrements = [
        {colonne: _valeur_csv(colonne, cellule) for colonne, cellule in zip(colonnes, ligne)}
        for ligne in lignes[1:]
    ]
    return pd.DataFrame(enregistrements, columns=colonnes, dtype=object)


def lire_livraison_csv(dossier: Path) -> tuple[dict[str, pd.DataFrame], dt.date]:
    """Read one delivery folder exports/<projet_id>/<YYYY-MM-DD>/ of CSV files."""
    dossier = Path(dossier)
    date_extraction = dt.date.fromisoformat(dossier.name)
    tables = {}
    for table in TABLES:
        chemin = dossier / f"{table}.csv"
        if chemin.exists():
            tables[table] = _lire_csv(chemin)
        elif table in TABLES_OBLIGATOIRES:
            raise FileNotFoundError(chemin)
        else:
            tables[table] = pd.DataFrame()
    return tables, date_extraction


def lire_exports_csv(racine: Path) -> tuple[dict[str, pd.DataFrame], dict[str, dt.date]]:
    """Read exports/<projet_id>/<YYYY-MM-DD>/, keeping the newest delivery of each project."""
    racine = Path(racine)
    morceaux: dict[str, list[pd.DataFrame]] = defaultdict(list)
    dates_extraction: dict[str, dt.date] = {}
    for dossier_projet in sorted(p for p in racine.iterdir() if p.is_dir()):
        livraisons = sorted(p for p in dossier_projet.iterdir() if p.is_dir())
        if not livraisons:
            continue
        tables, date_extraction = lire_livraison_csv(livraisons[-1])
        dates_extraction[dossier_projet.name] = date_extraction
        for table, cadre in tables.items():
            if len(cadre):
                morceaux[table].append(cadre)
    tables = {
        table: pd.concat(morceaux[table], ignore_index=True) if morceaux[table] else pd.DataFrame()
        for table in TABLES
    }
    return tables, dates_extraction
