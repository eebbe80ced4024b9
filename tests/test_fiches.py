"""The fiches projet and their site, rendered from a demo warehouse.

The demo warehouse is built once per test session (shared with test_site_navigateur.py
through a lock file), and the site rendered once: HTML for every fiche, plus PDF and DOCX
for Habitat Réuni (the project with a control group) only, to keep the tests fast. Each figure checked here is read
back from the rendered HTML and compared with the pub_ table it comes from, and
recomputed from k and n where it is a proportion.
"""

from __future__ import annotations

import fcntl
import html
import itertools
import json
import os
import re
import shutil
import subprocess
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from capitalisation import cli, config, formats, pipeline
from capitalisation.demo import generer_demo
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.publication import fiches, libelles, publie, rendu, site

RACINE = Path(__file__).resolve().parent.parent
ARTEFACTS = Path(__file__).parent / "artefacts"
PROJETS = ["declic", "habitat_reuni", "solide_r", "trait_social", "zero_expulsion"]
NBSP, FINE = "\u00a0", "\u202f"
# Breaking white space only: the no-break spaces of French typography are kept.
ESPACES = re.compile(r"[ \t\r\n\f]+")


def souple(texte: str) -> str:
    """For comparing a seed's text with its typeset form: every space alike."""
    return texte.replace(NBSP, " ").replace(FINE, " ")


def normaliser(texte: str) -> str:
    return ESPACES.sub(" ", texte).replace("\u2019", "'").strip()  # pandoc writes ’ for '


# --------------------------------------------------------------------------- shared site


def _dossier_partage(tmp_path_factory) -> Path:
    """A folder shared by every test module of the session (and every xdist worker)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base


def copier_sources(cible: Path) -> Path:
    """The site's documents and the narratives, as a folder the tests may change."""
    cible.mkdir(parents=True, exist_ok=True)
    for nom in ("fiche.qmd", "index.qmd", "programme.qmd", "benchmark.qmd", "styles.css", "_quarto.yml"):
        if (RACINE / "reports" / nom).exists():
            shutil.copy2(RACINE / "reports" / nom, cible / nom)
    shutil.copytree(RACINE / "reports" / "narratifs", cible / "narratifs", dirs_exist_ok=True)
    return cible


