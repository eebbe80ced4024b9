"""Fiches the capitalisation team can sign: every published figure compared on its own
population with the comparison its wording calls for, a verdict in words, the programme
synthesis, and the page layout of the PDF and DOCX.

The demo warehouse and site are those of test_fiches.py (built once per session). The
publication layer's columns for the like-for-like figures are added to a copy of that
warehouse by `avec_colonnes_population`, with the masking rule the publication layer applies
(a secret recomputation shows no figure and no verdict).
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import statistics
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest

from capitalisation import formats
from capitalisation.publication import donnees_fiche, libelles, modeles, site
from capitalisation.publication.secret import SECRET
from tests.test_fiches import requete, site_de_demonstration

RACINE = Path(__file__).resolve().parent.parent
SEED = RACINE / "seeds" / "resultats_publies.csv"
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return site_de_demonstration(tmp_path_factory)


def seed() -> list[dict]:
    with SEED.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# The columns the publication layer passes through from fct_reconciliation, masked with the
# recomputation when it is secret (in the default population's cells, or on its own).
COLONNES_MASQUEES = ("valeur_population", "ic_bas_population", "ic_haut_population", "n_population",
                     "k_population", "verdict")


def avec_colonnes_population(entrepot: Path, cible: Path) -> Path:
    """A copy of the warehouse whose pub_reconciliation carries the like-for-like columns, and
    with a pub_synthese_programme (project rows hidden where pub_indicateurs_projet hides the
    proportion)."""
    shutil.copyfile(entrepot, cible)
    con = duckdb.connect(str(cible))
    try:
        secret = ("(p.cellules_secretes like '%statut%' or (not f.population_defaut and f.secret_population))")
        masques = ", ".join(f"case when {secret} then null else f.{c} end as {c}" for c in COLONNES_MASQUEES)
        liste = " || ".join(f"case when {secret} then ',{c}' else '' end" for c in COLONNES_MASQUEES)
        con.execute(f"""
            create or replace table pub_reconciliation as
            select p.* exclude (cellules_secretes), f.population, f.borne_basse, f.borne_haute,
                   f.raison, f.population_defaut, {masques},
                   ltrim(p.cellules_secretes || {liste}, ',') as cellules_secretes
            from pub_reconciliation p
            join fct_reconciliation f using (projet_id, indicateur, type_valeur)""")
        con.execute("""
            create or replace table pub_synthese_programme as
            select s.indicateur, s.projet_id, s.position_95,
                   case when p.valeur is null then 'position_95' else '' end as cellules_secretes
            from fct_synthese_programme s
            join pub_indicateurs_projet p using (projet_id, indicateur)
            where p.valeur is not null""")
    finally:
        con.close()
    return cible


@pytest.fixture(scope="module")
def fusionne(demo, tmp_path_factory) -> Path:
    entrepot, _, _ = demo
    return avec_colonnes_population(entrepot, tmp_path_factory.mktemp("fusion") / "entrepot.duckdb")


# --------------------------------------------------------------------------- like for like


def test_chaque_chiffre_publie_a_un_verdict_sur_sa_propre_population(demo):
    entrepot, _, _ = demo
    lignes = {(r["projet_id"], r["indicateur"]): r for r in requete(entrepot, "select * from fct_reconciliation")}
    publies = seed()
    assert len(lignes) == len(publies) == 21
    for publie in publies:
        ligne = lignes[(publie["projet_id"], publie["indicateur"])]
        assert ligne["population"] == publie["population"] in libelles.POPULATIONS
        assert ligne["comparaison"] == publie["comparaison"]
        assert ligne["verdict"] in ("confirme", "non_confirme", "non_testable")
        assert (ligne["raison"] is not None) == (ligne["verdict"] == "non_testable")
        if ligne["verdict"] != "non_testable":
            assert ligne["valeur_population"] is not None


def test_declic_releve_ou_reoriente_sur_tous_les_menages_orientes(demo):
    """« Environ un ménage sur trois relogé ou réorienté » des 67 ménages suivis : comparé sur les
    67 ménages orientés (adhérents ou non), pas sur les 45 adhérents."""
    entrepot, _, _ = demo
    ligne = requete(entrepot, "select * from fct_reconciliation where projet_id = 'declic' "
                              "and indicateur = 'relogement'")[0]
    attendu = requete(entrepot, """
        select count(*) as n, count(case when relogement then 1 end) as k
        from int_indicateurs_menage
        where projet_id = 'declic' and cadre = 'descriptif' and cohorte = 'accompagne'""")[0]
    effectifs = requete(entrepot, "select menages_orientes, menages_accompagnes from fct_effectifs_projet "
                                  "where projet_id = 'declic'")[0]
    assert ligne["population"] == "menages_orientes"
    assert ligne["n_population"] == attendu["n"] == effectifs["menages_orientes"] == 67
    assert ligne["k_population"] == attendu["k"] == 22
    assert ligne["ic_bas_population"] <= ligne["valeur_publiee"] <= ligne["ic_haut_population"]
    assert ligne["verdict"] == "confirme"
    # The default-population columns, those the secrecy layer's cells describe, are unchanged.
    assert (ligne["n"], ligne["k"]) == (effectifs["menages_accompagnes"], 0)
    assert ligne["population_defaut"] is False and ligne["secret_population"] is False


def test_solide_r_visites_a_domicile_seulement(demo):
    entrepot, _, _ = demo
    ligne = requete(entrepot, "select * from fct_reconciliation where projet_id = 'solide_r' "
                              "and indicateur = 'rdv_honores'")[0]
    attendu = requete(entrepot, """
        select count(*) as n, count(case when c.honore then 1 end) as k
        from stg_livraisons__contacts c
        join int_indicateurs_menage m using (projet_id, menage_id)
        where c.projet_id = 'solide_r' and m.cadre = 'descriptif' and m.adhesion
          and c.type_contact = 'visite_domicile'""")[0]
    assert (ligne["n_population"], ligne["k_population"]) == (attendu["n"], attendu["k"])
    assert ligne["n_population"] < ligne["n"]  # office appointments left out
    assert ligne["comparaison"] == "au_moins" and ligne["verdict"] == "confirme"


def test_les_populations_par_defaut_donnent_les_chiffres_des_tables(demo):
    entrepot, _, _ = demo
    for ligne in requete(entrepot, "select * from fct_reconciliation where population_defaut"):
        assert (ligne["n_population"], ligne["k_population"]) == (ligne["n"], ligne["k"])
        assert ligne["valeur_population"] == ligne["valeur_recalculee"]


@pytest.mark.parametrize("comparaison, publie, recalcule, bornes, attendu", [
    ("egal", 160, 160, None, "confirme"),
    ("egal", 28, 27, None, "non_confirme"),
    ("au_moins", 100, 104, None, "confirme"),
    ("au_moins", 100, 99, None, "non_confirme"),
    ("au_plus", 10, 10, None, "confirme"),
    ("au_plus", 10, 11, None, "non_confirme"),
    ("dans_intervalle", 75, 80, (67.5, 82.5), "confirme"),
    ("dans_intervalle", 75, 90.5, (67.5, 82.5), "non_confirme"),
])
def test_les_comparaisons_des_effectifs_par_valeurs(comparaison, publie, recalcule, bornes, attendu):
    """The verdict macro of fct_reconciliation, compiled by dbt's own Jinja, run on DuckDB."""
    sql = verdict_sql(comparaison, "effectif", publie, recalcule, None, None, bornes)
    assert duckdb.connect().execute(sql).fetchone()[0] == attendu


