"""Regression estimators of the comparison: logit average marginal effect, adjusted OLS,
inverse-probability weighting for the effect on the accompanied (ATT) and the
difference-in-differences of the monthly debt panel.

Inputs are arrays (outcome, 0/1 treatment, a float design of covariates without
constant); outputs are dicts of numbers plus a list of warnings `(code, message)` in
French. Nothing here knows about projects or the warehouse.

Standard errors
---------------
Clustered by the grappe (landlord) when it has at least `MIN_GRAPPES` distinct values,
heteroskedasticity-robust (HC1) otherwise: with fewer clusters the cluster-robust
variance is itself too noisy to be trusted (Cameron and Miller 2015). Intervals are
normal (Wald) except for the difference-in-differences, which uses Student t with
G - 1 degrees of freedom (G households), as Stata's `xtreg, fe vce(cluster)`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, stats

from capitalisation.evaluation.statistiques import NIVEAU, taille_effective

# Fewer distinct clusters than this: HC1 robust errors instead of cluster-robust ones.
MIN_GRAPPES = 10

# Separation diagnostics of a logit: fitted probabilities this close to 0 or 1, or a
# coefficient moving the log-odds by more than this per standard deviation of its column.
SEUIL_PROBA_EXTREME = 1e-8
SEUIL_COEF_STANDARDISE = 10.0
# Standard error of the treatment's log-odds above which, with a separation warning, the
# treatment is taken to be caught in the separation (an odds-ratio interval of e^+-10).
SEUIL_ERREUR_TRAITEMENT = 5.0

# Overlap of propensity scores: scores outside [SCORE_MIN, SCORE_MAX], or treated scores
# outside the range of the control scores, for more than PART_HORS_SUPPORT of households.
SCORE_MIN, SCORE_MAX = 0.05, 0.95
PART_HORS_SUPPORT = 0.10

# Effective sample size of the control weights: warn under ESS_MIN or under
# ESS_PART_MIN of the number of controls.
ESS_MIN = 20.0
ESS_PART_MIN = 0.5

Avertissement = tuple[str, str]


def _fr(x: float, decimales: int = 1) -> str:
    return f"{x:.{decimales}f}".replace(".", ",")


@dataclass
class Erreurs:
    """How standard errors are computed: cluster-robust by `groupes`, or HC1."""

    type: str
    groupes: np.ndarray | None = None
    n_grappes: int = 0
    avertissements: list[Avertissement] = field(default_factory=list)

    @property
    def libelle(self) -> str:
        if self.type == "cluster":
            return f"groupées par grappe ({self.n_grappes} grappes)"
        return "robustes (HC1)"

    def statsmodels(self) -> dict:
        if self.type == "cluster":
            return {"cov_type": "cluster", "cov_kwds": {"groups": self.groupes}}
        return {"cov_type": "HC1"}


def choisir_erreurs(grappes: np.ndarray | pd.Series | None) -> Erreurs:
    """Cluster-robust errors when `grappes` has at least MIN_GRAPPES values, else HC1.

    Missing cluster labels each form their own cluster.
    """
    if grappes is None:
        return Erreurs("HC1")
    serie = pd.Series(np.asarray(grappes, dtype=object))
    manquants = serie.isna()
    if manquants.any():
        serie = serie.astype(object)
        serie[manquants] = [f"__manquant_{i}" for i in np.flatnonzero(manquants)]
    codes, niveaux = pd.factorize(serie.astype(str))
    g = len(niveaux)
    if g >= MIN_GRAPPES:
        return Erreurs("cluster", np.asarray(codes, dtype=np.int64), g)
    avs = []
    if g >= 2:
        avs.append(("grappes_peu_nombreuses",
                    (f"{g} grappes (moins de {MIN_GRAPPES}) : erreurs robustes HC1 au lieu "
                    "d'erreurs groupées par grappe")))
    return Erreurs("HC1", None, g, avs)


def _correction(erreurs: Erreurs, n: int, k: int) -> float:
    """Small-sample factor of a sandwich variance (Stata's conventions)."""
    if erreurs.type == "cluster":
        g = erreurs.n_grappes
        return g / (g - 1) * (n - 1) / max(n - k, 1)
    return n / max(n - k, 1)


def colonnes_independantes(matrice: np.ndarray, tolerance: float = 1e-7) -> list[int]:
    """Indices of a maximal set of linearly independent columns, chosen left to right.

    Modified Gram-Schmidt on unit-norm columns: a column is kept when what it adds to
    the span of the columns already kept has a norm above `tolerance`. Put the columns
    that must be kept (constant, treatment) first.
    """
    m = np.asarray(matrice, dtype=float)
    n, k = m.shape
    base = np.empty((n, min(n, k)))
    gardees: list[int] = []
    for j in range(k):
        norme = np.linalg.norm(m[:, j])
        if norme == 0 or not np.isfinite(norme):
            continue
        v = m[:, j] / norme
        if gardees:
            q = base[:, : len(gardees)]
            v = v - q @ (q.T @ v)
            v = v - q @ (q.T @ v)
        r = np.linalg.norm(v)
        if r > tolerance and len(gardees) < n:
            base[:, len(gardees)] = v / r
            gardees.append(j)
    return gardees


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -700, 700)))