def site_de_demonstration(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(warehouse, site, sources): built and rendered once per session, under a lock."""
    base = _dossier_partage(tmp_path_factory)
    dossier = base / "fiches-demo"
    with open(base / "fiches-demo.verrou", "w") as verrou:
        fcntl.flock(verrou, fcntl.LOCK_EX)
        entrepot, sortie, sources = dossier / "entrepot.duckdb", dossier / "site", dossier / "sources"
        if not (dossier / "pret").exists():
            shutil.rmtree(dossier, ignore_errors=True)
            generer_demo(dossier / "exports", graine=config.GRAINE_DEMO)
            landing = pipeline.dossier_landing(entrepot)
            pipeline.lire_livraisons(dossier / "exports", landing, rapports=dossier / "rapports",
                                     quarantaine=dossier / "quarantaine")
            pipeline.construire_entrepot(entrepot, landing)
            copier_sources(sources)
            # Habitat Réuni in every format first; the second run renders only the others.
            for formats, projets in (("html,pdf,docx", ["habitat_reuni"]), ("html", None)):
                try:
                    fiches.rendre_fiches(entrepot, sortie, formats, projets=projets, sources=sources)
                except ErreurUtilisateur as erreur:
                    # The benchmark page is another module's: its failure is checked by
                    # test_la_page_du_benchmark_est_rendue, the fiches are tested anyway.
                    if not all("benchmark.html" in ligne for ligne in str(erreur).splitlines()[:-1]):
                        raise
                    (dossier / "benchmark-echec.txt").write_text(str(erreur), encoding="utf-8")
            (dossier / "pret").touch()
    return entrepot, sortie, sources


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return site_de_demonstration(tmp_path_factory)


def requete(entrepot: Path, sql: str, parametres=()) -> list[dict]:
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        curseur = con.execute(sql, list(parametres))
        noms = [d[0] for d in curseur.description]
        return [dict(zip(noms, r)) for r in curseur.fetchall()]
    finally:
        con.close()


# --------------------------------------------------------------------------- reading HTML


class Page(HTMLParser):
    """Tables (caption, header, rows of cell texts), headings, images, links, text."""

    def __init__(self, texte: str):
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.titres: list[tuple[int, str]] = []
        self.images: list[dict] = []
        self.liens: list[str] = []
        self.lang = None
        self._pile: list[str] = []
        self._cellule: list[str] | None = None
        self._rangee: list[str] | None = None
        self._legende: list[str] | None = None
        self._titre: tuple[int, list[str]] | None = None
        self._texte: list[str] = []
        self._ignorer = 0
        self.feed(texte)
        self.texte = normaliser("".join(self._texte))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag in ("style", "script"):
            self._ignorer += 1
        if tag == "table":
            self.tables.append({"legende": "", "entetes": [], "rangees": []})
        elif tag == "caption":
            self._legende = []
        elif tag == "tr":
            self._rangee = []
        elif tag in ("td", "th"):
            self._cellule = []
        elif re.fullmatch(r"h[1-6]", tag):
            self._titre = (int(tag[1]), [])
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "a" and attrs.get("href"):
            self.liens.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._ignorer -= 1
        if tag == "caption" and self._legende is not None:
            self.tables[-1]["legende"] = normaliser("".join(self._legende))
            self._legende = None
        elif tag in ("td", "th") and self._cellule is not None:
            self._rangee.append(normaliser("".join(self._cellule)))
            self._cellule = None
        elif tag == "tr" and self._rangee is not None:
            table = self.tables[-1]
            if not table["entetes"]:
                table["entetes"] = self._rangee
            else:
                table["rangees"].append(self._rangee)
            self._rangee = None
        elif re.fullmatch(r"h[1-6]", tag) and self._titre:
            self.titres.append((self._titre[0], normaliser("".join(self._titre[1]))))
            self._titre = None

    def handle_data(self, data):
        if self._ignorer:
            return
        self._texte.append(data)
        for tampon in (self._cellule, self._legende):
            if tampon is not None:
                tampon.append(data)
        if self._titre:
            self._titre[1].append(data)

    def table(self, debut_legende: str) -> dict:
        trouvees = [t for t in self.tables if t["legende"].startswith(debut_legende)]
        assert trouvees, f"table « {debut_legende} » absente ; tables : {[t['legende'] for t in self.tables]}"
        return trouvees[0]


def lire_page(chemin: Path) -> Page:
    return Page(chemin.read_text(encoding="utf-8"))


def pourcent(valeur: float) -> str:
    """The expected French percentage, computed here (not with the code under test)."""
    arrondi = (Decimal(str(valeur)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{max(int(arrondi), 0)}{NBSP}%"


def entier(valeur: int) -> str:
    return f"{valeur:,}".replace(",", FINE)


def code_indicateur(libelle_population: str) -> str:
    libelle = libelle_population.split(" (")[0]
    codes = [c for c, (l_, _) in libelles.INDICATEURS.items() if l_ == libelle]
    assert codes, libelle
    return codes[0]


# --------------------------------------------------------------------------- the site


def test_chaque_projet_du_catalogue_a_sa_fiche(demo):
    entrepot, sortie, _ = demo
    catalogue = [r["projet_id"] for r in requete(entrepot, "select projet_id from projets order by 1")]
    assert catalogue == PROJETS
    for projet in catalogue:
        assert (sortie / "fiches" / f"{projet}.html").stat().st_size > 10_000
    assert (sortie / "fiches" / "habitat_reuni.pdf").exists()
    assert (sortie / "fiches" / "habitat_reuni.docx").exists()
    manifeste = json.loads((sortie / site.MANIFESTE).read_text(encoding="utf-8"))
    assert sorted(manifeste["fiches"]) == PROJETS
    assert manifeste["fiches"]["habitat_reuni"]["formats"] == ["html", "pdf", "docx"]
    for entree in manifeste["fiches"].values():
        assert set(entree["composantes"]) == {"donnees", "document", "narratif", "code", "reglages"}
    index = lire_page(sortie / "index.html")
    for projet in catalogue:
        assert f"fiches/{projet}.html" in index.liens
    assert "fiches/habitat_reuni.pdf" in index.liens and "fiches/habitat_reuni.docx" in index.liens
    assert "fiches/declic.pdf" not in index.liens  # rendered in HTML only


def test_titre_date_et_presentation_viennent_du_catalogue(demo):
    entrepot, sortie, _ = demo
    for projet in PROJETS:
        page = lire_page(sortie / "fiches" / f"{projet}.html")
        ligne = requete(entrepot, "select * from projets where projet_id = ?", [projet])[0]
        extraction = requete(entrepot, "select date_extraction from pub_effectifs_projet "
                                       "where projet_id = ?", [projet])[0]["date_extraction"]
        assert page.titres[0] == (1, f"Fiche projet «{NBSP}{ligne['nom']}{NBSP}»")
        # dated by its publication; the extraction date is in the sources line
        assert site.date_publication() in page.texte
        assert f"extraite le {formats.date_longue(extraction)}" in page.texte
        assert ligne["categorie"] in page.texte
        assert f"Catégorie{NBSP}:" in page.texte
        sections = [t for niveau, t in page.titres if niveau == 2 and t != "Sommaire"]
        assert sections == ["Présentation du projet", "Contexte et genèse", "Principaux objectifs",
                            "Public cible", "Partenaires", "La mise en œuvre", "Moyens mobilisés",
                            "Les enseignements", "Suites et perspectives", "Contacts"]
    page = lire_page(sortie / "fiches" / "zero_expulsion.html")
    assert "extraite le 31 décembre 2019" in page.texte
    assert "De janvier 2017 à décembre 2019 (3" in page.texte


def test_indicateurs_recalcules_tracent_pub_indicateurs_projet(demo):
    entrepot, sortie, _ = demo
    for projet in PROJETS:
        page = lire_page(sortie / "fiches" / f"{projet}.html")
        table = page.table("Indicateurs recalculés du projet")
        attendus = {r["indicateur"]: r for r in requete(
            entrepot, "select * from pub_indicateurs_projet where projet_id = ? and nature = 'proportion'",
            [projet])}
        vus = set()
        for rangee in table["rangees"]:
            code = code_indicateur(rangee[0])
            vus.add(code)
            ligne = attendus[code]
            secrets = set(filter(None, ligne["cellules_secretes"].split(",")))
            valeur, k_sur_n, ic = rangee[1], rangee[2], rangee[3]
            if "k" in secrets or "valeur" in secrets:
                assert valeur == "s" and ic == "s" and k_sur_n.startswith("s sur"), rangee
                continue
            k, n = ligne["k"], ligne["n"]
            assert k_sur_n == f"{entier(k)} sur {entier(n)}"
            # Recomputed here from k and n, and equal to the warehouse's value.
            assert valeur == pourcent(k / n) == pourcent(ligne["valeur"])
            assert ic == f"{pourcent(max(ligne['ic_bas'], 0))} – {pourcent(ligne['ic_haut'])}"
        assert vus == set(attendus)


def test_chiffre_publie_a_cote_du_recalcule(demo):
    from capitalisation.publication import donnees_fiche

    entrepot, sortie, _ = demo
    for projet in PROJETS:
        page = lire_page(sortie / "fiches" / f"{projet}.html")
        publies = requete(entrepot, "select * from pub_reconciliation where projet_id = ?", [projet])
        table = page.table("Chiffres publiés et chiffres recalculés")
        assert len(table["rangees"]) == len(publies)
        for ligne in publies:
            ligne = donnees_fiche.comparable(ligne)  # on the published figure's own population
            # the sentence, its period in brackets before its full stop (« … sur la période (2017–2019). »)
            rangee = next(r for r in table["rangees"]
                          if souple(r[0]).startswith(souple(ligne["libelle"]).rstrip(".")))
            secrets = set(filter(None, ligne["cellules_secretes"].split(",")))
            symbole = libelles.SYMBOLES_COMPARAISON.get(ligne["comparaison"], "")
            if ligne["type_valeur"] == "proportion":
                assert rangee[2] == symbole + pourcent(ligne["valeur_publiee"])
            else:
                assert rangee[2] == symbole + entier(int(ligne["valeur_publiee"]))
            if "valeur_recalculee" in secrets:
                assert rangee[3] == "s"
            elif ligne["type_valeur"] == "proportion":
                assert rangee[3].startswith(f"{pourcent(ligne['k'] / ligne['n'])} "
                                            f"({entier(ligne['k'])} sur {entier(ligne['n'])}")
            elif float(ligne["valeur_recalculee"]).is_integer():
                assert rangee[3] == entier(int(ligne["valeur_recalculee"]))
            else:  # an annual average, to one decimal
                assert rangee[3] == f"{ligne['valeur_recalculee']:.1f}".replace(".", ",")
            assert rangee[4] == ("s" if "statut" in secrets else libelles.STATUTS[ligne["verdict"]])
        # every published figure has its verdict in words
        assert souple(page.texte).count("Le projet annonce") == len(publies)
    page = lire_page(sortie / "fiches" / "declic.html")
    assert f"Le projet annonce 33{NBSP}% (relogement ou mutation)" in page.texte
    # The indicator table sets the published proportion beside the recomputed one (« s » when the
    # recomputed one is secret).
    rangee = next(r for r in lire_page(sortie / "fiches" / "zero_expulsion.html")
                  .table("Indicateurs recalculés")["rangees"] if r[0].startswith("Loyer à jour"))
    loyer = requete(entrepot, "select * from pub_indicateurs_projet where projet_id = 'zero_expulsion' "
                              "and indicateur = 'loyer_a_jour'")[0]
    assert rangee[4] == f"93{NBSP}%"
    if loyer["k"] is None:
        assert rangee[1:4] == ["s", "s sur s", "s"] and rangee[5] == "s"
    else:
        assert rangee[1:] == [pourcent(loyer["k"] / loyer["n"]), f"{entier(loyer['k'])} sur {entier(loyer['n'])}",
                              f"{pourcent(loyer['ic_bas'])} – {pourcent(loyer['ic_haut'])}", f"93{NBSP}%", "Confirmé"]


def test_effectifs_et_couts_viennent_des_tables_publiees(demo):
    entrepot, sortie, _ = demo
    for projet in PROJETS:
        page = lire_page(sortie / "fiches" / f"{projet}.html")
        effectifs = requete(entrepot, "select * from pub_effectifs_projet where projet_id = ?", [projet])[0]
        secrets = set(filter(None, effectifs["cellules_secretes"].split(",")))
        table = page.table("Ménages du projet")
        lus = {r[0]: r[1] for r in table["rangees"]}
        for colonne in ("menages_orientes", "menages_accompagnes", "menages_termines", "menages_en_cours",
                        "volet_maintien", "volet_acces"):
            attendu = "s" if colonne in secrets else entier(effectifs[colonne])
            assert lus[libelles.EFFECTIFS[colonne]] == attendu, (projet, colonne)
        couts = requete(entrepot, "select * from pub_couts_projet where projet_id = ?", [projet])[0]
        if couts["menages_accompagnes_par_an"] is not None:
            cout = float(couts["budget_annuel"]) / couts["menages_accompagnes_par_an"]
            assert f"{entier(int(Decimal(str(cout)).quantize(Decimal(1), ROUND_HALF_UP)))}{NBSP}€" in page.texte
        else:
            assert "menages_accompagnes_par_an" in couts["cellules_secretes"]
        assert f"Budget annuel{NBSP}: {entier(int(couts['budget_annuel']))}{NBSP}€" in page.texte
        if "cout_par_expulsion_evitee" in couts["cellules_secretes"]:
            assert f"Coût par expulsion évitée{NBSP}: s" in page.texte
    page = lire_page(sortie / "fiches" / "zero_expulsion.html")
    assert f"100{FINE}000{NBSP}€, soit 31{NBSP}% du budget" in page.texte


def test_secret_statistique_jamais_de_valeur_sous_le_seuil(demo):
    entrepot, sortie, _ = demo
    # The values hidden in the publication layer, read here from the marts.
    caches = requete(entrepot, """
        select publie.projet_id, publie.indicateur, marts.k, marts.n
        from pub_indicateurs_projet as publie
        join fct_indicateurs_projet as marts using (projet_id, indicateur)
        where publie.k is null and marts.k is not null and publie.nature = 'proportion'
    """)
    assert caches, "la démonstration doit comporter des cellules secrètes"
    for cache in caches:
        page = lire_page(sortie / "fiches" / f"{cache['projet_id']}.html")
        rangee = next(r for r in page.table("Indicateurs recalculés")["rangees"]
                      if code_indicateur(r[0]) == cache["indicateur"])
        assert rangee[1] == "s" and rangee[3] == "s"
        assert f"{entier(cache['k'])} sur {entier(cache['n'])}" not in page.texte
    # A secret comparison shows « s », never a zero.
    page = lire_page(sortie / "fiches" / "habitat_reuni.html")
    comparaison = page.table("Estimations de la comparaison")
    secretes = requete(entrepot, "select distinct resultat from pub_comparaisons where projet_id = "
                                 "'habitat_reuni' and cellules_secretes like '%estimation%'")
    for ligne in secretes:
        nom = libelles.RESULTATS[ligne["resultat"]]
        rangees = [r for r in comparaison["rangees"] if r[0] == nom]
        assert rangees and all(r[4] == "s" for r in rangees if r[1] == "Toutes les méthodes")
    # The engine's warning messages quote small counts: only their codes are published.
    assert "avec l'événement" not in page.texte


def test_comparaison_avec_le_groupe_temoin(demo):
    entrepot, sortie, _ = demo
    avec = {r["projet_id"] for r in requete(entrepot, "select distinct projet_id from pub_comparaisons")}
    for projet in PROJETS:
        page = lire_page(sortie / "fiches" / f"{projet}.html")
        assert ((3, "Comparaison avec un groupe témoin") in page.titres) == (projet in avec)
    page = lire_page(sortie / "fiches" / "habitat_reuni.html")
    # the first result whose raw difference the secrecy layer publishes
    brute = requete(entrepot, "select * from pub_comparaisons where projet_id = 'habitat_reuni' and "
                              "methode = 'difference_brute' and estimation is not null order by resultat")[0]
    rangee = next(r for r in page.table("Estimations de la comparaison")["rangees"]
                  if r[0] == libelles.RESULTATS[brute["resultat"]] and r[1].startswith("Différence brute"))
    assert rangee[2] == f"{brute['k_traites']} sur {brute['n_traites']}"
    assert rangee[3] == f"{brute['k_temoins']} sur {brute['n_temoins']}"
    difference = brute["k_traites"] / brute["n_traites"] - brute["k_temoins"] / brute["n_temoins"]
    attendu = Decimal(str(difference * 100)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert rangee[4] == f"+{str(attendu).replace('.', ',')}{NBSP}points"
    # What the study could detect: the minimum detectable difference, in plain words.
    mdd = requete(entrepot, "select * from pub_comparaisons where projet_id = 'habitat_reuni' and "
                            "resultat = ? and methode = 'puissance_mdd'", [brute["resultat"]])[0]
    points = int(Decimal(str(mdd["estimation"] * 100)).quantize(Decimal(1), ROUND_HALF_UP))
    assert (f"avec {mdd['n_traites']} ménages accompagnés et {mdd['n_temoins']} témoins, un écart "
            f"d'au moins {points}{NBSP}points") in page.texte
    assert (4, "Ce que l'étude pouvait mettre en évidence") in page.titres
    alts = [i.get("alt", "") for i in page.images]
    assert any(a.startswith("Graphique en forêt") for a in alts)
    assert any(a.startswith("Courbes du solde moyen") for a in alts)


def test_html_accessible_et_en_typographie_francaise(demo):
    _, sortie, _ = demo
    pages = [sortie / "index.html", sortie / "programme.html",
             *(sortie / "fiches" / f"{p}.html" for p in PROJETS)]
    for chemin in pages:
        brut = chemin.read_text(encoding="utf-8")
        page = Page(brut)
        assert page.lang == "fr", chemin
        # One self-contained file: every image embedded, no external resource.
        assert all(i.get("src", "").startswith("data:image/") for i in page.images), chemin
        assert not re.search(r'<(link|script)[^>]+(href|src)="(?!data:)', brut), chemin
        # Alt text on every image.
        assert all(i.get("alt", "").strip() for i in page.images), chemin
        # Headings: one h1, then never a level skipped.
        niveaux = [n for n, _ in page.titres]
        assert niveaux[0] == 1 and niveaux.count(1) == 1, chemin
        assert all(b <= a + 1 for a, b in itertools.pairwise(niveaux)), (chemin, page.titres)
        # No template marker left, no raw value.
        for marque in ("{python}", "```", "{{", "}}", "fig-alt", "<NA>", "_files/"):
            assert marque not in page.texte, (chemin, marque)
        assert not re.search(r"\b(nan|NaN|None|NaT|params)\b", page.texte), chemin
        # French typography: no decimal point; a no-break space before « : ; ! ? » % € »
        # and after « « », a narrow one between thousands.
        assert not re.search(r"\d\.\d", page.texte), chemin
        assert not re.search(r"\d%|\d€| [:;!?»%€]|« ", page.texte), (chemin, re.findall(
            r".{20}(?: [:;!?»%€]|« ).{10}", page.texte))
        for table in page.tables:
            for cellule in (c for r in table["rangees"] for c in r):
                assert not re.search(r"\d \d{3}\b", cellule), (chemin, cellule)
    fiche = lire_page(sortie / "fiches" / "habitat_reuni.html")
    assert all(i.get("alt") for i in fiche.images) and len(fiche.images) >= 4
    assert f"1{FINE}390" in fiche.texte  # rendez-vous honorés, n


def test_page_programme(demo):
    entrepot, sortie, _ = demo
    page = lire_page(sortie / "programme.html")
    table = page.table("Indicateurs de l'ensemble des projets")
    for ligne in requete(entrepot, "select * from pub_indicateurs_programme where nature = 'proportion'"):
        rangee = next(r for r in table["rangees"] if code_indicateur(r[0]) == ligne["indicateur"])
        if "valeur" in ligne["cellules_secretes"]:
            assert rangee[1] == "s"
        else:
            assert rangee[1] == pourcent(ligne["k"] / ligne["n"])
            assert rangee[2] == f"{entier(ligne['k'])} sur {entier(ligne['n'])}"
    rapprochement = page.table("Rapprochement des chiffres publiés")
    total = requete(entrepot, "select count(*) as n from pub_reconciliation")[0]["n"]
    assert rapprochement["rangees"][-1][:2] == ["Ensemble", str(total)]


def test_aucune_petite_case_selon_le_controle_du_secret(demo):
    """The publication layer's own scan of published pages finds nothing in the site."""
    controle = pytest.importorskip("capitalisation.publication.controle_secret")
    _, sortie, _ = demo
    assert controle.controler(None, [sortie]) == []


def test_la_page_du_benchmark_est_rendue(demo):
    _, sortie, sources = demo
    if not (sources / "benchmark.qmd").exists():
        pytest.skip("reports/benchmark.qmd absent : le site n'a pas de page de benchmark")
    echec = sortie.parent / "benchmark-echec.txt"
    assert not echec.exists(), echec.read_text(encoding="utf-8")
    page = lire_page(sortie / "benchmark.html")
    assert page.lang == "fr" and "benchmark.html" in page.liens
    for lien in page.liens:
        if not lien.startswith(("http", "#", "mailto:")):
            assert (sortie / lien).exists(), lien
    assert "benchmark.html" in lire_page(sortie / "index.html").liens


def test_les_fiches_ne_lisent_que_les_tables_publiees(demo):
    entrepot, _, _ = demo
    modules = ("fiches", "rendu", "site", "donnees_fiche", "publie", "libelles", "graphiques_fiche")
    sources = [*(RACINE / "capitalisation" / "publication" / f"{m}.py" for m in modules),
               *(RACINE / "reports" / f"{d}.qmd" for d in ("fiche", "index", "programme"))]
    for chemin in sources:
        assert not re.search(r"fct_[a-z]", chemin.read_text(encoding="utf-8")), chemin
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        with pytest.raises(ValueError):
            publie.lire(con, "fct_indicateurs_projet")
    finally:
        con.close()


# --------------------------------------------------------------------------- PDF and DOCX


def test_pdf_a4_et_docx(demo):
    _, sortie, _ = demo
    pdf = (sortie / "fiches" / "habitat_reuni.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert re.search(rb"/MediaBox\s*\[\s*0\s+0\s+595\.2\d*\s+841\.8\d*\s*\]", pdf)  # A4, in points
    if shutil.which("pdftotext"):
        texte = subprocess.run(["pdftotext", "-layout", str(sortie / "fiches" / "habitat_reuni.pdf"), "-"],
                               capture_output=True, text=True, check=True).stdout
        assert "Présentation du projet" in texte and "Comparaison avec un groupe témoin" in texte
    if shutil.which("pdftoppm"):
        ARTEFACTS.mkdir(exist_ok=True)
        for ancien in ARTEFACTS.glob("fiche-habitat_reuni-*.png"):
            ancien.unlink()
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(sortie / "fiches" / "habitat_reuni.pdf"),
                        str(ARTEFACTS / "fiche-habitat_reuni")], check=True)
        pages = sorted(ARTEFACTS.glob("fiche-habitat_reuni-*.png"))
        assert len(pages) >= 4
        from PIL import Image

        largeur, hauteur = Image.open(pages[0]).size
        assert abs(hauteur / largeur - 297 / 210) < 0.01
    with zipfile.ZipFile(sortie / "fiches" / "habitat_reuni.docx") as docx:
        document = docx.read("word/document.xml").decode("utf-8")
        assert "Présentation du projet" in document and "Principaux résultats" in document
        assert len([n for n in docx.namelist() if n.startswith("word/media/")]) >= 4
        descriptions = re.findall(r'descr="([^"]*)"', document)
        assert descriptions and all(html.unescape(d).strip() for d in descriptions)


