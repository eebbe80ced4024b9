"""`python -m capitalisation.spark`: the same project on DuckDB and on Spark, compared.

1. write the demo deliveries, validate and land them, build the DuckDB warehouse
   (`capitalisation demo` then `capitalisation run --sans-fiches`, in `--dossier`);
2. build the same dbt project on local Spark from the same landing files and journal,
   with the comparisons computed over Spark's marts;
3. compare every table of the DuckDB warehouse with Spark's: exit 1 on any difference.

`--reprendre` skips step 1 when its warehouse is there (to rerun the Spark side only).
`--instructions-sources LANDING JOURNAL` only prints the SQL that declares the landing
tables and the journal over those folders (for a cluster: see the README).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from capitalisation import config
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.spark import comparaison, construction


def tables_duckdb(entrepot: Path) -> dict[str, comparaison.Table]:
    import duckdb

    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        noms = [n for (n,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()]
        tables = {}
        for nom in noms:
            resultat = con.execute(f'select * from main."{nom}"')
            colonnes = [d[0] for d in resultat.description]
            tables[nom.lower()] = comparaison.Table.de(colonnes, resultat.fetchall())
        return tables
    finally:
        con.close()


def tables_spark(spark) -> dict[str, comparaison.Table]:
    tables = {}
    for ligne in spark.sql(f"show tables in {construction.SCHEMA}").collect():
        if ligne.isTemporary:
            continue
        trame = spark.table(f"{construction.SCHEMA}.{ligne.tableName}")
        tables[ligne.tableName.lower()] = comparaison.Table.de(trame.columns, trame.collect())
    return tables


def construire_duckdb(dossier: Path) -> Path:
    from capitalisation.demo import generer_demo
    from capitalisation.pipeline import executer

    exports = dossier / "exports"
    entrepot = dossier / "capitalisation.duckdb"
    shutil.rmtree(dossier, ignore_errors=True)
    generer_demo(exports, graine=config.GRAINE_DEMO)
    statut = executer(exports, entrepot, fiches=False, rapports=dossier / "validation",
                      quarantaine=dossier / "quarantaine")
    if statut != 0:
        raise ErreurUtilisateur("une livraison de démonstration a été refusée : voir les rapports "
                                f"dans {dossier / 'validation'}")
    return entrepot


def main(argv: list[str] | None = None) -> int:
    parseur = argparse.ArgumentParser(
        prog="python -m capitalisation.spark",
        description="Construit l'entrepôt de démonstration sur DuckDB puis sur Spark (local) à "
        "partir des mêmes fichiers d'atterrissage, et compare toutes les tables.")
    parseur.add_argument("--dossier", default=str(config.RACINE / "warehouse" / "spark"),
                         help="dossier de travail (livraisons, atterrissage, entrepôts)")
    parseur.add_argument("--reprendre", action="store_true",
                         help="réutilise l'entrepôt DuckDB déjà construit dans le dossier")
    parseur.add_argument("--instructions-sources", nargs=2, metavar=("ATTERRISSAGE", "JOURNAL"),
                         help="affiche seulement le SQL qui déclare les tables d'atterrissage et le "
                         "journal sur ces dossiers (stockage partagé d'un cluster) et s'arrête")
    args = parseur.parse_args(argv)
    if args.instructions_sources:
        print(";\n".join(construction.instructions_sources(*args.instructions_sources)) + ";")
        return 0
    dossier = Path(args.dossier).resolve()
    debut = time.monotonic()
    try:
        entrepot = dossier / "capitalisation.duckdb"
        if not (args.reprendre and entrepot.exists()):
            entrepot = construire_duckdb(dossier)
        print(f"DuckDB : entrepôt construit en {time.monotonic() - debut:.0f} s", flush=True)
        spark_dossier = dossier / "spark"
        shutil.rmtree(spark_dossier, ignore_errors=True)
        spark = construction.session(spark_dossier)
        try:
            construction.construire(dossier / "landing", dossier / "journal", spark_dossier, spark)
            differences = comparaison.comparer_entrepots(tables_duckdb(entrepot), tables_spark(spark))
            comparees = len(tables_duckdb(entrepot))
        finally:
            spark.stop()
    except ErreurUtilisateur as erreur:
        print(f"Erreur : {erreur}", file=sys.stderr)
        return erreur.code_sortie
    except KeyboardInterrupt:
        print("Interrompu : la comparaison Spark / DuckDB n'a pas abouti.", file=sys.stderr)
        return 130
    duree = time.monotonic() - debut
    if differences:
        print(f"Spark et DuckDB diffèrent ({len(differences)} différence(s)) :", file=sys.stderr)
        for difference in differences:
            print(f"  {difference}", file=sys.stderr)
        return 1
    print(f"Spark et DuckDB donnent les mêmes {comparees} tables ({duree:.0f} s en tout).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
