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

{#-
    The same households in two cells of a project (a département whose households are all one
    landlord's, a volet all in one département…): one number, so the two cells are tied by an
    identity (found on the households' landlord × volet × département cross-classification).
#}
{%- set croisements = [
    ('bailleur', 'bailleur_id', 'departement', 'departement'),
    ('bailleur', 'bailleur_id', 'volet', 'volet'),
    ('volet', 'volet', 'departement', 'departement'),
] %}
atomes as (

    select
        projet_id,
        indicateur,
        bailleur_id,
        volet,
        departement,
        sum(n) as n,
        sum(k) as k
    from {{ ref('int_indicateurs_contributions') }}
    where indicateur != 'rdv_honores'
    group by projet_id, indicateur, bailleur_id, volet, departement

),

identites as (

    {%- for mesure, fonction in [('n', secret_mesure_n), ('k', secret_mesure_k)] %}
    {%- set boucle_mesure = loop %}
    {%- for niveau_a, colonne_a, niveau_b, colonne_b in croisements %}
    select distinct
        {{ secret_cellule_id(fonction('croises.indicateur'), niveau_a, 'croises.projet_id', 'croises.a') }} as total_id,
        {{ secret_cellule_id(fonction('croises.indicateur'), niveau_b, 'croises.projet_id', 'croises.b') }} as partie_id
    from (
        select
            projet_id,
            indicateur,
            {{ colonne_a }} as a,
            {{ colonne_b }} as b,
            sum({{ mesure }}) as commun,
            sum(sum({{ mesure }})) over (partition by projet_id, indicateur, {{ colonne_a }}) as total_a,
            sum(sum({{ mesure }})) over (partition by projet_id, indicateur, {{ colonne_b }}) as total_b
        from atomes
        group by projet_id, indicateur, {{ colonne_a }}, {{ colonne_b }}
    ) as croises
    where croises.commun > 0
        and croises.commun = croises.total_a
        and croises.commun = croises.total_b
    {% if not (loop.last and boucle_mesure.last) %}union all{% endif %}
    {%- endfor %}
    {%- endfor %}

),

{#-
    The cube: the households of a project cross-classified by landlord, volet and département
    (`atomes`, unpublished cells whose number is known here). Every cell of a project (its total,
    a landlord, a volet, a département) is the sum of its atoms, for n and for k, and each atom's
    k and complement make up its n: what an attacker who knows which landlords work where can
    combine (a landlord's households spread over départements, one of them its alone).
#}
{%- set niveaux_cube = [('projet', 'null'), ('bailleur', 'bailleur_id'), ('volet', 'volet'),
    ('departement', 'departement')] %}
cube as (

    {%- for mesure, fonction in [('n', secret_mesure_n), ('k', secret_mesure_k)] %}
    {%- set boucle_mesure = loop %}
    {%- for niveau, colonne in niveaux_cube %}
    select distinct
        {{ dbt.concat(["'cube:'", secret_cellule_id(fonction('indicateur'), niveau, 'projet_id', colonne)]) }}
            as equation_id,
        {{ secret_cellule_id(fonction('indicateur'), niveau, 'projet_id', colonne) }} as total_id,
        {{ dbt.concat(["'atome|'", fonction('indicateur'), "'|'", 'projet_id', "'|'", 'bailleur_id', "'|'",
            "coalesce(volet, '')", "'|'", "coalesce(departement, '')"]) }} as atome_id,
        cast({{ mesure }} as double) as valeur
    from atomes
    where {{ mesure }} is not null
    {% if not (loop.last and boucle_mesure.last) %}union all{% endif %}
    {%- endfor %}
    {%- endfor %}

),

complements_cube as (

    select distinct
        {{ dbt.concat(["'cube_complement:'", "'atome|'", secret_mesure_n('indicateur'), "'|'", 'projet_id', "'|'",
            'bailleur_id', "'|'", "coalesce(volet, '')", "'|'", "coalesce(departement, '')", "'|'",
            secret_mesure_k('indicateur')]) }} as equation_id,
        {{ dbt.concat(["'atome|'", secret_mesure_n('indicateur'), "'|'", 'projet_id', "'|'", 'bailleur_id', "'|'",
            "coalesce(volet, '')", "'|'", "coalesce(departement, '')"]) }} as atome_n,
        {{ dbt.concat(["'atome|'", secret_mesure_k('indicateur'), "'|'", 'projet_id', "'|'", 'bailleur_id', "'|'",
            "coalesce(volet, '')", "'|'", "coalesce(departement, '')"]) }} as atome_k,
        cast(n as double) as n,
        cast(k as double) as k
    from atomes
    where k is not null and n is not null

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
        {{ dbt.concat(["'identite:'", 'total_id', "'='", 'partie_id']) }} as equation_id,
        total_id as cellule_id,
        'total' as role,
        false as implicite,
        1 as rang_choix
    from identites
    union all
    select distinct
        {{ dbt.concat(["'identite:'", 'total_id', "'='", 'partie_id']) }} as equation_id,
        partie_id as cellule_id,
        'partie' as role,
        false as implicite,
        0 as rang_choix
    from identites
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

{#- The atoms' own numbers (`valeur`, null for the other members). #}
final as (

    select
        membres.*,
        cast(null as double) as valeur
    from membres
    union all
    select distinct
        equation_id,
        total_id as cellule_id,
        'total' as role,
        false as implicite,
        1 as rang_choix,
        cast(null as double) as valeur
    from cube
    union all
    select distinct
        equation_id,
        atome_id as cellule_id,
        'partie' as role,
        true as implicite,
        0 as rang_choix,
        valeur
    from cube
    union all
    select distinct
        equation_id,
        atome_n as cellule_id,
        'total' as role,
        true as implicite,
        0 as rang_choix,
        n as valeur
    from complements_cube
    union all
    select distinct
        equation_id,
        atome_k as cellule_id,
        'partie' as role,
        true as implicite,
        0 as rang_choix,
        k as valeur
    from complements_cube
    union all
    select distinct
        equation_id,
        {{ dbt.concat(["'complement|'", 'atome_n', "'|'", 'atome_k']) }} as cellule_id,
        'partie' as role,
        true as implicite,
        0 as rang_choix,
        n - k as valeur
    from complements_cube

)

select * from final
