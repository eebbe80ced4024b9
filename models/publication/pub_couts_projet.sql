{#- A small number of evictions avoided is secret, and so is the cost per eviction it divides. -#}
with

couts as (

    select * from {{ ref('fct_couts_projet') }}

),

final as (

    select
        projet_id,
        budget_annuel,
        financement_fnavdl,
        part_fnavdl,
        annees,
        menages_accompagnes_par_an,
        cout_par_menage_an,
        {{ masquer('expulsions_evitees', effectif_secret('expulsions_evitees')) }} as expulsions_evitees,
        {{ masquer('cout_par_expulsion_evitee', effectif_secret('expulsions_evitees')) }}
            as cout_par_expulsion_evitee,
        {{ liste_secrets([('expulsions_evitees', effectif_secret('expulsions_evitees')),
            ('cout_par_expulsion_evitee', effectif_secret('expulsions_evitees'))]) }} as cellules_secretes
    from couts

)

select * from final
