"""Pure statistical functions of the treatment-versus-control comparison.

Every function takes plain numbers or arrays and returns plain numbers or a small
DataFrame; nothing here reads the warehouse or knows about households. Conventions:

* "t" (traites) is the accompanied cohort, "c" (temoins) the control cohort; differences
  are always treated minus control, ratios treated over control.
* Intervals are two-sided at `niveau` (0.95 by default).
* Where an estimate cannot be computed (empty group, zero variance...), the functions
  return NaN rather than raise: the caller attaches a warning.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

NIVEAU = 0.95


def _z(niveau: float = NIVEAU) -> float:
    return float(stats.norm.ppf(0.5 + niveau / 2))


# ---------------------------------------------------------------------------
# Proportions
# ---------------------------------------------------------------------------


def intervalle_wilson(k: int, n: int, niveau: float = NIVEAU) -> tuple[float, float]:
    """Wilson score interval for the proportion k/n (no continuity correction)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = _z(niveau)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    demi = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # k = 0 and k = n give exactly 0 and 1 (without rounding noise).
    bas = 0.0 if k == 0 else max(0.0, centre - demi)
    haut = 1.0 if k == n else min(1.0, centre + demi)
    return (bas, haut)


def difference_newcombe(
    k_t: int, n_t: int, k_c: int, n_c: int, niveau: float = NIVEAU
) -> tuple[float, float, float]:
    """Difference of proportions k_t/n_t - k_c/n_c with Newcombe's hybrid score interval.

    Newcombe (1998), "Interval estimation for the difference between independent
    proportions: comparison of eleven methods", Stat Med 17:873-890, method 10: the
    Wilson score limits of each proportion combined by the square-and-add rule.
    """
    if n_t <= 0 or n_c <= 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = k_t / n_t, k_c / n_c
    l1, u1 = intervalle_wilson(k_t, n_t, niveau)
    l2, u2 = intervalle_wilson(k_c, n_c, niveau)
    d = p1 - p2
    bas = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    haut = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (d, bas, haut)


def _variance_restreinte(p1: float, n1: int, p2: float, n2: int, delta: float) -> float:
    """Variance of p1 - p2 at the maximum likelihood estimate of the two proportions under
    the constraint pi1 - pi2 = delta (closed form of Farrington and Manning 1990, a cubic
    in pi1), times N / (N - 1) (Miettinen and Nurminen's correction)."""
    theta = n2 / n1
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
    c = delta * delta + delta * (2 * p1 + theta + 1) + p1 + theta * p2
    d = -p1 * delta * (1 + delta)
    v = b**3 / (27 * a**3) - b * c / (6 * a * a) + d / (2 * a)
    u = math.copysign(math.sqrt(max(b * b / (9 * a * a) - c / (3 * a), 0.0)), v)
    cosinus = max(-1.0, min(1.0, v / u**3)) if u != 0 else 0.0
    w = (math.pi + math.acos(cosinus)) / 3
    pi1 = min(max(2 * u * math.cos(w) - b / (3 * a), 0.0), 1.0)
    pi2 = min(max(pi1 - delta, 0.0), 1.0)
    n = n1 + n2
    return (pi1 * (1 - pi1) / n1 + pi2 * (1 - pi2) / n2) * n / (n - 1)


