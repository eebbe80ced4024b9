with

contacts as (

    select * from {{ source('livraisons', 'contacts') }}

),

final as (

    select
        menage_id,
        projet_id,
        {{ adapter.quote('date') }} as date_contact,
        type_contact,
        honore,
        intervenant,
        contacts.date_extraction,
        contacts.ligne_source
    from contacts
    where {{ extraction_en_usage('contacts') }}

)

select * from final
