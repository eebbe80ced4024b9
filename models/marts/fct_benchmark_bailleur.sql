{#-
    The landlords' benchmark across projects: each landlord's proportion on every household
    of its projects, against the programme's pooled proportion, with funnel-plot limits
    (macros/entonnoirs.sql). The overdispersion factor is estimated over the landlords of each
    indicator.
-#}
{%- set indicateurs = benchmark_indicateurs() -%}
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

par_bailleur as (

    select
        bailleur_id,
        indicateur,
        count(distinct projet_id) as projets,
        sum(n) as n,
        sum(k) as k,
        count(*) as menages
    from contributions
    group by bailleur_id, indicateur
    having sum(n) > 0

),

unites as (

    select
        par_bailleur.bailleur_id,
        par_bailleur.indicateur,
        par_bailleur.projets,
        par_bailleur.n,
        par_bailleur.k,
        par_bailleur.menages,
        par_bailleur.k / cast(par_bailleur.n as double) as proportion,
        {{ wilson_bas('par_bailleur.k', 'par_bailleur.n') }} as ic_bas,
        {{ wilson_haut('par_bailleur.k', 'par_bailleur.n') }} as ic_haut,
        programme.moyenne_programme,
        {{ entonnoir_z('par_bailleur.k / cast(par_bailleur.n as double)', 'programme.moyenne_programme',
            'par_bailleur.n') }} as z_score
    from par_bailleur
    inner join programme
        on par_bailleur.indicateur = programme.indicateur

),

{{ entonnoir_surdispersion('unites', ['indicateur']) }},

avec_surdispersion as (

    select
        unites.*,
        surdispersion.surdispersion_estimee,
        {{ entonnoir_phi_applique('surdispersion.surdispersion_estimee') }} as surdispersion_appliquee
    from unites
    left join surdispersion
        on unites.indicateur = surdispersion.indicateur

),

final as (

    select
        bailleur_id,
        indicateur,
        cast(projets as integer) as projets,
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
