{#-
    Exact amounts. `cents_expr` is an exact integer number of cents; it is divided by an
    integer and rounded half away from zero to the cent, without going through floating
    point (no sign(): it returns a double on Spark), and returned as DECIMAL(14, 2).
-#}
{% macro arrondi_centimes(cents_expr, diviseur) -%}
    cast(
        case when cast({{ cents_expr }} as bigint) < 0 then -1 else 1 end
        * {{ division_entiere('abs(cast(' ~ cents_expr ~ ' as bigint)) * 2 + ' ~ diviseur, '2 * ' ~ diviseur) }}
        * cast(0.01 as decimal(4, 2))
        as decimal(14, 2)
    )
{%- endmacro %}

{% macro centimes(montant_expr) -%}
    cast(({{ montant_expr }}) * 100 as bigint)
{%- endmacro %}

{#- Integer division, truncating, on every adapter. -#}
{% macro division_entiere(numerateur, denominateur) -%}
    {{ return(adapter.dispatch('division_entiere', 'capitalisation')(numerateur, denominateur)) }}
{%- endmacro %}

{% macro default__division_entiere(numerateur, denominateur) -%}
    (({{ numerateur }}) / ({{ denominateur }}))
{%- endmacro %}

{% macro duckdb__division_entiere(numerateur, denominateur) -%}
    (({{ numerateur }}) // ({{ denominateur }}))
{%- endmacro %}

{% macro spark__division_entiere(numerateur, denominateur) -%}
    (({{ numerateur }}) div ({{ denominateur }}))
{%- endmacro %}
