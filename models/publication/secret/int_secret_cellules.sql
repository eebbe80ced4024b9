{#-
    The secrecy decision, one row per canonical cell (published, or `implicite`: the
    unpublished complement n − k of a proportion): its number, how many published figures
    show it (`poids`), whether it is secret, and why (`motif`: `primaire`, `paire` for a
    proportion on too few households, `secondaire` with the round `tour_secret`).
    Rules in macros/secret_statistique.sql.
-#}
{%- set tours = secret_tours() | int -%}
with

occurrences as (

    select * from {{ ref('int_secret_occurrences') }}

),

proportions as (

    select * from {{ ref('int_secret_proportions') }}

),

equations as (

    select * from {{ ref('int_secret_equations') }}

),

publiees as (

    select
        cellule_id,
        max(mesure) as mesure,
        max(niveau) as niveau,
        max(projet_id) as projet_id,
        max(dimension) as dimension,
        max(valeur) as valeur,
        count(*) as poids,
        max(case when primaire then 1 else 0 end) = 1 as primaire,
        false as implicite
    from occurrences
    group by cellule_id

),

implicites as (

    select
        cellule_complement as cellule_id,
        'complement' as mesure,
        '' as niveau,
        '' as projet_id,
        '' as dimension,
        complement as valeur,
        0 as poids,
        {{ effectif_secret('complement') }} as primaire,
        true as implicite
    from proportions
    where not sur_rendez_vous

),

cellules as (

    select * from publiees
    union all
    select * from implicites

),

{#- A proportion on too few households: hide the lighter of n and k (the k on a tie). #}
paires as (

    select
        case
            when cellules_n.poids < cellules_k.poids
                or (cellules_n.poids = cellules_k.poids and abs(cellules_n.valeur) < abs(cellules_k.valeur))
                then proportions.cellule_n
            else proportions.cellule_k
        end as cellule_id
    from proportions
    inner join publiees as cellules_n
        on proportions.cellule_n = cellules_n.cellule_id
    inner join publiees as cellules_k
        on proportions.cellule_k = cellules_k.cellule_id
    where proportions.denominateur_insuffisant
        and not cellules_n.primaire
        and not cellules_k.primaire

),

secretes_0 as (

    select
        cellule_id,
        0 as tour,
        'primaire' as motif
    from cellules
    where primaire
    union all
    select distinct
        paires.cellule_id,
        0 as tour,
        'paire' as motif
    from paires
    inner join publiees
        on paires.cellule_id = publiees.cellule_id
    where not publiees.primaire

),

{% for tour in range(1, tours + 1) %}
etat_{{ tour }} as (

    select
        equations.equation_id,
        equations.cellule_id,
        equations.rang_choix,
        cellules.valeur,
        cellules.poids,
        case when secretes.cellule_id is not null then 1 else 0 end as secrete,
        case when secretes.cellule_id is not null or equations.implicite then 1 else 0 end as inconnue
    from equations
    inner join cellules
        on equations.cellule_id = cellules.cellule_id
    left join secretes_{{ tour - 1 }} as secretes
        on equations.cellule_id = secretes.cellule_id

),

ouvertes_{{ tour }} as (

    select equation_id
    from etat_{{ tour }}
    group by equation_id
    having sum(inconnue) = 1 and sum(secrete) = 1

),

choix_{{ tour }} as (

    select
        etat.cellule_id,
        row_number() over (
            partition by etat.equation_id
            order by
                case when etat.valeur = 0 then 1 else 0 end,
                etat.rang_choix,
                etat.poids,
                abs(etat.valeur),
                etat.cellule_id
        ) as rang
    from etat_{{ tour }} as etat
    inner join ouvertes_{{ tour }} as ouvertes
        on etat.equation_id = ouvertes.equation_id
    where etat.inconnue = 0

),

secretes_{{ tour }} as (

    select
        cellule_id,
        tour,
        motif
    from secretes_{{ tour - 1 }}
    union all
    select distinct
        choix.cellule_id,
        {{ tour }} as tour,
        'secondaire' as motif
    from choix_{{ tour }} as choix
    left join secretes_{{ tour - 1 }} as deja
        on choix.cellule_id = deja.cellule_id
    where choix.rang = 1
        and deja.cellule_id is null

),

{% endfor %}
final as (

    select
        cellules.cellule_id,
        cellules.mesure,
        cellules.niveau,
        cellules.projet_id,
        cellules.dimension,
        cellules.valeur,
        cellules.poids,
        cellules.implicite,
        cellules.primaire,
        secretes.cellule_id is not null as secrete,
        secretes.motif,
        secretes.tour as tour_secret
    from cellules
    left join secretes_{{ tours }} as secretes
        on cellules.cellule_id = secretes.cellule_id

)

select * from final
