"""The attacker's audit of everything published, and the gate that runs it (indicators.md,
« Disclosure »).

`auditer(entrepot, dossiers, precedente)` plays the attacker, in the manner of τ-ARGUS /
sdcTable's interval audit. The attacker knows:

* every cell of every publication table (`pub_*`), with what each column gives away: a
  proportion with its Wilson interval pins its n and k, a mean times its n gives the total,
  a z-score or a funnel limit gives the n or the k of a benchmark row, a position in the
  funnel bounds its k, an SMD of the balance table is inverted over every integer pair;
* how the cells hold together: the households of a project split exactly by landlord, by
  volet and by département (the audit works on the cube project × landlord × volet ×
  département, so that every sum, and every cross-classification, holds at once), the
  projects add up to the programme and a landlord's projects to its benchmark row; k ≤ n;
  the populations of the indicators (adhered households = n of maintien, of en_procedure…;
  n of expulsion_evitee = k of en_procedure; ended + running = accompanied…); the counts of
  the comparisons (k ≤ n, n within the cohorts, effective sample size ≤ n);
* the figures the projects published themselves with their reconciliation status (« confirmé »
  and the gap pin the recomputed value);
* the previous publication (`publication_precedente.json`, written at each successful
  publication): a project whose extraction did not change publishes the same cells again;
  one whose extraction changed is assumed to have only added households (counts do not
  go down, and grow at most by the growth of its oriented households);
* the text of every published file (site pages, exports, terminal summary, warning texts).

Each hidden cell that the rules make sensitive (a count of 1 to the threshold, its
complement n − k, the k and n − k of a proportion on fewer than the denominator threshold,
a mean on fewer than it) gets the interval [bas, haut] of values the attacker cannot rule
out, by linear programming (HiGHS through `scipy.optimize.linprog`, integer bounds rounded
inwards), on the connected block of relations it belongs to.

Protection rule. A sensitive cell of true value v is protected when

    haut ≥ v + 2,   bas ≤ max(v − 2, 0),   and [bas, haut] is not inside [1, seuil_effectif].

Why: ± 2 households is the protection level of the rule (« ne pas pouvoir situer une case
à 2 ménages près »): with less, an attacker who also knows one or two households of the
group (a neighbour, a landlord's own tenant) could name the rest. Below, the attacker must
not be able to exclude the empty group when v ≤ 2. And an interval inside [1, 5] tells the
attacker that the group exists and is small, which is what the rule forbids, however wide
it is. A mean on fewer than seuil_denominateur households is protected when its n or its
total is not pinned (to half a household, or half a euro). The thresholds are those of the
settings but never below the floors of indicators.md (5 households, denominator 10), so
that a lowered setting cannot pass this gate.

The insider: for each project with several landlords, each landlord knows its own
households (its part of every cell of that project, read from the household-level
contributions); the audit fixes that part and checks the rest of each sensitive cell of the
project with the same rule.

`verifier_publication(...)` is the gate: it raises ErreurUtilisateur naming each disclosed
cell (table, project, indicator, measure — never a value of a hidden cell) so that nothing
is swapped in. `python -m capitalisation.publication.controle_secret --warehouse X --site Y`
prints the same findings.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import html
import io
import json
import math
import re
import sys
import time
import unicodedata
import zipfile
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from capitalisation import config
from capitalisation.erreurs import ErreurUtilisateur

PROTECTION = 2
SEUIL_EFFECTIF_MIN = 5
SEUIL_DENOMINATEUR_MIN = 10
Z_95 = 1.959963984540054
RDV = "rdv_honores"
N_MAX = 20000  # the largest denominator an attacker tries when inverting an interval
FICHIER_PRECEDENTE = "publication_precedente.json"
INF = math.inf


@dataclass(frozen=True)
class Seuils:
    effectif: int = SEUIL_EFFECTIF_MIN
    denominateur: int = SEUIL_DENOMINATEUR_MIN

    def petit(self, valeur) -> bool:
        """A count of 1 to the threshold."""
        return valeur is not None and not _manquant(valeur) and 1 <= valeur <= self.effectif

    def insuffisant(self, valeur) -> bool:
        """A denominator under the threshold."""
        return valeur is not None and not _manquant(valeur) and valeur < self.denominateur


def seuils_audit(seuil_effectif: int | None = None, seuil_denominateur: int | None = None) -> Seuils:
    """The settings' thresholds, never below the floors of indicators.md."""
    effectif = config.SEUIL_EFFECTIF if seuil_effectif is None else seuil_effectif
    denominateur = config.SEUIL_DENOMINATEUR if seuil_denominateur is None else seuil_denominateur
    return Seuils(max(int(effectif), SEUIL_EFFECTIF_MIN), max(int(denominateur), SEUIL_DENOMINATEUR_MIN))


def protegee(vraie: float, bas: float, haut: float, seuils: Seuils, plafond: float = INF) -> bool:
    """The protection rule (module docstring); `plafond`: the most the cell can be whatever is
    published (the n of a k), which caps the + 2 as 0 caps the − 2."""
    autour = haut >= min(vraie + PROTECTION, plafond) - 1e-9 and bas <= max(vraie - PROTECTION, 0) + 1e-9
    petite = bas >= 1 - 1e-9 and haut <= seuils.effectif + 1e-9
    return autour and not petite


def entiers(bas: float, haut: float) -> tuple[float, float]:
    """The integer interval within [bas, haut] (a count's), infinite bounds kept."""
    return (math.ceil(bas - 1e-6) if bas > -INF else -INF, math.floor(haut + 1e-6) if haut < INF else INF)


def borne_basse(indicateur: str, mesure: str) -> float:
    """The least value of a cell: counts and debts are not negative, a total of gains may be."""
    return -INF if mesure == "total" and indicateur != "dette_entree_eur" else 0.0


def _manquant(valeur) -> bool:
    """None, NaN, pandas NA or NaT."""
    if valeur is None:
        return True
    try:
        return bool(pd.isna(valeur))
    except (TypeError, ValueError):
        return False


def _nombre(valeur) -> float | None:
    if _manquant(valeur) or isinstance(valeur, (str, bool, dt.date)):
        return None
    try:
        return float(valeur)
    except (TypeError, ValueError):
        return None


# =========================================================================== findings


CLASSES = {
    "publiee": "case sensible publiée",
    "deduite": "case secrète retrouvée à partir des cases publiées (sommes, populations, proportions)",
    "precedente": "case secrète retrouvée avec la publication précédente",
    "initie": "case d'un autre bailleur retrouvée par un bailleur qui retire ses propres ménages",
    "texte": "effectif secret écrit dans un texte publié",
    "evenements": "événements d'une courbe de survie retrouvés entre deux points publiés",
    "departs": "ménages sortis du suivi retrouvés par différence entre deux effectifs publiés",
    "equilibre": "effectif d'un niveau de covariable retrouvé dans la table d'équilibre",
    "moyenne": "moyenne publiée ou retrouvée sur trop peu de ménages",
    "fichier": "petite case dans un fichier publié",
}
REGLES = {
    "effectif": "effectif de 1 à {s} ménages",
    "complement": "complément n − k de 1 à {s} ménages",
    "denominateur": "proportion sur moins de {d} ménages",
    "moyenne": "moyenne sur moins de {d} ménages",
}


@dataclass(frozen=True)
class Divulgation:
    """A disclosed cell: where it is, how it was recovered; never its value."""

    classe: str
    table: str
    position: str
    mesure: str
    regle: str = "effectif"
    vue: str = ""
    detail: str = ""

    def texte(self, seuils: Seuils) -> str:
        regle = REGLES.get(self.regle, self.regle).format(s=seuils.effectif, d=seuils.denominateur)
        vue = f" (vue du bailleur {self.vue})" if self.vue else ""
        detail = f" — {self.detail}" if self.detail else ""
        position = f" ({self.position})" if self.position else ""
        return f"{self.table}{position}, {self.mesure} : {CLASSES[self.classe]}{vue} — {regle}{detail}."


@dataclass
class Audit:
    seuils: Seuils
    divulgations: list[Divulgation] = field(default_factory=list)
    constats_fichiers: list[str] = field(default_factory=list)
    cases_sensibles: int = 0
    programmes_lineaires: int = 0
    duree: float = 0.0

    def messages(self) -> list[str]:
        vus, sortie = set(), []
        for d in self.divulgations:
            texte = d.texte(self.seuils)
            if texte not in vus:
                vus.add(texte)
                sortie.append(texte)
        return sortie + [c for c in self.constats_fichiers if not (c in vus or vus.add(c))]

    def par_classe(self) -> dict[str, int]:
        compte = Counter(f"{d.classe}/{d.regle}" for d in {d.texte(self.seuils): d for d in self.divulgations}.values())
        if self.constats_fichiers:
            compte["fichier"] += len(set(self.constats_fichiers))
        return dict(sorted(compte.items()))

    @property
    def reussi(self) -> bool:
        return not self.divulgations and not self.constats_fichiers


# =========================================================================== linear system


@dataclass
class Sensible:
    expr: dict[int, float]
    vraie: float
    regle: str
    table: str
    position: str
    mesure: str
    projet: str | None = None
    entier: bool = True
    # a mean: (n expression, total expression) — disclosed when both are pinned
    couple: tuple[dict[int, float], dict[int, float]] | None = None
    # the same cell published elsewhere: (table, position, measure)
    alias: list[tuple[str, str, str]] = field(default_factory=list)
    # a k or an n − k cannot exceed its n: the attacker's maximum of n caps the rule's + 2
    plafond: dict[int, float] | None = None


