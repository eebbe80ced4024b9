{#-
    Costs as published: the evictions avoided are the k of `expulsion_evitee` (a cell of the
    secrecy layer), and the cost per eviction avoided divides by them, so it is hidden with them.
    The households accompanied per year are a cell too (1 to `seuil_effectif` a year is secret;
    for a one-year project they are the adhered households): the cost per household and year
    divides by them, so it is hidden with them.
-#}
with

couts as (

    select * from {{ ref('fct_couts_projet') }}

),

cellules as (

    select * from {{ ref('int_secret_cellules') }}

),

drapeaux as (

    select
        couts.*,
        {{ est_secrete('cellules_evitees') }} as evitees_secretes,
        {{ est_secrete('cellules_par_an') }} as par_an_secret
    from couts
    {{ joindre_cellule('cellules_evitees', "'expulsion_evitee.k'", 'projet', 'couts.projet_id') }}
    {{ joindre_cellule('cellules_par_an', "'accompagnes_par_an'", 'projet', 'couts.projet_id') }}

),

final as (

    select
        {{- colonnes_publiees(['projet_id', 'budget_annuel', 'financement_fnavdl', 'part_fnavdl', 'annees', 'mois_projet',
            ('menages_accompagnes_par_an', 'par_an_secret'), ('cout_par_menage_an', 'par_an_secret'),
            ('expulsions_evitees', 'evitees_secretes'), ('cout_par_expulsion_evitee', 'evitees_secretes')]) }}
    from drapeaux

)

select * from final