def _ajuster_logit_ml(y: np.ndarray, z: np.ndarray, erreurs: Erreurs):
    """Maximum-likelihood logit by Newton-Raphson: (fit or None, separation reasons, error)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            fit = sm.Logit(y, z).fit(method="newton", maxiter=100, disp=0, **erreurs.statsmodels())
        except (np.linalg.LinAlgError, ValueError, PerfectSeparationError) as exc:
            return None, [], str(exc)
        p = fit.predict()
    raisons = []
    if not fit.mle_retvals.get("converged", True):
        raisons.append("non-convergence")
    if np.any((p < SEUIL_PROBA_EXTREME) | (p > 1 - SEUIL_PROBA_EXTREME)):
        raisons.append("prédiction parfaite de certains ménages")
    ecarts = z.std(axis=0)
    standardises = np.abs(np.asarray(fit.params) * ecarts)[ecarts > 0]
    if np.any(standardises > SEUIL_COEF_STANDARDISE) or not np.all(np.isfinite(fit.bse)):
        raisons.append("coefficients démesurés")
    return fit, raisons, None


def _ajuster_logit(y: np.ndarray, z: np.ndarray, erreurs: Erreurs, quoi: str):
    """Fit a logit by Newton-Raphson; return (fit or None, warnings)."""
    fit, raisons, erreur = _ajuster_logit_ml(y, z, erreurs)
    if fit is None:
        return None, [("separation", (f"{quoi} : le modèle logistique n'a pas pu être ajusté "
                                      f"(séparation ou colinéarité : {erreur})"))]
    avs: list[Avertissement] = []
    if raisons:
        avs.append(("separation", f"{quoi} : séparation dans le modèle logistique ("
                    + ", ".join(raisons) + ") : estimation non fiable"))
    return fit, avs


def _normal(estimation: float, se: float, niveau: float) -> dict[str, float]:
    if not (np.isfinite(se) and se > 0):
        return {"estimation": estimation, "ic_bas": math.nan, "ic_haut": math.nan, "p_valeur": math.nan,
                    "erreur_type": se}
    z = float(stats.norm.ppf(0.5 + niveau / 2))
    return {"estimation": estimation, "ic_bas": estimation - z * se, "ic_haut": estimation + z * se,
                "p_valeur": float(2 * stats.norm.sf(abs(estimation) / se)), "erreur_type": se}


def _vide(**autres) -> dict:
    return dict(estimation=math.nan, ic_bas=math.nan, ic_haut=math.nan, p_valeur=math.nan,
                erreur_type=math.nan, **autres)


def _design_ajuste(traite: np.ndarray, x: np.ndarray | None, quoi: str):
    """[1, traite, independent covariates], or (None, warning) when the treatment lies in
    the span of the covariates (no household comparable across cohorts: not identified)."""
    z = _design(traite, x)
    gardees = colonnes_independantes(z)
    sans_traitement = colonnes_independantes(np.delete(z, 1, axis=1))
    if gardees[:2] != [0, 1] or len(gardees) == len(sans_traitement):
        return None, [("estimation_impossible", ("le traitement est entièrement déterminé par les "
                       f"covariables : {quoi} non estimable"))]
    return z[:, gardees], []


def _design(traite: np.ndarray, x: np.ndarray | None, avec_traitement: bool = True) -> np.ndarray:
    n = len(traite)
    blocs = [np.ones((n, 1))]
    if avec_traitement:
        blocs.append(np.asarray(traite, dtype=float)[:, None])
    if x is not None and x.size:
        blocs.append(np.asarray(x, dtype=float))
    return np.hstack(blocs)


# ---------------------------------------------------------------------------
# Logit: average marginal effect of treatment
# ---------------------------------------------------------------------------


def effet_marginal_logit(
    y: np.ndarray, traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs,
    niveau: float = NIVEAU,
) -> dict:
    """Average marginal effect of treatment from logit(y) ~ 1 + traite + x.

    AME = mean over all households of P(y=1 | T=1, x_i) - P(y=1 | T=0, x_i); its
    variance by the delta method, g' V g with g = mean(p1 (1-p1) z1 - p0 (1-p0) z0) and
    V the (cluster or HC1) robust covariance of the coefficients, conditional on the
    observed covariates (as Stata's `margins, dydx()` and statsmodels' get_margeff with
    dummy=True). Also returns p1 and p0, the mean predicted probabilities. When the
    treatment itself is caught in a separation, the interval and p-value are left
    missing (NaN).
    """
    y = np.asarray(y, dtype=float)
    z, avs = _design_ajuste(np.asarray(traite, dtype=float), x, "effet marginal")
    if z is None:
        return _vide(p1=math.nan, p0=math.nan, avertissements=avs)
    fit, avs = _ajuster_logit(y, z, erreurs, "Modèle du résultat")
    if fit is None:
        return _vide(p1=math.nan, p0=math.nan, avertissements=avs)
    beta = np.asarray(fit.params)
    z1, z0 = z.copy(), z.copy()
    z1[:, 1], z0[:, 1] = 1.0, 0.0
    p1, p0 = _expit(z1 @ beta), _expit(z0 @ beta)
    ame = float(np.mean(p1 - p0))
    g = ((p1 * (1 - p1))[:, None] * z1 - (p0 * (1 - p0))[:, None] * z0).mean(axis=0)
    v = float(g @ np.asarray(fit.cov_params()) @ g)
    b_t, se_t = float(beta[1]), float(np.asarray(fit.bse)[1])
    traitement_separe = avs and (not np.isfinite(se_t) or abs(b_t) > SEUIL_COEF_STANDARDISE
                                 or se_t > SEUIL_ERREUR_TRAITEMENT)
    if traitement_separe:
        # The treatment itself is caught in the separation: its coefficient has no finite
        # estimate and the delta-method interval is meaningless (often absurdly narrow),
        # so only the estimate is kept. Separation on a covariate level alone leaves the
        # treatment coefficient and its interval usable (with the warning).
        res = _normal(ame, math.nan, niveau)
        avs = [(code, message + " ; intervalle et p-valeur non calculés") for code, message in avs]
    else:
        res = _normal(ame, math.sqrt(v) if v >= 0 else math.nan, niveau)
    res.update(p1=float(p1.mean()), p0=float(p0.mean()), avertissements=avs)
    return res


# ---------------------------------------------------------------------------
# OLS adjusted for covariates
# ---------------------------------------------------------------------------


def ols_ajuste(
    y: np.ndarray, traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs,
    niveau: float = NIVEAU,
) -> dict:
    """Coefficient of treatment in the OLS of y on 1 + traite + x (robust errors)."""
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    z, avs = _design_ajuste(np.asarray(traite, dtype=float), x, "régression")
    if z is None:
        return _vide(avertissements=avs)
    if len(y) <= z.shape[1]:
        return _vide(avertissements=[("estimation_impossible", ("trop peu de ménages pour le "
                                      "nombre de covariables"))])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        fit = sm.OLS(y, z).fit(**erreurs.statsmodels())
    res = _normal(float(fit.params[1]), float(fit.bse[1]), niveau)
    res["avertissements"] = []
    return res


# ---------------------------------------------------------------------------
# Propensity score and inverse-probability weighting for the ATT
# ---------------------------------------------------------------------------


@dataclass
class LogitFirth:
    """A logit fitted by Firth's penalised likelihood (see `ajuster_logit_firth`)."""

    params: np.ndarray
    levier: np.ndarray  # diagonal of the hat matrix W^1/2 Z (Z'WZ)^-1 Z'W^1/2 at the estimate
    converge: bool
    iterations: int