# --------------------------------------------------------------------------- rendering


def _copie(demo, tmp_path) -> tuple[Path, Path, Path]:
    """A copy of the shared site and sources that a test may change."""
    entrepot, sortie, sources = demo
    shutil.copytree(sortie, tmp_path / "site")
    shutil.copytree(sources, tmp_path / "sources")
    return entrepot, tmp_path / "site", tmp_path / "sources"


def test_cache_puis_un_narratif_modifie_ne_rend_que_sa_fiche(demo, tmp_path):
    entrepot, sortie, sources = _copie(demo, tmp_path)
    avant = (sortie / "fiches" / "declic.html").stat().st_mtime_ns
    bilan = fiches.rendre_fiches(entrepot, sortie, "html", sources=sources)
    assert bilan.rendues == [] and sorted(bilan.a_jour) == PROJETS
    assert (sortie / "fiches" / "declic.html").stat().st_mtime_ns == avant
    assert (sortie / "fiches" / "habitat_reuni.pdf").exists()  # still valid, kept

    narratif = sources / "narratifs" / "declic.yml"
    narratif.write_text(narratif.read_text(encoding="utf-8").replace(
        "Construire un modèle durable", "Bâtir un modèle durable"), encoding="utf-8")
    bilan = fiches.rendre_fiches(entrepot, sortie, "html", sources=sources)
    assert bilan.rendues == ["declic"]
    assert sorted(bilan.a_jour) == [p for p in PROJETS if p != "declic"]
    assert "Bâtir un modèle durable" in lire_page(sortie / "fiches" / "declic.html").texte
    assert not list(sortie.parent.glob(".site.construction-*"))


