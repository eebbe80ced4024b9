"""Safe on real deliveries, with a warehouse built from the demo somewhere else than the
checkout: outputs beside it, an unchanged rerun that renders nothing, the extraction in use
named after a refusal, no worker or temporary copy left by kill -9, a truthful Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.test_surete import capitalisation, lecture_seule, sans_trace  # noqa: F401 - fixture

RACINE = Path(__file__).resolve().parent.parent


def attendre(condition, delai: float = 120.0, pas: float = 0.1) -> bool:
    """Poll `condition` until it holds or `delai` seconds have passed."""
    fin = time.monotonic() + delai
    while time.monotonic() < fin:
        if condition():
            return True
        time.sleep(pas)
    return bool(condition())


@pytest.fixture(scope="module")
def chantier(tmp_path_factory):
    """Demo deliveries plus a badly named folder (refused), the settings pointing the
    checkout's folders into `checkout/`, and a warehouse built in `ailleurs/` with its site."""
    racine = tmp_path_factory.mktemp("surete_entrepot")
    exports = racine / "exports"
    assert capitalisation("demo", "--exports", str(exports)).returncode == 0
    (exports / "Projet Inconnu").mkdir()
    checkout = racine / "checkout"
    parametres = racine / "parametres.toml"
    parametres.write_text(
        "[chemins]\n" + "".join(
            f'{cle} = "{checkout / valeur}"\n' for cle, valeur in (
                ("exports", "exports"), ("entrepot", "warehouse/capitalisation.duckdb"),
                ("rapports_validation", "warehouse/validation"), ("quarantaine", "quarantaine"),
                ("site", "reports/_site"), ("exports_benchmark", "warehouse/benchmark"))),
        encoding="utf-8")
    entrepot = racine / "ailleurs" / "capitalisation.duckdb"
    execution = capitalisation("run", "--exports", str(exports), "--warehouse", str(entrepot),
                               parametres=parametres, env={"COLUMNS": "160"})
    return {"racine": racine, "exports": exports, "checkout": checkout, "parametres": parametres,
            "entrepot": entrepot, "execution": execution}


# --------------------------------------------------------------------------- 1. beside the warehouse


def test_run_ailleurs_range_rapports_site_et_benchmark_a_cote_de_l_entrepot(chantier):
    execution, ailleurs = chantier["execution"], chantier["entrepot"].parent
    sans_trace(execution)
    assert execution.returncode == 1, execution.stderr[-3000:]  # one folder refused
    assert (ailleurs / "site" / "index.html").is_file()
    assert len(list((ailleurs / "site" / "fiches").glob("*.pdf"))) == 5
    assert any((ailleurs / "validation").rglob("*.json")) or any((ailleurs / "validation").rglob("*.md"))
    assert not chantier["checkout"].exists()
    assert f"Site des fiches : {ailleurs / 'site' / 'index.html'}" in execution.stderr.replace("\u00a0", " ")


def test_fiches_et_benchmark_ailleurs_ecrivent_a_cote_de_l_entrepot(chantier):
    entrepot = chantier["entrepot"]
    fiches = capitalisation("fiches", "--warehouse", str(entrepot), parametres=chantier["parametres"])
    sans_trace(fiches)
    assert fiches.returncode == 0, fiches.stderr[-3000:]
    # 11. the same warehouse: nothing to render again
    assert "Fiches rendues : 0 ; déjà à jour : 5 ;" in fiches.stderr.replace("\u00a0", " ")
    benchmark = capitalisation("benchmark", "--warehouse", str(entrepot), parametres=chantier["parametres"])
    assert benchmark.returncode == 0, benchmark.stderr[-3000:]
    assert any((entrepot.parent / "benchmark").iterdir())
    assert not chantier["checkout"].exists()


# --------------------------------------------------------------------------- 11. unchanged rerun


def test_une_execution_inchangee_ne_rend_aucune_fiche(chantier):
    execution = capitalisation("run", "--exports", str(chantier["exports"]), "--warehouse",
                               str(chantier["entrepot"]), parametres=chantier["parametres"])
    sans_trace(execution)
    assert "déjà lue" in execution.stdout + execution.stderr
    # the warehouse is built again from the same landed files: every fiche is up to date
    assert "Fiches rendues : 0 ; déjà à jour : 5 ;" in execution.stderr.replace("\u00a0", " "), \
        execution.stderr[-3000:]


# --------------------------------------------------------------------------- 14. the summary


