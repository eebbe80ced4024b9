{#-
    Every per-household indicator of indicators.md, one row per household and frame
    (`descriptif`, `comparaison`). The rules live here and only here.
-#}
with

cadres as (

    select * from {{ ref('int_menages_cadres') }}

),

menages as (

    select * from {{ ref('stg_livraisons__menages') }}

),

comptes as (

    select * from {{ ref('int_comptes_indicateurs') }}

),

evenements as (

    select * from {{ ref('int_evenements_indicateurs') }}

),

contacts as (

    select * from {{ ref('int_contacts_par_menage') }}

),

energie as (

    select * from {{ ref('int_consommations_gain') }}

),

assemble as (

    select
        cadres.projet_id,
        cadres.menage_id,
        cadres.cadre,
        menages.bailleur_id,
        menages.cohorte,
        menages.volet,
        menages.departement,
        menages.date_orientation,
        menages.date_debut_accompagnement,
        menages.date_fin_accompagnement,
        menages.motif_fin,
        menages.loyer_mensuel,
        cadres.date_extraction,
        cadres.mois_index,
        cadres.date_resultat,
        cadres.mois_resultat,
        menages.cohorte = 'accompagne' and menages.date_debut_accompagnement is not null
            as adhesion,
        case when menages.date_debut_accompagnement is not null then
            {{ mois_entiers('menages.date_debut_accompagnement',
                'coalesce(menages.date_fin_accompagnement, cadres.date_extraction)') }}
        end as duree_accompagnement_mois,
        comptes.dette_entree,
        comptes.dette_sortie,
        comptes.dernier_mois_observe,
        comptes.loyer_a_jour,
        comptes.mois_dette_soldee,
        coalesce(evenements.en_procedure, false) as en_procedure,
        coalesce(evenements.en_procedure_index, false) as en_procedure_index,
        coalesce(evenements.expulse, false) as expulse,
        coalesce(evenements.depart_volontaire, false) as depart_volontaire,
        coalesce(evenements.relogement, false) as relogement,
        evenements.date_expulsion,
        coalesce(contacts.rdv_prevus, 0) as rdv_prevus,
        coalesce(contacts.rdv_honores, 0) as rdv_honores,
        energie.mois_releves,
        energie.gain_energie_eur
    from cadres
    inner join menages
        on cadres.projet_id = menages.projet_id
        and cadres.menage_id = menages.menage_id
    left join comptes
        on cadres.projet_id = comptes.projet_id
        and cadres.menage_id = comptes.menage_id
        and cadres.cadre = comptes.cadre
    left join evenements
        on cadres.projet_id = evenements.projet_id
        and cadres.menage_id = evenements.menage_id
        and cadres.cadre = evenements.cadre
    left join contacts
        on cadres.projet_id = contacts.projet_id
        and cadres.menage_id = contacts.menage_id
        and cadres.cadre = contacts.cadre
    left join energie
        on cadres.projet_id = energie.projet_id
        and cadres.menage_id = energie.menage_id
        and cadres.cadre = energie.cadre

),

final as (

    select
        *,
        dette_entree > 0 as en_dette_entree,
        case
            when dette_entree <= 0 then false
            when dette_entree > 0 and dette_sortie is not null then dette_sortie <= 0
        end as dette_resorbee,
        case
            when dette_entree <= 0 then false
            when dette_entree > 0 and dette_sortie is not null then dette_sortie < dette_entree
        end as dette_reduite,
        en_procedure and not expulse and not depart_volontaire as expulsion_evitee,
        not expulse and not depart_volontaire as maintien
    from assemble

)

select * from final