def difference_miettinen_nurminen(
    k_t: int, n_t: int, k_c: int, n_c: int, niveau: float = NIVEAU
) -> tuple[float, float, float]:
    """Difference of proportions k_t/n_t - k_c/n_c with the Miettinen-Nurminen score
    interval.

    Miettinen and Nurminen (1985), "Comparative analysis of two rates", Stat Med 4:213-226:
    the delta whose score statistic (p_t - p_c - delta) / sqrt(V(delta)) lies within
    +/- z, V(delta) the variance at the maximum likelihood estimate restricted to
    pi_t - pi_c = delta, with the factor N / (N - 1) (SAS's RISKDIFF(CL=MN), R's
    PropCIs::diffscoreci). Fagerland, Lydersen and Laake (2015, Stat Methods Med Res
    24:224-254) recommend it for small samples; at 25 versus 25 it holds its level with
    a handful of events, where Newcombe's hybrid score interval covers 98 to 99 %
    (exact enumeration of the two binomials, and the coverage study).
    """
    if n_t <= 0 or n_c <= 0:
        return (math.nan, math.nan, math.nan)
    from scipy import optimize

    p1, p2 = k_t / n_t, k_c / n_c
    d = p1 - p2
    z = _z(niveau)

    def ecart(delta: float) -> float:
        v = _variance_restreinte(p1, n_t, p2, n_c, delta)
        if v <= 0:
            return math.copysign(math.inf, d - delta) if d != delta else 0.0
        return (d - delta) / math.sqrt(v)

    bord = 1e-12
    bas = -1.0 if d <= -1 + bord or ecart(-1 + bord) <= z else float(
        optimize.brentq(lambda x: ecart(x) - z, -1 + bord, d, xtol=1e-12))
    haut = 1.0 if d >= 1 - bord or ecart(1 - bord) >= -z else float(
        optimize.brentq(lambda x: ecart(x) + z, d, 1 - bord, xtol=1e-12))
    return (d, bas, haut)


def rapport_risques(
    k_t: int, n_t: int, k_c: int, n_c: int, niveau: float = NIVEAU
) -> tuple[float, float, float]:
    """Risk ratio (k_t/n_t) / (k_c/n_c) with the usual log-scale Wald interval.

    SE(log RR) = sqrt(1/k_t - 1/n_t + 1/k_c - 1/n_c) (Katz et al. 1978). With no event in
    one cohort the interval is undefined and returned as NaN (the ratio itself is 0 or
    infinite, or NaN when both cohorts have no event).
    """
    if n_t <= 0 or n_c <= 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = k_t / n_t, k_c / n_c
    if p2 == 0:
        return (math.inf if p1 > 0 else math.nan, math.nan, math.nan)
    rr = p1 / p2
    if k_t == 0:
        return (rr, math.nan, math.nan)
    se = math.sqrt(max(1 / k_t - 1 / n_t + 1 / k_c - 1 / n_c, 0.0))
    if se == 0:  # every household has the event in both cohorts: no sampling variation
        return (rr, math.nan, math.nan)
    z = _z(niveau)
    return (rr, rr * math.exp(-z * se), rr * math.exp(z * se))


