{#- Mean debt curves: a month whose cohort has fewer households than the threshold is not drawn. -#}
with

trajectoires as (

    select * from {{ source('evaluation', 'fct_trajectoires') }}

),

final as (

    select
        projet_id,
        cohorte,
        mois_relatif,
        {{ masquer('n', effectif_secret('n')) }} as n,
        {{ masquer('moyenne', denominateur_secret('n')) }} as moyenne,
        {{ masquer('ic_bas', denominateur_secret('n')) }} as ic_bas,
        {{ masquer('ic_haut', denominateur_secret('n')) }} as ic_haut,
        {{ liste_secrets([('n', effectif_secret('n')), ('moyenne', denominateur_secret('n'))]) }}
            as cellules_secretes
    from trajectoires

)

select * from final
