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


def test_lecture_et_validation_du_bench_une_livraison_par_coeur(tmp_path, monkeypatch):
    """The bench's reading and validation stages work as `run` does: one delivery per core,
    each connection with its share; the same rows and rules as one by one."""
    from capitalisation import config
    from capitalisation.bench import _copier_projet_dbt, etapes
    from capitalisation.validation import controle, regles

    genere = generer(tmp_path / "exports", 600, projets=3)
    _copier_projet_dbt(tmp_path / "dbt", genere)
    monkeypatch.setattr(config, "DBT_PROJET", tmp_path / "dbt")
    regles.catalogue.cache_clear()
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    parts = []
    for module, nom in ((lecture, "lire_livraison"), (controle, "juger_landing")):
        original = getattr(module, nom)

        def espion(livraison, landing, part=1, original=original, nom=nom):
            parts.append((nom, part))
            return original(livraison, landing, part)

        monkeypatch.setattr(module, nom, espion)
    try:
        lus = etapes.lecture(tmp_path)
        juges = etapes.validation(tmp_path)
    finally:
        regles.catalogue.cache_clear()
    assert sorted(parts) == [("juger_landing", 2)] * 3 + [("lire_livraison", 2)] * 3
    assert lus["lignes"] > 600 * MOIS_COMPTE
    assert juges["erreurs"] == 0
    landees = [p.parent.name for p in (tmp_path / "landing").glob("*/*__*.parquet")]
    assert juges["regles"] == sum(len(regles.charger_suites()[table]) for table in landees)


def test_la_borne_de_lecture_ecrit_les_memes_lignes_et_reste_hors_total(tmp_path):
    """The bound of reading writes every delivered row, typed (the same values as the landing
    files), and, like the dbt parse done once before, is not counted in the total."""
    from capitalisation.bench import etapes

    generer(tmp_path / "exports", 600, projets=3)
    borne = etapes.borne_lecture(tmp_path)
    lus = etapes.lecture(tmp_path)
    assert borne["lignes"] == lus["lignes"] == etapes.plancher(tmp_path)["lignes"]
    con = duckdb.connect()
    try:
        somme = "select sum(solde_fin_mois), count(distinct mois), count(*) from read_parquet(?, union_by_name = true)"
        comptes = [str(p) for p in (tmp_path / "borne_lecture").glob("*.parquet")
                   if "solde_fin_mois" in [c[0] for c in con.execute(f"describe select * from '{p}'").fetchall()]]
        assert con.execute(somme, [comptes]).fetchone() == con.execute(
            somme, [[str(p) for p in (tmp_path / "landing" / "comptes_mensuels").glob("*__*.parquet")]]).fetchone()
    finally:
        con.close()
    taille = Taille(1000, 3, 0, [Mesure("analyse_dbt", 9.0, 1), Mesure("plancher", 1.0, 1),
                                 Mesure("borne_lecture", 9.0, 1), Mesure("lecture", 2.0, 1),
                                 Mesure("validation", 1.0, 1), Mesure("dbt", 1.0, 1)])
    assert resumer([taille])["tailles"][0]["secondes_jusqu_a_l_entrepot"] == pytest.approx(4.0)
