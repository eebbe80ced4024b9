"""`capitalisation comparer` end to end: French CSV in, French text or JSON out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from capitalisation.cli import main
from capitalisation.evaluation import commande
from capitalisation.evaluation import statistiques as st

DONNEES = Path(__file__).parent / "donnees" / "evaluation"
COHORTE = DONNEES / "cohorte_fr.csv"


def _reference() -> pd.DataFrame:
    """The fixture read independently with pandas' own French-convention options."""
    return pd.read_csv(COHORTE, sep=";", decimal=",", thousands=" ", encoding="cp1252")


def _comparer(capsys, *options):
    code = main(["comparer", str(COHORTE), "--traitement", "accompagne", *options])
    sortie = capsys.readouterr()
    return code, sortie.out, sortie.err


def test_lecture_csv_conventions_francaises():
    table = commande.lire_table(COHORTE)
    ref = _reference()
    assert table.columns.tolist() == ref.columns.tolist()
    assert table["dette_sortie"].tolist() == pytest.approx(ref["dette_sortie"].tolist())
    assert table["taux_effort"].isna().sum() == ref["taux_effort"].isna().sum() > 0
    assert "accès" in set(table["volet"])                        # Windows-1252 decoded
    assert table["loyer_a_jour"].isna().sum() == 1


def test_lecture_csv_virgule_utf8(tmp_path):
    chemin = tmp_path / "t.csv"
    chemin.write_text("t,y,x\n1,oui,1.5\n0,non,2.25\n", encoding="utf-8-sig")
    table = commande.lire_table(chemin)
    assert table["x"].tolist() == [1.5, 2.25] and table.columns[0] == "t"


def test_lecture_texte_separe_par_des_espaces(tmp_path):
    chemin = tmp_path / "nsw.txt"
    chemin.write_text("treat age re78\n1.0  37.0  9930.046\n0.0 22.0 0.0\n", encoding="ascii")
    table = commande.lire_table(chemin)
    assert table.columns.tolist() == ["treat", "age", "re78"]
    assert table["re78"].tolist() == [9930.046, 0.0]


def test_sortie_lisible(capsys):
    code, sortie, erreur = _comparer(capsys, "--resultat", "loyer_a_jour,dette_sortie",
                                     "--covariables", "volet,dette_entree_mois,taux_effort",
                                     "--grappe", "bailleur")
    assert code == 0 and erreur == ""
    ref = _reference()
    connus = ref[ref["loyer_a_jour"].notna()]
    y = (connus["loyer_a_jour"] == "oui").astype(int)
    t = connus["accompagne"]
    k_t, n_t = int(y[t == 1].sum()), int((t == 1).sum())
    k_c, n_c = int(y[t == 0].sum()), int((t == 0).sum())
    d, _, _ = st.difference_miettinen_nurminen(k_t, n_t, k_c, n_c)
    for attendu in ("Équilibre des covariables", "Différence brute (intervalle de Miettinen-Nurminen)",
                    "Effet marginal moyen (modèle logistique)", "Régression linéaire ajustée",
                    "Pondération inverse", "Puissance : avec ces effectifs",
                    "Résultat « loyer_a_jour » (binaire)", "Résultat « dette_sortie » (continu)",
                    "moins de 30 grappes : intervalles et p-valeurs par bootstrap sauvage",
                    "volet", "accès", "Avertissements", "Doublement robuste",
                    "Score de propension : modèle logistique (maximum de vraisemblance), "
                    "log-vraisemblance −"):
        assert attendu in sortie, attendu
    # Warnings in French, without their machine codes.
    assert "grappes_peu_nombreuses" not in sortie and "secret_statistique:" not in sortie
    assert f"{100 * d:+.1f} pts".replace(".", ",") in sortie
    assert f"{100 * k_t / n_t:.1f} %".replace(".", ",") in sortie
    assert "Traceback" not in sortie


