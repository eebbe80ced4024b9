{%- set effectifs = ['menages_orientes', 'menages_accompagnes', 'menages_termines',
    'menages_en_cours', 'menages_temoins', 'volet_maintien', 'volet_acces'] -%}
{%- set conditions = [] -%}
{%- for e in effectifs %}{% do conditions.append((e, effectif_secret(e))) %}{% endfor -%}
with

effectifs as (

    select * from {{ ref('fct_effectifs_projet') }}

),

final as (

    select
        projet_id,
        date_extraction,
        premiere_orientation,
        derniere_orientation,
        {% for nom, condition in conditions %}{{ masquer(nom, condition) }} as {{ nom }},
        {% endfor -%}
        {{ liste_secrets(conditions) }} as cellules_secretes
    from effectifs

)

select * from final