@pytest.mark.parametrize("comparaison, publie, intervalle, attendu", [
    ("egal", 0.93, (0.876, 0.966), "confirme"),
    ("egal", 0.99, (0.876, 0.966), "non_confirme"),
    ("au_moins", 0.75, (0.61, 0.78), "confirme"),  # « plus de 75 % »: the interval reaches it
    ("au_moins", 0.85, (0.61, 0.78), "non_confirme"),
    ("au_plus", 0.5, (0.75, 0.93), "non_confirme"),
    ("au_plus", 0.8, (0.75, 0.93), "confirme"),
])
def test_les_comparaisons_des_proportions_par_valeurs(comparaison, publie, intervalle, attendu):
    sql = verdict_sql(comparaison, "proportion", publie, sum(intervalle) / 2, *intervalle, None)
    assert duckdb.connect().execute(sql).fetchone()[0] == attendu


def verdict_sql(comparaison, type_valeur, publie, valeur, bas, haut, bornes) -> str:
    """`verdict_reconciliation` (macros/populations.sql) rendered with plain Jinja."""
    import jinja2

    texte = (RACINE / "macros" / "populations.sql").read_text(encoding="utf-8")
    corps = texte[texte.index("{% macro verdict_reconciliation"):]
    modele = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(
        corps + "{{ verdict_reconciliation('valeur', 'ic_bas', 'ic_haut') }}")
    expression = modele.render()
    bas_b, haut_b = bornes or (None, None)

    def sql(v):
        return "null" if v is None else repr(v) if not isinstance(v, str) else f"'{v}'"

    return (f"select {expression} from (select {sql(comparaison)} as comparaison, {sql(type_valeur)} as "
            f"type_valeur, {sql(publie)} as valeur_publiee, {sql(valeur)} as valeur, {sql(bas)} as ic_bas, "
            f"{sql(haut)} as ic_haut, {sql(bas_b)} as borne_basse, {sql(haut_b)} as borne_haute)")