def test_sortie_json(capsys):
    code, sortie, _ = _comparer(capsys, "--resultat", "loyer_a_jour,dette_sortie",
                                "--covariables", "volet,dette_entree_mois,taux_effort",
                                "--grappe", "bailleur", "--json")
    assert code == 0
    donnees = json.loads(sortie)
    assert donnees["n_menages"] == 48 and donnees["types"] == {"loyer_a_jour": "binaire",
                                                               "dette_sortie": "continu"}
    lignes = {(e["resultat"], e["methode"]): e for e in donnees["estimations"]}
    assert set(lignes) == {
        ("loyer_a_jour", m) for m in ("difference_brute", "rapport_risques", "logit_effet_marginal",
                                      "ipw_att", "ipw_ra_att", "puissance_mdd", "puissance_taille")
    } | {("dette_sortie", m) for m in ("difference_moyennes", "ols_ajuste", "ipw_att",
                                       "ipw_ra_att", "puissance_mdd", "puissance_taille")}
    brute = lignes[("loyer_a_jour", "difference_brute")]
    assert isinstance(brute["estimation"], float) and isinstance(brute["n_traites"], int)
    assert brute["ess"] is None and brute["horizon_mois"] is None      # NaN/NA -> null
    assert brute["n_traites"] + brute["n_temoins"] == 47
    ref = _reference()
    moyennes = ref.groupby("accompagne")["dette_sortie"].mean()
    assert lignes[("dette_sortie", "difference_moyennes")]["estimation"] == pytest.approx(
        moyennes[1] - moyennes[0])
    assert {e["covariable"] for e in donnees["equilibre"]} == {
        "score_propension", "volet", "dette_entree_mois", "taux_effort"}
    # The JSON keeps the machine codes.
    assert "grappes_peu_nombreuses" in brute["codes_avertissement"]
    assert brute["methode_inference"].startswith("bootstrap sauvage")
    assert donnees["resultats_manquants"]["loyer_a_jour"] == {"accompagnes": 1, "temoins": 0} or \
        sum(donnees["resultats_manquants"]["loyer_a_jour"].values()) == 1
    assert donnees["puissance"][0]["taille_necessaire_par_groupe"] > 0
    assert "NaN" not in sortie


def test_colonne_absente(capsys):
    code, sortie, erreur = _comparer(capsys, "--resultat", "loyer_a_jour", "--covariables",
                                     "volet,inconnue")
    assert code == 1 and sortie == ""
    assert "Erreur : colonne « inconnue » absente du fichier" in erreur
    assert "Traceback" not in erreur


def test_resultat_aussi_covariable(capsys):
    code, _, erreur = _comparer(capsys, "--resultat", "loyer_a_jour", "--covariables",
                                "volet,loyer_a_jour")
    assert code == 1 and "à la fois un résultat et une covariable" in erreur


def test_traitement_non_binaire(capsys, tmp_path):
    chemin = tmp_path / "t.csv"
    chemin.write_text("t;y\n1;1\n2;0\n0;1\n", encoding="utf-8")
    code = main(["comparer", str(chemin), "--traitement", "t", "--resultat", "y"])
    erreur = capsys.readouterr().err
    assert code == 1 and "doit valoir 1, oui ou accompagne" in erreur
    assert "valeurs trouvées : 2 (ligne 3)" in erreur


def test_fichier_introuvable(capsys, tmp_path):
    code = main(["comparer", str(tmp_path / "absent.csv"), "--traitement", "t", "--resultat", "y"])
    assert code == 1 and "fichier introuvable" in capsys.readouterr().err


