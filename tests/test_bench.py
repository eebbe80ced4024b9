"""The benchmark's generator and arithmetic (no timing is asserted here: `make bench` prints it)."""

from __future__ import annotations

import duckdb
import pytest

from capitalisation import lecture
from capitalisation.bench import Mesure, Taille, resumer
from capitalisation.bench.generateur import MOIS_COMPTE, generer, nombre_projets


@pytest.fixture(scope="module")
def jeu(tmp_path_factory):
    dossier = tmp_path_factory.mktemp("bench")
    return generer(dossier / "exports", 2000), dossier


def test_generateur_livre_n_menages_lisibles(jeu):
    genere, dossier = jeu
    assert len(genere.projets) == nombre_projets(2000) == 3
    landing = dossier / "landing"
    lignes = {}
    for livraison in lecture.livraisons_en_usage(lecture.trouver_livraisons(genere.exports)):
        lue = lecture.lire_livraison(livraison, landing)
        for table, lu in lue.tables.items():
            lignes[table] = lignes.get(table, 0) + lu.lignes
    assert lignes["menages"] == 2000
    assert lignes["comptes_mensuels"] == 2000 * MOIS_COMPTE
    # both office formats are present: `;` with decimal comma and `,` with decimal point
    separateurs = {
        (f.read_text()[:200].count(";") > 0) for f in genere.exports.glob("*/*/menages.csv")
    }
    assert separateurs == {True, False}


def test_generateur_respecte_l_identite_du_compte(jeu):
    _, dossier = jeu
    con = duckdb.connect()
    (ecarts,) = con.execute(
        f"""
        with comptes as (
            select *, lag(solde_fin_mois) over (partition by projet_id, menage_id order by mois) as precedent
            from read_parquet('{dossier}/landing/comptes_mensuels/*.parquet')
        )
        select count(*) from comptes
        where precedent is not null
            and solde_fin_mois != precedent + quittance - aide_logement - paiement + regularisation
        """
    ).fetchone()
    assert ecarts == 0


def test_generateur_deterministe(tmp_path):
    premier = generer(tmp_path / "a", 500)
    second = generer(tmp_path / "b", 500)
    fichiers = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert fichiers
    for chemin in fichiers:
        assert (tmp_path / "a" / chemin).read_bytes() == (tmp_path / "b" / chemin).read_bytes()
    assert premier.octets == second.octets


def test_ratios_et_croissance():
    petite = Taille(100_000, 30, 0, [
        Mesure("plancher", 2.0, 100), Mesure("lecture", 3.0, 200),
        Mesure("validation", 1.0, 300), Mesure("dbt", 4.0, 400),
    ])
    grande = Taille(1_000_000, 300, 0, [
        Mesure("plancher", 20.0, 100), Mesure("lecture", 30.0, 200),
        Mesure("validation", 10.0, 3000), Mesure("dbt", 40.0, 400),
    ])
    resume = resumer([petite, grande])
    assert resume["tailles"][0]["secondes_jusqu_a_l_entrepot"] == pytest.approx(8.0)
    assert resume["tailles"][0]["ratio_jusqu_a_l_entrepot"] == pytest.approx(4.0)
    assert resume["tailles"][1]["memoire_max_octets"] == 3000
    (croissance,) = resume["croissance"]
    assert croissance["exposant"] == pytest.approx(1.0)
    assert croissance["au_plus_lineaire"]
