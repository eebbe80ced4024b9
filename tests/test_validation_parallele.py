"""`capitalisation valider` over several deliveries: one delivery per core, each in its own
DuckDB connection with its share of memory; reports identical to one-by-one validation."""

from __future__ import annotations

import json

import duckdb

from capitalisation import lecture
from capitalisation.validation import valider_commande, valider_livraison

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