def _lalonde_synthetique(n=445, graine=1986):
    """A table shaped like the NSW experimental sample (synthetic values)."""
    rng = np.random.default_rng(graine)
    treat = (rng.random(n) < 185 / 445).astype(int)
    age = rng.integers(17, 55, n)
    educ = rng.integers(3, 17, n)
    black = (rng.random(n) < 0.8).astype(int)
    hisp = ((rng.random(n) < 0.5) & (black == 0)).astype(int)
    married = (rng.random(n) < 0.17).astype(int)
    nodegr = (educ < 12).astype(int)
    re74 = np.round(np.where(rng.random(n) < 0.7, 0, rng.gamma(1.5, 3000, n)), 2)
    re75 = np.round(np.where(rng.random(n) < 0.6, 0, rng.gamma(1.5, 2500, n)), 2)
    re78 = np.round(np.maximum(0, 1700 * treat + 50 * age + 300 * educ + 0.2 * re75
                               + rng.normal(0, 6000, n)), 2)
    return pd.DataFrame({"treat": treat, "age": age, "educ": educ, "black": black, "hisp": hisp,
                             "married": married, "nodegr": nodegr, "re74": re74, "re75": re75, "re78": re78})


def test_resultat_continu_ols_et_ipw(capsys, tmp_path):
    table = _lalonde_synthetique()
    chemin = tmp_path / "nsw.csv"
    table.to_csv(chemin, sep=";", decimal=",", index=False, encoding="cp1252")
    covariables = ["age", "educ", "black", "hisp", "married", "nodegr", "re74", "re75"]
    code = main(["comparer", str(chemin), "--traitement", "treat", "--resultat", "re78",
                 "--covariables", ",".join(covariables), "--json"])
    assert code == 0
    lignes = {e["methode"]: e for e in json.loads(capsys.readouterr().out)["estimations"]}
    # OLS adjusted: the coefficient of treat in re78 ~ treat + covariates.
    x = sm.add_constant(table[["treat"] + covariables].astype(float))
    ols = sm.OLS(table["re78"], x).fit(cov_type="HC3", use_t=True)
    assert lignes["ols_ajuste"]["estimation"] == pytest.approx(ols.params["treat"], rel=1e-9)
    assert lignes["ols_ajuste"]["ic_bas"] == pytest.approx(ols.conf_int().loc["treat", 0], rel=1e-9)
    # IPW ATT: treated mean minus the e/(1-e)-weighted control mean.
    ps = sm.Logit(table["treat"], sm.add_constant(table[covariables].astype(float))).fit(disp=0)
    e = ps.predict()
    temoins = table["treat"] == 0
    w = e[temoins] / (1 - e[temoins])
    att = table.loc[~temoins, "re78"].mean() - np.sum(w * table.loc[temoins, "re78"]) / w.sum()
    assert lignes["ipw_att"]["estimation"] == pytest.approx(att, rel=1e-6)
    assert lignes["difference_moyennes"]["estimation"] == pytest.approx(
        table.loc[~temoins, "re78"].mean() - table.loc[temoins, "re78"].mean())


def test_parquet(capsys, tmp_path):
    table = _lalonde_synthetique(120)
    chemin = tmp_path / "nsw.parquet"
    table.to_parquet(chemin)
    code = main(["comparer", str(chemin), "--traitement", "treat", "--resultat", "married",
                 "--covariables", "age,educ", "--json"])
    assert code == 0
    donnees = json.loads(capsys.readouterr().out)
    assert donnees["types"] == {"married": "binaire"}


