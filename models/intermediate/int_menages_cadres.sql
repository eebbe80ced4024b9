{#-
    One row per household and frame of analysis (`cadre`):
    - `descriptif`: outcome date = end of accompaniment, else the extraction date (fiches);
    - `comparaison`: outcome month mo = m0 + H, outcome date = last day of mo, only for
      households whose extraction month is on or after mo (treatment versus control).
    Every indicator is computed once over both frames.
-#}
with

menages as (

    select * from {{ ref('stg_livraisons__menages') }}

),

bornes as (

    select
        projet_id,
        menage_id,
        date_extraction,
        {{ mois_de('date_orientation') }} as mois_index,
        {{ mois_de('date_extraction') }} as mois_extraction,
        coalesce(date_fin_accompagnement, date_extraction) as date_resultat_descriptif
    from menages

),

descriptif as (

    select
        projet_id,
        menage_id,
        'descriptif' as cadre,
        mois_index,
        mois_extraction,
        date_extraction,
        date_resultat_descriptif as date_resultat,
        {{ mois_de('date_resultat_descriptif') }} as mois_resultat
    from bornes

),

comparaison as (

    select
        projet_id,
        menage_id,
        'comparaison' as cadre,
        mois_index,
        mois_extraction,
        date_extraction,
        {{ dernier_jour_du_mois(ajouter_mois('mois_index', var('horizon_mois'))) }} as date_resultat,
        {{ ajouter_mois('mois_index', var('horizon_mois')) }} as mois_resultat
    from bornes
    where mois_extraction >= {{ ajouter_mois('mois_index', var('horizon_mois')) }}

),

final as (

    select * from descriptif
    union all
    select * from comparaison

)

select * from final