def test_synthese_lisible_sur_80_colonnes(chantier):
    import duckdb
    from rich.console import Console

    from capitalisation import resume

    con = duckdb.connect(str(chantier["entrepot"]), read_only=True)
    try:
        lignes = resume.lignes_resume(con)
        effectifs = {r["projet_id"]: r for r in
                     con.execute("select * from pub_effectifs_projet").fetchdf().to_dict("records")}
    finally:
        con.close()
    console = Console(width=80, record=True, force_terminal=False)
    for element in resume.tableaux_resume(lignes, effectifs, 80):
        console.print(element)
    texte = console.export_text()
    assert max(len(ligne) for ligne in texte.splitlines()) <= 80
    lignes_texte = texte.splitlines()
    for ligne in lignes:
        k_n = resume._cellules(ligne)[0]
        # each figure whole on one line, beside its indicator's first word
        premier_mot = dict(resume.INDICATEURS_RESUME)[ligne["indicateur"]].split()[0]
        assert any(k_n in t and premier_mot in t for t in lignes_texte), (ligne["projet_id"], k_n)


# --------------------------------------------------------------------------- 6. read-only outputs


def test_sorties_en_lecture_seule_message_francais(chantier, lecture_seule):  # noqa: F811
    entrepot = str(chantier["entrepot"])
    for essai in (("fiches", "--warehouse", entrepot, "--sortie", str(lecture_seule / "site")),
                  ("benchmark", "--warehouse", entrepot, "--sortie", str(lecture_seule / "b"))):
        resultat = capitalisation(*essai, parametres=chantier["parametres"])
        sans_trace(resultat)
        assert resultat.returncode != 0, essai
        assert "lecture seule" in resultat.stderr or "permission refusée" in resultat.stderr, essai
    assert (chantier["entrepot"].parent / "site" / "index.html").is_file()


# --------------------------------------------------------------------------- 12. kill -9, Ctrl-C


def _reports_bloquants(dossier: Path, marque: Path) -> Path:
    """A copy of reports/ whose fiche blocks in its first cell, once it has written `marque`."""
    shutil.copytree(RACINE / "reports", dossier, ignore=shutil.ignore_patterns("_site", ".quarto"))
    fiche = dossier / "fiche.qmd"
    texte = fiche.read_text(encoding="utf-8")
    fin_entete = texte.index("\n---\n", 4) + 5
    bloc = ("```{python}\n#| include: false\nimport threading\n"
            f"open({str(marque)!r}, 'a').write('x')\nthreading.Event().wait()\n```\n\n")
    fiche.write_text(texte[:fin_entete] + bloc + texte[fin_entete:], encoding="utf-8")
    return dossier


