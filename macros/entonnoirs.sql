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

{#-
    A CTE `avec_surdispersion`: the rows of `relation` with the overdispersion factor of their
    indicator (the CTE `surdispersion` of entonnoir_surdispersion) as `estimee`, and the φ that
    widens their limits as `appliquee`.
-#}
{% macro entonnoir_avec_surdispersion(relation, estimee='surdispersion_estimee',
    appliquee='surdispersion_appliquee') -%}
avec_surdispersion as (

    select
        {{ relation }}.*,
        surdispersion.surdispersion_estimee as {{ estimee }},
        {{ entonnoir_phi_applique('surdispersion.surdispersion_estimee') }} as {{ appliquee }}
    from {{ relation }}
    left join surdispersion
        on {{ relation }}.indicateur = surdispersion.indicateur

)
{%- endmacro %}

{#-
    A benchmark mart (fct_benchmark_*): the proportion of each unit, the households grouped by
    `colonnes` (a landlord across its projects, or a landlord in a project), against the
    programme's pooled proportion, with funnel-plot limits. The overdispersion factor is
    estimated over the units of each indicator. A unit that spans projects (no `projet_id` in
    `colonnes`) also counts its projects.
-#}
{% macro benchmark_entonnoir(colonnes) %}
{%- set indicateurs = benchmark_indicateurs() -%}
{%- set compte_projets = 'projet_id' not in colonnes -%}
with

contributions as (

    select * from {{ ref('int_indicateurs_contributions') }}
    where indicateur in ({% for code in indicateurs %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor %})

),

programme as (

    select
        indicateur,
        sum(k) / cast(sum(n) as double) as moyenne_programme
    from contributions
    group by indicateur
    having sum(n) > 0

),

par_unite as (

    select
        {% for colonne in colonnes %}{{ colonne }},
        {% endfor -%}
        indicateur,
        {% if compte_projets %}count(distinct projet_id) as projets,
        {% endif -%}
        sum(n) as n,
        sum(k) as k,
        count(*) as menages
    from contributions
    group by {% for colonne in colonnes %}{{ colonne }}, {% endfor %}indicateur
    having sum(n) > 0

),

unites as (

    select
        {% for colonne in colonnes %}par_unite.{{ colonne }},
        {% endfor -%}
        par_unite.indicateur,
        {% if compte_projets %}par_unite.projets,
        {% endif -%}
        par_unite.n,
        par_unite.k,
        par_unite.menages,
        par_unite.k / cast(par_unite.n as double) as proportion,
        {{ wilson_bas('par_unite.k', 'par_unite.n') }} as ic_bas,
        {{ wilson_haut('par_unite.k', 'par_unite.n') }} as ic_haut,
        programme.moyenne_programme,
        {{ entonnoir_z('par_unite.k / cast(par_unite.n as double)', 'programme.moyenne_programme',
            'par_unite.n') }} as z_score
    from par_unite
    inner join programme
        on par_unite.indicateur = programme.indicateur

),

{{ entonnoir_surdispersion('unites', ['indicateur']) }},

{{ entonnoir_avec_surdispersion('unites') }},

final as (

    select
        {% for colonne in colonnes %}{{ colonne }},
        {% endfor -%}
        indicateur,
        {% if compte_projets %}cast(projets as integer) as projets,
        {% endif -%}
        cast(n as integer) as n,
        cast(k as integer) as k,
        cast(menages as integer) as menages,
        proportion,
        ic_bas,
        ic_haut,
        moyenne_programme,
        z_score,
        surdispersion_estimee,
        cast(surdispersion_appliquee as double) as surdispersion_appliquee,
        {{ entonnoir_colonnes() }}
    from avec_surdispersion

)

select * from final
{% endmacro %}

{% macro quantile_continu(colonne, q) -%}
    {{ return(adapter.dispatch('quantile_continu', 'capitalisation')(colonne, q)) }}
{%- endmacro %}

{% macro default__quantile_continu(colonne, q) -%}
    percentile_cont({{ q }}) within group (order by {{ colonne }})
{%- endmacro %}

{% macro duckdb__quantile_continu(colonne, q) -%}
    quantile_cont({{ colonne }}, {{ q }})
{%- endmacro %}
