"""The warehouse against hand-computed backtests and the independent oracle.

Each backtest delivery is read and built into its own warehouse; every household-level
and project-level value of the marts must equal the figures computed by hand (and the
oracle's, computed straight from indicators.md in plain Python).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from capitalisation import config, pipeline

from . import oracle

BACKTESTS = Path(__file__).parent / "backtests"
CAS = sorted(p.name for p in BACKTESTS.iterdir() if (p / "exports").is_dir())


def construire(exports: Path, dossier: Path, horizon: int | None = None) -> Path:
    entrepot = dossier / "entrepot.duckdb"
    landing = pipeline.dossier_landing(entrepot)
    bilans = pipeline.lire_livraisons(exports, landing)
    assert all(b.statut in ("lue", "ignoree") for b in bilans), [b.raisons for b in bilans]
    variables = {"horizon_mois": horizon} if horizon else None
    pipeline.construire_entrepot(entrepot, landing, variables=variables)
    return entrepot


def lignes(entrepot: Path, requete: str) -> list[dict]:
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        curseur = con.execute(requete)
        noms = [d[0] for d in curseur.description]
        return [dict(zip(noms, ligne)) for ligne in curseur.fetchall()]
    finally:
        con.close()


def attendu_csv(chemin: Path) -> list[dict]:
    return pd.read_csv(chemin, dtype=str, keep_default_na=False).to_dict("records")


def convertir(texte: str, exemple):
    """A hand-written CSV cell in the type of the warehouse's value."""
    if texte == "":
        return None
    if isinstance(exemple, bool):
        return texte.lower() == "true"
    if isinstance(exemple, Decimal):
        return Decimal(texte)
    if isinstance(exemple, dt.date):
        return dt.date.fromisoformat(texte)
    if isinstance(exemple, int):
        return int(texte)
    if isinstance(exemple, float):
        return float(texte)
    return texte


def comparer(obtenu: dict, attendu: dict, cle: str, tolerance: float = 0.0) -> list[str]:
    ecarts = []
    for colonne, texte in attendu.items():
        if colonne not in obtenu:
            continue
        valeur = obtenu[colonne]
        attendue = convertir(texte, valeur) if valeur is not None else (None if texte == "" else texte)
        if isinstance(valeur, float) and attendue is not None:
            if not math.isclose(valeur, attendue, abs_tol=tolerance or 1e-9):
                ecarts.append(f"{cle} {colonne}: {valeur} != {attendue}")
        elif valeur != attendue:
            ecarts.append(f"{cle} {colonne}: {valeur!r} != {texte!r}")
    return ecarts


@pytest.fixture(scope="module")
def entrepots(tmp_path_factory):
    construits = {}

    def obtenir(cas: str, horizon: int | None = None) -> Path:
        if (cas, horizon) not in construits:
            dossier = tmp_path_factory.mktemp(f"{cas}-{horizon or 'defaut'}")
            construits[(cas, horizon)] = construire(BACKTESTS / cas / "exports", dossier, horizon)
        return construits[(cas, horizon)]

    return obtenir


@pytest.mark.parametrize("cas", CAS)
def test_indicateurs_menage_egaux_au_calcul_a_la_main(entrepots, cas):
    entrepot = entrepots(cas)
    obtenus = {
        (r["projet_id"], r["menage_id"]): r
        for r in lignes(entrepot, "select * from fct_indicateurs_menage")
    }
    attendus = attendu_csv(BACKTESTS / cas / "attendu_menages.csv")
    assert sorted(obtenus) == sorted((a["projet_id"], a["menage_id"]) for a in attendus)
    ecarts = []
    for attendu in attendus:
        cle = (attendu["projet_id"], attendu["menage_id"])
        ecarts += comparer(obtenus[cle], attendu, str(cle))
    assert not ecarts, "\n".join(ecarts)


