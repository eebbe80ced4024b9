{#-
    Tenancy and procedure indicators, one row per household and frame. Only events dated
    on or before the outcome date count; procedure steps are those from `assignation` on
    (`ordre_procedure` ≥ 2 in the event-type seed), `expulsion_realisee` included.
-#}
with

cadres as (

    select * from {{ ref('int_menages_cadres') }}

),

menages as (

    select * from {{ ref('stg_livraisons__menages') }}

),

evenements as (

    select * from {{ ref('stg_livraisons__evenements') }}

),

types_evenements as (

    select * from {{ ref('types_evenements') }}

),

evenements_types as (

    select
        evenements.projet_id,
        evenements.menage_id,
        evenements.date_evenement,
        evenements.type_evenement,
        coalesce(types_evenements.ordre_procedure, 0) >= 2 as etape_depuis_assignation
    from evenements
    left join types_evenements
        on evenements.type_evenement = types_evenements.code

),

evenements_cadres as (

    select
        cadres.projet_id,
        cadres.menage_id,
        cadres.cadre,
        evenements_types.date_evenement,
        evenements_types.type_evenement,
        evenements_types.etape_depuis_assignation,
        evenements_types.date_evenement <= cadres.date_resultat as avant_resultat,
        evenements_types.date_evenement <= menages.date_orientation as avant_index
    from cadres
    inner join menages
        on cadres.projet_id = menages.projet_id
        and cadres.menage_id = menages.menage_id
    inner join evenements_types
        on cadres.projet_id = evenements_types.projet_id
        and cadres.menage_id = evenements_types.menage_id

),

final as (

    select
        projet_id,
        menage_id,
        cadre,
        max(case when avant_resultat and etape_depuis_assignation then 1 else 0 end) = 1
            as en_procedure,
        max(case when avant_index and etape_depuis_assignation then 1 else 0 end) = 1
            as en_procedure_index,
        max(case when avant_resultat and type_evenement = 'expulsion_realisee' then 1 else 0 end) = 1
            as expulse,
        max(case when avant_resultat and type_evenement = 'depart_volontaire' then 1 else 0 end) = 1
            as depart_volontaire,
        max(case when avant_resultat and type_evenement in ('relogement', 'mutation') then 1 else 0 end) = 1
            as relogement,
        min(case when avant_resultat and type_evenement = 'expulsion_realisee' then date_evenement end)
            as date_expulsion
    from evenements_cadres
    group by projet_id, menage_id, cadre

)

select * from final