# --------------------------------------------------------------------------- in words


def test_verdicts_en_mots():
    base = {"projet_id": "p", "type_valeur": "effectif", "population": "menages_orientes",
            "population_defaut": True, "cellules_secretes": "", "raison": None}
    ligne = {**base, "indicateur": "menages_orientes", "comparaison": "au_moins", "valeur_publiee": 100.0,
             "valeur_population": 104.0, "k_population": 104, "verdict": "confirme"}
    assert donnees_fiche.phrase_verdict(ligne) == (
        f"Le projet annonce au moins 100 ménages orientés{NBSP}; les données en comptent 104{NBSP}: "
        "**confirmé**.")
    ligne = {**base, "indicateur": "menages_accompagnes_par_an", "population": "menages_adherents",
             "comparaison": "dans_intervalle", "valeur_publiee": 75.0, "borne_basse": 67.5,
             "borne_haute": 82.5, "valeur_population": 90.5, "verdict": "non_confirme"}
    assert donnees_fiche.phrase_verdict(ligne) == (
        f"Le projet annonce environ 75 ménages accompagnés par an (de 67,5 à 82,5){NBSP}; les données "
        f"en comptent 90,5{NBSP}: **non confirmé**.")
    ligne = {**base, "indicateur": "rdv_honores", "type_valeur": "proportion", "population": "visites_domicile",
             "comparaison": "au_moins", "valeur_publiee": 0.75, "valeur_population": 501 / 658,
             "ic_bas_population": 0.727, "ic_haut_population": 0.792, "n_population": 658,
             "k_population": 501, "verdict": "confirme"}
    phrase = donnees_fiche.phrase_verdict(ligne)
    assert phrase.startswith("Le projet annonce plus de 75" + NBSP + "% (rendez-vous honorés) des visites à "
                             "domicile prévues")
    assert "501 sur 658" in phrase and "un intervalle qui atteint ce seuil" in phrase
    assert phrase.endswith("**confirmé**.")
    ligne = {**base, "indicateur": "menages_temoins", "comparaison": "egal", "valeur_publiee": 25.0,
             "valeur_population": None, "verdict": "non_testable",
             "raison": "le contrat de données ne décrit pas les réorientations"}
    assert donnees_fiche.phrase_verdict(ligne) == (
        f"Le projet annonce 25 ménages témoins{NBSP}: **non testable**, le contrat de données ne décrit "
        "pas les réorientations.")


def test_un_recalcul_secret_ne_donne_ni_son_chiffre_ni_le_verdict():
    ligne = {"projet_id": "p", "indicateur": "expulsion_evitee", "type_valeur": "effectif",
             "population": "en_procedure", "comparaison": "egal", "valeur_publiee": 3.0,
             "valeur_population": None, "k_population": None, "verdict": None, "raison": None,
             "cellules_secretes": "valeur_recalculee,k,statut,valeur_population,k_population,verdict"}
    phrase = donnees_fiche.phrase_verdict(ligne)
    assert "couvert par le secret statistique" in phrase and "confirmé" not in phrase
    assert phrase.count("3") == 1  # only the published figure
    assert donnees_fiche.statut(ligne) == SECRET