@pytest.mark.parametrize("cas", CAS)
def test_indicateurs_projet_egaux_au_calcul_a_la_main(entrepots, cas):
    entrepot = entrepots(cas)
    obtenus = {
        (r["projet_id"], r["indicateur"]): r
        for r in lignes(entrepot, "select * from fct_indicateurs_projet")
    }
    ecarts = []
    for attendu in attendu_csv(BACKTESTS / cas / "attendu_projet.csv"):
        cle = (attendu["projet_id"], attendu["indicateur"])
        if attendu["n"] in ("", "0"):
            assert cle not in obtenus or obtenus[cle]["n"] == 0, cle
            continue
        obtenu = dict(obtenus[cle])
        if attendu["indicateur"] == "gain_energie_eur":
            attendu = {"n": attendu["n"], "valeur": attendu["valeur"]}
        ecarts += comparer(obtenu, attendu, str(cle), tolerance=5e-5)
    assert not ecarts, "\n".join(ecarts)


@pytest.mark.parametrize("cas", CAS)
def test_entrepot_egal_a_l_oracle(entrepots, cas):
    """Every household value equals the oracle's, computed from the same landing files."""
    entrepot = entrepots(cas)
    tables, dates = oracle.lire_landing(pipeline.dossier_landing(entrepot))
    attendus = oracle.indicateurs_menage(tables, dates)
    obtenus = {
        (r["projet_id"], r["menage_id"]): r
        for r in lignes(entrepot, "select * from fct_indicateurs_menage")
    }
    assert len(obtenus) == len(attendus)
    ecarts = []
    for attendu in attendus.to_dict("records"):
        cle = (attendu["projet_id"], attendu["menage_id"])
        for colonne in oracle.COLONNES_MENAGE:
            if colonne not in obtenus[cle]:
                continue
            a, o = attendu[colonne], obtenus[cle][colonne]
            a = None if a is None or a is pd.NA or (isinstance(a, float) and math.isnan(a)) else a
            if isinstance(a, pd.Timestamp):
                a = a.date()
            if o != a and not (o is not None and a is not None and o == type(o)(a)):
                ecarts.append(f"{cle} {colonne}: entrepôt {o!r}, oracle {a!r}")
    assert not ecarts, "\n".join(ecarts[:30])


def test_cadre_comparaison_a_deux_horizons(entrepots):
    cas = "08_cohorte_horizon"
    attendus = attendu_csv(BACKTESTS / cas / "attendu_cohorte.csv")
    for horizon in sorted({int(a["horizon_mois"]) for a in attendus}):
        entrepot = entrepots(cas, horizon if horizon != 12 else None)
        obtenus = {
            (r["projet_id"], r["menage_id"]): r
            for r in lignes(entrepot, "select * from fct_cohorte_comparaison")
        }
        ceux_ci = [a for a in attendus if int(a["horizon_mois"]) == horizon]
        assert sorted(obtenus) == sorted((a["projet_id"], a["menage_id"]) for a in ceux_ci)
        ecarts = []
        for attendu in ceux_ci:
            cle = (attendu["projet_id"], attendu["menage_id"])
            ecarts += comparer(obtenus[cle], attendu, f"H={horizon} {cle}")
        assert not ecarts, "\n".join(ecarts)


