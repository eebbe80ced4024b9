{#-
    What DuckDB and Spark spell differently, in one place (the models call these, never the
    engine's own function). Spark's versions are written for dbt-spark; any other adapter
    falls back on the DuckDB forms.
-#}

{#- One row per element of a list column (an empty or null list gives no row). -#}
{% macro deplier(liste) -%}
    {{ return(adapter.dispatch('deplier', 'capitalisation')(liste)) }}
{%- endmacro %}

{% macro default__deplier(liste) -%}
    unnest({{ liste }})
{%- endmacro %}

{% macro spark__deplier(liste) -%}
    explode({{ liste }})
{%- endmacro %}

{#- The elements of a list of strings joined by `separateur` (a null list gives null). -#}
{% macro joindre_liste(liste, separateur) -%}
    {{ return(adapter.dispatch('joindre_liste', 'capitalisation')(liste, separateur)) }}
{%- endmacro %}

{% macro default__joindre_liste(liste, separateur) -%}
    array_to_string({{ liste }}, {{ separateur }})
{%- endmacro %}

{% macro spark__joindre_liste(liste, separateur) -%}
    array_join({{ liste }}, {{ separateur }})
{%- endmacro %}

{#- The number of elements of a list (a null list gives null, not Spark's -1). -#}
{% macro longueur_liste(liste) -%}
    {{ return(adapter.dispatch('longueur_liste', 'capitalisation')(liste)) }}
{%- endmacro %}

{% macro default__longueur_liste(liste) -%}
    len({{ liste }})
{%- endmacro %}

{% macro spark__longueur_liste(liste) -%}
    case when {{ liste }} is not null then size({{ liste }}) end
{%- endmacro %}

{#- The SQL type of a list whose elements are of type `element`. -#}
{% macro type_liste(element) -%}
    {{ return(adapter.dispatch('type_liste', 'capitalisation')(element)) }}
{%- endmacro %}

{% macro default__type_liste(element) -%}
    {{ element }}[]
{%- endmacro %}

{% macro spark__type_liste(element) -%}
    array<{{ element }}>
{%- endmacro %}

{#- The SQL type of a record of `champs`, a list of (name, type) pairs. -#}
{% macro type_structure(champs) -%}
    {{ return(adapter.dispatch('type_structure', 'capitalisation')(champs)) }}
{%- endmacro %}

{% macro default__type_structure(champs) -%}
    struct({% for nom, type_ in champs %}{{ nom }} {{ type_ }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro spark__type_structure(champs) -%}
    struct<{% for nom, type_ in champs %}{{ nom }}: {{ type_ }}{% if not loop.last %}, {% endif %}{% endfor %}>
{%- endmacro %}

{#- Every column of `relation`, read through `alias`, but those named in `exclues`. -#}
{% macro colonnes_sauf(relation, alias, exclues) -%}
    {{ return(adapter.dispatch('colonnes_sauf', 'capitalisation')(relation, alias, exclues)) }}
{%- endmacro %}

{% macro default__colonnes_sauf(relation, alias, exclues) -%}
    {{ alias }}.* exclude ({{ exclues | join(', ') }})
{%- endmacro %}

{#- Spark has no `* exclude`: the columns are listed from the built relation (at parse time,
    when nothing is built yet, the SQL is never run). -#}
{% macro spark__colonnes_sauf(relation, alias, exclues) -%}
    {%- if not execute -%}{{ return(alias ~ '.*') }}{%- endif -%}
    {%- set exclues_min = exclues | map('lower') | list -%}
    {%- set gardees = [] -%}
    {%- for colonne in adapter.get_columns_in_relation(relation) -%}
        {%- if colonne.name | lower not in exclues_min -%}
            {%- do gardees.append(alias ~ '.' ~ adapter.quote(colonne.name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not gardees -%}
        {{ exceptions.raise_compiler_error("colonnes_sauf : aucune colonne de " ~ relation ~ " hors " ~ exclues | join(', ')) }}
    {%- endif -%}
    {{ return(gardees | join(', ')) }}
{%- endmacro %}

{#-
    Whether the audit journal has any entry yet. DuckDB reads its JSON files directly (the
    source is a read_json over a glob, which fails on no file); on Spark the journal source
    is a table declared over the journal folder (capitalisation/spark.py), empty when no run
    has written to it.
-#}
{% macro journal_present(motif) -%}
    {{ return(adapter.dispatch('journal_present', 'capitalisation')(motif)) }}
{%- endmacro %}

{% macro default__journal_present(motif) -%}
    {{ return(run_query("select count(*) from glob('" ~ motif ~ "')").columns[0].values()[0] > 0) }}
{%- endmacro %}

{% macro spark__journal_present(motif) -%}
    {{ return(true) }}
{%- endmacro %}

{#-
    dbt.listagg on Spark, with its order: dbt-spark ignores `order by` (collect_list keeps no
    order), so the same group could be listed in another order than on DuckDB. Here the values
    are sorted by the keys of `order_by_clause` (ascending, as `order by a, b`) then joined; a
    group of null values only gives null, as string_agg does.
-#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set cles = [] -%}
    {%- if order_by_clause -%}
        {%- set clause = order_by_clause | trim -%}
        {%- if not clause.lower().startswith('order by') or ' desc' in clause.lower() -%}
            {{ exceptions.raise_compiler_error("listagg sur Spark : seul « order by <clé>[, <clé>] » croissant est pris en charge, pas « " ~ clause ~ " »") }}
        {%- endif -%}
        {%- for cle in clause[8:].split(',') -%}
            {%- do cles.append(cle | replace(' asc', '') | trim) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set valeurs -%}
        array_sort(collect_list(case when {{ measure }} is not null then named_struct(
            {%- for cle in cles %}'k{{ loop.index }}', {{ cle }}, {% endfor %}'v', {{ measure }}) end))
    {%- endset -%}
    {%- set valeurs = 'slice(' ~ valeurs ~ ', 1, ' ~ limit_num ~ ')' if limit_num else valeurs -%}
    case when count({{ measure }}) > 0 then array_join(transform({{ valeurs }}, x -> x.v), {{ delimiter_text }}) end
{%- endmacro %}
