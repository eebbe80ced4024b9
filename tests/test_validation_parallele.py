"""`capitalisation valider` and `capitalisation run` over several deliveries: one delivery
(for `run`, one project) per core, each in its own DuckDB connection with its share of
memory; verdicts, reports, landing and quarantine identical to one-by-one validation."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import duckdb
import pytest

from capitalisation import lecture, pipeline, travail
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.validation import controle, valider_commande, valider_livraison

from .corpus import cas as corpus

CAS = ["courriel", "table_vide", "doublon_menage", "solde_faux"]


def test_plusieurs_livraisons_en_parallele_memes_rapports(tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    exports = tmp_path / "exports"
    dossiers = {}
    for indice, nom in enumerate(n for n in CAS if n in corpus.CAS_PAR_NOM):
        date = f"2020-07-{indice + 1:02d}"
        dossiers[date] = corpus.CAS_PAR_NOM[nom].ecrire(exports / corpus.PROJET / date)
    dossiers["2020-06-30"] = corpus.ecrire_livraison(exports / corpus.PROJET / "2020-06-30", corpus.base())
    assert valider_commande([exports], tmp_path / "rapports") == 1
    for date, dossier in dossiers.items():
        livraison = lecture.Livraison(corpus.PROJET, corpus.EXTRACTION, dossier)
        seul = valider_livraison(livraison, tmp_path / "seul" / date, exports)
        rapport = json.loads((tmp_path / "rapports" / corpus.PROJET / date / "rapport.json").read_text())
        assert rapport["statut"] == seul.statut
        cle = lambda e: json.dumps(e, sort_keys=True, ensure_ascii=False)  # noqa: E731
        assert sorted(map(cle, rapport["echecs"])) == sorted(cle(e.en_dict()) for e in seul.echecs)


def test_chaque_connexion_a_sa_part():
    con = duckdb.connect()
    try:
        lecture.regler_connexion(con, None, 3)
        limite, fils = con.execute("select current_setting('memory_limit'), current_setting('threads')").fetchone()
    finally:
        con.close()
    assert limite.startswith("953") or limite.startswith("954") or limite == "1000.0 MB"
    assert int(fils) >= 1


def test_une_connexion_par_fil_gardee_d_une_livraison_a_l_autre_puis_rendue():
    """Each worker thread keeps its DuckDB connection from one delivery to the next; its
    spill folder goes with the thread, and another share of the cores makes a new one."""
    import gc
    import threading

    vues = []

    def travail():
        premiere = lecture.connexion(2)
        vues.append((premiere is lecture.connexion(2), premiere is lecture.connexion(1),
                     lecture._FILS.connexions[2].dossier.is_dir(),
                     premiere.execute("select current_setting('threads')").fetchone()[0]))
        vues.append(lecture._FILS.connexions[2].dossier)

    fil = threading.Thread(target=travail)
    fil.start()
    fil.join()
    gc.collect()
    (gardee, autre_part, dossier_present, fils), dossier = vues
    assert gardee and not autre_part and dossier_present
    assert int(fils) >= 1
    assert not dossier.exists()


# --------------------------------------------------------------------------- run: one project per core

AUTRES = {"solide_r": "domofrance", "zero_expulsion": "batigere", "trait_social": "batigere_idf"}
DISQUE_PLEIN = "disque plein en écrivant dans le dossier de travail : libérez de la place"


def _donnees(projet: str, defaut=None) -> dict:
    donnees = corpus.base()
    if projet != corpus.PROJET:
        for lignes in donnees.values():
            for ligne in lignes:
                ligne["projet_id"] = projet
                if "bailleur_id" in ligne:
                    ligne["bailleur_id"] = AUTRES[projet]
    if defaut is not None:
        defaut(donnees)
    return donnees


@pytest.fixture(scope="module")
def exports_quatre_projets(tmp_path_factory) -> Path:
    """declic: a newer delivery with a broken rent account, then a good one; solide_r: good;
    zero_expulsion: an e-mail address as a household id; trait_social: good, but its
    validation fails for want of disk."""
    exports = tmp_path_factory.mktemp("run_parallele") / "exports"
    ecrire = corpus.ecrire_livraison
    ecrire(exports / "declic" / "2020-06-30", _donnees("declic"))
    ecrire(exports / "declic" / "2020-07-31", _donnees("declic", corpus._solde_faux))
    ecrire(exports / "solide_r" / "2020-06-30", _donnees("solide_r"))
    ecrire(exports / "zero_expulsion" / "2020-06-30",
           _donnees("zero_expulsion", corpus._menage("a2", corpus.COURRIEL)))
    ecrire(exports / "trait_social" / "2020-06-30", _donnees("trait_social"))
    return exports


def _lire(exports: Path, dossier: Path, coeurs: int, monkeypatch) -> tuple[list, list]:
    """`run`'s validation and landing with `coeurs` cores; (bilans, calls to the validator).

    With several cores, the first two validations must run at the same time: each waits
    at a barrier for the other (a sequential run breaks the barrier)."""
    monkeypatch.setattr("os.cpu_count", lambda: coeurs)
    original = controle.valider_livraison
    barriere = threading.Barrier(2, timeout=30)
    appels, verrou = [], threading.Lock()

    def valider(livraison, dossier_travail, racine=None, *args, part=1, **kwargs):
        with verrou:
            rang = len(appels)
            appels.append((livraison.nom, part))
        if coeurs > 1 and rang < 2:
            barriere.wait()
        if livraison.projet_id == "trait_social":
            raise ErreurUtilisateur(DISQUE_PLEIN)
        return original(livraison, dossier_travail, racine, *args, part=part, **kwargs)

    monkeypatch.setattr(controle, "valider_livraison", valider)
    with travail.dossier_prive(dossier, ".travail"):
        bilans = pipeline.lire_livraisons(exports, dossier / "landing", dossier / "rapports",
                                          dossier / "quarantaine")
    monkeypatch.undo()
    return bilans, appels


def _contenus(dossier: Path) -> dict[str, object]:
    """Every file under `dossier` by relative path: Parquet files by their rows, reports by
    their verdict and failures, other files by their bytes."""
    contenus: dict[str, object] = {}
    con = duckdb.connect()
    try:
        for chemin in sorted(p for p in dossier.rglob("*") if p.is_file()):
            cle = str(chemin.relative_to(dossier))
            if chemin.suffix == ".parquet":
                contenus[cle] = con.execute("select * from read_parquet(?)", [str(chemin)]).fetchall()
            elif chemin.name == "rapport.json":
                rapport = json.loads(chemin.read_text(encoding="utf-8"))
                contenus[cle] = (rapport["statut"], rapport["echecs"])
            elif chemin.suffix == ".json" and chemin.parent.name == "_livraisons":
                manifeste = json.loads(chemin.read_text(encoding="utf-8"))
                contenus[cle] = {k: v for k, v in manifeste.items() if k != "lue_le"}
            elif chemin.suffix in (".md", ".html"):
                contenus[cle] = "rapport"  # dated: present in both, compared through rapport.json
            else:
                contenus[cle] = chemin.read_bytes()
    finally:
        con.close()
    return contenus


def test_run_un_projet_par_coeur_memes_verdicts(exports_quatre_projets, tmp_path, monkeypatch):
    seul, appels_seul = _lire(exports_quatre_projets, tmp_path / "seul", 1, monkeypatch)
    parallele, appels = _lire(exports_quatre_projets, tmp_path / "parallele", 2, monkeypatch)

    verdicts = {b.livraison.nom: b.statut for b in parallele}
    assert verdicts == {
        "declic/2020-07-31": "refusee", "declic/2020-06-30": "lue", "solide_r/2020-06-30": "lue",
        "zero_expulsion/2020-06-30": "refusee", "trait_social/2020-06-30": "refusee",
    }
    # the same verdicts, reasons, rows and hashes, in the same order, as one by one
    resume = lambda bilans: [(b.livraison.nom, b.statut, b.raisons, b.lignes, b.empreintes)  # noqa: E731
                             for b in bilans]
    assert resume(parallele) == resume(seul)
    raisons = {b.livraison.nom: b.raisons for b in parallele}
    assert any("[identite_compte]" in r for r in raisons["declic/2020-07-31"])
    assert any("[dp_courriel]" in r for r in raisons["zero_expulsion/2020-06-30"])
    assert raisons["trait_social/2020-06-30"] == [DISQUE_PLEIN]
    assert corpus.COURRIEL not in json.dumps(raisons)
    # each validation took its share of memory and cores: 2 at once, 1 alone
    assert sorted(appels) == sorted((nom, 2) for nom, _ in appels_seul)
    assert {part for _, part in appels_seul} == {1}
    # landing, reports and quarantine: the same files with the same contents
    for sous_dossier in ("landing", "rapports", "quarantaine"):
        attendu = _contenus(tmp_path / "seul" / sous_dossier)
        assert attendu, sous_dossier
        assert _contenus(tmp_path / "parallele" / sous_dossier) == attendu
