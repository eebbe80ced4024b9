"""The DuckDB / Spark warehouse comparison (capitalisation/spark/comparaison.py), without Spark.

The tables are built the way both engines' clients return them (a DuckDB warehouse read
through duckdb; Spark's rows imitated by objects with asDict, as pyspark's Row).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from capitalisation.spark import comparaison
from capitalisation.spark.__main__ import tables_duckdb


class Ligne(tuple):
    """Stands for pyspark.sql.Row: a tuple of its values, its fields as attributes, asDict()."""

    def __new__(cls, **champs):
        ligne = super().__new__(cls, champs.values())
        ligne.champs = champs
        return ligne

    def asDict(self):  # noqa: N802 - the name pyspark gives it
        return self.champs

    def __getattr__(self, nom):
        try:
            return self.__dict__["champs"][nom]
        except KeyError:
            raise AttributeError(nom) from None


COLONNES = ("projet_id", "n", "total_eur", "valeur", "adhesion", "date_extraction", "fichiers")


def lignes():
    return [
        ("p1", 10, Decimal("1234.56"), 0.3, True, dt.date(2020, 6, 30),
         [{"fichier": "menages.csv", "lignes": 10}]),
        ("p2", 12, Decimal("-0.01"), 1 / 3, False, dt.date(2020, 6, 30), []),
        ("p3", None, None, None, None, None, None),
    ]


def table(modifier=None):
    donnees = [list(ligne) for ligne in lignes()]
    if modifier:
        modifier(donnees)
    return comparaison.Table.de(COLONNES, donnees)


def test_identical_tables_in_another_order_are_equal():
    spark = [list(ligne) for ligne in reversed(lignes())]
    spark[2][6] = [Ligne(lignes=10, fichier="menages.csv")]  # Spark's record, its own field order
    assert comparaison.comparer_tables("t", table(), comparaison.Table.de(COLONNES, spark)) == []


@pytest.mark.parametrize("modifier, colonne", [
    (lambda d: d[0].__setitem__(2, Decimal("1234.57")), "total_eur"),      # one cent
    (lambda d: d[0].__setitem__(2, 1234.56), "total_eur"),                 # a float, not a decimal
    (lambda d: d[1].__setitem__(3, 1 / 3 + 1e-6), "valeur"),               # beyond 1e-9
    (lambda d: d[0].__setitem__(4, 1), "adhesion"),                        # 1 is not true
    (lambda d: d[2].__setitem__(1, 0), "n"),                               # null is not 0
    (lambda d: d[0].__setitem__(6, [{"fichier": "menages.csv", "lignes": 11}]), "fichiers"),
    (lambda d: d[0].__setitem__(0, "P1"), "projet_id"),
])
def test_a_value_changed_on_one_engine_is_a_difference(modifier, colonne):
    differences = comparaison.comparer_tables("fct_x", table(), table(modifier))
    assert len(differences) == 1
    assert differences[0].startswith("fct_x : ligne ")
    assert differences[0].endswith(f"diffère sur {colonne}")


def test_doubles_within_the_tolerance_are_equal():
    proche = table(lambda d: d[1].__setitem__(3, 1 / 3 + 1e-12))
    assert comparaison.comparer_tables("t", table(), proche) == []


def test_a_missing_row_a_missing_column_and_a_missing_table_are_differences():
    moins = table(lambda d: d.pop())
    assert comparaison.comparer_tables("t", table(), moins) == ["t : 3 ligne(s) sur DuckDB, 2 sur Spark"]
    sans_colonne = comparaison.Table.de(COLONNES[:-1], [ligne[:-1] for ligne in lignes()])
    assert comparaison.comparer_tables("t", table(), sans_colonne) == [
        "t : colonnes différentes (seulement DuckDB : fichiers ; seulement Spark : —)"]
    assert comparaison.comparer_entrepots({"a": table(), "b": table()}, {"a": table()}) == [
        "b : absente de Spark"]


def test_a_table_changed_in_one_warehouse_only_fails_the_comparison(tmp_path):
    """Two DuckDB files built alike, then one row changed in one of them by a cent."""
    fichiers = []
    for nom in ("a", "b"):
        chemin = tmp_path / f"{nom}.duckdb"
        con = duckdb.connect(str(chemin))
        con.execute("create table fct_couts(projet_id varchar, total_eur decimal(18, 2), part double)")
        con.execute("insert into fct_couts values ('p1', 10.05, 0.25), ('p2', 7.10, 0.75)")
        con.execute("create view v_couts as select projet_id, total_eur * 2 as double_eur from fct_couts")
        con.close()
        fichiers.append(chemin)
    assert comparaison.comparer_entrepots(tables_duckdb(fichiers[0]), tables_duckdb(fichiers[1])) == []
    con = duckdb.connect(str(fichiers[1]))
    con.execute("update fct_couts set total_eur = 7.11 where projet_id = 'p2'")
    con.close()
    differences = comparaison.comparer_entrepots(tables_duckdb(fichiers[0]), tables_duckdb(fichiers[1]))
    assert differences == ["fct_couts : ligne 2 (après tri) diffère sur total_eur",
                           "v_couts : ligne 2 (après tri) diffère sur double_eur"]


def test_landing_tables_are_declared_with_the_contract_types_in_spark_spelling():
    from capitalisation import contrat
    from capitalisation.spark import construction

    instructions = construction.instructions_sources("s3a://partage/landing/", "s3a://partage/journal")
    menages = next(i for i in instructions if i.startswith("create table livraisons.menages "))
    assert menages.endswith("using parquet location 's3a://partage/landing/menages'")
    assert "`loyer_mensuel` decimal(14,2)" in menages and "`ligne_source` bigint" in menages
    assert "varchar" not in " ".join(instructions)
    crees = {i.split()[2] for i in instructions if i.startswith("create table")}
    assert crees == {f"livraisons.{nom}" for nom in contrat.TABLES} | {"livraisons.journal"}
    journal = instructions[-1]
    assert "horodatage timestamp" in journal and journal.endswith("location 's3a://partage/journal'")


class SessionSpark:
    """Stands for a SparkSession: `show tables` rows and tables with columns and collect()."""

    class Trame:
        def __init__(self, colonnes, lignes):
            self.columns, self.lignes = list(colonnes), lignes

        def collect(self):
            return [Ligne(**dict(zip(self.columns, ligne))) for ligne in self.lignes]

    def __init__(self, tables, temporaires=()):
        self.tables, self.temporaires = tables, set(temporaires)

    def sql(self, requete):
        assert requete == "show tables in capitalisation"
        noms = list(self.tables) + sorted(self.temporaires)
        return self.Trame(["tableName", "isTemporary"], [(n, n in self.temporaires) for n in noms])

    def table(self, nom):
        schema, _, table = nom.partition(".")
        assert schema == "capitalisation" and table not in self.temporaires
        colonnes, lignes = self.tables[table]
        return self.Trame(colonnes, lignes)


def test_spark_tables_compared_with_duckdb_and_a_cent_changed_on_spark_fails(tmp_path):
    """Spark's side is read as pyspark returns it (Rows, Decimal), temporary views left out."""
    from capitalisation.spark.__main__ import tables_spark

    chemin = tmp_path / "duckdb.duckdb"
    con = duckdb.connect(str(chemin))
    con.execute("create table FCT_COUTS(projet_id varchar, total_eur decimal(18, 2), part double)")
    con.execute("insert into FCT_COUTS values ('p1', 10.05, 0.25), ('p2', 7.10, 0.75)")
    con.close()
    colonnes = ("projet_id", "total_eur", "part")
    pareille = {"fct_couts": (colonnes, [("p2", Decimal("7.10"), 0.75), ("p1", Decimal("10.05"), 0.25)])}
    spark = SessionSpark(pareille, temporaires=["_spark_fct_x"])
    assert set(tables_spark(spark)) == {"fct_couts"}
    assert comparaison.comparer_entrepots(tables_duckdb(chemin), tables_spark(spark)) == []
    changee = {"fct_couts": (colonnes, [("p2", Decimal("7.11"), 0.75), ("p1", Decimal("10.05"), 0.25)])}
    assert comparaison.comparer_entrepots(tables_duckdb(chemin), tables_spark(SessionSpark(changee))) == [
        "fct_couts : ligne 2 (après tri) diffère sur total_eur"]
