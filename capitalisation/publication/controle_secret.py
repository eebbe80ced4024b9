"""The scan of every published output for small cells (indicators.md, « Disclosure »).

`controler(entrepot, dossiers)` returns French findings, one string each (empty: nothing
to report). It looks at:

* the warehouse's publication tables (`pub_*`), against the true figures of the `fct_*`
  tables beside them: a published count of households from 1 to the threshold, a proportion
  or a mean published on too few households, and — by linear algebra over the known
  structure of the tables (sums of landlords, volets and départements to their project, of
  projects and landlords to the programme, the same population counted in several
  indicators, k plus its complement to n; a published proportion with its interval gives
  both its n and its k) — a secret cell, or the complement n − k of a proportion, that the
  published cells determine exactly;
* the CSV and XLSX exports found under the folders given: small counts, proportions on small
  denominators, a single secret cell in a group of rows that has its total, and any formula;
* the text of fiches and pages (HTML, Markdown, Quarto, text, SVG titles): « 3 ménages »,
  « 2 sur 17 », « 4 / 12 »…

The rules it checks are written independently of the SQL that applies them
(macros/secret_statistique.sql), so that the one tests the other.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import re
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from capitalisation import config

RDV = "rdv_honores"

# The aggregate tables of indicators: published table → (source, key columns, level).
INDICATEURS = {
    "pub_indicateurs_programme": ("fct_indicateurs_programme", (), "programme"),
    "pub_indicateurs_projet": ("fct_indicateurs_projet", ("projet_id",), "projet"),
    "pub_indicateurs_bailleur": ("fct_indicateurs_bailleur", ("projet_id", "bailleur_id"), "bailleur"),
    "pub_indicateurs_volet": ("fct_indicateurs_volet", ("projet_id", "volet"), "volet"),
    "pub_indicateurs_departement": ("fct_indicateurs_departement", ("projet_id", "departement"), "departement"),
    "pub_benchmark_bailleur": ("fct_benchmark_bailleur", ("bailleur_id",), "bailleur_programme"),
    "pub_benchmark_projet_bailleur": ("fct_benchmark_projet_bailleur", ("projet_id", "bailleur_id"), "bailleur"),
}

# The same households counted by several indicators (indicators.md, populations of the
# descriptive frame), at any level: each group holds equal numbers.
IDENTITES = (
    (("adhesion", "k"), ("maintien", "n"), ("relogement", "n"), ("en_procedure", "n"), ("expulse", "n")),
    (("en_procedure", "k"), ("expulsion_evitee", "n")),
    (("dette_resorbee", "n"), ("dette_reduite", "n"), ("dette_sortie_eur", "n")),
    (("en_dette_entree", "k"), ("dette_entree_eur", "n")),
)

EFFECTIFS = ("menages_orientes", "menages_accompagnes", "menages_termines", "menages_en_cours",
             "menages_temoins", "volet_maintien", "volet_acces")

# Which sums hold: a level's rows add up, for the same indicator, to the row of another level.
# (part level, parent level, how a part's key gives its parent's key)
SOMMES = (
    ("bailleur", "projet", lambda projet, dimension: (projet, "")),
    ("volet", "projet", lambda projet, dimension: (projet, "")),
    ("departement", "projet", lambda projet, dimension: (projet, "")),
    ("projet", "programme", lambda projet, dimension: ("", "")),
    ("bailleur", "bailleur_programme", lambda projet, dimension: ("", dimension)),
    ("bailleur_programme", "programme", lambda projet, dimension: ("", "")),
)


def controler(
    entrepot: Path | None,
    dossiers: list[Path] | tuple[Path, ...] = (),
    seuil_effectif: int | None = None,
    seuil_denominateur: int | None = None,
) -> list[str]:
    """French findings about small cells in the warehouse's publication layer and in the files
    under `dossiers` (exports, fiches, pages); an empty list when everything is safe."""
    seuils = Seuils(
        seuil_effectif if seuil_effectif is not None else config.SEUIL_EFFECTIF,
        seuil_denominateur if seuil_denominateur is not None else config.SEUIL_DENOMINATEUR,
    )
    constats: list[str] = []
    if entrepot is not None:
        constats += controler_entrepot(Path(entrepot), seuils)
    for dossier in dossiers:
        constats += controler_dossier(Path(dossier), seuils)
    return constats


@dataclass(frozen=True)
class Seuils:
    effectif: int = 5
    denominateur: int = 10

    def petit(self, valeur) -> bool:
        """A count of 1 to the threshold."""
        return valeur is not None and not _manquant(valeur) and 1 <= valeur <= self.effectif

    def insuffisant(self, valeur) -> bool:
        """A denominator under the threshold."""
        return valeur is not None and not _manquant(valeur) and valeur < self.denominateur


def _manquant(valeur) -> bool:
    """None, NaN, pandas NA or NaT."""
    if valeur is None:
        return True
    try:
        return bool(pd.isna(valeur))
    except (TypeError, ValueError):
        return False


def _nombre(valeur) -> float | None:
    if _manquant(valeur):
        return None
    return float(valeur)


# =========================================================================== the warehouse


@dataclass
class Systeme:
    """Cells of the publication layer, their true values, the published ones and their ties."""

    seuils: Seuils = field(default_factory=lambda: Seuils())
    vraies: dict[str, float] = field(default_factory=dict)
    connues: set[str] = field(default_factory=set)
    libelles: dict[str, str] = field(default_factory=dict)
    equations: list[dict[str, float]] = field(default_factory=list)
    # (published mean's variables): mean = total / n, so total and n give each other
    rapports: list[tuple[str, str]] = field(default_factory=list)
    # sensitive cells: (variable, description of the rule)
    effectifs_sensibles: list[tuple[str, str]] = field(default_factory=list)
    # proportions or means on too few households: (n, k or total, description)
    couples_sensibles: list[tuple[str, str, str]] = field(default_factory=list)
    constats: list[str] = field(default_factory=list)

    def cellule(self, nom: str, libelle: str, vraie, publiee) -> str:
        self.libelles[nom] = libelle
        if not _manquant(vraie):
            self.vraies[nom] = float(vraie)
        if not _manquant(publiee):
            self.connues.add(nom)
        return nom

    def egalite(self, a: str, b: str) -> None:
        if a != b:
            self.equations.append({a: 1.0, b: -1.0})

    def somme(self, total: str, parties: list[str]) -> None:
        equation = {total: 1.0}
        for partie in parties:
            equation[partie] = equation.get(partie, 0.0) - 1.0
        self.equations.append(equation)

    # ------------------------------------------------------------------ inference

    def deduire(self) -> set[str]:
        """Every cell the published ones determine, by the sums and the ratios."""
        connues = set(self.connues)
        while True:
            avant = len(connues)
            for n, total in self.rapports:
                if n in connues or total in connues:
                    connues |= {n, total}
            connues |= determinees(self.equations, connues)
            if len(connues) == avant:
                return connues

    def verifier(self) -> list[str]:
        seuils = self.seuils
        connues = self.deduire()
        constats = list(self.constats)
        for nom, regle in self.effectifs_sensibles:
            valeur = self.vraies.get(nom)
            if not seuils.petit(valeur):
                continue
            if nom in self.connues:
                constats.append(f"{self.libelles[nom]} : {_entier(valeur)} publié — {regle}.")
            elif nom in connues:
                constats.append(f"{self.libelles[nom]} : case secrète qui se déduit des cases publiées "
                                f"(sommes, totaux, proportions) — {regle}.")
        for n, k, regle in self.couples_sensibles:
            if n in connues and k in connues:
                constats.append(f"{self.libelles[k]} : {regle}, publiée ou déductible des cases publiées.")
        return constats


def determinees(equations: list[dict[str, float]], connues: set[str]) -> set[str]:
    """The unknown variables that `equations` (each Σ coef · x = 0) determine given `connues`.

    A variable is determined when its unit vector lies in the row space of the equations
    restricted to the unknowns, i.e. when no solution of the homogeneous system moves it.
    The system is split into connected blocks so that each SVD stays small.
    """
    lignes = []
    for equation in equations:
        inconnues = {v: c for v, c in equation.items() if v not in connues and c != 0}
        if inconnues:
            lignes.append(inconnues)
    parent: dict[str, str] = {}

    def racine(v: str) -> str:
        while parent.setdefault(v, v) != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for ligne in lignes:
        variables = list(ligne)
        for autre in variables[1:]:
            parent[racine(autre)] = racine(variables[0])
    blocs: dict[str, list[dict[str, float]]] = defaultdict(list)
    for ligne in lignes:
        blocs[racine(next(iter(ligne)))].append(ligne)
    resultat: set[str] = set()
    for bloc in blocs.values():
        variables = sorted({v for ligne in bloc for v in ligne})
        index = {v: i for i, v in enumerate(variables)}
        matrice = np.zeros((len(bloc), len(variables)))
        for i, ligne in enumerate(bloc):
            for v, c in ligne.items():
                matrice[i, index[v]] = c
        _, valeurs, vt = np.linalg.svd(matrice, full_matrices=True)
        rang = int((valeurs > 1e-9 * max(1.0, valeurs.max(initial=0.0))).sum())
        noyau = vt[rang:]
        for v, i in index.items():
            if noyau.size == 0 or np.abs(noyau[:, i]).max() < 1e-8:
                resultat.add(v)
    return resultat


def _entier(valeur: float) -> str:
    return str(int(valeur)) if float(valeur).is_integer() else str(valeur)


def _cle_texte(colonnes: tuple[str, ...], ligne: dict) -> str:
    return ", ".join(f"{c} {ligne[c]}" for c in colonnes)


def controler_entrepot(entrepot: Path, seuils: Seuils) -> list[str]:
    import duckdb

    if not entrepot.exists():
        return [f"entrepôt introuvable : {entrepot}"]
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'").fetchall()}

        def lire(table: str) -> list[dict]:
            return con.execute(f'select * from "{table}"').fetchdf().to_dict("records")

        donnees = {t: lire(t) for t in tables if t.startswith(("pub_", "fct_"))}
    finally:
        con.close()
    constats: list[str] = []
    publiees = sorted(t for t in donnees if t.startswith("pub_"))
    for table in publiees:
        constats += _controler_cellules_declarees(table, donnees[table])
    systeme = Systeme(seuils)
    registre = _ajouter_indicateurs(systeme, donnees)
    _ajouter_sommes(systeme, registre)
    _ajouter_effectifs(systeme, donnees, registre)
    _ajouter_couts(systeme, donnees, registre)
    _ajouter_reconciliation(systeme, donnees, registre)
    constats += systeme.verifier()
    connues = {"pub_comparaisons", "pub_trajectoires", "pub_survie", "pub_equilibre",
               "pub_effectifs_projet", "pub_couts_projet", "pub_reconciliation", *INDICATEURS}
    constats += _controler_comparaisons(donnees, seuils)
    constats += _controler_trajectoires(donnees, seuils)
    constats += _controler_survie(donnees, seuils)
    constats += _controler_equilibre(donnees)
    for table in publiees:
        if table not in connues:
            constats += _controler_table_inconnue(table, donnees[table], seuils)
    return constats


def _controler_cellules_declarees(table: str, lignes: list[dict]) -> list[str]:
    """Every pub_ table names its secret cells, and those are null."""
    if not lignes:
        return []
    if "cellules_secretes" not in lignes[0]:
        return [f"{table} : pas de colonne cellules_secretes (toute table publiée doit nommer ses cases secrètes)."]
    constats = []
    for ligne in lignes:
        for colonne in filter(None, (ligne["cellules_secretes"] or "").split(",")):
            if colonne in ligne and not _manquant(ligne[colonne]):
                cle = ", ".join(f"{c} {v}" for c, v in ligne.items()
                                if c.endswith("_id") or c in ("indicateur", "volet", "departement", "resultat"))
                constats.append(f"{table} ({cle}) : la case {colonne} est déclarée secrète mais publiée.")
    return constats


def _ajouter_indicateurs(systeme: Systeme, donnees: dict) -> dict:
    """The cells of the indicator and benchmark tables; returns the registry
    (level, project, dimension, indicator, column) → cells."""
    registre: dict[tuple, list[str]] = defaultdict(list)
    regle_effectif = f"effectif de 1 à {systeme.seuils.effectif} ménages"
    for table, (source, cles, niveau) in INDICATEURS.items():
        if table not in donnees or source not in donnees:
            continue
        vraies = {tuple(r[c] for c in cles) + (r["indicateur"],): r for r in donnees[source]}
        for publiee in donnees[table]:
            cle = tuple(publiee[c] for c in cles)
            vraie = vraies.get(cle + (publiee["indicateur"],))
            if vraie is None:
                systeme.constats.append(f"{table} : ligne sans source ({_cle_texte(cles, publiee)}).")
                continue
            projet = publiee.get("projet_id", "") if "projet_id" in cles else ""
            dimension = publiee[cles[-1]] if cles and cles[-1] != "projet_id" else ""
            indicateur = publiee["indicateur"]
            nature = vraie.get("nature", "proportion")
            rdv = indicateur == RDV
            position = f"{table} ({_cle_texte(cles, publiee) + ', ' if cles else ''}indicateur {indicateur})"
            cellules = {}
            colonnes = ["n", "menages"] + (["k"] if nature == "proportion" else ["total_eur"])
            for colonne in colonnes:
                if colonne not in publiee:
                    continue
                nom = f"{table}|{'|'.join(map(str, cle))}|{indicateur}|{colonne}"
                cellules[colonne] = systeme.cellule(nom, f"{position}, {colonne}", vraie[colonne], publiee[colonne])
                registre[(niveau, projet, dimension, indicateur, colonne)].append(nom)
            valeur = "valeur" if "valeur" in publiee else "proportion"
            if not rdv:
                for colonne in ("n", "menages", "k"):
                    if colonne in cellules:
                        systeme.effectifs_sensibles.append((cellules[colonne], regle_effectif))
                if "menages" in cellules:
                    systeme.egalite(cellules["menages"], cellules["n"])
            else:
                systeme.effectifs_sensibles.append((cellules["menages"], regle_effectif))
            if nature == "proportion":
                if not _manquant(publiee.get(valeur)):
                    # A proportion published with its interval gives its n and its k.
                    systeme.connues |= {cellules["n"], cellules["k"]}
                if not rdv:
                    complement = f"{cellules['n']}~complement"
                    systeme.cellule(complement, f"{position}, complément n − k",
                                    vraie["n"] - vraie["k"], None)
                    systeme.equations.append({cellules["n"]: 1.0, cellules["k"]: -1.0, complement: -1.0})
                    systeme.effectifs_sensibles.append(
                        (complement, f"ménages hors numérateur, de 1 à {systeme.seuils.effectif}"))
                petit = _nombre(vraie["n"]) is not None and vraie["n"] < systeme.seuils.denominateur
                if rdv:
                    petit = petit or (vraie["menages"] is not None and vraie["menages"] < systeme.seuils.denominateur)
                if petit:
                    systeme.couples_sensibles.append(
                        (cellules["n"], cellules["k"], f"proportion sur moins de {systeme.seuils.denominateur} ménages"))
                    if not _manquant(publiee.get(valeur)):
                        systeme.constats.append(
                            f"{position} : proportion publiée sur moins de {systeme.seuils.denominateur} ménages.")
            else:
                if not _manquant(publiee.get("valeur")) or not _manquant(publiee.get("moyenne_eur")):
                    systeme.rapports.append((cellules["n"], cellules["total_eur"]))
                if _nombre(vraie["n"]) is not None and vraie["n"] < systeme.seuils.denominateur:
                    systeme.couples_sensibles.append(
                        (cellules["n"], cellules["total_eur"], f"total en euros sur moins de {systeme.seuils.denominateur} ménages"))
                    if not _manquant(publiee.get("valeur")) or not _manquant(publiee.get("moyenne_eur")):
                        systeme.constats.append(
                            f"{position} : moyenne publiée sur moins de {systeme.seuils.denominateur} ménages.")
    # The same count in several tables of a level, and the same households in several indicators.
    for noms in registre.values():
        for autre in noms[1:]:
            systeme.egalite(noms[0], autre)
    cles_lignes = {(niveau, projet, dimension) for niveau, projet, dimension, _, _ in registre}
    for niveau, projet, dimension in cles_lignes:
        for groupe in IDENTITES:
            presents = [registre[(niveau, projet, dimension, i, c)][0] for i, c in groupe
                        if registre.get((niveau, projet, dimension, i, c))]
            for autre in presents[1:]:
                systeme.egalite(presents[0], autre)
    return registre


def _ajouter_sommes(systeme: Systeme, registre: dict) -> None:
    enfants: dict[tuple, list[str]] = defaultdict(list)
    for (niveau, projet, dimension, indicateur, colonne), noms in registre.items():
        for partie, parent, cle_parent in SOMMES:
            if niveau == partie:
                enfants[(parent,) + cle_parent(projet, dimension) + (indicateur, colonne, partie)].append(noms[0])
    for (parent, projet, dimension, indicateur, colonne, _), parties in enfants.items():
        total = registre.get((parent, projet, dimension, indicateur, colonne))
        if total:
            systeme.somme(total[0], parties)


def _ajouter_effectifs(systeme: Systeme, donnees: dict, registre: dict) -> None:
    if "pub_effectifs_projet" not in donnees or "fct_effectifs_projet" not in donnees:
        return
    vraies = {r["projet_id"]: r for r in donnees["fct_effectifs_projet"]}
    for publiee in donnees["pub_effectifs_projet"]:
        projet = publiee["projet_id"]
        vraie = vraies[projet]
        cellules = {}
        for colonne in EFFECTIFS:
            nom = f"pub_effectifs_projet|{projet}|{colonne}"
            cellules[colonne] = systeme.cellule(
                nom, f"pub_effectifs_projet (projet {projet}), {colonne}", vraie[colonne], publiee[colonne])
            systeme.effectifs_sensibles.append((nom, f"effectif de 1 à {systeme.seuils.effectif} ménages"))
        systeme.somme(cellules["menages_accompagnes"], [cellules["menages_termines"], cellules["menages_en_cours"]])
        systeme.somme(cellules["menages_orientes"], [cellules["volet_maintien"], cellules["volet_acces"]])
        liens = {
            "menages_orientes": ("projet", projet, "", "adhesion", "n"),
            "menages_accompagnes": ("projet", projet, "", "adhesion", "k"),
            "volet_maintien": ("volet", projet, "maintien", "adhesion", "n"),
            "volet_acces": ("volet", projet, "acces", "adhesion", "n"),
        }
        for colonne, cle in liens.items():
            if registre.get(cle):
                systeme.egalite(cellules[colonne], registre[cle][0])


def _ajouter_couts(systeme: Systeme, donnees: dict, registre: dict) -> None:
    if "pub_couts_projet" not in donnees or "fct_couts_projet" not in donnees:
        return
    vraies = {r["projet_id"]: r for r in donnees["fct_couts_projet"]}
    for publiee in donnees["pub_couts_projet"]:
        projet = publiee["projet_id"]
        nom = f"pub_couts_projet|{projet}|expulsions_evitees"
        connue = publiee["expulsions_evitees"]
        if _manquant(connue) and not _manquant(publiee.get("cout_par_expulsion_evitee")):
            connue = 1  # budget × years / cost gives it back
        systeme.cellule(nom, f"pub_couts_projet (projet {projet}), expulsions_evitees",
                        vraies[projet]["expulsions_evitees"], connue)
        systeme.effectifs_sensibles.append((nom, f"effectif de 1 à {systeme.seuils.effectif} ménages"))
        cle = ("projet", projet, "", "expulsion_evitee", "k")
        if registre.get(cle):
            systeme.egalite(nom, registre[cle][0])
        # Households accompanied per year (the cost per household and year divides by them).
        vraie = vraies[projet]
        par_an = f"pub_couts_projet|{projet}|menages_accompagnes_par_an"
        connue = publiee["menages_accompagnes_par_an"]
        if _manquant(connue) and not _manquant(publiee.get("cout_par_menage_an")):
            connue = 1
        systeme.cellule(par_an, f"pub_couts_projet (projet {projet}), menages_accompagnes_par_an",
                        vraie["menages_accompagnes_par_an"], connue)
        systeme.effectifs_sensibles.append((par_an, f"de 1 à {systeme.seuils.effectif} ménages par an"))
        adherents = registre.get(("projet", projet, "", "adhesion", "k"))
        if adherents and vraie["annees"] == 1 and systeme.vraies.get(par_an) == systeme.vraies.get(adherents[0]):
            systeme.egalite(par_an, adherents[0])


def _ajouter_reconciliation(systeme: Systeme, donnees: dict, registre: dict) -> None:
    if "pub_reconciliation" not in donnees or "fct_reconciliation" not in donnees:
        return
    vraies = {(r["projet_id"], r["indicateur"], r["type_valeur"]): r for r in donnees["fct_reconciliation"]}
    for publiee in donnees["pub_reconciliation"]:
        projet, indicateur, type_valeur = publiee["projet_id"], publiee["indicateur"], publiee["type_valeur"]
        vraie = vraies[(projet, indicateur, type_valeur)]
        position = f"pub_reconciliation (projet {projet}, indicateur {indicateur}, {type_valeur})"
        base = f"pub_reconciliation|{projet}|{indicateur}|{type_valeur}"
        if type_valeur == "proportion":
            n = systeme.cellule(f"{base}|n", f"{position}, n", vraie["n"], publiee["n"])
            k = systeme.cellule(f"{base}|k", f"{position}, k", vraie["k"], publiee["k"])
            if not _manquant(publiee["valeur_recalculee"]):
                systeme.connues |= {n, k}
            for colonne, nom in (("n", n), ("k", k)):
                cle = ("projet", projet, "", indicateur, colonne)
                if registre.get(cle):
                    systeme.egalite(nom, registre[cle][0])
            continue
        connue = publiee["valeur_recalculee"]
        if _manquant(connue) and not _manquant(publiee["k"]):
            connue = publiee["k"]
        if _manquant(connue) and publiee.get("statut") == "confirme" and publiee.get("comparaison") == "egal":
            connue = publiee["valeur_publiee"]
        nom = systeme.cellule(f"{base}|valeur", f"{position}, valeur_recalculee", vraie["valeur_recalculee"], connue)
        if indicateur != RDV:
            systeme.effectifs_sensibles.append((nom, f"effectif de 1 à {systeme.seuils.effectif} ménages"))
        if indicateur in EFFECTIFS:
            effectif = f"pub_effectifs_projet|{projet}|{indicateur}"
            if effectif in systeme.libelles:
                systeme.egalite(nom, effectif)
        elif indicateur == "menages_accompagnes_par_an":
            par_an = f"pub_couts_projet|{projet}|menages_accompagnes_par_an"
            if par_an in systeme.libelles:
                systeme.egalite(nom, par_an)
        else:
            cle = ("projet", projet, "", indicateur, "k")
            if registre.get(cle):
                systeme.egalite(nom, registre[cle][0])
            if not _manquant(vraie.get("n")):
                n = systeme.cellule(f"{base}|n", f"{position}, n", vraie["n"], publiee["n"])
                cle_n = ("projet", projet, "", indicateur, "n")
                if registre.get(cle_n):
                    systeme.egalite(n, registre[cle_n][0])


def _controler_comparaisons(donnees: dict, seuils: Seuils) -> list[str]:
    constats = []
    for ligne in donnees.get("pub_comparaisons", []):
        position = (f"pub_comparaisons (projet {ligne['projet_id']}, résultat {ligne['resultat']}, "
                    f"méthode {ligne['methode']})")
        for cohorte in ("traites", "temoins"):
            n, k, p = ligne.get(f"n_{cohorte}"), ligne.get(f"k_{cohorte}"), ligne.get(f"p_{cohorte}")
            for nom, valeur in ((f"n_{cohorte}", n), (f"k_{cohorte}", k)):
                if seuils.petit(valeur):
                    constats.append(f"{position} : {nom} = {_entier(valeur)} publié — effectif de 1 à "
                                    f"{seuils.effectif} ménages.")
            if not _manquant(n) and not _manquant(k) and seuils.petit(n - k):
                constats.append(f"{position} : n_{cohorte} − k_{cohorte} de 1 à {seuils.effectif} ménages.")
            if not _manquant(p) and seuils.insuffisant(n):
                constats.append(f"{position} : proportion p_{cohorte} publiée sur moins de "
                                f"{seuils.denominateur} ménages.")
    return constats


def _controler_trajectoires(donnees: dict, seuils: Seuils) -> list[str]:
    constats = []
    for ligne in donnees.get("pub_trajectoires", []):
        position = (f"pub_trajectoires (projet {ligne['projet_id']}, cohorte {ligne['cohorte']}, "
                    f"mois {ligne['mois_relatif']})")
        if seuils.petit(ligne["n"]):
            constats.append(f"{position} : n = {_entier(ligne['n'])} publié — effectif de 1 à "
                            f"{seuils.effectif} ménages.")
        if not _manquant(ligne["moyenne"]) and (_manquant(ligne["n"]) or seuils.insuffisant(ligne["n"])):
            vraie = next((r for r in donnees.get("fct_trajectoires", [])
                          if (r["projet_id"], r["cohorte"], r["mois_relatif"])
                          == (ligne["projet_id"], ligne["cohorte"], ligne["mois_relatif"])), None)
            if vraie is None or seuils.insuffisant(vraie["n"]):
                constats.append(f"{position} : moyenne publiée sur moins de {seuils.denominateur} ménages.")
    return constats


def _controler_survie(donnees: dict, seuils: Seuils) -> list[str]:
    """No point on fewer households at risk than the threshold; between two published points
    of a curve, no event or more than `seuil_effectif` (a step gives its events back)."""
    constats = []
    vraies: dict[tuple, list[dict]] = defaultdict(list)
    for r in donnees.get("fct_survie", []):
        vraies[(r["projet_id"], r["evenement"], r["cohorte"])].append(r)
    publiees: dict[tuple, list[dict]] = defaultdict(list)
    for r in donnees.get("pub_survie", []):
        publiees[(r["projet_id"], r["evenement"], r["cohorte"])].append(r)
    for courbe, points in publiees.items():
        position = f"pub_survie (projet {courbe[0]}, {courbe[1]}, cohorte {courbe[2]})"
        for point in points:
            if seuils.insuffisant(point["n_risque"]):
                constats.append(f"{position}, temps {point['temps']} : moins de {seuils.denominateur} "
                                "ménages exposés.")
        # events at each true time: d = n × (1 − S(t) / S(t−))
        evenements = {}
        precedente = None
        for point in sorted(vraies.get(courbe, []), key=lambda r: r["temps"]):
            if precedente and precedente > 0:
                evenements[point["temps"]] = round(point["n_risque"] * (1 - point["survie"] / precedente))
            else:
                evenements[point["temps"]] = 0
            precedente = point["survie"]
        temps = sorted(p["temps"] for p in points)
        for debut, fin in itertools.pairwise(temps):
            total = sum(d for t, d in evenements.items() if debut < t <= fin)
            if seuils.petit(total):
                constats.append(f"{position} : entre les temps {debut} et {fin}, la marche de la courbe "
                                f"donne de 1 à {seuils.effectif} événements.")
    return constats


def _controler_equilibre(donnees: dict) -> list[str]:
    constats = []
    secrets = {(r["projet_id"], r["covariable"], r["niveau"]) for r in donnees.get("fct_equilibre", [])
               if r.get("secret")}
    for ligne in donnees.get("pub_equilibre", []):
        if (ligne["projet_id"], ligne["covariable"], ligne["niveau"]) in secrets and (
            not _manquant(ligne["moyenne_traites"]) or not _manquant(ligne["moyenne_temoins"])
        ):
            constats.append(f"pub_equilibre (projet {ligne['projet_id']}, {ligne['covariable']} "
                            f"{ligne['niveau']}) : moyenne publiée sur un petit effectif.")
    return constats


def _controler_table_inconnue(table: str, lignes: list[dict], seuils: Seuils) -> list[str]:
    """A publication table this scan does not know: its count columns (by name) only."""
    constats = []
    for ligne in lignes:
        for colonne, valeur in ligne.items():
            if _colonne_effectif(colonne) and isinstance(valeur, (int, float)) and seuils.petit(valeur):
                constats.append(f"{table} : {colonne} = {_entier(valeur)} publié — effectif de 1 à "
                                f"{seuils.effectif} ménages.")
    return constats


# =========================================================================== exports and texts


def _normaliser(texte: str) -> str:
    texte = unicodedata.normalize("NFKD", str(texte)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", texte).strip().lower()


def _colonne_effectif(nom: str) -> bool:
    """A column of counts of households (or of the numbers of a proportion), by its name."""
    nom = _normaliser(nom)
    return bool(
        nom in ("n", "k", "menages", "effectif", "n_traites", "k_traites", "n_temoins", "k_temoins")
        or nom.startswith(("menages", "denominateur", "numerateur", "effectif", "nombre de menages",
                           "expulsions evitees", "volet_"))
        or nom.endswith(("(n)", "(k)"))
    )


def _colonne_denominateur(nom: str) -> bool:
    nom = _normaliser(nom)
    return nom in ("n", "menages") or nom.startswith(("denominateur", "menages")) or nom.endswith("(n)")


def _colonne_numerateur(nom: str) -> bool:
    nom = _normaliser(nom)
    return nom == "k" or nom.startswith("numerateur") or nom.endswith("(k)")


def _colonne_proportion(nom: str) -> bool:
    nom = _normaliser(nom)
    return "proportion" in nom or nom.startswith(("taux", "pourcentage")) or nom in ("%", "valeur")


SECRETS = {"s", "secret", "< 5", "<5", "≤ 5", "secret statistique"}
TOTAUX = {"ensemble du programme", "ensemble", "total", "programme", "moyenne du programme",
          "tous bailleurs", "ensemble des bailleurs"}
MOTS_RDV = ("rdv", "rendez-vous", "rendez vous", "visites")

_NOMBRE = r"\d{1,3}(?:[\u202f\u00a0 ]\d{3})+|\d+"


def _lire_nombre(texte) -> float | None:
    if isinstance(texte, bool):
        return None
    if isinstance(texte, (int, float)):
        return None if _manquant(texte) else float(texte)
    texte = str(texte).strip().lstrip("'")
    texte = re.sub(r"[\u202f\u00a0 ]", "", texte).replace("\u2212", "-").rstrip("%").strip()
    if not re.fullmatch(r"-?\d+(?:[.,]\d+)?", texte):
        return None
    return float(texte.replace(",", "."))


def _est_secret(texte) -> bool:
    return isinstance(texte, str) and re.sub(r"\s+", " ", texte.strip().lstrip("'")).lower() in SECRETS


def controler_tableau(nom: str, lignes: list[list], seuils: Seuils) -> list[str]:
    """Small cells in one table of an export (first row with two non-empty cells = header)."""
    constats = []
    debut = next((i for i, ligne in enumerate(lignes)
                  if sum(1 for c in ligne if not _manquant(c) and str(c).strip()) >= 2), None)
    if debut is None:
        return []
    entete = [str(c) if not _manquant(c) else "" for c in lignes[debut]]
    corps = [list(ligne) + [None] * (len(entete) - len(ligne)) for ligne in lignes[debut + 1:]]
    effectifs = [i for i, c in enumerate(entete) if _colonne_effectif(c)]
    denominateurs = [i for i, c in enumerate(entete) if _colonne_denominateur(c)]
    numerateurs = [i for i, c in enumerate(entete) if _colonne_numerateur(c)]
    proportions = [i for i, c in enumerate(entete) if _colonne_proportion(c)]
    indicateur = next((i for i, c in enumerate(entete)
                       if _normaliser(c) in ("code indicateur", "indicateur")), None)
    groupes: dict[str, list[list]] = defaultdict(list)
    for numero, ligne in enumerate(corps, start=debut + 2):
        texte_ligne = " ".join(_normaliser(c) for c in ligne if isinstance(c, str))
        rdv = any(mot in texte_ligne for mot in MOTS_RDV)
        for i in effectifs:
            if rdv and _normaliser(entete[i]) not in ("menages",) and not _normaliser(entete[i]).startswith("menages"):
                continue
            valeur = _lire_nombre(ligne[i])
            if seuils.petit(valeur):
                constats.append(f"{nom}, ligne {numero} : {entete[i]} = {_entier(valeur)} — effectif de 1 à "
                                f"{seuils.effectif} ménages.")
        proportion_publiee = any(_lire_nombre(ligne[i]) is not None for i in proportions)
        if proportion_publiee:
            for i in denominateurs:
                valeur = _lire_nombre(ligne[i])
                if rdv and not _normaliser(entete[i]).startswith("menages"):
                    continue
                if valeur is not None and seuils.insuffisant(valeur):
                    constats.append(f"{nom}, ligne {numero} : proportion publiée sur {_entier(valeur)} "
                                    f"(moins de {seuils.denominateur}).")
        if not rdv:
            for i_n in denominateurs:
                for i_k in numerateurs:
                    n, k = _lire_nombre(ligne[i_n]), _lire_nombre(ligne[i_k])
                    if n is not None and k is not None and seuils.petit(n - k):
                        constats.append(f"{nom}, ligne {numero} : {entete[i_n]} − {entete[i_k]} = "
                                        f"{_entier(n - k)} — effectif de 1 à {seuils.effectif} ménages.")
        cle = str(ligne[indicateur]) if indicateur is not None else ""
        groupes[cle].append((numero, ligne))
    # A group of rows with its total: a single secret part is recovered by subtraction.
    for cle, membres in groupes.items():
        totaux = [(numero, ligne) for numero, ligne in membres
                  if any(isinstance(c, str) and _normaliser(c) in TOTAUX for c in ligne)]
        if len(totaux) != 1:
            continue
        parties = [(numero, ligne) for numero, ligne in membres if (numero, ligne) != totaux[0]]
        for i in effectifs:
            if _lire_nombre(totaux[0][1][i]) is None:
                continue
            secretes = [numero for numero, ligne in parties if _est_secret(ligne[i])]
            autres_connues = all(_lire_nombre(ligne[i]) is not None or _manquant(ligne[i])
                                 for _, ligne in parties if not _est_secret(ligne[i]))
            if len(secretes) == 1 and autres_connues:
                constats.append(f"{nom}, ligne {secretes[0]} : la case secrète {entete[i]}"
                                f"{' (' + cle + ')' if cle else ''} se déduit par soustraction du total "
                                f"(ligne {totaux[0][0]}) et des autres lignes.")
    return constats


def controler_csv(chemin: Path, seuils: Seuils) -> list[str]:
    brut = chemin.read_bytes()
    try:
        texte = brut.decode("utf-8-sig")
    except UnicodeDecodeError:
        texte = brut.decode("cp1252", errors="replace")
    premiere = texte.splitlines()[0] if texte else ""
    separateur = ";" if premiere.count(";") >= premiere.count(",") else ","
    lignes = list(csv.reader(io.StringIO(texte), delimiter=separateur))
    # Lines of one cell (titles, notes) are text.
    notes = " ".join(" ".join(cellules) for cellules in lignes if len(cellules) <= 1)
    return controler_tableau(str(chemin), lignes, seuils) + controler_texte_brut(str(chemin), notes, seuils)


def controler_xlsx(chemin: Path, seuils: Seuils) -> list[str]:
    import openpyxl

    constats = []
    classeur = openpyxl.load_workbook(chemin, data_only=False)
    try:
        for feuille in classeur.worksheets:
            lignes = []
            for rangee in feuille.iter_rows():
                ligne = []
                for case in rangee:
                    if case.data_type == "f":
                        constats.append(f"{chemin} [{feuille.title}] {case.coordinate} : formule dans un export.")
                    ligne.append(case.value)
                lignes.append(ligne)
            constats += controler_tableau(f"{chemin} [{feuille.title}]", lignes, seuils)
    finally:
        classeur.close()
    return constats


class _LecteurHtml(HTMLParser):
    """Text (without scripts and styles) and tables of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.textes: list[str] = []
        self.tableaux: list[list[list[str]]] = []
        self._ignore = 0
        self._pile: list[list[list[str]]] = []
        self._case: list[str] | None = None

    def handle_starttag(self, balise, attributs):
        if balise in ("script", "style"):
            self._ignore += 1
        elif balise == "table":
            self._pile.append([])
        elif balise == "tr" and self._pile:
            self._pile[-1].append([])
        elif balise in ("td", "th") and self._pile:
            self._case = []
        elif balise in ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "td", "th", "tr"):
            self.textes.append("\n")
        for nom, valeur in attributs:
            if nom in ("alt", "title", "aria-label") and valeur:
                self.textes.append(f"\n{valeur}\n")

    def handle_endtag(self, balise):
        if balise in ("script", "style"):
            self._ignore = max(0, self._ignore - 1)
        elif balise in ("td", "th") and self._case is not None and self._pile:
            if not self._pile[-1]:
                self._pile[-1].append([])
            self._pile[-1][-1].append(" ".join(self._case).strip())
            self._case = None
        elif balise == "table" and self._pile:
            self.tableaux.append(self._pile.pop())
        if balise in ("p", "div", "li", "h1", "h2", "h3", "h4", "td", "th", "tr"):
            self.textes.append("\n")

    def handle_data(self, donnees):
        if self._ignore:
            return
        if self._case is not None:
            self._case.append(donnees)
        self.textes.append(donnees)