def ajuster_logit_firth(y: np.ndarray, z: np.ndarray, max_iterations: int = 100,
                        tolerance: float = 1e-8, pas_max: float = 5.0) -> LogitFirth:
    """Logit by Firth's penalised likelihood (Firth 1993; Heinze and Schemper 2002).

    Maximises l(b) + 1/2 log det I(b), with I = Z'WZ the Fisher information, by Newton
    steps on the modified score U*(b) = Z'(y - p + h (1/2 - p)), h the leverages, with
    the step capped at `pas_max` and halved while the penalised log-likelihood falls (as
    R's logistf). The estimate is finite even under complete or quasi-complete
    separation, and its fitted probabilities stay strictly inside ]0, 1[; with a single
    binary covariate it is the log odds ratio of the 2 x 2 table with 1/2 added to each
    cell.
    """
    y = np.asarray(y, dtype=float)
    z = np.asarray(z, dtype=float)

    def etat(beta):
        eta = z @ beta
        p = _expit(eta)
        w = p * (1 - p)
        info = (z * w[:, None]).T @ z
        signe, logdet = np.linalg.slogdet(info)
        # log(1 + exp(eta)) computed without overflow.
        log_vrais = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
        penalise = log_vrais + 0.5 * logdet if signe > 0 else -math.inf
        return p, w, info, penalise

    beta = np.zeros(z.shape[1])
    p, w, info, penalise = etat(beta)
    converge = False
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - returned after the loop
        inverse = np.linalg.pinv(info)
        levier = w * np.einsum("ij,jk,ik->i", z, inverse, z)
        score = z.T @ (y - p + levier * (0.5 - p))
        pas = inverse @ score
        plus_grand = float(np.max(np.abs(pas))) if pas.size else 0.0
        if plus_grand > pas_max:
            pas *= pas_max / plus_grand
        for _ in range(30):
            candidat = beta + pas
            p_c, w_c, info_c, penalise_c = etat(candidat)
            if penalise_c >= penalise - 1e-12:
                break
            pas = pas / 2
        beta, p, w, info, penalise = candidat, p_c, w_c, info_c, penalise_c
        if float(np.max(np.abs(pas))) < tolerance:
            converge = True
            break
    inverse = np.linalg.pinv(info)
    levier = w * np.einsum("ij,jk,ik->i", z, inverse, z)
    return LogitFirth(params=beta, levier=levier, converge=converge, iterations=iteration)


