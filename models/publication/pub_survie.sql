{#- Kaplan–Meier points: only while the number at risk reaches the denominator threshold. -#}
with

survie as (

    select * from {{ source('evaluation', 'fct_survie') }}

),

final as (

    select
        projet_id,
        evenement,
        cohorte,
        temps,
        survie,
        ic_bas,
        ic_haut,
        n_risque,
        '' as cellules_secretes
    from survie
    where not {{ denominateur_secret('n_risque') }}

)

select * from final
