with

indicateurs as (

    select * from {{ ref('int_indicateurs_menage') }}
    where cadre = 'comparaison'

),

menages as (

    select * from {{ ref('stg_livraisons__menages') }}

),

final as (

    select
        indicateurs.projet_id,
        indicateurs.menage_id,
        indicateurs.bailleur_id,
        indicateurs.departement,
        indicateurs.cohorte,
        case when indicateurs.cohorte = 'accompagne' then 1 else 0 end as traite,
        indicateurs.volet,
        menages.composition,
        menages.tranche_age,
        menages.tranche_ressources,
        menages.taux_effort,
        menages.public_prioritaire,
        menages.origine_orientation,
        indicateurs.loyer_mensuel,
        indicateurs.dette_entree,
        cast(indicateurs.dette_entree as double) / cast(indicateurs.loyer_mensuel as double)
            as dette_entree_mois_loyer,
        indicateurs.en_dette_entree,
        indicateurs.en_procedure_index,
        {{ var('horizon_mois') }} as horizon_mois,
        indicateurs.date_resultat,
        indicateurs.loyer_a_jour,
        indicateurs.dette_sortie,
        case when indicateurs.en_dette_entree then indicateurs.dette_resorbee end as dette_resorbee,
        case when indicateurs.en_dette_entree then indicateurs.dette_reduite end as dette_reduite,
        indicateurs.en_procedure,
        indicateurs.expulse,
        indicateurs.maintien,
        case
            when indicateurs.expulse
                then {{ ecart_mois('indicateurs.mois_index', mois_de('indicateurs.date_expulsion')) }}
            else {{ var('horizon_mois') }}
        end as duree_suivi_expulsion_mois,
        indicateurs.expulse as expulsion_observee,
        case
            when indicateurs.mois_dette_soldee is not null
                then {{ ecart_mois('indicateurs.mois_index', 'indicateurs.mois_dette_soldee') }}
            else coalesce({{ ecart_mois('indicateurs.mois_index', 'indicateurs.dernier_mois_observe') }}, 0)
        end as duree_suivi_dette_mois,
        indicateurs.mois_dette_soldee is not null as dette_soldee_observee
    from indicateurs
    inner join menages
        on indicateurs.projet_id = menages.projet_id
        and indicateurs.menage_id = menages.menage_id

)

select * from final
