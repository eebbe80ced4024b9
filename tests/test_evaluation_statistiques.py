"""Pure statistical functions against published or hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from capitalisation.evaluation import statistiques as st

Z = stats.norm.ppf(0.975)


# Newcombe (1998a), "Two-sided confidence intervals for the single proportion",
# Stat Med 17:857-872, Table I, method 3 (Wilson score without continuity correction).
@pytest.mark.parametrize("k, n, bas, haut", [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_valeurs_publiees(k, n, bas, haut):
    b, h = st.intervalle_wilson(k, n)
    assert b == pytest.approx(bas, abs=5e-5)
    assert h == pytest.approx(haut, abs=5e-5)


def test_wilson_cas_limites():
    assert st.intervalle_wilson(0, 10)[0] == 0.0
    assert st.intervalle_wilson(10, 10)[1] == 1.0
    assert all(math.isnan(v) for v in st.intervalle_wilson(0, 0))


# Newcombe (1998b), "Interval estimation for the difference between independent
# proportions: comparison of eleven methods", Stat Med 17:873-890, Table II: each case with
# the limits of method 10 (hybrid score interval from the Wilson limits) and of method 6
# (the Miettinen-Nurminen score interval).
TABLE_II_NEWCOMBE = [
    # k1, n1, k2, n2, method 10, method 6
    (56, 70, 48, 80, (0.0524, 0.3339), (0.0528, 0.3382)),
    (9, 10, 3, 10, (0.1705, 0.8090), (0.1700, 0.8406)),
    (6, 7, 2, 7, (0.0582, 0.8062), (0.0342, 0.8534)),
    (5, 56, 0, 29, (-0.0381, 0.1926), (-0.0326, 0.1933)),
    (0, 10, 0, 20, (-0.1611, 0.2775), (-0.1658, 0.2844)),
    (0, 10, 0, 10, (-0.2775, 0.2775), (-0.2879, 0.2879)),
    (10, 10, 0, 20, (0.6791, 1.0000), (0.7156, 1.0000)),
    (10, 10, 0, 10, (0.6075, 1.0000), (0.6636, 1.0000)),
]


@pytest.mark.parametrize("k1, n1, k2, n2, bas, haut",
                         [(*cas[:4], *cas[4]) for cas in TABLE_II_NEWCOMBE])
def test_newcombe_valeurs_publiees(k1, n1, k2, n2, bas, haut):
    d, b, h = st.difference_newcombe(k1, n1, k2, n2)
    assert d == pytest.approx(k1 / n1 - k2 / n2)
    assert b == pytest.approx(bas, abs=5e-5)
    assert h == pytest.approx(haut, abs=5e-5)


def test_newcombe_exemple_a():
    # 56/70 - 48/80 = 0.8 - 0.6: Newcombe's example (a), method 10 gives 0.0524 to 0.3339.
    d, b, h = st.difference_newcombe(56, 70, 48, 80)
    assert round(d, 4) == 0.2000
    assert (round(b, 4), round(h, 4)) == (0.0524, 0.3339)


def test_newcombe_comme_statsmodels():
    from statsmodels.stats.proportion import confint_proportions_2indep

    for k1, n1, k2, n2 in [(3, 25, 9, 25), (20, 21, 12, 30), (0, 5, 4, 8)]:
        attendu = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        assert st.difference_newcombe(k1, n1, k2, n2)[1:] == pytest.approx(attendu, abs=1e-12)


@pytest.mark.parametrize("k1, n1, k2, n2, bas, haut",
                         [(*cas[:4], *cas[5]) for cas in TABLE_II_NEWCOMBE])
def test_miettinen_nurminen_valeurs_publiees(k1, n1, k2, n2, bas, haut):
    d, b, h = st.difference_miettinen_nurminen(k1, n1, k2, n2)
    assert d == pytest.approx(k1 / n1 - k2 / n2)
    assert (round(b, 4), round(h, 4)) == (bas, haut)


def test_miettinen_nurminen_par_le_maximum_restreint():
    """Independent check: at each limit, the score statistic computed with the restricted
    maximum likelihood found numerically (not the closed form) equals the normal quantile."""
    from scipy import optimize

    def statistique(k1, n1, k2, n2, delta):
        def moins_vraisemblance(pi2):
            pi1 = pi2 + delta
            return -(stats.binom.logpmf(k1, n1, pi1) + stats.binom.logpmf(k2, n2, pi2))
        bas, haut = max(0.0, -delta) + 1e-12, min(1.0, 1 - delta) - 1e-12
        pi2 = optimize.minimize_scalar(moins_vraisemblance, bounds=(bas, haut), method="bounded",
                                       options={"xatol": 1e-13}).x
        pi1 = pi2 + delta
        n = n1 + n2
        v = (pi1 * (1 - pi1) / n1 + pi2 * (1 - pi2) / n2) * n / (n - 1)
        return (k1 / n1 - k2 / n2 - delta) / math.sqrt(v)

    for k1, n1, k2, n2 in [(3, 25, 1, 25), (12, 25, 4, 25), (20, 30, 7, 22), (2, 25, 5, 25)]:
        _, b, h = st.difference_miettinen_nurminen(k1, n1, k2, n2)
        assert statistique(k1, n1, k2, n2, b) == pytest.approx(Z, abs=1e-4)
        assert statistique(k1, n1, k2, n2, h) == pytest.approx(-Z, abs=1e-4)


def _couverture_exacte(intervalle, p1, p2, n=25):
    """Exact coverage of an interval for p1 - p2 with two binomials of n."""
    pa, pb = stats.binom.pmf(np.arange(n + 1), n, p1), stats.binom.pmf(np.arange(n + 1), n, p2)
    return sum(pa[a] * pb[b] for a in range(n + 1) for b in range(n + 1)
               if intervalle(a, n, b, n)[1] <= p1 - p2 <= intervalle(a, n, b, n)[2])


def test_miettinen_nurminen_tient_son_niveau_avec_un_resultat_rare():
    # 25 versus 25, outcome of 11 % among the accompanied and 5 % among controls (the
    # coverage study's rare outcome): Newcombe's interval covers 98.6 %, Miettinen and
    # Nurminen's 96.0 %, within the 93-97 % target; at 40 % versus 63 % both hold it.
    assert _couverture_exacte(st.difference_newcombe, 0.111, 0.049) > 0.98
    assert 0.95 < _couverture_exacte(st.difference_miettinen_nurminen, 0.111, 0.049) < 0.97
    assert 0.93 < _couverture_exacte(st.difference_miettinen_nurminen, 0.634, 0.400) < 0.97


def test_fisher_degustation_du_the():
    # Fisher's lady tasting tea: 3 of 4 "milk first" cups found; two-sided p = 34/70.
    assert st.p_fisher(3, 4, 1, 4) == pytest.approx(0.4857, abs=5e-5)
    assert st.p_fisher(3, 4, 1, 4) == pytest.approx(34 / 70)


def test_rapport_risques_a_la_main():
    rr, b, h = st.rapport_risques(20, 50, 10, 50)
    se = math.sqrt(1 / 20 - 1 / 50 + 1 / 10 - 1 / 50)
    assert rr == pytest.approx(2.0)
    assert b == pytest.approx(2.0 * math.exp(-Z * se))
    assert h == pytest.approx(2.0 * math.exp(Z * se))
    rr, b, h = st.rapport_risques(0, 10, 3, 10)
    assert rr == 0 and math.isnan(b) and math.isnan(h)


def test_welch_comme_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(3, 1, 30), rng.normal(2, 3, 45)
    res = st.difference_moyennes_welch(a, b)
    attendu = stats.ttest_ind(a, b, equal_var=False)
    assert res["estimation"] == pytest.approx(a.mean() - b.mean())
    assert res["p_valeur"] == pytest.approx(attendu.pvalue)
    ic = attendu.confidence_interval(0.95)
    assert (res["ic_bas"], res["ic_haut"]) == pytest.approx((ic.low, ic.high))


def test_smd_a_la_main():
    # Treated 1, 2, 3 (mean 2, variance 1); controls 2, 4, 6 (mean 4, variance 4).
    assert st.difference_standardisee([1, 2, 3], [2, 4, 6]) == pytest.approx(-2 / math.sqrt(2.5))
    # Weighted controls 1, 1, 2: mean 4.5; reliability-weighted variance
    # 4 / (16 - 6) * (6.25 + 0.25 + 2 * 2.25) = 4.4.
    assert st.variance_ponderee([2, 4, 6], [1, 1, 2]) == pytest.approx(4.4)
    assert st.difference_standardisee([1, 2, 3], [2, 4, 6], [1, 1, 1], [1, 1, 2]) == pytest.approx(
        -2.5 / math.sqrt((1 + 4.4) / 2))
    # Indicator of a level: 2 of 4 treated, 1 of 4 controls; var = p (1 - p).
    assert st.difference_standardisee([1, 1, 0, 0], [1, 0, 0, 0], binaire=True) == pytest.approx(
        0.25 / math.sqrt((0.25 + 0.1875) / 2))
    assert st.difference_standardisee([1, 1], [1, 1]) == 0.0
    assert st.difference_standardisee([2, 2], [1, 1]) == math.inf


def test_taille_effective_a_la_main():
    assert st.taille_effective([1, 1, 2]) == pytest.approx(16 / 6)
    assert st.taille_effective(np.full(7, 0.3)) == pytest.approx(7)


@pytest.mark.parametrize("n_t, n_c, p_c", [(25, 25, 0.3), (40, 60, 0.8), (200, 200, 0.05)])
def test_difference_minimale_detectable_formule(n_t, n_c, p_c):
    h = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * math.sqrt(1 / n_t + 1 / n_c)
    phi = math.asin(math.sqrt(p_c))
    # Towards 1/2: up when p_c <= 1/2, down otherwise.
    attendu = abs(math.sin(phi + (h / 2 if p_c <= 0.5 else -h / 2)) ** 2 - p_c)
    assert st.difference_minimale_detectable(n_t, n_c, p_c) == pytest.approx(attendu, rel=1e-4)


def test_taille_necessaire_formule():
    h = 2 * math.asin(math.sqrt(0.5)) - 2 * math.asin(math.sqrt(0.3))
    # Equal groups: n = 2 ((z_{0.975} + z_{0.8}) / h)^2 per group.
    attendu = math.ceil(2 * ((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) / h) ** 2)
    assert st.taille_necessaire(0.3, 0.2) == attendu == 93
    # The MDD for that size is just under the difference asked for.
    assert st.difference_minimale_detectable(93, 93, 0.3) <= 0.2


def test_mdd_moyennes():
    attendu = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * math.sqrt(100**2 / 50 + 200**2 / 80)
    assert st.difference_minimale_detectable_moyennes(50, 80, 100, 200) == pytest.approx(attendu)


def test_kaplan_meier_a_la_main():
    km = st.kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    assert km["temps"].tolist() == [0, 1, 2, 3, 4]
    # S(1) = 4/5; S(2) = 4/5 * 3/4; at 3, 2 at risk (one censored at 2): S = 0.6 * 1/2.
    assert km["survie"].tolist() == pytest.approx([1.0, 0.8, 0.6, 0.3, 0.3])
    assert km["n_risque"].tolist() == [5, 5, 4, 2, 1]
    # Greenwood: var S(1) = 0.8^2 * 1 / (5 * 4); log(-log) interval.
    se = 0.8 * math.sqrt(1 / 20)
    e = Z * se / (0.8 * abs(math.log(0.8)))
    assert km.loc[1, "ic_bas"] == pytest.approx(0.8 ** math.exp(e))
    assert km.loc[1, "ic_haut"] == pytest.approx(0.8 ** math.exp(-e))
    assert km.loc[0, ["ic_bas", "ic_haut"]].tolist() == [1.0, 1.0]


def test_kaplan_meier_sans_evenement():
    km = st.kaplan_meier([3, 5], [0, 0])
    assert km["survie"].tolist() == [1.0, 1.0] and km["temps"].tolist() == [0, 5]


# Freireich et al. (1963) remission times, 6-MP versus placebo (Gehan 1965); log-rank
# chi-square 16.79 (1 df), Cox log hazard ratio placebo vs 6-MP 1.572 (Efron ties), hazard
# ratio 4.817 with 95 % interval 2.147 to 10.81 (R survival, as in Kleinbaum and Klein).
MP6 = ([6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35],
       [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0])
PLACEBO = ([1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23], [1] * 21)


def _leucemie():
    temps = np.r_[MP6[0], PLACEBO[0]]
    evenement = np.r_[MP6[1], PLACEBO[1]]
    traite = np.r_[np.ones(21), np.zeros(21)]
    return temps, evenement, traite


def test_logrank_leucemie():
    chi2, p = st.test_logrank(*_leucemie())
    assert chi2 == pytest.approx(16.79, abs=5e-3)
    assert p == pytest.approx(stats.chi2.sf(16.7929, 1), rel=1e-3)


def test_cox_leucemie():
    cox = st.cox_rapport_risques(*_leucemie())
    assert cox["coef"] == pytest.approx(-1.572, abs=5e-4)
    assert 1 / cox["estimation"] == pytest.approx(4.817, abs=5e-3)
    assert 1 / cox["ic_haut"] == pytest.approx(2.147, abs=5e-3)
    assert 1 / cox["ic_bas"] == pytest.approx(10.81, abs=1e-2)


def test_taille_necessaire_moyennes_formule():
    from statsmodels.stats.power import NormalIndPower

    s_t, s_c, ecart = 900.0, 1200.0, 250.0
    d = ecart / math.sqrt((s_t**2 + s_c**2) / 2)
    attendu = NormalIndPower().solve_power(effect_size=d, alpha=0.05, power=0.8, ratio=1.0)
    assert st.taille_necessaire_moyennes(s_t, s_c, ecart) == math.ceil(attendu)
    assert st.taille_necessaire_moyennes(s_t, s_c, 0.0) is None