def test_kill_9_pendant_les_fiches_ne_laisse_aucun_processus_de_rendu(chantier, tmp_path):
    marque = tmp_path / "rendu_commence"
    sources = _reports_bloquants(tmp_path / "reports", marque)
    code = ("from capitalisation.publication.fiches import rendre_fiches; "
            f"rendre_fiches({str(chantier['entrepot'])!r}, {str(tmp_path / 'site')!r}, ['html'], "
            f"forcer=True, sources={str(sources)!r})")
    processus = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert attendre(marque.exists), "le rendu n'a pas commencé"
        descendants = psutil.Process(processus.pid).children(recursive=True)
        assert descendants
        os.kill(processus.pid, signal.SIGKILL)
        processus.wait()

        def tous_arretes() -> bool:
            return not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in descendants)

        assert attendre(tous_arretes, delai=60), [p.cmdline() for p in descendants if p.is_running()]
    finally:
        for p in psutil.Process(processus.pid).children(recursive=True) if processus.poll() is None else []:
            p.kill()
        try:
            os.killpg(processus.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_kill_9_pendant_la_lecture_ne_laisse_aucune_copie_des_livraisons(chantier, tmp_path):
    systeme = tmp_path / "tmp"
    systeme.mkdir()
    entrepot = tmp_path / "w" / "capitalisation.duckdb"
    env = {**os.environ, "TMPDIR": str(systeme), "CAPITALISATION_PARAMETRES": str(chantier["parametres"])}
    processus = subprocess.Popen(
        [sys.executable, "-m", "capitalisation.cli", "run", "--exports", str(chantier["exports"]),
         "--warehouse", str(entrepot), "--sans-fiches"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    prive = entrepot.parent / f".{entrepot.name}.travail-{processus.pid}"

    def copie_en_cours() -> bool:
        return any(systeme.glob("validation-*")) or any(prive.glob("validation-*/*"))

    try:
        assert attendre(copie_en_cours), "la lecture n'a pas commencé"
        os.killpg(processus.pid, signal.SIGKILL)
        processus.wait()
    finally:
        if processus.poll() is None:
            os.killpg(processus.pid, signal.SIGKILL)
    assert not any(systeme.iterdir()), sorted(p.name for p in systeme.iterdir())
    # the next run, under the lock, removes what the killed one left in its private folder
    suivante = capitalisation("run", "--exports", str(chantier["exports"]), "--warehouse", str(entrepot),
                              "--sans-fiches", parametres=chantier["parametres"])
    assert suivante.returncode == 1, suivante.stderr[-3000:]
    assert not prive.exists()
    assert not list(entrepot.parent.glob(f".{entrepot.name}.travail-*"))


def test_ctrl_c_apres_le_remplacement_de_l_entrepot_le_dit(chantier, tmp_path, monkeypatch, capsys):
    from capitalisation import cli, erreurs

    entrepot = tmp_path / "w" / "capitalisation.duckdb"
    monkeypatch.setattr(erreurs, "_CHANGEMENTS", {})

    def interrompre(*_args, **_kwargs):
        raise KeyboardInterrupt

    from capitalisation.publication import controle_secret

    # the gate passed, the warehouse swapped in: interrupted while the published cells are kept
    monkeypatch.setattr(controle_secret, "enregistrer_publication", interrompre)
    code = cli.main(["run", "--exports", str(chantier["exports"]), "--warehouse", str(entrepot), "--sans-fiches"])
    erreur = capsys.readouterr().err
    assert code == 130
    assert f"l'entrepôt {entrepot} a été reconstruit et remplacé par cette exécution" in erreur
    assert "les fiches publiées sont inchangées" in erreur
    assert "l'entrepôt et les fiches publiées sont inchangés" not in erreur
    assert entrepot.exists()


# --------------------------------------------------------------------------- 14. the fiche's text


def test_cout_par_expulsion_evitee_sur_les_mois_du_projet(chantier):
    import datetime as dt
    from decimal import ROUND_HALF_UP, Decimal

    import duckdb

    con = duckdb.connect(str(chantier["entrepot"]), read_only=True)
    try:
        lignes = con.execute(
            "select couts.projet_id, couts.mois_projet, couts.cout_par_expulsion_evitee, "
            "couts.expulsions_evitees, projets.budget_annuel, projets.date_debut, projets.date_fin "
            "from pub_couts_projet as couts join projets using (projet_id)").fetchall()
    finally:
        con.close()
    mois = {projet: m for projet, m, *_ in lignes}
    assert mois["declic"] == 37  # June 2017 to June 2020: not four calendar years
    assert mois["zero_expulsion"] == 36 and mois["solide_r"] == 12
    verifies = 0
    for projet, m, cout, evitees, budget, debut, fin in lignes:
        assert m == (fin.year - debut.year) * 12 + fin.month - debut.month + 1, projet
        assert isinstance(debut, dt.date)
        if cout is not None:
            attendu = (Decimal(budget) * m / (12 * evitees)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert abs(cout - attendu) <= Decimal("0.01"), projet
            verifies += 1
    assert verifies >= 1


def test_fiche_cite_ses_sources_par_leur_titre_et_la_periode_dans_la_phrase(chantier):
    from capitalisation.publication.donnees_fiche import Fiche

    fiche = Fiche.charger(chantier["entrepot"], "zero_expulsion", RACINE / "reports" / "narratifs")
    sources = fiche.sources()
    assert ".txt" not in sources
    assert "Fiche projet «\u00a0Zéro expulsion locative\u00a0»" in sources or \
        "Fiche projet « Zéro expulsion locative »" in sources
    assert "juin 2020" in sources
    texte = fiche.reconciliation_texte()
    assert ". (2017" not in texte and ".(2017" not in texte
    assert "sur la période (2017–2019)." in texte


# --------------------------------------------------------------------------- 5. extraction in use


def test_livraison_modifiee_puis_refusee_l_extraction_en_usage_est_nommee(chantier):
    import datetime as dt

    from capitalisation import formats
    from capitalisation.publication.donnees_fiche import Fiche

    exports, entrepot = chantier["exports"], chantier["entrepot"]
    livraison = next((exports / "declic").iterdir())
    (livraison / "menages.csv").write_bytes(b"")  # changed on disk since it was read: refused
    execution = capitalisation("run", "--exports", str(exports), "--warehouse", str(entrepot),
                               "--sans-fiches", parametres=chantier["parametres"], env={"COLUMNS": "200"})
    sans_trace(execution)
    sortie = " ".join((execution.stdout + execution.stderr).split())
    date = formats.date_longue(dt.date.fromisoformat(livraison.name))
    assert f"declic : extraction du {date} en usage (copie lue le " in sortie, sortie[-3000:]
    assert f"la livraison du {date} a été refusée" in sortie
    fiche = Fiche.charger(entrepot, "declic", RACINE / "reports" / "narratifs")
    sources = fiche.sources().replace("\u00a0", " ")
    assert f"extraction du {date} en usage" in sources
    assert f"la livraison du {date} a été refusée" in sources
    autre = Fiche.charger(entrepot, "solide_r", RACINE / "reports" / "narratifs")
    assert "refusée" not in autre.sources()


# --------------------------------------------------------------------------- 14. dbt's progress


def test_dbt_annonce_son_total(chantier, tmp_path):
    from capitalisation import entrepot as dbt_entrepot

    totaux, noeuds = [], []
    resultat = dbt_entrepot.construire(
        tmp_path / "e.duckdb", chantier["entrepot"].parent / "landing", tmp_path / "travail",
        commande="run", selection="path:models/staging", progression=noeuds.append, total=totaux.append)
    assert resultat.succes, resultat.echecs
    assert totaux and totaux[-1] == resultat.noeuds == len(noeuds)
