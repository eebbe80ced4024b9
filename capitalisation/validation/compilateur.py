"""The row-level expectations of the suites compiled into DuckDB SQL.

Great Expectations stays the reference engine (`regles.MoteurGE`, and a test that runs
both engines over the whole bad-delivery corpus); DuckDB runs the same rules on the whole
landing file at once:

1. one aggregate per table, one `count_if` per rule, counts its failing rows;
2. for the failed rules only, a second pass fetches their first line numbers.

Each expectation type is translated as Great Expectations' pandas engine evaluates it
(nulls skipped by the value rules, `row_condition` restricting the rows, `ignore_row_if`
for the column pairs…). A suite holding an expectation type, a parameter or a row
condition this module does not know is refused when the suites are loaded: a rule is
never skipped.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb

LIGNES_CITEES = 10
_DATE_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RegleNonCompilable(ValueError):
    """A rule of a suite that the SQL engine cannot run exactly as Great Expectations does."""


def _ident(nom: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", nom):
        raise RegleNonCompilable(f"nom de colonne inattendu : {nom!r}")
    return f'"{nom}"'


def _valeur(valeur) -> str:
    """A SQL literal for a bound or a member of a value set."""
    if isinstance(valeur, bool):
        return "true" if valeur else "false"
    if isinstance(valeur, int | float):
        return repr(valeur)
    if isinstance(valeur, str) and _DATE_ISO.match(valeur):
        dt.date.fromisoformat(valeur)
        return f"date '{valeur}'"
    if isinstance(valeur, str):
        return "'" + valeur.replace("'", "''") + "'"
    raise RegleNonCompilable(f"valeur inattendue : {valeur!r}")


def _resoudre(valeur, parametres: dict):
    if isinstance(valeur, dict):
        if set(valeur) != {"$PARAMETER"}:
            raise RegleNonCompilable(f"paramètre inattendu : {valeur!r}")
        nom = valeur["$PARAMETER"]
        if parametres is None:
            return []  # compiled at start-up without the run's parameters: shape check only
        if nom not in parametres:
            raise RegleNonCompilable(f"paramètre inconnu : {nom}")
        return parametres[nom]
    return valeur


def _condition_ligne(condition) -> str | None:
    """GE 1.x structured row conditions (comparison, nullity)."""
    if condition is None:
        return None
    if not isinstance(condition, dict):
        raise RegleNonCompilable(f"row_condition inattendue : {condition!r}")
    colonne = _ident(condition.get("column", {}).get("name", ""))
    if condition.get("type") == "comparison":
        operateurs = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
        if condition.get("operator") not in operateurs:
            raise RegleNonCompilable(f"opérateur inattendu : {condition.get('operator')!r}")
        return f"{colonne} {operateurs[condition['operator']]} {_valeur(condition['parameter'])}"
    if condition.get("type") == "nullity":
        return f"{colonne} is {'' if condition.get('is_null') else 'not '}null"
    raise RegleNonCompilable(f"row_condition inattendue : {condition!r}")


_CLES_COMMUNES = {"column", "row_condition", "condition_parser", "mostly"}


def _bornes(colonne: str, kwargs: dict, expression: str | None = None) -> str:
    expression = expression or colonne
    morceaux = []
    if kwargs.get("min_value") is not None:
        operateur = "<=" if kwargs.get("strict_min") else "<"
        morceaux.append(f"{expression} {operateur} {_valeur(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        operateur = ">=" if kwargs.get("strict_max") else ">"
        morceaux.append(f"{expression} {operateur} {_valeur(kwargs['max_value'])}")
    if not morceaux:
        raise RegleNonCompilable("bornes absentes")
    return f"{colonne} is not null and ({' or '.join(morceaux)})"


def _verifier_cles(kwargs: dict, permises: set[str]) -> None:
    inconnues = set(kwargs) - permises
    if inconnues:
        raise RegleNonCompilable("paramètres non pris en charge : " + ", ".join(sorted(inconnues)))
    if kwargs.get("mostly", 1) != 1:
        raise RegleNonCompilable("« mostly » n'est pas pris en charge")


def condition_echec(type_: str, kwargs: dict, parametres: dict | None) -> str:
    """A SQL condition true on the rows Great Expectations counts as unexpected."""
    if type_ == "expect_column_values_to_not_be_null":
        _verifier_cles(kwargs, _CLES_COMMUNES)
        condition = f"{_ident(kwargs['column'])} is null"
    elif type_ == "expect_column_values_to_be_null":
        _verifier_cles(kwargs, _CLES_COMMUNES)
        condition = f"{_ident(kwargs['column'])} is not null"
    elif type_ == "expect_column_values_to_be_in_set":
        _verifier_cles(kwargs, _CLES_COMMUNES | {"value_set"})
        colonne = _ident(kwargs["column"])
        valeurs = _resoudre(kwargs["value_set"], parametres)
        if not isinstance(valeurs, list | tuple | set):
            raise RegleNonCompilable("value_set doit être une liste")
        if valeurs:
            ensemble = ", ".join(_valeur(v) for v in sorted(valeurs))
            condition = f"{colonne} is not null and {colonne} not in ({ensemble})"
        else:
            condition = f"{colonne} is not null"
    elif type_ == "expect_column_values_to_match_regex":
        _verifier_cles(kwargs, _CLES_COMMUNES | {"regex"})
        colonne = _ident(kwargs["column"])
        condition = f"{colonne} is not null and not regexp_matches({colonne}, {_valeur(kwargs['regex'])})"
    elif type_ == "expect_column_value_lengths_to_be_between":
        _verifier_cles(kwargs, _CLES_COMMUNES | {"min_value", "max_value", "strict_min", "strict_max"})
        colonne = _ident(kwargs["column"])
        condition = _bornes(colonne, kwargs, f"length({colonne})")
    elif type_ == "expect_column_values_to_be_between":
        _verifier_cles(kwargs, _CLES_COMMUNES | {"min_value", "max_value", "strict_min", "strict_max"})
        condition = _bornes(_ident(kwargs["column"]), kwargs)
    elif type_ == "expect_column_pair_values_a_to_be_greater_than_b":
        _verifier_cles(kwargs, {"column_A", "column_B", "or_equal", "ignore_row_if", "row_condition",
                                "condition_parser", "mostly"})
        if kwargs.get("ignore_row_if", "both_values_are_missing") != "either_value_is_missing":
            raise RegleNonCompilable("ignore_row_if : seul « either_value_is_missing » est pris en charge")
        a, b = _ident(kwargs["column_A"]), _ident(kwargs["column_B"])
        operateur = ">=" if kwargs.get("or_equal") else ">"
        condition = f"{a} is not null and {b} is not null and not ({a} {operateur} {b})"
    else:
        raise RegleNonCompilable(f"type d'attente inconnu du moteur SQL : {type_}")
    restriction = _condition_ligne(kwargs.get("row_condition"))
    if restriction:
        condition = f"({restriction}) and ({condition})"
    return f"({condition})"


def condition_table(type_: str, kwargs: dict) -> str:
    """A SQL condition on `n` (the row count) true when a table-level rule fails."""
    if type_ == "expect_table_row_count_to_be_between":
        _verifier_cles(kwargs, {"min_value", "max_value", "strict_min", "strict_max"})
        return _bornes("n", kwargs)
    raise RegleNonCompilable(f"type d'attente inconnu du moteur SQL : {type_}")


TYPES_TABLE = {"expect_table_row_count_to_be_between"}


def compiler(regle, parametres: dict | None) -> tuple[bool, str]:
    """(table-level?, SQL condition) for one rule; raises `RegleNonCompilable`."""
    if regle.type in TYPES_TABLE:
        return True, condition_table(regle.type, regle.kwargs)
    return False, condition_echec(regle.type, regle.kwargs, parametres)


def _compter(condition: str) -> str:
    """`count_if`, as 0 (not NULL) on an empty table."""
    return f"coalesce(count_if({condition}), 0)"


def executer(
    con: duckdb.DuckDBPyConnection, source: str, regles, parametres: dict
) -> list[tuple[object, int | None, list[int], bool]]:
    """(rule, failing rows or None for a table rule, first line numbers, not evaluable)
    for each failed rule, over the relation `source` (a `read_parquet(...)` call)."""
    compilees = [(regle, *compiler(regle, parametres)) for regle in regles]
    if not compilees:
        return []
    lignes = [c for c in compilees if not c[1]]
    selection = ["count(*) as n"] + [_compter(condition) for _, _, condition in lignes]
    try:
        n, *comptes = con.execute(f"select {', '.join(selection)} from {source}").fetchone()
        evaluees = {id(regle): compte for (regle, _, _), compte in zip(lignes, comptes)}
    except duckdb.Error:  # one rule cannot run on this file: find it, the others still count
        n = con.execute(f"select count(*) from {source}").fetchone()[0]
        evaluees = {}
        for regle, _, condition in lignes:
            try:
                evaluees[id(regle)] = con.execute(f"select {_compter(condition)} from {source}").fetchone()[0]
            except duckdb.Error:
                evaluees[id(regle)] = None
    sortie = []
    for regle, table, condition in compilees:
        if table:
            (echoue,) = con.execute(f"select {condition} from (select ?::bigint as n)", [n]).fetchone()
            if echoue:
                sortie.append((regle, None, [], False))
            continue
        compte = evaluees[id(regle)]
        if compte is None:
            sortie.append((regle, None, [], True))
        elif compte:
            premieres = [
                int(ligne) for (ligne,) in con.execute(
                    f"select ligne_source from {source} where {condition} "
                    f"order by ligne_source limit {LIGNES_CITEES}"
                ).fetchall()
            ]
            sortie.append((regle, int(compte), premieres, False))
    return sortie
