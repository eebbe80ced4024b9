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
        assert not dp.scanner_parquets(compteur, {table.nom: parquets["menages"]})[table.nom]
        assert len(compteur.requetes) == 1
        plante = tmp_path / "menages.parquet"
        con.execute(
            f"copy (select * replace (case when ligne_source = 4 then '{corpus.COURRIEL}' else volet end "
            f"as volet) from read_parquet('{parquets['menages']}')) to '{plante}' (format parquet)"
        )
        compteur = Compteur(con)
        constats = list(dp.scanner_parquets(compteur, {table.nom: plante})[table.nom])
        assert len(compteur.requetes) == 2
        assert [(c.nature, c.colonne, c.lignes, c.premieres) for c in constats] == [("courriel", "volet", 1, [4])]
    finally:
        con.close()


def test_le_prefiltre_d_une_livraison_en_une_requete(parquets, tmp_path):
    """The distinct values of every text column of every table of a delivery go through the
    pattern in one statement; only a table with a candidate value is read row by row."""
    con = duckdb.connect()
    try:
        compteur = Compteur(con)
        assert not any(dp.scanner_parquets(compteur, parquets).values())
        assert len(compteur.requetes) == 1
        plante = dict(parquets)
        plante["contacts"] = tmp_path / "contacts.parquet"
        con.execute(
            f"copy (select * replace (case when ligne_source = 3 then '{corpus.COURRIEL}' else intervenant end "
            f"as intervenant) from read_parquet('{parquets['contacts']}')) to '{plante['contacts']}' (format parquet)"
        )
        compteur = Compteur(con)
        constats = dp.scanner_parquets(compteur, plante)
        assert len(compteur.requetes) == 2
        assert {nom: [(c.nature, c.colonne, c.premieres) for c in trouves] for nom, trouves in constats.items()
                if trouves} == {"contacts": [("courriel", "intervenant", [3])]}
    finally:
        con.close()


# --------------------------------------------------------------------------- raw rows: RE2 first

# Cells where Python's pattern and RE2's readings differ the most: Unicode spaces (Python's
# `\s` holds them, RE2's does not), the letters IGNORECASE adds to [A-Za-z] (İ ı ſ K),
# formulas, separators of every kind.
DELICATES = [
    "06\u00a012\u00a034\u00a056\u00a078", "06\u202f12\u202f34\u202f56\u202f78", "+33\u20096 12 34 56 78",
    "0033 (0)6\u300012 34 56 78", "1 85 05 78\u2028006 084 73", "FR76\u00a03000 6000 0112 3456 7890 189",
    "12\u00a0rue des Lilas", "3 bis\u2003avenue Foch", "7, all\u00e9e Verte", "12 c\u0130t\u00e9 Nord",
    "4 \u0131mpasse du Moulin", "9 \u017fquare Vert", "12 \u212auai", "marie.dupont@exemple.fr",
    "=HYPERLINK(\"x\")", " + A1", "@SUM(A1)", "-\u00a0B2", "12/05/1987", "1987-05-12", "31.12.87",
    "a_5a8f401d0612345678", "h000004116", "2020-01", "524.39", "\u0085\u001c06 12 34 56 78\u001f",
]


def test_re2_trouve_tout_ce_que_trouve_python():
    """RE2's pre-filter keeps at least every text Python's pattern finds something in."""
    import random

    tirage = random.Random(7)
    alphabet = list("0123456789 .-/+@=(),;aAbBeErRuUkKsSiIfF") + ["\u00a0", "\u202f", "\u2009", "\u3000",
                                                                "\u0130", "\u0131", "\u017f", "\u212a",
                                                                "\u00e9", "\u2028", "\x1c", "\t", "\n"]
    textes = list(DELICATES) + ["\n".join(DELICATES[i:i + 3]) for i in range(len(DELICATES))]
    mots = ["rue", "avenue", "bis", "FR76", "06", "33", "1987", "@", "exemple.fr", "="]
    for _ in range(3000):
        morceaux = [tirage.choice(alphabet + mots) for _ in range(tirage.randint(1, 30))]
        textes.append("".join(morceaux))
    trouves_python = {i for i, texte in enumerate(textes) if dp._GLOBAL_LIGNE.search(texte)}
    assert len(trouves_python) > 100
    assert trouves_python <= dp.lignes_suspectes(textes)
    # those RE2's own `\s` and case folding would miss, found by Python and kept by RE2
    assert {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 17} <= trouves_python


class Recherches:
    """`_GLOBAL_LIGNE` counting the rows Python searches."""

    def __init__(self, motif):
        self.motif, self.appels = motif, 0

    def search(self, texte):
        self.appels += 1
        return self.motif.search(texte)


def test_fichier_brut_python_ne_cherche_que_les_lignes_que_re2_garde(tmp_path, monkeypatch):
    """A raw file (the reader could not type it) of 3 000 rows: Python's pattern runs on the
    rows RE2 kept only, and the findings are those of Python alone on every row."""
    entete = ";".join(contrat.MENAGES.noms_colonnes)
    lignes = [entete]
    for i in range(3000):
        cellules = [f"m{i:05d}", "declic", "les_chalets", "accompagne", "maintien", "", "", "", "",
                    "isole", "moins_25", "moins_1000", "412,50", "0,31", "33", "aucun", "bailleur"]
        if i == 1234:
            cellules[9] = "06\u00a012\u00a034\u00a056\u00a078"
        if i == 2500:
            cellules[15] = "12 c\u0130t\u00e9 Nord"
        lignes.append(";".join(cellules[:len(contrat.MENAGES.noms_colonnes)]))
    chemin = tmp_path / "menages.csv"
    chemin.write_text("\n".join(lignes) + "\n", encoding="utf-8")
    recherches = Recherches(dp._GLOBAL_LIGNE)
    monkeypatch.setattr(dp, "_GLOBAL_LIGNE", recherches)
    avec_re2 = [(c.nature, c.colonne, c.lignes, c.premieres) for c in dp.scanner_csv_brut(chemin, contrat.MENAGES)]
    assert recherches.appels < 10
    monkeypatch.setattr(dp, "lignes_suspectes", lambda textes: None)  # Python alone, every row
    seul = [(c.nature, c.colonne, c.lignes, c.premieres) for c in dp.scanner_csv_brut(chemin, contrat.MENAGES)]
    assert recherches.appels > 3000
    assert avec_re2 == seul
    assert ("telephone", "composition", 1, [1236]) in avec_re2
    assert ("adresse", "public_prioritaire", 1, [2502]) in avec_re2
