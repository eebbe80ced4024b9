"""dbt without waste: the unit tests of the models run here, in the test suite, not in every
build; a build parses only what changed since the previous one (a persistent target); no
staging test re-checks a rule the validation of deliveries already enforces."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from capitalisation import config, entrepot, lecture


def _noeuds(cible: Path) -> list[str]:
    resultats = json.loads((cible / "run_results.json").read_text(encoding="utf-8"))
    return [r["unique_id"] for r in resultats["results"]]


def test_tests_unitaires_a_part_et_analyse_partielle(tmp_path):
    landing = tmp_path / "landing"
    lecture.ecrire_schemas_vides(landing)
    fichier = tmp_path / "entrepot" / "capitalisation.duckdb"
    fichier.parent.mkdir()
    cible = entrepot.cible_dbt(fichier)
    construit = entrepot.construire(fichier, landing, tmp_path / "travail",
                                    exclusion=entrepot.PUBLICATION, variables=config.variables_dbt())
    assert construit.succes, construit.echecs
    noeuds = _noeuds(cible)
    assert any(n.startswith("model.") for n in noeuds)
    assert not any(n.startswith("unit_test.") for n in noeuds)  # not in every build
    assert (cible / "partial_parse.msgpack").exists()  # the next build parses only changes
    unitaires = entrepot.construire(fichier, landing, tmp_path / "travail", commande="test",
                                    selection="test_type:unit", variables=config.variables_dbt())
    assert unitaires.succes, unitaires.echecs
    executes = [n for n in _noeuds(cible) if n.startswith("unit_test.")]
    assert len(executes) >= 3


def test_pas_de_test_de_staging_qui_refait_la_validation():
    staging = yaml.safe_load((config.RACINE / "models" / "staging" / "_staging__models.yml").read_text())
    for modele in staging["models"]:
        assert not modele.get("data_tests"), modele["name"]
        for colonne in modele.get("columns", []):
            assert not colonne.get("data_tests"), (modele["name"], colonne["name"])


def test_le_panel_se_limite_a_ce_que_lit_le_moteur():
    marts = yaml.safe_load((config.RACINE / "models" / "marts" / "_marts__models.yml").read_text())
    (panel,) = [m for m in marts["models"] if m["name"] == "fct_panel_mensuel"]
    assert [c["name"] for c in panel["columns"]] == ["projet_id", "menage_id", "mois", "mois_relatif",
                                                     "solde_fin_mois"]


def test_premier_mois_du_panel_en_un_seul_endroit():
    """The first month of the panel is config.PREMIER_MOIS_PANEL: the engine reads from it,
    dbt receives it as a var, and dbt_project.yml's default is the same."""
    from capitalisation.evaluation import moteur

    projet = yaml.safe_load((config.RACINE / "dbt_project.yml").read_text())
    assert moteur.PREMIER_MOIS_PANEL == config.PREMIER_MOIS_PANEL < 0
    assert config.variables_dbt()["premier_mois_panel"] == config.PREMIER_MOIS_PANEL
    assert projet["vars"]["premier_mois_panel"] == config.PREMIER_MOIS_PANEL
    sql = (config.RACINE / "models" / "marts" / "fct_panel_mensuel.sql").read_text()
    assert "var('premier_mois_panel')" in sql and "var('horizon_mois')" in sql
