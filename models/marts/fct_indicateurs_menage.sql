with

indicateurs as (

    select * from {{ ref('int_indicateurs_menage') }}
    where cadre = 'descriptif'

),

final as (

    select
        projet_id,
        menage_id,
        bailleur_id,
        cohorte,
        volet,
        departement,
        date_orientation,
        date_extraction,
        date_resultat,
        mois_resultat,
        adhesion,
        duree_accompagnement_mois,
        dette_entree,
        en_dette_entree,
        dette_sortie,
        dette_resorbee,
        dette_reduite,
        loyer_a_jour,
        en_procedure,
        expulse,
        expulsion_evitee,
        maintien,
        relogement,
        rdv_honores,
        rdv_prevus,
        gain_energie_eur
    from indicateurs

)

select * from final
