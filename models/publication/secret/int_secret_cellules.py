"""The secrecy decision, one row per canonical cell (published, or `implicite`: an unpublished
complement n − k or remainder of a population): its number, how many published figures show it
(`poids`), whether the project published it itself (`publique`), whether it is secret and why
(`motif`: `primaire`, `paire`, `precedent`, `secondaire` or `borne`, with the round `tour_secret`).

The choice is made in Python (capitalisation/publication/secret.py, rules in its docstring and in
macros/secret_statistique.sql): rounds of secondary suppression for the public and for each
landlord, which no SQL planner unrolls well. The previous publication's decisions are read from
the warehouse being replaced, beside the one being built.
"""

import os
from pathlib import Path


def precedentes(session):
    import duckdb

    en_construction = Path(os.environ.get("CAPITALISATION_ENTREPOT", ""))
    nom = en_construction.name
    if not (nom.startswith(".") and nom.endswith(".construction")):
        return None
    precedent = en_construction.with_name(nom[1:-len(".construction")])
    if not precedent.is_file():
        return None
    con = duckdb.connect(str(precedent), read_only=True)
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
    return decider(
        dbt.ref("int_secret_occurrences").df(),
        dbt.ref("int_secret_proportions").df(),
        dbt.ref("int_secret_equations").df(),
        seuil_effectif=int(dbt.config.get("seuil_effectif")),
        precedentes=precedentes(session),
    )
