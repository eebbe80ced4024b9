"""Validation rules one by one: the personal-data detectors, the suites, chunks, reports, journal."""

from __future__ import annotations

import html
import json
import re

import pytest

from capitalisation import contrat, lecture
from capitalisation.validation import controle, journal, rapport, regles, valider_livraison
from capitalisation.validation import donnees_personnelles as dp

from .corpus import cas as corpus

# --------------------------------------------------------------------------- detectors


@pytest.mark.parametrize(
    ("valeur", "nature"),
    [
        ("marie.dupont@exemple.fr", "courriel"),
        ("contact: j_d+1@mairie-x.gouv.fr", "courriel"),
        ("06 12 34 56 78", "telephone"),
        ("06.12.34.56.78", "telephone"),
        ("06-12-34-56-78", "telephone"),
        ("0612345678", "telephone"),
        ("+33 6 12 34 56 78", "telephone"),
        ("+33612345678", "telephone"),
        ("0033 6 12 34 56 78", "telephone"),
        ("+33 (0)1 23 45 67 89", "telephone"),
        ("tel 01 23 45 67 89", "telephone"),
        (corpus.NIR, "nir"),
        (corpus.NIR.replace(" ", ""), "nir"),
        (corpus.NIR_CORSE, "nir"),
        (corpus.NIR_CORSE.replace(" ", "").lower(), "nir"),
        (corpus.nir("2 69 05 2B 042 123"), "nir"),
        (corpus.IBAN, "iban"),
        (corpus.IBAN.replace(" ", "").lower(), "iban"),
        ("DE89 3704 0044 0532 0130 00", "iban"),
        ("12 rue des Lilas", "adresse"),
        ("3bis, avenue Jean Jaurès", "adresse"),
        ("45 bd Gambetta", "adresse"),
        ("7 allée des Peupliers", "adresse"),
        ("128 chemin du Moulin", "adresse"),
        ("2 impasse Verte", "adresse"),
        ("1 place de la Mairie", "adresse"),
        ("né le 12/04/1958", "date"),
        ("a3_1958-04-12", "date"),
        ("=HYPERLINK(\"http://x\")", "formule"),
        ("+cmd|' /C calc'!A0", "formule"),
        ("-cmd", "formule"),
        ("@SUM(A1)", "formule"),
        ("x" * 1001, "long"),
    ],
)
def test_detecteurs_trouvent(valeur, nature):
    assert nature in dp.natures_cellule(valeur)


@pytest.mark.parametrize(
    "valeur",
    [
        "a1",
        "a_5a8f401d",
        "m_0612345678ab",  # digits inside a pseudonym are not a telephone number
        "5a8f401d0612345678e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "185057800608400",  # 15 digits, wrong key: not a NIR
        "FR76 3000 6000 0112 3456 7890 188",  # wrong check digits: not an IBAN
        "accompagne",
        "2a",
        "971",
        "1234.56",
        "-12.50",
        "+12",
        "x" * 1000,
        "",
    ],
)
def test_detecteurs_ne_se_trompent_pas(valeur):
    assert dp.natures_cellule(valeur) == []


def test_cle_nir_et_corse():
    assert dp.cle_nir_valide(corpus.NIR)
    corps = corpus.NIR_CORSE.replace(" ", "")
    assert dp.cle_nir_valide(corps)
    # the key of a Corsican NIR is computed with 2A → 19: the same digits with 20 fail
    assert not dp.cle_nir_valide(corps.replace("2A", "20"))
    assert not dp.cle_nir_valide(corpus.NIR[:-2] + "00")


def test_iban_mod_97():
    assert dp.iban_valide(corpus.IBAN)
    assert dp.iban_valide("GB82 WEST 1234 5698 7654 32")
    assert not dp.iban_valide("GB82 WEST 1234 5698 7654 33")


def test_le_motif_commun_aux_deux_moteurs():
    """The same patterns run in DuckDB (RE2) and in Python: same verdicts on candidates."""
    import duckdb

    valeurs = [corpus.COURRIEL, corpus.TELEPHONE, corpus.NIR, corpus.IBAN, corpus.ADRESSE, "a1", "1234.56"]
    con = duckdb.connect()
    for valeur in valeurs:
        (sql,) = con.execute("select regexp_matches(?, ?)", [valeur, dp.MOTIF_GLOBAL_SQL]).fetchone()
        assert sql == bool(re.search(dp.MOTIF_GLOBAL, valeur, re.IGNORECASE)), valeur


def test_masquer_les_messages():
    message = f"colonnes hors contrat : {corpus.COURRIEL}, {corpus.TELEPHONE} ; dossier declic/2020-06-30"
    masque = dp.masquer(message)
    assert corpus.COURRIEL not in masque and corpus.TELEPHONE not in masque
    assert "declic/2020-06-30" in masque


