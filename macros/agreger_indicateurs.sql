{#-
    Aggregate household contributions by `colonnes` (a list, possibly empty for the whole
    programme): n, k, proportion with its 95 % Wilson interval; for amounts the exact mean,
    median and total, with a normal-approximation interval around the mean.
-#}
{% macro agreger_indicateurs(colonnes) %}
with

contributions as (

    select * from {{ ref('int_indicateurs_contributions') }}

),

agregats as (

    select
        {% for colonne in colonnes %}{{ colonne }},
        {% endfor -%}
        indicateur,
        nature,
        sum(n) as n,
        sum(k) as k,
        {#- One contribution per household and indicator (int_indicateurs_contributions): the
            households are the rows, no distinct count over (project, household) pairs. #}
        count(*) as menages,
        sum(montant) as total,
        {{ arrondi_centimes('sum(' ~ centimes('montant') ~ ')', 'count(montant)') }} as moyenne,
        {{ mediane('montant') }} as mediane,
        stddev_samp(montant) as ecart_type
    from contributions
    group by {% for colonne in colonnes %}{{ colonne }}, {% endfor %}indicateur, nature

),

final as (

    select
        {% for colonne in colonnes %}{{ colonne }},
        {% endfor -%}
        indicateur,
        nature,
        cast(n as integer) as n,
        cast(case when nature = 'proportion' then k end as integer) as k,
        case when nature = 'proportion' then k / cast(nullif(n, 0) as double)
            else cast(total as double) / nullif(menages, 0) end as valeur,
        case when nature = 'proportion' then {{ wilson_bas('k', 'n') }}
            when n > 1 then cast(moyenne as double) - {{ var('z_95') }} * ecart_type / sqrt(n)
        end as ic_bas,
        case when nature = 'proportion' then {{ wilson_haut('k', 'n') }}
            when n > 1 then cast(moyenne as double) + {{ var('z_95') }} * ecart_type / sqrt(n)
        end as ic_haut,
        case when nature = 'montant' then moyenne end as moyenne_eur,
        case when nature = 'montant' then mediane end as mediane_eur,
        case when nature = 'montant' then cast(total as decimal(18, 2)) end as total_eur,
        cast(menages as integer) as menages
    from agregats

)

select * from final
{% endmacro %}

{#-
    Median of an amount: the midpoint of the two middle values when their number is even,
    truncated toward zero to the cent (what DuckDB's median of a DECIMAL gives: 1.005 → 1.00,
    −1.015 → −1.01). Spark's percentile works in doubles and the cast rounds half up; it is
    taken over integer cents instead (exact in a double), then truncated the same way.
-#}
{% macro mediane(colonne) -%}
    {{ return(adapter.dispatch('mediane', 'capitalisation')(colonne)) }}
{%- endmacro %}

{% macro default__mediane(colonne) -%}
    cast(percentile_cont(0.5) within group (order by {{ colonne }}) as decimal(14, 2))
{%- endmacro %}

{% macro duckdb__mediane(colonne) -%}
    cast(median({{ colonne }}) as decimal(14, 2))
{%- endmacro %}

{% macro spark__mediane(colonne) -%}
    cast(cast(percentile({{ centimes(colonne) }}, 0.5) as bigint) * cast(0.01 as decimal(4, 2))
        as decimal(14, 2))
{%- endmacro %}
