with

consommations as (

    select * from {{ source('livraisons', 'consommations') }}

),

final as (

    select
        menage_id,
        projet_id,
        mois,
        fluide,
        quantite,
        montant,
        consommations.date_extraction,
        consommations.ligne_source
    from consommations
    where {{ extraction_en_usage('consommations') }}

)

select * from final