def test_une_fiche_en_echec_n_arrete_pas_les_autres(demo, tmp_path, monkeypatch, capsys):
    entrepot, sortie, sources = _copie(demo, tmp_path)
    (sources / "narratifs" / "solide_r.yml").write_text("nature: [non fermé\n", encoding="utf-8")
    narratif = sources / "narratifs" / "trait_social.yml"
    narratif.write_text(narratif.read_text(encoding="utf-8") + "\n# relu\n", encoding="utf-8")
    monkeypatch.setattr(site, "DOSSIER_RAPPORTS", sources)
    code = cli.main(["fiches", "--warehouse", str(entrepot), "--sortie", str(sortie), "--formats", "html"])
    erreur = capsys.readouterr().err
    assert code == 1
    assert "la fiche du projet «" in erreur and "solide_r" in erreur and "YAML" in erreur
    manifeste = json.loads((sortie / site.MANIFESTE).read_text(encoding="utf-8"))
    # trait_social was rendered in the same run; solide_r keeps its previous version.
    assert manifeste["fiches"]["trait_social"]["composantes"]["narratif"] == fiches._sha_fichier(narratif)
    assert (sortie / "fiches" / "solide_r.html").exists()
    index = lire_page(sortie / "index.html")
    assert "le dernier rendu a échoué" in index.texte


