"""Landing files are checked by the content hash recorded when they landed: a damaged one is
rebuilt from its delivery; when it cannot be, and when the disk is full, the user reads a
French sentence, never DuckDB's or dbt's English."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from capitalisation import entrepot as dbt_entrepot
from capitalisation import lecture, pipeline
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.validation import controle

from .corpus import cas as corpus


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    racine = tmp_path_factory.mktemp("landing")
    exports = racine / "exports"
    entrepot = racine / "entrepot" / "capitalisation.duckdb"
    corpus.ecrire_livraison(exports / corpus.PROJET / corpus.EXTRACTION.isoformat(), corpus.base())
    assert pipeline.executer(exports, entrepot, fiches=False, rapports=racine / "rapports",
                             quarantaine=racine / "quarantaine") == 0
    return {"racine": racine, "exports": exports, "entrepot": entrepot,
            "landing": pipeline.dossier_landing(entrepot)}


def _parquet(installation, table: str) -> Path:
    return installation["landing"] / table / f"{corpus.PROJET}__{corpus.EXTRACTION.isoformat()}.parquet"


def _abimer(chemin: Path) -> None:
    octets = bytearray(chemin.read_bytes())
    milieu = len(octets) // 2
    octets[milieu:milieu + 40] = b"\0" * 40
    chemin.write_bytes(bytes(octets))


def _lire(installation):
    r = installation["racine"]
    return pipeline.lire_livraisons(installation["exports"], installation["landing"], r / "rapports",
                                    r / "quarantaine")


def test_le_manifeste_garde_l_empreinte_des_fichiers_d_atterrissage(installation):
    (manifeste,) = (installation["landing"] / "_livraisons").glob("*.json")
    donnees = json.loads(manifeste.read_text(encoding="utf-8"))
    assert set(donnees["landing"]) == set(donnees["lignes"]) == set(corpus.base())
    assert donnees["landing"]["menages"] == controle.empreinte(_parquet(installation, "menages"))
    (bilan,) = _lire(installation)
    assert bilan.statut == "deja_lue"


def test_un_fichier_d_atterrissage_abime_est_reconstruit(installation):
    cible = _parquet(installation, "comptes_mensuels")
    bon = cible.read_bytes()
    _abimer(cible)
    assert cible.read_bytes() != bon
    (bilan,) = _lire(installation)
    assert bilan.statut == "lue"  # read again, not « déjà lue »
    con = duckdb.connect()
    try:
        (n,) = con.execute("select count(*) from read_parquet(?)", [str(cible)]).fetchone()
    finally:
        con.close()
    assert n == len(corpus.base()["comptes_mensuels"])
    (bilan,) = _lire(installation)
    assert bilan.statut == "deja_lue"


def test_un_fichier_disparu_est_reconstruit(installation):
    _parquet(installation, "evenements").unlink()
    (bilan,) = _lire(installation)
    assert bilan.statut == "lue" and _parquet(installation, "evenements").exists()


def test_sans_sa_livraison_le_message_est_en_francais(installation, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(installation["landing"], landing)
    _abimer(landing / "menages" / f"{corpus.PROJET}__{corpus.EXTRACTION.isoformat()}.parquet")
    avancement = []
    with pytest.raises(ErreurUtilisateur) as erreur:
        pipeline.construire_entrepot(tmp_path / "entrepot.duckdb", landing)
    message = str(erreur.value)
    assert "fichier d'atterrissage endommagé" in message and "menages" in message
    for anglais in ("magic bytes", "Invalid Input Error", "Runtime Error", "LINE "):
        assert anglais not in message
    # dbt's own console output is silenced, its progress still reported
    resultat = dbt_entrepot.construire(tmp_path / "x.duckdb", installation["landing"], tmp_path / "dbt", commande="run",
                                       selection="stg_livraisons__menages",
                                       progression=lambda noeud: avancement.append(noeud))
    assert resultat.succes and avancement


@pytest.mark.parametrize(
    ("anglais", "francais"),
    [
        ("IO Error: Could not write file \"/x/y.parquet\": No space left on device", "disque plein"),
        ("Out of Memory Error: could not allocate block of size 256 KiB", "mémoire insuffisante"),
        ("IO Error: Cannot open file \"/x\": Permission denied", "écriture refusée"),
    ],
)
def test_les_erreurs_de_duckdb_en_francais(anglais, francais):
    assert dbt_entrepot._resumer(anglais).startswith(francais)


class _DisquePlein:
    def execute(self, *_args, **_kwargs):
        raise duckdb.IOException('IO Error: Could not write file "/p.parquet": No space left on device')


def test_disque_plein_pendant_la_lecture(tmp_path):
    dossier = corpus.ecrire_livraison(tmp_path / "exports" / corpus.PROJET / corpus.EXTRACTION.isoformat(),
                                      corpus.base())
    with pytest.raises(ErreurUtilisateur) as erreur:
        lecture.lire_table(_DisquePlein(), lecture.contrat.MENAGES, dossier / "menages.csv",
                           "declic/2020-06-30/menages.csv", corpus.EXTRACTION,
                           tmp_path / "landing" / "menages" / "x.parquet", tmp_path)
    assert not isinstance(erreur.value, lecture.LivraisonIllisible)  # not the delivery's fault
    assert "disque plein" in str(erreur.value) and "No space" not in str(erreur.value)
