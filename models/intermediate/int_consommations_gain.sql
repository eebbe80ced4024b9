{#-
    Energy gain, one row per household and frame with six months of readings or more:
    mean monthly bill (all fluids summed) over the first three months of the accompaniment
    minus the same over the last three observed months up to the outcome month, in cents
    then rounded to the cent.
-#}
with

cadres as (

    select * from {{ ref('int_menages_cadres') }}

),

menages as (

    select * from {{ ref('stg_livraisons__menages') }}

),

consommations as (

    select * from {{ ref('stg_livraisons__consommations') }}

),

factures_mensuelles as (

    select
        cadres.projet_id,
        cadres.menage_id,
        cadres.cadre,
        consommations.mois,
        sum(consommations.montant) as montant
    from cadres
    inner join menages
        on cadres.projet_id = menages.projet_id
        and cadres.menage_id = menages.menage_id
    inner join consommations
        on cadres.projet_id = consommations.projet_id
        and cadres.menage_id = consommations.menage_id
    where menages.date_debut_accompagnement is not null
        and consommations.mois >= {{ mois_de('menages.date_debut_accompagnement') }}
        and consommations.mois <= cadres.mois_resultat
    group by cadres.projet_id, cadres.menage_id, cadres.cadre, consommations.mois

),

rangs as (

    select
        *,
        row_number() over (partition by projet_id, menage_id, cadre order by mois) as rang_debut,
        row_number() over (partition by projet_id, menage_id, cadre order by mois desc) as rang_fin
    from factures_mensuelles

),

sommes as (

    select
        projet_id,
        menage_id,
        cadre,
        count(*) as mois_releves,
        sum(case when rang_debut <= 3 then montant else 0 end) as total_debut,
        sum(case when rang_fin <= 3 then montant else 0 end) as total_fin
    from rangs
    group by projet_id, menage_id, cadre

),

final as (

    select
        projet_id,
        menage_id,
        cadre,
        mois_releves,
        {{ arrondi_centimes(centimes('total_debut - total_fin'), 3) }} as gain_energie_eur
    from sommes
    where mois_releves >= 6

)

select * from final