def test_execution_sans_quarto_comme_le_moteur_jupyter(tmp_path):
    document = tmp_path / "essai.qmd"
    document.write_text(
        "---\ntitle: Essai\nlang: fr\nexecute:\n  echo: false\n---\n\n"
        "```{python}\n#| tags: [parameters]\nprojet = 'a'\n```\n\n"
        "## Projet `{python} projet`\n\n"
        "```{python}\n#| output: asis\nprint(f'**{projet}**')\n```\n\n"
        "```{python}\n#| label: fig-essai\n#| fig-cap: Une légende\n#| fig-alt: Un texte alternatif\n"
        "from matplotlib.figure import Figure\nf = Figure(figsize=(2, 1))\nf.add_subplot().plot([1, 2])\nf\n```\n\n"
        "```{python}\n#| include: false\nprint('caché')\n```\n\n"
        "```python\nprint('non exécuté')\n```\n", encoding="utf-8")
    fichiers = rendu.rendre_document(document, ["html"], {"projet": "déclic"}, quarto=False)
    markdown = document.with_suffix(".md").read_text(encoding="utf-8")
    assert "## Projet déclic" in markdown and "**déclic**" in markdown and "caché" not in markdown
    assert "essai_files/figure-html/fig-essai.png" in markdown
    assert "print('non exécuté')" in markdown
    page = lire_page(fichiers["html"])
    assert page.images[0]["alt"] == "Un texte alternatif" and page.lang == "fr"
    mauvais = tmp_path / "mauvais.qmd"
    mauvais.write_text("---\ntitle: x\n---\n\n```{python}\n1 / 0\n```\n", encoding="utf-8")
    with pytest.raises(ErreurUtilisateur, match="ligne 5.*ZeroDivisionError"):
        rendu.rendre_document(mauvais, ["html"], quarto=False)


