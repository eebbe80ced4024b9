"""The secrecy decision, one row per canonical cell (published, or `implicite`: an unpublished
complement n − k or remainder of a population): its number, how many published figures show it
(`poids`), whether the project published it itself (`publique`), whether it is secret and why
(`motif`: `primaire`, `paire`, `precedent`, `secondaire` or `borne`, with the round `tour_secret`).

The choice is made in Python (capitalisation/publication/secret.py, rules in its docstring and in
macros/secret_statistique.sql): rounds of secondary suppression for the public and for each
landlord, which no SQL planner unrolls well. The previous publication's decisions are read from
the warehouse being replaced (dbt var `entrepot_precedent`).
"""

from pathlib import Path


def precedentes(chemin: str):
    """The secrecy decisions of the publication in place (the dbt var `entrepot_precedent`, set
    by the pipeline to the warehouse being replaced), or None."""
    import duckdb

    if not chemin or not Path(chemin).is_file():
        return None
    con = duckdb.connect(str(chemin), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        if "int_secret_cellules" not in tables:
            return None
        return con.execute("select cellule_id, valeur, secrete from int_secret_cellules").df()
    finally:
        con.close()


def model(dbt, session):
    from capitalisation.publication.secret import decider

    dbt.config(materialized="table")
    precedent = dbt.config.get("entrepot_precedent")
    return decider(
        dbt.ref("int_secret_occurrences").df(),
        dbt.ref("int_secret_proportions").df(),
        dbt.ref("int_secret_equations").df(),
        seuil_effectif=int(dbt.config.get("seuil_effectif")),
        precedentes=precedentes(precedent or ""),
    )