def _score_propension(
    traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, list[Avertissement]]:
    """(scores, design, residuals of the estimating equations, warnings).

    Maximum likelihood, unless the logit shows a separation: then Firth's penalised
    likelihood, whose scores stay inside ]0, 1[ (the residuals of its estimating
    equations are t - e + h (1/2 - e) instead of t - e).
    """
    t = np.asarray(traite, dtype=float)
    z = _design(t, x, avec_traitement=False)
    z = z[:, colonnes_independantes(z)]
    if z.shape[1] == 1:
        e = np.full(len(t), t.mean())
        return e, z, t - e, []
    fit, raisons, erreur = _ajuster_logit_ml(t, z, erreurs)
    if fit is not None and not raisons:
        e = _expit(z @ np.asarray(fit.params))
        return e, z, t - e, []
    firth = ajuster_logit_firth(t, z)
    motif = ", ".join(raisons) if fit is not None else f"échec de l'ajustement : {erreur}"
    if not firth.converge:
        return None, None, None, [("separation", (
            f"Score de propension : séparation dans le modèle logistique ({motif}) et "
            "vraisemblance pénalisée de Firth sans convergence : scores non estimés"))]
    e = _expit(z @ firth.params)
    return e, z, t - e + firth.levier * (0.5 - e), [("separation", (
        f"Score de propension : séparation dans le modèle logistique ({motif}) : "
        "coefficients estimés par vraisemblance pénalisée de Firth ; l'intervalle de l'ATT "
        "tient la pénalité pour fixe et peut être un peu trop étroit"))]


