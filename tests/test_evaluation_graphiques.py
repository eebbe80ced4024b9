"""Charts: built from the result tables, French labels, written where asked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from capitalisation.evaluation import graphiques, moteur


def _tables():
    rng = np.random.default_rng(8)
    n = 200
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    table = pd.DataFrame({
        "t": t, "x": x, "volet": rng.choice(["maintien", "acces"], n),
        "y": (rng.random(n) < 0.4 + 0.2 * t).astype(int),
        "duree": rng.integers(1, 13, n), "evt": (rng.random(n) < 0.3).astype(int),
    })
    estimations = moteur.comparer_resultat(table, "t", "y", ["x", "volet"])
    survie_lignes, survie = moteur.comparer_survie(table, "t", "duree", "evt", "expulsion")
    equilibre = moteur.tableau_equilibre(table, "t", ["x", "volet"])
    panel = pd.DataFrame([(f"m{i}", m, int(t[i]), 100 - 5 * m * t[i] + rng.normal(0, 10), m + 24)
                          for i in range(40) for m in range(-6, 13)],
                         columns=["menage_id", "mois_relatif", "traite", "solde_fin_mois", "mois"])
    did, trajectoires = moteur.comparer_trajectoires(panel)
    return pd.concat([estimations, survie_lignes, did]), equilibre, trajectoires, survie


def _texte(figure: Figure) -> str:
    morceaux = [t.get_text() for t in figure.findobj(lambda o: hasattr(o, "get_text"))]
    return " ".join(morceaux)


def test_graphiques_ecrits(tmp_path):
    estimations, equilibre, trajectoires, survie = _tables()
    cas = [
        (graphiques.graphique_forest, estimations, "Différence brute"),
        (graphiques.graphique_love, equilibre, "Avant pondération"),
        (graphiques.graphique_trajectoires, trajectoires, "Mois relatif à l'orientation"),
        (graphiques.graphique_survie, survie, "Ménages non expulsés"),
    ]
    for fonction, table, libelle in cas:
        chemin = tmp_path / f"{fonction.__name__}.png"
        figure = fonction(table, chemin)
        assert isinstance(figure, Figure)
        assert chemin.stat().st_size > 5000
        figure.canvas.draw()
        assert libelle in _texte(figure), (fonction.__name__, libelle)


def test_forest_echelle_rapport():
    estimations, *_ = _tables()
    figure = graphiques.graphique_forest(estimations)
    axes_log = [axe for axe in figure.axes if axe.get_xscale() == "log"]
    assert axes_log                                     # risk ratio and hazard ratio panels


def test_tables_vides(tmp_path):
    vide = pd.DataFrame(columns=moteur.COLONNES_ESTIMATIONS)
    assert isinstance(graphiques.graphique_forest(vide, tmp_path / "f.svg"), Figure)
    assert (tmp_path / "f.svg").exists()
    assert isinstance(graphiques.graphique_survie(pd.DataFrame(columns=moteur.COLONNES_SURVIE)), Figure)
    assert isinstance(graphiques.graphique_trajectoires(
        pd.DataFrame(columns=moteur.COLONNES_TRAJECTOIRES)), Figure)
    assert isinstance(graphiques.graphique_love(pd.DataFrame(columns=moteur.COLONNES_EQUILIBRE)), Figure)


def test_chevauchement_des_scores(tmp_path):
    rng = np.random.default_rng(3)
    t = (rng.random(80) < 0.5).astype(int)
    scores = np.clip(0.3 + 0.3 * t + rng.normal(0, 0.1, 80), 0.01, 0.99)
    figure = graphiques.graphique_chevauchement(scores, t, tmp_path / "c.png", rognage=0.1)
    axe = figure.axes[0]
    barres = [p.get_height() for p in axe.patches]
    # Mirrored histograms: each cohort's shares sum to 1 (above for the accompanied).
    assert sum(h for h in barres if h > 0) == pytest.approx(1.0)
    assert sum(h for h in barres if h < 0) == pytest.approx(-1.0)
    assert len(axe.lines) == 3 and (tmp_path / "c.png").stat().st_size > 1000   # 0 line, 2 bounds
    vide = graphiques.graphique_chevauchement(None, t)
    assert vide.axes[0].texts[0].get_text() == "Scores de propension non estimés"
