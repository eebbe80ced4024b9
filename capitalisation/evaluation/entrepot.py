"""The comparison run on the warehouse: reads the marts, writes the result tables.

Reads `main.fct_cohorte_comparaison` (one row per household at horizon H) and
`main.fct_panel_mensuel` (one row per household and account month), runs the
comparison for every project that has both an accompanied and a control cohort, and
writes back, in one transaction (create or replace):

* fct_comparaisons: one row per projet_id, resultat, horizon_mois, methode (with the
  covariates used, the inference method, randomisation p-values, E-values, Holm-adjusted
  p-values across the outcomes of a method, the warnings' machine codes);
* fct_equilibre: one row per projet_id, covariable, niveau (cobalt-style balance: see
  `moteur.tableau_equilibre`; the publication layer decides what secrecy hides);
* fct_trajectoires: one row per projet_id, cohorte, mois_relatif;
* fct_survie: one row per projet_id, evenement, cohorte, temps.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from capitalisation import config
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.evaluation import moteur

# Covariates of the models (propensity score, logit, OLS), in priority order: a model
# with too few households for all of them keeps the first ones (moteur.py, events per
# parameter). First the confounders the landlords' choice of their control panel is
# known to rest on (entry debt in months of rent, a procedure under way at the index),
# then the volet, resources and household composition, the priority public, the rent
# burden and the age. taux_effort is imputed by its median with a missing indicator, as
# any numeric covariate with missing values.
COVARIABLES = [
    "dette_entree_mois_loyer", "en_procedure_index", "volet", "tranche_ressources",
    "composition", "public_prioritaire", "taux_effort", "tranche_age",
]
# Shown in the balance table only (the landlord is the cluster, not a covariate).
COVARIABLES_EQUILIBRE = ["dette_entree", "bailleur_id", "departement"]
GRAPPE = "bailleur_id"
TRAITEMENT = "traite"
RESULTATS_BINAIRES = ["loyer_a_jour", "dette_resorbee", "dette_reduite", "expulse", "maintien"]
RESULTATS_CONTINUS = ["dette_sortie"]
# Outcomes defined among households in debt at entry only.
RESULTATS_EN_DETTE = {"dette_resorbee", "dette_reduite"}
# Time to event: name -> (duration, event flag, restricted to households in debt at entry).
EVENEMENTS = {
    "expulsion": ("duree_suivi_expulsion_mois", "expulsion_observee", False),
    "dette_soldee": ("duree_suivi_dette_mois", "dette_soldee_observee", True),
}

SCHEMAS = {
    "fct_comparaisons": {
        "projet_id": "varchar", "resultat": "varchar", "horizon_mois": "integer",
        "methode": "varchar", "n_traites": "integer", "k_traites": "integer",
        "n_temoins": "integer", "k_temoins": "integer", "p_traites": "double",
        "p_temoins": "double", "estimation": "double", "ic_bas": "double", "ic_haut": "double",
        "p_valeur": "double", "ess": "double", "avertissements": "varchar",
        "estimande": "varchar", "covariables_utilisees": "varchar",
        "covariables_ecartees": "varchar", "methode_inference": "varchar",
        "p_permutation": "double", "ic_permutation_bas": "double", "ic_permutation_haut": "double",
        "e_valeur": "double", "e_valeur_ic": "double", "p_holm": "double",
        "codes_avertissement": "varchar",
    },
    "fct_equilibre": {
        "projet_id": "varchar", "covariable": "varchar", "niveau": "varchar",
        "n_traites": "integer", "n_temoins": "integer", "k_traites": "integer",
        "k_temoins": "integer", "moyenne_traites": "double", "moyenne_temoins": "double",
        "moyenne_ponderee_temoins": "double", "smd_avant": "double", "smd_apres": "double",
        "ratio_variance_avant": "double", "ratio_variance_apres": "double",
        "ks_avant": "double", "ks_apres": "double", "desequilibre_avant": "boolean",
        "desequilibre_apres": "boolean",
    },
    "fct_trajectoires": {
        "projet_id": "varchar", "cohorte": "varchar", "mois_relatif": "integer", "n": "integer",
        "moyenne": "double", "ic_bas": "double", "ic_haut": "double",
    },
    "fct_survie": {
        "projet_id": "varchar", "evenement": "varchar", "cohorte": "varchar", "temps": "double",
        "survie": "double", "ic_bas": "double", "ic_haut": "double", "n_risque": "integer",
    },
}


def _lire(con: duckdb.DuckDBPyConnection, sql: str, parametres: list) -> pd.DataFrame:
    try:
        return con.execute(sql, parametres).df()
    except duckdb.CatalogException as exc:
        raise ErreurUtilisateur(
            "l'entrepôt ne contient pas les tables de comparaison (fct_cohorte_comparaison, "
            f"fct_panel_mensuel) : construire l'entrepôt avant l'évaluation ({exc})") from exc


def _verifier_colonnes(table: pd.DataFrame, nom: str, colonnes: list[str]) -> None:
    manquantes = [c for c in colonnes if c not in table.columns]
    if manquantes:
        raise ErreurUtilisateur(f"colonne(s) absente(s) de {nom} : {', '.join(manquantes)}")


def evaluer_projet(
    cohorte: pd.DataFrame, panel: pd.DataFrame, projet_id: str, horizon_mois: int
) -> dict[str, pd.DataFrame]:
    """Every result table for one project (cohort rows and panel rows of that project)."""
    estimations, survie = [], []
    for resultat in RESULTATS_BINAIRES + RESULTATS_CONTINUS:
        sous = cohorte
        if resultat in RESULTATS_EN_DETTE:
            sous = cohorte[cohorte["en_dette_entree"].fillna(False).astype(bool)]
        if sous[resultat].notna().sum() == 0:
            continue
        estimations.append(moteur.comparer_resultat(
            sous, TRAITEMENT, resultat, COVARIABLES, GRAPPE, projet_id=projet_id,
            horizon_mois=horizon_mois,
            type_resultat="binaire" if resultat in RESULTATS_BINAIRES else "continu"))
    for nom, (duree, evenement, en_dette) in EVENEMENTS.items():
        sous = cohorte
        if en_dette:
            sous = cohorte[cohorte["en_dette_entree"].fillna(False).astype(bool)]
        if sous[duree].notna().sum() == 0:
            continue
        lignes, km = moteur.comparer_survie(sous, TRAITEMENT, duree, evenement, nom,
                                            projet_id=projet_id, horizon_mois=horizon_mois)
        estimations.append(lignes)
        survie.append(km)
    trajectoires = pd.DataFrame(columns=moteur.COLONNES_TRAJECTOIRES)
    if len(panel):
        did, trajectoires = moteur.comparer_trajectoires(
            panel, projet_id=projet_id, horizon_mois=horizon_mois)
        estimations.append(did)
    equilibre = moteur.tableau_equilibre(cohorte, TRAITEMENT, COVARIABLES, COVARIABLES_EQUILIBRE,
                                         projet_id=projet_id)
    return {
        "fct_comparaisons": moteur.ajouter_holm(pd.concat(estimations, ignore_index=True))
        if estimations else moteur.tableau_estimations([]),
        "fct_equilibre": equilibre,
        "fct_trajectoires": trajectoires,
        "fct_survie": pd.concat(survie, ignore_index=True) if survie
        else pd.DataFrame(columns=moteur.COLONNES_SURVIE),
    }


def _ecrire(con: duckdb.DuckDBPyConnection, nom: str, table: pd.DataFrame) -> int:
    schema = SCHEMAS[nom]
    colonnes = ", ".join(f"{col} {type_}" for col, type_ in schema.items())
    con.execute(f"create or replace table main.{nom} ({colonnes})")
    if len(table):
        vue = f"_evaluation_{nom}"
        con.register(vue, table[list(schema)])
        try:
            selection = ", ".join(f"cast({col} as {type_})" for col, type_ in schema.items())
            con.execute(f"insert into main.{nom} select {selection} from {vue}")
        finally:
            con.unregister(vue)
    return len(table)


def evaluer_entrepot(
    con: duckdb.DuckDBPyConnection, horizon_mois: int = config.HORIZON_MOIS
) -> dict[str, int]:
    """Runs the comparison of every project with both cohorts; returns row counts written.

    Projects are read one at a time (cohort rows, then their panel with numeric codes
    only), so that memory is bounded by the largest project. Both are read in a set order:
    the estimates do not depend on how the warehouse stores its rows.
    """
    colonnes = _lire(con, "select * from main.fct_cohorte_comparaison limit 0", [])
    _verifier_colonnes(
        colonnes, "fct_cohorte_comparaison",
        ["projet_id", "menage_id", TRAITEMENT, "en_dette_entree", GRAPPE, "horizon_mois"]
        + COVARIABLES + COVARIABLES_EQUILIBRE + RESULTATS_BINAIRES + RESULTATS_CONTINUS
        + [c for duree, evt, _ in EVENEMENTS.values() for c in (duree, evt)])
    _verifier_colonnes(
        _lire(con, "select * from main.fct_panel_mensuel limit 0", []), "fct_panel_mensuel",
        ["projet_id", "menage_id", "mois", "mois_relatif", "solde_fin_mois"])
    horizons = _lire(con, "select distinct horizon_mois from main.fct_cohorte_comparaison", [])
    if len(horizons) and horizon_mois not in set(horizons["horizon_mois"].dropna().astype(int)):
        presents = ", ".join(str(int(h)) for h in sorted(horizons["horizon_mois"].dropna()))
        raise ErreurUtilisateur(
            f"fct_cohorte_comparaison est construite pour l'horizon {presents} mois et non "
            f"{horizon_mois} : reconstruire l'entrepôt avec la variable dbt horizon_mois")
    projets = _lire(con, """
        select projet_id
        from main.fct_cohorte_comparaison
        where horizon_mois = ?
        group by projet_id
        having count(distinct traite) = 2
        order by projet_id
        """, [horizon_mois])["projet_id"].tolist()

    resultats: dict[str, list[pd.DataFrame]] = {nom: [] for nom in SCHEMAS}
    for projet_id in projets:
        cohorte = _lire(con, """
            select * from main.fct_cohorte_comparaison
            where horizon_mois = ? and projet_id = ?
            order by menage_id
            """, [horizon_mois, projet_id])
        panel = _lire(con, """
            select
                dense_rank() over (order by panel.menage_id) as menage_id,
                year(panel.mois) * 12 + month(panel.mois) as mois,
                panel.mois_relatif,
                cast(panel.solde_fin_mois as double) as solde_fin_mois,
                comparaison.traite
            from main.fct_panel_mensuel as panel
            inner join main.fct_cohorte_comparaison as comparaison
                on panel.projet_id = comparaison.projet_id
                and panel.menage_id = comparaison.menage_id
            where comparaison.horizon_mois = ?
                and panel.projet_id = ?
                and panel.mois_relatif between ? and ?
            order by panel.menage_id, panel.mois
            """, [horizon_mois, projet_id, moteur.PREMIER_MOIS_PANEL, horizon_mois])
        tables = evaluer_projet(cohorte, panel, str(projet_id), horizon_mois)
        for nom, table in tables.items():
            if len(table):
                resultats[nom].append(table)

    comptes = {}
    con.execute("begin transaction")
    try:
        for nom, schema in SCHEMAS.items():
            table = (pd.concat(resultats[nom], ignore_index=True) if resultats[nom]
                     else pd.DataFrame(columns=list(schema)))
            comptes[nom] = _ecrire(con, nom, table)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return comptes
