"""Safe on real deliveries, as a user runs the command line: settings checked, the demo never
over a real delivery, a clear French message for every expected failure, help in French."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from capitalisation import config

RACINE = Path(__file__).resolve().parent.parent
SOUS_COMMANDES = ("demo", "run", "valider", "comparer", "fiches", "benchmark", "bench")


def capitalisation(*args: str, parametres: Path | None = None, cwd: Path | None = None,
                   env: dict | None = None) -> subprocess.CompletedProcess:
    environnement = {**os.environ, "COLUMNS": "80", **(env or {})}
    environnement.pop("CAPITALISATION_PARAMETRES", None)
    if parametres is not None:
        environnement["CAPITALISATION_PARAMETRES"] = str(parametres)
    return subprocess.run([sys.executable, "-m", "capitalisation.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=environnement, timeout=600)


def sans_trace(resultat: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in resultat.stdout + resultat.stderr, resultat.stderr[-3000:]


def parametres(tmp_path: Path, texte: str) -> Path:
    chemin = tmp_path / "parametres.toml"
    chemin.write_text(texte, encoding="utf-8")
    return chemin


@pytest.fixture(scope="module")
def livraisons(tmp_path_factory) -> Path:
    """The demo deliveries, written once for the tests of this module."""
    exports = tmp_path_factory.mktemp("surete") / "exports"
    resultat = capitalisation("demo", "--exports", str(exports))
    assert resultat.returncode == 0, resultat.stderr
    return exports


@pytest.fixture
def lecture_seule(tmp_path):
    """A folder on a read-only file system (a read-only tmpfs when root, else a 0555 folder)."""
    dossier = tmp_path / "lecture_seule"
    dossier.mkdir()
    if os.geteuid() != 0:
        dossier.chmod(0o555)
        yield dossier
        dossier.chmod(0o755)
        return
    monte = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(dossier)],
                           capture_output=True, check=False)
    if monte.returncode != 0:
        pytest.skip("pas de système de fichiers en lecture seule disponible ici")
    try:
        yield dossier
    finally:
        subprocess.run(["umount", str(dossier)], check=False)


# --------------------------------------------------------------------------- 3. settings


@pytest.mark.parametrize(("texte", "attendus"), [
    ("[evaluation]\nhorizon_mois = -12\n", ["[evaluation] horizon_mois = -12", "de 1 à 120"]),
    ("[evaluation]\nhorizon_mois = 12.5\n", ["horizon_mois = 12.5", "nombre entier"]),
    ('[benchmark]\nsurdispersion = "non"\n', ['surdispersion = "non"', "booléen"]),
    ('[demo]\ngraine = "abc"\n', ['graine = "abc"', "nombre entier"]),
    ("[evaluation]\nhorizon = 12\n", ["clé inconnue [evaluation] horizon", "horizon_mois"]),
    ("[evalution]\nhorizon_mois = 12\n", ["section inconnue [evalution]"]),
    ("[secret]\nseuil_effectif = 3\n", ["seuil_effectif = 3", "au moins 5", "plancher"]),
    ("[secret]\nseuil_denominateur = 5\n", ["seuil_denominateur = 5", "au moins 10", "plancher"]),
])
def test_parametre_invalide_refuse_avec_cle_valeur_et_bornes(tmp_path, texte, attendus):
    resultat = capitalisation("run", "--exports", str(tmp_path / "absent"),
                              "--warehouse", str(tmp_path / "e.duckdb"),
                              parametres=parametres(tmp_path, texte))
    sans_trace(resultat)
    assert resultat.returncode == 2
    assert "paramètres invalides" in resultat.stderr
    for attendu in attendus:
        assert attendu in resultat.stderr
    assert not (tmp_path / "e.duckdb").exists()


def test_douze_et_demi_n_est_pas_tronque_en_douze(tmp_path):
    code = ("from capitalisation import config; print(config.HORIZON_MOIS, len(config.erreurs()))")
    env = {**os.environ, "CAPITALISATION_PARAMETRES": str(parametres(tmp_path, "[evaluation]\nhorizon_mois = 12.5\n"))}
    sortie = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    # the default, not int(12.5), and one error reported
    assert sortie.stdout.split() == ["12", "1"]


def test_parametres_illisibles_message_francais_et_aide_disponible(tmp_path):
    casse = parametres(tmp_path, "[evaluation\nhorizon_mois = = 12\n")
    resultat = capitalisation("valider", str(tmp_path), parametres=casse)
    sans_trace(resultat)
    assert resultat.returncode == 2
    assert "syntaxe TOML invalide, ligne 1" in resultat.stderr
    aide = capitalisation("--help", parametres=casse)
    sans_trace(aide)
    assert aide.returncode == 0 and "utilisation :" in aide.stdout
    aide = capitalisation("run", "--help", parametres=casse)
    assert aide.returncode == 0 and "--warehouse" in aide.stdout


def test_parametres_du_projet_valides():
    assert config.erreurs() == []
    contenu = tomllib.loads((RACINE / "parametres.toml").read_text(encoding="utf-8"))
    assert contenu["secret"]["seuil_effectif"] >= 5 and contenu["secret"]["seuil_denominateur"] >= 10


# --------------------------------------------------------------------------- 2. the demo


def test_demo_refuse_un_dossier_qui_contient_une_livraison_reelle(tmp_path):
    reelle = tmp_path / "exports" / "zero_expulsion" / "2021-01-31"
    reelle.mkdir(parents=True)
    (reelle / "menages.csv").write_text("menage_id\nvrai\n", encoding="utf-8")
    resultat = capitalisation("demo", "--exports", str(tmp_path / "exports"))
    sans_trace(resultat)
    assert resultat.returncode != 0
    assert "rien n'a été écrit" in resultat.stderr
    assert (reelle / "menages.csv").read_text(encoding="utf-8") == "menage_id\nvrai\n"
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["zero_expulsion"]


def test_demo_refuse_une_livraison_glissee_dans_un_dossier_de_demo(livraisons, tmp_path):
    dossier = tmp_path / "demo"
    shutil.copytree(livraisons, dossier)
    ajoutee = dossier / "declic" / "2021-03-31"
    ajoutee.mkdir()
    (ajoutee / "menages.csv").write_text("réel", encoding="utf-8")
    resultat = capitalisation("demo", "--exports", str(dossier))
    sans_trace(resultat)
    assert resultat.returncode != 0
    assert "declic/2021-03-31" in resultat.stderr
    assert (ajoutee / "menages.csv").read_text(encoding="utf-8") == "réel"
    # a demo folder without anything foreign is written again
    shutil.rmtree(ajoutee)
    assert capitalisation("demo", "--exports", str(dossier)).returncode == 0


def test_demo_jamais_dans_le_dossier_des_livraisons_reelles(tmp_path):
    reel = tmp_path / "reel"
    fichier = parametres(tmp_path, f'[chemins]\nexports = "{reel}"\n')
    for cible in (reel, tmp_path):  # the real exports folder, and a folder holding it
        resultat = capitalisation("demo", "--exports", str(cible), parametres=fichier)
        sans_trace(resultat)
        assert resultat.returncode != 0
        assert "livraisons réelles" in resultat.stderr
    assert not reel.exists()


def test_make_demo_hors_des_livraisons_reelles_et_make_clean_garde_les_livraisons(tmp_path):
    commandes = subprocess.run(["make", "-n", "-W", "pyproject.toml", "demo"], cwd=RACINE,
                               capture_output=True, text=True, check=True).stdout
    demo = next(ligne for ligne in commandes.splitlines() if " demo --exports " in ligne)
    dossier = (RACINE / demo.split("--exports", 1)[1].split()[0]).resolve()
    assert not dossier.is_relative_to(config.EXPORTS.resolve())
    run = next(ligne for ligne in commandes.splitlines() if " run " in ligne)
    assert f"--exports {demo.split('--exports', 1)[1].split()[0]}" in run
    entrepot = (RACINE / run.split("--warehouse", 1)[1].split()[0]).resolve()
    assert entrepot != config.ENTREPOT.resolve()
    # make clean in a copy of the tree: the deliveries stay, the build products go
    shutil.copy(RACINE / "Makefile", tmp_path / "Makefile")
    for chemin in ("exports/declic/2020-06-30/menages.csv", "quarantaine/declic/x.csv",
                   "demo/exports/declic/2020-06-30/menages.csv", "warehouse/capitalisation.duckdb",
                   "reports/_site/index.html"):
        (tmp_path / chemin).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / chemin).write_text("x", encoding="utf-8")
    subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, check=True)
    assert (tmp_path / "exports/declic/2020-06-30/menages.csv").exists()
    assert (tmp_path / "quarantaine/declic/x.csv").exists()
    assert (tmp_path / "demo/exports/declic/2020-06-30/menages.csv").exists()
    assert not (tmp_path / "warehouse").exists() and not (tmp_path / "reports/_site").exists()


# --------------------------------------------------------------------------- 6. failures


def test_dossiers_en_lecture_seule_message_francais(livraisons, lecture_seule):
    essais = [
        ("valider", str(livraisons / "solide_r"), "--rapports", str(lecture_seule / "rapports")),
        ("demo", "--exports", str(lecture_seule / "demo")),
        ("run", "--exports", str(livraisons), "--warehouse", str(lecture_seule / "x.duckdb")),
    ]
    for essai in essais:
        resultat = capitalisation(*essai)
        sans_trace(resultat)
        assert resultat.returncode != 0, essai
        assert "lecture seule" in resultat.stderr or "permission refusée" in resultat.stderr, essai
        assert str(lecture_seule) in resultat.stderr, essai


def test_fiches_sur_un_entrepot_endommage(tmp_path):
    entrepot = tmp_path / "x.duckdb"
    entrepot.write_bytes(b"DUCK" + os.urandom(20000))
    for commande in ("fiches", "benchmark"):
        resultat = capitalisation(commande, "--warehouse", str(entrepot), "--sortie", str(tmp_path / "s"))
        sans_trace(resultat)
        assert resultat.returncode != 0
        assert "illisible" in resultat.stderr and str(entrepot) in resultat.stderr
    assert not (tmp_path / "s").exists()


# --------------------------------------------------------------------------- 8. a folder as a table


def test_une_table_qui_est_un_dossier_est_refusee(livraisons, tmp_path):
    projet = next(p for p in sorted(livraisons.iterdir())
                  if p.is_dir() and any(p.glob("*/consommations.csv")))
    livraison = tmp_path / projet.name / sorted(d.name for d in projet.iterdir())[-1]
    shutil.copytree(projet / livraison.name, livraison)
    (livraison / "consommations.csv").unlink()
    (livraison / "consommations.csv").mkdir()
    resultat = capitalisation("valider", str(livraison), "--rapports", str(tmp_path / "rapports"))
    sans_trace(resultat)
    assert resultat.returncode == 1
    sortie = resultat.stdout + resultat.stderr
    assert "consommations.csv" in sortie and "pas un fichier" in sortie
    assert "0 livraison(s) acceptée(s), 1 refusée(s)" in sortie


# --------------------------------------------------------------------------- 12. temporary copies


def test_valider_ne_laisse_aucune_copie_dans_le_dossier_temporaire_du_systeme(livraisons, tmp_path):
    systeme = tmp_path / "tmp"
    systeme.mkdir()
    rapports = tmp_path / "rapports"
    (rapports / ".travail-999999999").mkdir(parents=True)  # left by a killed command
    resultat = capitalisation("valider", str(livraisons / "solide_r"), "--rapports", str(rapports),
                              env={"TMPDIR": str(systeme)})
    assert resultat.returncode == 0, resultat.stderr
    assert list(systeme.iterdir()) == []
    assert not list(rapports.glob(".travail-*"))


# --------------------------------------------------------------------------- 14. polish


def test_aide_en_francais_avec_defauts_et_exemples():
    aide = capitalisation("--help")
    assert aide.returncode == 0
    assert "utilisation :" in aide.stdout and "afficher ce message d'aide et quitter" in aide.stdout
    assert "usage:" not in aide.stdout and "show this help" not in aide.stdout
    assert "show program" not in aide.stdout
    assert "exemples :" in aide.stdout
    for commande in SOUS_COMMANDES:
        aide = capitalisation(commande, "--help")
        assert aide.returncode == 0, commande
        assert aide.stdout.startswith("utilisation : capitalisation " + commande), commande
        assert "exemples :" in aide.stdout and "capitalisation " + commande in aide.stdout.split("exemples :")[1]
        assert "défaut" in aide.stdout, commande
        assert max(len(ligne) for ligne in aide.stdout.splitlines()) <= 80, commande


def test_erreurs_d_arguments_en_francais():
    resultat = capitalisation("run", "--inconnu")
    assert resultat.returncode == 2
    assert "arguments non reconnus : --inconnu" in resultat.stderr
    assert "utilisation :" in resultat.stderr
    resultat = capitalisation("comparer", "f.csv")
    assert "arguments obligatoires manquants" in resultat.stderr


def test_ruff_est_epingle():
    projet = tomllib.loads((RACINE / "pyproject.toml").read_text(encoding="utf-8"))
    ruff = [d for d in projet["project"]["optional-dependencies"]["dev"] if d.startswith("ruff")]
    assert len(ruff) == 1 and "==" in ruff[0]


def test_progression_sans_total_n_affiche_pas_de_point_d_interrogation():
    from rich.console import Console

    from capitalisation import terminal

    console = Console(width=80, record=True, force_terminal=False)
    barre = terminal.progression()
    tache = barre.add_task("Construction", total=None)
    colonne = next(c for c in barre.columns if isinstance(c, terminal._Compte))
    console.print(colonne.render(barre.tasks[tache]))
    assert "?" not in console.export_text()
    barre.update(tache, total=120, completed=3)
    console.print(colonne.render(barre.tasks[tache]))
    assert "3/120" in console.export_text()


def _pages_d_un_tableau(dossier: Path, texte_avant: int, lignes: int) -> tuple[int, int]:
    """(page of the header row, page of the last row) of a table after `texte_avant` words,
    in a PDF made the way the fiches are (pandoc to Typst, the fiche's breakable figures)."""
    import json

    import typst

    from capitalisation.publication import rendu

    rangees = "\n".join(f"    [ligne {i}], [{i}]," for i in range(lignes - 1))
    (dossier / "essai.md").write_text(f"""---
title: essai
---

```{{=typst}}
#lorem({texte_avant})

#figure(
  table(columns: 2,
    table.header([#context [#metadata(here().page()) <page-entete>] Ménages], [Nombre]),
{rangees}
    [#context [#metadata(here().page()) <page-fin>] fin], [0],
  ),
  caption: [Tableau d'essai], kind: table)
```
""", encoding="utf-8")
    entete = {"format": {"typst": {"header-includes":
                                   "```{=typst}\n#show figure: set block(breakable: true)\n```\n"}}}
    rendu.convertir(dossier / "essai.md", "pdf", dossier / "essai.pdf", entete)
    typ = str(dossier / "essai.typ")
    return (json.loads(typst.query(typ, "<page-entete>", field="value"))[0],
            json.loads(typst.query(typ, "<page-fin>", field="value"))[0])


def test_pdf_l_entete_d_un_tableau_reste_avec_ses_lignes(tmp_path):
    for mots in (360, 420, 480):  # the table starts near the foot of the first page
        entete, fin = _pages_d_un_tableau(tmp_path, mots, 12)
        assert entete == fin == 2, mots
    # a table longer than a page still breaks (its header repeated), never overflows
    entete, fin = _pages_d_un_tableau(tmp_path, 50, 90)
    assert entete == 1 and fin > 1


# --------------------------------------------------------------------------- 11. fingerprints


def test_empreinte_stable_au_dernier_chiffre_pres():
    import duckdb

    from capitalisation.publication import fiches

    empreintes = []
    for valeur in (0.1 + 0.2, 0.3):  # 0.30000000000000004 and 0.3: a sum in another order
        con = duckdb.connect()
        con.execute("create table pub_essai (projet_id varchar, valeur double, cellules_secretes varchar)")
        con.execute("insert into pub_essai values ('p', ?, ''), ('q', 2.5, '')", [valeur])
        empreintes.append(fiches.empreinte_donnees(con, "p"))
        con.close()
    assert empreintes[0] == empreintes[1]
    con = duckdb.connect()
    con.execute("create table pub_essai as select 'p' as projet_id, 0.31::double as valeur")
    assert fiches.empreinte_donnees(con, "p") != empreintes[0]  # a real change is seen
