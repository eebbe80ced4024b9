{#-
    Comparison estimates as published. Their counts are cells of the secrecy layer
    (int_secret_evaluation, decided in int_secret_cellules with every other count): n and k of
    each cohort are hidden with their cell. A row whose counts are not all published hides its
    proportions, estimate, interval, p-value and effective sample size (they would give the counts
    back: the effective size of uniformly weighted controls is their number). The warnings are
    published as their code and fixed French text (seeds/avertissements.csv), never the engine's
    messages, which may quote counts; the effective sample size is rounded to the unit.
-#}
{%- set comptes = ['n_traites', 'k_traites', 'n_temoins', 'k_temoins'] -%}
with

comparaisons as (

    select * from {{ source('evaluation', 'fct_comparaisons') }}

),

textes as (

    select * from {{ ref('avertissements') }}

),

avertissements as (

    select
        comparaisons.projet_id,
        comparaisons.resultat,
        comparaisons.horizon_mois,
        comparaisons.methode,
        {{ dbt.listagg(dbt.concat(['textes.code', "': '", 'textes.explication']), "' | '",
            'order by textes.code') }} as avertissements
    from comparaisons
    inner join textes
        on comparaisons.avertissements like {{ dbt.concat(["'%'", 'textes.code', "':%'"]) }}
    group by comparaisons.projet_id, comparaisons.resultat, comparaisons.horizon_mois, comparaisons.methode

),

drapeaux as (

    select
        comparaisons.*,
        {% for colonne in comptes -%}
        {{ est_secrete('cellule_' ~ colonne) }} as {{ colonne }}_secret,
        {% endfor -%}
        {{ denominateur_secret('comparaisons.n_traites') }} or {{ denominateur_secret('comparaisons.n_temoins') }}
            as denominateur_insuffisant
    from comparaisons
    {% for colonne in comptes -%}
    {{ joindre_cellule_evaluation('cellule_' ~ colonne, 'pub_comparaisons', secret_ligne_comparaison('comparaisons'),
        colonne) }}
    {% endfor %}

),

regles as (

    select
        *,
        denominateur_insuffisant
        {%- for colonne in comptes %} or {{ colonne }}_secret{% endfor %} as ligne_secrete
    from drapeaux

),

final as (

    select
        regles.projet_id,
        regles.resultat,
        regles.horizon_mois,
        regles.methode,
        {% for colonne in comptes -%}
        {{ masquer('regles.' ~ colonne, colonne ~ '_secret') }} as {{ colonne }},
        {% endfor -%}
        {{ masquer('regles.p_traites', 'ligne_secrete') }} as p_traites,
        {{ masquer('regles.p_temoins', 'ligne_secrete') }} as p_temoins,
        {{ masquer('regles.estimation', 'ligne_secrete') }} as estimation,
        {{ masquer('regles.ic_bas', 'ligne_secrete') }} as ic_bas,
        {{ masquer('regles.ic_haut', 'ligne_secrete') }} as ic_haut,
        {{ masquer('regles.p_valeur', 'ligne_secrete') }} as p_valeur,
        {{ masquer('round(regles.ess, 0)', 'ligne_secrete') }} as ess,
        {{ masquer('regles.e_valeur', 'ligne_secrete') }} as e_valeur,
        {{ masquer('regles.e_valeur_ic', 'ligne_secrete') }} as e_valeur_ic,
        {{ masquer('regles.p_holm', 'ligne_secrete') }} as p_holm,
        regles.estimande,
        regles.covariables_utilisees,
        regles.covariables_ecartees,
        coalesce(avertissements.avertissements, '') as avertissements,
        {{ liste_secrets([('n_traites', 'n_traites_secret'), ('k_traites', 'k_traites_secret'),
            ('n_temoins', 'n_temoins_secret'), ('k_temoins', 'k_temoins_secret'),
            ('p_traites', 'ligne_secrete'), ('p_temoins', 'ligne_secrete'),
            ('estimation', 'ligne_secrete'), ('ic_bas', 'ligne_secrete'), ('ic_haut', 'ligne_secrete'),
            ('p_valeur', 'ligne_secrete'), ('ess', 'ligne_secrete'), ('e_valeur', 'ligne_secrete'),
            ('e_valeur_ic', 'ligne_secrete'), ('p_holm', 'ligne_secrete')]) }} as cellules_secretes
    from regles
    left join avertissements
        on regles.projet_id = avertissements.projet_id
        and regles.resultat = avertissements.resultat
        and regles.horizon_mois = avertissements.horizon_mois
        and regles.methode = avertissements.methode

)

select * from final
