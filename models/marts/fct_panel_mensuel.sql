{#-
    The monthly rent-account panel, limited to what its reader uses: the comparison engine
    (difference in differences) reads the balance by month relative to m0, for the
    households of the cohort comparison and the months from `premier_mois_panel` to the
    horizon only.
-#}
with

comparaison as (

    select
        projet_id,
        menage_id
    from {{ ref('fct_cohorte_comparaison') }}

),

menages as (

    select
        projet_id,
        menage_id,
        date_orientation
    from {{ ref('stg_livraisons__menages') }}

),

comptes as (

    select
        projet_id,
        menage_id,
        mois,
        solde_fin_mois
    from {{ ref('stg_livraisons__comptes_mensuels') }}

),

panel as (

    select
        comptes.projet_id,
        comptes.menage_id,
        comptes.mois,
        {{ ecart_mois(mois_de('menages.date_orientation'), 'comptes.mois') }} as mois_relatif,
        comptes.solde_fin_mois
    from comptes
    inner join menages
        on comptes.projet_id = menages.projet_id
        and comptes.menage_id = menages.menage_id
    inner join comparaison
        on menages.projet_id = comparaison.projet_id
        and menages.menage_id = comparaison.menage_id

),

final as (

    select * from panel
    where mois_relatif between {{ var('premier_mois_panel') }} and {{ var('horizon_mois') }}

)

select * from final
