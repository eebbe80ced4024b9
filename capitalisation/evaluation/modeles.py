"""Regression estimators of the comparison: logit average marginal effect, adjusted OLS,
inverse-probability weighting for the effect on the accompanied (ATT) and the
difference-in-differences of the monthly debt panel.

Inputs are arrays (outcome, 0/1 treatment, a float design of covariates without
constant); outputs are dicts of numbers plus a list of warnings `(code, message)` in
French. Nothing here knows about projects or the warehouse.

Standard errors
---------------
Without clusters: HC3 for the regressions (MacKinnon and White 1985; Long and Ervin 2000
for small samples), HC1 for the logit, the influence function for the weighted
estimators, all with Student t critical values on n - k degrees of freedom (k the
parameters). With clusters (the landlord): from `MIN_GRAPPES` clusters on, cluster-robust
(CR1) errors with t on G - 1 degrees of freedom; with fewer, the restricted wild cluster
bootstrap (`inference.bootstrap_sauvage_grappes`, Webb weights under 12 clusters) for every
estimator with a least-squares form (the weighted ones with their weights held fixed);
the logit's marginal effect then has no interval (stated). The difference-in-differences
uses t with G - 1 degrees of freedom (G households), as Stata's `xtreg, fe vce(cluster)`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, stats

from capitalisation.evaluation import inference
from capitalisation.evaluation.statistiques import NIVEAU, taille_effective

# Fewer distinct clusters than this: the wild cluster bootstrap instead of CR1 errors
# (MacKinnon, Nielsen and Webb 2023: CR1 with t(G - 1) over-rejects below a few dozen
# clusters, badly so with 6 to 12).
MIN_GRAPPES = 30

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
    """How standard errors are computed: "HC" (no clusters), "cluster" (CR1, t(G - 1)) or
    "bootstrap" (wild cluster bootstrap, fewer than MIN_GRAPPES clusters)."""

    type: str
    groupes: np.ndarray | None = None
    n_grappes: int = 0
    avertissements: list[Avertissement] = field(default_factory=list)
    tirages: int = inference.TIRAGES

    @property
    def libelle(self) -> str:
        if self.type == "cluster":
            return f"groupées par grappe (CR1, {self.n_grappes} grappes, t à {self.n_grappes - 1} ddl)"
        if self.type == "bootstrap":
            return (f"bootstrap sauvage par grappe ({self.n_grappes} grappes, poids de "
                    f"{'Webb' if self.n_grappes < 12 else 'Rademacher'}, {self.tirages} tirages)")
        return "robustes (HC3 pour les régressions, HC1 pour le logit), t de Student"

    def statsmodels(self, regression: bool = False) -> dict:
        if self.type == "cluster":
            return {"cov_type": "cluster", "cov_kwds": {"groups": self.groupes}}
        return {"cov_type": "HC3" if regression else "HC1"}

    def ddl(self, n: int, k: int) -> float:
        """Degrees of freedom of the t critical value."""
        if self.type == "cluster":
            return float(self.n_grappes - 1)
        return float(max(n - k, 1))


def choisir_erreurs(grappes: np.ndarray | pd.Series | None,
                    tirages: int = inference.TIRAGES) -> Erreurs:
    """CR1 errors when `grappes` has at least MIN_GRAPPES values, the wild cluster
    bootstrap from 2 to MIN_GRAPPES - 1, HC errors without clusters.

    Missing cluster labels each form their own cluster.
    """
    if grappes is None:
        return Erreurs("HC", tirages=tirages)
    serie = pd.Series(np.asarray(grappes, dtype=object))
    manquants = serie.isna()
    if manquants.any():
        serie = serie.astype(object)
        serie[manquants] = [f"__manquant_{i}" for i in np.flatnonzero(manquants)]
    codes, niveaux = pd.factorize(serie.astype(str))
    g = len(niveaux)
    codes = np.asarray(codes, dtype=np.int64)
    if g >= MIN_GRAPPES:
        return Erreurs("cluster", codes, g, tirages=tirages)
    if g >= 2:
        return Erreurs("bootstrap", codes, g, [(
            "grappes_peu_nombreuses",
            f"moins de {MIN_GRAPPES} grappes : intervalles et p-valeurs par bootstrap sauvage par "
            f"grappe (poids de {'Webb' if g < 12 else 'Rademacher'}, {tirages} tirages)")],
            tirages=tirages)
    return Erreurs("HC", None, g, tirages=tirages)


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
    """Maximum-likelihood logit by Newton-Raphson: (fit or None, separation reasons, error).

    The maximum likelihood estimate fails to exist exactly under complete or quasi-complete
    separation, which the linear programme of `inference.separation_lineaire` detects (as
    R's detectseparation); the other reason is a Newton-Raphson fit that does not converge.
    Neither the size of the coefficients nor fitted probabilities close to 0 or 1 say
    anything by themselves (an uncentred polynomial, or a large control pool, gives both).
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    if inference.separation_lineaire(y, z):
        return None, ["séparation complète ou quasi complète détectée par programmation "
                      "linéaire"], "séparation"
    cov = erreurs.statsmodels() if erreurs.type == "cluster" else {"cov_type": "HC1"}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            fit = sm.Logit(y, z).fit(method="newton", maxiter=200, disp=0, **cov)
        except (np.linalg.LinAlgError, ValueError, PerfectSeparationError) as exc:
            return None, [], str(exc)
    raisons = []
    if not fit.mle_retvals.get("converged", True) or not np.all(np.isfinite(fit.bse)):
        raisons.append("non-convergence du maximum de vraisemblance")
    return fit, raisons, None


def _ajuster_logit(y: np.ndarray, z: np.ndarray, erreurs: Erreurs, quoi: str):
    """Fit a logit; (fit, []) or (None, warnings naming why no estimate is given)."""
    fit, raisons, erreur = _ajuster_logit_ml(y, z, erreurs)
    if fit is None and raisons:
        return None, [("separation", f"{quoi} : " + ", ".join(raisons) + " : le maximum de "
                       "vraisemblance n'existe pas, l'estimation n'est pas donnée")]
    if fit is None:
        return None, [("estimation_impossible", (f"{quoi} : le modèle logistique n'a pas pu "
                                                 f"être ajusté ({erreur})"))]
    if raisons:
        return None, [("non_convergence", f"{quoi} : " + ", ".join(raisons)
                       + " : l'estimation n'est pas donnée")]
    return fit, []


def _normal(estimation: float, se: float, niveau: float, ddl: float = math.inf) -> dict[str, float]:
    """Wald interval and p-value with Student t critical values on `ddl` degrees of
    freedom (normal when infinite)."""
    if not (np.isfinite(se) and se > 0):
        return {"estimation": estimation, "ic_bas": math.nan, "ic_haut": math.nan, "p_valeur": math.nan,
                "erreur_type": se, "ddl": ddl}
    loi = stats.norm if not math.isfinite(ddl) else stats.t(ddl)
    q = float(loi.ppf(0.5 + niveau / 2))
    return {"estimation": estimation, "ic_bas": estimation - q * se, "ic_haut": estimation + q * se,
            "p_valeur": float(2 * loi.sf(abs(estimation) / se)), "erreur_type": se, "ddl": ddl}


def _inference_lineaire(y: np.ndarray, z: np.ndarray, erreurs: Erreurs, niveau: float,
                        poids: np.ndarray | None = None, colonne: int = 1) -> dict:
    """Coefficient `colonne` of the (weighted) least squares of y on z: HC3 and t(n - k)
    without clusters, CR1 and t(G - 1) with many, the wild cluster bootstrap with few;
    `methode_inference` says which."""
    import statsmodels.api as sm

    n, k = z.shape
    if erreurs.type == "bootstrap":
        res = inference.bootstrap_sauvage_grappes(y, z, erreurs.groupes, colonne, poids, niveau,
                                                  erreurs.tirages)
        res["methode_inference"] = (f"bootstrap sauvage restreint par grappe ({erreurs.n_grappes} "
                                    f"grappes, poids de {res['poids']}, {res['tirages']} tirages)")
        return res
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        modele = sm.WLS(y, z, weights=poids) if poids is not None else sm.OLS(y, z)
        fit = modele.fit(**erreurs.statsmodels(regression=True))
    ddl = erreurs.ddl(n, k)
    res = _normal(float(fit.params[colonne]), float(fit.bse[colonne]), niveau, ddl)
    res["methode_inference"] = (
        f"CR1 par grappe, t à {ddl:.0f} ddl" if erreurs.type == "cluster"
        else f"HC3, t à {ddl:.0f} ddl")
    return res


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
    niveau: float = NIVEAU, estimande: str = "ATE",
) -> dict:
    """Average marginal effect of treatment from logit(y) ~ 1 + traite + x.

    AME = mean of P(y=1 | T=1, x_i) - P(y=1 | T=0, x_i) over all households (estimande
    "ATE") or over the accompanied (estimande "ATT"); its variance by the delta method,
    g' V g with g = mean(p1 (1-p1) z1 - p0 (1-p0) z0) and V the robust (HC1, or CR1 by
    cluster) covariance of the coefficients, conditional on the observed covariates (as
    Stata's `margins, dydx()`), with Student t critical values on n - k degrees of
    freedom (G - 1 with clusters). Under separation or non-convergence no estimate is
    given (the maximum likelihood estimate does not exist); with few clusters the
    estimate is given without interval. Also returns p1 and p0, the mean predicted
    probabilities.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(traite, dtype=float)
    z, avs = _design_ajuste(t, x, "effet marginal")
    if z is None:
        return _vide(p1=math.nan, p0=math.nan, avertissements=avs)
    fit, avs = _ajuster_logit(y, z, erreurs, "Modèle logistique du résultat")
    if fit is None:
        return _vide(p1=math.nan, p0=math.nan, avertissements=avs)
    beta = np.asarray(fit.params)
    sous = t == 1 if estimande == "ATT" else np.ones(len(t), dtype=bool)
    z1, z0 = z[sous].copy(), z[sous].copy()
    z1[:, 1], z0[:, 1] = 1.0, 0.0
    p1, p0 = _expit(z1 @ beta), _expit(z0 @ beta)
    ame = float(np.mean(p1 - p0))
    g = ((p1 * (1 - p1))[:, None] * z1 - (p0 * (1 - p0))[:, None] * z0).mean(axis=0)
    v = float(g @ np.asarray(fit.cov_params()) @ g)
    if erreurs.type == "bootstrap":
        res = _normal(ame, math.nan, niveau)
        avs = avs + [("intervalle_non_applicable", (
            f"effet marginal du logit : moins de {MIN_GRAPPES} grappes, trop peu pour un "
            "intervalle groupé par grappe fiable ; estimation donnée sans intervalle ni p-valeur"))]
        res["methode_inference"] = "aucune (grappes peu nombreuses)"
    else:
        ddl = erreurs.ddl(len(y), z.shape[1])
        res = _normal(ame, math.sqrt(v) if v >= 0 else math.nan, niveau, ddl)
        res["methode_inference"] = (f"méthode delta, CR1 par grappe, t à {ddl:.0f} ddl"
                                    if erreurs.type == "cluster"
                                    else f"méthode delta, HC1, t à {ddl:.0f} ddl")
    res.update(p1=float(p1.mean()), p0=float(p0.mean()), avertissements=avs)
    return res


# ---------------------------------------------------------------------------
# OLS adjusted for covariates
# ---------------------------------------------------------------------------


def ols_ajuste(
    y: np.ndarray, traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs,
    niveau: float = NIVEAU,
) -> dict:
    """Coefficient of treatment in the OLS of y on 1 + traite + x: HC3 errors and t(n - k),
    CR1 and t(G - 1) with many clusters, the wild cluster bootstrap with few."""
    y = np.asarray(y, dtype=float)
    z, avs = _design_ajuste(np.asarray(traite, dtype=float), x, "régression")
    if z is None:
        return _vide(avertissements=avs)
    if len(y) <= z.shape[1]:
        return _vide(avertissements=[("estimation_impossible", ("trop peu de ménages pour le "
                                      "nombre de covariables"))])
    res = _inference_lineaire(y, z, erreurs, niveau)
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
    if not converge:
        # Steps that keep being halved around the optimum: converged when the modified
        # score is zero to numerical precision.
        score = z.T @ (y - p + levier * (0.5 - p))
        converge = bool(np.max(np.abs(score)) < 1e-6 * max(1.0, len(y)))
    return LogitFirth(params=beta, levier=levier, converge=converge, iterations=iteration)


@dataclass
class Propension:
    """A fitted propensity model: scores, the design used (with constant) and the indices
    of its columns in [constant, x], residuals of the estimating equations, coefficients
    and how they were obtained ("maximum de vraisemblance" or "Firth")."""

    scores: np.ndarray | None
    design: np.ndarray | None
    colonnes: list[int]
    residus: np.ndarray | None
    avertissements: list[Avertissement]
    params: np.ndarray | None = None
    methode: str = ""


def ajuster_propension(traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs) -> Propension:
    """The propensity logit of traite on 1 + x: maximum likelihood, unless it shows a
    separation; then Firth's penalised likelihood, whose scores stay inside ]0, 1[ (the
    residuals of its estimating equations are t - e + h (1/2 - e) instead of t - e)."""
    t = np.asarray(traite, dtype=float)
    z = _design(t, x, avec_traitement=False)
    colonnes = colonnes_independantes(z)
    z = z[:, colonnes]
    if z.shape[1] == 1:
        e = np.full(len(t), t.mean())
        return Propension(e, z, colonnes, t - e, [], np.array([math.log(t.mean() / (1 - t.mean()))])
                          if 0 < t.mean() < 1 else None, "maximum de vraisemblance")
    fit, raisons, erreur = _ajuster_logit_ml(t, z, erreurs)
    if fit is not None and not raisons:
        params = np.asarray(fit.params)
        e = _expit(z @ params)
        return Propension(e, z, colonnes, t - e, [], params, "maximum de vraisemblance")
    firth = ajuster_logit_firth(t, z)
    motif = ", ".join(raisons) if raisons else f"échec de l'ajustement : {erreur}"
    if not firth.converge:
        return Propension(None, None, colonnes, None, [("separation", (
            f"Score de propension : {motif} et vraisemblance pénalisée de Firth sans "
            "convergence : scores non estimés"))])
    e = _expit(z @ firth.params)
    return Propension(e, z, colonnes, t - e + firth.levier * (0.5 - e), [("separation", (
        f"Score de propension : {motif} : coefficients estimés par vraisemblance pénalisée de "
        "Firth au lieu du maximum de vraisemblance ; l'intervalle tient la pénalité pour fixe "
        "et peut être un peu trop étroit"))], firth.params, "Firth")


def _score_propension(
    traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, list[Avertissement]]:
    """(scores, design, residuals of the estimating equations, warnings) of
    `ajuster_propension`."""
    p = ajuster_propension(traite, x, erreurs)
    return p.scores, p.design, p.residus, p.avertissements


def resume_propension(traite: np.ndarray, x: np.ndarray | None, noms: list[str]) -> dict:
    """The propensity model as an evaluator checks it against a published fit: method,
    log-likelihood, and each term's coefficient with its model-based standard error (the
    inverse of the information Z'WZ, as Stata's `logit` and R's `glm` report it).
    `noms`: the names of the columns of x."""
    t = np.asarray(traite, dtype=float)
    p = ajuster_propension(t, x, Erreurs("HC"))
    if p.scores is None or p.params is None:
        return {"methode": p.methode or None, "log_vraisemblance": None, "n": int(len(t)),
                "coefficients": []}
    e = p.scores
    with np.errstate(divide="ignore", invalid="ignore"):
        log_vraisemblance = float(np.sum(t * np.log(e) + (1 - t) * np.log1p(-e)))
        information = (p.design * (e * (1 - e))[:, None]).T @ p.design
        erreurs_types = np.sqrt(np.diag(np.linalg.pinv(information)))
    termes = ["constante"] + list(noms)
    return {"methode": p.methode, "log_vraisemblance": log_vraisemblance, "n": int(len(t)),
            "coefficients": [{"terme": termes[j], "coefficient": float(b), "erreur_type": float(se)}
                             for j, b, se in zip(p.colonnes, p.params, erreurs_types)]}


def score_propension(
    traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs
) -> tuple[np.ndarray | None, np.ndarray | None, list[Avertissement]]:
    """Propensity scores from logit(traite) ~ 1 + x: (scores, design used, warnings).

    Maximum likelihood; Firth's penalised likelihood when the logit shows a separation
    (with a `separation` warning), so that the scores stay strictly inside ]0, 1[.
    """
    e, z, _, avs = _score_propension(traite, x, erreurs)
    return e, z, avs


def poids_estimande(scores: np.ndarray, traite: np.ndarray, estimande: str = "ATT") -> np.ndarray:
    """Weights of the estimand. ATT: 1 for the treated, e/(1-e) for controls rescaled to sum
    to the number treated; ATE: 1/e and 1/(1-e), each cohort rescaled to its size."""
    e = np.asarray(scores, dtype=float)
    t = np.asarray(traite, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if estimande == "ATE":
            r = np.where(t == 1, 1 / e, 1 / (1 - e))
        else:
            r = np.where(t == 1, 1.0, e / (1 - e))
    for masque in (t == 1, t == 0):
        somme = r[masque].sum()
        cible = (t == 1).sum() if estimande != "ATE" else masque.sum()
        if somme > 0 and np.isfinite(somme):
            r[masque] *= cible / somme
    return r


def poids_att(scores: np.ndarray, traite: np.ndarray) -> np.ndarray:
    """ATT weights: 1 for the treated, e/(1-e) for controls, rescaled to sum to n treated."""
    return poids_estimande(scores, traite, "ATT")


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
                 (f"recouvrement insuffisant des scores de propension : plus de "
                  f"{_fr(100 * PART_HORS_SUPPORT, 0)} % des accompagnés hors de l'étendue des scores "
                  f"des témoins, ou des scores inférieurs à {_fr(SCORE_MIN, 2)} ou supérieurs à "
                  f"{_fr(SCORE_MAX, 2)}"))]
    return []


def diagnostic_taille_effective(ess: float, n_temoins: int) -> list[Avertissement]:
    if math.isnan(ess) or ess < ESS_MIN or ess < ESS_PART_MIN * n_temoins:
        return [("taille_effective_faible",
                 (f"taille effective des témoins pondérés sous {_fr(ESS_MIN, 0)} ou sous "
                  f"{_fr(100 * ESS_PART_MIN, 0)} % des témoins : l'estimation repose sur peu de "
                  "témoins"))]
    return []


def ipw(
    y: np.ndarray, traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs,
    niveau: float = NIVEAU, estimande: str = "ATT",
) -> dict:
    """Inverse-probability-weighted effect (normalised, Hajek weights) on the treated (ATT:
    treated mean minus the e/(1-e)-weighted control mean) or in the population (ATE:
    1/e- and 1/(1-e)-weighted means).

    Interval: M-estimation (Lunceford and Davidian 2004), stacking the logit score
    equations of the propensity model with the weighted-mean equations, so that the
    variance accounts for the estimated scores. For a weighted mean with estimating
    function psi_i = w_i (y_i - mu), the influence function is
    [psi_i + h' A^-1 z_i (T_i - e_i)] / sum w, with h the derivative of sum psi in the
    logit coefficients and A = sum e(1-e) z z'; the variance is the sum of squares of the
    influence function of the contrast (summed within clusters), times n/(n-k) (or
    G/(G-1) (n-1)/(n-k) by cluster), k the propensity parameters plus two, with t on
    n - k (or G - 1) degrees of freedom. With few clusters, the wild cluster bootstrap
    of the weighted regression of y on the treatment (weights held fixed).

    When the propensity logit separates, the scores come from Firth's penalised
    likelihood and the residual T_i - e_i becomes T_i - e_i + h_i (1/2 - e_i), the
    leverages held fixed; the `separation` warning says so.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(traite, dtype=float)
    n_c = int((t == 0).sum())
    sortie = {"mu1": math.nan, "mu0": math.nan, "ess": math.nan, "poids": None, "scores": None,
              "design_ps": None}
    e, z, residus, avs = _score_propension(t, x, erreurs)
    if e is None:
        return _vide(**sortie, avertissements=avs)
    avs = avs + diagnostics_chevauchement(e, t)
    traites, temoins = t == 1, t == 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if estimande == "ATE":
            r1, r0 = np.where(traites, 1 / e, 0.0), np.where(temoins, 1 / (1 - e), 0.0)
        else:
            r1, r0 = traites.astype(float), np.where(temoins, e / (1 - e), 0.0)
    if not (np.all(np.isfinite(r0)) and np.all(np.isfinite(r1))) or r0.sum() <= 0:
        return _vide(**sortie, avertissements=avs + [(
            "estimation_impossible", "scores de propension égaux à 0 ou 1 : poids non définis")])
    w = poids_estimande(e, t, estimande)
    ess = taille_effective(w[temoins])
    avs = avs + diagnostic_taille_effective(ess, n_c)
    mu1 = float(np.sum(r1 * y) / r1.sum())
    mu0 = float(np.sum(r0 * y) / r0.sum())
    estimation = mu1 - mu0
    sortie.update(mu1=mu1, mu0=mu0, ess=ess, poids=w, scores=e, design_ps=z)
    n = len(y)
    k = z.shape[1] + 2
    if erreurs.type == "bootstrap":
        res = _inference_lineaire(y, np.column_stack([np.ones(n), t]), erreurs, niveau,
                                  poids=w)
        res["estimation"] = estimation
        res["methode_inference"] += " ; poids tenus pour fixes"
        res.update(sortie, avertissements=avs)
        return res
    psi1, psi0 = r1 * (y - mu1), r0 * (y - mu0)
    if estimande == "ATE":
        h1 = -(z * (traites * (y - mu1) * (1 - e) / np.where(traites, e, 1.0))[:, None]).sum(axis=0)
    else:
        h1 = np.zeros(z.shape[1])
    h0 = z.T @ psi0
    a = (z * (e * (1 - e))[:, None]).T @ z
    try:
        c1 = z @ np.linalg.solve(a, h1) * residus
        c0 = z @ np.linalg.solve(a, h0) * residus
    except np.linalg.LinAlgError:
        return _vide(**sortie, avertissements=avs + [(
            "estimation_impossible", "score de propension dégénéré : variance non calculable")])
    influence = (psi1 + c1) / r1.sum() - (psi0 + c0) / r0.sum()
    if erreurs.type == "cluster":
        v = float(np.sum(np.bincount(erreurs.groupes, weights=influence) ** 2))
    else:
        v = float(np.sum(influence**2))
    v *= _correction(erreurs, n, k)
    ddl = erreurs.ddl(n, k)
    res = _normal(estimation, math.sqrt(v), niveau, ddl)
    res["methode_inference"] = (f"M-estimation, {'CR1 par grappe' if erreurs.type == 'cluster' else 'sandwich'}"
                                f", t à {ddl:.0f} ddl")
    res.update(sortie, avertissements=avs)
    return res


def ipw_att(
    y: np.ndarray, traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs,
    niveau: float = NIVEAU,
) -> dict:
    """`ipw` for the effect on the treated."""
    return ipw(y, traite, x, erreurs, niveau, "ATT")


def ipw_ra(
    y: np.ndarray, traite: np.ndarray, x: np.ndarray | None, erreurs: Erreurs,
    niveau: float = NIVEAU, estimande: str = "ATT", scores: np.ndarray | None = None,
) -> dict:
    """Doubly robust effect by weighted regression adjustment: the coefficient of T in the
    weighted least squares of y on 1, T and x - xbar, weighted by the estimand's weights
    (ATT: 1 and e/(1-e); ATE: 1/e and 1/(1-e)), xbar the target population's mean
    (Robins, Sued, Lei-Gomez and Rotnitzky 2007; Wooldridge 2007). Consistent when either
    the propensity model is right (the weights balance x, and the coefficient is the
    weighted difference in means) or the outcome model is linear in x with a constant
    effect. One slope for both cohorts: at 25 versus 25 the per-cohort slopes of
    statsmodels' TreatmentEffect.ipw_ra double the parameters and the coverage study
    found its intervals too narrow. Interval: HC3 and t(n - k), or the wild cluster
    bootstrap, weights held fixed; for small samples the engine reports the randomisation
    interval instead (`inference.randomisation_ponderee`).
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(traite, dtype=float)
    if scores is None:
        e, _, _, avs = _score_propension(t, x, erreurs)
        if e is None:
            return _vide(avertissements=avs)
    else:
        e, avs = np.asarray(scores, dtype=float), []
    if x is None or not np.asarray(x).size:
        xc = np.zeros((len(y), 0))
    else:
        x = np.asarray(x, dtype=float)
        cible = t == 1 if estimande == "ATT" else np.ones(len(t), dtype=bool)
        xc = x - x[cible].mean(axis=0)
    z = np.column_stack([np.ones(len(y)), t, xc])
    gardees = colonnes_independantes(z)
    if gardees[:2] != [0, 1]:
        return _vide(avertissements=avs + [("estimation_impossible", (
            "le traitement est entièrement déterminé par les covariables : estimation "
            "doublement robuste impossible"))])
    z = z[:, gardees]
    if len(y) <= z.shape[1]:
        return _vide(avertissements=avs + [("estimation_impossible", (
            "trop peu de ménages pour le nombre de covariables du modèle doublement robuste"))])
    w = poids_estimande(e, t, estimande)
    res = _inference_lineaire(y, z, erreurs, niveau, poids=w)
    res["methode_inference"] += " ; poids tenus pour fixes"
    res["avertissements"] = avs
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
