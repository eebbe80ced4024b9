with

comptes_mensuels as (

    select * from {{ source('livraisons', 'comptes_mensuels') }}

),

final as (

    select
        menage_id,
        projet_id,
        mois,
        quittance,
        aide_logement,
        paiement,
        regularisation,
        solde_fin_mois,
        plan_apurement,
        comptes_mensuels.date_extraction,
        comptes_mensuels.ligne_source
    from comptes_mensuels
    where {{ extraction_en_usage('comptes_mensuels') }}

)

select * from final