def test_nsw_dehejia_wahba_resultats_publies(capsys, tmp_path):
    """The NSW experimental sample of Dehejia and Wahba (1999), as the `causaldata` package
    ships it (nsw_mixtape: 185 trainees, 260 experimental controls), through the command
    in French CSV conventions. Published figures: the experimental benchmark, difference
    in mean 1978 earnings, is 1 794 $ (Dehejia and Wahba 1999, JASA 94:1053-1062; LaLonde's
    full sample of 297 and 425 gives 886 $, not this one); the regression of re78 on the
    treatment and the eight usual covariates gives 1 676 $, checked here against a direct
    statsmodels fit."""
    import causaldata

    nsw = causaldata.nsw_mixtape.load_pandas().data
    covariables = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]
    assert len(nsw) == 445 and nsw["treat"].sum() == 185
    chemin = tmp_path / "nsw_dw.csv"
    nsw[["treat", "re78"] + covariables].to_csv(chemin, sep=";", decimal=",", index=False)
    assert ";" in chemin.read_text().splitlines()[1] and "," in chemin.read_text()
    code = main(["comparer", str(chemin), "--traitement", "treat", "--resultat", "re78",
                 "--covariables", ",".join(covariables), "--json"])
    assert code == 0
    donnees = json.loads(capsys.readouterr().out)
    assert (donnees["n_traites"], donnees["n_temoins"]) == (185, 260)
    lignes = {e["methode"]: e for e in donnees["estimations"]}
    brute = lignes["difference_moyennes"]
    assert round(brute["estimation"]) == 1794
    assert brute["ic_bas"] > 0                                  # significant at 5 %
    ols = lignes["ols_ajuste"]
    assert round(ols["estimation"]) == 1676
    assert "covariables_reduites" not in ols["avertissements"]  # 185 / 10: room for all eight
    table = nsw.astype({c: float for c in ["treat", "re78"] + covariables})
    x = sm.add_constant(table[["treat"] + covariables])
    direct = sm.OLS(table["re78"], x).fit(cov_type="HC3", use_t=True)
    assert ols["estimation"] == pytest.approx(direct.params["treat"], abs=0.01)
    assert ols["ic_bas"] == pytest.approx(direct.conf_int().loc["treat", 0], abs=0.01)


def _nsw_cps():
    """NSW trainees (Dehejia and Wahba's 185) with the 15 992 CPS controls, as the
    `causaldata` package ships them, with Dehejia and Wahba's (1999, 2002) propensity
    terms for the CPS comparison."""
    import causaldata

    nsw = causaldata.nsw_mixtape.load_pandas().data
    cps = causaldata.cps_mixtape.load_pandas().data
    d = pd.concat([nsw[nsw["treat"] == 1], cps], ignore_index=True)
    d = d.drop(columns=["data_id"]).astype(float)
    d["agesq"], d["agecube"], d["educsq"] = d["age"] ** 2, d["age"] ** 3, d["educ"] ** 2
    d["u74"], d["u75"] = (d["re74"] == 0).astype(float), (d["re75"] == 0).astype(float)
    d["educre74"] = d["educ"] * d["re74"]
    return d


TERMES_DW = ["age", "agesq", "agecube", "educ", "educsq", "marr", "nodegree", "black", "hisp",
             "re74", "re75", "u74", "u75"]


@pytest.mark.parametrize("termes", [TERMES_DW, TERMES_DW + ["educre74"]])
def test_nsw_cps_pas_de_fausse_separation(capsys, tmp_path, termes):
    """The plain logit converges on the Dehejia-Wahba terms: no separation is flagged, no
    Firth, and the IPW ATT is the maximum-likelihood one (the normalised e/(1-e)
    weighting), equal to statsmodels' TreatmentEffect.ipw for the treated."""
    d = _nsw_cps()
    chemin = tmp_path / "nsw_cps.parquet"
    d[["treat", "re78"] + termes].to_parquet(chemin)
    code = main(["comparer", str(chemin), "--traitement", "treat", "--resultat", "re78",
                 "--covariables", ",".join(termes), "--json"])
    assert code == 0
    donnees = json.loads(capsys.readouterr().out)
    ipw = {e["methode"]: e for e in donnees["estimations"]}["ipw_att"]
    assert "separation" not in ipw["codes_avertissement"] and "Firth" not in ipw["avertissements"]
    assert ipw["covariables_utilisees"] == ", ".join(termes)
    z = sm.add_constant(d[termes])
    fit = sm.Logit(d["treat"], z).fit(disp=0, method="newton", maxiter=200)
    assert fit.mle_retvals["converged"]
    e = fit.predict()
    t = d["treat"] == 1
    r = e[~t] / (1 - e[~t])
    att = d.loc[t, "re78"].mean() - np.sum(r * d.loc[~t, "re78"]) / r.sum()
    assert ipw["estimation"] == pytest.approx(att, abs=0.05)
    from statsmodels.treatment.treatment_effects import TreatmentEffect
    te = TreatmentEffect(sm.OLS(d["re78"], z), d["treat"].astype(int), results_select=fit)
    assert ipw["estimation"] == pytest.approx(float(te.ipw(effect_group=1, return_results=False)[0]),
                                              abs=0.05)


