with

menages as (

    select * from {{ ref('stg_livraisons__menages') }}

),

comptes as (

    select * from {{ ref('stg_livraisons__comptes_mensuels') }}

),

final as (

    select
        comptes.projet_id,
        comptes.menage_id,
        menages.bailleur_id,
        menages.cohorte,
        menages.volet,
        comptes.mois,
        {{ ecart_mois(mois_de('menages.date_orientation'), 'comptes.mois') }} as mois_relatif,
        comptes.quittance,
        comptes.aide_logement,
        comptes.paiement,
        comptes.regularisation,
        comptes.solde_fin_mois,
        comptes.solde_fin_mois > 0 as en_dette
    from comptes
    inner join menages
        on comptes.projet_id = menages.projet_id
        and comptes.menage_id = menages.menage_id

)

select * from final
