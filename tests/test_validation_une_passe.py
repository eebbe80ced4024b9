"""One pass over a landing file where the rules allow it.

The personal-data pre-filter reads every text column's distinct values in one statement.
The cross-row rules of a suite over one shared relation run in one pass over it.

`comptes_mensuels.json` names in its `meta.relations` the accounts with their window over
each household's months; the rules written as a plain condition on that relation (month
twice, broken account identity, missing month) are judged in a single statement, the
window computed once. Their counts and first lines are those of each rule run on its own,
and those of the rules as they were written before, each with its own window.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from capitalisation import contrat, lecture
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.validation import donnees_personnelles as dp
from capitalisation.validation import regles, valider_livraison

from .corpus import cas as corpus

# The three rules as each ran its own window before they shared one (the oracle).
AVANT = {
    "unicite": (
        "select ligne_source from (select ligne_source, count(*) over (partition by menage_id, mois) as "
        "occurrences from {batch} where menage_id is not null and mois is not null) as comptes "
        "where occurrences > 1"
    ),
    "identite_compte": (
        "with comptes as (select ligne_source, mois, quittance, aide_logement, paiement, regularisation, "
        "solde_fin_mois, lag(mois) over par_menage as mois_precedent, lag(solde_fin_mois) over par_menage "
        "as solde_precedent from {batch} where menage_id is not null and mois is not null window "
        "par_menage as (partition by menage_id order by mois)) select ligne_source from comptes where "
        "mois_precedent = cast(mois - interval 1 month as date) and abs(solde_fin_mois - (solde_precedent "
        "+ quittance - aide_logement - paiement + coalesce(regularisation, 0))) > 1"
    ),
    "mois_manquant": (
        "with comptes as (select ligne_source, mois, lag(mois) over (partition by menage_id order by mois) "
        "as mois_precedent from {batch} where menage_id is not null and mois is not null) select "
        "ligne_source from comptes where mois_precedent < cast(mois - interval 1 month as date)"
    ),
}


class Compteur:
    """A DuckDB connection that remembers every statement it ran."""

    def __init__(self, con):
        self.con, self.requetes = con, []

    def execute(self, requete, *args):
        self.requetes.append(requete)
        return self.con.execute(requete, *args)


def _cassee(donnees: dict) -> None:
    """A month delivered twice (with a different balance), a broken balance, a missing month."""
    comptes = donnees["comptes_mensuels"]
    double = dict(comptes[4])
    double["solde_fin_mois"] = "999.99"
    comptes.insert(5, double)
    for ligne in comptes:
        if ligne["menage_id"] == "a2" and ligne["mois"] == "2019-08":
            ligne["solde_fin_mois"] = f"{float(ligne['solde_fin_mois']) + 50:.2f}"
    corpus._sans_mois("a3", "2019-12")(donnees)


@pytest.fixture(scope="module")
def parquets(tmp_path_factory):
    racine = tmp_path_factory.mktemp("fenetres")
    donnees = corpus.base()
    _cassee(donnees)
    dossier = corpus.ecrire_livraison(racine / "exports" / corpus.PROJET / corpus.EXTRACTION.isoformat(), donnees)
    livraison = lecture.Livraison(corpus.PROJET, corpus.EXTRACTION, dossier)
    travail = racine / "travail"
    resultat = valider_livraison(livraison, travail, racine / "exports")
    assert {"unicite", "identite_compte", "mois_manquant"} <= {e.code for e in resultat.echecs}
    return {nom: lecture.chemin_landing(travail, nom, livraison) for nom in resultat.tables}


def _seule(con, regle: regles.Regle, parquets: dict, requete: str | None = None) -> tuple[int, list[int]]:
    sources = {nom: f"read_parquet('{chemin}')" for nom, chemin in parquets.items()}
    sources["batch"] = sources[regle.table]
    if requete is not None:
        regle = regles.Regle(regle.table, regle.indice, regle.type, {"unexpected_rows_query": requete})
    return regles._une_regle(con, regle, sources)


def test_les_regles_d_une_relation_en_une_seule_passe(parquets):
    suite = regles.charger_suites()["comptes_mensuels"]
    con = duckdb.connect()
    try:
        compteur = Compteur(con)
        trouves = regles.regles_sql(compteur, "comptes_mensuels", parquets, suite)
        fenetres = [r for r in compteur.requetes if " over " in r]
        assert len(fenetres) == 1  # one window pass for the three rules
        par_code = {r.code: r for r in suite if r.code in AVANT}
        assert set(par_code) == set(AVANT)
        for code, regle in par_code.items():
            resultat = trouves[regle.indice]
            # as the rule run on its own, and as the rule written before with its own window
            assert (resultat.lignes, resultat.premieres) == _seule(con, regle, parquets)
            assert (resultat.lignes, resultat.premieres) == _seule(con, regle, parquets, AVANT[code])
        assert trouves[par_code["unicite"].indice].premieres == [6, 7]
        assert trouves[par_code["identite_compte"].indice].lignes >= 2
        assert trouves[par_code["mois_manquant"].indice].lignes == 1
    finally:
        con.close()


def test_les_regles_entre_lignes_de_chaque_table_comme_chacune_seule(parquets):
    """Every table's cross-row rules, judged together, as each rule on its own."""
    suites = regles.charger_suites()
    con = duckdb.connect()
    try:
        for table in parquets:
            trouves = regles.regles_sql(con, table, parquets, suites[table])
            for regle in suites[table]:
                if regle.type != "unexpected_rows_expectation" or not regle.tables_citees <= set(parquets):
                    continue
                compte, premieres = _seule(con, regle, parquets)
                attendu = (compte, premieres) if compte else None
                obtenu = (trouves[regle.indice].lignes, trouves[regle.indice].premieres) \
                    if regle.indice in trouves else None
                assert obtenu == attendu, (table, regle.code)
    finally:
        con.close()


