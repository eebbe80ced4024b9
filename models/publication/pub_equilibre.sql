with

equilibre as (

    select * from {{ source('evaluation', 'fct_equilibre') }}

),

final as (

    select
        projet_id,
        covariable,
        niveau,
        {{ masquer('moyenne_traites', 'secret') }} as moyenne_traites,
        {{ masquer('moyenne_temoins', 'secret') }} as moyenne_temoins,
        smd_avant,
        smd_apres,
        desequilibre,
        {{ liste_secrets([('moyenne_traites', 'secret'), ('moyenne_temoins', 'secret')]) }}
            as cellules_secretes
    from equilibre

)

select * from final
