with

menages as (

    select * from {{ ref('int_indicateurs_menage') }}
    where cadre = 'descriptif'

),

final as (

    select
        projet_id,
        max(date_extraction) as date_extraction,
        min(date_orientation) as premiere_orientation,
        max(date_orientation) as derniere_orientation,
        cast(count(case when cohorte = 'accompagne' then 1 end) as integer) as menages_orientes,
        cast(count(case when adhesion then 1 end) as integer) as menages_accompagnes,
        cast(count(case when adhesion and date_fin_accompagnement is not null then 1 end) as integer)
            as menages_termines,
        cast(count(case when adhesion and date_fin_accompagnement is null then 1 end) as integer)
            as menages_en_cours,
        cast(count(case when cohorte = 'temoin' then 1 end) as integer) as menages_temoins,
        cast(count(case when cohorte = 'accompagne' and volet = 'maintien' then 1 end) as integer)
            as volet_maintien,
        cast(count(case when cohorte = 'accompagne' and volet = 'acces' then 1 end) as integer)
            as volet_acces
    from menages
    group by projet_id

)

select * from final
