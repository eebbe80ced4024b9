"""Warnings of the comparison engine: every code it can emit has its fixed French text in
seeds/avertissements.csv (what the publication layer and the fiches show instead of the
engine's messages), and no message quotes a count of the data."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capitalisation.evaluation import moteur

RACINE = Path(__file__).resolve().parents[1]
MODULES = sorted((RACINE / "capitalisation" / "evaluation").glob("*.py"))


def _textes_publies() -> dict[str, dict]:
    with open(RACINE / "seeds" / "avertissements.csv", encoding="utf-8", newline="") as flux:
        return {ligne["code"]: ligne for ligne in csv.DictReader(flux)}


def _est_texte(noeud: ast.AST) -> bool:
    """A string literal, an f-string, a concatenation or a parenthesised sum of them."""
    if isinstance(noeud, ast.Constant):
        return isinstance(noeud.value, str)
    if isinstance(noeud, ast.JoinedStr):
        return True
    if isinstance(noeud, ast.BinOp) and isinstance(noeud.op, ast.Add):
        return _est_texte(noeud.left) or _est_texte(noeud.right)
    return False


def codes_emis() -> set[str]:
    """Every `(code, message)` pair written in the engine's source: a 2-tuple of a
    lower-case identifier literal and a sentence (text with a space in it)."""
    codes = set()
    for module in MODULES:
        for noeud in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if (isinstance(noeud, ast.Tuple) and len(noeud.elts) == 2
                    and isinstance(noeud.elts[0], ast.Constant)
                    and isinstance(noeud.elts[0].value, str)
                    and re.fullmatch(r"[a-z]+(_[a-z]+)*", noeud.elts[0].value)
                    and _est_texte(noeud.elts[1]) and " " in _texte_debut(noeud.elts[1])):
                codes.add(noeud.elts[0].value)
    return codes


def _texte_debut(noeud: ast.AST) -> str:
    """The literal text a message starts with (enough to tell a sentence from a name)."""
    if isinstance(noeud, ast.Constant):
        return str(noeud.value)
    if isinstance(noeud, ast.JoinedStr):
        return "".join(str(v.value) for v in noeud.values if isinstance(v, ast.Constant)) or " "
    if isinstance(noeud, ast.BinOp):
        return _texte_debut(noeud.left) + _texte_debut(noeud.right)
    return ""


def test_les_codes_du_moteur_ont_leur_texte_publie():
    textes = _textes_publies()
    codes = codes_emis()
    # The scan finds the engine's warnings (a few known ones), not the scenario names or
    # column labels that are also pairs of strings.
    assert {"secret_statistique", "separation", "intervalle_evenements_rares",
            "grappes_peu_nombreuses", "chevauchement_faible", "rognage"} <= codes
    assert not codes & {"difference_brute", "selection", "projet_id"}
    manquants = sorted(codes - set(textes))
    assert not manquants, f"codes sans texte dans seeds/avertissements.csv : {manquants}"
    for code, ligne in textes.items():
        assert ligne["remarque"].strip() and ligne["explication"].strip(), code
        # Fixed texts: no number of households, events or landlords.
        assert not re.search(r"\d", ligne["remarque"]), code
        assert not re.search(r"\d", ligne["explication"].replace("95 %", "")), code


def _jeux():
    rng = np.random.default_rng(31)
    n = 48
    t = np.r_[np.ones(22, int), np.zeros(26, int)]
    x = rng.normal(size=n) + 0.8 * t
    y = np.r_[np.ones(3), np.zeros(19), np.ones(8), np.zeros(18)]
    bailleur = np.resize(np.arange(7), n)
    montant = 800 + 150 * x + rng.normal(0, 200, n)
    separe = (x > np.median(x)).astype(int)
    yield pd.DataFrame({"t": t, "y": y, "x": x, "b": bailleur, "m": montant, "s": separe}), "b"
    yield pd.DataFrame({"t": t, "y": y, "x": x, "b": bailleur, "m": montant, "s": separe}), None


@pytest.mark.parametrize("rognage", [None, 0.1])
def test_les_avertissements_emis_sont_connus_et_ne_citent_aucun_effectif(rognage):
    textes = _textes_publies()
    vus = set()
    for table, grappe in _jeux():
        for resultat, covariables in (("y", ["x"]), ("m", ["x"]), ("y", ["x", "s"]),
                                      ("s", ["x"])):
            lignes = moteur.comparer_resultat(table, "t", resultat, covariables, grappe,
                                              tirages=49, rognage=rognage)
            for ligne in lignes.itertuples():
                codes = [c for c in ligne.codes_avertissement.split(",") if c]
                vus.update(codes)
                assert set(codes) <= set(textes), (ligne.methode, codes)
                # Counts of this data: 48 households, 22 and 26 per cohort, 3, 19, 8, 18
                # events and non-events, 7 landlords.
                nombres = set(re.findall(r"\d+", ligne.avertissements))
                assert not nombres & {"48", "22", "26", "3", "19", "8", "18", "7"}, \
                    ligne.avertissements
    assert {"grappes_peu_nombreuses", "intervalle_evenements_rares", "secret_statistique"} <= vus
