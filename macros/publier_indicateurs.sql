{#-
    The published form of an aggregate indicator table (fct_indicateurs_*): the same columns,
    secret cells set to null and named in `cellules_secretes`.
-#}
{% macro publier_indicateurs(relation, cles) %}
with

indicateurs as (

    select * from {{ relation }}

),

drapeaux as (

    select
        *,
        {{ effectif_secret('n') }} and nature = 'proportion' and indicateur != 'rdv_honores'
            or {{ effectif_secret('menages') }} as n_secret,
        case
            when nature = 'proportion' and indicateur = 'rdv_honores'
                then {{ denominateur_secret('menages') }} or {{ denominateur_secret('n') }}
            when nature = 'proportion' then {{ proportion_secrete('k', 'n') }}
            else {{ denominateur_secret('n') }}
        end as valeur_secrete
    from indicateurs

),

final as (

    select
        {% for cle in cles %}{{ cle }},
        {% endfor -%}
        indicateur,
        nature,
        {{ masquer('n', 'n_secret') }} as n,
        {{ masquer('k', 'valeur_secrete') }} as k,
        {{ masquer('valeur', 'valeur_secrete') }} as valeur,
        {{ masquer('ic_bas', 'valeur_secrete') }} as ic_bas,
        {{ masquer('ic_haut', 'valeur_secrete') }} as ic_haut,
        {{ masquer('moyenne_eur', 'valeur_secrete') }} as moyenne_eur,
        {{ masquer('mediane_eur', 'valeur_secrete') }} as mediane_eur,
        {{ masquer('total_eur', 'valeur_secrete') }} as total_eur,
        {{ masquer('menages', 'n_secret') }} as menages,
        {{ liste_secrets([('n', 'n_secret'), ('k', 'valeur_secrete'), ('valeur', 'valeur_secrete'),
            ('ic_bas', 'valeur_secrete'), ('ic_haut', 'valeur_secrete'), ('menages', 'n_secret')]) }}
            as cellules_secretes
    from drapeaux

)

select * from final
{% endmacro %}