# Published fit of the propensity logit on NSW trainees + CPS controls with Dehejia and
# Wahba's terms (Stata 16 `logit`, 16 177 observations, as in Cunningham's Mixtape
# exercises on these same files): log-likelihood -407.18136; coefficient (standard error)
# of age 2.370112 (0.3467711), agesq -0.066071 (0.0110491), black 3.829216 (0.2657018),
# re75 -0.0001992 (0.0000391), constant -34.78074 (3.77135). The weighted estimates
# computed from it: IPW ATT 1 689.3 (normalised e/(1-e) weights), 1 782.2 with the
# educ x re74 term; the ATE with normalised 1/e and 1/(1-e) weights is -6 784.387 (Stata's
# `reg re78 treat [aw = treat/ps + (1-treat)/(1-ps)]`).
def test_nsw_cps_chiffres_publies(capsys, tmp_path):
    d = _nsw_cps()
    chemin = tmp_path / "nsw_cps.csv"
    d[["treat", "re78"] + TERMES_DW + ["educre74"]].to_csv(chemin, index=False)

    def comparer(termes, *options):
        code = main(["comparer", str(chemin), "--traitement", "treat", "--resultat", "re78",
                     "--covariables", ",".join(termes), "--json", *options])
        assert code == 0
        donnees = json.loads(capsys.readouterr().out)
        return donnees, {e["methode"]: e for e in donnees["estimations"]}

    donnees, lignes = comparer(TERMES_DW)
    assert (donnees["n_traites"], donnees["n_temoins"]) == (185, 15992)
    modele = donnees["modele_propension"]
    assert modele["methode"] == "maximum de vraisemblance" and modele["n"] == 16177
    assert round(modele["log_vraisemblance"], 5) == -407.18136
    coefficients = {c["terme"]: c for c in modele["coefficients"]}
    for terme, b, se in [("age", "2.370112", "0.3467711"), ("agesq", "-0.066071", "0.0110491"),
                         ("black", "3.829216", "0.2657018"), ("re75", "-0.0001992", "0.0000391"),
                         ("constante", "-34.78074", "3.77135")]:
        # Equal to the published figure at its printed precision.
        for calcule, publie in ((coefficients[terme]["coefficient"], b),
                                (coefficients[terme]["erreur_type"], se)):
            decimales = len(publie.split(".")[1])
            assert abs(calcule - float(publie)) <= 0.5 * 10 ** -decimales, (terme, calcule, publie)
    assert round(lignes["ipw_att"]["estimation"], 1) == 1689.3
    assert "separation" not in lignes["ipw_att"]["codes_avertissement"]
    _, lignes = comparer(TERMES_DW + ["educre74"])
    assert round(lignes["ipw_att"]["estimation"], 1) == 1782.2
    _, lignes = comparer(TERMES_DW, "--estimande", "ATE")
    assert round(lignes["ipw_ate"]["estimation"], 3) == -6784.387