def score_propension(
    traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs
) -> tuple[np.ndarray | None, np.ndarray | None, list[Avertissement]]:
    """Propensity scores from logit(traite) ~ 1 + x: (scores, design used, warnings).

    Maximum likelihood; Firth's penalised likelihood when the logit shows a separation
    (with a `separation` warning), so that the scores stay strictly inside ]0, 1[.
    """
    e, z, _, avs = _score_propension(traite, x, erreurs)
    return e, z, avs


def poids_att(scores: np.ndarray, traite: np.ndarray) -> np.ndarray:
    """ATT weights: 1 for the treated, e/(1-e) for controls, rescaled to sum to n treated."""
    e = np.asarray(scores, dtype=float)
    t = np.asarray(traite, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(t == 1, 1.0, e / (1 - e))
    temoins = t == 0
    somme = r[temoins].sum()
    if somme > 0 and np.isfinite(somme):
        r[temoins] *= t.sum() / somme
    return r


def diagnostics_chevauchement(scores: np.ndarray, traite: np.ndarray) -> list[Avertissement]:
    """Poor overlap: treated outside the control range, or extreme scores, above 10 %."""
    e = np.asarray(scores, dtype=float)
    t = np.asarray(traite) == 1
    if t.all() or (~t).all():
        return []
    e_t, e_c = e[t], e[~t]
    hors = float(np.mean((e_t > e_c.max()) | (e_t < e_c.min())))
    extremes = float(np.mean((e < SCORE_MIN) | (e > SCORE_MAX)))
    if hors > PART_HORS_SUPPORT or extremes > PART_HORS_SUPPORT:
        return [("chevauchement_faible",
                 (f"recouvrement insuffisant des scores de propension : {_fr(100 * hors)} % des "
                 f"accompagnés hors de l'étendue des scores des témoins, {_fr(100 * extremes)} % "
                 f"des scores inférieurs à {_fr(SCORE_MIN, 2)} ou supérieurs à {_fr(SCORE_MAX, 2)}"))]
    return []


def diagnostic_taille_effective(ess: float, n_temoins: int) -> list[Avertissement]:
    if math.isnan(ess) or ess < ESS_MIN or ess < ESS_PART_MIN * n_temoins:
        return [("taille_effective_faible",
                 (f"taille effective des témoins pondérés {_fr(ess)} pour {n_temoins} témoins "
                 f"(seuils : {_fr(ESS_MIN, 0)} et {_fr(100 * ESS_PART_MIN, 0)} % des témoins) : "
                 "l'estimation repose sur peu de témoins"))]
    return []


def ipw_att(
    y: np.ndarray, traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs,
    niveau: float = NIVEAU,
) -> dict:
    """Inverse-probability-weighted effect on the treated (normalised, Hajek weights).

    Estimate: mean of y among the treated minus the weighted mean among controls with
    weights e/(1-e). Interval: M-estimation (Lunceford and Davidian 2004; Stefanski and
    Boos 2002), stacking the logit score equations of the propensity model with the two
    weighted-mean equations, so that the variance accounts for the estimated scores
    (a weighted regression treating the weights as known does not, and for the ATT it
    can understate the variance). The influence function of the ATT is

        IF_i = T_i (y_i - mu1) / n_t
               - [(1-T_i) r_i (y_i - mu0) + h' A^-1 z_i (T_i - e_i)] / sum_c r

    with r = e/(1-e), A = sum e(1-e) z z', h = sum_c r (y - mu0) z; its variance is
    the sum of squares of IF summed within clusters (or per household), times G/(G-1)
    (n-1)/(n-2) for clusters or n/(n-2) otherwise (the two parameters of the contrast).
    Also returns mu1 and mu0, the weights, the scores and the control ESS.

    When the propensity logit separates, the scores come from Firth's penalised
    likelihood (`score_propension`) and the residual T_i - e_i of the score equations
    becomes T_i - e_i + h_i (1/2 - e_i), the leverages h_i held fixed: the penalty, of
    order p/n, is treated as known, so the interval is first-order right but can be a
    little too narrow; the `separation` warning says so.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(traite, dtype=float)
    n_c = int((t == 0).sum())
    sortie = {"mu1": math.nan, "mu0": math.nan, "ess": math.nan, "poids": None, "scores": None}
    e, z, residus, avs = _score_propension(t, x, erreurs)
    if e is None:
        return _vide(**sortie, avertissements=avs)
    avs = avs + diagnostics_chevauchement(e, t)
    traites, temoins = t == 1, t == 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = e / (1 - e)
    r = np.where(temoins, r, 0.0)
    if not np.all(np.isfinite(r)) or r.sum() <= 0:
        return _vide(**sortie, avertissements=avs + [(
            "estimation_impossible", "scores de propension égaux à 0 ou 1 : poids non définis")])
    w = poids_att(e, t)
    ess = taille_effective(w[temoins])
    avs = avs + diagnostic_taille_effective(ess, n_c)
    n_t = traites.sum()
    mu1 = float(y[traites].mean())
    mu0 = float(np.sum(r * y) / r.sum())
    att = mu1 - mu0
    sortie.update(mu1=mu1, mu0=mu0, ess=ess, poids=w, scores=e)

    if_mu1 = np.where(traites, (y - mu1) / n_t, 0.0)
    psi0 = r * (y - mu0)
    a = (z * (e * (1 - e))[:, None]).T @ z
    h = z.T @ psi0
    try:
        correction_ps = z @ np.linalg.solve(a, h) * residus
    except np.linalg.LinAlgError:
        return _vide(**sortie, avertissements=avs + [(
            "estimation_impossible", "score de propension dégénéré : variance non calculable")])
    if_att = if_mu1 - (psi0 + correction_ps) / r.sum()
    n = len(y)
    if erreurs.type == "cluster":
        sommes = np.bincount(erreurs.groupes, weights=if_att)
        v = float(np.sum(sommes**2))
    else:
        v = float(np.sum(if_att**2))
    v *= _correction(erreurs, n, 2)
    res = _normal(att, math.sqrt(v), niveau)
    res.update(sortie, avertissements=avs)
    return res


# ---------------------------------------------------------------------------
# Difference-in-differences on the monthly panel
# ---------------------------------------------------------------------------


# Above this many cells (rows x calendar months), the calendar-month effects are absorbed
# by alternating projections instead of explicit dummies.
MAX_CELLULES_INDICATRICES = 5_000_000


def _indicatrice(codes: np.ndarray, n_groupes: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)),
                             shape=(len(codes), n_groupes))


def _moins_moyennes(m: np.ndarray, indic: sparse.csr_matrix, codes: np.ndarray,
                    effectifs: np.ndarray) -> np.ndarray:
    moyennes = (indic.T @ m) / (effectifs[:, None] if m.ndim == 2 else effectifs)
    return m - moyennes[codes]


def _projections_alternees(m: np.ndarray, groupes: list[tuple], tolerance: float = 1e-13,
                           max_iterations: int = 10_000) -> np.ndarray:
    """Residuals of m on two sets of fixed effects by alternating projections (Gaure 2013):
    demean by each factor in turn until nothing moves (exact at convergence)."""
    echelle = max(float(np.abs(m).max()), 1.0)
    for _ in range(max_iterations):
        avant = m
        for indic, codes, effectifs in groupes:
            m = _moins_moyennes(m, indic, codes, effectifs)
        if float(np.abs(m - avant).max()) <= tolerance * echelle:
            break
    return m


def difference_en_differences(
    y: np.ndarray, menage: np.ndarray, calendrier: np.ndarray, traite: np.ndarray,
    post: np.ndarray, niveau: float = NIVEAU,
    max_cellules: int = MAX_CELLULES_INDICATRICES,
) -> dict:
    """Two-way fixed-effects difference-in-differences, errors clustered by household.

        y_it = a_i + g_cal(t) + b post_it + d post_it x traite_i + e_it

    The household effects are absorbed by the within transformation (every column is
    demeaned by household). The calendar-month effects are explicit dummies demeaned the
    same way (Frisch-Waugh-Lovell: the same d as the full dummy regression, one column
    per calendar month, a few dozen for a project); for large panels (more than
    `max_cellules` rows x months) both sets of effects are absorbed by alternating
    projections instead, which gives the same d without building the dummies. `post`
    keeps its own coefficient because index months differ between households, so it is
    not absorbed by the calendar months; it is dropped when it is. Cluster-robust
    variance with the factor G/(G-1) (N-1)/(N-K), K the regressors and calendar months
    left after absorbing the household effects (nested in the clusters, so not counted,
    as reghdfe does), and a Student t interval with G - 1 degrees of freedom. Returns d
    as `estimation`.
    """
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    y = y[ok]
    menage = np.asarray(menage)[ok]
    calendrier = np.asarray(calendrier)[ok]
    t = np.asarray(traite, dtype=float)[ok]
    post = np.asarray(post, dtype=float)[ok]
    codes, niveaux = pd.factorize(pd.Series(menage))
    g = len(niveaux)
    n = len(y)
    res = _vide(n_obs=n, n_menages=g)
    if g < 2 or n == 0:
        return res
    cal_codes, cal_niveaux = pd.factorize(pd.Series(calendrier), sort=True)
    n_mois = len(cal_niveaux)
    indic = _indicatrice(codes, g)
    effectifs = np.asarray(indic.sum(axis=0)).ravel()
    x = np.column_stack([post * t, post])
    if n * n_mois <= max_cellules:
        if n_mois > 1:
            mois = np.zeros((n, n_mois - 1))
            lignes = np.flatnonzero(cal_codes > 0)
            mois[lignes, cal_codes[lignes] - 1] = 1.0
            x = np.column_stack([x, mois])
        xt = _moins_moyennes(x, indic, codes, effectifs)
        yt = _moins_moyennes(y, indic, codes, effectifs)
        absorbes = 0
    else:
        indic_mois = _indicatrice(cal_codes, n_mois)
        groupes = [(indic, codes, effectifs),
                   (indic_mois, cal_codes, np.asarray(indic_mois.sum(axis=0)).ravel())]
        transformes = _projections_alternees(np.column_stack([y, x]), groupes)
        yt, xt = transformes[:, 0], transformes[:, 1:]
        absorbes = n_mois - 1
    gardees = colonnes_independantes(xt)
    if not gardees or gardees[0] != 0:
        return res
    xt = xt[:, gardees]
    k = xt.shape[1] + absorbes
    if n - k <= 0:
        return res
    xtx_inv = np.linalg.inv(xt.T @ xt)
    beta = xtx_inv @ (xt.T @ yt)
    u = yt - xt @ beta
    scores = indic.T @ (xt * u[:, None])
    v = xtx_inv @ (scores.T @ scores) @ xtx_inv * (g / (g - 1)) * ((n - 1) / (n - k))
    se = math.sqrt(max(v[0, 0], 0.0))
    d = float(beta[0])
    if se > 0:
        q = float(stats.t.ppf(0.5 + niveau / 2, g - 1))
        res.update(estimation=d, ic_bas=d - q * se, ic_haut=d + q * se,
                   p_valeur=float(2 * stats.t.sf(abs(d) / se, g - 1)), erreur_type=se)
    else:
        res.update(estimation=d, erreur_type=se)
    return res
