with

menages as (

    select * from {{ source('livraisons', 'menages') }}

),

final as (

    select
        menage_id,
        projet_id,
        bailleur_id,
        cohorte,
        volet,
        date_orientation,
        date_debut_accompagnement,
        date_fin_accompagnement,
        motif_fin,
        composition,
        tranche_age,
        tranche_ressources,
        loyer_mensuel,
        taux_effort,
        departement,
        public_prioritaire,
        origine_orientation,
        menages.date_extraction,
        menages.ligne_source
    from menages
    where {{ extraction_en_usage('menages') }}

)

select * from final
