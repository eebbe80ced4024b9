"""The dbt project built on Apache Spark (dbt-spark, session mode) from the landing files.

The steps mirror `pipeline.construire_entrepot`: dbt builds the marts, the comparisons
are computed and written as tables, dbt builds the publication layer. The landing Parquet
files and the journal's JSON files are declared as tables of a `livraisons` database,
with the types of the data contract (a file that lacks a column gives nulls, as DuckDB's
union_by_name does). Spark runs inside this process (`spark.master` local by default).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from capitalisation import config, contrat, lecture
from capitalisation.evaluation.entrepot import SCHEMAS

# The profile's spark target writes the models into this database (profiles.yml).
SCHEMA = "capitalisation"
SOURCES = "livraisons"

_TYPES_SPARK = {"varchar": "string", "integer": "int"}


def type_spark(type_sql: str) -> str:
    """A DuckDB type of the landing or evaluation tables in Spark's spelling."""
    return _TYPES_SPARK.get(type_sql, type_sql).replace(" ", "")


def colonnes_landing(table: contrat.Table) -> str:
    return ", ".join(f"`{nom}` {type_spark(type_)}" for nom, type_ in lecture.schema_sql(table))


# The journal's entries (validation/journal.py), as stg_livraisons__journal types them.
COLONNES_JOURNAL = (
    "evenement_id string, execution_id string, horodatage timestamp, projet_id string, "
    "date_extraction date, dossier string, statut string, "
    "fichiers array<struct<fichier: string, sha256: string, lignes: bigint>>, raisons array<string>"
)


def _emplacement(chemin) -> str:
    """A local folder made absolute; a URI of shared storage (s3a://, abfss://, dbfs:/) as is."""
    texte = str(chemin)
    return texte.rstrip("/") if ":/" in texte else str(Path(texte).resolve())


def instructions_sources(landing, journal) -> list[str]:
    """The SQL that declares the landing tables and the journal over their folders."""
    instructions = [f"create database if not exists {SOURCES}"]
    for table in contrat.TABLES.values():
        instructions += [
            f"drop table if exists {SOURCES}.{table.nom}",
            f"create table {SOURCES}.{table.nom} ({colonnes_landing(table)}) using parquet "
            f"location '{_emplacement(landing)}/{table.nom}'",
        ]
    instructions += [
        f"drop table if exists {SOURCES}.journal",
        f"create table {SOURCES}.journal ({COLONNES_JOURNAL}) using json "
        f"options (multiLine 'true') location '{_emplacement(journal)}'",
    ]
    return instructions


