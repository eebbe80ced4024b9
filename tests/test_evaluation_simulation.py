"""Coverage study: true estimands and a very short run (the full study is a benchmark)."""

from __future__ import annotations

import numpy as np
import pytest

from capitalisation.evaluation import simulation


def test_valeurs_vraies_par_monte_carlo():
    vraies = simulation.valeurs_vraies()
    rng = np.random.default_rng(0)
    n = 400_000
    x1 = rng.standard_normal(n)
    x2 = (rng.random(n) < 0.5).astype(float)
    e = simulation._expit(simulation.A0 + simulation.A1 * x1 + simulation.A2 * x2)
    m0 = simulation._expit(simulation.B0 + simulation.B1 * x1 + simulation.B2 * x2)
    m1 = simulation._expit(simulation.B0 + simulation.BT + simulation.B1 * x1 + simulation.B2 * x2)
    t = rng.random(n) < e
    y = rng.random(n) < np.where(t, m1, m0)
    assert vraies["difference_brute"] == pytest.approx(y[t].mean() - y[~t].mean(), abs=4e-3)
    assert vraies["logit_effet_marginal"] == pytest.approx(np.mean(m1 - m0), abs=1e-3)
    assert vraies["ipw_att"] == pytest.approx(np.mean((m1 - m0)[t]), abs=1e-3)
    # Confounding: the raw difference is not the effect.
    assert vraies["difference_brute"] > vraies["ipw_att"] + 0.05


def test_etude_courte():
    resultats = simulation.etude_couverture(n_jeux=8, graine=3)
    assert resultats["methode"].tolist() == ["difference_brute", "logit_effet_marginal", "ipw_att"]
    assert (resultats["n_jeux"] == 8).all()
    assert resultats["couverture"].between(0, 1).all()
    assert (resultats["largeur_moyenne"] > 0).all()


def test_main_affiche_le_tableau(capsys):
    assert simulation.main(["--jeux", "3"]) == 0
    sortie = capsys.readouterr().out
    assert "Couverture des intervalles à 95 %" in sortie and "ipw_att" in sortie
    assert "E[m1(X) − m0(X) | T=1]" in sortie