_CONTEXTE_MENAGES = (r"m[ée]nages?|foyers?|familles?|locataires?|personnes?|expulsions?|relogements?|"
                     r"accompagnements?|suivis?|adh[ée]rents?|b[ée]n[ée]ficiaires?")


def controler_texte_brut(nom: str, texte: str, seuils: Seuils) -> list[str]:
    """« 3 ménages », « 2 sur 17 », « 4 / 12 », « 75 % sur 8 ménages » with small values."""
    constats = []
    texte = html.unescape(texte)
    vus = set()

    def ajouter(message: str) -> None:
        if message not in vus:
            vus.add(message)
            constats.append(message)

    def extrait(debut: int, fin: int) -> str:
        return re.sub(r"\s+", " ", texte[max(0, debut - 30):fin + 30]).strip()

    for trouve in re.finditer(rf"(?<![\d,.])({_NOMBRE})\s+({_CONTEXTE_MENAGES})\b", texte, re.IGNORECASE):
        valeur = _lire_nombre(trouve.group(1))
        avant = texte[max(0, trouve.start() - 6):trouve.start()]
        if re.search(r"(sur|/)\s*$", avant):
            continue  # « 3 sur 4 ménages »: the denominator, checked below
        if seuils.petit(valeur):
            ajouter(f"{nom} : « {extrait(trouve.start(), trouve.end())} » — effectif de 1 à "
                    f"{seuils.effectif} ménages.")
    for trouve in re.finditer(rf"(?<![\d,.])({_NOMBRE})\s+(?:sur|/)\s+({_NOMBRE})(?![\d,])", texte):
        k, n = _lire_nombre(trouve.group(1)), _lire_nombre(trouve.group(2))
        if k is None or n is None or k > n:
            continue
        voisinage = _normaliser(texte[max(0, trouve.start() - 80):trouve.end() + 80])
        rdv = any(mot in voisinage for mot in MOTS_RDV)
        if seuils.insuffisant(n) and not rdv:
            ajouter(f"{nom} : « {extrait(trouve.start(), trouve.end())} » — proportion sur moins de "
                    f"{seuils.denominateur}.")
        elif not rdv and (seuils.petit(k) or seuils.petit(n - k)):
            ajouter(f"{nom} : « {extrait(trouve.start(), trouve.end())} » — effectif de 1 à "
                    f"{seuils.effectif} ménages (ou son complément).")
    for trouve in re.finditer(rf"\d+(?:,\d+)?\s*%[^.\n]{{0,40}}?\bsur\s+({_NOMBRE})\s+({_CONTEXTE_MENAGES})\b",
                              texte, re.IGNORECASE):
        n = _lire_nombre(trouve.group(1))
        if seuils.insuffisant(n):
            ajouter(f"{nom} : « {extrait(trouve.start(), trouve.end())} » — proportion sur moins de "
                    f"{seuils.denominateur} ménages.")
    return constats


