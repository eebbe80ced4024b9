"""Small-sample inference: separation by linear programming, wild cluster bootstrap,
randomisation inference, exact power, E-values, Holm."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from capitalisation.evaluation import inference


def _avec_constante(*colonnes):
    return np.column_stack([np.ones(len(colonnes[0]))] + [np.asarray(c, float) for c in colonnes])


def test_separation_complete_quasi_complete_et_absente():
    x = np.arange(10.0)
    y = (x > 4).astype(float)
    assert inference.separation_lineaire(y, _avec_constante(x))          # complete
    y_quasi = y.copy()
    y_quasi[5] = 0                                                       # tie at x = 5: still separable
    assert inference.separation_lineaire(y_quasi, _avec_constante(x))
    # Quasi-complete on a 0/1 covariate: every household at level 1 has the event.
    niveau = np.r_[np.zeros(10), np.ones(10)]
    evenement = np.r_[np.tile([0, 1], 5), np.ones(10)]
    assert inference.separation_lineaire(evenement, _avec_constante(niveau))
    melange = y.copy()
    melange[[2, 7]] = [1, 0]
    assert not inference.separation_lineaire(melange, _avec_constante(x))


def test_pas_de_separation_avec_un_polynome_non_centre():
    # Large uncentred powers (age^3 ~ 1e5) and a rare outcome give huge standardised
    # coefficients and tiny fitted probabilities, but no separation.
    rng = np.random.default_rng(4)
    age = rng.integers(18, 60, 2000).astype(float)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(-9 + 0.1 * age)))).astype(float)
    assert 0 < y.sum() < 2000
    assert not inference.separation_lineaire(y, _avec_constante(age, age**2, age**3))


def test_rejets_de_fisher_comme_scipy():
    rejet = inference._rejets_fisher(9, 7, 0.05)
    for k_t, k_c in itertools.product(range(10), range(8)):
        p = stats.fisher_exact([[k_t, 9 - k_t], [k_c, 7 - k_c]]).pvalue
        assert rejet[k_t, k_c] == (p <= 0.05)


def test_puissance_exacte_de_fisher_par_enumeration():
    n_t, n_c, p_t, p_c = 8, 7, 0.8, 0.2
    attendu = sum(stats.binom.pmf(a, n_t, p_t) * stats.binom.pmf(b, n_c, p_c)
                  for a in range(n_t + 1) for b in range(n_c + 1)
                  if stats.fisher_exact([[a, n_t - a], [b, n_c - b]]).pvalue <= 0.05)
    assert inference.puissance_fisher(n_t, n_c, p_t, p_c) == pytest.approx(attendu, rel=1e-9)


def test_difference_detectable_de_fisher_a_la_puissance_voulue():
    for puissance in (0.8, 0.9):
        d = inference.difference_detectable_fisher(25, 25, 0.3, puissance)
        assert inference.puissance_fisher(25, 25, 0.3 + d, 0.3) == pytest.approx(puissance, abs=1e-4)
        # The z-test's « 80 % » difference is smaller: Fisher's test has less power there.
        from capitalisation.evaluation import statistiques as st
        z = st.difference_minimale_detectable(25, 25, 0.3, puissance)
        assert z < d and inference.puissance_fisher(25, 25, 0.3 + z, 0.3) < puissance - 0.03


def test_taille_de_fisher_atteint_la_puissance():
    n = inference.taille_fisher(0.3, 0.15)
    assert inference.puissance_fisher(n, n, 0.45, 0.3) >= 0.8
    assert inference.puissance_fisher(n - 1, n - 1, 0.45, 0.3) < 0.8


def test_puissance_de_welch_par_simulation():
    rng = np.random.default_rng(2)
    n_t, n_c, s_t, s_c, d = 12, 20, 2.0, 1.0, 1.5
    p = np.mean([stats.ttest_ind(rng.normal(d, s_t, n_t), rng.normal(0, s_c, n_c),
                                 equal_var=False).pvalue <= 0.05 for _ in range(4000)])
    assert inference.puissance_welch(n_t, n_c, s_t, s_c, d) == pytest.approx(p, abs=0.025)
    mdd = inference.difference_detectable_welch(n_t, n_c, s_t, s_c, 0.8)
    assert inference.puissance_welch(n_t, n_c, s_t, s_c, mdd) == pytest.approx(0.8, abs=1e-6)


def test_e_valeurs_de_vanderweele_et_ding():
    # VanderWeele and Ding (2017, Ann Intern Med 167:268-274): RR 3.9 (1.8 to 8.7) gives
    # an E-value of 7.2 for the estimate and 3.0 for the lower limit.
    assert inference.e_valeur(3.9) == pytest.approx(7.26, abs=0.01)
    assert inference.e_valeur_intervalle(1.8, 8.7) == pytest.approx(3.0, abs=0.01)
    assert inference.e_valeur(1 / 3.9) == pytest.approx(inference.e_valeur(3.9))
    assert inference.e_valeur_intervalle(0.8, 1.3) == 1.0


def test_holm():
    p = np.array([0.01, 0.04, 0.03, np.nan])
    ajuste = inference.holm(p)
    assert ajuste[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(ajuste[3])


def test_permutation_proche_de_l_enumeration_exacte():
    y = np.array([3.1, 2.0, 5.5, 4.2, 6.0, 1.0, 2.2, 3.3, 0.5, 1.9])
    t = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], dtype=float)
    obs = y[t == 1].mean() - y[t == 0].mean()
    stats_ = []
    for traites in itertools.combinations(range(10), 5):
        m = np.zeros(10, bool)
        m[list(traites)] = True
        stats_.append(y[m].mean() - y[~m].mean())
    exact = np.mean(np.abs(stats_) >= abs(obs) - 1e-12)
    res = inference.permutation_difference(y, t, tirages=4999)
    assert res["p_valeur"] == pytest.approx(exact, abs=0.015)
    # The interval inverts the test: at its bounds the p-value is the level.
    for borne in (res["ic_bas"], res["ic_haut"]):
        decale = y - borne * t
        assert inference.permutation_difference(decale, t, tirages=4999)["p_valeur"] == \
            pytest.approx(0.05, abs=0.02)


def test_bootstrap_sauvage_par_grappe():
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(6), 10)
    t = (rng.random(60) < 0.5).astype(float)
    y = 0.4 * t + rng.normal(size=60) + rng.normal(0, 1, 6)[g]
    x = _avec_constante(t)
    res = inference.bootstrap_sauvage_grappes(y, x, g, tirages=999)
    assert res["poids"] == "Webb"
    assert res["ic_bas"] < res["estimation"] < res["ic_haut"]
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    assert res["estimation"] == pytest.approx(beta[1])
    # Test inversion: y shifted by a bound has a bootstrap p-value at the level.
    decale = inference.bootstrap_sauvage_grappes(y - res["ic_haut"] * t, x, g, tirages=999)
    assert decale["p_valeur"] == pytest.approx(0.05, abs=0.01)
    assert inference.bootstrap_sauvage_grappes(y, x, np.repeat(np.arange(20), 3))["poids"] == "Rademacher"


def test_randomisation_ponderee_sous_l_hypothese_nulle():
    # Under no effect, the randomisation p-value is roughly uniform.
    p = []
    for graine in range(60):
        rng = np.random.default_rng(graine)
        x = rng.normal(size=50)
        e = 1 / (1 + np.exp(-0.8 * x))
        t = (rng.random(50) < e).astype(float)
        y = x + rng.normal(size=50)
        z = _avec_constante(x)
        import statsmodels.api as sm
        scores = sm.Logit(t, z).fit(disp=0).predict()
        p.append(inference.randomisation_ponderee(y, t, z, scores, tirages=199,
                                                  intervalle=False)["p_valeur"])
    assert np.mean(np.asarray(p) <= 0.05) <= 0.12
    assert 0.35 <= np.mean(p) <= 0.65


def test_bootstrap_sauvage_comme_le_calcul_direct():
    # The cluster-sum computation gives the p-value of refitting every bootstrap sample.
    rng = np.random.default_rng(9)
    n, tirages = 70, 199
    g = rng.integers(0, 7, n)
    t = (rng.random(n) < 0.5).astype(float)
    x2 = rng.normal(size=n)
    w = rng.uniform(0.5, 2, n)
    y = 0.3 * t + x2 + rng.normal(size=n) + rng.normal(0, 1, 7)[g]
    x = _avec_constante(t, x2)
    res = inference.bootstrap_sauvage_grappes(y, x, g, poids=w, tirages=tirages, graine=4)
    v, _ = inference.poids_bootstrap(7, tirages, np.random.default_rng(4))

    def t_cr1(yy):
        xw = x * w[:, None]
        pain = np.linalg.inv(x.T @ xw)
        b = pain @ xw.T @ yy
        u = yy - x @ b
        scores = np.array([(pain @ xw[g == k].T @ u[g == k])[1] for k in range(7)])
        return b[1] / np.sqrt(7 / 6 * (n - 1) / (n - 3) * np.sum(scores**2))

    xr = x[:, [0, 2]]
    gamma = np.linalg.solve(xr.T @ (xr * w[:, None]), xr.T @ (w * y))
    ajuste, ur = xr @ gamma, y - xr @ gamma
    t_obs = t_cr1(y)
    t_b = np.array([t_cr1(ajuste + ur * v[b, g]) for b in range(tirages)])
    assert res["p_valeur"] == pytest.approx(np.mean(np.abs(t_b) >= abs(t_obs)), abs=1e-12)