def test_une_execution_interrompue_laisse_le_site_publie_intact(demo, tmp_path, monkeypatch):
    entrepot, sortie, sources = _copie(demo, tmp_path)
    avant = {p: p.stat().st_mtime_ns for p in sortie.rglob("*") if p.is_file()}

    def interrompre(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fiches, "_executer", interrompre)
    with pytest.raises(KeyboardInterrupt):
        fiches.rendre_fiches(entrepot, sortie, "html", sources=sources, forcer=True)
    assert {p: p.stat().st_mtime_ns for p in sortie.rglob("*") if p.is_file()} == avant
    assert not list(tmp_path.glob(".site.*"))


def test_avec_quarto_chaque_format_est_rendu_par_quarto(tmp_path, monkeypatch):
    """A stand-in `quarto` on the PATH records its arguments and writes the outputs."""
    journal = tmp_path / "appels.txt"
    faux = tmp_path / "bin" / "quarto"
    faux.parent.mkdir()
    faux.write_text(
        "#!/bin/sh\n"
        f"echo \"$PWD $*\" >> {journal}\n"
        "nom=$(basename \"$2\" .qmd)\n"
        "case \"$4\" in typst) ext=pdf ;; *) ext=$4 ;; esac\n"
        "echo rendu > \"$nom.$ext\"\n", encoding="utf-8")
    faux.chmod(0o755)
    monkeypatch.setenv("PATH", f"{faux.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CAPITALISATION_MOTEUR", "quarto")
    assert rendu.quarto_disponible()
    document = tmp_path / "declic.qmd"
    document.write_text("---\ntitle: x\n---\n", encoding="utf-8")
    fichiers = rendu.rendre_document(document, ["html", "pdf", "docx"], {"projet_id": "declic"},
                                     avant_corps=tmp_path / "nav.html")
    assert {f: p.name for f, p in fichiers.items()} == {
        "html": "declic.html", "pdf": "declic.pdf", "docx": "declic.docx"}
    appels = journal.read_text(encoding="utf-8").splitlines()
    assert [a.split()[4] for a in appels] == ["html", "typst", "docx"]
    assert all("-P projet_id:declic" in a for a in appels)
    assert "include-before-body" in appels[0] and "include-before-body" not in appels[1]
    monkeypatch.setenv("CAPITALISATION_MOTEUR", "interne")
    assert not rendu.quarto_disponible()
