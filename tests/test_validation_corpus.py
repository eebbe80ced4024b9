"""Deliveries as they really arrive, through `capitalisation run` and `valider` (subprocesses).

A good warehouse is built once for the module (project `declic`). Then, in this order:

1. runs over a newer delivery of another project are SIGKILLed at given steps (polling for
   the file the step creates, never a fixed sleep): the warehouse still opens and answers
   with the same data; a run started while the lock is held is refused with a French message;
2. every bad delivery of the corpus (tests/corpus/cas.py) is added to the exports folder as
   a newer extraction of `declic`, and one `capitalisation run` goes over all of them: each
   must be refused with its report naming the expected rule, file, column and rows; none
   may end in a traceback; nothing planted may reach the warehouse, a report, the journal
   or the terminal; `declic` still answers with its last good data, and the project landed
   by the interrupted runs is built (other projects are not affected by a refusal).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from capitalisation import pipeline
from capitalisation.validation import journal, valider_commande

from .corpus import cas as corpus

CLI = Path(sys.executable).with_name("capitalisation")
CAS_RUN = [c for c in corpus.CAS if c.dans_run]
MARTS_COMPARES = ("fct_indicateurs_menage", "fct_panel_mensuel", "fct_indicateurs_projet", "fct_effectifs_projet")


def environnement(racine: Path) -> dict[str, str]:
    """Settings of a run confined to `racine`: reports and quarantine outside the warehouse folder
    (they are the configured warehouse's: another warehouse keeps its outputs beside it)."""
    parametres = racine / "parametres.toml"
    parametres.write_text(
        "[chemins]\n"
        f'entrepot = "{racine / "entrepot" / "capitalisation.duckdb"}"\n'
        f'rapports_validation = "{racine / "rapports"}"\n'
        f'quarantaine = "{racine / "quarantaine"}"\n',
        encoding="utf-8",
    )
    return {
        **os.environ,
        "CAPITALISATION_PARAMETRES": str(parametres),
        "COLUMNS": "200",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def date_du_cas(indice: int) -> str:
    return (corpus.EXTRACTION + dt.timedelta(days=indice + 1)).isoformat()


def empreinte_marts(entrepot: Path, projet: str = corpus.PROJET) -> dict[str, list]:
    """What the warehouse answers about one project."""
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        return {
            mart: sorted(map(repr, con.execute(f"select * from {mart} where projet_id = ?", [projet]).fetchall()))
            for mart in MARTS_COMPARES
        }
    finally:
        con.close()


def projets_construits(entrepot: Path) -> set[str]:
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        return {p for (p,) in con.execute("select distinct projet_id from fct_indicateurs_menage").fetchall()}
    finally:
        con.close()


def textes_entrepot(entrepot: Path) -> str:
    """Every cell of every table and view of the warehouse, as text."""
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        objets = con.execute("select table_name from information_schema.tables").fetchall()
        morceaux = []
        for (nom,) in objets:
            morceaux.append(repr(con.execute(f'select * from "{nom}"').fetchall()))
        return "\n".join(morceaux)
    finally:
        con.close()


def textes_parquet(dossier: Path) -> str:
    con = duckdb.connect()
    try:
        return "\n".join(
            repr(con.execute("select * from read_parquet(?)", [str(p)]).fetchall())
            for p in dossier.rglob("*.parquet")
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    """The good warehouse of `declic`, built once."""
    racine = tmp_path_factory.mktemp("corpus")
    exports = racine / "exports"
    entrepot = racine / "entrepot" / "capitalisation.duckdb"
    corpus.ecrire_livraison(exports / corpus.PROJET / corpus.EXTRACTION.isoformat(), corpus.base())
    code = pipeline.executer(
        exports, entrepot, fiches=False, rapports=racine / "rapports", quarantaine=racine / "quarantaine"
    )
    assert code == 0
    return {"racine": racine, "exports": exports, "entrepot": entrepot, "avant": empreinte_marts(entrepot)}


# --------------------------------------------------------------------------- interrupted runs


AUTRE_PROJET = "solide_r"


def exports_interrompus(installation) -> Path:
    """The good `declic` delivery and a delivery of another project, never built yet."""
    exports = installation["racine"] / "exports_interrompus"
    if not exports.exists():
        corpus.ecrire_livraison(exports / corpus.PROJET / corpus.EXTRACTION.isoformat(), corpus.base())
        donnees = corpus.base()
        for lignes in donnees.values():
            for ligne in lignes:
                ligne["projet_id"] = AUTRE_PROJET
                if "bailleur_id" in ligne:
                    ligne["bailleur_id"] = "domofrance"
        corpus.ecrire_livraison(exports / AUTRE_PROJET / corpus.EXTRACTION.isoformat(), donnees)
    return exports


def lancer_run(installation, exports: Path, **options) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CLI), "run", "--exports", str(exports), "--warehouse", str(installation["entrepot"]),
         "--sans-fiches"],
        cwd=installation["racine"], env=environnement(installation["racine"]), text=True, **options,
    )