def test_la_fiche_donne_chaque_verdict_en_mots(fusionne, tmp_path):
    rendu = site.ecrire_fiche(RACINE / "reports", next(p for p in site.catalogue(fusionne)
                                                        if p["projet_id"] == "declic"),
                              fusionne, RACINE / "reports" / "narratifs", tmp_path / "declic")
    fiche = donnees_fiche.Fiche.charger(fusionne, "declic", RACINE / "reports" / "narratifs",
                                        figures=tmp_path / "figures")
    texte = fiche.reconciliation_texte()
    assert rendu.exists()
    assert texte.count("Le projet annonce") == 5
    phrase = next(l_ for l_ in texte.splitlines() if "relogement ou mutation" in l_)
    assert "des ménages orientés (adhérents ou non)" in phrase
    relogement = requete(fusionne, "select * from pub_reconciliation where projet_id = 'declic' "
                                   "and indicateur = 'relogement'")[0]
    if relogement["verdict"] is None:  # the recomputed figure is secret: neither it nor the verdict
        assert "couvert par le secret statistique" in phrase and "22 sur 67" not in phrase
        assert "confirmé" not in phrase
    else:
        assert "22 sur 67" in phrase and phrase.endswith("**confirmé**.")
    # the indicators' table no longer sets the 33 % beside the 0 of 45 adhered households
    assert "Non confirmé" not in fiche._indicateurs()


def test_synthese_du_programme_etendue_mediane_et_entonnoir(demo, fusionne):
    entrepot, _, _ = demo
    lignes = requete(entrepot, "select * from fct_synthese_programme")
    indicateurs = requete(entrepot, "select projet_id, indicateur, n, k, valeur from fct_indicateurs_projet "
                                    "where nature = 'proportion'")
    for code in {r["indicateur"] for r in lignes}:
        valeurs = sorted(r["valeur"] for r in indicateurs if r["indicateur"] == code and r["n"])
        rangs = [r for r in lignes if r["indicateur"] == code]
        assert rangs[0]["proportion_min"] == pytest.approx(valeurs[0])
        assert rangs[0]["proportion_max"] == pytest.approx(valeurs[-1])
        assert rangs[0]["proportion_mediane"] == pytest.approx(statistics.median(valeurs))
        for r in rangs:
            attendu = ("au_dessus" if r["proportion"] > r["limite_95_haut"] else "en_dessous"
                       if r["proportion"] < r["limite_95_bas"] else "dans_les_limites")
            assert r["position_95"] == attendu
        assert rangs[0]["projets_au_dessus"] == sum(r["position_95"] == "au_dessus" for r in rangs)
    page = site.page_programme(fusionne, "", figures=str(Path(fusionne).parent / "figures"))
    assert "## Les projets face au programme" in page
    section = page[page.index("## Les projets face au programme"):page.index("## Chiffres publiés")]
    rangee = next(l_ for l_ in section.splitlines() if l_.startswith("| Adhésion"))
    # the projects published under the limits are named, the secret ones left out
    noms = {p["projet_id"]: p["nom"] for p in site.catalogue(fusionne)}
    positions = {r["projet_id"]: r["position_95"] for r in requete(
        fusionne, "select projet_id, position_95 from pub_synthese_programme where indicateur = 'adhesion'")}
    dessous = [noms[p] for p, position in positions.items() if position == "en_dessous"]
    assert dessous and all(nom in rangee for nom in dessous)
    assert not [noms[p] for p, position in positions.items() if position is None and noms[p] in rangee]
    for titre in ("confirmés par les données", "que les données ne confirment pas"):
        assert f"### Chiffres publiés {titre}" in page


def test_la_synthese_ne_publie_aucune_proportion_secrete(fusionne):
    """The range and median are those of the published project proportions only."""
    page = site.page_programme(fusionne, "", figures=str(Path(fusionne).parent / "figures"))
    publiees = requete(fusionne, "select indicateur, valeur from pub_indicateurs_projet "
                                 "where nature = 'proportion' and valeur is not null")
    section = page[page.index("## Les projets face au programme"):page.index("## Chiffres publiés")]
    for code in ("adhesion", "loyer_a_jour", "dette_resorbee", "relogement"):
        valeurs = sorted(r["valeur"] for r in publiees if r["indicateur"] == code)
        rangees = [l_ for l_ in section.splitlines() if l_.startswith("| " + libelles.INDICATEURS[code][0])]
        if not valeurs:  # no project's proportion published: no range, no median
            assert rangees == []
            continue
        rangee = rangees[0]
        cellules = [c.strip() for c in rangee.strip("|").split(" | ")]
        assert cellules[1] == str(len(valeurs))
        assert cellules[2] == formats.etendue(valeurs[0], valeurs[-1])
        assert cellules[3] == formats.pourcentage(statistics.median(valeurs))


# --------------------------------------------------------------------------- page layout


