{#-
    Funnel plots (Spiegelhalter, « Funnel plots for comparing institutional performance »,
    Statistics in Medicine 2005): each unit's proportion k / n against the programme's pooled
    proportion p0, with control limits p0 ± z · sqrt(φ · p0 (1 − p0) / n), clipped to [0, 1],
    at 95 % (z = 1.96) and 99.8 % (z = 3.09).

    φ is the overdispersion factor, estimated as the mean of the squared standardised Pearson
    residuals z_i = (p_i − p0) / sqrt(p0 (1 − p0) / n_i), winsorised (the share
    `benchmark_winsorisation` of the residuals at each end brought back to the quantile,
    default 10 %). It widens the limits only when the dbt var `benchmark_surdispersion` is
    true (default false) and φ > 1; otherwise φ = 1.
-#}

{#- The indicators of the benchmark: proportions of households (and of rendez-vous). -#}
{% macro benchmark_indicateurs() %}
    {{ return(['adhesion', 'loyer_a_jour', 'dette_resorbee', 'dette_reduite', 'expulsion_evitee',
        'maintien', 'relogement', 'rdv_honores']) }}
{% endmacro %}

{% macro z_998() -%}
    {{ var('z_998', 3.090232306167813) }}
{%- endmacro %}

{#- Standardised Pearson residual of `proportion` on `n` against `p0` (null when p0 is 0 or 1). -#}
{% macro entonnoir_z(proportion, p0, n) -%}
    case
        when {{ n }} > 0 and {{ p0 }} > 0 and {{ p0 }} < 1
            then ({{ proportion }} - {{ p0 }}) / sqrt({{ p0 }} * (1 - {{ p0 }}) / {{ n }})
    end
{%- endmacro %}

{#- The φ that widens the limits: the estimate when the option is on and it exceeds 1, else 1. -#}
{% macro entonnoir_phi_applique(phi_estime) -%}
    {%- if var('benchmark_surdispersion', false) | string | lower in ('true', '1', 'yes', 'oui') -%}
    case when {{ phi_estime }} > 1 then {{ phi_estime }} else 1.0 end
    {%- else -%}
    1.0
    {%- endif -%}
{%- endmacro %}

{#- A control limit (`sens` = -1 below, +1 above), clipped to [0, 1]. -#}
{% macro entonnoir_limite(p0, n, z, phi, sens) -%}
    case
        when {{ n }} > 0 and {{ p0 }} is not null
            then greatest(0.0, least(1.0,
                {{ p0 }} + ({{ sens }}) * {{ z }} * sqrt({{ phi }} * {{ p0 }} * (1 - {{ p0 }}) / {{ n }})))
    end
{%- endmacro %}

{% macro entonnoir_position(proportion, bas, haut) -%}
    case
        when {{ proportion }} is null or {{ bas }} is null or {{ haut }} is null then null
        when {{ proportion }} > {{ haut }} then 'au_dessus'
        when {{ proportion }} < {{ bas }} then 'en_dessous'
        else 'dans_les_limites'
    end
{%- endmacro %}

{#- The four limits and the two positions of a unit, from its n, proportion, p0 and φ (names prefixed). -#}
{% macro entonnoir_colonnes(proportion='proportion', n='n', p0='moyenne_programme', phi='surdispersion_appliquee',
    prefixe='') -%}
        {{ entonnoir_limite(p0, n, var('z_95'), phi, -1) }} as {{ prefixe }}limite_95_bas,
        {{ entonnoir_limite(p0, n, var('z_95'), phi, 1) }} as {{ prefixe }}limite_95_haut,
        {{ entonnoir_limite(p0, n, z_998(), phi, -1) }} as {{ prefixe }}limite_998_bas,
        {{ entonnoir_limite(p0, n, z_998(), phi, 1) }} as {{ prefixe }}limite_998_haut,
        {{ entonnoir_position(proportion,
            entonnoir_limite(p0, n, var('z_95'), phi, -1),
            entonnoir_limite(p0, n, var('z_95'), phi, 1)) }} as {{ prefixe }}position_95,
        {{ entonnoir_position(proportion,
            entonnoir_limite(p0, n, z_998(), phi, -1),
            entonnoir_limite(p0, n, z_998(), phi, 1)) }} as {{ prefixe }}position_998
{%- endmacro %}

{#-
    Two CTEs to place in a `with` list: `bornes_<nom>` (the winsorisation quantiles of z per
    `partition`) and `<nom>` (per `partition`: surdispersion_estimee, the winsorised mean of
    z², and unites_surdispersion, the number of units), over the rows of `relation` whose
    column `z` is not null.
-#}
{% macro entonnoir_surdispersion(relation, partition, nom='surdispersion', z='z_score') -%}
{%- set q = var('benchmark_winsorisation', 0.1) | float -%}
bornes_{{ nom }} as (

    select
        {% for colonne in partition %}{{ colonne }},
        {% endfor -%}
        {{ quantile_continu(z, q) }} as z_bas,
        {{ quantile_continu(z, 1 - q) }} as z_haut
    from {{ relation }}
    where {{ z }} is not null
    group by {{ partition | join(', ') }}

),

{{ nom }} as (

    select
        {% for colonne in partition %}{{ relation }}.{{ colonne }},
        {% endfor -%}
        avg(power(least(greatest({{ relation }}.{{ z }}, bornes.z_bas), bornes.z_haut), 2)) as surdispersion_estimee,
        count(*) as unites_surdispersion
    from {{ relation }}
    inner join bornes_{{ nom }} as bornes
        on {% for colonne in partition %}{{ relation }}.{{ colonne }} = bornes.{{ colonne }}{% if not loop.last %}
        and {% endif %}{% endfor %}
    where {{ relation }}.{{ z }} is not null
    group by {% for colonne in partition %}{{ relation }}.{{ colonne }}{% if not loop.last %}, {% endif %}{% endfor %}

)
{%- endmacro %}

{% macro quantile_continu(colonne, q) -%}
    {{ return(adapter.dispatch('quantile_continu', 'capitalisation')(colonne, q)) }}
{%- endmacro %}

{% macro default__quantile_continu(colonne, q) -%}
    percentile_cont({{ q }}) within group (order by {{ colonne }})
{%- endmacro %}

{% macro duckdb__quantile_continu(colonne, q) -%}
    quantile_cont({{ colonne }}, {{ q }})
{%- endmacro %}