def p_fisher(k_t: int, n_t: int, k_c: int, n_c: int) -> float:
    """Two-sided p-value of Fisher's exact test on the 2x2 table events / non-events."""
    if n_t <= 0 or n_c <= 0:
        return math.nan
    table = [[k_t, n_t - k_t], [k_c, n_c - k_c]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


# ---------------------------------------------------------------------------
# Means
# ---------------------------------------------------------------------------


def difference_moyennes_welch(
    y_t: np.ndarray, y_c: np.ndarray, niveau: float = NIVEAU
) -> dict[str, float]:
    """Difference in means with Welch's unequal-variance t interval.

    Returns a dict with `estimation`, `ic_bas`, `ic_haut`, `p_valeur`, `ddl` (Welch-
    Satterthwaite degrees of freedom), `moyenne_t`, `moyenne_c`.
    """
    y_t = np.asarray(y_t, dtype=float)
    y_c = np.asarray(y_c, dtype=float)
    n1, n2 = len(y_t), len(y_c)
    res = {"estimation": math.nan, "ic_bas": math.nan, "ic_haut": math.nan, "p_valeur": math.nan,
               "ddl": math.nan, "moyenne_t": math.nan, "moyenne_c": math.nan}
    if n1 == 0 or n2 == 0:
        return res
    m1, m2 = float(y_t.mean()), float(y_c.mean())
    res.update(moyenne_t=m1, moyenne_c=m2, estimation=m1 - m2)
    if n1 < 2 or n2 < 2:
        return res
    v1, v2 = y_t.var(ddof=1) / n1, y_c.var(ddof=1) / n2
    se = math.sqrt(v1 + v2)
    if se == 0:
        return res
    ddl = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    q = float(stats.t.ppf(0.5 + niveau / 2, ddl))
    res.update(
        ic_bas=m1 - m2 - q * se,
        ic_haut=m1 - m2 + q * se,
        p_valeur=float(2 * stats.t.sf(abs(m1 - m2) / se, ddl)),
        ddl=ddl,
    )
    return res


def intervalle_moyenne(x: np.ndarray, niveau: float = NIVEAU) -> tuple[int, float, float, float]:
    """(n, mean, lower, upper) with the Student t interval of a mean (NaN bounds if n < 2)."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return (0, math.nan, math.nan, math.nan)
    m = float(x.mean())
    if n < 2:
        return (n, m, math.nan, math.nan)
    demi = float(stats.t.ppf(0.5 + niveau / 2, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return (n, m, m - demi, m + demi)


# ---------------------------------------------------------------------------
# Balance and weights
# ---------------------------------------------------------------------------


def moyenne_ponderee(x: np.ndarray, w: np.ndarray | None = None) -> float:
    x = np.asarray(x, dtype=float)
    if len(x) == 0:
        return math.nan
    if w is None:
        return float(x.mean())
    w = np.asarray(w, dtype=float)
    return float(np.sum(w * x) / np.sum(w))


def variance_ponderee(x: np.ndarray, w: np.ndarray | None = None) -> float:
    """Unbiased weighted variance with reliability weights.

    s2 = sum(w) / (sum(w)^2 - sum(w^2)) * sum(w (x - xbar_w)^2) (Austin and Stuart 2015);
    with equal weights this is the usual sample variance (ddof = 1).
    """
    x = np.asarray(x, dtype=float)
    if w is None:
        return float(x.var(ddof=1)) if len(x) > 1 else math.nan
    w = np.asarray(w, dtype=float)
    sw, sw2 = w.sum(), np.sum(w * w)
    if len(x) < 2 or sw * sw - sw2 <= 0:
        return math.nan
    m = np.sum(w * x) / sw
    return float(sw / (sw * sw - sw2) * np.sum(w * (x - m) ** 2))


def difference_standardisee(
    x_t: np.ndarray,
    x_c: np.ndarray,
    w_t: np.ndarray | None = None,
    w_c: np.ndarray | None = None,
    binaire: bool = False,
) -> float:
    """Standardised mean difference (treated - control) / sqrt((var_t + var_c) / 2).

    Continuous: sample (or weighted, see `variance_ponderee`) variances. Binary (a 0/1
    indicator, e.g. one level of a categorical covariate): var = p (1 - p) with the
    (weighted) proportion p (Austin 2009). Weighted versions use weighted means and
    variances on both sides. When both variances are zero the SMD is 0 if the means are
    equal, else +/- infinity.
    """
    x_t = np.asarray(x_t, dtype=float)
    x_c = np.asarray(x_c, dtype=float)
    if len(x_t) == 0 or len(x_c) == 0:
        return math.nan
    m_t, m_c = moyenne_ponderee(x_t, w_t), moyenne_ponderee(x_c, w_c)
    if binaire:
        v_t, v_c = m_t * (1 - m_t), m_c * (1 - m_c)
    else:
        v_t, v_c = variance_ponderee(x_t, w_t), variance_ponderee(x_c, w_c)
        v_t = 0.0 if math.isnan(v_t) else v_t
        v_c = 0.0 if math.isnan(v_c) else v_c
    ecart = math.sqrt(max((v_t + v_c) / 2, 0.0))
    d = m_t - m_c
    if ecart < 1e-12:
        return 0.0 if abs(d) < 1e-12 else math.copysign(math.inf, d)
    return d / ecart


def taille_effective(w: np.ndarray) -> float:
    """Kish effective sample size (sum w)^2 / sum w^2."""
    w = np.asarray(w, dtype=float)
    s2 = float(np.sum(w * w))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else math.nan


# ---------------------------------------------------------------------------
# Power
# ---------------------------------------------------------------------------
#
# Proportions are compared on Cohen's arcsine scale, h = 2 asin(sqrt(p_t)) - 2 asin(sqrt(p_c)),
# with the normal approximation of statsmodels' NormalIndPower: the study detects h with
# power 1 - beta when |h| >= (z_{1-alpha/2} + z_{1-beta}) sqrt(1/n_t + 1/n_c) (the
# negligible rejection in the wrong tail aside). The minimum detectable difference is
# the change in proportion from p_c that this h represents, taken towards 1/2 (the
# larger of the two directions), so that any true difference at least that large, in
# either direction, is detected with the stated power.


def _h_detectable(n_t: int, n_c: int, puissance: float, alpha: float) -> float:
    from statsmodels.stats.power import NormalIndPower

    if n_t <= 0 or n_c <= 0:
        return math.nan
    return float(NormalIndPower().solve_power(
        effect_size=None, nobs1=n_t, alpha=alpha, power=puissance, ratio=n_c / n_t,
        alternative="two-sided",
    ))


def difference_minimale_detectable(
    n_t: int, n_c: int, p_temoins: float, puissance: float = 0.8, alpha: float = 0.05
) -> float:
    """Minimum detectable difference in proportion (absolute, > 0), NaN if none is."""
    h = _h_detectable(n_t, n_c, puissance, alpha)
    if math.isnan(h) or not 0 <= p_temoins <= 1:
        return math.nan
    phi = math.asin(math.sqrt(p_temoins))
    candidats = []
    for signe in ((1, -1) if p_temoins <= 0.5 else (-1, 1)):
        cible = phi + signe * h / 2
        if 0 <= cible <= math.pi / 2:
            candidats.append(abs(math.sin(cible) ** 2 - p_temoins))
    return candidats[0] if candidats else math.nan


def taille_necessaire(
    p_temoins: float,
    difference: float,
    puissance: float = 0.8,
    alpha: float = 0.05,
    ratio: float = 1.0,
) -> int | None:
    """Accompanied households needed to detect p_temoins + difference (controls = ratio x)."""
    from statsmodels.stats.power import NormalIndPower

    p_t = p_temoins + difference
    if not (0 <= p_temoins <= 1 and 0 <= p_t <= 1) or difference == 0:
        return None
    h = abs(2 * math.asin(math.sqrt(p_t)) - 2 * math.asin(math.sqrt(p_temoins)))
    n = NormalIndPower().solve_power(effect_size=h, nobs1=None, alpha=alpha, power=puissance,
                                     ratio=ratio, alternative="two-sided")
    return math.ceil(float(n) - 1e-9)


def taille_necessaire_moyennes(
    ecart_type_t: float, ecart_type_c: float, difference: float,
    puissance: float = 0.8, alpha: float = 0.05,
) -> int | None:
    """Households per group (two equal groups) to detect a difference in means:
    n = (z_{1-a/2} + z_{power})^2 (s_t^2 + s_c^2) / difference^2, rounded up."""
    if not (math.isfinite(ecart_type_t) and math.isfinite(ecart_type_c)) or not difference:
        return None
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(puissance)
    n = z * z * (ecart_type_t**2 + ecart_type_c**2) / difference**2
    return max(math.ceil(float(n) - 1e-9), 2)


def difference_minimale_detectable_moyennes(
    n_t: int, n_c: int, ecart_type_t: float, ecart_type_c: float,
    puissance: float = 0.8, alpha: float = 0.05,
) -> float:
    """Minimum detectable difference in means, (z_{1-a/2} + z_{power}) sqrt(s_t^2/n_t + s_c^2/n_c)."""
    if n_t <= 0 or n_c <= 0:
        return math.nan
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(puissance)
    return float(z * math.sqrt(ecart_type_t**2 / n_t + ecart_type_c**2 / n_c))


# ---------------------------------------------------------------------------
# Time to event
# ---------------------------------------------------------------------------


def kaplan_meier(temps: np.ndarray, evenement: np.ndarray, niveau: float = NIVEAU) -> pd.DataFrame:
    """Kaplan-Meier estimate: one row at time 0, one per event time, one at the last follow-up.

    Columns temps, survie, ic_bas, ic_haut, n_risque. Pointwise intervals on the
    log(-log) scale from Greenwood's variance (as R's survival with conf.type = "log-log"),
    which stay within [0, 1]; undefined where survival is 1 (interval [1, 1]) or 0.
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    temps = np.asarray(temps, dtype=float)
    evenement = np.asarray(evenement, dtype=float)
    colonnes = ["temps", "survie", "ic_bas", "ic_haut", "n_risque"]
    if len(temps) == 0:
        return pd.DataFrame(columns=colonnes)
    lignes = [(0.0, 1.0, 1.0, 1.0, int(np.sum(temps >= 0)))]
    dernier = float(temps.max())
    survie = 1.0
    if evenement.sum() > 0:
        sf = SurvfuncRight(temps, evenement)
        z = _z(niveau)
        for t, s, se, nr in zip(sf.surv_times, sf.surv_prob, sf.surv_prob_se, sf.n_risk):
            if s <= 0:
                bas = haut = 0.0
            elif s >= 1 or not np.isfinite(se):
                bas = haut = math.nan if s < 1 else 1.0
            else:
                e = z * se / (s * abs(math.log(s)))
                bas, haut = s ** math.exp(e), s ** math.exp(-e)
            if t == 0:
                lignes[0] = (0.0, float(s), bas, haut, int(nr))
            else:
                lignes.append((float(t), float(s), bas, haut, int(nr)))
            survie = float(s)
    if dernier > lignes[-1][0]:
        b, h = lignes[-1][2], lignes[-1][3]
        lignes.append((dernier, survie, b, h, int(np.sum(temps >= dernier))))
    return pd.DataFrame(lignes, columns=colonnes)