def test_le_pdf_suit_la_mise_en_page_du_programme(demo):
    _, sortie, _ = demo
    pdf = sortie / "fiches" / "habitat_reuni.pdf"
    texte = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    pages = texte.split("\f")
    assert len([p for p in pages if p.strip()]) >= 3
    assert pages[0].lstrip().startswith("FICHE PROJET")
    mois = site.date_publication()
    assert f"Publication : {mois}" in pages[0].replace(NBSP, " ")
    for numero, page in enumerate(pages[1:3], start=2):
        page = page.replace(NBSP, " ").replace("\u202f", " ")
        assert "Programme « 10 000 logements HLM accompagnés »" in page.splitlines()[0]  # running header
        assert f"Page {numero} / {len([p for p in pages if p.strip()])}" in page
    # the sources line keeps the extraction date
    extraction = requete(demo[0], "select date_extraction from pub_effectifs_projet "
                                  "where projet_id = 'habitat_reuni'")[0]["date_extraction"]
    assert f"extraite le {formats.date_longue(extraction)}".replace(NBSP, " ") in \
        " ".join(texte.replace(NBSP, " ").split())


def test_le_docx_suit_le_document_de_reference(demo):
    import docx

    _, sortie, _ = demo
    document = docx.Document(str(sortie / "fiches" / "habitat_reuni.docx"))
    section = document.sections[0]
    assert section.header.paragraphs[0].text == modeles.ENTETE_DOCX
    assert "NUMPAGES" in section.footer._element.xml
    assert round(section.left_margin.cm, 1) == 2.0 and round(section.page_width.cm, 1) == 21.0
    assert str(document.styles["Heading 2"].font.color.rgb) == modeles.BLEU
    assert document.paragraphs[0].style.name == "Title"
    dates = [p.text for p in document.paragraphs if p.style.name == "Date"]
    assert dates == [site.date_publication()]


def test_le_document_de_reference_est_genere_de_facon_reproductible(tmp_path):
    un = modeles.reference_docx(tmp_path / "a" / "reference.docx")
    deux = modeles.reference_docx(tmp_path / "b" / "reference.docx")
    with zipfile.ZipFile(un) as a, zipfile.ZipFile(deux) as b:
        assert a.read("word/styles.xml") == b.read("word/styles.xml")
        assert b"12455A" in a.read("word/styles.xml")


def test_date_de_publication_est_le_mois_du_rendu():
    assert site.date_publication(dt.date(2026, 12, 1)) == "Décembre 2026"


def test_un_entete_de_tableau_ne_reste_jamais_seul_en_bas_de_page(tmp_path):
    """A long table placed lower and lower on a page: its caption and header row always go with
    at least one row of the table (or to the next page with it)."""
    from capitalisation.publication import rendu

    shutil.copytree(RACINE / "reports" / "modeles", tmp_path / "modeles", ignore=shutil.ignore_patterns("*.docx"))
    entete = {"format": {"typst": {"template": "modeles/fiche.typ", "papersize": "a4"}}}
    tableau = "| Colonne A | Colonne B |\n|---|--:|\n" + "".join(f"| ligne {i} | {i} |\n" for i in range(80))
    vus = set()
    for paragraphes in range(56, 70):
        md = tmp_path / "essai.md"
        md.write_text("---\ntitle: Essai\n---\n" + "\n\n".join(["Ligne courte."] * paragraphes)
                      + "\n\n" + tableau + "\n: Tableau d'essai\n", encoding="utf-8")
        rendu.convertir(md, "pdf", tmp_path / "essai.pdf", entete)
        texte = subprocess.run(["pdftotext", "-layout", str(tmp_path / "essai.pdf"), "-"],
                               capture_output=True, text=True, check=True).stdout
        for page in texte.split("\f"):
            contenu = [l_.strip() for l_ in page.splitlines() if l_.strip()][:-1]  # without the footer
            if not contenu:
                continue
            dernier = contenu[-1]
            vus.add(dernier.split()[0])
            assert not dernier.startswith(("Colonne A", "Tableau 1")), (paragraphes, contenu[-3:])
    assert "ligne" in vus  # the table did break across pages


def test_zero_ou_un_au_singulier():
    ligne = {"indicateur": "expulse", "type_valeur": "effectif", "valeur_publiee": 0.0, "comparaison": "egal",
             "population": "menages_orientes"}
    assert donnees_fiche.annonce(ligne) == "0 expulsion parmi les ménages orientés (adhérents ou non)"
    assert donnees_fiche.annonce({**ligne, "valeur_publiee": 3.0}).startswith("3 expulsions parmi")
