"""DuckDB-only SQL kept out of the dbt project (Spark builds the same models, `make spark`).

`make spark` proves the whole project on Spark; this scan catches, within the test suite and
in a second, the forms that broke it. Each has a portable macro (macros/portabilite.sql,
macros/dates.sql) whose `default__` version alone spells the DuckDB form.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from capitalisation import config

# What Spark refuses or reads otherwise, and what to write instead.
INTERDITS = {
    "`* exclude (…)` (colonnes_sauf)": r"\*\s*exclude\s*\(",
    "conversion `::` (cast(x as type))": r"::",
    "unnest (deplier)": r"\bunnest\s*\(",
    "array_to_string (joindre_liste)": r"\barray_to_string\s*\(",
    "len (longueur_liste)": r"\blen\s*\(",
    "string_agg (dbt.listagg)": r"\bstring_agg\s*\(",
    "lecture de fichiers (tables sources)": r"\b(glob|read_json\w*|read_parquet|read_csv\w*)\s*\(",
    "fonction de listes DuckDB (macros de portabilite.sql)": r"\b(list_\w+|struct_pack)\s*\(",
    "type liste `type[]` (type_liste)": r"[\w)]\s*\[\s*\]",
    "varchar sans longueur (string)": r"\bvarchar\b(?!\s*\()",
    "identifiant entre guillemets doubles (adapter.quote)": r'"[A-Za-z_]\w*"',
}


def _blanc(trouve: re.Match) -> str:
    """A removed span, its line breaks kept (line numbers stay those of the file)."""
    return "\n" * trouve.group(0).count("\n")


def sql_ecrit(texte: str) -> str:
    """The SQL a file spells itself: without comments, Jinja tags and expressions, string
    literals, nor the bodies of `default__` macros (the DuckDB form of a dispatch macro)."""
    texte = re.sub(r"\{#.*?#\}", _blanc, texte, flags=re.S)
    texte = re.sub(r"\{%-?\s*macro\s+default__.*?\{%-?\s*endmacro\s*-?%\}", _blanc, texte, flags=re.S)
    texte = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", _blanc, texte, flags=re.S)
    texte = re.sub(r"--[^\n]*", "", texte)
    return re.sub(r"'(?:[^']|'')*'", lambda t: "''" + _blanc(t), texte)


def constats(texte: str) -> list[tuple[int, str]]:
    """(line, rule) for each DuckDB-only form of a model or macro file."""
    trouves = []
    for numero, ligne in enumerate(sql_ecrit(texte).split("\n"), start=1):
        trouves += [(numero, regle) for regle, motif in INTERDITS.items() if re.search(motif, ligne, re.I)]
    return trouves


def fichiers_sql() -> list[Path]:
    racine = config.DBT_PROJET
    return sorted([*(racine / "models").rglob("*.sql"), *(racine / "macros").glob("*.sql"),
                   *(racine / "tests" / "dbt").rglob("*.sql")])


def test_models_macros_and_dbt_tests_spell_no_duckdb_only_sql():
    fichiers = fichiers_sql()
    assert len(fichiers) > 40
    trouves = [f"{chemin.relative_to(config.DBT_PROJET)}, ligne {numero} : {regle}"
               for chemin in fichiers for numero, regle in constats(chemin.read_text(encoding="utf-8"))]
    assert trouves == [], "SQL propre à DuckDB hors des macros de portabilité :\n" + "\n".join(trouves)


def test_contracts_and_seeds_use_no_varchar_without_length():
    racine = config.DBT_PROJET
    trouves = []
    for chemin in sorted([*(racine / "models").rglob("*.yml"), *(racine / "seeds").glob("*.yml"),
                          racine / "dbt_project.yml"]):
        for numero, ligne in enumerate(chemin.read_text(encoding="utf-8").split("\n"), start=1):
            if re.search(r"^\s*(data_type|\w+)\s*:\s*[\"']?varchar\b(?!\s*\()", ligne, re.I):
                trouves.append(f"{chemin.relative_to(racine)}, ligne {numero}")
    assert trouves == [], "type varchar sans longueur (Spark le refuse ; écrire string) :\n" + "\n".join(trouves)


@pytest.mark.parametrize("sql, regle", [
    ("select source.* exclude (projet_id, indicateur) from source", "`* exclude (…)` (colonnes_sauf)"),
    ("select n::double from t", "conversion `::` (cast(x as type))"),
    ("select unnest(raisons) as raison from journal", "unnest (deplier)"),
    ("select len(fichiers) from journal", "len (longueur_liste)"),
    ("select * from read_json('journal/*.json')", "lecture de fichiers (tables sources)"),
    ("select cast(null as struct(fichier string)[]) as fichiers", "type liste `type[]` (type_liste)"),
    ("select cast(x as varchar) from t", "varchar sans longueur (string)"),
    ('select "date" from t', "identifiant entre guillemets doubles (adapter.quote)"),
])
def test_each_duckdb_only_form_is_found(sql, regle):
    assert constats(f"with t as (select 1)\n{sql}\n") == [(2, regle)]


def test_the_duckdb_forms_of_dispatch_macros_comments_and_strings_are_allowed():
    texte = """{#- DuckDB writes `* exclude (…)`: see below. -#}
{% macro default__colonnes_sauf(relation, alias, exclues) -%}
    {{ alias }}.* exclude ({{ exclues | join(', ') }})
{%- endmacro %}
{% macro spark__colonnes_sauf(relation, alias, exclues) -%}
    {{ return(alias ~ '.*') }}
{%- endmacro %}
select 'a::b' as texte, cast(x as varchar(10)) as court, {{ adapter.quote("date") }} -- unnest(x)
from t
"""
    assert constats(texte) == []
    assert constats(texte.replace("{% macro default__", "{% macro spark__autre")) == [
        (3, "`* exclude (…)` (colonnes_sauf)")]