def session(dossier: Path, maitre: str = "local[2]"):
    """A local Spark session with its metastore and warehouse under `dossier`."""
    from pyspark.sql import SparkSession

    dossier = Path(dossier).resolve()
    dossier.mkdir(parents=True, exist_ok=True)
    # Timestamps without a zone (the journal's) read and come back as written.
    os.environ["TZ"] = "UTC"
    time.tzset()
    spark = (
        SparkSession.builder.master(maitre)
        .appName("capitalisation")
        .enableHiveSupport()
        .config("spark.sql.warehouse.dir", str(dossier / "spark-warehouse"))
        .config("spark.hadoop.javax.jdo.option.ConnectionURL",
                f"jdbc:derby:;databaseName={dossier / 'metastore_db'};create=true")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={dossier}")
        .config("spark.driver.memory", "3g")
        .config("spark.sql.session.timeZone", "UTC")
        # One shuffle partition per core of local[2]: the tables are small, more only add tasks.
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.legacy.createHiveTableByDefault", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def declarer_sources(spark, landing: Path, journal: Path) -> None:
    Path(journal).mkdir(parents=True, exist_ok=True)
    for instruction in instructions_sources(landing, journal):
        spark.sql(instruction)


def ecrire_evaluation(spark, con) -> dict[str, int]:
    """Run the comparisons over Spark's marts (copied into DuckDB in memory), write them back."""
    from capitalisation.evaluation.entrepot import evaluer_entrepot

    for nom in ("fct_cohorte_comparaison", "fct_panel_mensuel"):
        flux = spark.table(f"{SCHEMA}.{nom}").toArrow()
        con.register(f"_spark_{nom}", flux)
        con.execute(f"create or replace table main.{nom} as select * from _spark_{nom}")
        con.unregister(f"_spark_{nom}")
    comptes = evaluer_entrepot(con, horizon_mois=config.HORIZON_MOIS)
    for nom, schema in SCHEMAS.items():
        lignes = con.execute(f"select {', '.join(schema)} from main.{nom}").fetchall()
        ddl = ", ".join(f"`{col}` {type_spark(type_)}" for col, type_ in schema.items())
        spark.createDataFrame(lignes, schema=ddl).write.mode("overwrite").saveAsTable(f"{SCHEMA}.{nom}")
    return comptes


def modeles_python(projet: Path) -> list[str]:
    """The dbt Python models of the project (dbt-spark's session mode runs none)."""
    return sorted(p.stem for p in (Path(projet) / "models").rglob("*.py"))


class _Relation:
    def __init__(self, spark, con, nom: str):
        self.spark, self.con, self.nom = spark, con, nom

    def df(self):
        """The table as dbt-duckdb hands it to a Python model (DuckDB's pandas conversion)."""
        return self.con.from_arrow(self.spark.table(f"{SCHEMA}.{self.nom}").toArrow()).df()


class _Configuration:
    def __init__(self, valeurs: dict):
        self.valeurs = valeurs

    def __call__(self, **_options):
        return ""

    def get(self, cle, defaut=None):
        return self.valeurs.get(cle, defaut)


class _Dbt:
    """What a Python model receives as `dbt`: ref(...).df() and config.get(...)."""

    def __init__(self, spark, con, configuration: dict):
        self.spark, self.con = spark, con
        self.config = _Configuration(configuration)

    def ref(self, *noms, **_options):
        return _Relation(self.spark, self.con, noms[-1])


def executer_modele_python(spark, con, noeud: dict) -> int:
    """Run a Python model's `model(dbt, session)` in this process, its frame saved as a table.

    The frame goes through DuckDB (as dbt-duckdb materialises it) then Arrow into Spark, so
    that both warehouses get the same column types from the same frame.
    """
    espace: dict = {}
    exec(compile(noeud["raw_code"], noeud["original_file_path"], "exec"), espace)
    trame = espace["model"](_Dbt(spark, con, noeud.get("config", {})), None)
    con.register("_modele_python", trame)
    try:
        table = con.sql("select * from _modele_python").to_arrow_table()
    finally:
        con.unregister("_modele_python")
    spark.createDataFrame(table).write.mode("overwrite").saveAsTable(f"{SCHEMA}.{noeud['name']}")
    return table.num_rows


def _etapes(python: list[str]) -> list[tuple[str, dict | None]]:
    """dbt selections in build order; None marks the comparisons, "python" the Python models."""
    from capitalisation import entrepot as dbt_entrepot

    apres_python = " ".join(f"{nom}+" for nom in python)
    etapes = [
        ("marts", {"exclusion": " ".join([dbt_entrepot.PUBLICATION, apres_python]).strip()}),
        ("comparaisons", None),
        ("publication", {"selection": dbt_entrepot.PUBLICATION, "exclusion": apres_python or None}),
    ]
    if python:
        etapes += [
            ("python", {}),
            ("publication (suite)", {
                "selection": apres_python,
                "exclusion": " ".join(f"{nom},resource_type:model" for nom in python)}),
        ]
    return etapes


def construire(landing: Path, journal: Path, dossier: Path, spark=None) -> None:
    """Build the whole project on Spark from `landing`; raises EchecConstruction on failure."""
    import json

    import duckdb

    from capitalisation import entrepot as dbt_entrepot

    spark = spark or session(dossier)
    declarer_sources(spark, landing, journal)
    variables = config.variables_dbt()
    python = modeles_python(config.DBT_PROJET)
    manifeste = None
    for titre, options in _etapes(python):
        debut = time.monotonic()
        if options is None or titre == "python":
            con = duckdb.connect()
            try:
                if options is None:
                    ecrire_evaluation(spark, con)
                else:
                    noeuds = json.loads(manifeste.read_text(encoding="utf-8"))["nodes"]
                    for noeud in noeuds.values():
                        if noeud["resource_type"] == "model" and noeud["name"] in python:
                            executer_modele_python(spark, con, noeud)
            finally:
                con.close()
        else:
            travail = Path(dossier) / f"dbt-{len(titre)}-{titre.split()[0]}"
            # dbt's target folder is kept beside this (unused) warehouse path, under dossier.
            entrepot = Path(dossier) / "entrepot-inutilise"
            resultat = dbt_entrepot.construire(
                entrepot, landing, travail, variables=variables, cible="spark",
                tests_unitaires=True, **options)
            manifeste = dbt_entrepot.cible_dbt(entrepot) / "manifest.json"
            if not resultat.succes:
                raise dbt_entrepot.EchecConstruction(
                    f"la construction sur Spark a échoué ({titre}) :\n  "
                    + "\n  ".join(resultat.echecs[:20]))
        print(f"Spark : {titre} en {time.monotonic() - debut:.0f} s", flush=True)
