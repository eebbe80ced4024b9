{#-
    The programme synthesis (fct_synthese_programme): a project's row shows its proportion,
    limits and positions only where pub_indicateurs_projet publishes that proportion; the
    range, median and counts are those of the projects shown.
-#}
with

synthese as (

    select * from {{ ref('fct_synthese_programme') }}

),

publiees as (

    select projet_id, indicateur, valeur is not null as publiee
    from {{ ref('pub_indicateurs_projet') }}
    where nature = 'proportion'

),

lignes as (

    select synthese.*, coalesce(publiees.publiee, false) as publiee
    from synthese
    left join publiees
        on synthese.projet_id = publiees.projet_id
        and synthese.indicateur = publiees.indicateur

),

resume as (

    select
        indicateur,
        count(*) as projets_publies,
        min(proportion) as min_publiee,
        max(proportion) as max_publiee,
        {{ quantile_continu('proportion', 0.5) }} as mediane_publiee,
        sum(case when position_95 = 'au_dessus' then 1 else 0 end) as au_dessus_publies,
        sum(case when position_95 = 'en_dessous' then 1 else 0 end) as en_dessous_publies
    from lignes
    where publiee
    group by indicateur

),

final as (

    select
        lignes.indicateur,
        lignes.projet_id,
        {%- for colonne in ['n', 'proportion', 'limite_95_bas', 'limite_95_haut', 'limite_998_bas',
            'limite_998_haut', 'position_95', 'position_998'] %}
        {{ masquer('lignes.' ~ colonne, 'not lignes.publiee') }} as {{ colonne }},
        {%- endfor %}
        lignes.moyenne_programme,
        cast(resume.projets_publies as integer) as projets,
        resume.min_publiee as proportion_min,
        resume.max_publiee as proportion_max,
        cast(resume.mediane_publiee as double) as proportion_mediane,
        cast(resume.au_dessus_publies as integer) as projets_au_dessus,
        cast(resume.en_dessous_publies as integer) as projets_en_dessous,
        case when lignes.publiee then ''
            else 'n,proportion,limite_95_bas,limite_95_haut,limite_998_bas,limite_998_haut,position_95,position_998'
        end as cellules_secretes
    from lignes
    left join resume
        on lignes.indicateur = resume.indicateur

)

select * from final
