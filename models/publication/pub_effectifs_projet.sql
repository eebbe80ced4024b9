{#-
    Project counts as published. They are cells of the secrecy layer like any other: the
    adhered households are the k of `adhesion` (so « 95 accompagnés sur 100 orientés » is
    secret when 5 did not adhere), ended plus running make the adhered, and the two volets
    make the oriented households (int_secret_equations).
-#}
{%- set effectifs = secret_effectifs() -%}
{%- set conditions = [] -%}
{%- for colonne, mesure, niveau, dimension in effectifs -%}
    {%- do conditions.append((colonne, colonne ~ '_secret')) -%}
{%- endfor -%}
with

effectifs as (

    select * from {{ ref('fct_effectifs_projet') }}

),

cellules as (

    select * from {{ ref('int_secret_cellules') }}

),

drapeaux as (

    select
        effectifs.*,
        {% for colonne, mesure, niveau, dimension in effectifs -%}
        {{ est_secrete('cellules_' ~ colonne) }} as {{ colonne }}_secret{% if not loop.last %},{% endif %}
        {% endfor %}
    from effectifs
    {% for colonne, mesure, niveau, dimension in effectifs -%}
    {{ joindre_cellule('cellules_' ~ colonne, mesure, niveau, 'effectifs.projet_id', dimension) }}
    {% endfor %}

),

final as (

    select
        projet_id,
        date_extraction,
        premiere_orientation,
        derniere_orientation,
        {% for colonne, mesure, niveau, dimension in effectifs -%}
        {{ masquer(colonne, colonne ~ '_secret') }} as {{ colonne }},
        {% endfor -%}
        {{ liste_secrets(conditions) }} as cellules_secretes
    from drapeaux

)

select * from final
