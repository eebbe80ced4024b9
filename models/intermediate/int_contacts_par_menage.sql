{#-
    Meetings of the accompaniment (home visits and office appointments), one row per
    household and frame: every such contact of the delivery counts, whatever its date
    (indicators.md sets no date bound on rdv).
-#}
with

cadres as (

    select * from {{ ref('int_menages_cadres') }}

),

contacts as (

    select * from {{ ref('stg_livraisons__contacts') }}

),

final as (

    select
        cadres.projet_id,
        cadres.menage_id,
        cadres.cadre,
        count(*) as rdv_prevus,
        count(case when contacts.honore then 1 end) as rdv_honores
    from cadres
    inner join contacts
        on cadres.projet_id = contacts.projet_id
        and cadres.menage_id = contacts.menage_id
    where contacts.type_contact in ('visite_domicile', 'rdv_bureau')
    group by cadres.projet_id, cadres.menage_id, cadres.cadre

)

select * from final