@pytest.mark.parametrize("horizon", [12, 6])
def test_le_panel_tient_exactement_ce_que_lit_le_moteur(entrepots, horizon):
    """fct_panel_mensuel holds every account month the comparison engine reads (households
    of fct_cohorte_comparaison, months m0 + PREMIER_MOIS_PANEL to m0 + H) and no other."""
    entrepot = entrepots("08_cohorte_horizon", horizon if horizon != 12 else None)
    cohorte = {(r["projet_id"], r["menage_id"]) for r in lignes(
        entrepot, "select projet_id, menage_id from fct_cohorte_comparaison")}
    orientation = {(r["projet_id"], r["menage_id"]): r["date_orientation"] for r in lignes(
        entrepot, "select projet_id, menage_id, date_orientation from stg_livraisons__menages")}
    comptes = lignes(entrepot, "select projet_id, menage_id, mois, solde_fin_mois from stg_livraisons__comptes_mensuels")
    attendus = set()
    for c in comptes:
        cle = (c["projet_id"], c["menage_id"])
        m0 = orientation[cle]
        relatif = (c["mois"].year - m0.year) * 12 + c["mois"].month - m0.month
        if cle in cohorte and config.PREMIER_MOIS_PANEL <= relatif <= horizon:
            attendus.add((*cle, c["mois"], relatif, c["solde_fin_mois"]))
    panel = [(r["projet_id"], r["menage_id"], r["mois"], r["mois_relatif"], r["solde_fin_mois"])
             for r in lignes(entrepot, "select * from fct_panel_mensuel")]
    assert 0 < len(attendus) < len(comptes)  # the bounds leave some account months out
    assert len(panel) == len(set(panel))
    assert set(panel) == attendus


def test_nouvelle_extraction_remplace_l_ancienne(entrepots):
    entrepot = entrepots("09_livraisons_successives")
    extractions = lignes(
        entrepot,
        "select projet_id, min(date_extraction) as premiere, max(date_extraction) as derniere "
        "from stg_livraisons__menages group by projet_id order by projet_id",
    )
    assert all(e["premiere"] == e["derniere"] for e in extractions)
    dossiers = sorted((BACKTESTS / "09_livraisons_successives" / "exports" / "zero_expulsion").iterdir())
    plus_recente = dt.date.fromisoformat(dossiers[-1].name)
    assert {e["projet_id"]: e["derniere"] for e in extractions}["zero_expulsion"] == plus_recente


AGREGATS = {"programme": [], "projet": ["projet_id"], "bailleur": ["projet_id", "bailleur_id"],
            "departement": ["projet_id", "departement"], "volet": ["projet_id", "volet"]}


@pytest.mark.parametrize("cas", CAS)
def test_les_agregats_comptent_les_menages_distincts(entrepots, cas):
    """`menages` of every aggregate is the number of distinct (project, household) pairs
    behind it, counted here apart."""
    entrepot = entrepots(cas)
    for niveau, colonnes in AGREGATS.items():
        cles = ", ".join(colonnes + ["indicateur"])
        obtenus = lignes(entrepot, f"select {cles}, menages from fct_indicateurs_{niveau} order by all")
        attendus = lignes(entrepot, f"""
            select {cles}, count(distinct (projet_id, menage_id)) as menages
            from int_indicateurs_contributions group by all order by all""")
        assert obtenus and obtenus == attendus, niveau


def test_un_indicateur_en_double_est_refuse_a_la_compilation(tmp_path, monkeypatch):
    """Each household contributes one row to an indicator: an indicator listed twice would
    count its households twice, and stops the build."""
    import shutil

    from capitalisation import config, entrepot

    projet = tmp_path / "dbt"
    for nom in ("dbt_project.yml", "profiles.yml"):
        (projet / nom).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(config.DBT_PROJET / nom, projet / nom)
    for dossier in ("models", "macros", "seeds", "analyses", "tests/dbt"):
        shutil.copytree(config.DBT_PROJET / dossier, projet / dossier)
    modele = projet / "models" / "intermediate" / "int_indicateurs_contributions.sql"
    texte = modele.read_text(encoding="utf-8")
    double = "    ('dette_entree_eur', 'adhesion and en_dette_entree', 'dette_entree'),\n"
    assert double in texte
    modele.write_text(texte.replace(double, double * 2), encoding="utf-8")
    monkeypatch.setattr(config, "DBT_PROJET", projet)
    resultat = entrepot.construire(tmp_path / "entrepot.duckdb", tmp_path / "landing", tmp_path / "travail",
                                   commande="compile", selection="int_indicateurs_contributions")
    assert not resultat.succes
    assert "un indicateur apparaît deux fois" in " ".join(resultat.echecs)
