{#-
    Comparison estimates as published: a cohort under the denominator threshold, or a count
    (or its complement) from 1 to the threshold, hides the counts, the proportions and every
    estimate of the row (they would give the counts back).
-#}
with

comparaisons as (

    select * from {{ source('evaluation', 'fct_comparaisons') }}

),

drapeaux as (

    select
        *,
        {{ denominateur_secret('n_traites') }} or {{ denominateur_secret('n_temoins') }}
            or (k_traites is not null and {{ proportion_secrete('k_traites', 'n_traites') }})
            or (k_temoins is not null and {{ proportion_secrete('k_temoins', 'n_temoins') }})
            as ligne_secrete
    from comparaisons

),

final as (

    select
        projet_id,
        resultat,
        horizon_mois,
        methode,
        {{ masquer('n_traites', effectif_secret('n_traites')) }} as n_traites,
        {{ masquer('k_traites', 'ligne_secrete') }} as k_traites,
        {{ masquer('n_temoins', effectif_secret('n_temoins')) }} as n_temoins,
        {{ masquer('k_temoins', 'ligne_secrete') }} as k_temoins,
        {{ masquer('p_traites', 'ligne_secrete') }} as p_traites,
        {{ masquer('p_temoins', 'ligne_secrete') }} as p_temoins,
        {{ masquer('estimation', 'ligne_secrete') }} as estimation,
        {{ masquer('ic_bas', 'ligne_secrete') }} as ic_bas,
        {{ masquer('ic_haut', 'ligne_secrete') }} as ic_haut,
        {{ masquer('p_valeur', 'ligne_secrete') }} as p_valeur,
        ess,
        {{ masquer('e_valeur', 'ligne_secrete') }} as e_valeur,
        {{ masquer('e_valeur_ic', 'ligne_secrete') }} as e_valeur_ic,
        {{ masquer('p_holm', 'ligne_secrete') }} as p_holm,
        estimande,
        covariables_utilisees,
        covariables_ecartees,
        avertissements,
        {{ liste_secrets([('k_traites', 'ligne_secrete'), ('k_temoins', 'ligne_secrete'),
            ('estimation', 'ligne_secrete'), ('n_traites', effectif_secret('n_traites')),
            ('n_temoins', effectif_secret('n_temoins')), ('e_valeur', 'ligne_secrete'),
            ('e_valeur_ic', 'ligne_secrete'), ('p_holm', 'ligne_secrete')]) }} as cellules_secretes
    from drapeaux

)

select * from final