def test_scanner_un_fichier_brut(tmp_path):
    chemin = tmp_path / "menages.csv"
    chemin.write_text(
        "menage_id;date_orientation;telephone\n"
        f"a1;2019-01-01;{corpus.TELEPHONE}\n"
        f"a2;{corpus.COURRIEL};\n",
        encoding="cp1252",
    )
    constats = {(c.nature, c.colonne): c.premieres for c in dp.scanner_csv_brut(chemin, contrat.MENAGES)}
    assert constats == {("courriel", "date_orientation"): [3], ("telephone", "telephone"): [2]}


# --------------------------------------------------------------------------- suites


def test_chaque_suite_couvre_son_contrat():
    suites = regles.charger_suites()
    assert set(suites) == set(contrat.TABLES)
    for nom, table in contrat.TABLES.items():
        suite = suites[nom]
        # the landing layout of docs/architecture.md: the contract's columns, then
        # date_extraction, ligne_source and anomalies_lecture
        schema = lecture.schema_sql(table) + [("anomalies_lecture", "bigint")]
        (ensemble,) = [r for r in suite if r.type == "expect_table_columns_to_match_set"]
        assert ensemble.kwargs["column_set"] == [n for n, _ in schema] and ensemble.kwargs["exact_match"]
        types = {r.kwargs["column"]: r.kwargs["type_"] for r in suite if r.code == "type"}
        assert types == {n: t.upper().replace(" ", "") for n, t in schema}
        obligatoires = {r.kwargs["column"] for r in suite if r.code == "obligatoire"}
        assert obligatoires == {c.nom for c in table.colonnes if not c.nullable}
        codes = {r.kwargs["column"]: tuple(r.kwargs["value_set"]) for r in suite if r.code == "code_inconnu"}
        assert codes == {c.nom: c.codes for c in table.colonnes if c.codes}
        for colonne in dp.colonnes_textuelles(table):
            (detecteur,) = [r for r in suite if r.code == "donnees_personnelles" and r.colonne == colonne]
            assert detecteur.kwargs["regex_list"] == list(dp.MOTIFS.values())
        if nom != "menages":
            assert any(r.code == "menage_orphelin" for r in suite)
        for regle in suite:
            assert regle.severite in ("erreur", "avertissement")
            assert regle.libelle and regle.code


def test_severites_des_regles_clefs():
    suites = regles.charger_suites()
    severites = {(r.table, r.code): r.severite for suite in suites.values() for r in suite}
    assert severites[("comptes_mensuels", "identite_compte")] == "erreur"
    assert severites[("comptes_mensuels", "unicite")] == "erreur"
    assert severites[("menages", "unicite")] == "erreur"
    assert severites[("menages", "dp_date_naissance")] == "erreur"
    assert severites[("comptes_mensuels", "montant_absurde")] == "erreur"
    assert severites[("comptes_mensuels", "mois_manquant")] == "avertissement"
    assert severites[("comptes_mensuels", "historique_court")] == "avertissement"
    assert severites[("contacts", "contact_temoin")] == "avertissement"


def test_les_suites_se_chargent_dans_great_expectations():
    import great_expectations as gx

    for chemin in sorted(regles.DOSSIER_SUITES.glob("*.json")):
        donnees = json.loads(chemin.read_text(encoding="utf-8"))
        suite = gx.ExpectationSuite(**donnees)
        assert len(suite.expectations) == len(donnees["expectations"])
        for attente in suite.expectations:
            attendue = "critical" if attente.meta["severite"] == "erreur" else "warning"
            assert str(attente.severity.value) == attendue


# --------------------------------------------------------------------------- a delivery


@pytest.fixture(scope="module")
def bonne_livraison(tmp_path_factory):
    exports = tmp_path_factory.mktemp("exports")
    dossier = corpus.ecrire_livraison(exports / corpus.PROJET / "2020-06-30", corpus.base())
    return lecture.Livraison(corpus.PROJET, corpus.EXTRACTION, dossier)


def test_bonne_livraison_acceptee(bonne_livraison, tmp_path):
    resultat = valider_livraison(bonne_livraison, tmp_path)
    assert resultat.acceptee and resultat.echecs == []
    assert resultat.lignes_par_table() == {t: len(lignes) for t, lignes in corpus.base().items()}
    assert {f.fichier for f in resultat.fichiers} == {f"{t}.csv" for t in corpus.base()}
    # the typed files are left for the caller to land
    assert lecture.chemin_landing(tmp_path, "menages", bonne_livraison).exists()


