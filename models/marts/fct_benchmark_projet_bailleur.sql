{#-
    The landlords' benchmark within projects: each landlord's proportion in each of its
    projects, against the programme's pooled proportion, with funnel-plot limits
    (macros/entonnoirs.sql). The overdispersion factor is estimated over the (project,
    landlord) units of each indicator.
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

par_projet_bailleur as (

    select
        projet_id,
        bailleur_id,
        indicateur,
        sum(n) as n,
        sum(k) as k,
        count(*) as menages
    from contributions
    group by projet_id, bailleur_id, indicateur
    having sum(n) > 0

),

unites as (

    select
        par_projet_bailleur.projet_id,
        par_projet_bailleur.bailleur_id,
        par_projet_bailleur.indicateur,
        par_projet_bailleur.n,
        par_projet_bailleur.k,
        par_projet_bailleur.menages,
        par_projet_bailleur.k / cast(par_projet_bailleur.n as double) as proportion,
        {{ wilson_bas('par_projet_bailleur.k', 'par_projet_bailleur.n') }} as ic_bas,
        {{ wilson_haut('par_projet_bailleur.k', 'par_projet_bailleur.n') }} as ic_haut,
        programme.moyenne_programme,
        {{ entonnoir_z('par_projet_bailleur.k / cast(par_projet_bailleur.n as double)',
            'programme.moyenne_programme', 'par_projet_bailleur.n') }} as z_score
    from par_projet_bailleur
    inner join programme
        on par_projet_bailleur.indicateur = programme.indicateur

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
        projet_id,
        bailleur_id,
        indicateur,
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
