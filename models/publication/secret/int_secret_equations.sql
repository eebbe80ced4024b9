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

evaluation as (

    select * from {{ ref('int_secret_evaluation') }}

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

{#- A population inside another: the parent is the sum of the child and the remainder. #}
sous_populations as (

    select
        enfants.cellule_id as partie_id,
        parents.cellule_id as total_id
    from cellules as enfants
    inner join cellules as parents
        on enfants.niveau = parents.niveau
        and enfants.projet_id = parents.projet_id
        and enfants.dimension = parents.dimension
        and parents.mesure = case enfants.mesure
            {%- for enfant, parent in secret_sous_populations().items() %}
            when '{{ enfant }}' then '{{ parent }}'
            {%- endfor %}
        end

),

{#- The comparison's counts: n and k of each row and cohort. #}
{%- set cohortes = ['traites', 'temoins'] %}
paires_evaluation as (

    {% for cohorte in cohortes %}
    select distinct
        effectifs.cellule_id as cellule_n,
        evenements.cellule_id as cellule_k
    from evaluation as effectifs
    inner join evaluation as evenements
        on effectifs.table_publiee = evenements.table_publiee
        and effectifs.ligne = evenements.ligne
        and effectifs.colonne = 'n_{{ cohorte }}'
        and evenements.colonne = 'k_{{ cohorte }}'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{#- Households with a known outcome, inside their cohort. #}
connus_evaluation as (

    {% for cohorte in cohortes %}
    select distinct
        cellule_id as partie_id,
        {{ secret_cellule_id("'cohorte_" ~ cohorte ~ "'", 'evaluation', 'projet_id') }} as total_id
    from evaluation
    where colonne = 'n_{{ cohorte }}' and mesure like 'connu_%'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{#- The levels of a covariate, and the remainder, make up the cohort. #}
partitions_evaluation as (

    {% for cohorte in cohortes %}
    select
        {{ dbt.concat(["'partition|'", 'mesure', "'|'", 'projet_id']) }} as partition_id,
        cellule_id as partie_id,
        {{ secret_cellule_id("'cohorte_" ~ cohorte ~ "'", 'evaluation', 'projet_id') }} as total_id
    from evaluation
    where table_publiee = 'pub_equilibre' and colonne = 'k_{{ cohorte }}'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

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
    {%- for source, prefixe in [('sous_populations', 'reste'), ('connus_evaluation', 'reste')] %}
    union all
    select distinct
        {{ dbt.concat(["'" ~ prefixe ~ ":'", 'partie_id']) }} as equation_id,
        total_id as cellule_id,
        'total' as role,
        false as implicite,
        1 as rang_choix
    from {{ source }}
    union all
    select distinct
        {{ dbt.concat(["'" ~ prefixe ~ ":'", 'partie_id']) }} as equation_id,
        partie_id as cellule_id,
        'partie' as role,
        false as implicite,
        0 as rang_choix
    from {{ source }}
    union all
    select distinct
        {{ dbt.concat(["'" ~ prefixe ~ ":'", 'partie_id']) }} as equation_id,
        {{ dbt.concat(["'" ~ prefixe ~ "|'", 'partie_id']) }} as cellule_id,
        'partie' as role,
        true as implicite,
        0 as rang_choix
    from {{ source }}
    {%- endfor %}
    union all
    select
        {{ dbt.concat(["'complement:complement|'", 'cellule_n', "'|'", 'cellule_k']) }} as equation_id,
        cellule_n as cellule_id,
        'total' as role,
        false as implicite,
        0 as rang_choix
    from paires_evaluation
    union all
    select
        {{ dbt.concat(["'complement:complement|'", 'cellule_n', "'|'", 'cellule_k']) }} as equation_id,
        cellule_k as cellule_id,
        'partie' as role,
        false as implicite,
        0 as rang_choix
    from paires_evaluation
    union all
    select
        {{ dbt.concat(["'complement:complement|'", 'cellule_n', "'|'", 'cellule_k']) }} as equation_id,
        {{ dbt.concat(["'complement|'", 'cellule_n', "'|'", 'cellule_k']) }} as cellule_id,
        'partie' as role,
        true as implicite,
        0 as rang_choix
    from paires_evaluation
    union all
    select distinct
        {{ dbt.concat(["'partition:'", 'partition_id']) }} as equation_id,
        total_id as cellule_id,
        'total' as role,
        false as implicite,
        1 as rang_choix
    from partitions_evaluation
    union all
    select
        {{ dbt.concat(["'partition:'", 'partition_id']) }} as equation_id,
        partie_id as cellule_id,
        'partie' as role,
        false as implicite,
        0 as rang_choix
    from partitions_evaluation
    union all
    select distinct
        {{ dbt.concat(["'partition:'", 'partition_id']) }} as equation_id,
        partition_id as cellule_id,
        'partie' as role,
        true as implicite,
        0 as rang_choix
    from partitions_evaluation

),

final as (

    select * from membres

)

select * from final