def attendre(condition, processus: subprocess.Popen, delai: float = 120) -> None:
    """Poll until the run reaches the step (never a fixed sleep)."""
    limite = time.monotonic() + delai
    while not condition():
        assert processus.poll() is None, "la chaîne s'est terminée avant l'étape attendue"
        assert time.monotonic() < limite, "étape jamais atteinte"
        time.sleep(0.005)


@pytest.mark.parametrize("etape", ["journal", "construction"])
def test_un_run_tue_laisse_l_entrepot_intact(installation, etape):
    entrepot = installation["entrepot"]
    dossier_journal = journal.dossier_journal(entrepot)
    deja = len(list(dossier_journal.glob("*.json")))
    conditions = {
        "journal": lambda: len(list(dossier_journal.glob("*.json"))) > deja,
        "construction": lambda: entrepot.with_name(f".{entrepot.name}.construction").exists(),
    }
    processus = lancer_run(installation, exports_interrompus(installation),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        attendre(conditions[etape], processus)
        processus.send_signal(signal.SIGKILL)
    finally:
        processus.wait(timeout=60)
    assert processus.returncode == -signal.SIGKILL
    assert empreinte_marts(entrepot) == installation["avant"]
    assert projets_construits(entrepot) == {corpus.PROJET}


def test_un_second_run_concurrent_est_refuse(installation):
    entrepot = installation["entrepot"]
    with pipeline.verrou(entrepot):
        processus = lancer_run(installation, exports_interrompus(installation),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sortie, erreurs = processus.communicate(timeout=120)
    assert processus.returncode == 1
    assert "Erreur : une autre exécution construit déjà l'entrepôt" in erreurs
    assert "Traceback" not in erreurs + sortie
    assert empreinte_marts(entrepot) == installation["avant"]


# --------------------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def corpus_execute(installation):
    """One `run` over the whole corpus of bad deliveries, added as newer extractions."""
    exports = installation["exports"]
    dossiers = {}
    for indice, cas in enumerate(CAS_RUN):
        dossiers[cas.nom] = cas.ecrire(exports / cas.projet / date_du_cas(indice))
    execution = subprocess.run(
        [str(CLI), "run", "--exports", str(exports), "--warehouse", str(installation["entrepot"]),
         "--sans-fiches"],
        cwd=installation["racine"], env=environnement(installation["racine"]),
        capture_output=True, text=True, timeout=600,
    )
    return {**installation, "dossiers": dossiers, "execution": execution}


def dossier_rapport(corpus_execute, cas: corpus.Cas) -> Path:
    indice = CAS_RUN.index(cas)
    rapports = corpus_execute["racine"] / "rapports"
    dossier = rapports / cas.projet / date_du_cas(indice)
    if not dossier.exists():  # a folder refused as such (a symlink leading outside)
        (dossier,) = (rapports / "_dossiers").glob(f"*{date_du_cas(indice)}*")
    return dossier


def verifier_attendu(echecs: list[dict], attendu: corpus.Attendu) -> None:
    for code, fichier, colonne, lignes in attendu.regles:
        trouves = [
            e for e in echecs
            if e["regle"] == code
            and (fichier is None or e["fichier"] == fichier)
            and (colonne is None or e["colonne"] == colonne)
            and (lignes is None or set(lignes) <= set(e["premieres_lignes"]))
        ]
        assert trouves, (code, fichier, colonne, lignes, echecs)
        for echec in trouves:
            assert echec["libelle"] and echec["severite"] in ("erreur", "avertissement")


def test_le_run_se_termine_sans_trace_et_en_echec(corpus_execute):
    execution = corpus_execute["execution"]
    assert execution.returncode == 1, execution.stderr[-3000:]
    assert "Traceback" not in execution.stderr and "Traceback" not in execution.stdout
    assert "Livraison refusée" in execution.stderr
    # the warehouse was built with the accepted delivery: the summary is printed
    assert "Indicateurs recalculés" in execution.stdout


@pytest.mark.parametrize("cas", CAS_RUN, ids=[c.nom for c in CAS_RUN])
def test_cas_refuse_avec_son_message(corpus_execute, cas):
    dossier = dossier_rapport(corpus_execute, cas)
    rapport = json.loads((dossier / "rapport.json").read_text(encoding="utf-8"))
    assert rapport["statut"] == "refusee"
    assert rapport["erreurs"] >= 1
    verifier_attendu(rapport["echecs"], cas.attendu)
    for forme in ("rapport.md", "rapport.html"):
        texte = html.unescape((dossier / forme).read_text(encoding="utf-8"))
        assert cas.attendu.message in texte, forme
        assert "refusée" in texte
    # the terminal names the delivery and its reasons
    assert rapport["livraison"] in corpus_execute["execution"].stderr


def test_les_refus_sont_en_quarantaine_intacts(corpus_execute):
    quarantaine = corpus_execute["racine"] / "quarantaine"
    for indice, cas in enumerate(CAS_RUN):
        dossier = quarantaine / cas.projet / date_du_cas(indice)
        if cas.nom == "lien_dossier":  # not a delivery: nothing outside the exports is copied
            assert not dossier.exists()
            continue
        copie = dossier / "livraison"
        assert copie.is_dir(), cas.nom
        assert (dossier / "rapport.json").exists() and (dossier / "rapport.html").exists()
        source = corpus_execute["dossiers"][cas.nom]
        for fichier in source.iterdir():
            double = copie / fichier.name
            if fichier.is_symlink():
                assert double.is_symlink() and os.readlink(double) == os.readlink(fichier)
            else:
                assert double.read_bytes() == fichier.read_bytes(), (cas.nom, fichier.name)
    assert oct(quarantaine.stat().st_mode & 0o777) == "0o700"


def test_l_entrepot_repond_avec_les_dernieres_bonnes_donnees(corpus_execute):
    entrepot = corpus_execute["entrepot"]
    assert empreinte_marts(entrepot) == corpus_execute["avant"]
    landing = pipeline.dossier_landing(entrepot)
    deposes = sorted(p.name for p in landing.rglob(f"{corpus.PROJET}__*.parquet"))
    assert deposes == [f"{corpus.PROJET}__{corpus.EXTRACTION.isoformat()}.parquet"] * 4
    # nothing a killed run left behind got in the way
    assert not entrepot.with_name(f".{entrepot.name}.construction").exists()
    assert not list(landing.glob("*atterrissage-*"))
    # the project landed by an interrupted run is built: a refusal affects no other project
    if (landing / "menages" / f"{AUTRE_PROJET}__{corpus.EXTRACTION.isoformat()}.parquet").exists():
        assert projets_construits(entrepot) == {corpus.PROJET, AUTRE_PROJET}


def test_aucune_valeur_plantee_ne_fuit(corpus_execute):
    valeurs = {v for cas in CAS_RUN for v in cas.valeurs}
    assert len(valeurs) >= 10
    execution = corpus_execute["execution"]
    entrepot = corpus_execute["entrepot"]
    dossier_entrepot = entrepot.parent
    sorties = execution.stdout + execution.stderr
    textes = [sorties, textes_entrepot(entrepot), textes_parquet(dossier_entrepot)]
    for dossier in (dossier_entrepot, corpus_execute["racine"] / "rapports"):
        for fichier in dossier.rglob("*"):
            if fichier.is_file():
                textes.append(fichier.read_bytes().decode("utf-8", errors="replace"))
    tout = "\n".join(textes)
    for valeur in sorted(valeurs):
        assert valeur not in tout, valeur
        assert valeur.replace(" ", "") not in tout.replace(" ", ""), valeur


def test_le_journal_trace_chaque_livraison(corpus_execute):
    entrees = journal.lire(journal.dossier_journal(corpus_execute["entrepot"]))
    derniere = entrees[-1]["execution_id"]
    de_ce_run = [e for e in entrees if e["execution_id"] == derniere]
    statuts = {e["dossier"]: e["statut"] for e in de_ce_run}
    assert statuts[f"{corpus.PROJET}/{corpus.EXTRACTION.isoformat()}"] == "deja_lue"
    assert sum(1 for s in statuts.values() if s == "refusee") == len(CAS_RUN)
    for entree in de_ce_run:
        if entree["statut"] == "refusee":
            assert entree["raisons"], entree["dossier"]
        for fichier in entree["fichiers"]:
            assert fichier["sha256"] is None or len(fichier["sha256"]) == 64
    (premier,) = [e for e in entrees if e["statut"] == "acceptee" and e["projet_id"] == corpus.PROJET]
    assert {f["fichier"]: f["lignes"] for f in premier["fichiers"]} == {
        f"{t}.csv": len(lignes) for t, lignes in corpus.base().items()
    }
    # exposed in the warehouse, one row per delivery and file
    con = duckdb.connect(str(corpus_execute["entrepot"]), read_only=True)
    try:
        lignes = con.execute(
            "select statut, count(distinct evenement_id) from fct_journal_livraisons "
            "where execution_id = ? group by statut", [derniere]
        ).fetchall()
        tous = con.execute("select count(distinct evenement_id) from fct_journal_livraisons").fetchone()[0]
    finally:
        con.close()
    assert dict(lignes) == {"refusee": len(CAS_RUN), "deja_lue": 1}
    assert tous == len(entrees)


def test_valider_en_ligne_de_commande(corpus_execute, tmp_path):
    """`valider` on a few bad deliveries and on a path with « .. »: French tables, exit 1, no traceback."""
    exports = corpus_execute["exports"]
    choisis = ["fichier_vide", "courriel", "classeur_formule"]
    dossiers = [str(corpus_execute["dossiers"][nom]) for nom in choisis]
    evasion = str(exports / corpus.PROJET / ".." / ".." / "exports" / corpus.PROJET)
    execution = subprocess.run(
        [str(CLI), "valider", *dossiers, evasion, "--rapports", str(tmp_path / "rapports")],
        env=environnement(tmp_path), capture_output=True, text=True, timeout=300,
    )
    assert execution.returncode == 1
    assert "Traceback" not in execution.stderr + execution.stdout
    sortie = execution.stdout
    assert "Validation des livraisons" in sortie and "refusée" in sortie
    assert "chemin" in sortie and "« .. »" in sortie
    assert f"0 livraison(s) acceptée(s), {len(choisis) + 1} refusée(s)." in sortie
    for nom in choisis:
        date = corpus_execute["dossiers"][nom].name
        rapport = json.loads((tmp_path / "rapports" / corpus.PROJET / date / "rapport.json").read_text())
        assert rapport["statut"] == "refusee"
        verifier_attendu(rapport["echecs"], corpus.CAS_PAR_NOM[nom].attendu)
    assert corpus.COURRIEL not in sortie + execution.stderr


def test_valider_une_bonne_livraison_rend_zero(corpus_execute, tmp_path):
    bonne = corpus_execute["exports"] / corpus.PROJET / corpus.EXTRACTION.isoformat()
    assert valider_commande([bonne], tmp_path / "rapports") == 0
    rapport = json.loads((tmp_path / "rapports" / corpus.PROJET / corpus.EXTRACTION.isoformat()
                          / "rapport.json").read_text(encoding="utf-8"))
    assert rapport["statut"] == "acceptee" and rapport["echecs"] == []
    assert rapport["regles_verifiees"] > 100


ACCEPTES = [c for c in corpus.CAS if not c.dans_run]


@pytest.mark.parametrize("cas", ACCEPTES, ids=[c.nom for c in ACCEPTES])
def test_cas_acceptes(cas, tmp_path):
    """BOM, French formats, a 15-digit pseudonym that is not a NIR, warnings only: all pass."""
    dossier = cas.ecrire(tmp_path / "exports" / cas.projet / corpus.EXTRACTION.isoformat())
    assert valider_commande([dossier], tmp_path / "rapports") == 0
    rapport = json.loads(next((tmp_path / "rapports").rglob("rapport.json")).read_text(encoding="utf-8"))
    assert rapport["statut"] == "acceptee"
    verifier_attendu(rapport["echecs"], cas.attendu)
    assert all(e["severite"] == "avertissement" for e in rapport["echecs"])
