"""Regression estimators: logit AME, OLS, IPW ATT, difference-in-differences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from capitalisation.evaluation import modeles

HC1 = modeles.Erreurs("HC")


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _donnees(n=400, graine=3):
    rng = np.random.default_rng(graine)
    x = np.column_stack([rng.normal(size=n), (rng.random(n) < 0.4).astype(float)])
    t = (rng.random(n) < _expit(-0.2 + 0.7 * x[:, 0] - 0.5 * x[:, 1])).astype(int)
    y = (rng.random(n) < _expit(-0.4 + 0.6 * t + 0.8 * x[:, 0] + 0.4 * x[:, 1])).astype(float)
    grappes = rng.integers(0, 40, n)
    return y, t, x, grappes


# ---------------------------------------------------------------------------
# Standard errors
# ---------------------------------------------------------------------------


def test_choix_des_erreurs():
    assert modeles.choisir_erreurs(None).type == "HC"
    trente = modeles.choisir_erreurs(np.repeat([f"b{i}" for i in range(modeles.MIN_GRAPPES)], 3))
    assert trente.type == "cluster" and trente.n_grappes == 30 and not trente.avertissements
    assert trente.ddl(90, 4) == 29                                   # t with G - 1 df
    six = modeles.choisir_erreurs(np.repeat([f"b{i}" for i in range(6)], 3))
    assert six.type == "bootstrap" and six.avertissements[0][0] == "grappes_peu_nombreuses"
    assert "Webb" in six.avertissements[0][1]
    assert modeles.choisir_erreurs(np.array(["b1"] * 5)).type == "HC"


def test_colonnes_independantes():
    a = np.random.default_rng(0).normal(size=(20, 2))
    m = np.column_stack([np.ones(20), a, a[:, 0] + a[:, 1], np.zeros(20)])
    assert modeles.colonnes_independantes(m) == [0, 1, 2]


# ---------------------------------------------------------------------------
# Logit average marginal effect
# ---------------------------------------------------------------------------


def test_effet_marginal_logit_a_la_main():
    y, t, x, _ = _donnees()
    res = modeles.effet_marginal_logit(y, t, x, HC1)
    z = sm.add_constant(np.column_stack([t, x]))
    fit = sm.Logit(y, z).fit(disp=0, cov_type="HC1")
    z1, z0 = z.copy(), z.copy()
    z1[:, 1], z0[:, 1] = 1, 0
    p1, p0 = fit.predict(z1), fit.predict(z0)
    assert res["estimation"] == pytest.approx(np.mean(p1 - p0), rel=1e-8)
    assert res["p1"] == pytest.approx(p1.mean()) and res["p0"] == pytest.approx(p0.mean())
    # Same delta-method standard error as statsmodels' discrete-change margins.
    marges = fit.get_margeff(at="overall", dummy=True)
    assert res["estimation"] == pytest.approx(marges.margeff[0], rel=1e-6)
    assert res["erreur_type"] == pytest.approx(marges.margeff_se[0], rel=1e-4)
    assert not res["avertissements"]
    # Student t critical value on n - k degrees of freedom.
    from scipy import stats
    q = stats.t.ppf(0.975, len(y) - z.shape[1])
    assert res["ic_haut"] - res["estimation"] == pytest.approx(q * res["erreur_type"])
    # On the treated (ATT): the mean difference of predictions over the treated.
    att = modeles.effet_marginal_logit(y, t, x, HC1, estimande="ATT")
    assert att["estimation"] == pytest.approx(np.mean((p1 - p0)[t == 1]), rel=1e-8)


def test_effet_marginal_logit_par_grappe():
    y, t, x, grappes = _donnees()
    erreurs = modeles.choisir_erreurs(grappes)
    assert erreurs.type == "cluster"
    res = modeles.effet_marginal_logit(y, t, x, erreurs)
    z = sm.add_constant(np.column_stack([t, x]))
    fit = sm.Logit(y, z).fit(disp=0, cov_type="cluster", cov_kwds={"groups": grappes})
    marges = fit.get_margeff(at="overall", dummy=True)
    assert res["erreur_type"] == pytest.approx(marges.margeff_se[0], rel=1e-4)


def test_separation_complete():
    rng = np.random.default_rng(1)
    n = 60
    t = np.repeat([0, 1], n // 2)
    x = rng.normal(size=(n, 1))
    y = (x[:, 0] > 0).astype(float)          # the covariate predicts the outcome perfectly
    res = modeles.effet_marginal_logit(y, t, x, HC1)
    assert [code for code, _ in res["avertissements"]] == ["separation"]
    assert "programmation linéaire" in res["avertissements"][0][1]
    # No maximum likelihood estimate exists: none is given.
    assert math.isnan(res["estimation"]) and math.isnan(res["ic_bas"])


def test_separation_sur_un_niveau_de_covariable():
    rng = np.random.default_rng(2)
    n = 200
    t = (rng.random(n) < 0.5).astype(int)
    rare = np.zeros(n)
    rare[:6] = 1.0
    y = (rng.random(n) < 0.3 + 0.2 * t).astype(float)
    y[:6] = 1.0                              # the rare level always has the outcome
    res = modeles.effet_marginal_logit(y, t, rare[:, None], HC1)
    # Quasi-complete separation on a level: the maximum likelihood estimate does not exist.
    assert res["avertissements"][0][0] == "separation" and math.isnan(res["estimation"])


def test_separation_du_traitement():
    rng = np.random.default_rng(1)
    t = np.repeat([0, 1], 30)
    x = rng.normal(size=(60, 1))
    y = np.r_[(rng.random(30) < 0.4).astype(float), np.ones(30)]   # every treated has y = 1
    res = modeles.effet_marginal_logit(y, t, x, HC1)
    assert res["avertissements"][0][0] == "separation"
    assert "l'estimation n'est pas donnée" in res["avertissements"][0][1]
    assert math.isnan(res["estimation"]) and math.isnan(res["p_valeur"])


def test_grand_polynome_sans_separation():
    # An uncentred cubic and a large control pool: huge coefficient x SD products and
    # fitted probabilities under 1e-8, but the maximum likelihood estimate exists.
    rng = np.random.default_rng(8)
    n = 3000
    age = rng.integers(18, 55, n).astype(float)
    t = (rng.random(n) < _expit(-14 + 0.9 * age - 0.02 * age**2)).astype(int)
    x = np.column_stack([age, age**2, age**3])
    e, _, avs = modeles.score_propension(t, x, HC1)
    assert avs == []
    fit = sm.Logit(t, sm.add_constant(x)).fit(disp=0, method="newton", maxiter=200)
    assert e == pytest.approx(fit.predict(), rel=1e-6)


def test_traitement_confondu():
    t = np.repeat([0, 1], 10)
    res = modeles.effet_marginal_logit(np.tile([0.0, 1.0], 10), t, t[:, None].astype(float), HC1)
    assert math.isnan(res["estimation"])
    assert res["avertissements"][0][0] == "estimation_impossible"


# ---------------------------------------------------------------------------
# OLS
# ---------------------------------------------------------------------------


def test_ols_ajuste_comme_statsmodels():
    rng = np.random.default_rng(4)
    n = 300
    x = np.column_stack([rng.normal(30, 8, n), rng.integers(8, 16, n), rng.random(n) < 0.3])
    t = (rng.random(n) < 0.4).astype(int)
    y = 1500 * t + 50 * x[:, 0] + 300 * x[:, 1] + rng.normal(0, 2000, n)
    res = modeles.ols_ajuste(y, t, x, HC1)
    fit = sm.OLS(y, sm.add_constant(np.column_stack([t, x]))).fit(cov_type="HC3", use_t=True)
    assert res["estimation"] == pytest.approx(fit.params[1])
    assert res["erreur_type"] == pytest.approx(fit.bse[1])
    assert (res["ic_bas"], res["ic_haut"]) == pytest.approx(tuple(fit.conf_int()[1]))


# ---------------------------------------------------------------------------
# IPW for the ATT
# ---------------------------------------------------------------------------


def test_ipw_att_a_la_main():
    # One binary covariate: the logit propensity score is the share treated in each stratum.
    # X = 0: treated y 1, 0; controls y 1, 0, 0, 0 -> e = 1/3, control weight 1/2.
    # X = 1: treated y 1, 1, 0; controls y 0, 1       -> e = 3/5, control weight 3/2.
    x = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=float)[:, None]
    t = np.array([1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0])
    y = np.array([1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1], dtype=float)
    res = modeles.ipw_att(y, t, x, HC1)
    w = res["poids"]
    assert w[t == 1].tolist() == [1.0] * 5
    assert w[t == 0] == pytest.approx([0.5, 0.5, 0.5, 0.5, 1.5, 1.5], rel=1e-6)
    assert w[t == 0].sum() == pytest.approx(5)                 # normalised to n treated
    assert res["mu1"] == pytest.approx(3 / 5)
    assert res["mu0"] == pytest.approx((0.5 * 1 + 1.5 * 1) / 5, rel=1e-6)
    assert res["estimation"] == pytest.approx(0.2, rel=1e-6)
    # Same as the stratified effect on the treated: 2/5 (1/2 - 1/4) + 3/5 (2/3 - 1/2).
    assert res["estimation"] == pytest.approx(2 / 5 * 0.25 + 3 / 5 * (2 / 3 - 1 / 2), rel=1e-6)
    assert res["ess"] == pytest.approx(25 / (4 * 0.25 + 2 * 2.25), rel=1e-6)


def _sandwich_numerique(y, t, x, groupes=None):
    """Variance of the ATT from the stacked estimating equations, by finite differences."""
    z = sm.add_constant(x)
    p = z.shape[1]

    def psi(theta):
        beta, mu1, mu0 = theta[:p], theta[p], theta[p + 1]
        e = _expit(z @ beta)
        r = e / (1 - e)
        return np.column_stack([z * (t - e)[:, None], t * (y - mu1), (1 - t) * r * (y - mu0)])

    beta = sm.Logit(t, z).fit(disp=0).params
    e = _expit(z @ beta)
    r = np.where(t == 0, e / (1 - e), 0)
    theta = np.r_[beta, y[t == 1].mean(), np.sum(r * y) / r.sum()]
    a = np.zeros((p + 2, p + 2))
    for j in range(p + 2):
        h = 1e-6 * max(1.0, abs(theta[j]))
        plus, moins = theta.copy(), theta.copy()
        plus[j] += h
        moins[j] -= h
        a[:, j] = -(psi(plus).sum(0) - psi(moins).sum(0)) / (2 * h)
    valeurs = psi(theta)
    n = len(y)
    k = p + 2
    if groupes is None:
        b = valeurs.T @ valeurs
        facteur = n / (n - k)
    else:
        sommes = pd.DataFrame(valeurs).groupby(groupes).sum().to_numpy()
        b = sommes.T @ sommes
        g = len(np.unique(groupes))
        facteur = g / (g - 1) * (n - 1) / (n - k)
    a_inv = np.linalg.inv(a)
    v = a_inv @ b @ a_inv.T * facteur
    c = np.zeros(p + 2)
    c[p], c[p + 1] = 1, -1
    return theta[p] - theta[p + 1], math.sqrt(c @ v @ c)


def test_ipw_att_variance_m_estimation():
    y, t, x, grappes = _donnees()
    att, se = _sandwich_numerique(y, t, x)
    res = modeles.ipw_att(y, t, x, HC1)
    assert res["estimation"] == pytest.approx(att, rel=1e-8)
    assert res["erreur_type"] == pytest.approx(se, rel=1e-5)
    att, se = _sandwich_numerique(y, t, x, grappes)
    res = modeles.ipw_att(y, t, x, modeles.choisir_erreurs(grappes))
    assert res["erreur_type"] == pytest.approx(se, rel=1e-5)


def test_ipw_sans_covariable_egale_difference_brute():
    y, t, _, _ = _donnees()
    res = modeles.ipw_att(y, t, None, HC1)
    assert res["estimation"] == pytest.approx(y[t == 1].mean() - y[t == 0].mean())
    assert res["ess"] == pytest.approx((t == 0).sum())


def test_chevauchement_et_taille_effective():
    rng = np.random.default_rng(2)
    n = 200
    x = rng.normal(size=(n, 1))
    t = (rng.random(n) < _expit(4 * x[:, 0])).astype(int)      # strong selection
    y = (rng.random(n) < 0.5).astype(float)
    codes = [code for code, _ in modeles.ipw_att(y, t, x, HC1)["avertissements"]]
    assert "chevauchement_faible" in codes and "taille_effective_faible" in codes
    t = (rng.random(n) < 0.5).astype(int)                        # randomised
    assert not modeles.ipw_att(y, t, x, HC1)["avertissements"]


# ---------------------------------------------------------------------------
# Difference-in-differences
# ---------------------------------------------------------------------------


def test_did_deux_par_deux():
    # Households A, B accompanied; C, D controls; month -1 then month 0 (same calendar months).
    # Change: A -50, B -80 (mean -65); C -10, D -20 (mean -15); DiD = -50 exactly.
    menage = np.repeat(list("ABCD"), 2)
    mois = np.tile(["2023-01", "2023-02"], 4)
    traite = np.repeat([1, 1, 0, 0], 2)
    post = np.tile([0.0, 1.0], 4)
    y = np.array([100, 50, 200, 120, 100, 90, 300, 280], dtype=float)
    res = modeles.difference_en_differences(y, menage, mois, traite, post)
    assert res["estimation"] == pytest.approx(-50.0)
    assert res["n_menages"] == 4


def test_did_comme_regression_avec_indicatrices():
    rng = np.random.default_rng(5)
    lignes = []
    for i in range(16):
        debut = i % 4                                   # staggered index months
        traite = int(i < 8)
        effet_menage = rng.normal(0, 100)
        for rel in range(-3, 5):
            cal = debut + rel + 3
            y = effet_menage + 10 * cal - 40 * traite * (rel >= 0) + rng.normal(0, 15)
            lignes.append((f"m{i}", cal, traite, float(rel >= 0), y))
    p = pd.DataFrame(lignes, columns=["menage", "cal", "traite", "post", "y"])
    p = p.drop(index=[3, 40, 77])                       # unbalanced panel
    res = modeles.difference_en_differences(p["y"], p["menage"], p["cal"], p["traite"], p["post"])
    p["d"] = p["post"] * p["traite"]
    fit = smf.ols("y ~ d + post + C(menage) + C(cal)", data=p).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(p["menage"])[0]})
    assert res["estimation"] == pytest.approx(fit.params["d"], rel=1e-8)
    # statsmodels counts the household dummies in the small-sample factor (N-1)/(N-K); the
    # within estimator does not (they are nested in the clusters).
    n, k_complet, k_intra = len(p), fit.df_model + 1, 1 + 1 + (p["cal"].nunique() - 1)
    assert res["erreur_type"] == pytest.approx(
        fit.bse["d"] * math.sqrt((n - k_complet) / (n - k_intra)), rel=1e-6)
    assert res["ic_bas"] < -40 < res["ic_haut"]
    # Large-panel path: both sets of effects absorbed by alternating projections.
    projete = modeles.difference_en_differences(p["y"], p["menage"], p["cal"], p["traite"],
                                                p["post"], max_cellules=0)
    assert projete["estimation"] == pytest.approx(res["estimation"], rel=1e-9)
    assert projete["erreur_type"] == pytest.approx(res["erreur_type"], rel=1e-6)


# ---------------------------------------------------------------------------
# Firth's penalised logit (propensity score under separation)
# ---------------------------------------------------------------------------


def test_firth_table_deux_par_deux_demi_par_case():
    # One binary covariate: Firth's estimate is the log odds ratio with 1/2 added to each
    # cell, finite even when a cell is empty (x = 1: 7 events out of 7).
    x = np.r_[np.zeros(10), np.ones(7)]
    y = np.r_[np.ones(3), np.zeros(7), np.ones(7)]
    fit = modeles.ajuster_logit_firth(y, sm.add_constant(x))
    assert fit.converge
    assert fit.params == pytest.approx([math.log(3.5 / 7.5), math.log((7.5 / 0.5) / (3.5 / 7.5))],
                                       rel=1e-7)


def test_firth_maximise_la_vraisemblance_penalisee():
    rng = np.random.default_rng(8)
    z = sm.add_constant(np.column_stack([rng.normal(size=40), rng.random(40) < 0.3]))
    y = (z[:, 1] + rng.normal(0, 0.3, 40) > 0).astype(float)

    def penalisee(beta):
        p = _expit(z @ beta)
        info = (z * (p * (1 - p))[:, None]).T @ z
        return np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * np.linalg.slogdet(info)[1]

    fit = modeles.ajuster_logit_firth(y, z)
    for j in range(z.shape[1]):
        h = np.zeros(z.shape[1])
        h[j] = 1e-5
        assert (penalisee(fit.params + h) - penalisee(fit.params - h)) / 2e-5 == pytest.approx(
            0, abs=1e-5)


def test_ipw_score_de_firth_sous_separation():
    rng = np.random.default_rng(9)
    n = 80
    t = (rng.random(n) < 0.6).astype(int)
    niveau = np.zeros(n)
    niveau[np.flatnonzero(t == 1)[:8]] = 1.0        # a level found among the treated only
    x = np.column_stack([rng.normal(size=n), niveau])
    y = (rng.random(n) < 0.4 + 0.2 * t).astype(float)
    res = modeles.ipw_att(y, t, x, HC1)
    separation = [m for c, m in res["avertissements"] if c == "separation"]
    assert separation and "vraisemblance pénalisée de Firth" in separation[0]
    assert np.all((res["scores"] > 0) & (res["scores"] < 1))
    assert math.isfinite(res["ic_bas"]) and res["ic_bas"] < res["estimation"] < res["ic_haut"]
    # No control in the level: the weighted control mean is that of the model without it.
    sans = modeles.ipw_att(y, t, x[:, :1], HC1)
    assert res["estimation"] == pytest.approx(sans["estimation"], abs=0.05)


def test_resume_propension_comme_statsmodels_et_sous_separation():
    rng = np.random.default_rng(4)
    n = 200
    x = np.column_stack([rng.normal(size=n), (rng.random(n) < 0.4).astype(float)])
    t = (rng.random(n) < _expit(-0.3 + 0.8 * x[:, 0])).astype(int)
    resume = modeles.resume_propension(t, x, ["age", "marie"])
    fit = sm.Logit(t, sm.add_constant(x)).fit(disp=0)
    assert resume["methode"] == "maximum de vraisemblance" and resume["n"] == n
    assert resume["log_vraisemblance"] == pytest.approx(fit.llf, abs=1e-8)
    assert [c["terme"] for c in resume["coefficients"]] == ["constante", "age", "marie"]
    assert [c["coefficient"] for c in resume["coefficients"]] == pytest.approx(fit.params, abs=1e-6)
    # Model-based standard errors (inverse information), as Stata's logit and R's glm.
    assert [c["erreur_type"] for c in resume["coefficients"]] == pytest.approx(fit.bse, rel=1e-6)
    # A level found among the treated only: Firth's penalised likelihood, said so.
    x[:, 1] = 0.0
    x[np.flatnonzero(t == 1)[:6], 1] = 1.0
    resume = modeles.resume_propension(t, x, ["age", "marie"])
    assert resume["methode"] == "Firth"
    firth = modeles.ajuster_logit_firth(t.astype(float), sm.add_constant(x))
    assert [c["coefficient"] for c in resume["coefficients"]] == pytest.approx(firth.params)
