"""The command line as a user runs it: the demo from end to end, and clear French errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from capitalisation import formats


def capitalisation(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "capitalisation.cli", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=900,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    dossier = tmp_path_factory.mktemp("cli")
    exports, entrepot = dossier / "exports", dossier / "warehouse" / "capitalisation.duckdb"
    resultat = capitalisation("demo", "--exports", str(exports))
    assert resultat.returncode == 0, resultat.stderr
    execution = capitalisation(
        "run", "--exports", str(exports), "--warehouse", str(entrepot), "--sans-fiches"
    )
    return exports, entrepot, execution


def test_demo_puis_run_de_bout_en_bout(demo):
    exports, entrepot, execution = demo
    assert execution.returncode == 0, execution.stderr[-2000:]
    assert "Traceback" not in execution.stderr + execution.stdout
    verite = json.loads((exports / "verite_demo.json").read_text(encoding="utf-8"))
    assert set(verite["projets"]) == {
        "trait_social", "habitat_reuni", "zero_expulsion", "declic", "solide_r",
    }
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        (k, n, valeur), = con.execute(
            "select k, n, valeur from pub_indicateurs_projet "
            "where projet_id = 'zero_expulsion' and indicateur = 'loyer_a_jour'"
        ).fetchall()
        statuts = dict(con.execute(
            "select indicateur, statut from pub_reconciliation where projet_id = 'zero_expulsion'"
        ).fetchall())
    finally:
        con.close()
    # the summary prints the same figure, in French, beside the published one
    ligne = next(t for t in execution.stdout.splitlines() if "Loyer à jour" in t and "93" in t)
    if k is None:  # secret: « s », and no verdict beside the published 93 %
        assert statuts["loyer_a_jour"] is None
        assert [c.strip() for c in ligne.split("│")][3:5] == ["s", "s"] and "confirmé" not in ligne
    else:
        assert f"{formats.nombre(k)} / {formats.nombre(n)}" in ligne
        assert formats.pourcentage(valeur) in ligne
        assert statuts["loyer_a_jour"] == "confirme"
        assert "confirmé" in ligne


def test_run_une_seconde_fois_ne_relit_rien(demo):
    exports, entrepot, _ = demo
    execution = capitalisation(
        "run", "--exports", str(exports), "--warehouse", str(entrepot), "--sans-fiches"
    )
    assert execution.returncode == 0, execution.stderr[-2000:]
    assert "déjà lue" in execution.stdout + execution.stderr


def test_dossier_absent_message_clair(tmp_path):
    execution = capitalisation(
        "run", "--exports", str(tmp_path / "absent"), "--warehouse", str(tmp_path / "e.duckdb")
    )
    assert execution.returncode != 0
    assert "Traceback" not in execution.stderr
    assert "n'existe pas" in execution.stderr
    assert not (tmp_path / "e.duckdb").exists()


def test_sans_commande_affiche_l_aide():
    execution = capitalisation()
    assert execution.returncode == 2
    assert "capitalisation" in execution.stdout and "run" in execution.stdout