def test_logrank(temps: np.ndarray, evenement: np.ndarray, groupe: np.ndarray) -> tuple[float, float]:
    """Log-rank chi-square (1 df for two groups) and its p-value (statsmodels survdiff)."""
    from statsmodels.duration.survfunc import survdiff

    temps = np.asarray(temps, dtype=float)
    evenement = np.asarray(evenement, dtype=float)
    groupe = np.asarray(groupe)
    if evenement.sum() == 0 or len(np.unique(groupe)) < 2:
        return (math.nan, math.nan)
    chi2, p = survdiff(temps, evenement, groupe)
    return (float(chi2), float(p))


def cox_rapport_risques(
    temps: np.ndarray, evenement: np.ndarray, traite: np.ndarray, niveau: float = NIVEAU
) -> dict[str, float]:
    """Cox proportional-hazards ratio of treated versus control (Efron ties, statsmodels PHReg).

    Returns estimation (hazard ratio), ic_bas, ic_haut (Wald, log scale), p_valeur and
    `coef` (log hazard ratio); NaN when the model cannot be fitted.
    """
    from statsmodels.duration.hazard_regression import PHReg

    res = {"estimation": math.nan, "ic_bas": math.nan, "ic_haut": math.nan, "p_valeur": math.nan,
               "coef": math.nan}
    temps = np.asarray(temps, dtype=float)
    evenement = np.asarray(evenement, dtype=float)
    traite = np.asarray(traite, dtype=float)
    if evenement.sum() == 0 or len(np.unique(traite)) < 2:
        return res
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            fit = PHReg(temps, traite[:, None], status=evenement, ties="efron").fit()
        except (np.linalg.LinAlgError, ValueError):
            return res
    b, se = float(fit.params[0]), float(fit.bse[0])
    if not (np.isfinite(b) and np.isfinite(se)):
        return res
    z = _z(niveau)
    exp = lambda v: math.exp(v) if v < 700 else math.inf  # overflow-safe
    res.update(estimation=exp(b), ic_bas=exp(b - z * se), ic_haut=exp(b + z * se),
               p_valeur=float(2 * stats.norm.sf(abs(b) / se)) if se > 0 else math.nan, coef=b)
    return res
