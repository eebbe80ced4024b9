{#-
    The sums that tie published cells, one row per sum and member (`total` or `partie`):
    landlords, volets and départements of a project add up to the project; projects and
    landlords (across projects) to the programme; a landlord's projects to the landlord;
    ended and running accompaniments to adhered households (and, for a one-year project where
    they are equal, the households accompanied per year to them); k and its unpublished complement
    (`implicite`) to n. A sum is listed only when its total is published. `rang_choix` orders
    the cells a secondary suppression may pick: the parts of a sum before its total (a total
    is hidden only when no part can be); n and k of a proportion alike.
-#}
with

occurrences as (

    select * from {{ ref('int_secret_occurrences') }}

),

proportions as (

    select * from {{ ref('int_secret_proportions') }}

),

couts as (

    select * from {{ ref('fct_couts_projet') }}

),

valeurs as (

    select
        cellule_id,
        max(valeur) as valeur
    from occurrences
    group by cellule_id

),

cellules as (

    select
        cellule_id,
        max(mesure) as mesure,
        max(niveau) as niveau,
        max(projet_id) as projet_id,
        max(dimension) as dimension
    from occurrences
    group by cellule_id

),

parents as (

    select
        cellule_id,
        niveau as famille,
        {{ secret_cellule_id('mesure', 'projet', 'projet_id') }} as total_id
    from cellules
    where niveau in ('bailleur', 'volet', 'departement')
    union all
    select
        cellule_id,
        niveau as famille,
        {{ secret_cellule_id('mesure', 'programme') }} as total_id
    from cellules
    where niveau in ('projet', 'bailleur_programme')
    union all
    select
        cellule_id,
        'projets_du_bailleur' as famille,
        {{ secret_cellule_id('mesure', 'bailleur_programme', 'null', 'dimension') }} as total_id
    from cellules
    where niveau = 'bailleur'
    union all
    select
        cellule_id,
        'fin_accompagnement' as famille,
        {{ secret_cellule_id("'adherents'", 'projet', 'projet_id') }} as total_id
    from cellules
    where niveau = 'projet' and mesure in ('termines', 'en_cours')
    union all
    {#- A one-year project whose households accompanied that year are all its adhered households. #}
    select
        cellules.cellule_id,
        'une_annee' as famille,
        {{ secret_cellule_id("'adherents'", 'projet', 'cellules.projet_id') }} as total_id
    from cellules
    inner join couts
        on cellules.projet_id = couts.projet_id
    inner join valeurs as adherents
        on adherents.cellule_id = {{ secret_cellule_id("'adherents'", 'projet', 'cellules.projet_id') }}
    where cellules.niveau = 'projet'
        and cellules.mesure = 'accompagnes_par_an'
        and couts.annees = 1
        and couts.menages_accompagnes_par_an = adherents.valeur

),

sommes as (

    select
        {{ dbt.concat(['parents.famille', "':'", 'parents.total_id']) }} as equation_id,
        parents.total_id,
        parents.cellule_id as partie_id
    from parents
    inner join cellules as totaux
        on parents.total_id = totaux.cellule_id

),

membres as (

    select distinct
        equation_id,
        total_id as cellule_id,
        'total' as role,
        false as implicite,
        1 as rang_choix
    from sommes
    union all
    select
        equation_id,
        partie_id as cellule_id,
        'partie' as role,
        false as implicite,
        0 as rang_choix
    from sommes
    union all
    select
        {{ dbt.concat(["'complement:'", 'cellule_complement']) }} as equation_id,
        cellule_n as cellule_id,
        'total' as role,
        false as implicite,
        0 as rang_choix
    from proportions
    where not sur_rendez_vous
    union all
    select
        {{ dbt.concat(["'complement:'", 'cellule_complement']) }} as equation_id,
        cellule_k as cellule_id,
        'partie' as role,
        false as implicite,
        0 as rang_choix
    from proportions
    where not sur_rendez_vous
    union all
    select
        {{ dbt.concat(["'complement:'", 'cellule_complement']) }} as equation_id,
        cellule_complement as cellule_id,
        'partie' as role,
        true as implicite,
        0 as rang_choix
    from proportions
    where not sur_rendez_vous

),

final as (

    select * from membres

)

select * from final
