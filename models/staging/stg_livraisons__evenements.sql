with

evenements as (

    select * from {{ source('livraisons', 'evenements') }}

),

final as (

    select
        menage_id,
        projet_id,
        {{ adapter.quote('date') }} as date_evenement,
        type_evenement,
        evenements.date_extraction,
        evenements.ligne_source
    from evenements
    where {{ extraction_en_usage('evenements') }}

)

select * from final