def _suite(tmp_path, modifier) -> object:
    dossier = tmp_path / "suites"
    shutil.copytree(regles.DOSSIER_SUITES, dossier)
    chemin = dossier / "comptes_mensuels.json"
    suite = json.loads(chemin.read_text(encoding="utf-8"))
    modifier(suite)
    chemin.write_text(json.dumps(suite), encoding="utf-8")
    return dossier


def _regle(requete: str) -> dict:
    return {"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": requete},
            "meta": {"code": "x", "libelle": "x", "severite": "erreur", "execution": "duckdb"}}


@pytest.mark.parametrize(
    "modifier, motif",
    [
        (lambda s: s["expectations"].append(_regle("select ligne_source from {comptes_par_menages} where 1")),
         "comptes_par_menages, ni une table du contrat ni une relation de la suite"),
        (lambda s: s["meta"]["relations"].update({"menages": "select 1"}), "relation « menages » invalide"),
        (lambda s: s["meta"]["relations"].update({"autre": "select * from {comptes_par_menage}"}),
         "la relation « autre » cite comptes_par_menage"),
    ],
    ids=["nom_mal_ecrit", "relation_nommee_comme_une_table", "relation_sur_une_relation"],
)
def test_une_requete_qui_cite_un_nom_inconnu_est_refusee(tmp_path, modifier, motif):
    with pytest.raises(ErreurUtilisateur, match=motif):
        regles.charger_suites(_suite(tmp_path, modifier))


def test_les_tables_citees_par_une_relation_comptent():
    """A rule over a relation that reads another table is not run when that table is absent."""
    regle = regles.Regle("comptes_mensuels", 0, "unexpected_rows_expectation",
                         {"unexpected_rows_query": "select ligne_source from {r} where x"},
                         relations={"r": "select * from {batch} join {menages} using (menage_id)"})
    assert regle.tables_citees == {"menages"}
    assert set(contrat.TABLES) >= regle.tables_citees


def test_le_prefiltre_des_donnees_personnelles_en_une_passe(parquets, tmp_path):
    """Every text column's distinct values searched in one statement; a suspect column only
    is then read row by row, and its planted value found at its line."""
    table = contrat.TABLES["menages"]
    con = duckdb.connect()
    try:
        compteur = Compteur(con)
        assert not dp.scanner_parquet(compteur, table, parquets["menages"])
        assert len(compteur.requetes) == 1
        plante = tmp_path / "menages.parquet"
        con.execute(
            f"copy (select * replace (case when ligne_source = 4 then '{corpus.COURRIEL}' else volet end "
            f"as volet) from read_parquet('{parquets['menages']}')) to '{plante}' (format parquet)"
        )
        compteur = Compteur(con)
        constats = list(dp.scanner_parquet(compteur, table, plante))
        assert len(compteur.requetes) == 2
        assert [(c.nature, c.colonne, c.lignes, c.premieres) for c in constats] == [("courriel", "volet", 1, [4])]
    finally:
        con.close()
