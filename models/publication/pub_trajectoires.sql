{#-
    Mean debt curves as published: a month whose cohort has fewer households than
    `seuil_denominateur` is not drawn (mean and interval hidden, and its count); the number of
    households of each month is published rounded to a multiple of `seuil_denominateur`
    (`arrondi_effectif`): the month-to-month differences of exact counts would be the households
    that left the panel (evictions among them).
-#}
with

trajectoires as (

    select * from {{ source('evaluation', 'fct_trajectoires') }}

),

final as (

    select
        projet_id,
        cohorte,
        mois_relatif,
        {{ masquer(arrondi_effectif('n'), denominateur_secret('n')) }} as n,
        {{ masquer('moyenne', denominateur_secret('n')) }} as moyenne,
        {{ masquer('ic_bas', denominateur_secret('n')) }} as ic_bas,
        {{ masquer('ic_haut', denominateur_secret('n')) }} as ic_haut,
        {{ liste_secrets([('n', denominateur_secret('n')), ('moyenne', denominateur_secret('n')),
            ('ic_bas', denominateur_secret('n')), ('ic_haut', denominateur_secret('n'))]) }} as cellules_secretes
    from trajectoires

)

select * from final
