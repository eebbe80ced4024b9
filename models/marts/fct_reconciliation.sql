{#-
    Each figure a project published beside the one recomputed from its export.
    Proportions are `confirme` when the published value lies within the 95 % interval
    (for « au moins », when the interval reaches it); counts when they are equal
    (« environ »: within 10 %; « au moins »: reached).
-#}
{%- set effectifs = ['menages_orientes', 'menages_accompagnes', 'menages_termines',
    'menages_en_cours', 'menages_temoins', 'volet_maintien', 'volet_acces'] -%}
with

publies as (

    select * from {{ ref('resultats_publies') }}

),

indicateurs as (

    select * from {{ ref('fct_indicateurs_projet') }}

),

effectifs as (

    select * from {{ ref('fct_effectifs_projet') }}

),

couts as (

    select * from {{ ref('fct_couts_projet') }}

),

recalcules as (

    select
        projet_id, indicateur, 'proportion' as type_valeur,
        valeur, ic_bas, ic_haut, n, k
    from indicateurs
    where nature = 'proportion'
    union all
    select
        projet_id, indicateur, 'effectif' as type_valeur,
        cast(k as double) as valeur, cast(null as double) as ic_bas, cast(null as double) as ic_haut,
        n, k
    from indicateurs
    where nature = 'proportion'
    {% for effectif in effectifs %}
    union all
    select
        projet_id, '{{ effectif }}' as indicateur, 'effectif' as type_valeur,
        cast({{ effectif }} as double) as valeur, cast(null as double) as ic_bas,
        cast(null as double) as ic_haut, cast(null as integer) as n, {{ effectif }} as k
    from effectifs
    {% endfor %}
    union all
    select
        projet_id, 'menages_accompagnes_par_an' as indicateur, 'effectif' as type_valeur,
        menages_accompagnes_par_an as valeur, cast(null as double) as ic_bas,
        cast(null as double) as ic_haut, cast(null as integer) as n,
        cast(round(menages_accompagnes_par_an) as integer) as k
    from couts

),

compares as (

    select
        publies.projet_id,
        publies.indicateur,
        publies.type_valeur,
        publies.comparaison,
        publies.periode,
        publies.source,
        publies.libelle,
        publies.valeur as valeur_publiee,
        recalcules.valeur as valeur_recalculee,
        recalcules.ic_bas,
        recalcules.ic_haut,
        recalcules.n,
        recalcules.k
    from publies
    left join recalcules
        on publies.projet_id = recalcules.projet_id
        and publies.indicateur = recalcules.indicateur
        and publies.type_valeur = recalcules.type_valeur

),

final as (

    select
        *,
        valeur_recalculee - valeur_publiee as ecart,
        case
            when valeur_recalculee is null then 'non_calculable'
            when type_valeur = 'proportion' and comparaison = 'au_moins'
                then case when ic_haut >= valeur_publiee then 'confirme' else 'non_confirme' end
            when type_valeur = 'proportion'
                then case when valeur_publiee between ic_bas and ic_haut then 'confirme' else 'non_confirme' end
            when comparaison = 'au_moins'
                then case when valeur_recalculee >= valeur_publiee then 'confirme' else 'non_confirme' end
            when comparaison = 'environ'
                then case when abs(valeur_recalculee - valeur_publiee) <= 0.1 * valeur_publiee
                    then 'confirme' else 'non_confirme' end
            else case when valeur_recalculee = valeur_publiee then 'confirme' else 'non_confirme' end
        end as statut
    from compares

)

select * from final
