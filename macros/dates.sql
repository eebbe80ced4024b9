{#- Date helpers written with dbt's cross-database macros, so that the models run on other adapters. -#}

{% macro mois_de(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{% macro ajouter_mois(date_expr, nombre) -%}
    cast({{ dbt.dateadd('month', nombre, date_expr) }} as date)
{%- endmacro %}

{% macro ecart_mois(debut, fin) -%}
    {{ dbt.datediff(debut, fin, 'month') }}
{%- endmacro %}

{#- Whole months between two dates: the largest n with debut + n months ≤ fin, adding months
    clipping to the month's end (2019-01-15 → 2019-03-14 is 1, → 2019-03-15 is 2; 2019-01-31 →
    2019-02-28 is 1). -#}
{% macro mois_entiers(debut, fin) -%}
    ({{ dbt.datediff(debut, fin, 'month') }}
        - case when {{ dbt.dateadd('month', dbt.datediff(debut, fin, 'month'), debut) }} > {{ fin }}
            then 1 else 0 end)
{%- endmacro %}

{% macro dernier_jour_du_mois(date_expr) -%}
    cast({{ dbt.last_day(date_expr, 'month') }} as date)
{%- endmacro %}
