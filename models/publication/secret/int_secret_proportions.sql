{#-
    Every published proportion, one row per pair of cells (n, k): whether it rests on too few
    households (one of its two cells must then be hidden), and for proportions of households
    the unpublished complement n − k, protected like a published count.
-#}
with

indicateurs_programme as (

    select * from {{ ref('fct_indicateurs_programme') }}

),

indicateurs_projet as (

    select * from {{ ref('fct_indicateurs_projet') }}

),

indicateurs_bailleur as (

    select * from {{ ref('fct_indicateurs_bailleur') }}

),

indicateurs_volet as (

    select * from {{ ref('fct_indicateurs_volet') }}

),

indicateurs_departement as (

    select * from {{ ref('fct_indicateurs_departement') }}

),

benchmark_bailleur as (

    select
        *,
        'proportion' as nature
    from {{ ref('fct_benchmark_bailleur') }}

),

proportions as (

    {{ secret_proportions_indicateurs('indicateurs_programme', 'programme') }}
    union all
    {{ secret_proportions_indicateurs('indicateurs_projet', 'projet', 'projet_id') }}
    union all
    {{ secret_proportions_indicateurs('indicateurs_bailleur', 'bailleur', 'projet_id', 'bailleur_id') }}
    union all
    {{ secret_proportions_indicateurs('indicateurs_volet', 'volet', 'projet_id', 'volet') }}
    union all
    {{ secret_proportions_indicateurs('indicateurs_departement', 'departement', 'projet_id', 'departement') }}
    union all
    {{ secret_proportions_indicateurs('benchmark_bailleur', 'bailleur_programme', 'null', 'bailleur_id') }}

),

final as (

    select
        cellule_n,
        cellule_k,
        {{ dbt.concat(["'complement|'", 'cellule_n', "'|'", 'cellule_k']) }} as cellule_complement,
        max(n) as n,
        max(k) as k,
        max(n) - max(k) as complement,
        max(case when sur_rendez_vous then 1 else 0 end) = 1 as sur_rendez_vous,
        max(case when denominateur_insuffisant then 1 else 0 end) = 1 as denominateur_insuffisant
    from proportions
    group by cellule_n, cellule_k

)

select * from final
