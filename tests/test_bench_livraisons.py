"""The benchmark grown both ways: its arithmetic (time per row, targets missed and by how much)
and its pathological files (no timing is asserted here: `make bench` prints it)."""

from __future__ import annotations

import pytest

from capitalisation.bench import Mesure, Taille, livraisons, part_du_total, resumer, verdict_ratio
from capitalisation.bench.generateur import generer


def test_temps_par_ligne_plat_ou_non():
    plat = livraisons.resumer_livraisons([
        Mesure("livraison_seule", 2.0, 0, {"lignes": 10_000}, cpu=1.0),
        Mesure("livraison_seule", 10.0, 0, {"lignes": 1_000_000}, cpu=20.0),
        Mesure("livraison_seule", 30.0, 0, {"lignes": 3_000_000}, cpu=66.0),
    ])
    assert [t["us_cpu_par_ligne"] for t in plat["tailles"]] == pytest.approx([100.0, 20.0, 22.0])
    assert plat["pire_facteur"] == pytest.approx(1.1) and plat["plat"]
    croissant = livraisons.resumer_livraisons([
        Mesure("livraison_seule", 1.0, 0, {"lignes": 10_000}, cpu=0.1),
        Mesure("livraison_seule", 100.0, 0, {"lignes": 3_000_000}, cpu=129.0),
    ])
    assert croissant["pire_facteur"] == pytest.approx(4.3) and not croissant["plat"]


def test_ratio_cpu_et_ecart_a_la_cible():
    taille = Taille(100_000, 30, 0, [
        Mesure("plancher", 2.0, 100, cpu=1.0), Mesure("lecture", 3.0, 200, cpu=2.0),
        Mesure("validation", 1.0, 300, cpu=1.5), Mesure("dbt", 4.0, 400, cpu=5.5),
    ])
    (resume,) = resumer([taille])["tailles"]
    assert resume["ratio_jusqu_a_l_entrepot"] == pytest.approx(4.0)
    assert resume["ratio_cpu_jusqu_a_l_entrepot"] == pytest.approx(9.0)
    assert verdict_ratio(3.9) == "atteinte"
    assert verdict_ratio(9.0).startswith("manquée de 5,00 × plancher (× 2,25 la cible")
    assert "sous le palier" in verdict_ratio(5.0)


def test_fichiers_pathologiques(tmp_path):
    jeu = generer(tmp_path / "exports", 200, projets=1)
    assert len(jeu.projets) == 1
    (livraison,) = [p for p in (tmp_path / "exports").glob("*/*") if p.is_dir()]
    livraisons._cellule_geante(livraison)
    livraisons._ligne_de_cent_champs(livraison)
    menages = (livraison / "menages.csv").read_text(encoding="utf-8").splitlines()
    assert max(len(ligne) for ligne in menages) > livraisons.TAILLE_CELLULE
    comptes = (livraison / "comptes_mensuels.csv").read_text(encoding="utf-8").splitlines()
    separateur = ";" if comptes[0].count(";") else ","
    assert len(comptes[2].split(separateur)) == livraisons.CHAMPS_LIGNE
    (cas,) = livraisons.resumer_pathologiques({"cellule_1_mio": Mesure(
        "pathologique", 14.0, 0, {"statut": "refusee", "regles": ["champ_trop_long"]}, cpu=1.4)})
    assert cas["dans_les_temps"] and cas["statut"] == "refusee"


def test_palier_manque_et_part_de_chaque_etape():
    """Beyond the 6 × step, the verdict says by how much the step is missed too; each stage
    up to the warehouse reports its share of the total."""
    assert verdict_ratio(14.6) == ("manquée de 10,60 × plancher (× 3,65 la cible ; palier de 6 × manqué "
                                   "de 8,60 × plancher)")
    taille = Taille(100_000, 30, 0, [
        Mesure("plancher", 2.0, 100, cpu=1.0), Mesure("lecture", 3.0, 200, cpu=2.0),
        Mesure("validation", 1.0, 300, cpu=1.5), Mesure("dbt", 4.0, 400, cpu=6.5),
    ])
    (resume,) = resumer([taille])["tailles"]
    parts = {e["etape"]: part_du_total(e, resume) for e in resume["etapes"]}
    assert parts == {"plancher": None, "lecture": pytest.approx(0.2), "validation": pytest.approx(0.15),
                     "dbt": pytest.approx(0.65)}
