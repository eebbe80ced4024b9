"""The comparison of one cohort table: rows, balance table, warnings, curves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from capitalisation import config
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.evaluation import moteur
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
                                          "logit_effet_marginal", "ipw_att", "puissance_mdd",
                                          "puissance_taille"]
    t, y = table["traite"], table["y"]
    k_t, n_t, k_c, n_c = int(y[t == 1].sum()), int((t == 1).sum()), int(y[t == 0].sum()), int((t == 0).sum())
    brute = lignes.iloc[0]
    assert (brute["n_traites"], brute["k_traites"], brute["n_temoins"], brute["k_temoins"]) == (
        n_t, k_t, n_c, k_c)
    d, b, h = st.difference_newcombe(k_t, n_t, k_c, n_c)
    assert (brute["estimation"], brute["ic_bas"], brute["ic_haut"]) == pytest.approx((d, b, h))
    assert brute["p_valeur"] == pytest.approx(st.p_fisher(k_t, n_t, k_c, n_c))
    assert lignes.iloc[1]["estimation"] == pytest.approx((k_t / n_t) / (k_c / n_c))
    assert lignes.iloc[4]["estimation"] == pytest.approx(
        st.difference_minimale_detectable(n_t, n_c, k_c / n_c))
    # Size per group for 15 points from the control proportion, the harder direction.
    taille = lignes.iloc[5]
    attendu = max((st.taille_necessaire(k_c / n_c, e), k_c / n_c + e) for e in (0.15, -0.15))
    assert (taille["estimation"], taille["p_traites"]) == pytest.approx(attendu)
    assert taille["p_temoins"] == pytest.approx(k_c / n_c)
    assert lignes.iloc[3]["ess"] > 0 and math.isnan(lignes.iloc[0]["ess"])
    assert (lignes["projet_id"] == "p1").all() and (lignes["horizon_mois"] == 12).all()
    assert (lignes["avertissements"] == "").all()


def test_resultat_continu():
    table = _table()
    lignes = moteur.comparer_resultat(table, "traite", "dette", ["x", "volet"])
    assert lignes["methode"].tolist() == ["difference_moyennes", "ols_ajuste", "ipw_att",
                                          "puissance_mdd", "puissance_taille"]
    taille = lignes.iloc[4]
    t, y = table["traite"], table["dette"]
    ecart = 0.25 * abs(y[t == 0].mean())
    assert taille["estimation"] == st.taille_necessaire_moyennes(
        y[t == 1].std(), y[t == 0].std(), ecart)
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
    with pytest.raises(ErreurUtilisateur, match="0 \\(témoin\\) ou 1"):
        moteur.convertir_traitement(pd.Series([0, 1, 2], name="t"))
    with pytest.raises(ErreurUtilisateur, match="manquante"):
        moteur.convertir_traitement(pd.Series([0, 1, None], name="t"))


def test_avertissements_evenements_rares_et_secret():
    # 8 accompanied with 3 events, 30 controls with 12: few events and secrecy.
    table = pd.DataFrame({"t": [1] * 8 + [0] * 30, "y": [1] * 3 + [0] * 5 + [1] * 12 + [0] * 18})
    lignes = moteur.comparer_resultat(table, "t", "y")
    for methode in ("difference_brute", "rapport_risques", "logit_effet_marginal", "ipw_att"):
        codes = _avertissements(lignes, methode)
        assert "evenements_rares" in codes and "secret_statistique" in codes
    texte = lignes.loc[0, "avertissements"]
    assert f"8 accompagnés (dénominateur inférieur à {config.SEUIL_DENOMINATEUR})" in texte
    assert "accompagnés : 3 avec l'événement et 5 sans, sur 8" in texte


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
    assert x["smd_avant"] == pytest.approx(-2 / math.sqrt(2.5))
    assert (x["moyenne_traites"], x["moyenne_temoins"]) == (2.0, 4.0)
    a = eq[(eq["covariable"] == "c") & (eq["niveau"] == "a")].iloc[0]
    p_t, p_c = 2 / 3, 1 / 3
    assert a["smd_avant"] == pytest.approx((p_t - p_c) / math.sqrt((p_t * (1 - p_t) + p_c * (1 - p_c)) / 2))
    assert eq["desequilibre_avant"].all()
    # The counts per level and cohort, for the publication layer's secrecy.
    assert (a["n_traites"], a["n_temoins"], a["k_traites"], a["k_temoins"]) == (3, 3, 2, 1)
    assert eq.loc[eq["covariable"] == "x", "k_traites"].isna().all()


def test_equilibre_apres_ponderation():
    table = _table(600)
    eq = moteur.tableau_equilibre(table, "traite", ["x", "volet"])
    assert (eq["smd_avant"].abs() > 0.1).any()
    assert (eq["smd_apres"].abs() < 0.1).all()                  # the weights balance the model's covariates
    assert (eq["n_traites"] + eq["n_temoins"] == 600).all()


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


def test_budget_de_parametres():
    assert moteur.budget_parametres({"accompagnés": 84, "témoins": 32})[0] == 3
    budget, phrase = moteur.budget_parametres(
        {"accompagnés": 81, "témoins": 27, "événements": 85, "non-événements": 23}, 1)
    assert budget == 1
    assert phrase == ("au plus 1 colonne(s) de covariables (un paramètre pour 10 non-événements : "
                      "23 non-événements, dont un pour le traitement)")
    assert moteur.budget_parametres({"témoins": 8}, 1)[0] == 0


def test_covariables_par_ordre_de_priorite_et_niveaux_rares():
    table = _petite_table()
    t = table["traite"].to_numpy()
    cov = moteur.preparer_covariables(table, ["dette", "procedure", "public", "composition"])
    assert cov.colonnes == {"dette": ["dette"], "procedure": ["procedure"],
                            "public": ["public=pdalhpd", "public=violences"],
                            "composition": ["composition=couple", "composition=monoparental"]}
    x, avs = moteur.covariables_du_modele(cov, t, 3, "au plus 3", "score de propension")
    # public=violences has no control: it joins the reference level; public then takes one
    # column and fits in the budget; composition (two columns) does not.
    assert x.shape[1] == 3
    assert np.array_equal(x, cov.design[["dette", "procedure", "public=pdalhpd"]].to_numpy())
    assert avs == [("covariables_reduites", (
        "score de propension : au plus 3 ; retenues : dette, procedure, public ; écartées : "
        "composition ; niveaux rares regroupés avec la référence (moins de 5 ménages dans une "
        "cohorte) : public=violences"))]
    # Everything fits: the design as prepared, no warning.
    x, avs = moteur.covariables_du_modele(cov, t, 10, "", "modèle")
    assert avs[0][1].endswith("public=violences") and x.shape[1] == 5
    cov2 = moteur.preparer_covariables(table, ["dette", "composition"])
    x, avs = moteur.covariables_du_modele(cov2, t, 10, "", "modèle")
    assert avs == [] and np.array_equal(x, cov2.matrice)
    # The order given is the priority order; a covariate that does not fit stops the list.
    x, avs = moteur.covariables_du_modele(cov, t, 2, "", "modèle")
    assert "retenues : dette, procedure ; écartées : public, composition" in avs[0][1]


def test_comparaison_sur_un_petit_echantillon():
    table = _petite_table()
    covariables = ["dette", "procedure", "public", "composition"]
    lignes = moteur.comparer_resultat(table, "traite", "y", covariables).set_index("methode")
    k = int(table["y"].sum())
    attendu = min(25, k, len(table) - k) // 10 - 1
    logit = lignes.loc["logit_effet_marginal", "avertissements"]
    assert f"modèle logistique du résultat : au plus {attendu} colonne(s)" in logit
    ipw = lignes.loc["ipw_att", "avertissements"]
    assert "covariables_reduites: score de propension : au plus 2 colonne(s) de covariables " \
           "(un paramètre pour 10 témoins : 25 témoins) ; retenues : dette, procedure" in ipw
    assert "separation" not in ipw
    continu = moteur.comparer_resultat(table, "traite", "montant", covariables).set_index("methode")
    assert "régression du résultat : au plus 1 colonne(s)" in continu.loc["ols_ajuste",
                                                                          "avertissements"]
    x = np.column_stack([np.ones(len(table)), table["traite"], table["dette"]])
    import statsmodels.api as sm
    ols = sm.OLS(table["montant"].to_numpy(), x).fit(cov_type="HC1")
    assert continu.loc["ols_ajuste", "estimation"] == pytest.approx(ols.params[1])


def test_modele_sans_covariable_difference_brute_de_newcombe():
    table = _petite_table().iloc[:70]          # 60 accompanied, 10 controls: no room at all
    lignes = moteur.comparer_resultat(table, "traite", "y", ["dette"]).set_index("methode")
    brute, logit = lignes.loc["difference_brute"], lignes.loc["logit_effet_marginal"]
    assert (logit["estimation"], logit["ic_bas"], logit["ic_haut"], logit["p_valeur"]) == (
        pytest.approx((brute["estimation"], brute["ic_bas"], brute["ic_haut"], brute["p_valeur"])))
    assert ("retenues : aucune ; écartées : dette ; sans covariable, l'estimation est la "
            "différence brute, intervalle de Newcombe") in logit["avertissements"]
    continu = moteur.comparer_resultat(table, "traite", "montant", ["dette"]).set_index("methode")
    welch, ols = continu.loc["difference_moyennes"], continu.loc["ols_ajuste"]
    assert (ols["estimation"], ols["ic_bas"]) == pytest.approx((welch["estimation"], welch["ic_bas"]))
    assert "intervalle de Welch" in ols["avertissements"]