def _fichier_reel(tmp_path) -> pd.DataFrame:
    rng = np.random.default_rng(12)
    n = 60
    t = np.r_[np.ones(30, int), np.zeros(30, int)]
    departement = rng.choice([75, 93, 94], n)
    dette = np.round(rng.gamma(2, 800, n) + 300 * t, 2)
    y = (rng.random(n) < 0.3 + 0.2 * t).astype(int)
    table = pd.DataFrame({"cohorte": np.where(t == 1, "accompagne", "temoin"),
                          "departement": departement, "dette": dette,
                          "loyer_a_jour": np.where(y == 1, "oui", "non").astype(object)})
    table.loc[[4, 40], "loyer_a_jour"] = ""
    return table


def test_fichier_reel_xlsx_categorielles_et_manquants(capsys, tmp_path):
    table = _fichier_reel(tmp_path)
    chemin = tmp_path / "cohorte.xlsx"
    table.to_excel(chemin, index=False)
    code = main(["comparer", str(chemin), "--traitement", "cohorte", "--resultat", "loyer_a_jour",
                 "--covariables", "departement,dette", "--categorielles", "departement", "--json"])
    assert code == 0, capsys.readouterr().err
    donnees = json.loads(capsys.readouterr().out)
    assert (donnees["n_traites"], donnees["n_temoins"]) == (30, 30)
    assert donnees["resultats_manquants"]["loyer_a_jour"] == {"accompagnes": 1, "temoins": 1}
    niveaux = {(e["covariable"], e["niveau"]) for e in donnees["equilibre"]}
    assert {("departement", "75"), ("departement", "93"), ("departement", "94")} <= niveaux
    brute = {e["methode"]: e for e in donnees["estimations"]}["difference_brute"]
    assert brute["n_traites"] + brute["n_temoins"] == 58
    # Without --categorielles the département is a number (one column, one balance row).
    code = main(["comparer", str(chemin), "--traitement", "cohorte", "--resultat", "loyer_a_jour",
                 "--covariables", "departement,dette", "--json"])
    donnees = json.loads(capsys.readouterr().out)
    assert [e["niveau"] for e in donnees["equilibre"] if e["covariable"] == "departement"] == [""]
    # The text output shows the missing outcomes.
    code = main(["comparer", str(chemin), "--traitement", "cohorte", "--resultat", "loyer_a_jour",
                 "--covariables", "dette", "--estimande", "ate", "--puissance", "0,9"])
    sortie = capsys.readouterr().out
    assert "manquant pour 1 accompagné(s) et 1 témoin(s)" in sortie
    assert "effet moyen (ATE)" in sortie and "puissance 90 %" in sortie


def test_valeur_non_numerique_signalee_avec_sa_ligne(capsys, tmp_path):
    table = _fichier_reel(tmp_path)
    table["dette"] = table["dette"].astype(object)
    table.loc[6, "dette"] = "NSP"
    chemin = tmp_path / "cohorte.csv"
    table.to_csv(chemin, sep=";", index=False)
    code = main(["comparer", str(chemin), "--traitement", "cohorte", "--resultat", "loyer_a_jour",
                 "--covariables", "dette"])
    sortie = capsys.readouterr()
    assert code == 1 and sortie.out == "" and "Traceback" not in sortie.err
    assert "colonne « dette » : valeurs non numériques" in sortie.err
    assert "ligne 8 : NSP" in sortie.err and "cohorte.csv" in sortie.err


def test_graphiques_d_equilibre_et_de_chevauchement(capsys, tmp_path):
    table = _fichier_reel(tmp_path)
    chemin = tmp_path / "cohorte.csv"
    table.to_csv(chemin, sep=";", index=False)
    code = main(["comparer", str(chemin), "--traitement", "cohorte", "--resultat", "loyer_a_jour",
                 "--covariables", "dette", "--graphiques", str(tmp_path / "graphes"),
                 "--rognage", "0,05"])
    assert code == 0
    for nom in ("equilibre.png", "chevauchement.png"):
        assert (tmp_path / "graphes" / nom).stat().st_size > 1000
    assert "rognage des scores hors de [0,05 ; 0,95]" in capsys.readouterr().out
