"""One stage of the benchmark, run in its own process so that its peak memory is its own.

    python -m capitalisation.bench.etapes ETAPE DOSSIER

DOSSIER holds `exports/` (the generated deliveries), `dbt/` (a copy of the dbt project with
the benchmark's catalogue), and receives `landing/` and `entrepot.duckdb`. The stage prints
one JSON line: what it processed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path


def plancher(dossier: Path) -> dict:
    """The floor: DuckDB merely reading every delivery file once, as text."""
    import duckdb

    con = duckdb.connect()
    con.execute("set memory_limit = '4GB'")
    lignes = 0
    for table in ("menages", "comptes_mensuels", "evenements", "contacts"):
        for separateur in (",", ";"):
            fichiers = [
                str(f) for f in sorted((dossier / "exports").glob(f"*/*/{table}.csv"))
                if f.open().readline().count(separateur) > 0
            ]
            if fichiers:
                (n,) = con.execute(
                    "select count(*) from read_csv(?, delim = ?, header = true, all_varchar = true)",
                    [fichiers, separateur],
                ).fetchone()
                lignes += n
    con.close()
    return {"lignes": lignes}


def borne_lecture(dossier: Path) -> dict:
    """What writing the landing costs at the least: DuckDB reading every delivery file with
    its columns typed by DuckDB itself (the file's own date format and decimal separator)
    and writing the Parquet files, with no check, no conversion and no line numbers. The
    files are grouped as the floor groups them, a group per table, separator and formats."""
    import csv

    import duckdb

    from capitalisation import contrat
    from capitalisation import lecture as lecteur

    groupes: dict[tuple, list[str]] = {}
    for table in contrat.TABLES.values():
        for fichier in sorted((dossier / "exports").glob(f"*/*/{table.nom}.csv")):
            entete = fichier.open(encoding="utf-8-sig").readline()
            separateur = lecteur.detecter_separateur(entete, fichier.name)
            noms = [lecteur.normaliser_nom(n) for n in next(csv.reader([entete], delimiter=separateur))]
            position = {nom: i for i, nom in enumerate(noms)}
            formats = lecteur.detecter_formats(fichier, separateur, table, position)
            groupes.setdefault((table.nom, separateur, formats, tuple(noms)), []).append(str(fichier))
    sortie = dossier / "borne_lecture"
    sortie.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute("set memory_limit = '4GB'")
    lignes = 0
    for indice, ((nom, separateur, formats, noms), fichiers) in enumerate(sorted(groupes.items(), key=str)):
        table = contrat.TABLES[nom]
        formats = formats or ("%Y-%m-%d", ".", None)
        natifs, format_date = lecteur.types_natifs(
            {table.colonne(n).type for n in noms if n in table.noms_colonnes}, formats)
        natifs = {**natifs, contrat.MONTANT: "DECIMAL(14, 2)"}  # no third-decimal check here
        decimale = formats[1]
        colonnes = ", ".join(
            f"'{n}': '{natifs.get(table.colonne(n).type, 'VARCHAR') if n in table.noms_colonnes else 'VARCHAR'}'"
            for n in noms)
        (n,) = con.execute(
            f"copy (select * from read_csv(?, delim = ?, header = true, auto_detect = false, columns = {{{colonnes}}}, "
            f"decimal_separator = ?, dateformat = ?)) to '{sortie / f'{indice}.parquet'}' "
            "(format parquet, compression zstd)",
            [fichiers, separateur, decimale, format_date],
        ).fetchone()
        lignes += n
    con.close()
    return {"lignes": lignes}


def lecture(dossier: Path) -> dict:
    """Reading and normalising every delivery into typed landing Parquet files, one
    delivery per core as `capitalisation run` does."""
    from capitalisation import lecture as lecteur
    from capitalisation.validation.commande import en_parallele

    landing = dossier / "landing"
    lecteur.ecrire_schemas_vides(landing)
    livraisons = lecteur.livraisons_en_usage(lecteur.trouver_livraisons(dossier / "exports"))
    lues = en_parallele(livraisons, lambda livraison, part: lecteur.lire_livraison(livraison, landing, part),
                        "Lecture")
    return {"lignes": sum(t.lignes for lue in lues for t in lue.tables.values())}


def validation(dossier: Path) -> dict:
    """The rules of expectations/ on the landed tables (reading is timed apart), one
    delivery per core as `capitalisation run` does."""
    from capitalisation import lecture as lecteur
    from capitalisation.validation.commande import en_parallele
    from capitalisation.validation.controle import juger_landing

    livraisons = lecteur.livraisons_en_usage(lecteur.trouver_livraisons(dossier / "exports"))
    resultats = en_parallele(
        livraisons, lambda livraison, part: juger_landing(livraison, dossier / "landing", part), "Validation"
    )
    return {"regles": sum(r.regles_verifiees for r in resultats),
            "erreurs": sum(len(r.erreurs) for r in resultats)}


def _dbt(dossier: Path, **options) -> dict:
    from capitalisation import config, entrepot

    with tempfile.TemporaryDirectory() as travail:
        resultat = entrepot.construire(
            dossier / "entrepot.duckdb", dossier / "landing", Path(travail),
            variables=config.variables_dbt(), **options,
        )
    if not resultat.succes:
        raise SystemExit("échec de dbt : " + " | ".join(resultat.echecs[:5]))
    return {"noeuds": resultat.noeuds}


def analyse_dbt(dossier: Path) -> dict:
    """dbt parsing the project into the warehouse's target, as the first run does."""
    return _dbt(dossier, commande="parse")


def dbt(dossier: Path) -> dict:
    """The dbt build of the warehouse (staging, intermediate, marts, their tests)."""
    from capitalisation import entrepot

    return _dbt(dossier, exclusion=entrepot.PUBLICATION)


def comparaisons(dossier: Path) -> dict:
    """Treatment versus control for every project with a control cohort."""
    import duckdb

    from capitalisation import config
    from capitalisation.evaluation.entrepot import evaluer_entrepot

    con = duckdb.connect(str(dossier / "entrepot.duckdb"))
    try:
        return evaluer_entrepot(con, horizon_mois=config.HORIZON_MOIS)
    finally:
        con.close()


def publication(dossier: Path) -> dict:
    """The publication layer (statistical secrecy)."""
    from capitalisation import entrepot

    return _dbt(dossier, selection=entrepot.PUBLICATION)


def fiches(dossier: Path) -> dict:
    """Every project's fiche, HTML and PDF, rendered in parallel."""
    import shutil

    from capitalisation import config
    from capitalisation.publication.fiches import rendre_fiches

    # the benchmark's projects borrow the texts of a demo project's fiche
    narratifs = dossier / "narratifs"
    shutil.copytree(config.RACINE / "reports" / "narratifs", narratifs, dirs_exist_ok=True)
    modele = narratifs / "zero_expulsion.yml"
    for projet in sorted(p.name for p in (dossier / "exports").iterdir()):
        shutil.copy(modele, narratifs / f"{projet}.yml")
    bilan = rendre_fiches(dossier / "entrepot.duckdb", dossier / "site", formats_demandes=("html", "pdf"),
                          forcer=True, narratifs=narratifs)
    return {"fiches": len(bilan.rendues)}


def livraison_seule(dossier: Path) -> dict:
    """Reading and validating one delivery as `capitalisation run` does (one project)."""
    from capitalisation import lecture as lecteur
    from capitalisation.validation.controle import valider_livraison

    (livraison,) = lecteur.trouver_livraisons(dossier / "exports")
    with tempfile.TemporaryDirectory() as travail:
        resultat = valider_livraison(livraison, Path(travail), dossier / "exports")
    return {
        "lignes": sum(resultat.lignes_par_table().values()),
        "comptes_mensuels": resultat.lignes_par_table().get("comptes_mensuels", 0),
        "statut": resultat.statut,
        "regles": sorted({e.code for e in resultat.erreurs}),
    }


def pathologique(dossier: Path) -> dict:
    """The same, on a delivery made to break the validator (see bench.pathologiques)."""
    return livraison_seule(dossier)


ETAPES = {
    "livraison_seule": livraison_seule,
    "pathologique": pathologique,
    "plancher": plancher,
    "borne_lecture": borne_lecture,
    "lecture": lecture,
    "validation": validation,
    "analyse_dbt": analyse_dbt,
    "dbt": dbt,
    "comparaisons": comparaisons,
    "publication": publication,
    "fiches": fiches,
}


def main(argv: list[str]) -> int:
    etape, dossier = argv[0], Path(argv[1])
    from capitalisation import config

    config.DBT_PROJET = dossier / "dbt"
    resultat = ETAPES[etape](dossier)
    print(json.dumps(resultat, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
