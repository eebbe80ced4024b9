{#-
    Which extraction of each project the warehouse uses, and why when the last run refused a
    delivery of the project at least as recent (changed on disk since it was read, or new and
    invalid): the project then keeps its last accepted extraction, and the fiche says so.
    Dates only: no count, no household.
-#}
with

effectifs as (

    select projet_id, date_extraction from {{ ref('fct_effectifs_projet') }}

),

journal as (

    select * from {{ ref('stg_livraisons__journal') }}

),

derniere_execution as (

    select execution_id from journal order by horodatage desc limit 1

),

refus as (

    select
        projet_id,
        max(date_extraction) as date_livraison_refusee
    from journal
    where statut = 'refusee'
        and projet_id is not null
        and date_extraction is not null
        and execution_id in (select execution_id from derniere_execution)
    group by projet_id

),

lectures as (

    select
        projet_id,
        date_extraction,
        cast(max(horodatage) as date) as lue_le
    from journal
    where statut = 'acceptee'
    group by projet_id, date_extraction

),

final as (

    select
        effectifs.projet_id,
        effectifs.date_extraction as date_extraction_en_usage,
        lectures.lue_le,
        case
            when refus.date_livraison_refusee >= effectifs.date_extraction
                then refus.date_livraison_refusee
        end as date_livraison_refusee,
        '' as cellules_secretes
    from effectifs
    left join refus
        on effectifs.projet_id = refus.projet_id
    left join lectures
        on effectifs.projet_id = lectures.projet_id
        and effectifs.date_extraction = lectures.date_extraction

)

select * from final
