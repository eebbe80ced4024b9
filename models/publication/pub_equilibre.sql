with

equilibre as (

    select
        *,
        {{ denominateur_secret('n_traites') }} or {{ denominateur_secret('n_temoins') }}
            or (k_traites is not null and {{ proportion_secrete('k_traites', 'n_traites') }})
            or (k_temoins is not null and {{ proportion_secrete('k_temoins', 'n_temoins') }})
            as secret
    from {{ source('evaluation', 'fct_equilibre') }}

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
        desequilibre_avant or desequilibre_apres as desequilibre,
        {{ liste_secrets([('moyenne_traites', 'secret'), ('moyenne_temoins', 'secret')]) }}
            as cellules_secretes
    from equilibre

)

select * from final
