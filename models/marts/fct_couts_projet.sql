{#-
    Costs from the project catalogue: cost per accompanied household and year
    (budget_annuel / households accompanied during that calendar year, averaged over the
    project's years) and cost per eviction avoided (budget over the project's own months,
    budget_annuel × mois_projet / 12, over the evictions avoided: a project of 37 months
    from June to June is not four calendar years).
-#}
with

projets as (

    select * from {{ ref('projets') }}

),

menages as (

    select * from {{ ref('int_indicateurs_menage') }}
    where cadre = 'descriptif'

),

indicateurs as (

    select * from {{ ref('fct_indicateurs_projet') }}

),

annees as (

    {% for decalage in range(0, 40) %}
    select {{ decalage }} as decalage{% if not loop.last %} union all{% endif %}
    {% endfor %}

),

annees_projet as (

    select
        projets.projet_id,
        extract(year from projets.date_debut) + annees.decalage as annee
    from projets
    cross join annees
    where extract(year from projets.date_debut) + annees.decalage <= extract(year from projets.date_fin)

),

accompagnes_par_an as (

    select
        annees_projet.projet_id,
        annees_projet.annee,
        count(menages.menage_id) as menages_accompagnes
    from annees_projet
    left join menages
        on annees_projet.projet_id = menages.projet_id
        and menages.adhesion
        and extract(year from menages.date_debut_accompagnement) <= annees_projet.annee
        and extract(year from coalesce(menages.date_fin_accompagnement, menages.date_extraction))
            >= annees_projet.annee
    group by annees_projet.projet_id, annees_projet.annee

),

par_projet as (

    select
        projet_id,
        count(*) as annees,
        avg(menages_accompagnes) as menages_accompagnes_par_an
    from accompagnes_par_an
    where menages_accompagnes > 0
    group by projet_id

),

mois as (

    select
        projet_id,
        {{ ecart_mois('date_debut', dbt.dateadd('day', 1, 'date_fin')) }} as mois_projet
    from projets

),

final as (

    select
        projets.projet_id,
        projets.budget_annuel,
        projets.financement_fnavdl,
        cast(projets.financement_fnavdl as double) / nullif(cast(projets.budget_annuel as double), 0)
            as part_fnavdl,
        par_projet.annees,
        cast(mois.mois_projet as integer) as mois_projet,
        par_projet.menages_accompagnes_par_an,
        cast(projets.budget_annuel / nullif(par_projet.menages_accompagnes_par_an, 0) as decimal(14, 2))
            as cout_par_menage_an,
        cast(evitees.k as integer) as expulsions_evitees,
        cast(
            projets.budget_annuel
            * mois.mois_projet
            / nullif(12 * evitees.k, 0)
            as decimal(14, 2)
        ) as cout_par_expulsion_evitee
    from projets
    left join par_projet
        on projets.projet_id = par_projet.projet_id
    left join mois
        on projets.projet_id = mois.projet_id
    left join indicateurs as evitees
        on projets.projet_id = evitees.projet_id
        and evitees.indicateur = 'expulsion_evitee'

)

select * from final
