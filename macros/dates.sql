{#-
    Date helpers. DuckDB (and any adapter without its own version) uses dbt's cross-database
    macros; Spark gets compact native forms: dbt's generic month arithmetic on Spark expands
    to several kilobytes per call, and a view of many calls exceeds what the Hive metastore
    stores (32 767 characters of view text).
-#}

{% macro mois_de(date_expr) -%}
    {{ return(adapter.dispatch('mois_de', 'capitalisation')(date_expr)) }}
{%- endmacro %}

{% macro default__mois_de(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{% macro spark__mois_de(date_expr) -%}
    trunc({{ date_expr }}, 'MM')
{%- endmacro %}

{#- Add months, clipping to the month's end (2019-01-31 + 1 month = 2019-02-28) on every adapter. -#}
{% macro ajouter_mois(date_expr, nombre) -%}
    {{ return(adapter.dispatch('ajouter_mois', 'capitalisation')(date_expr, nombre)) }}
{%- endmacro %}

{% macro default__ajouter_mois(date_expr, nombre) -%}
    cast({{ dbt.dateadd('month', nombre, date_expr) }} as date)
{%- endmacro %}

{% macro spark__ajouter_mois(date_expr, nombre) -%}
    add_months({{ date_expr }}, {{ nombre }})
{%- endmacro %}

{#- Calendar months from debut to fin (days ignored: 2019-01-31 → 2019-02-01 is 1). -#}
{% macro ecart_mois(debut, fin) -%}
    {{ return(adapter.dispatch('ecart_mois', 'capitalisation')(debut, fin)) }}
{%- endmacro %}

{% macro default__ecart_mois(debut, fin) -%}
    {{ dbt.datediff(debut, fin, 'month') }}
{%- endmacro %}

{% macro spark__ecart_mois(debut, fin) -%}
    cast((year({{ fin }}) - year({{ debut }})) * 12 + month({{ fin }}) - month({{ debut }}) as bigint)
{%- endmacro %}

{#- Whole months between two dates: the largest n with debut + n months ≤ fin, adding months
    clipping to the month's end (2019-01-15 → 2019-03-14 is 1, → 2019-03-15 is 2; 2019-01-31 →
    2019-02-28 is 1). -#}
{% macro mois_entiers(debut, fin) -%}
    ({{ ecart_mois(debut, fin) }}
        - case when {{ ajouter_mois(debut, ecart_mois(debut, fin)) }} > {{ fin }}
            then 1 else 0 end)
{%- endmacro %}

{% macro dernier_jour_du_mois(date_expr) -%}
    {{ return(adapter.dispatch('dernier_jour_du_mois', 'capitalisation')(date_expr)) }}
{%- endmacro %}

{% macro default__dernier_jour_du_mois(date_expr) -%}
    cast({{ dbt.last_day(date_expr, 'month') }} as date)
{%- endmacro %}

{% macro spark__dernier_jour_du_mois(date_expr) -%}
    last_day({{ date_expr }})
{%- endmacro %}
