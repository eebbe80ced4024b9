"""The comparison of one cohort table: rows, balance table, warnings, curves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from capitalisation import config
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.evaluation import inference, moteur
from capitalisation.evaluation import statistiques as st


def _table(n=300, graine=11):
    rng = np.random.default_rng(graine)
    x = rng.normal(size=n)
    volet = rng.choice(["maintien", "acces"], n, p=[0.6, 0.4])
    t = (rng.random(n) < 1 / (1 + np.exp(-(0.6 * x + 0.5 * (volet == "acces"))))).astype(int)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-0.2 + 0.5 * t + 0.6 * x)))).astype(int)
    taux = np.round(rng.uniform(0.1, 0.6, n), 3)
    taux[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"traite": t, "y": y, "x": x, "volet": volet, "taux": taux,
                         "dette": 1000 - 200 * t + 100 * x + rng.normal(0, 150, n)})


def _avertissements(lignes, methode):
    texte = lignes.loc[lignes["methode"] == methode, "avertissements"].iloc[0]
    return [morceau.split(":")[0] for morceau in texte.split(" | ") if morceau]


def test_resultat_binaire_lignes_et_valeurs():
    table = _table()
    lignes = moteur.comparer_resultat(table, "traite", "y", ["x", "volet", "taux"],
                                      projet_id="p1", horizon_mois=12)
    assert lignes.columns.tolist() == moteur.COLONNES_ESTIMATIONS
    assert lignes["methode"].tolist() == ["difference_brute", "rapport_risques",
                                          "logit_effet_marginal", "ipw_att", "ipw_ra_att",
                                          "puissance_mdd", "puissance_taille"]
    t, y = table["traite"], table["y"]
    k_t, n_t, k_c, n_c = int(y[t == 1].sum()), int((t == 1).sum()), int(y[t == 0].sum()), int((t == 0).sum())
    brute = lignes.iloc[0]
    assert (brute["n_traites"], brute["k_traites"], brute["n_temoins"], brute["k_temoins"]) == (
        n_t, k_t, n_c, k_c)
    d, b, h = st.difference_miettinen_nurminen(k_t, n_t, k_c, n_c)
    assert (brute["estimation"], brute["ic_bas"], brute["ic_haut"]) == pytest.approx((d, b, h))
    assert brute["p_valeur"] == pytest.approx(st.p_fisher(k_t, n_t, k_c, n_c))
    assert lignes.iloc[1]["estimation"] == pytest.approx((k_t / n_t) / (k_c / n_c))
    # Power of the test reported (Fisher's exact test), not of a z-test.
    assert lignes.iloc[5]["estimation"] == pytest.approx(
        inference.difference_detectable_fisher(n_t, n_c, k_c / n_c))
    # Size per group for 15 points from the control proportion, the harder direction.
    taille = lignes.iloc[6]
    attendu = max((inference.taille_fisher(k_c / n_c, e), k_c / n_c + e) for e in (0.15, -0.15))
    assert (taille["estimation"], taille["p_traites"]) == pytest.approx(attendu)
    assert taille["p_temoins"] == pytest.approx(k_c / n_c)
    assert lignes.iloc[3]["ess"] > 0 and math.isnan(lignes.iloc[0]["ess"])
    assert (lignes["projet_id"] == "p1").all() and (lignes["horizon_mois"] == 12).all()
    assert (lignes["avertissements"] == "").all()
    # Every covariate asked for is used, and the rows say so.
    assert lignes.loc[2, "covariables_utilisees"] == "x, volet, taux"
    assert (lignes.loc[2:4, "covariables_ecartees"] == "").all()
    assert lignes.loc[2, "methode_inference"].startswith("méthode delta")
    assert "randomisation" in lignes.loc[3, "methode_inference"]
    # E-values on the binary outcome's rows: from the risk ratio p_t / p_c.
    assert lignes.loc[1, "e_valeur"] == pytest.approx(inference.e_valeur((k_t / n_t) / (k_c / n_c)))


def test_resultat_continu():
    table = _table()
    lignes = moteur.comparer_resultat(table, "traite", "dette", ["x", "volet"])
    assert lignes["methode"].tolist() == ["difference_moyennes", "ols_ajuste", "ipw_att",
                                          "ipw_ra_att", "puissance_mdd", "puissance_taille"]
    taille = lignes.iloc[5]
    t, y = table["traite"], table["dette"]
    ecart = 0.25 * abs(y[t == 0].mean())
    assert taille["estimation"] == inference.taille_welch(y[t == 1].std(), y[t == 0].std(), ecart)
    mdd = lignes.iloc[4]
    assert inference.puissance_welch(int((t == 1).sum()), int((t == 0).sum()), y[t == 1].std(),
                                     y[t == 0].std(), mdd["estimation"]) == pytest.approx(0.8)
    assert taille["p_temoins"] - taille["p_traites"] == pytest.approx(ecart)
    ols = lignes.iloc[1]
    assert ols["ic_bas"] < -200 < ols["ic_haut"]
    assert lignes["k_traites"].isna().all()


def test_resultat_manquant_exclu_et_oui_non():
    table = _table(60)
    table["y_texte"] = np.where(table["y"] == 1, "Oui", "non").astype(object)
    table.loc[[0, 1, 2], "y_texte"] = None
    lignes = moteur.comparer_resultat(table, "traite", "y_texte")
    assert lignes.iloc[0]["n_traites"] + lignes.iloc[0]["n_temoins"] == 57
    valeurs, type_ = moteur.convertir_resultat(pd.Series(["vrai", "faux", None], name="r"))
    assert type_ == "binaire" and valeurs.tolist()[:2] == [1.0, 0.0]
    with pytest.raises(ErreurUtilisateur, match="ni binaire"):
        moteur.convertir_resultat(pd.Series(["a", "b"], name="r"))


def test_traitement_invalide():
    with pytest.raises(ErreurUtilisateur, match="valeurs trouvées : 2 \\(ligne 4\\)"):
        moteur.convertir_traitement(pd.Series([0, 1, 2], name="t"))
    with pytest.raises(ErreurUtilisateur, match="manquante.*ligne 4"):
        moteur.convertir_traitement(pd.Series([0, 1, None], name="t"))


def test_traitement_codes_du_contrat_et_oui_non():
    attendu = [1, 0, 1, 0]
    for valeurs in (["accompagne", "temoin", "Accompagné", "Témoin"], ["oui", "non", "Oui", "NON"],
                    ["1", "0", "1", "0"], [1, 0, 1, 0], [True, False, True, False]):
        assert moteur.convertir_traitement(pd.Series(valeurs, name="t")).tolist() == attendu


def test_avertissements_evenements_rares_et_secret():
    # 8 accompanied with 3 events, 30 controls with 12: few events and secrecy.
    table = pd.DataFrame({"t": [1] * 8 + [0] * 30, "y": [1] * 3 + [0] * 5 + [1] * 12 + [0] * 18})
    lignes = moteur.comparer_resultat(table, "t", "y")
    for methode in ("difference_brute", "rapport_risques", "logit_effet_marginal", "ipw_att"):
        codes = _avertissements(lignes, methode)
        assert "evenements_rares" in codes and "secret_statistique" in codes
    texte = lignes.loc[0, "avertissements"]
    assert f"accompagnés : dénominateur inférieur à {config.SEUIL_DENOMINATEUR}" in texte
    # The texts name no count of households (secrecy): no 8, 3, 5, 30, 12 or 18.
    import re
    for ligne in lignes["avertissements"]:
        nombres = set(re.findall(r"\d+", ligne)) - {str(config.SEUIL_DENOMINATEUR),
                                                    str(config.SEUIL_EFFECTIF - 1), "1", "10", "20", "50",
                                                    str(moteur.MIN_EVENEMENTS_INTERVALLE), "95"}
        assert not nombres & {"8", "3", "5", "30", "12", "18", "15", "23"}, ligne


def test_secret_sur_le_complement():
    # 40 treated with 38 events: the 2 without the event are under the threshold.
    table = pd.DataFrame({"t": [1] * 40 + [0] * 40, "y": [1] * 38 + [0] * 2 + [1] * 20 + [0] * 20})
    assert "secret_statistique" in _avertissements(moteur.comparer_resultat(table, "t", "y"),
                                                   "difference_brute")


def test_preparer_covariables():
    table = pd.DataFrame({"a": [1.0, np.nan, 3.0, 5.0], "c": ["x", "y", "y", None],
                          "b": [True, False, None, True]})
    cov = moteur.preparer_covariables(table, ["a", "c", "b"])
    assert cov.design["a"].tolist() == [1.0, 3.0, 3.0, 5.0]           # median imputation
    assert cov.design["a_manquant"].tolist() == [0.0, 1.0, 0.0, 0.0]
    assert "c=y" not in cov.design and "c=x" in cov.design           # reference: most frequent
    assert "c=manquant" in cov.design
    assert [(c, n) for c, n, _, _ in cov.lignes_equilibre if c == "c"] == [
        ("c", "manquant"), ("c", "x"), ("c", "y")]
    assert cov.design["b"].tolist() == [1.0, 0.0, 1.0, 1.0]


def test_tableau_equilibre_a_la_main():
    table = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "x": [1.0, 2, 3, 2, 4, 6],
                          "c": ["a", "a", "b", "a", "b", "b"]})
    eq = moteur.tableau_equilibre(table, "t", ["x"], ["c"], projet_id="p")
    assert eq.columns.tolist() == moteur.COLONNES_EQUILIBRE
    x = eq[eq["covariable"] == "x"].iloc[0]
    # ATT: standardised by the treated group's SD (1 here), as cobalt and MatchIt.
    assert x["smd_avant"] == pytest.approx(-2.0)
    assert (x["moyenne_traites"], x["moyenne_temoins"]) == (2.0, 4.0)
    assert x["ratio_variance_avant"] == pytest.approx(1 / 4)
    from scipy import stats
    assert x["ks_avant"] == pytest.approx(stats.ks_2samp([1, 2, 3], [2, 4, 6]).statistic)
    assert pd.isna(x["k_traites"]) and (x["n_traites"], x["n_temoins"]) == (3, 3)
    a = eq[(eq["covariable"] == "c") & (eq["niveau"] == "a")].iloc[0]
    p_t, p_c = 2 / 3, 1 / 3
    assert a["smd_avant"] == pytest.approx((p_t - p_c) / math.sqrt(p_t * (1 - p_t)))
    assert (a["k_traites"], a["k_temoins"]) == (2, 1)
    assert pd.isna(a["ratio_variance_avant"]) and a["ks_avant"] == pytest.approx(1 / 3)
    assert eq["desequilibre_avant"].all()
    # ATE: the pooled SD.
    ate = moteur.tableau_equilibre(table, "t", ["x"], ["c"], estimande="ATE")
    assert ate.loc[ate["covariable"] == "x", "smd_avant"].iloc[0] == pytest.approx(-2 / math.sqrt(2.5))


def test_equilibre_apres_ponderation():
    table = _table(600)
    eq = moteur.tableau_equilibre(table, "traite", ["x", "volet"])
    assert eq["desequilibre_avant"].any()
    modele = eq[eq["covariable"] != "score_propension"]
    assert (modele["smd_apres"].abs() < 0.1).all()              # the weights balance the model's covariates
    assert not modele["desequilibre_apres"].any()
    # The weighted control mean is the e/(1-e)-weighted mean.
    import statsmodels.api as sm
    cov = moteur.preparer_covariables(table, ["x", "volet"])
    t = table["traite"].to_numpy()
    e = sm.Logit(t, sm.add_constant(cov.design.to_numpy())).fit(disp=0).predict()
    w = e[t == 0] / (1 - e[t == 0])
    ligne = eq[eq["covariable"] == "x"].iloc[0]
    assert ligne["moyenne_ponderee_temoins"] == pytest.approx(np.sum(w * table["x"][t == 0]) / w.sum())
    assert eq.iloc[0]["covariable"] == "score_propension"


# Freireich et al. (1963) remission weeks, 6-MP (accompanied here) versus placebo.
MP6 = ([6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35],
       [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0])
PLACEBO = ([1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23], [1] * 21)


def test_survie_leucemie():
    table = pd.DataFrame({"t": [1] * 21 + [0] * 21, "duree": MP6[0] + PLACEBO[0],
                          "evt": MP6[1] + PLACEBO[1]})
    lignes, km = moteur.comparer_survie(table, "t", "duree", "evt", "remission", projet_id="p")
    logrank = lignes[lignes["methode"] == "logrank"].iloc[0]
    assert logrank["estimation"] == pytest.approx(16.79, abs=5e-3)
    assert (logrank["k_traites"], logrank["k_temoins"]) == (9, 21)
    cox = lignes[lignes["methode"] == "cox"].iloc[0]
    assert cox["estimation"] == pytest.approx(math.exp(-1.572), abs=5e-4)
    assert km.columns.tolist() == moteur.COLONNES_SURVIE
    placebo = km[km["cohorte"] == "temoin"]
    assert placebo["survie"].iloc[1] == pytest.approx(19 / 21)    # two relapses at week 1
    assert placebo["survie"].iloc[-1] == pytest.approx(0.0)


def test_trajectoires_et_did():
    panel = pd.DataFrame({
        "menage_id": np.repeat(list("ABCD"), 2),
        "mois": np.tile(pd.to_datetime(["2023-01-01", "2023-02-01"]), 4),
        "mois_relatif": np.tile([-1, 0], 4),
        "traite": np.repeat([1, 1, 0, 0], 2),
        "solde_fin_mois": [100, 50, 200, 120, 100, 90, 300, 280],
    })
    did, traj = moteur.comparer_trajectoires(panel, projet_id="p", horizon_mois=12)
    assert did.iloc[0]["methode"] == "did" and did.iloc[0]["estimation"] == pytest.approx(-50)
    assert (did.iloc[0]["n_traites"], did.iloc[0]["n_temoins"]) == (2, 2)
    assert "secret_statistique" in did.iloc[0]["avertissements"]
    assert traj.columns.tolist() == moteur.COLONNES_TRAJECTOIRES
    acc = traj[traj["cohorte"] == "accompagne"].set_index("mois_relatif")
    assert acc.loc[-1, "moyenne"] == 150 and acc.loc[0, "moyenne"] == 85 and acc.loc[0, "n"] == 2
    _n, _m, b, h = st.intervalle_moyenne(np.array([50.0, 120.0]))
    assert (acc.loc[0, "ic_bas"], acc.loc[0, "ic_haut"]) == pytest.approx((b, h))


def test_trajectoires_sans_mois_avant():
    panel = pd.DataFrame({"menage_id": ["A", "B"], "mois": ["2023-01", "2023-01"],
                          "mois_relatif": [0, 0], "traite": [1, 0], "solde_fin_mois": [1.0, 2.0]})
    did, _ = moteur.comparer_trajectoires(panel)
    assert math.isnan(did.iloc[0]["estimation"])
    assert "estimation_impossible" in did.iloc[0]["avertissements"]


# ---------------------------------------------------------------------------
# Covariates of each model: rare levels and events per parameter
# ---------------------------------------------------------------------------


def _petite_table(graine=5):
    """60 accompanied and 25 controls; a level found among the accompanied only."""
    rng = np.random.default_rng(graine)
    t = np.r_[np.ones(60, dtype=int), np.zeros(25, dtype=int)]
    n = len(t)
    dette = rng.gamma(2, 1.5, n) + 1.0 * t
    procedure = (rng.random(n) < 0.3 + 0.2 * t).astype(int)
    public = np.where(rng.random(n) < 0.5, "aucun", "pdalhpd").astype(object)
    public[:6] = "violences"                                  # six accompanied, no control
    composition = np.resize(["isole", "isole", "couple", "monoparental"], n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.5 + 0.8 * t - 0.3 * dette)))).astype(int)
    return pd.DataFrame({"traite": t, "y": y, "dette": dette, "procedure": procedure,
                         "public": public, "composition": composition,
                         "montant": 1000 * dette - 300 * t + rng.normal(0, 500, n)})


def test_design_du_modele_garde_tout_sauf_le_colineaire():
    table = _petite_table()
    table["dette_bis"] = 2 * table["dette"]                   # says the same thing as dette
    table["constante"] = 1.0
    cov = moteur.preparer_covariables(table, ["dette", "procedure", "public", "composition",
                                              "dette_bis", "constante"])
    d = moteur.design_du_modele(cov, table["traite"].to_numpy())
    assert d.utilisees == ["dette", "procedure", "public", "composition"]
    assert d.ecartees == ["dette_bis (colinéaire aux autres)", "constante (constante)"]
    assert d.x.shape[1] == 6                                  # every level of public kept


def test_comparaison_sur_un_petit_echantillon():
    table = _petite_table()
    covariables = ["dette", "procedure", "public", "composition"]
    lignes = moteur.comparer_resultat(table, "traite", "y", covariables).set_index("methode")
    # Nothing is dropped without saying so: every covariate enters every model.
    for methode in ("logit_effet_marginal", "ipw_att", "ipw_ra_att"):
        assert lignes.loc[methode, "covariables_utilisees"] == "dette, procedure, public, composition"
        assert "covariables_reduites" not in lignes.loc[methode, "avertissements"]
    assert "peu_d_evenements_par_parametre" in lignes.loc["ipw_att", "codes_avertissement"]
    continu = moteur.comparer_resultat(table, "traite", "montant", covariables).set_index("methode")
    import statsmodels.api as sm
    cov = moteur.preparer_covariables(table, covariables)
    x = np.column_stack([np.ones(len(table)), table["traite"], cov.design.to_numpy()])
    ols = sm.OLS(table["montant"].to_numpy(), x).fit(cov_type="HC3", use_t=True)
    assert continu.loc["ols_ajuste", "estimation"] == pytest.approx(ols.params[1])
    assert continu.loc["ols_ajuste", "ic_bas"] == pytest.approx(ols.conf_int()[1, 0])


def test_separation_du_resultat_pas_de_ligne_rebaptisee():
    # Every accompanied household at level « violences » has the event: the logit of the
    # outcome separates; the row gives no estimate and says why, instead of showing the
    # raw difference under its name.
    table = _petite_table()
    table.loc[:5, "y"] = 1
    table["violences"] = (table["public"] == "violences").astype(int)
    lignes = moteur.comparer_resultat(table, "traite", "y", ["violences", "dette"]).set_index("methode")
    logit = lignes.loc["logit_effet_marginal"]
    assert math.isnan(logit["estimation"]) and "separation" in logit["codes_avertissement"]
    assert "programmation linéaire" in logit["avertissements"]
    ipw = lignes.loc["ipw_att"]
    assert "Firth" in ipw["avertissements"] and math.isfinite(ipw["estimation"])


def test_modele_sans_covariable_n_est_pas_la_difference_brute():
    table = _petite_table().iloc[:80]               # 60 and 20: enough events for an interval
    lignes = moteur.comparer_resultat(table, "traite", "y", []).set_index("methode")
    brute, logit = lignes.loc["difference_brute"], lignes.loc["logit_effet_marginal"]
    # The saturated logit has the raw difference as estimate, with its own (delta method)
    # interval, not the raw difference's relabelled.
    assert logit["estimation"] == pytest.approx(brute["estimation"])
    assert logit["ic_bas"] != pytest.approx(brute["ic_bas"])
    assert logit["methode_inference"].startswith("méthode delta")


def _table_rare(k_t, k_c, n=25, graine=8):
    """n accompanied with k_t events, n controls with k_c; two covariates."""
    rng = np.random.default_rng(graine)
    y = np.r_[np.ones(k_t), np.zeros(n - k_t), np.ones(k_c), np.zeros(n - k_c)]
    return pd.DataFrame({"t": np.r_[np.ones(n, int), np.zeros(n, int)], "y": y,
                         "x1": rng.normal(size=2 * n), "x2": (rng.random(2 * n) < 0.5).astype(int)})


def test_resultat_rare_intervalles_non_rapportes():
    """Fewer than MIN_EVENEMENTS_INTERVALLE events in a cohort: the risk ratio and the
    logit's marginal effect keep their estimate without interval (their intervals would
    cover far more than 95 %), and say why with a code the publication layer knows; the
    raw difference keeps its Miettinen-Nurminen interval, the weighted estimates their
    randomisation intervals (they hold their level with so few events)."""
    lignes = moteur.comparer_resultat(_table_rare(4, 2), "t", "y", ["x1", "x2"],
                                      tirages=99).set_index("methode")
    brute = lignes.loc["difference_brute"]
    assert (brute["ic_bas"], brute["ic_haut"]) == pytest.approx(
        st.difference_miettinen_nurminen(4, 25, 2, 25)[1:])
    for methode in ("rapport_risques", "logit_effet_marginal"):
        ligne = lignes.loc[methode]
        assert math.isfinite(ligne["estimation"]), methode
        assert math.isnan(ligne["ic_bas"]) and math.isnan(ligne["ic_haut"]), methode
        assert "intervalle_evenements_rares" in ligne["codes_avertissement"], methode
        assert f"moins de {moteur.MIN_EVENEMENTS_INTERVALLE} événements" in ligne["avertissements"]
        assert math.isnan(ligne["e_valeur_ic"]) and math.isfinite(ligne["e_valeur"])
    assert lignes.loc["rapport_risques", "p_valeur"] == pytest.approx(st.p_fisher(4, 25, 2, 25))
    assert math.isnan(lignes.loc["logit_effet_marginal", "p_valeur"])
    for methode in ("difference_brute", "ipw_att", "ipw_ra_att"):
        assert math.isfinite(lignes.loc[methode, "ic_bas"]), methode
        assert "intervalle_evenements_rares" not in lignes.loc[methode, "codes_avertissement"]
    assert lignes.loc["ipw_att", "methode_inference"].startswith("randomisation")
    # Five events (and non-events) in each cohort: every interval is reported.
    lignes = moteur.comparer_resultat(_table_rare(9, 5), "t", "y", ["x1", "x2"],
                                      tirages=99).set_index("methode")
    for methode in ("difference_brute", "rapport_risques", "logit_effet_marginal", "ipw_att",
                    "ipw_ra_att"):
        assert math.isfinite(lignes.loc[methode, "ic_bas"]), methode
        assert "intervalle_evenements_rares" not in lignes.loc[methode, "codes_avertissement"]
    # The rule counts non-events too.
    lignes = moteur.comparer_resultat(_table_rare(22, 12), "t", "y", ["x1", "x2"],
                                      tirages=99).set_index("methode")
    assert math.isnan(lignes.loc["rapport_risques", "ic_bas"])
    assert math.isfinite(lignes.loc["difference_brute", "ic_bas"])
