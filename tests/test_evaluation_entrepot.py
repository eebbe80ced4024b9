"""The comparison on the warehouse marts, on a small synthetic in-memory DuckDB."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.evaluation import entrepot, moteur

HORIZON = 12


def _cohorte_synthetique(rng, projet_id: str, n: int, bailleurs: list[str], avec_temoins: bool):
    traite = (rng.random(n) < 0.5).astype(int) if avec_temoins else np.ones(n, dtype=int)
    dette_mois = np.round(rng.gamma(1.5, 1.0, n) * (rng.random(n) < 0.8), 3)
    en_dette = dette_mois > 0
    loyer = 450.0
    sortie = np.round(np.maximum(dette_mois * loyer - 300 * traite + rng.normal(0, 150, n), -50), 2)
    expulse = rng.random(n) < 0.08 + 0.1 * (1 - traite)
    duree_exp = np.where(expulse, rng.integers(2, HORIZON, n), HORIZON)
    soldee = en_dette & (rng.random(n) < 0.3 + 0.2 * traite)
    duree_dette = np.where(soldee, rng.integers(1, HORIZON, n), HORIZON)
    taux = np.round(rng.uniform(0.15, 0.6, n), 3).astype(object)
    taux[rng.random(n) < 0.1] = None
    loyer_a_jour = (rng.random(n) < 0.5 + 0.2 * traite).astype(object)
    loyer_a_jour[rng.random(n) < 0.05] = None
    return pd.DataFrame({
        "projet_id": projet_id,
        "menage_id": [f"{projet_id}-{i:03d}" for i in range(n)],
        "bailleur_id": rng.choice(bailleurs, n),
        "departement": rng.choice(["57", "54"], n),
        "cohorte": np.where(traite == 1, "accompagne", "temoin"),
        "traite": traite,
        "volet": rng.choice(["maintien", "acces"], n),
        "composition": rng.choice(["isole", "monoparental", "couple_avec_enfants"], n),
        "tranche_age": rng.choice(["25_39", "40_59"], n),
        "tranche_ressources": rng.choice(["moins_1000", "1000_1500"], n),
        "taux_effort": taux,
        "public_prioritaire": rng.choice(["aucun", "dalo"], n),
        "origine_orientation": "bailleur",
        "dette_entree": dette_mois * loyer,
        "dette_entree_mois_loyer": dette_mois,
        "en_dette_entree": en_dette,
        "en_procedure_index": rng.random(n) < 0.3,
        "horizon_mois": HORIZON,
        "loyer_a_jour": loyer_a_jour,
        "dette_sortie": sortie,
        "dette_resorbee": np.where(en_dette, sortie <= 0, None),
        "dette_reduite": np.where(en_dette, sortie < dette_mois * loyer, None),
        "expulse": expulse,
        "maintien": ~expulse,
        "duree_suivi_expulsion_mois": duree_exp,
        "expulsion_observee": expulse,
        "duree_suivi_dette_mois": duree_dette,
        "dette_soldee_observee": np.where(en_dette, soldee, None),
    })


def _panel(cohorte: pd.DataFrame, rng) -> pd.DataFrame:
    lignes = []
    for i, menage in enumerate(cohorte.itertuples()):
        m0 = dt.date(2022, 1 + i % 6, 1)
        for rel in range(-6, HORIZON + 1):
            annee, mois = divmod(m0.month - 1 + rel, 12)
            date = dt.date(m0.year + annee, mois + 1, 1)
            solde = menage.dette_entree + (rel >= 0) * rel * (-25 * menage.traite) + rng.normal(0, 20)
            lignes.append((menage.projet_id, menage.menage_id, menage.bailleur_id, menage.cohorte,
                           menage.volet, date, rel, 450.0, 100.0, 350.0, 0.0, round(solde, 2),
                           solde > 0))
    return pd.DataFrame(lignes, columns=[
        "projet_id", "menage_id", "bailleur_id", "cohorte", "volet", "mois", "mois_relatif",
        "quittance", "aide_logement", "paiement", "regularisation", "solde_fin_mois", "en_dette"])


def _entrepot(rng) -> duckdb.DuckDBPyConnection:
    cohortes = pd.concat([
        _cohorte_synthetique(rng, "alpha", 120, [f"b{i}" for i in range(12)], True),
        _cohorte_synthetique(rng, "beta", 40, ["b1", "b2"], True),
        _cohorte_synthetique(rng, "gamma", 20, ["b3"], False),
    ], ignore_index=True)
    panel = _panel(cohortes, rng)
    con = duckdb.connect(":memory:")
    con.register("cohortes_df", cohortes)
    con.register("panel_df", panel)
    con.execute("""
        create table main.fct_cohorte_comparaison as
        select * replace (
            cast(traite as integer) as traite,
            cast(taux_effort as double) as taux_effort,
            cast(dette_entree as decimal(14, 2)) as dette_entree,
            cast(dette_sortie as decimal(14, 2)) as dette_sortie,
            cast(loyer_a_jour as boolean) as loyer_a_jour,
            cast(dette_resorbee as boolean) as dette_resorbee,
            cast(dette_reduite as boolean) as dette_reduite,
            cast(dette_soldee_observee as boolean) as dette_soldee_observee,
            cast(duree_suivi_expulsion_mois as integer) as duree_suivi_expulsion_mois,
            cast(duree_suivi_dette_mois as integer) as duree_suivi_dette_mois,
            cast(horizon_mois as integer) as horizon_mois
        ) from cohortes_df
    """)
    con.execute("""
        create table main.fct_panel_mensuel as
        select * replace (
            cast(mois as date) as mois,
            cast(mois_relatif as integer) as mois_relatif,
            cast(solde_fin_mois as decimal(14, 2)) as solde_fin_mois
        ) from panel_df
    """)
    con.unregister("cohortes_df")
    con.unregister("panel_df")
    return con


@pytest.fixture(scope="module")
def evaluation():
    con = _entrepot(np.random.default_rng(7))
    comptes = entrepot.evaluer_entrepot(con, horizon_mois=HORIZON)
    yield con, comptes
    con.close()


def test_tables_ecrites_et_comptees(evaluation):
    con, comptes = evaluation
    assert set(comptes) == {"fct_comparaisons", "fct_equilibre", "fct_trajectoires", "fct_survie"}
    for table, n in comptes.items():
        assert con.execute(f"select count(*) from main.{table}").fetchone()[0] == n
        assert n > 0


def test_projets_avec_deux_cohortes_seulement(evaluation):
    con, _ = evaluation
    for table in ("fct_comparaisons", "fct_equilibre", "fct_trajectoires", "fct_survie"):
        projets = {r[0] for r in con.execute(f"select distinct projet_id from main.{table}").fetchall()}
        assert projets == {"alpha", "beta"}, table


def test_grain_et_methodes(evaluation):
    con, _ = evaluation
    comp = con.execute("select * from main.fct_comparaisons").df()
    assert not comp.duplicated(["projet_id", "resultat", "horizon_mois", "methode"]).any()
    alpha = comp[comp["projet_id"] == "alpha"]
    methodes = alpha.groupby("resultat")["methode"].apply(set).to_dict()
    binaires = {"difference_brute", "rapport_risques", "logit_effet_marginal", "ipw_att",
                "ipw_ra_att", "puissance_mdd", "puissance_taille"}
    for resultat in entrepot.RESULTATS_BINAIRES:
        assert methodes[resultat] == binaires
    assert methodes["dette_sortie"] == {"difference_moyennes", "ols_ajuste", "ipw_att",
                                        "ipw_ra_att", "puissance_mdd", "puissance_taille"}
    # Holm across the outcomes of one method: adjusted p-values are never below the raw ones.
    avec_p = alpha[alpha["p_holm"].notna()]
    assert len(avec_p) and (avec_p["p_holm"] >= avec_p["p_valeur"] - 1e-12).all()
    assert methodes["solde"] == {"did"}
    assert methodes["expulsion"] == methodes["dette_soldee"] == {"logrank", "cox"}
    assert (comp["horizon_mois"] == HORIZON).all()


def test_populations_des_resultats(evaluation):
    con, _ = evaluation
    cohorte = con.execute("select * from main.fct_cohorte_comparaison where projet_id = 'alpha'").df()
    comp = con.execute("select * from main.fct_comparaisons where projet_id = 'alpha'").df()

    def ligne(resultat, methode):
        return comp[(comp["resultat"] == resultat) & (comp["methode"] == methode)].iloc[0]

    # dette_resorbee: households in debt at entry only.
    en_dette = cohorte[cohorte["en_dette_entree"]]
    r = ligne("dette_resorbee", "difference_brute")
    assert r["n_traites"] == (en_dette["traite"] == 1).sum()
    assert r["n_temoins"] == (en_dette["traite"] == 0).sum()
    assert r["k_traites"] == en_dette.loc[en_dette["traite"] == 1, "dette_resorbee"].sum()
    # loyer_a_jour: rows with an unknown outcome are left out.
    connus = cohorte[cohorte["loyer_a_jour"].notna()]
    r = ligne("loyer_a_jour", "difference_brute")
    assert r["n_traites"] + r["n_temoins"] == len(connus)
    assert r["p_traites"] == pytest.approx(
        connus.loc[connus["traite"] == 1, "loyer_a_jour"].astype(float).mean())
    # Debt clearing, time to event: in debt at entry only.
    r = ligne("dette_soldee", "cox")
    assert r["n_traites"] + r["n_temoins"] == len(en_dette)
    # Continuous outcome: difference of the means of the decimals.
    r = ligne("dette_sortie", "difference_moyennes")
    sortie = cohorte["dette_sortie"].astype(float)
    attendu = sortie[cohorte["traite"] == 1].mean() - sortie[cohorte["traite"] == 0].mean()
    assert r["estimation"] == pytest.approx(attendu)
    # The synthetic accompaniment lowers the debt by 25 euros a month after the index.
    r = ligne("solde", "did")
    assert -25 * 7.5 < r["estimation"] < 0 and r["ic_bas"] < r["estimation"] < r["ic_haut"]


def test_erreurs_par_grappe_selon_le_nombre_de_bailleurs(evaluation):
    con, _ = evaluation
    comp = con.execute("select * from main.fct_comparaisons where methode = 'ipw_att'").df()
    alpha = comp[comp["projet_id"] == "alpha"]
    beta = comp[comp["projet_id"] == "beta"]["avertissements"]
    # 12 and 2 landlords, fewer than 30: the wild cluster bootstrap, said in the row; the
    # number of landlords is in the method (never in a warning, which quotes no count).
    assert alpha["avertissements"].str.contains("grappes_peu_nombreuses: moins de 30 grappes").all()
    assert not alpha["avertissements"].str.contains("12").any()
    assert alpha["methode_inference"].str.startswith("bootstrap sauvage").all()
    assert alpha["methode_inference"].str.contains("12 grappes").all()
    assert beta.str.contains("grappes_peu_nombreuses").all()


def test_equilibre_et_courbes(evaluation):
    con, _ = evaluation
    eq = con.execute("select * from main.fct_equilibre where projet_id = 'alpha'").df()
    assert {"dette_entree_mois_loyer", "taux_effort", "volet", "bailleur_id", "dette_entree",
            "departement"} <= set(eq["covariable"])
    assert set(eq.loc[eq["covariable"] == "taux_effort", "niveau"]) == {"", "manquant"}
    assert len(eq[eq["covariable"] == "bailleur_id"]) == 12
    assert eq["desequilibre_avant"].dtype == bool and eq["desequilibre_apres"].dtype == bool
    niveaux = eq[eq["covariable"] == "volet"]
    assert (niveaux["k_traites"] <= niveaux["n_traites"]).all() and niveaux["k_traites"].notna().all()
    traj = con.execute("select * from main.fct_trajectoires where projet_id = 'beta'").df()
    assert set(traj["cohorte"]) == {"accompagne", "temoin"}
    assert traj["mois_relatif"].min() == -6 and traj["mois_relatif"].max() == HORIZON
    km = con.execute("select * from main.fct_survie where projet_id = 'alpha'").df()
    assert set(km["evenement"]) == {"expulsion", "dette_soldee"}
    assert (km.groupby(["evenement", "cohorte"])["survie"].first() == 1.0).all()


def test_types_des_colonnes(evaluation):
    con, _ = evaluation
    types = dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'fct_comparaisons'").fetchall())
    assert types["n_traites"] == "INTEGER" and types["estimation"] == "DOUBLE"
    assert types["avertissements"] == "VARCHAR"


def test_reexecution_remplace(evaluation):
    con, comptes = evaluation
    assert entrepot.evaluer_entrepot(con, horizon_mois=HORIZON) == comptes


def test_horizon_absent():
    con = _entrepot(np.random.default_rng(1))
    with pytest.raises(ErreurUtilisateur, match="horizon"):
        entrepot.evaluer_entrepot(con, horizon_mois=24)


def test_marts_absents():
    con = duckdb.connect(":memory:")
    with pytest.raises(ErreurUtilisateur, match="fct_cohorte_comparaison"):
        entrepot.evaluer_entrepot(con)


def test_colonnes_resultats():
    assert moteur.COLONNES_ESTIMATIONS == list(entrepot.SCHEMAS["fct_comparaisons"])
    assert moteur.COLONNES_EQUILIBRE == list(entrepot.SCHEMAS["fct_equilibre"])
    assert moteur.COLONNES_TRAJECTOIRES == list(entrepot.SCHEMAS["fct_trajectoires"])
    assert moteur.COLONNES_SURVIE == list(entrepot.SCHEMAS["fct_survie"])


def test_resultats_independants_de_l_ordre_et_des_lignes_non_lues_du_panel(evaluation):
    """The panel's stored order and its rows outside the months read (m0 − 7, m0 + H + 1)
    change no estimate, to the last bit."""
    con, _ = evaluation
    avant = {nom: con.execute(f"select * from main.{nom} order by all").fetchall() for nom in entrepot.SCHEMAS}
    autre = _entrepot(np.random.default_rng(7))  # the fixture's marts, anew
    try:
        autre.execute("select setseed(0.25)")
        autre.execute("""
            create or replace table main.fct_panel_mensuel as
            select * from (
                select * from main.fct_panel_mensuel
                union all
                select * replace (mois_relatif - 1 as mois_relatif, solde_fin_mois + 1000 as solde_fin_mois)
                from main.fct_panel_mensuel where mois_relatif = -6
                union all
                select * replace (mois_relatif + 1 as mois_relatif, solde_fin_mois + 1000 as solde_fin_mois)
                from main.fct_panel_mensuel where mois_relatif = 12
            ) order by random()
        """)
        entrepot.evaluer_entrepot(autre, horizon_mois=HORIZON)
        apres = {nom: autre.execute(f"select * from main.{nom} order by all").fetchall() for nom in entrepot.SCHEMAS}
    finally:
        autre.close()
    for nom in entrepot.SCHEMAS:
        assert len(apres[nom]) == len(avant[nom]) > 0, nom
        assert repr(apres[nom]) == repr(avant[nom]), nom