def test_les_morceaux_ne_changent_pas_le_verdict(tmp_path):
    """Rules run chunk by chunk: counts and first rows add up across chunks."""
    donnees = corpus.base()
    for ligne in donnees["comptes_mensuels"][5:40:3]:
        ligne["quittance"] = "-1.00"
    dossier = corpus.ecrire_livraison(tmp_path / "exports" / corpus.PROJET / "2020-06-30", donnees)
    livraison = lecture.Livraison(corpus.PROJET, corpus.EXTRACTION, dossier)
    entier = valider_livraison(livraison, tmp_path / "a")
    morceaux = valider_livraison(livraison, tmp_path / "b", taille_morceau=16)

    def resume(resultat):
        return sorted((e.code, e.colonne, e.lignes, tuple(e.premieres_lignes)) for e in resultat.echecs)

    assert resume(entier) == resume(morceaux)
    (negatif,) = [e for e in entier.echecs if e.code == "montant_negatif"]
    assert negatif.lignes == 12 and negatif.premieres_lignes == list(range(7, 37, 3))[:10]


def test_rapports_md_html_json(bonne_livraison, tmp_path):
    donnees = corpus.base()
    corpus.renommer_menage(donnees, "a2", corpus.COURRIEL)
    dossier = corpus.ecrire_livraison(tmp_path / "exports" / corpus.PROJET / "2020-07-01", donnees)
    livraison = lecture.Livraison(corpus.PROJET, corpus.EXTRACTION, dossier)
    resultat = valider_livraison(livraison, tmp_path / "travail")
    assert not resultat.acceptee
    html_ = rapport.ecrire_rapport(tmp_path / "rapport", resultat)
    texte = html_.read_text(encoding="utf-8")
    # self-contained: no script, no external resource
    assert "<script" not in texte and not re.search(r"(src|href)\s*=\s*[\"']?https?:", texte)
    assert '<html lang="fr">' in texte and "refusée" in texte
    md = (tmp_path / "rapport" / "rapport.md").read_text(encoding="utf-8")
    donnees_json = json.loads((tmp_path / "rapport" / "rapport.json").read_text(encoding="utf-8"))
    (courriel,) = [e for e in donnees_json["echecs"] if e["regle"] == "dp_courriel" and e["fichier"] == "menages.csv"]
    assert courriel == {
        "fichier": "menages.csv", "table": "menages", "colonne": "menage_id", "regle": "dp_courriel",
        "libelle": "adresse électronique", "severite": "erreur", "lignes": 1, "premieres_lignes": [3],
        "detail": "",
    }
    for texte_rapport in (texte, md, json.dumps(donnees_json, ensure_ascii=False)):
        assert corpus.COURRIEL not in html.unescape(texte_rapport)
    assert "| menages.csv | menage_id | adresse électronique | `dp_courriel` | erreur | 1 (3) |" in md


def test_journal_en_ajout_seul(tmp_path):
    entree = journal.evenement("x", "acceptee", "declic/2020-06-30", "declic", corpus.EXTRACTION,
                               journal.fichiers_lus({"menages.csv": "a" * 64}, {"menages": 6}))
    chemin = journal.enregistrer(tmp_path, entree)
    with pytest.raises(FileExistsError):
        journal.enregistrer(tmp_path, entree)  # same entry again: never overwritten
    assert json.loads(chemin.read_text(encoding="utf-8"))["fichiers"] == [
        {"fichier": "menages.csv", "sha256": "a" * 64, "lignes": 6}
    ]
    assert journal.fichiers_lus({"export.xlsx": "b" * 64}, {"menages": 2, "contacts": 0}) == [
        {"fichier": "export.xlsx:contacts", "sha256": "b" * 64, "lignes": 0},
        {"fichier": "export.xlsx:menages", "sha256": "b" * 64, "lignes": 2},
    ]
    with pytest.raises(ValueError):
        journal.evenement("x", "lue", "d")


def test_echecs_lecture_sans_valeur():
    message = (
        "declic/2020-06-30/menages.csv : colonne date_orientation : 2 ligne(s) (3, 9) ne sont pas une date "
        "AAAA-MM-JJ ou JJ/MM/AAAA ; colonne loyer_mensuel : 1 ligne(s) (4) ne sont pas un montant en euros."
    )
    echecs = controle.echecs_lecture(message, "declic/2020-06-30/menages.csv", "menages")
    assert [(e.fichier, e.colonne, e.lignes, e.premieres_lignes) for e in echecs] == [
        ("menages.csv", "date_orientation", 2, [3, 9]),
        ("menages.csv", "loyer_mensuel", 1, [4]),
    ]
    assert all(e.code == "lecture" and e.severite == "erreur" for e in echecs)


def test_fichier_hors_contrat_avertit(bonne_livraison, tmp_path):
    extra = bonne_livraison.dossier / "notes.txt"
    extra.write_text("rien", encoding="utf-8")
    try:
        resultat = valider_livraison(bonne_livraison, tmp_path)
    finally:
        extra.unlink()
    assert resultat.acceptee
    assert [(e.code, e.fichier, e.severite) for e in resultat.echecs] == [
        ("fichier_hors_contrat", "notes.txt", "avertissement")
    ]


