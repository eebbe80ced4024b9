{#-
    The counts of the comparison accompanied / control (fct_comparaisons, fct_equilibre) as cells
    of the secrecy layer, one row per published row and column, like int_secret_occurrences.

    Cells: the households of each cohort (`cohorte_traites`, `cohorte_temoins`); per outcome, the
    households with a known outcome (the cohort's cell when they are all of them) and those with
    the event; per covariate level, the households at that level (owned by the landlord when the
    covariate is the landlord). A count of 1 to `seuil_effectif` is primary, and so is every k of a
    cohort under `seuil_denominateur` households (its proportion would be published on too few).
    Their sums are in int_secret_equations (k and its complement to n; the known outcomes and
    their remainder to the cohort; the levels of a covariate and their remainder to the cohort).
-#}
{%- set cohortes = [('traites', 'accompagne'), ('temoins', 'temoin')] -%}
with

comparaisons as (

    select * from {{ source('evaluation', 'fct_comparaisons') }}

),

equilibre as (

    select * from {{ source('evaluation', 'fct_equilibre') }}

),

cohortes as (

    select
        projet_id,
        max(n_traites) as n_traites,
        max(n_temoins) as n_temoins
    from equilibre
    group by projet_id

),

occurrences as (

    {% for cohorte, code in cohortes %}
    select
        'pub_comparaisons' as table_publiee,
        {{ secret_ligne_comparaison('comparaisons') }} as ligne,
        'n_{{ cohorte }}' as colonne,
        case
            when comparaisons.n_{{ cohorte }} = cohortes.n_{{ cohorte }}
                then {{ secret_cellule_id("'cohorte_" ~ cohorte ~ "'", 'evaluation', 'comparaisons.projet_id') }}
            else {{ secret_cellule_id(dbt.concat(["'connu_" ~ cohorte ~ ".'", 'comparaisons.resultat']), 'evaluation',
                'comparaisons.projet_id') }}
        end as cellule_id,
        case
            when comparaisons.n_{{ cohorte }} = cohortes.n_{{ cohorte }} then 'cohorte_{{ cohorte }}'
            else {{ dbt.concat(["'connu_" ~ cohorte ~ ".'", 'comparaisons.resultat']) }}
        end as mesure,
        'evaluation' as niveau,
        comparaisons.projet_id,
        '' as dimension,
        '' as bailleur_id,
        cast(comparaisons.n_{{ cohorte }} as double) as valeur,
        {{ effectif_secret('comparaisons.n_' ~ cohorte) }} as primaire,
        false as publique,
        false as confirmee
    from comparaisons
    left join cohortes
        on comparaisons.projet_id = cohortes.projet_id
    where comparaisons.n_{{ cohorte }} is not null
    union all
    select
        'pub_comparaisons' as table_publiee,
        {{ secret_ligne_comparaison('comparaisons') }} as ligne,
        'k_{{ cohorte }}' as colonne,
        {{ secret_cellule_id(dbt.concat(["'evenement_" ~ cohorte ~ ".'", 'resultat']), 'evaluation', 'projet_id') }}
            as cellule_id,
        {{ dbt.concat(["'evenement_" ~ cohorte ~ ".'", 'resultat']) }} as mesure,
        'evaluation' as niveau,
        projet_id,
        '' as dimension,
        '' as bailleur_id,
        cast(k_{{ cohorte }} as double) as valeur,
        {{ effectif_secret('k_' ~ cohorte) }} or {{ denominateur_secret('n_' ~ cohorte) }} as primaire,
        false as publique,
        false as confirmee
    from comparaisons
    where k_{{ cohorte }} is not null
    union all
    select
        'pub_equilibre' as table_publiee,
        {{ secret_ligne_equilibre('equilibre') }} as ligne,
        'n_{{ cohorte }}' as colonne,
        {{ secret_cellule_id("'cohorte_" ~ cohorte ~ "'", 'evaluation', 'projet_id') }} as cellule_id,
        'cohorte_{{ cohorte }}' as mesure,
        'evaluation' as niveau,
        projet_id,
        '' as dimension,
        '' as bailleur_id,
        cast(n_{{ cohorte }} as double) as valeur,
        {{ effectif_secret('n_' ~ cohorte) }} as primaire,
        false as publique,
        false as confirmee
    from equilibre
    where n_{{ cohorte }} is not null
    union all
    select
        'pub_equilibre' as table_publiee,
        {{ secret_ligne_equilibre('equilibre') }} as ligne,
        'k_{{ cohorte }}' as colonne,
        {{ secret_cellule_id(dbt.concat(["'niveau_" ~ cohorte ~ ".'", 'covariable']), 'evaluation', 'projet_id',
            "coalesce(niveau, '')") }} as cellule_id,
        {{ dbt.concat(["'niveau_" ~ cohorte ~ ".'", 'covariable']) }} as mesure,
        'evaluation' as niveau,
        projet_id,
        coalesce(niveau, '') as dimension,
        case when covariable = 'bailleur_id' then niveau else '' end as bailleur_id,
        cast(k_{{ cohorte }} as double) as valeur,
        {{ effectif_secret('k_' ~ cohorte) }} or {{ denominateur_secret('n_' ~ cohorte) }} as primaire,
        false as publique,
        false as confirmee
    from equilibre
    where k_{{ cohorte }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select * from occurrences

)

select * from final
