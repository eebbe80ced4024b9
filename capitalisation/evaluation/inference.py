"""Small-sample inference of the comparison: separation by linear programming, the wild
cluster bootstrap, randomisation inference, exact power of Fisher's test and of Welch's
test, E-values and Holm's adjustment.

Pure functions on arrays; nothing here knows about projects or the warehouse.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import optimize, special, stats

NIVEAU = 0.95
# Replicates of the wild cluster bootstrap and of the randomisation tests.
TIRAGES = 999
GRAINE = 20240611


# ---------------------------------------------------------------------------
# Separation (Konis 2007; R's detectseparation)
# ---------------------------------------------------------------------------


def separation_lineaire(y: np.ndarray, z: np.ndarray, tolerance: float = 1e-6) -> bool:
    """True when the logit of y on z shows complete or quasi-complete separation.

    Konis (2007, "Linear programming algorithms for detecting separated data in binary
    logistic regression models", DPhil, Oxford), as R's detectseparation: there is a
    direction b != 0 with s_i z_i'b >= 0 for every household (s = 2y - 1) exactly when
    the maximum likelihood estimate does not exist. The linear programme maximises
    sum_i s_i z_i'b under these constraints and -1 <= b <= 1 (columns scaled to a
    maximum of 1); its optimum is 0 without separation, positive with.
    """
    y = np.asarray(y, dtype=float)
    z = np.asarray(z, dtype=float)
    echelle = np.abs(z).max(axis=0)
    echelle[echelle == 0] = 1.0
    a = (2 * y - 1)[:, None] * (z / echelle)
    res = optimize.linprog(-a.sum(axis=0), A_ub=-a, b_ub=np.zeros(len(y)),
                           bounds=[(-1, 1)] * z.shape[1], method="highs")
    if res.status != 0:
        return False
    return float(-res.fun) > tolerance * max(len(y), 1)


# ---------------------------------------------------------------------------
# Wild cluster bootstrap (restricted, Webb or Rademacher weights)
# ---------------------------------------------------------------------------


def poids_bootstrap(n_grappes: int, tirages: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """(tirages x G) multipliers and their name: Webb's six-point weights under 12
    clusters (Webb 2023), Rademacher otherwise."""
    if n_grappes < 12:
        points = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0,
                           math.sqrt(1.5)])
        return points[rng.integers(0, 6, size=(tirages, n_grappes))], "Webb"
    return rng.choice([-1.0, 1.0], size=(tirages, n_grappes)), "Rademacher"


def bootstrap_sauvage_grappes(
    y: np.ndarray, x: np.ndarray, groupes: np.ndarray, colonne: int = 1,
    poids: np.ndarray | None = None, niveau: float = NIVEAU, tirages: int = TIRAGES,
    graine: int = GRAINE,
) -> dict:
    """Restricted wild cluster bootstrap (WCR) of coefficient `colonne` of the (weighted)
    least squares of y on x: p-value of beta = 0 and interval by test inversion.

    Cameron, Gelbach and Miller (2008); MacKinnon, Nielsen and Webb (2023, "Cluster-robust
    inference: a guide to empirical practice"). For a null value b0, the model is refitted
    under beta = b0, its residuals are multiplied by one weight per cluster, and the
    cluster-robust (CR1) t statistic of each bootstrap sample is compared with the
    observed one; the interval gathers the b0 not rejected at 1 - niveau (found by
    bisection, the same weights for every b0). Returns estimation, ic_bas, ic_haut,
    p_valeur, erreur_type (CR1), poids (the name of the multipliers), tirages.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    n, k = x.shape
    w = np.ones(n) if poids is None else np.asarray(poids, dtype=float)
    codes, = (np.unique(np.asarray(groupes), return_inverse=True)[1],)
    g = int(codes.max()) + 1
    rng = np.random.default_rng(graine)
    v, nom = poids_bootstrap(g, tirages, rng)
    from scipy import sparse

    indic = sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(g, n))
    xw = x * w[:, None]
    bread = np.linalg.pinv(x.T @ xw)
    a = (bread @ xw.T)[colonne]                  # row of (X'WX)^-1 X'W for the coefficient
    facteur = g / (g - 1) * (n - 1) / max(n - k, 1)
    beta = bread @ (xw.T @ y)
    u = y - x @ beta
    se = math.sqrt(facteur * float(np.sum(np.asarray(indic @ (a * u)) ** 2)))
    estimation = float(beta[colonne])
    autres = [j for j in range(k) if j != colonne]
    xr = x[:, autres]
    xrw = xr * w[:, None]
    bread_r = np.linalg.pinv(xr.T @ xrw)

    # Each bootstrap t statistic is computed from cluster-level sums (Roodman et al. 2019,
    # "Fast and wild: bootstrap inference in Stata using boottest"): with y* = base +
    # u_r v (v constant within a cluster), the numerator and every cluster's score are
    # affine in v, so a replicate costs O(G^2) whatever the number of households.
    somme = lambda m: np.asarray(indic @ m)                         # cluster sums
    a_x = somme(a[:, None] * x)                                      # G x k

    def statistiques(b0: float) -> tuple[float, np.ndarray]:
        cible = y - b0 * x[:, colonne]
        gamma = bread_r @ (xrw.T @ cible)
        ajuste = xr @ gamma
        ur = cible - ajuste
        base = ajuste + b0 * x[:, colonne]
        beta_base = bread @ (xw.T @ base)
        k_h = bread @ somme(xw * ur[:, None]).T                     # k x G: B u_r^(h)
        c = somme(a * (base - x @ beta_base))                        # G
        d = np.diag(somme(a * ur)) - a_x @ k_h                       # G x G
        numerateurs = beta_base[colonne] - b0 + v @ k_h[colonne]
        scores = c[None, :] + v @ d.T                                # B x G
        se_etoile = np.sqrt(facteur * np.sum(scores**2, axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            t_etoile = numerateurs / se_etoile
        t_obs = (estimation - b0) / se if se > 0 else math.inf
        return t_obs, t_etoile

    def p_valeur(b0: float) -> float:
        t_obs, t_etoile = statistiques(b0)
        t_etoile = t_etoile[np.isfinite(t_etoile)]
        if not len(t_etoile):
            return math.nan
        return float(np.mean(np.abs(t_etoile) >= abs(t_obs)))

    res = {"estimation": estimation, "ic_bas": math.nan, "ic_haut": math.nan,
           "p_valeur": p_valeur(0.0), "erreur_type": se, "poids": nom, "tirages": tirages}
    if not (se > 0 and math.isfinite(se)):
        return res
    alpha = 1 - niveau
    bornes = []
    for signe in (-1, 1):
        interieur = estimation
        exterieur = estimation + signe * 2 * se
        pas = 0
        while p_valeur(exterieur) > alpha and pas < 12:
            interieur, exterieur = exterieur, estimation + signe * 2 * se * 2 ** (pas + 1)
            pas += 1
        if pas == 12:
            bornes.append(math.nan)
            continue
        for _ in range(30):
            milieu = (interieur + exterieur) / 2
            if p_valeur(milieu) > alpha:
                interieur = milieu
            else:
                exterieur = milieu
            if abs(exterieur - interieur) < 1e-4 * se:
                break
        bornes.append((interieur + exterieur) / 2)
    res.update(ic_bas=bornes[0], ic_haut=bornes[1])
    return res


# ---------------------------------------------------------------------------
# Randomisation inference
# ---------------------------------------------------------------------------


def _p_inversion(obs: np.ndarray, a: np.ndarray, c: np.ndarray, grille: np.ndarray) -> np.ndarray:
    """p(tau) = (1 + #{|a_b - tau c_b| >= |obs - tau|}) / (B + 1) on a grid of tau."""
    ecarts = np.abs(a[None, :] - grille[:, None] * c[None, :])
    return (1 + np.sum(ecarts >= np.abs(obs - grille)[:, None] - 1e-12, axis=1)) / (len(a) + 1)


def _intervalle_inversion(obs: float, a: np.ndarray, c: np.ndarray, echelle: float,
                          niveau: float) -> tuple[float, float]:
    """The tau whose randomisation p-value exceeds 1 - niveau (a grid then bisection)."""
    if not (echelle > 0 and math.isfinite(echelle)):
        return (math.nan, math.nan)
    grille = obs + echelle * np.linspace(-8, 8, 641)
    p = _p_inversion(obs, a, c, grille)
    garde = np.flatnonzero(p > 1 - niveau)
    if not len(garde) or garde[0] == 0 or garde[-1] == len(grille) - 1:
        return (math.nan, math.nan)
    bornes = []
    for dedans, dehors in ((grille[garde[0]], grille[garde[0] - 1]),
                           (grille[garde[-1]], grille[garde[-1] + 1])):
        for _ in range(25):
            milieu = (dedans + dehors) / 2
            if _p_inversion(obs, a, c, np.array([milieu]))[0] > 1 - niveau:
                dedans = milieu
            else:
                dehors = milieu
        bornes.append(float((dedans + dehors) / 2))
    return (bornes[0], bornes[1])


def permutation_difference(
    y: np.ndarray, traite: np.ndarray, niveau: float = NIVEAU, tirages: int = TIRAGES,
    graine: int = GRAINE, intervalle: bool = True,
) -> dict:
    """Randomisation inference of the difference in means (treated - control): Monte Carlo
    permutation p-value of the sharp null of no effect and, under a constant additive
    effect tau, the interval of the tau not rejected (Imbens and Rubin 2015, ch. 5).

    Y(0) = y - tau T is held fixed and T permuted: the permuted statistic minus tau is
    a_b - tau c_b with a_b the difference in y and c_b the difference in T under the
    b-th permutation, so that every tau is tested with the same draws.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(traite, dtype=float)
    rng = np.random.default_rng(graine)
    n_t = int(t.sum())
    perm = np.argsort(rng.random((tirages, len(t))), axis=1) < n_t  # b x n, n_t ones per row
    tb = perm.astype(float)
    moy = lambda m, v: (m @ v) / m.sum(axis=1)
    a = moy(tb, y) - moy(1 - tb, y)
    c = moy(tb, t) - moy(1 - tb, t)
    obs = float(y[t == 1].mean() - y[t == 0].mean())
    p = float(_p_inversion(obs, a, c, np.array([0.0]))[0])
    bas = haut = math.nan
    if intervalle:
        se = math.sqrt(y[t == 1].var(ddof=1) / max(n_t, 1) + y[t == 0].var(ddof=1)
                       / max(len(t) - n_t, 1)) if min(n_t, len(t) - n_t) > 1 else math.nan
        bas, haut = _intervalle_inversion(obs, a, c, se, niveau)
    return {"p_valeur": p, "ic_bas": bas, "ic_haut": haut, "tirages": tirages}


def _logit_lots(t: np.ndarray, z: np.ndarray, iterations: int = 25) -> np.ndarray:
    """Maximum-likelihood logits of each row of t (B x n) on z (n x k), by batched Newton
    steps (ridge 1e-8); returns the fitted probabilities (B x n)."""
    b_, n = t.shape
    beta = np.zeros((b_, z.shape[1]))
    for _ in range(iterations):
        eta = np.clip(beta @ z.T, -30, 30)
        p = 1 / (1 + np.exp(-eta))
        w = p * (1 - p)
        info = np.einsum("bi,ij,ik->bjk", w, z, z) + 1e-8 * np.eye(z.shape[1])
        score = (t - p) @ z
        pas = np.linalg.solve(info, score[..., None])[..., 0]
        beta = beta + np.clip(pas, -5, 5)
        if np.max(np.abs(pas)) < 1e-8:
            break
    return 1 / (1 + np.exp(-np.clip(beta @ z.T, -30, 30)))


def _dr_lots(v: np.ndarray, tb: np.ndarray, eb: np.ndarray, x: np.ndarray,
             estimande: str) -> np.ndarray:
    """The IPW-RA estimate (see modeles.ipw_ra) for each draw b of the treatment (rows of
    tb, scores eb), as a linear function of the outcome v (n,) or (n, m): returns (B,) or
    (B, m)."""
    b_, n = tb.shape
    if estimande == "ATE":
        w = np.where(tb == 1, 1 / eb, 1 / (1 - eb))
        cible = np.ones_like(tb)
    else:
        w = np.where(tb == 1, 1.0, eb / (1 - eb))
        cible = tb
    moyennes = (cible @ x) / cible.sum(axis=1, keepdims=True)          # B x p
    xc = x[None, :, :] - moyennes[:, None, :]                           # B x n x p
    z = np.concatenate([np.ones((b_, n, 1)), tb[..., None], xc], axis=2)
    zw = z * w[..., None]
    info = np.einsum("bnj,bnk->bjk", zw, z) + 1e-9 * np.eye(z.shape[2])
    ligne = np.linalg.solve(info, zw.transpose(0, 2, 1))[:, 1, :]        # B x n: row of T
    return ligne @ v


def randomisation_ponderee(
    y: np.ndarray, traite: np.ndarray, z: np.ndarray, scores: np.ndarray,
    estimande: str = "ATT", niveau: float = NIVEAU, tirages: int = TIRAGES,
    graine: int = GRAINE, intervalle: bool = True, doublement_robuste: bool = False,
) -> dict:
    """Randomisation inference of the weighted (IPW) or doubly robust (IPW-RA) estimate
    for observational data: treatment redrawn household by household from the estimated
    propensity scores (Branson and Bind 2019, "Randomization-based inference for
    Bernoulli trial experiments and implications for observational studies", Stat
    Methods Med Res 28:1378-1398), the propensity model refitted on each draw, the
    statistic recomputed. p-value of the sharp null of no effect; under a constant
    additive effect, the interval of the tau not rejected (the statistics are linear in
    the outcome, so every tau is tested with the same draws, as `permutation_difference`).
    `z` is the propensity design (with constant).
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(traite, dtype=float)
    z = np.asarray(z, dtype=float)
    scores = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(graine)
    tb = (rng.random((tirages, len(t))) < scores[None, :]).astype(float)
    valides = (tb.sum(axis=1) >= 2) & ((1 - tb).sum(axis=1) >= 2)
    tb = tb[valides]
    if len(tb) < 20:
        return {"p_valeur": math.nan, "ic_bas": math.nan, "ic_haut": math.nan, "tirages": len(tb)}
    eb = _logit_lots(tb, z)
    if doublement_robuste:
        x = z[:, 1:]
        a, c = _dr_lots(np.column_stack([y, t]), tb, eb, x, estimande).T
        obs = float(_dr_lots(y, t[None, :], scores[None, :], x, estimande)[0])
    else:
        def estimer(v, tt, e):
            if estimande == "ATE":
                w1, w0 = tt / e, (1 - tt) / (1 - e)
            else:
                w1, w0 = tt, (1 - tt) * e / (1 - e)
            return (w1 @ v) / w1.sum(axis=-1) - (w0 @ v) / w0.sum(axis=-1)

        a, c = estimer(y, tb, eb), estimer(t, tb, eb)
        obs = float(estimer(y, t[None, :], scores[None, :])[0])
    ok = np.isfinite(a) & np.isfinite(c)
    a, c = a[ok], c[ok]
    p = float(_p_inversion(obs, a, c, np.array([0.0]))[0])
    bas = haut = math.nan
    if intervalle:
        bas, haut = _intervalle_inversion(obs, a, c, float(np.std(a - obs * c)), niveau)
    return {"p_valeur": p, "ic_bas": bas, "ic_haut": haut, "tirages": int(len(a))}


# ---------------------------------------------------------------------------
# Exact power of Fisher's test; power of Welch's test
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _rejets_fisher(n_t: int, n_c: int, alpha: float) -> np.ndarray:
    """(n_t + 1) x (n_c + 1) booleans: Fisher's two-sided exact test (as scipy's
    fisher_exact: tables at most as probable as the observed one, relative tolerance
    1e-7) rejects at `alpha` the table with k_t events of n_t and k_c of n_c."""
    k_t = np.arange(n_t + 1)[:, None]
    k_c = np.arange(n_c + 1)[None, :]
    lg = special.gammaln
    log_p = (lg(n_t + 1) - lg(k_t + 1) - lg(n_t - k_t + 1) + lg(n_c + 1) - lg(k_c + 1)
             - lg(n_c - k_c + 1))
    s = k_t + k_c
    log_p = log_p - (lg(n_t + n_c + 1) - lg(s + 1) - lg(n_t + n_c - s + 1))
    prob = np.exp(log_p)
    rejet = np.zeros((n_t + 1, n_c + 1), dtype=bool)
    for total in range(n_t + n_c + 1):
        i = np.arange(max(0, total - n_c), min(n_t, total) + 1)
        pmf = prob[i, total - i]
        ordre = np.sort(pmf)
        cumul = np.cumsum(ordre)
        p = cumul[np.searchsorted(ordre, pmf * (1 + 1e-7), side="right") - 1]
        rejet[i, total - i] = p <= alpha
    rejet.setflags(write=False)
    return rejet


def puissance_fisher(n_t: int, n_c: int, p_t: float, p_c: float, alpha: float = 0.05,
                     rejet: np.ndarray | None = None) -> float:
    """Exact power of Fisher's two-sided test: sum over all tables of their binomial
    probability where the test rejects."""
    if rejet is None:
        rejet = _rejets_fisher(n_t, n_c, alpha)
    b_t = stats.binom.pmf(np.arange(n_t + 1), n_t, p_t)
    b_c = stats.binom.pmf(np.arange(n_c + 1), n_c, p_c)
    return float(b_t @ rejet @ b_c)


# Above this many tables ((n_t + 1)(n_c + 1), some 600 households per group), Fisher's
# exact test and the normal approximation on the arcsine scale agree: the power uses the
# latter (statistiques.py), the enumeration would cost minutes.
MAX_TABLES_EXACTES = 400_000


def difference_detectable_fisher(n_t: int, n_c: int, p_c: float, puissance: float = 0.8,
                                 alpha: float = 0.05) -> float:
    """Smallest |p_t - p_c| Fisher's exact test detects with `puissance`, in the direction
    of 1/2 first (then the other); NaN when no difference is."""
    if n_t <= 0 or n_c <= 0 or not 0 <= p_c <= 1:
        return math.nan
    if (n_t + 1) * (n_c + 1) > MAX_TABLES_EXACTES:
        from capitalisation.evaluation.statistiques import difference_minimale_detectable

        return difference_minimale_detectable(n_t, n_c, p_c, puissance, alpha)
    rejet = _rejets_fisher(n_t, n_c, alpha)
    for signe in ((1, -1) if p_c <= 0.5 else (-1, 1)):
        limite = 1.0 - p_c if signe > 0 else p_c
        f = lambda d, signe=signe: puissance_fisher(n_t, n_c, p_c + signe * d, p_c, alpha, rejet) - puissance
        if limite <= 0 or f(limite) < 0:
            continue
        return float(optimize.brentq(f, 0.0, limite, xtol=1e-6))
    return math.nan


def taille_fisher(p_c: float, difference: float, puissance: float = 0.8, alpha: float = 0.05,
                  maximum: int = 5000) -> int | None:
    """Households per group (two equal groups) for Fisher's exact test to detect p_c +
    difference with `puissance`: the smallest n from which the power stays above it
    (the exact test's power is not monotone in n, so the search steps up from the normal
    approximation's lower start and checks the next sizes)."""
    p_t = p_c + difference
    if not (0 <= p_c <= 1 and 0 <= p_t <= 1) or difference == 0:
        return None
    h = abs(2 * math.asin(math.sqrt(p_t)) - 2 * math.asin(math.sqrt(p_c)))
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(puissance)
    n = max(2, int(0.7 * (z / h) ** 2 * 2))
    if (n + 1) ** 2 > MAX_TABLES_EXACTES:
        from capitalisation.evaluation.statistiques import taille_necessaire

        return taille_necessaire(p_c, difference, puissance, alpha)
    pas = max(1, n // 40)
    while n <= maximum:
        if puissance_fisher(n, n, p_t, p_c, alpha) >= puissance:
            # Step back to the first size reaching the power.
            while n > 2 and puissance_fisher(n - 1, n - 1, p_t, p_c, alpha) >= puissance:
                n -= 1
            return n
        n += pas
    return None


def puissance_welch(n_t: int, n_c: int, s_t: float, s_c: float, difference: float,
                    alpha: float = 0.05) -> float:
    """Power of Welch's two-sided t test (noncentral t, Welch-Satterthwaite degrees of
    freedom) for a true difference in means."""
    if n_t < 2 or n_c < 2 or not (s_t > 0 or s_c > 0):
        return math.nan
    v1, v2 = s_t**2 / n_t, s_c**2 / n_c
    se = math.sqrt(v1 + v2)
    ddl = (v1 + v2) ** 2 / (v1**2 / (n_t - 1) + v2**2 / (n_c - 1))
    q = stats.t.ppf(1 - alpha / 2, ddl)
    nc = difference / se
    with np.errstate(all="ignore"):
        p = float(stats.nct.sf(q, ddl, nc) + stats.nct.cdf(-q, ddl, nc))
    if not math.isfinite(p):  # scipy's noncentral t fails far in the tail: power is ~1 there
        p = float(stats.t.sf(q - nc, ddl) + stats.t.cdf(-q - nc, ddl))
    return min(max(p, 0.0), 1.0)


def difference_detectable_welch(n_t: int, n_c: int, s_t: float, s_c: float,
                                puissance: float = 0.8, alpha: float = 0.05) -> float:
    if n_t < 2 or n_c < 2 or not (math.isfinite(s_t) and math.isfinite(s_c)) or s_t + s_c <= 0:
        return math.nan
    se = math.sqrt(s_t**2 / n_t + s_c**2 / n_c)
    f = lambda d: puissance_welch(n_t, n_c, s_t, s_c, d, alpha) - puissance
    return float(optimize.brentq(f, 1e-9 * se, 8 * se, xtol=1e-8 * se))


def taille_welch(s_t: float, s_c: float, difference: float, puissance: float = 0.8,
                 alpha: float = 0.05, maximum: int = 1_000_000) -> int | None:
    if not (math.isfinite(s_t) and math.isfinite(s_c)) or not difference or s_t + s_c <= 0:
        return None
    n = 2
    while n <= maximum and puissance_welch(n, n, s_t, s_c, abs(difference), alpha) < puissance:
        n = n + 1 if n < 200 else int(n * 1.02) + 1
    if n > 200:  # refine the geometric steps
        while puissance_welch(n - 1, n - 1, s_t, s_c, abs(difference), alpha) >= puissance:
            n -= 1
    return n if n <= maximum else None


# ---------------------------------------------------------------------------
# Sensitivity and multiplicity
# ---------------------------------------------------------------------------


def e_valeur(rr: float) -> float:
    """E-value of a risk ratio (VanderWeele and Ding 2017): RR + sqrt(RR (RR - 1)), with RR
    replaced by 1/RR below 1; 1 at RR = 1; NaN when undefined."""
    if rr is None or not math.isfinite(rr) or rr <= 0:
        return math.nan
    if rr < 1:
        rr = 1 / rr
    return float(rr + math.sqrt(rr * (rr - 1)))


def e_valeur_intervalle(bas: float, haut: float) -> float:
    """E-value of the confidence limit closest to 1: 1 when the interval contains 1."""
    if not (math.isfinite(bas) and math.isfinite(haut)):
        return math.nan
    if bas <= 1 <= haut:
        return 1.0
    return e_valeur(bas if bas > 1 else haut)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (statsmodels multipletests); NaN kept."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    sortie = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        sortie[ok] = multipletests(p[ok], method="holm")[1]
    return sortie