class Systeme:
    """Variables (their true values, bounds and project) and rows lo ≤ a·x ≤ hi, all verified
    on the true values before they are kept (an attacker's relation holds in the data).

    The projects are solved apart: a row over several projects (a programme total, a
    landlord's benchmark row) is first reduced by the published totals of its projects'
    parts; only what remains ties projects into one block. Each block is handed to HiGHS
    once; each bound is then a warm-started primal simplex solve."""

    def __init__(self):
        self.noms: list[str] = []
        self.vraies: list[float] = []
        self.bas: list[float] = []
        self.haut: list[float] = []
        self.groupes: list[str] = []
        self.lignes: list[tuple[dict[int, float], float, float]] = []
        # where each row comes from: « publie » (a figure of this publication), « structure »
        # (a relation that holds whatever is published: sums, k ≤ n) or « projet » (a figure
        # the project published itself)
        self.origines: list[str] = []
        self.origine_courante = "publie"
        self.connues: dict[frozenset, float] = {}
        self.ecartees = 0

    @contextmanager
    def origine(self, nom: str):
        """Rows added inside come from `nom` (see `origines`)."""
        avant, self.origine_courante = self.origine_courante, nom
        try:
            yield
        finally:
            self.origine_courante = avant

    def anterieur(self) -> Systeme:
        """What an attacker knows before this publication: the same variables, the relations
        that hold whatever is published, the projects' own figures and the previous publication."""
        return self.restreint({"structure", "projet", "precedente"})

    def restreint(self, origines: set[str]) -> Systeme:
        """The same variables, with the rows of these `origines` only."""
        autre = Systeme()
        autre.noms, autre.vraies, autre.bas, autre.haut, autre.groupes = (
            self.noms, self.vraies, self.bas, self.haut, self.groupes)
        for ligne, origine in zip(self.lignes, self.origines, strict=True):
            if origine in origines:
                autre.lignes.append(ligne)
                autre.origines.append(origine)
                if ligne[1] == ligne[2]:
                    autre.connues.setdefault(_cle_expr(ligne[0]), ligne[1])
        autre.preparer()
        return autre

    def variable(self, nom: str, vraie: float, bas: float = 0.0, haut: float = INF, groupe: str = "") -> int:
        self.noms.append(nom)
        self.vraies.append(float(vraie))
        self.bas.append(bas)
        self.haut.append(haut)
        self.groupes.append(groupe or "")
        return len(self.noms) - 1

    def valeur(self, expr: dict[int, float]) -> float:
        return float(sum(c * self.vraies[i] for i, c in expr.items()))

    def contrainte(self, expr: dict[int, float], lo: float, hi: float, tolerance: float = 1e-6) -> bool:
        expr = {i: c for i, c in expr.items() if c}
        if not expr:
            return False
        v = self.valeur(expr)
        if v < lo - tolerance * max(1.0, abs(lo)) or v > hi + tolerance * max(1.0, abs(hi)):
            self.ecartees += 1
            return False
        self.lignes.append((expr, lo, hi))
        self.origines.append(self.origine_courante)
        if lo == hi:
            self.connues.setdefault(_cle_expr(expr), lo)
        return True

    def egal(self, expr: dict[int, float], valeur: float, tolerance: float = 1e-6) -> bool:
        return self.contrainte(expr, valeur, valeur, tolerance)

    # ------------------------------------------------------------------ blocks

    def preparer(self) -> None:
        """Reduce the rows over several projects and tie the projects that remain together."""
        groupes = self.groupes
        parent: dict[str, str] = {}

        def racine(g: str) -> str:
            while parent.setdefault(g, g) != g:
                parent[g] = parent[parent[g]]
                g = parent[g]
            return g

        reduites = []
        for expr, lo, hi in self.lignes:
            parties: dict[str, dict[int, float]] = defaultdict(dict)
            for i, c in expr.items():
                parties[groupes[i]][i] = c
            if len(parties) > 1:
                for g, partie in list(parties.items()):
                    connue = self._valeur_connue(partie)
                    if connue is not None and len(parties) > 1:
                        lo, hi = lo - connue, hi - connue
                        del parties[g]
                expr = {i: c for partie in parties.values() for i, c in partie.items()}
            liste = list(parties)
            for g in liste:
                racine(g)
            for g in liste[1:]:
                parent[racine(g)] = racine(liste[0])
            reduites.append((expr, lo, hi))
        for g in set(groupes):
            racine(g)
        self._bloc_de_groupe = {g: racine(g) for g in set(groupes)}
        self._reduites = reduites
        self._modeles: dict[frozenset, tuple] = {}

    def _valeur_connue(self, partie: dict[int, float]) -> float | None:
        """The value of `partie` when it is a combination of expressions published exactly
        (terms grouped by coefficient: k − p · n is known when k and n are)."""
        connue = self.connues.get(_cle_expr(partie))
        if connue is not None:
            return connue
        par_coef: dict[float, dict[int, float]] = defaultdict(dict)
        for i, c in partie.items():
            par_coef[c][i] = 1.0
        total = 0.0
        for c, termes in par_coef.items():
            valeur = self.connues.get(_cle_expr(termes))
            if valeur is None:
                return None
            total += c * valeur
        return total

    def _modele(self, blocs: frozenset):
        """The HiGHS model of a union of blocks: (solver, highspy, global → local index)."""
        if blocs in self._modeles:
            return self._modeles[blocs]
        import highspy
        from scipy import sparse

        bloc_de = self._bloc_de_groupe
        variables = [i for i, g in enumerate(self.groupes) if bloc_de[g] in blocs]
        local = {i: j for j, i in enumerate(variables)}
        lignes, colonnes, coefs, lo, hi = [], [], [], [], []
        for expr, a, b in self._reduites:
            premier = next(iter(expr))
            if bloc_de[self.groupes[premier]] not in blocs:
                continue
            r = len(lo)
            for i, c in expr.items():
                lignes.append(r)
                colonnes.append(local[i])
                coefs.append(c)
            lo.append(a)
            hi.append(b)
        matrice = sparse.csc_matrix((coefs, (lignes, colonnes)), shape=(len(lo), len(variables)))
        infini = highspy.kHighsInf

        def borne(valeurs):
            return np.clip(np.array(valeurs, dtype=float), -infini, infini)

        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(variables), len(lo)
        lp.col_cost_ = np.zeros(len(variables))
        lp.col_lower_ = borne([self.bas[i] for i in variables])
        lp.col_upper_ = borne([self.haut[i] for i in variables])
        lp.row_lower_, lp.row_upper_ = borne(lo), borne(hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrice.indptr
        lp.a_matrix_.index_ = matrice.indices
        lp.a_matrix_.value_ = matrice.data
        solveur = _highs_silencieux(highspy)
        solveur.setOptionValue("output_flag", False)
        solveur.passModel(lp)
        solveur.run()  # a first vertex, with presolve; then warm starts, by the primal simplex
        solveur.setOptionValue("presolve", "off")
        solveur.setOptionValue("simplex_strategy", 4)
        self._modeles[blocs] = (solveur, highspy, local, np.array(variables))
        return self._modeles[blocs]

    def atteignables(self, expressions: list[dict[int, float]], bas_voulu: list[float], haut_voulu: list[float],
                     fixes: dict[int, float] | None = None, compteur: list[int] | None = None,
                     ) -> list[tuple[float, float]]:
        """For each expression, how low and how high the attacker's polytope lets it go, as far
        as needed: the exact minimum when it stays above `bas_voulu` (else a witness value at or
        below it), the same for the maximum. Every solution found is a witness for the others
        of its block, so that most cells need no program of their own."""
        resultats: list[tuple[float, float]] = [(0.0, 0.0)] * len(expressions)
        par_blocs: dict[frozenset, list[int]] = defaultdict(list)
        for j, expr in enumerate(expressions):
            par_blocs[frozenset(self._bloc_de_groupe[self.groupes[i]] for i in expr)].append(j)
        for blocs, membres in par_blocs.items():
            solveur, highspy, local, variables = self._modele(blocs)
            self._atteindre(solveur, highspy, local, variables, [expressions[j] for j in membres],
                            [bas_voulu[j] for j in membres], [haut_voulu[j] for j in membres],
                            fixes or {}, compteur, membres, resultats)
        return resultats

    def _atteindre(self, solveur, highspy, local, variables, expressions, bas_voulu, haut_voulu, fixes,
                   compteur, membres, resultats) -> None:
        from scipy import sparse

        fixes_locales = {local[i]: v for i, v in fixes.items() if i in local}
        idx_fixes = np.array(sorted(fixes_locales), dtype=np.int32)
        if len(idx_fixes):
            valeurs = np.array([fixes_locales[i] for i in idx_fixes], dtype=float)
            solveur.changeColsBounds(len(idx_fixes), idx_fixes, valeurs, valeurs)
        lignes, colonnes, coefs = [], [], []
        for j, expr in enumerate(expressions):
            for i, c in expr.items():
                lignes.append(j)
                colonnes.append(local[i])
                coefs.append(c)
        matrice = sparse.csr_matrix((coefs, (lignes, colonnes)), shape=(len(expressions), len(variables)))
        vu_bas = matrice @ np.array(self.vraies)[variables]
        vu_haut = vu_bas.copy()
        def resoudre(couts: dict[int, float], minimum: bool):
            idx = np.array(list(couts), dtype=np.int32)
            solveur.changeColsCost(len(idx), idx, np.array(list(couts.values()), dtype=float))
            solveur.changeObjectiveSense(highspy.ObjSense.kMinimize if minimum else highspy.ObjSense.kMaximize)
            solveur.run()
            if compteur is not None:
                compteur[0] += 1
            statut = solveur.getModelStatus()
            solveur.changeColsCost(len(idx), idx, np.zeros(len(idx)))
            if statut == highspy.HighsModelStatus.kOptimal:
                points = matrice @ np.array(solveur.getSolution().col_value)
                np.minimum(vu_bas, points, out=vu_bas)
                np.maximum(vu_haut, points, out=vu_haut)
                return solveur.getInfo().objective_function_value
            if statut in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                return -INF if minimum else INF
            raise RuntimeError(f"audit du secret : programme linéaire sans solution ({statut})")

        bas_voulu, haut_voulu = np.array(bas_voulu, dtype=float), np.array(haut_voulu, dtype=float)
        try:
            for j, expr in enumerate(expressions):
                for minimum, voulu in ((True, bas_voulu[j]), (False, haut_voulu[j])):
                    if (vu_bas[j] <= voulu + 1e-9) if minimum else (vu_haut[j] >= voulu - 1e-9):
                        continue
                    valeur = resoudre({local[i]: c for i, c in expr.items()}, minimum)
                    if minimum:
                        vu_bas[j] = min(vu_bas[j], valeur)
                    else:
                        vu_haut[j] = max(vu_haut[j], valeur)
                resultats[membres[j]] = (float(vu_bas[j]), float(vu_haut[j]))
        finally:
            if len(idx_fixes):
                originales = variables[idx_fixes]
                solveur.changeColsBounds(
                    len(idx_fixes), idx_fixes,
                    np.clip(np.array(self.bas, dtype=float)[originales], -highspy.kHighsInf, None),
                    np.clip(np.array(self.haut, dtype=float)[originales], None, highspy.kHighsInf))


def _highs_silencieux(highspy):
    """A HiGHS instance, without the banner its constructor prints on the standard output."""
    import os

    sys.stdout.flush()
    copie = os.dup(1)
    nul = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(nul, 1)
        return highspy.Highs()
    finally:
        os.dup2(copie, 1)
        os.close(copie)
        os.close(nul)


# =========================================================================== the attacker's model

# Indicator tables: published table → the dimensions its rows fix (the others are summed).
TABLES_INDICATEURS = {
    "pub_indicateurs_programme": (),
    "pub_indicateurs_projet": ("projet_id",),
    "pub_indicateurs_bailleur": ("projet_id", "bailleur_id"),
    "pub_indicateurs_volet": ("projet_id", "volet"),
    "pub_indicateurs_departement": ("projet_id", "departement"),
    "pub_benchmark_projet_bailleur": ("projet_id", "bailleur_id"),
    "pub_benchmark_bailleur": ("bailleur_id",),
}
DIMENSIONS = ("projet_id", "bailleur_id", "volet", "departement")
MESURES = {"proportion": ("n", "k"), "rdv": ("menages", "n", "k"), "montant": ("n", "total")}

# Relations that hold for every household, hence in every cell of the cube (indicators.md,
# populations; models/intermediate/int_indicateurs_contributions.sql): (terms, lo, hi).
RELATIONS_MENAGE = (
    ((("en_procedure", "n", 1), ("adhesion", "k", -1)), 0, 0),
    ((("expulse", "n", 1), ("adhesion", "k", -1)), 0, 0),
    ((("maintien", "n", 1), ("adhesion", "k", -1)), 0, 0),
    ((("relogement", "n", 1), ("adhesion", "k", -1)), 0, 0),
    ((("expulsion_evitee", "n", 1), ("en_procedure", "k", -1)), 0, 0),
    ((("dette_reduite", "n", 1), ("dette_resorbee", "n", -1)), 0, 0),
    ((("dette_sortie_eur", "n", 1), ("dette_resorbee", "n", -1)), 0, 0),
    ((("dette_entree_eur", "n", 1), ("en_dette_entree", "k", -1)), 0, 0),
    ((("loyer_a_jour", "n", 1), ("adhesion", "k", -1)), -INF, 0),
    ((("en_dette_entree", "n", 1), ("adhesion", "k", -1)), -INF, 0),
    ((("gain_energie_eur", "n", 1), ("adhesion", "k", -1)), -INF, 0),
    (((RDV, "menages", 1), ("adhesion", "k", -1)), -INF, 0),
    (((RDV, "menages", 1), (RDV, "n", -1)), -INF, 0),
    ((("dette_resorbee", "n", 1), ("en_dette_entree", "k", -1)), -INF, 0),
    ((("dette_resorbee", "k", 1), ("dette_reduite", "k", -1)), -INF, 0),
    ((("expulse", "k", 1), ("expulsion_evitee", "k", 1), ("en_procedure", "k", -1)), -INF, 0),
    ((("expulse", "k", 1), ("maintien", "k", 1), ("maintien", "n", -1)), -INF, 0),
    ((("dette_entree_eur", "total", 1), ("dette_entree_eur", "n", -0.01)), 0, INF),
)

EFFECTIFS = ("menages_orientes", "menages_accompagnes", "menages_termines", "menages_en_cours",
             "menages_temoins", "volet_maintien", "volet_acces")
COHORTES = ("traites", "temoins")


def _texte(valeur) -> str:
    return "" if _manquant(valeur) else str(valeur)


def _cle_expr(expr: dict[int, float]) -> frozenset:
    return frozenset((i, round(c, 9)) for i, c in expr.items() if c)


def _plus(*exprs: dict[int, float], facteurs: tuple[float, ...] | None = None) -> dict[int, float]:
    somme: dict[int, float] = defaultdict(float)
    for j, expr in enumerate(exprs):
        f = facteurs[j] if facteurs else 1.0
        for i, c in expr.items():
            somme[i] += f * c
    return {i: c for i, c in somme.items() if abs(c) > 1e-12}


def wilson(k, n, z: float = Z_95):
    """The 95 % Wilson interval, as macros/wilson.sql computes it."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        racine = z * np.sqrt(k * (n - k) / n + z * z / 4.0)
        return (k + z * z / 2.0 - racine) / (n + z * z), (k + z * z / 2.0 + racine) / (n + z * z)


def _position(ligne: dict, *colonnes: str) -> str:
    return ", ".join(f"{c.replace('_id', '')} {ligne[c]}" for c in colonnes if not _manquant(ligne.get(c)))


class Modele:
    """The attacker's system over the cube, the sensitive cells and what each table gives away."""

    def __init__(self, donnees: dict[str, pd.DataFrame], seuils: Seuils):
        self.d = donnees
        self.seuils = seuils
        self.s = Systeme()
        self.sensibles: list[Sensible] = []
        self._cles_sensibles: dict[frozenset, int] = {}
        self.publiees: set[frozenset] = set()
        self.avertissements: list[str] = []
        self.projets_atomes: dict[str, np.ndarray] = {}
        self._caches: dict[tuple, np.ndarray] = {}
        self._effectifs: dict[str, dict[str, dict[int, float]]] = {}
        self._comparaisons: dict[tuple, dict[str, dict[int, float]]] = {}
        self._couts: dict[str, dict[str, dict[int, float]]] = {}
        self._construire_cube()

    # ------------------------------------------------------------------ cube

    def _construire_cube(self) -> None:
        contributions = self.d.get("int_indicateurs_contributions", pd.DataFrame())
        if contributions.empty:
            contributions = pd.DataFrame(columns=["projet_id", "menage_id", "bailleur_id", "volet",
                                                  "departement", "indicateur", "nature", "n", "k", "montant"])
        contributions = contributions.copy()
        for c in DIMENSIONS:
            contributions[c] = contributions[c].map(_texte)
        valeurs: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
        for _, r in contributions[list(DIMENSIONS)].drop_duplicates().iterrows():
            for c in DIMENSIONS[1:]:
                valeurs[r["projet_id"]][c].add(r[c])
        for table, dims in TABLES_INDICATEURS.items():
            pub = self.d.get(table)
            if pub is None or pub.empty or "projet_id" not in dims:
                continue
            for c in dims[1:]:
                for projet, v in zip(pub["projet_id"].map(_texte), pub[c].map(_texte)):
                    valeurs[projet][c].add(v)
        atomes = []
        for projet in sorted(valeurs):
            for b in sorted(valeurs[projet]["bailleur_id"] or {""}):
                for v in sorted(valeurs[projet]["volet"] or {""}):
                    for dep in sorted(valeurs[projet]["departement"] or {""}):
                        atomes.append((projet, b, v, dep))
        self.atomes = pd.DataFrame(atomes, columns=list(DIMENSIONS))
        self._tableaux = {c: self.atomes[c].to_numpy(dtype=object) for c in DIMENSIONS}
        nb = len(self.atomes)
        position = {a: i for i, a in enumerate(atomes)}
        natures = {}
        for ind, nat in contributions[["indicateur", "nature"]].drop_duplicates().itertuples(index=False):
            natures[ind] = "rdv" if ind == RDV else nat
        for table in TABLES_INDICATEURS:
            pub = self.d.get(table)
            if pub is not None and not pub.empty and "nature" in pub:
                for ind, nat in pub[["indicateur", "nature"]].drop_duplicates().itertuples(index=False):
                    natures.setdefault(ind, "rdv" if ind == RDV else nat)
        self.natures = natures
        vraies = {}
        if not contributions.empty:
            contributions["menages"] = 1
            contributions["montant"] = pd.to_numeric(contributions["montant"], errors="coerce").astype(float)
            groupes = contributions.groupby(list(DIMENSIONS) + ["indicateur"], dropna=False).agg(
                n=("n", "sum"), k=("k", "sum"), menages=("menages", "sum"), total=("montant", "sum"))
            for cle, r in groupes.iterrows():
                vraies[(position[cle[:4]], cle[4])] = r
        self.idx: dict[str, dict[str, np.ndarray]] = {}
        self.atome_de_variable: dict[int, str] = {}  # variable of the cube → its landlord
        for ind, nat in sorted(natures.items()):
            self.idx[ind] = {}
            for m in MESURES[nat]:
                tableau = np.empty(nb, dtype=int)
                for a in range(nb):
                    r = vraies.get((a, ind))
                    v = 0.0 if r is None or _manquant(r[m]) else float(r[m])
                    tableau[a] = self.s.variable(f"{ind}.{m}@{a}", v, borne_basse(ind, m), groupe=atomes[a][0])
                    self.atome_de_variable[int(tableau[a])] = atomes[a][1]
                self.idx[ind][m] = tableau
        # Relations of every household, kept when they hold in every cell.
        relations = [(((ind, "k", 1), (ind, "n", -1)), -INF, 0) for ind, nat in natures.items()
                     if nat in ("proportion", "rdv")] + list(RELATIONS_MENAGE)
        vraies_vec = np.array(self.s.vraies)
        for termes, lo, hi in relations:
            if not all(ind in self.idx and m in self.idx[ind] for ind, m, _ in termes):
                continue
            valeur = sum(c * vraies_vec[self.idx[ind][m]] for ind, m, c in termes)
            if np.any(valeur < lo - 1e-6) or np.any(valeur > hi + 1e-6):
                self.avertissements.append(f"relation écartée : {termes}")
                continue
            with self.s.origine("structure"):
                for a in range(nb):
                    self.s.contrainte({int(self.idx[ind][m][a]): float(c) for ind, m, c in termes}, lo, hi)

    def atomes_de(self, filtre: dict[str, str]) -> np.ndarray:
        cle = tuple(sorted(filtre.items()))
        if cle not in self._caches:
            masque = np.ones(len(self.atomes), dtype=bool)
            for c, v in filtre.items():
                masque &= self._tableaux[c] == v
            self._caches[cle] = np.flatnonzero(masque)
        return self._caches[cle]

    def cellule(self, filtre: dict[str, str], indicateur: str, mesure: str) -> dict[int, float]:
        if indicateur not in self.idx or mesure not in self.idx[indicateur]:
            return {}
        return {int(i): 1.0 for i in self.idx[indicateur][mesure][self.atomes_de(filtre)]}

    # ------------------------------------------------------------------ sensitive cells

    def sensible(self, expr: dict[int, float], regle: str, table: str, position: str, mesure: str,
                 projet: str | None, entier: bool = True, couple=None, vraie: float | None = None,
                 plafond: dict[int, float] | None = None) -> None:
        if not expr and couple is None:
            return
        cle = _cle_expr(expr) if couple is None else (_cle_expr(couple[0]), _cle_expr(couple[1]))
        if cle in self._cles_sensibles:
            premier = self.sensibles[self._cles_sensibles[cle]]
            if (table, position, mesure) != (premier.table, premier.position, premier.mesure):
                premier.alias.append((table, position, mesure))
            return
        self._cles_sensibles[cle] = len(self.sensibles)
        self.sensibles.append(Sensible(expr, self.s.valeur(expr) if vraie is None else vraie, regle, table,
                                       position, mesure, projet, entier, couple, plafond=plafond))

    def anterieur(self) -> Systeme:
        """The attacker's knowledge before this publication (Systeme.anterieur), built once for
        the rows so far."""
        cache = getattr(self, "_anterieur", None)
        if cache is None or cache[0] != len(self.s.lignes):
            self._anterieur = (len(self.s.lignes), self.s.anterieur())
        return self._anterieur[1]

    def proportion_sensible(self, n: dict, k: dict, table: str, position: str, projet: str | None,
                            suffixe: str = "") -> None:
        seuils = self.seuils
        vn, vk = self.s.valeur(n), self.s.valeur(k)
        complement = _plus(n, k, facteurs=(1.0, -1.0))
        if seuils.petit(vn):
            self.sensible(n, "effectif", table, position, f"n{suffixe}", projet)
        if seuils.petit(vk):
            self.sensible(k, "effectif", table, position, f"k{suffixe}", projet, plafond=n)
        if seuils.petit(vn - vk):
            self.sensible(complement, "complement", table, position, f"n{suffixe} − k{suffixe}", projet, plafond=n)
        if 1 <= vn < seuils.denominateur:
            self.sensible(k, "denominateur", table, position, f"k{suffixe}", projet, plafond=n)
            self.sensible(complement, "denominateur", table, position, f"n{suffixe} − k{suffixe}", projet,
                          plafond=n)

    def publier(self, expr: dict[int, float], valeur, tolerance: float = 1e-6) -> None:
        valeur = _nombre(valeur)
        if valeur is None or not expr:
            return
        if self.s.egal(expr, valeur, tolerance):
            self.publiees.add(_cle_expr(expr))

    def rapport(self, k: dict, n: dict, p: float, demi_largeur: float = 1e-9) -> None:
        """k / n = p (within `demi_largeur`): one row k − p n = 0 when p is exact, else two."""
        if demi_largeur <= 1e-6:
            self.s.contrainte(_plus(k, n, facteurs=(1.0, -p)), 0.0, 0.0, 1e-7)
            return
        self.s.contrainte(_plus(k, n, facteurs=(1.0, -(p + demi_largeur))), -INF, 0, 1e-7)
        self.s.contrainte(_plus(k, n, facteurs=(1.0, -(p - demi_largeur))), 0, INF, 1e-7)

    def bornes_kn(self, k: dict, n: dict, candidats: list[tuple[int, int]]) -> None:
        if not candidats:
            return
        ks, ns = [c[0] for c in candidats], [c[1] for c in candidats]
        self.s.contrainte(n, min(ns), max(ns))
        self.s.contrainte(k, min(ks), max(ks))

    # ------------------------------------------------------------------ indicator tables

    def ajouter_indicateurs(self, donnees: dict[str, pd.DataFrame] | None = None, mode: str = "courant",
                            extractions: dict | None = None) -> None:
        """The indicator and benchmark tables; `mode` 'courant' (this publication) or the previous
        publication's rows ('identique': same extraction, 'croissant': households added)."""
        donnees = donnees if donnees is not None else self.d
        for table, dims in TABLES_INDICATEURS.items():
            pub = donnees.get(table)
            if pub is None or pub.empty:
                continue
            vraies = self.d.get(table.replace("pub_", "fct_"))
            for ligne in _lignes(pub):
                filtre = {c: _texte(ligne.get(c)) for c in dims}
                if "projet_id" in filtre and filtre["projet_id"] not in set(self._tableaux["projet_id"]):
                    continue
                ind = ligne["indicateur"]
                nature = self.natures.get(ind)
                if nature is None or not len(self.atomes_de(filtre)):
                    continue
                projet = filtre.get("projet_id")
                position = ", ".join([f"{c.replace('_id', '')} {v}" for c, v in filtre.items()]
                                     + [f"indicateur {ind}"])
                exprs = {m: self.cellule(filtre, ind, m) for m in MESURES[nature]}
                if mode == "courant":
                    if not self._verifier_ligne(table, ligne, exprs, nature, vraies, dims):
                        continue
                    self._sensibles_indicateur(table, position, projet, nature, exprs)
                    self._publier_indicateur(ligne, exprs, nature, donnees)
                else:
                    self._precedente_ligne(ligne, exprs, nature, projet, mode, extractions)

    def ajouter_absences(self) -> None:
        """A group without a row in a table has no household in that indicator's population
        (the tables list every non-empty group of the indicators they publish): its cells are 0.
        An indicator the table never lists says nothing by its absence."""
        for table, dims in TABLES_INDICATEURS.items():
            pub = self.d.get(table)
            if pub is None or "projet_id" not in dims:
                continue
            lignes = _lignes(pub)
            listes = {r["indicateur"] for r in lignes}
            presentes = {tuple(_texte(r.get(c)) for c in dims) + (r["indicateur"],) for r in lignes}
            groupes = self.atomes[list(dims)].drop_duplicates().itertuples(index=False)
            for groupe in groupes:
                filtre = dict(zip(dims, groupe))
                for ind, nature in self.natures.items():
                    if ind in listes and tuple(groupe) + (ind,) not in presentes:
                        for m in MESURES[nature]:
                            self.s.egal(self.cellule(filtre, ind, m), 0.0)

    def _verifier_ligne(self, table, ligne, exprs, nature, vraies, dims) -> bool:
        """The cube must give back the true cell (else the model is not that of the table)."""
        if vraies is None or vraies.empty:
            return True
        cle = tuple(_texte(ligne.get(c)) for c in dims) + (ligne["indicateur"],)
        if not hasattr(self, "_index_vraies"):
            self._index_vraies = {}
        if table not in self._index_vraies:
            self._index_vraies[table] = {
                tuple(_texte(r.get(c)) for c in dims) + (r["indicateur"],): r for r in _lignes(vraies)}
        vraie = self._index_vraies[table].get(cle)
        if vraie is None:
            return True
        n = _nombre(vraie.get("n"))
        if n is not None and abs(self.s.valeur(exprs["n"]) - n) > 1e-6:
            self.avertissements.append(f"{table} {cle} : le cube ne redonne pas n ; ligne auditée à part.")
            return False
        return True

    def _sensibles_indicateur(self, table, position, projet, nature, exprs) -> None:
        seuils = self.seuils
        if nature == "proportion":
            self.proportion_sensible(exprs["n"], exprs["k"], table, position, projet)
        elif nature == "rdv":
            menages = self.s.valeur(exprs["menages"])
            if seuils.petit(menages):
                self.sensible(exprs["menages"], "effectif", table, position, "menages", projet)
            if 1 <= menages < seuils.denominateur:
                self.sensible({}, "denominateur", table, position, "k / n", projet,
                              couple=(exprs["n"], exprs["k"]))
        else:
            n = self.s.valeur(exprs["n"])
            if seuils.petit(n):
                self.sensible(exprs["n"], "effectif", table, position, "n", projet)
            if 1 <= n < seuils.denominateur:
                self.sensible({}, "moyenne", table, position, "moyenne", projet,
                              couple=(exprs["n"], exprs["total"]), entier=False)

    def _publier_indicateur(self, ligne: dict, exprs: dict, nature: str, donnees) -> None:
        n, k = exprs.get("n"), exprs.get("k")
        self.publier(n, ligne.get("n"))
        if nature == "montant":
            total = exprs["total"]
            self.publier(n, ligne.get("menages"))
            self.publier(total, ligne.get("total_eur"), 1e-4)
            moyenne = _nombre(ligne.get("valeur"))
            if moyenne is not None:
                self.rapport(total, n, moyenne, 1e-6 * max(1.0, abs(moyenne)))
            arrondie = _nombre(ligne.get("moyenne_eur"))
            if arrondie is not None:
                self.rapport(total, n, arrondie, 0.005 + 1e-9)
            return
        self.publier(k, ligne.get("k"))
        if nature == "rdv":
            self.publier(exprs["menages"], ligne.get("menages"))
        else:
            self.publier(n, ligne.get("menages"))
        p = _nombre(ligne.get("valeur", ligne.get("proportion")))
        if p is None:
            p = _nombre(ligne.get("proportion"))
        n_pub = _nombre(ligne.get("n"))
        if p is not None:
            self.rapport(k, n, p)
            bas, haut = _nombre(ligne.get("ic_bas")), _nombre(ligne.get("ic_haut"))
            if n_pub is None and bas is not None and haut is not None:
                self.bornes_kn(k, n, _inverser_wilson(p, bas, haut))
        m = _nombre(ligne.get("moyenne_programme"))
        z = _nombre(ligne.get("z_score"))
        if m is not None and 0 < m < 1:
            if z is not None and p is None:
                if n_pub is not None:
                    self.publier(k, n_pub * (m + z * math.sqrt(m * (1 - m) / n_pub)), 1e-5)
                else:
                    self.bornes_kn(k, n, _inverser_z(m, z))
            phi = _nombre(ligne.get("surdispersion_appliquee")) or 1.0
            for suffixe, zz in (("95", Z_95), ("998", 3.090232306167813)):
                limites = [_nombre(ligne.get(f"limite_{suffixe}_bas")), _nombre(ligne.get(f"limite_{suffixe}_haut"))]
                if n_pub is None and limites[1] is not None:
                    self.bornes_kn(k, n, [(0, c) for c in _inverser_limite(m, phi, zz, limites[1])])
                if n_pub is not None and None in limites:
                    demi = zz * math.sqrt(phi * m * (1 - m) / n_pub)
                    limites = [max(0.0, m - demi), min(1.0, m + demi)]
                position = ligne.get(f"position_{suffixe}")
                if None in limites or _manquant(position):
                    continue
                if position == "en_dessous":
                    self.s.contrainte(_plus(k, n, facteurs=(1.0, -limites[0])), -INF, 0, 1e-7)
                elif position == "au_dessus":
                    self.s.contrainte(_plus(k, n, facteurs=(1.0, -limites[1])), 0, INF, 1e-7)
                elif position == "dans_les_limites":
                    self.s.contrainte(_plus(k, n, facteurs=(1.0, -limites[0])), 0, INF, 1e-7)
                    self.s.contrainte(_plus(k, n, facteurs=(1.0, -limites[1])), -INF, 0, 1e-7)

    def _precedente_ligne(self, ligne, exprs, nature, projet, mode, extractions) -> None:
        colonnes = {"n": "n", "k": "k", "menages": "menages" if nature == "rdv" else "n",
                    "total_eur": "total"}
        for colonne, mesure in colonnes.items():
            if mesure in exprs:
                self._precedente(exprs[mesure], ligne.get(colonne), projet, mode, extractions,
                                 mesure != "total")
        if mode == "identique":
            self._publier_indicateur(ligne, exprs, nature, {})

    def _precedente(self, expr, valeur, projet, mode, extractions, compte: bool = True) -> None:
        valeur = _nombre(valeur)
        if valeur is None or not expr:
            return
        if mode == "identique":
            self.s.egal(expr, valeur, 1e-4)
        elif compte:
            croissance = (extractions or {}).get(projet) if projet else (extractions or {}).get("*")
            self.s.contrainte(expr, valeur, INF if croissance is None else valeur + croissance)

    # ------------------------------------------------------------------ other tables

    def ajouter_effectifs(self) -> None:
        pub = self.d.get("pub_effectifs_projet")
        vraies = {r["projet_id"]: r for r in _lignes(self.d.get("fct_effectifs_projet", pd.DataFrame()))}
        if pub is None:
            return
        for ligne in _lignes(pub):
            projet = ligne["projet_id"]
            vraie = vraies.get(projet, {})
            exprs = self.expressions_effectifs(projet, vraie)
            position = f"projet {projet}"
            for colonne, expr in exprs.items():
                if self.seuils.petit(self.s.valeur(expr)):
                    self.sensible(expr, "effectif", "pub_effectifs_projet", position, colonne, projet)
                self.publier(expr, ligne.get(colonne))

    def expressions_effectifs(self, projet: str, vraie: dict) -> dict[str, dict[int, float]]:
        if projet in self._effectifs:
            return self._effectifs[projet]
        exprs = {
            "menages_orientes": self.cellule({"projet_id": projet}, "adhesion", "n"),
            "menages_accompagnes": self.cellule({"projet_id": projet}, "adhesion", "k"),
            "volet_maintien": self.cellule({"projet_id": projet, "volet": "maintien"}, "adhesion", "n"),
            "volet_acces": self.cellule({"projet_id": projet, "volet": "acces"}, "adhesion", "n"),
        }
        for colonne, expr in list(exprs.items()):
            v = _nombre(vraie.get(colonne))
            if v is not None and abs(self.s.valeur(expr) - v) > 1e-6:
                exprs[colonne] = {self.s.variable(f"{colonne}@{projet}", v, groupe=projet): 1.0}
        for colonne in ("menages_termines", "menages_en_cours", "menages_temoins"):
            exprs[colonne] = {self.s.variable(f"{colonne}@{projet}", _nombre(vraie.get(colonne)) or 0.0,
                                              groupe=projet): 1.0}
        with self.s.origine("structure"):
            self.s.egal(_plus(exprs["menages_termines"], exprs["menages_en_cours"], exprs["menages_accompagnes"],
                              facteurs=(1.0, 1.0, -1.0)), 0.0)
            self.s.contrainte(_plus(exprs["menages_accompagnes"], exprs["menages_orientes"],
                                    facteurs=(1.0, -1.0)), -INF, 0)
        self._effectifs[projet] = exprs
        return exprs

    def ajouter_couts(self) -> None:
        pub = self.d.get("pub_couts_projet")
        vraies = {r["projet_id"]: r for r in _lignes(self.d.get("fct_couts_projet", pd.DataFrame()))}
        if pub is None:
            return
        for ligne in _lignes(pub):
            projet = ligne["projet_id"]
            vraie = vraies.get(projet, {})
            exprs = self.expressions_couts(projet, vraie)
            position = f"projet {projet}"
            evitees = exprs["expulsions_evitees"]
            if self.seuils.petit(self.s.valeur(evitees)):
                self.sensible(evitees, "effectif", "pub_couts_projet", position, "expulsions_evitees", projet)
            self.publier(evitees, ligne.get("expulsions_evitees"))
            budget, annees = _nombre(ligne.get("budget_annuel")), _nombre(ligne.get("annees"))
            cout = _nombre(ligne.get("cout_par_expulsion_evitee"))
            if budget and annees and cout:
                self.s.contrainte(evitees, budget * annees / (cout + 0.005), budget * annees / (cout - 0.005))
            par_an = exprs["menages_accompagnes_par_an"]
            if self.seuils.petit(self.s.valeur(par_an)):
                self.sensible(par_an, "effectif", "pub_couts_projet", position, "menages_accompagnes_par_an",
                              projet, entier=False)
            self.publier(par_an, ligne.get("menages_accompagnes_par_an"), 1e-4)
            cout = _nombre(ligne.get("cout_par_menage_an"))
            if budget and cout:
                self.s.contrainte(par_an, budget / (cout + 0.005), budget / (cout - 0.005))

    def expressions_couts(self, projet: str, vraie: dict) -> dict[str, dict[int, float]]:
        if projet in self._couts:
            return self._couts[projet]
        evitees = self.cellule({"projet_id": projet}, "expulsion_evitee", "k")
        v = _nombre(vraie.get("expulsions_evitees"))
        if v is not None and abs(self.s.valeur(evitees) - v) > 1e-6:
            evitees = {self.s.variable(f"expulsions_evitees@{projet}", v, groupe=projet): 1.0}
        par_an = {self.s.variable(f"par_an@{projet}", _nombre(vraie.get("menages_accompagnes_par_an")) or 0.0,
                                  groupe=projet): 1.0}
        accompagnes = self.expressions_effectifs(projet, {})["menages_accompagnes"]
        annees = _nombre(vraie.get("annees"))
        with self.s.origine("structure"):
            self.s.contrainte(_plus(par_an, accompagnes, facteurs=(1.0, -1.0)), -INF, 0)
            if annees:
                self.s.contrainte(_plus(par_an, accompagnes, facteurs=(annees, -1.0)), 0, INF)
        self._couts[projet] = {"expulsions_evitees": evitees, "menages_accompagnes_par_an": par_an}
        return self._couts[projet]

    def ajouter_reconciliation(self) -> None:
        pub = self.d.get("pub_reconciliation")
        if pub is None:
            return
        for ligne in _lignes(pub):
            projet, ind, type_valeur = ligne["projet_id"], ligne["indicateur"], ligne["type_valeur"]
            filtre = {"projet_id": projet}
            publiee = _nombre(ligne.get("valeur_publiee"))
            recalculee = _nombre(ligne.get("valeur_recalculee"))
            ecart = _nombre(ligne.get("ecart"))
            if recalculee is None and ecart is not None and publiee is not None:
                recalculee = publiee + ecart
            statut, comparaison = ligne.get("statut"), ligne.get("comparaison")
            if ind in self.idx and type_valeur == "proportion":
                n, k = self.cellule(filtre, ind, "n"), self.cellule(filtre, ind, "k")
                self.publier(n, ligne.get("n"))
                self.publier(k, ligne.get("k"))
                if recalculee is not None:
                    self.rapport(k, n, recalculee)
                n_pub = _nombre(ligne.get("n"))
                if n_pub and publiee is not None and statut in ("confirme", "non_confirme"):
                    ks = np.arange(int(n_pub) + 1)
                    bas, haut = wilson(ks, n_pub)
                    ok = (haut >= publiee) if comparaison == "au_moins" else (bas <= publiee) & (publiee <= haut)
                    ok = ok if statut == "confirme" else ~ok
                    if ok.any() and (statut == "confirme" or comparaison == "au_moins"):
                        self.s.contrainte(k, int(ks[ok].min()), int(ks[ok].max()))
                continue
            if ind in self.idx:
                cible = self.cellule(filtre, ind, "k")
                self.publier(self.cellule(filtre, ind, "n"), ligne.get("n"))
                self.publier(cible, ligne.get("k"))
            elif ind in EFFECTIFS:
                cible = self.expressions_effectifs(projet, {})[ind]
            elif ind == "menages_accompagnes_par_an":
                cible = self.expressions_couts(projet, {})["menages_accompagnes_par_an"]
            else:
                continue
            self.publier(cible, recalculee, 1e-4)
            if publiee is None or statut not in ("confirme", "non_confirme"):
                continue
            confirme = statut == "confirme"
            if not confirme:
                if comparaison == "au_moins":
                    self.s.contrainte(cible, -INF, publiee - 1e-6)
                continue
            # A figure the project published itself, that the data confirm, is known to all; unless
            # it is itself a small count: then the confirmation is what tells it.
            with self.s.origine("publie" if self.seuils.petit(publiee) else "projet"):
                if comparaison == "au_moins":
                    self.s.contrainte(cible, publiee, INF)
                elif comparaison == "environ":
                    self.s.contrainte(cible, publiee - 0.1 * publiee, publiee + 0.1 * publiee)
                else:
                    self.publier(cible, publiee)

    def ajouter_comparaisons(self) -> None:
        pub = self.d.get("pub_comparaisons")
        vraies = {(r["projet_id"], r["resultat"], r.get("horizon_mois"), r["methode"]): r
                  for r in _lignes(self.d.get("fct_comparaisons", pd.DataFrame()))}
        if pub is None:
            return
        groupes: dict[tuple, list[dict]] = defaultdict(list)
        for ligne in _lignes(pub):
            groupes[(ligne["projet_id"], ligne["resultat"], ligne.get("horizon_mois"))].append(ligne)
        for (projet, resultat, horizon), membres in groupes.items():
            vraies_groupe = [vraies.get((projet, resultat, horizon, m["methode"]), {}) for m in membres]
            colonnes = ("n_traites", "k_traites", "n_temoins", "k_temoins")
            uniques = all(len({_nombre(v.get(c)) for v in vraies_groupe}) <= 1 for c in colonnes)
            paquets = [membres] if uniques else [[m] for m in membres]
            for paquet in paquets:
                vraie = vraies.get((projet, resultat, horizon, paquet[0]["methode"]), {})
                position = f"projet {projet}, résultat {resultat}" + ("" if uniques else f", méthode {paquet[0]['methode']}")
                exprs = {}
                for c in colonnes:
                    v = _nombre(vraie.get(c))
                    exprs[c] = {} if v is None else {self.s.variable(f"{c}@{position}", v, groupe=projet): 1.0}
                effectifs = self.expressions_effectifs(projet, {}) if projet in self._effectifs else None
                for cohorte in COHORTES:
                    n, k = exprs[f"n_{cohorte}"], exprs[f"k_{cohorte}"]
                    if n and k:
                        with self.s.origine("structure"):
                            self.s.contrainte(_plus(k, n, facteurs=(1.0, -1.0)), -INF, 0)
                        self.proportion_sensible(n, k, "pub_comparaisons", position, projet, f"_{cohorte}")
                    elif n and self.seuils.petit(self.s.valeur(n)):
                        self.sensible(n, "effectif", "pub_comparaisons", position, f"n_{cohorte}", projet)
                    if effectifs and n:
                        total = effectifs["menages_orientes" if cohorte == "traites" else "menages_temoins"]
                        with self.s.origine("structure"):
                            self.s.contrainte(_plus(n, total, facteurs=(1.0, -1.0)), -INF, 0)
                for ligne in paquet:
                    for c in colonnes:
                        self.publier(exprs[c], ligne.get(c))
                    for cohorte in COHORTES:
                        p = _nombre(ligne.get(f"p_{cohorte}"))
                        if p is not None and exprs[f"n_{cohorte}"] and exprs[f"k_{cohorte}"]:
                            self.rapport(exprs[f"k_{cohorte}"], exprs[f"n_{cohorte}"], p, 1e-7)
                    ess = _nombre(ligne.get("ess"))
                    if ess is not None and exprs["n_temoins"]:
                        self.s.contrainte(exprs["n_temoins"], ess - 1e-6, INF)
                        self._coincidence(ligne, "ess", ess, exprs, position)
                    texte = " ".join(str(v) for c, v in ligne.items() if isinstance(v, str) and c != "cellules_secretes")
                    self._nombres_du_texte(texte, exprs, "pub_comparaisons", position, projet)
                self._comparaisons[(projet, resultat, horizon)] = exprs

    def _coincidence(self, ligne, colonne, valeur, exprs, position) -> None:
        """A published figure equal to a hidden small count of the same row is read as that count."""
        if abs(valeur - round(valeur)) > 1e-9:
            return
        for c, expr in exprs.items():
            if not expr or not _manquant(ligne.get(c)):
                continue
            v = self.s.valeur(expr)
            if self.seuils.petit(v) and round(valeur) == v:
                self.divulgations_directes.append(Divulgation(
                    "texte", "pub_comparaisons", position, c, detail=f"égal à la colonne {colonne} publiée"))

    def _nombres_du_texte(self, texte: str, exprs: dict, table: str, position: str, projet) -> None:
        if not texte:
            return
        nombres = {int(x) for x in re.findall(r"(?<![\d,.])\d+(?![\d,.]\d)", texte)}
        for c, expr in list(exprs.items()) + [
                (f"n_{h} − k_{h}", _plus(exprs.get(f"n_{h}", {}), exprs.get(f"k_{h}", {}), facteurs=(1.0, -1.0)))
                for h in COHORTES if exprs.get(f"n_{h}") and exprs.get(f"k_{h}")]:
            if not expr:
                continue
            v = self.s.valeur(expr)
            if self.seuils.petit(v) and int(v) in nombres and _cle_expr(expr) not in self.publiees:
                self.divulgations_directes.append(Divulgation("texte", table, position, c,
                                                              detail="nombre cité dans le texte de la ligne"))

    divulgations_directes: list[Divulgation]

    def ajouter_equilibre(self) -> None:
        """Balance: each level of a categorical covariate is a count of treated and of control
        households; the attacker is assumed to know the cohort sizes (published with the
        comparisons); the levels of a covariate add up to them; an SMD with hidden means is
        inverted over every integer pair."""
        pub = self.d.get("pub_equilibre")
        cohorte = self.d.get("fct_cohorte_comparaison")
        if pub is None or pub.empty or cohorte is None or cohorte.empty:
            return
        vraies = {(r["projet_id"], r["covariable"], _texte(r.get("niveau"))): r
                  for r in _lignes(self.d.get("fct_equilibre", pd.DataFrame()))}
        tailles = cohorte.groupby(["projet_id", "traite"]).size().to_dict()
        tailles_vars: dict[tuple, dict[int, float]] = {}
        niveaux: dict[tuple, list[tuple[str, dict, dict]]] = defaultdict(list)
        for ligne in _lignes(pub):
            projet, cov, niveau = ligne["projet_id"], ligne["covariable"], _texte(ligne.get("niveau"))
            vraie = vraies.get((projet, cov, niveau), {})
            n_t, n_c = tailles.get((projet, 1), 0), tailles.get((projet, 0), 0)
            m_t, m_c = _nombre(vraie.get("moyenne_traites")), _nombre(vraie.get("moyenne_temoins"))
            if m_t is None or m_c is None or not n_t or not n_c:
                continue
            k_t, k_c = m_t * n_t, m_c * n_c
            binaire = bool(niveau) or (abs(k_t - round(k_t)) < 1e-6 and abs(k_c - round(k_c)) < 1e-6
                                       and 0 <= m_t <= 1 and 0 <= m_c <= 1 and cov.endswith("_index"))
            position = f"projet {projet}, {cov}" + (f" {niveau}" if niveau else "")
            for h, n in (("traites", n_t), ("temoins", n_c)):
                total = self._taille_cohorte(tailles_vars, projet, h, n)
                if self.seuils.petit(n):
                    self.sensible(total, "effectif", "pub_equilibre", position, f"n_{h}", projet)
                self.publier(total, ligne.get(f"n_{h}"))
            if not binaire:
                for n, m in ((n_t, "moyenne_traites"), (n_c, "moyenne_temoins")):
                    if n < self.seuils.denominateur and not _manquant(ligne.get(m)):
                        self.divulgations_directes.append(Divulgation("equilibre", "pub_equilibre", position, m,
                                                                      "moyenne"))
                continue
            exprs = {}
            for h, n, kv in (("traites", n_t, k_t), ("temoins", n_c, k_c)):
                expr = {self.s.variable(f"k_{h}@{position}", round(kv), groupe=projet): 1.0}
                exprs[h] = expr
                total = self._taille_cohorte(tailles_vars, projet, h, n)
                with self.s.origine("structure"):
                    self.s.contrainte(_plus(expr, total, facteurs=(1.0, -1.0)), -INF, 0)
                self.proportion_sensible(total, expr, "pub_equilibre", position, projet, f"_{h}")
                moyenne = _nombre(ligne.get(f"moyenne_{h}"))
                if moyenne is not None:
                    self.publier(expr, moyenne * n, 1e-4)
                for c in (f"k_{h}",):
                    self.publier(expr, ligne.get(c))
            if niveau:
                niveaux[(projet, cov)].append((niveau, exprs["traites"], exprs["temoins"]))
            smd = _nombre(ligne.get("smd_avant"))
            if smd is not None:
                paires = _inverser_smd(smd, n_t, n_c, _nombre(ligne.get("moyenne_traites")),
                                       _nombre(ligne.get("moyenne_temoins")))
                if paires:
                    self.s.contrainte(exprs["traites"], min(p[0] for p in paires), max(p[0] for p in paires))
                    self.s.contrainte(exprs["temoins"], min(p[1] for p in paires), max(p[1] for p in paires))
        for (projet, _covariable), membres in niveaux.items():
            for h, position in (("traites", 1), ("temoins", 2)):
                total = tailles_vars[(projet, h)]
                with self.s.origine("structure"):
                    self.s.egal(_plus(*[m[position] for m in membres], total,
                                      facteurs=(*([1.0] * len(membres)), -1.0)), 0.0, 1e-6)

    def _taille_cohorte(self, tailles_vars: dict, projet: str, cohorte: str, n: float) -> dict[int, float]:
        """The households of a cohort, one cell per project: known to the attacker only where a
        table publishes it; each comparison's households with a known outcome are among them."""
        if (projet, cohorte) not in tailles_vars:
            total = {self.s.variable(f"n_{cohorte}@{projet}", float(n), groupe=projet): 1.0}
            tailles_vars[(projet, cohorte)] = total
            with self.s.origine("structure"):
                for (p, _resultat, _horizon), exprs in self._comparaisons.items():
                    if p == projet and exprs.get(f"n_{cohorte}"):
                        self.s.contrainte(_plus(exprs[f"n_{cohorte}"], total, facteurs=(1.0, -1.0)), -INF, 0)
        return tailles_vars[(projet, cohorte)]

    # ------------------------------------------------------------------ previous publication

    def ajouter_precedente(self, precedente: dict) -> None:
        tables = {t: pd.DataFrame(lignes) for t, lignes in precedente.get("tables", {}).items()}
        avant = {r["projet_id"]: r for r in precedente.get("tables", {}).get("pub_effectifs_projet", [])}
        maintenant = {r["projet_id"]: r for r in _lignes(self.d.get("pub_effectifs_projet", pd.DataFrame()))}
        vraies = {r["projet_id"]: r for r in _lignes(self.d.get("fct_effectifs_projet", pd.DataFrame()))}
        identiques, croissances = set(), {}
        for projet, ligne in avant.items():
            date_avant = _texte(ligne.get("date_extraction"))[:10]
            date_vraie = _texte(vraies.get(projet, {}).get("date_extraction"))[:10]
            if date_avant and date_avant == date_vraie:
                identiques.add(projet)
            a, b = _nombre(ligne.get("menages_orientes")), _nombre(maintenant.get(projet, {}).get("menages_orientes"))
            croissances[projet] = None if a is None or b is None else max(0.0, b - a)
        tous = list(croissances.values())
        croissances["*"] = None if not tous or None in tous else sum(tous)
        for mode, garder in (("identique", lambda p: p in identiques), ("croissant", lambda p: p not in identiques)):
            choisies = {}
            for table, df in tables.items():
                if table not in TABLES_INDICATEURS or df.empty:
                    continue
                if "projet_id" in df:
                    df = df[df["projet_id"].map(garder)]
                elif mode == "identique" and len(identiques) < len(avant):
                    continue
                elif mode == "croissant" and len(identiques) == len(avant):
                    continue
                choisies[table] = df
            self.ajouter_indicateurs(choisies, mode, croissances)
        for projet, ligne in avant.items():
            if projet not in self._effectifs and projet not in set(self._tableaux["projet_id"]):
                continue
            exprs = self.expressions_effectifs(projet, vraies.get(projet, {}))
            for colonne, expr in exprs.items():
                if colonne in ("menages_en_cours",):
                    continue
                self._precedente(expr, ligne.get(colonne), projet,
                                 "identique" if projet in identiques else "croissant", croissances)


def _lignes(table: pd.DataFrame | None) -> list[dict]:
    if table is None or table.empty:
        return []
    return [{k: (None if _manquant(v) else v) for k, v in r.items()} for r in table.astype(object).to_dict("records")]


def _inverser_wilson(p: float, bas: float, haut: float) -> list[tuple[int, int]]:
    """Every (k, n) with k / n = p whose Wilson interval is the published one."""
    n = np.arange(1, N_MAX + 1, dtype=float)
    k = np.rint(p * n)
    ok = np.abs(k - p * n) < 1e-6
    b, h = wilson(k, n)
    ok &= (np.abs(b - bas) < 1e-6) & (np.abs(h - haut) < 1e-6)
    return [(int(kk), int(nn)) for kk, nn in zip(k[ok], n[ok])]


def _inverser_z(m: float, z: float) -> list[tuple[int, int]]:
    n = np.arange(1, N_MAX + 1, dtype=float)
    k = n * (m + z * np.sqrt(m * (1 - m) / n))
    ok = (np.abs(k - np.rint(k)) < 1e-6) & (k > -0.5) & (k < n + 0.5)
    return [(int(round(kk)), int(nn)) for kk, nn in zip(k[ok], n[ok])]


def _inverser_limite(m: float, phi: float, z: float, haut: float) -> list[int]:
    if haut >= 1.0 - 1e-12:
        return []
    n = np.arange(1, N_MAX + 1, dtype=float)
    limite = m + z * np.sqrt(phi * m * (1 - m) / n)
    return [int(x) for x in n[np.abs(limite - haut) < 1e-9]]


def _inverser_smd(smd: float, n_t: int, n_c: int, m_t: float | None, m_c: float | None) -> list[tuple[int, int]]:
    """Every pair of counts (treated, control) at a level that gives the published SMD."""
    if n_t * n_c > 4_000_000:
        return []
    k_t = np.arange(n_t + 1, dtype=float)[:, None]
    k_c = np.arange(n_c + 1, dtype=float)[None, :]
    p_t, p_c = k_t / n_t, k_c / n_c
    with np.errstate(invalid="ignore", divide="ignore"):
        valeur = (p_t - p_c) / np.sqrt((p_t * (1 - p_t) + p_c * (1 - p_c)) / 2)
    ok = np.isclose(valeur, smd, rtol=1e-7, atol=1e-9)
    if m_t is not None:
        ok &= np.isclose(p_t, m_t, atol=1e-9)
    if m_c is not None:
        ok &= np.isclose(p_c, m_c, atol=1e-9)
    i, j = np.nonzero(ok)
    return list(zip(i.tolist(), j.tolist()))


# =========================================================================== curves


def _courbes(donnees: dict, seuils: Seuils) -> list[Divulgation]:
    """Survival curves and trajectories: what two consecutive published points give away.

    Between two points of a Kaplan-Meier curve with survival ratio r = S(b) / S(a) < 1 and
    n(a) ≥ n(b) at risk, the events number between n(b) (1 − r) and −n(a) ln r; a first point
    below 1 gives the events of the index month, n(0) (1 − S(0)). The difference of two
    published n (at risk, or in a trajectory's panel) is the households that left between
    them. Each of these counts is checked with the protection rule.
    """
    sortie: list[Divulgation] = []
    vraies_survie: dict[tuple, list[dict]] = defaultdict(list)
    for r in _lignes(donnees.get("fct_survie")):
        vraies_survie[(r["projet_id"], r["evenement"], r["cohorte"])].append(r)
    publiees: dict[tuple, list[dict]] = defaultdict(list)
    for r in _lignes(donnees.get("pub_survie")):
        publiees[(r["projet_id"], r["evenement"], r["cohorte"])].append(r)
    for courbe, points in publiees.items():
        position = f"projet {courbe[0]}, {courbe[1]}, cohorte {courbe[2]}"
        vraies = sorted(vraies_survie.get(courbe, []), key=lambda r: r["temps"])
        evenements = {}
        precedente = 1.0
        for r in vraies:
            s = _nombre(r["survie"]) or 0.0
            evenements[r["temps"]] = round(r["n_risque"] * (1 - s / precedente)) if precedente > 0 else 0
            precedente = s
        points = sorted(points, key=lambda r: r["temps"])
        pas = _pas_arrondi([p.get("n_risque") for p in points])
        precedent = {"temps": -INF, "survie": 1.0, "n_risque": None}
        for point in points:
            s_a, s_b = _nombre(precedent.get("survie")), _nombre(point.get("survie"))
            n_a, n_b = _nombre(precedent.get("n_risque")), _nombre(point.get("n_risque"))
            vraie = sum(d for t, d in evenements.items() if precedent["temps"] < t <= point["temps"])
            if s_a and s_b is not None and s_b < s_a - 1e-12:
                r = s_b / s_a
                bas = 0.0 if n_b is None else max(0.0, (n_b - pas) * (1 - r))
                haut = INF if n_a is None and precedent["temps"] > -INF else (
                    -(n_b + pas if n_a is None else n_a + pas) * math.log(r) if (n_a or n_b) else INF)
                bas, haut = entiers(bas, haut)
                if seuils.petit(vraie) and not protegee(vraie, bas, haut, seuils):
                    moment = ("au premier point publié" if precedent["temps"] == -INF
                              else f"entre les temps {_entier(precedent['temps'])} et {_entier(point['temps'])}")
                    sortie.append(Divulgation("evenements", "pub_survie", position, f"événements {moment}"))
            if n_a is not None and n_b is not None:
                vraie_depart = _vrai_n(vraies, precedent["temps"]) - _vrai_n(vraies, point["temps"])
                if seuils.petit(vraie_depart) and not protegee(
                        vraie_depart, n_a - n_b - 2 * pas, n_a - n_b + 2 * pas, seuils):
                    sortie.append(Divulgation(
                        "departs", "pub_survie", position,
                        f"ménages sortis entre les temps {_entier(precedent['temps'])} et {_entier(point['temps'])}"))
            precedent = point
    vraies_traj = {(r["projet_id"], r["cohorte"], r["mois_relatif"]): r for r in _lignes(donnees.get("fct_trajectoires"))}
    series: dict[tuple, list[dict]] = defaultdict(list)
    for r in _lignes(donnees.get("pub_trajectoires")):
        series[(r["projet_id"], r["cohorte"])].append(r)
    for (projet, cohorte), points in series.items():
        points = sorted(points, key=lambda r: r["mois_relatif"])
        pas = _pas_arrondi([p.get("n") for p in points])
        position = f"projet {projet}, cohorte {cohorte}"
        for a, b in zip(points, points[1:]):
            n_a, n_b = _nombre(a.get("n")), _nombre(b.get("n"))
            va = vraies_traj.get((projet, cohorte, a["mois_relatif"]), {}).get("n")
            vb = vraies_traj.get((projet, cohorte, b["mois_relatif"]), {}).get("n")
            if n_a is None or n_b is None or va is None or vb is None:
                continue
            vraie = abs(float(va) - float(vb))
            d = abs(n_a - n_b)
            if seuils.petit(vraie) and not protegee(vraie, max(0.0, d - 2 * pas), d + 2 * pas, seuils):
                sortie.append(Divulgation(
                    "departs", "pub_trajectoires", position,
                    f"ménages entrés ou sortis entre les mois {a['mois_relatif']} et {b['mois_relatif']}"))
        for point in points:
            n, moyenne = _nombre(point.get("n")), _nombre(point.get("moyenne"))
            vraie = _nombre(vraies_traj.get((projet, cohorte, point["mois_relatif"]), {}).get("n"))
            if n is not None and pas == 0 and seuils.petit(n):
                sortie.append(Divulgation("publiee", "pub_trajectoires", position + f", mois {point['mois_relatif']}", "n"))
            if moyenne is not None and vraie is not None and vraie < seuils.denominateur:
                sortie.append(Divulgation("moyenne", "pub_trajectoires", position + f", mois {point['mois_relatif']}",
                                          "moyenne", "moyenne"))
    return sortie


def _pas_arrondi(valeurs) -> float:
    """Half the rounding step of a published series (0 when it is exact)."""
    nombres = [v for v in (_nombre(x) for x in valeurs) if v is not None and v > 0]
    for pas in (10, 5):
        if len(nombres) >= 2 and all(v % pas == 0 for v in nombres):
            return pas / 2
    return 0.0


def _vrai_n(vraies: list[dict], temps) -> float:
    if temps == -INF:
        return float(vraies[0]["n_risque"]) if vraies else 0.0
    avant = [r for r in vraies if r["temps"] <= temps]
    return float(avant[-1]["n_risque"]) if avant else (float(vraies[0]["n_risque"]) if vraies else 0.0)


def _entier(valeur) -> str:
    valeur = float(valeur)
    return str(int(valeur)) if valeur.is_integer() else str(valeur)


# =========================================================================== the audit


TABLES_LUES = ("int_indicateurs_contributions", "resultats_publies")


def lire_entrepot(entrepot: Path) -> dict[str, pd.DataFrame]:
    import duckdb

    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'").fetchall()]
        return {t: con.execute(f'select * from "{t}"').df() for t in tables
                if t.startswith(("pub_", "fct_")) and t != "fct_panel_mensuel" or t in TABLES_LUES}
    finally:
        con.close()


def chemin_precedente(entrepot: Path) -> Path:
    """Where the cells of the last successful publication are kept (beside the warehouse)."""
    return Path(entrepot).with_name(FICHIER_PRECEDENTE)


def lire_precedente(chemin: Path | None) -> dict | None:
    if chemin is None or not Path(chemin).exists():
        return None
    try:
        return json.loads(Path(chemin).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _json(valeur):
    if _manquant(valeur):
        return None
    if isinstance(valeur, (np.integer,)):
        return int(valeur)
    if isinstance(valeur, (np.floating, decimal.Decimal)):
        return float(valeur)
    if isinstance(valeur, (dt.date, dt.datetime, pd.Timestamp)):
        return valeur.isoformat()[:10]
    if isinstance(valeur, (np.bool_,)):
        return bool(valeur)
    return valeur


def instantane(entrepot: Path) -> dict:
    """The published cells of a warehouse (its pub_ tables), as the attacker will know them."""
    donnees = lire_entrepot(entrepot)
    return {"version": 1, "tables": {
        t: [{k: _json(v) for k, v in ligne.items()} for ligne in _lignes(df)]
        for t, df in sorted(donnees.items()) if t.startswith("pub_")}}


def enregistrer_publication(entrepot: Path, chemin: Path | None = None) -> Path:
    """Keep the published cells of `entrepot` for the next audit (written atomically)."""
    import os

    chemin = Path(chemin or chemin_precedente(entrepot))
    provisoire = chemin.with_name(f".{chemin.name}.{os.getpid()}.tmp")
    provisoire.write_text(json.dumps(instantane(entrepot), ensure_ascii=False), encoding="utf-8")
    os.replace(provisoire, chemin)
    return chemin


def auditer(
    entrepot: Path | None,
    dossiers: list[Path] | tuple[Path, ...] = (),
    precedente: dict | Path | None = None,
    textes: dict[str, str] | None = None,
    seuil_effectif: int | None = None,
    seuil_denominateur: int | None = None,
    initie: bool = True,
) -> Audit:
    """Everything an attacker can recover from the publication (see the module docstring)."""
    debut = time.monotonic()
    seuils = seuils_audit(seuil_effectif, seuil_denominateur)
    audit = Audit(seuils)
    if entrepot is not None:
        entrepot = Path(entrepot)
        if not entrepot.exists():
            audit.constats_fichiers.append(f"entrepôt introuvable : {entrepot}")
        else:
            donnees = lire_entrepot(entrepot)
            if isinstance(precedente, (str, Path)):
                precedente = lire_precedente(Path(precedente))
            audit.divulgations += auditer_donnees(donnees, seuils, precedente, initie, audit)
    for dossier in dossiers:
        audit.constats_fichiers += controler_dossier(Path(dossier), seuils)
    for nom, texte in (textes or {}).items():
        audit.constats_fichiers += controler_texte_brut(nom, texte, seuils)
    audit.duree = time.monotonic() - debut
    return audit


def auditer_donnees(donnees: dict[str, pd.DataFrame], seuils: Seuils, precedente: dict | None = None,
                    initie: bool = True, audit: Audit | None = None) -> list[Divulgation]:
    modele = Modele(donnees, seuils)
    modele.divulgations_directes = []
    modele.ajouter_indicateurs()
    modele.ajouter_absences()
    modele.ajouter_effectifs()
    modele.ajouter_couts()
    modele.ajouter_reconciliation()
    modele.ajouter_comparaisons()
    modele.ajouter_equilibre()
    sortie = list(modele.divulgations_directes) + _cellules_declarees(donnees)
    compteur = [0]
    nb_lignes = len(modele.s.lignes)
    if precedente:
        with modele.s.origine("precedente"):
            modele.ajouter_precedente(precedente)
    modele.s.preparer()
    # this publication alone, then with the previous one (when it added anything)
    avec_precedente = len(modele.s.lignes) > nb_lignes
    seule = modele.s.restreint({"publie", "structure", "projet"}) if avec_precedente else modele.s
    sortie += _verifier(modele, "deduite", compteur, systeme=seule)
    if avec_precedente:
        deja = {(d.table, d.position, d.mesure) for d in sortie}
        sortie += [d for d in _verifier(modele, "precedente", compteur)
                   if (d.table, d.position, d.mesure) not in deja]
    if initie:
        sortie += _initie(modele, compteur, {(d.table, d.position, d.mesure) for d in sortie})
    sortie += _courbes(donnees, seuils)
    if audit is not None:
        audit.cases_sensibles = len(modele.sensibles)
        audit.programmes_lineaires = compteur[0]
    return sortie


def _verifier(modele: Modele, classe: str, compteur, fixes: dict[int, float] | None = None,
              sensibles: list[Sensible] | None = None, vue: str = "", systeme: Systeme | None = None,
              ) -> list[Divulgation]:
    """The sensitive cells whose reachable interval breaks the protection rule, unless the
    attacker knew as much before this publication (from the relations that hold whatever is
    published and the figures the projects published themselves): telling what a project
    said of itself discloses nothing."""
    sensibles = modele.sensibles if sensibles is None else sensibles
    rompues = _rompues(systeme or modele.s, modele.seuils, sensibles, fixes, compteur)
    if rompues:
        anterieur = modele.anterieur()
        deja = set(_rompues(anterieur, modele.seuils, [sensibles[j] for j in rompues], fixes, compteur))
        rompues = [j for i, j in enumerate(rompues) if i not in deja]
    sortie = []
    for j in rompues:
        s = sensibles[j]
        direct = s.couple is None and classe == "deduite" and _cle_expr(s.expr) in modele.publiees
        for table, position, mesure in [(s.table, s.position, s.mesure), *s.alias]:
            sortie.append(Divulgation("publiee" if direct else classe, table, position, mesure, s.regle, vue))
    return sortie


def _rompues(systeme: Systeme, seuils: Seuils, sensibles: list[Sensible], fixes: dict[int, float] | None,
             compteur) -> list[int]:
    """The indices of the sensitive cells whose interval reachable in `systeme` breaks the rule."""
    expressions, bas_voulu, haut_voulu, qui = [], [], [], []
    for j, s in enumerate(sensibles):
        if s.couple is None:
            expressions.append(s.expr)
            # witnesses that clear the rule whatever the other bound: 0 below, the small range above
            bas_voulu.append(0.0)
            haut_voulu.append(max(s.vraie + PROTECTION, seuils.effectif + 1.0))
            qui.append(j)
            if s.plafond:
                expressions.append(s.plafond)
                bas_voulu.append(INF)  # only its maximum matters, and only below v + 2
                haut_voulu.append(s.vraie + PROTECTION)
                qui.append(j)
        else:
            for expr in s.couple:
                v = systeme.valeur(expr)
                expressions.append(expr)
                bas_voulu.append(v - 0.5)
                haut_voulu.append(v + 0.5)
                qui.append(j)
    bornes = systeme.atteignables(expressions, bas_voulu, haut_voulu, fixes, compteur)
    par_sensible: dict[int, list] = defaultdict(list)
    for j, expr, borne in zip(qui, expressions, bornes):
        par_sensible[j].append((systeme.valeur(expr), borne))
    sortie = []
    for j, valeurs in par_sensible.items():
        s = sensibles[j]
        if s.couple is None:
            bas, haut = valeurs[0][1]
            plafond = valeurs[1][1][1] if len(valeurs) > 1 else INF
            if s.entier:
                bas, haut = entiers(bas, haut)
                plafond = math.floor(plafond + 1e-6) if plafond < INF else INF
            if protegee(s.vraie, bas, haut, seuils, plafond):
                continue
        elif any(bas <= v - 0.5 + 1e-9 or haut >= v + 0.5 - 1e-9 for v, (bas, haut) in valeurs):
            continue
        sortie.append(j)
    return sortie


def _initie(modele: Modele, compteur, deja: set[tuple[str, str, str]] = frozenset()) -> list[Divulgation]:
    """Each landlord of a multi-landlord project knows its own households: its part of every
    cell of the cube is fixed, and the rest of each sensitive cell of the project is audited."""
    sortie = []
    atomes = modele.atomes
    for projet in sorted(set(atomes["projet_id"])):
        bailleurs = sorted(set(atomes.loc[atomes["projet_id"] == projet, "bailleur_id"]) - {""})
        if len(bailleurs) < 2:
            continue
        for bailleur in bailleurs:
            siens = modele.atomes_de({"projet_id": projet, "bailleur_id": bailleur})
            fixes = {int(i): modele.s.vraies[int(i)]
                     for mesures in modele.idx.values() for tableau in mesures.values() for i in tableau[siens]}
            reste = []
            for s in modele.sensibles:
                if (s.projet != projet or s.couple is not None or s.regle == "denominateur"
                        or (s.table, s.position, s.mesure) in deja):
                    continue  # (a cell every reader recovers is reported once, in the public view)
                autre = {i: c for i, c in s.expr.items() if i not in fixes}
                if not autre:
                    continue
                # the rest of the cell is one other landlord's households: the two-contributor case
                autres_bailleurs = {modele.atome_de_variable.get(i) for i in autre if modele.s.vraies[i]}
                v = modele.s.valeur(autre)
                if modele.seuils.petit(v) and len(autres_bailleurs) == 1 and None not in autres_bailleurs:
                    reste.append(Sensible(autre, v, s.regle, s.table, s.position,
                                          f"{s.mesure} hors ménages du bailleur", projet, s.entier))
            if reste:
                sortie += _verifier(modele, "initie", compteur, fixes, reste, bailleur)
    return sortie


def _cellules_declarees(donnees: dict) -> list[Divulgation]:
    """Every pub_ table names its secret cells, and those are null."""
    sortie = []
    for table, df in sorted(donnees.items()):
        if not table.startswith("pub_") or df.empty or "cellules_secretes" not in df:
            continue
        for ligne in _lignes(df):
            for colonne in filter(None, (ligne.get("cellules_secretes") or "").split(",")):
                if colonne in ligne and not _manquant(ligne[colonne]):
                    cle = _position(ligne, *[c for c in ligne if c.endswith("_id") or c in (
                        "indicateur", "volet", "departement", "resultat", "covariable", "niveau")])
                    sortie.append(Divulgation("publiee", table, cle, colonne, detail="déclarée secrète mais publiée"))
    return sortie


# =========================================================================== the gate


class SecretNonRespecte(ErreurUtilisateur):
    """The gate refused the publication (nothing was swapped in)."""


def texte_resume(entrepot: Path) -> str:
    """The summary `capitalisation run` prints, as text (it is published too)."""
    from capitalisation.resume import afficher_resume
    from capitalisation.terminal import sortie

    with sortie.capture() as capture:
        afficher_resume(Path(entrepot))
    return capture.get()


def verifier_publication(entrepot: Path, dossiers: list[Path] | tuple[Path, ...] = (),
                         precedente: Path | None = None, resume: bool = True) -> Audit:
    """The gate: raise SecretNonRespecte (an ErreurUtilisateur) naming every disclosed cell —
    never its value — when the attacker's audit of the warehouse, the folders given and the
    terminal summary finds one; the caller then swaps nothing in."""
    textes = {"résumé affiché par capitalisation run": texte_resume(entrepot)} if resume else None
    audit = auditer(entrepot, [d for d in dossiers if Path(d).exists()], precedente, textes)
    if not audit.reussi:
        messages = audit.messages()
        raise SecretNonRespecte(
            "secret statistique : la nouvelle publication laisserait retrouver des cases protégées ; "
            "rien n'est publié, l'entrepôt et le site précédents restent en place.\n  "
            + "\n  ".join(messages[:40])
            + (f"\n  … et {len(messages) - 40} autres." if len(messages) > 40 else ""))
    return audit


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
        if re.search(r"\bpages?\s*$", texte[max(0, trouve.start() - 8):trouve.start()], re.IGNORECASE):
            continue  # « Page 3 / 5 »: the page numbering of a document, not households
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


def texte_docx(chemin: Path) -> str:
    """The text of a Word document (its paragraphs and table cells)."""
    with zipfile.ZipFile(chemin) as archive:
        xml = archive.read("word/document.xml").decode("utf-8", errors="replace")
    xml = re.sub(r"</w:p>|</w:tc>|<w:br/>", "\n", xml)
    return html.unescape(re.sub(r"<[^>]+>", "", xml))


def texte_pdf(chemin: Path) -> str | None:
    """The text of a PDF, when a reader is available (pdftotext); None otherwise."""
    import shutil
    import subprocess

    outil = shutil.which("pdftotext")
    if outil is None:
        return None
    resultat = subprocess.run([outil, "-layout", str(chemin), "-"], capture_output=True, check=False)
    if resultat.returncode != 0:
        return None
    # one line at a time: a page number above a heading is not « 1 ménages »
    return " | ".join(resultat.stdout.decode("utf-8", errors="replace").splitlines())
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
            elif suffixe == ".docx":
                constats += controler_texte_brut(str(fichier), texte_docx(fichier), seuils)
            elif suffixe == ".pdf":
                texte = texte_pdf(fichier)
                if texte is not None:
                    constats += controler_texte_brut(str(fichier), texte, seuils)
        except (OSError, ValueError, KeyError, csv.Error, zipfile.BadZipFile) as erreur:
            # A file the scan cannot read is a finding, not a crash.
            constats.append(f"{fichier} : illisible par le contrôle du secret ({type(erreur).__name__}).")
    return constats




# =========================================================================== entry points


def controler(
    entrepot: Path | None,
    dossiers: list[Path] | tuple[Path, ...] = (),
    seuil_effectif: int | None = None,
    seuil_denominateur: int | None = None,
    precedente: dict | Path | None = None,
) -> list[str]:
    """French findings about every published output; an empty list when everything is safe."""
    audit = auditer(entrepot, dossiers, precedente, seuil_effectif=seuil_effectif,
                    seuil_denominateur=seuil_denominateur)
    return audit.messages()


def main(argv: list[str] | None = None) -> int:
    parseur = argparse.ArgumentParser(
        prog="python -m capitalisation.publication.controle_secret",
        description="Audit du secret statistique : ce qu'un attaquant peut retrouver de tout ce qui est publié.")
    parseur.add_argument("--warehouse", default=str(config.ENTREPOT), help="fichier DuckDB de l'entrepôt")
    parseur.add_argument("--site", action="append", default=[], help="dossier publié à lire (site, exports)")
    parseur.add_argument("--precedente", default=None,
                         help="cases de la publication précédente (défaut : à côté de l'entrepôt)")
    parseur.add_argument("--sans-initie", action="store_true", help="n'audite pas la vue des bailleurs")
    args = parseur.parse_args(argv)
    entrepot = Path(args.warehouse)
    precedente = Path(args.precedente) if args.precedente else chemin_precedente(entrepot)
    audit = auditer(entrepot, [Path(d) for d in args.site], precedente, initie=not args.sans_initie)
    for message in audit.messages():
        print(message)
    print(f"{len(audit.messages())} divulgation(s) ; {audit.cases_sensibles} cases sensibles, "
          f"{audit.programmes_lineaires} programmes linéaires, {audit.duree:.1f} s.")
    for classe, nombre in audit.par_classe().items():
        print(f"  {classe} : {nombre}")
    return 0 if audit.reussi else 1


if __name__ == "__main__":
    sys.exit(main())