def test_relire_est_sans_effet_et_la_plus_recente_remplace(tmp_path):
    """Same files: not read again; a newer extraction supersedes, the older stays on disk;
    a refused newer one leaves the accepted one in use and nothing in the landing area."""
    from capitalisation import pipeline

    exports, landing = tmp_path / "exports", tmp_path / "entrepot" / "landing"
    options = {"rapports": tmp_path / "rapports", "quarantaine": tmp_path / "quarantaine"}
    corpus.ecrire_livraison(exports / corpus.PROJET / "2020-06-30", corpus.base())
    (premier,) = pipeline.lire_livraisons(exports, landing, **options)
    assert premier.statut == "lue"
    (second,) = pipeline.lire_livraisons(exports, landing, **options)
    assert second.statut == "deja_lue" and second.empreintes == premier.empreintes
    corpus.ecrire_livraison(exports / corpus.PROJET / "2020-07-31", corpus.base())
    statuts = {b.livraison.nom: b.statut for b in pipeline.lire_livraisons(exports, landing, **options)}
    assert statuts == {"declic/2020-07-31": "lue", "declic/2020-06-30": "ignoree"}
    assert sorted(p.name for p in (landing / "menages").glob("declic__*")) == [
        "declic__2020-06-30.parquet", "declic__2020-07-31.parquet",
    ]
    mauvaise = corpus.base()
    corpus.renommer_menage(mauvaise, "a1", corpus.COURRIEL)
    corpus.ecrire_livraison(exports / corpus.PROJET / "2020-08-31", mauvaise)
    bilans = {b.livraison.nom: b for b in pipeline.lire_livraisons(exports, landing, **options)}
    assert {n: b.statut for n, b in bilans.items()} == {
        "declic/2020-08-31": "refusee", "declic/2020-07-31": "deja_lue", "declic/2020-06-30": "ignoree",
    }
    assert any("dp_courriel" in r and "menages.csv" in r for r in bilans["declic/2020-08-31"].raisons)
    assert not list(landing.rglob("*2020-08-31*"))
    assert (tmp_path / "quarantaine" / "declic" / "2020-08-31" / "livraison" / "menages.csv").exists()
    assert (tmp_path / "rapports" / "declic" / "2020-08-31" / "rapport.html").exists()


def test_aucune_ligne_perdue_en_silence(tmp_path):
    """A file with more lines than rows read has lost some: refused, first unread line cited."""
    chemin = tmp_path / "evenements.csv"
    chemin.write_text(corpus.texte_csv(corpus.base()["evenements"], corpus.COLONNES["evenements"]),
                      encoding="utf-8")
    lue = lecture.TableLue("evenements", "declic/2020-06-30/evenements.csv", 2, tmp_path / "x.parquet")
    (echec,) = controle.controler_nombre_de_lignes(chemin, lue, "evenements.csv", "evenements")
    assert (echec.code, echec.severite, echec.lignes, echec.premieres_lignes) == ("lignes_non_lues", "erreur", 3, [4])
    entier = lecture.TableLue("evenements", "declic/2020-06-30/evenements.csv", 5, tmp_path / "x.parquet")
    assert controle.controler_nombre_de_lignes(chemin, entier, "evenements.csv", "evenements") == []


def test_decouvrir_les_livraisons(tmp_path):
    from capitalisation.validation import decouvrir

    exports = tmp_path / "exports"
    une = corpus.ecrire_livraison(exports / "declic" / "2020-06-30", corpus.base())
    corpus.ecrire_livraison(exports / "solide_r" / "2014-06-30", corpus.base())
    (exports / "declic" / "30-06-2020").mkdir()
    (exports / "Projet Fantome").mkdir()
    (exports / "_brouillons").mkdir()

    def noms(resultat):
        livraisons, refus = resultat
        return sorted(liv.nom for liv, _ in livraisons), sorted((r.dossier, r.echecs[0].code) for r in refus)

    assert noms(decouvrir(exports)) == (
        ["declic/2020-06-30", "solide_r/2014-06-30"],
        [("Projet Fantome", "dossier"), ("declic/30-06-2020", "dossier")],
    )
    assert noms(decouvrir(une)) == (["declic/2020-06-30"], [])
    assert noms(decouvrir(exports / "solide_r")) == (["solide_r/2014-06-30"], [])
    livraisons, refus = decouvrir(exports / "declic" / ".." / "declic" / "2020-06-30")
    assert livraisons == [] and refus[0].echecs[0].code == "chemin"
    (livraison, racine), = decouvrir(une)[0]
    assert racine == exports and livraison.date_extraction == corpus.EXTRACTION
