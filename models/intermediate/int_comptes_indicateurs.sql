{#-
    Rent-account indicators, one row per household and frame:
    dette_entree = solde(m0 − 1), else solde(m0); dette_sortie = solde of the latest account
    month from m0 to mo; loyer_a_jour from solde(mo), else from the three months mo−2..mo.
-#}
with

cadres as (

    select * from {{ ref('int_menages_cadres') }}

),

comptes as (

    select * from {{ ref('stg_livraisons__comptes_mensuels') }}

),

comptes_cadres as (

    select
        cadres.projet_id,
        cadres.menage_id,
        cadres.cadre,
        cadres.mois_index,
        cadres.mois_resultat,
        comptes.mois,
        comptes.solde_fin_mois,
        comptes.paiement + comptes.aide_logement >= comptes.quittance as mois_couvert
    from cadres
    inner join comptes
        on cadres.projet_id = comptes.projet_id
        and cadres.menage_id = comptes.menage_id

),

par_menage as (

    -- one pass over the accounts: the balance of the latest month observed from m0 to mo
    -- is taken in the same aggregate (max_by: DuckDB and Spark SQL alike)
    select
        projet_id,
        menage_id,
        cadre,
        max(case when mois = {{ ajouter_mois('mois_index', -1) }} then solde_fin_mois end)
            as solde_avant_index,
        max(case when mois = mois_index then solde_fin_mois end) as solde_index,
        max(case when mois = mois_resultat then solde_fin_mois end) as solde_resultat,
        max(case when mois between mois_index and mois_resultat then mois end)
            as dernier_mois_observe,
        max_by(solde_fin_mois, case when mois between mois_index and mois_resultat then mois end)
            as dette_sortie,
        count(case when mois between {{ ajouter_mois('mois_resultat', -2) }} and mois_resultat
            then 1 end) as mois_recents,
        count(case when mois between {{ ajouter_mois('mois_resultat', -2) }} and mois_resultat
            and mois_couvert then 1 end) as mois_recents_couverts
    from comptes_cadres
    group by projet_id, menage_id, cadre

),

final as (

    select
        projet_id,
        menage_id,
        cadre,
        coalesce(solde_avant_index, solde_index) as dette_entree,
        dette_sortie,
        dernier_mois_observe,
        case
            when solde_resultat is not null and solde_resultat <= 0 then true
            when mois_recents = 3 then mois_recents_couverts = 3
        end as loyer_a_jour
    from par_menage

)

select * from final