def controler_page(chemin: Path, seuils: Seuils) -> list[str]:
    texte = chemin.read_text(encoding="utf-8", errors="replace")
    suffixe = chemin.suffix.lower()
    if suffixe in (".html", ".htm", ".svg"):
        lecteur = _LecteurHtml()
        lecteur.feed(texte)
        constats = controler_texte_brut(str(chemin), "".join(lecteur.textes), seuils)
        for numero, tableau in enumerate(lecteur.tableaux, start=1):
            constats += controler_tableau(f"{chemin} (tableau {numero})", tableau, seuils)
        return constats
    if suffixe in (".qmd", ".md"):
        texte = re.sub(r"```\{?python.*?```", " ", texte, flags=re.DOTALL)  # code, not output
    return controler_texte_brut(str(chemin), texte, seuils)


PAGES = (".html", ".htm", ".md", ".qmd", ".txt", ".svg", ".json")
IGNORES = ("site_libs", ".quarto", "_freeze", "node_modules")


def controler_dossier(dossier: Path, seuils: Seuils) -> list[str]:
    if not dossier.exists():
        return []
    fichiers = [dossier] if dossier.is_file() else sorted(p for p in dossier.rglob("*") if p.is_file())
    constats = []
    for fichier in fichiers:
        if any(partie in IGNORES or partie.startswith(".") for partie in fichier.relative_to(
                dossier if dossier.is_dir() else dossier.parent).parts[:-1]):
            continue
        suffixe = fichier.suffix.lower()
        try:
            if suffixe == ".csv":
                constats += controler_csv(fichier, seuils)
            elif suffixe == ".xlsx":
                constats += controler_xlsx(fichier, seuils)
            elif suffixe in PAGES:
                constats += controler_page(fichier, seuils)
        except (OSError, ValueError, KeyError, csv.Error, zipfile.BadZipFile) as erreur:
            # A file the scan cannot read is a finding, not a crash.
            constats.append(f"{fichier} : illisible par le contrôle du secret ({type(erreur).__name__}).")
    return constats


