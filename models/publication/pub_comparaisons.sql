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

{{ drapeaux_evaluation('comparaisons', 'pub_comparaisons', secret_ligne_comparaison('comparaisons'), comptes) }},

final as (

    select
        {%- set colonnes = ['projet_id', 'resultat', 'horizon_mois', 'methode'] -%}
        {%- for colonne in comptes %}{% do colonnes.append((colonne, colonne ~ '_secret')) %}{% endfor -%}
        {%- for colonne in ['p_traites', 'p_temoins', 'estimation', 'ic_bas', 'ic_haut', 'p_valeur'] -%}
            {%- do colonnes.append((colonne, 'ligne_secrete')) -%}
        {%- endfor -%}
        {%- do colonnes.append(('ess', 'ligne_secrete', 'round(regles.ess, 0)')) -%}
        {%- for colonne in ['e_valeur', 'e_valeur_ic', 'p_holm'] %}{% do colonnes.append((colonne, 'ligne_secrete')) %}{% endfor -%}
        {%- do colonnes.extend(['estimande', 'covariables_utilisees', 'covariables_ecartees',
            ('avertissements', none, "coalesce(avertissements.avertissements, '')")]) -%}
        {{- colonnes_publiees(colonnes, 'regles.') }}
    from regles
    left join avertissements
        on regles.projet_id = avertissements.projet_id
        and regles.resultat = avertissements.resultat
        and regles.horizon_mois = avertissements.horizon_mois
        and regles.methode = avertissements.methode

)

select * from final
