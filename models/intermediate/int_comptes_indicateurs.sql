{#-
    Rent-account indicators, one row per household and frame:
    dette_entree = solde(m0 − 1), else solde(m0); dette_sortie = solde of the latest account
    month from m0 to mo; loyer_a_jour from solde(mo), else from the three months mo−2..mo;
    mois_dette_soldee = the first month from m0 to mo whose balance is ≤ 0 (the debt
    duration of the cohort comparison).

    One pass over the accounts for every frame: each household's account months are joined
    once to one row carrying every frame's outcome month (null when the household is not in
    that frame), each frame's aggregates are taken in the same group by, then the small
    aggregated relation gives one row per household and frame.
-#}
{#- The frames of int_menages_cadres; m0 is the same in every frame. -#}
{%- set cadres = ['descriptif', 'comparaison'] -%}
with

cadres as (

    select * from {{ ref('int_menages_cadres') }}

),

comptes as (

    select * from {{ ref('stg_livraisons__comptes_mensuels') }}

),

bornes as (

    select
        projet_id,
        menage_id,
        max(mois_index) as mois_index,
        {%- for cadre in cadres %}
        max(case when cadre = '{{ cadre }}' then mois_resultat end) as mois_resultat_{{ cadre }},
        count(case when cadre = '{{ cadre }}' then 1 end) as dans_{{ cadre }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from cadres
    group by projet_id, menage_id

),

comptes_menages as (

    select
        bornes.*,
        comptes.mois,
        comptes.solde_fin_mois,
        comptes.paiement + comptes.aide_logement >= comptes.quittance as mois_couvert
    from bornes
    inner join comptes
        on bornes.projet_id = comptes.projet_id
        and bornes.menage_id = comptes.menage_id

),

par_menage as (

    -- the balance of the latest month observed from m0 to mo is taken in the same
    -- aggregate (max_by: DuckDB and Spark SQL alike)
    select
        projet_id,
        menage_id,
        {%- for cadre in cadres %}
        {%- set mo = 'mois_resultat_' ~ cadre %}
        max(dans_{{ cadre }}) as dans_{{ cadre }},
        max(case when mois = {{ mo }} then solde_fin_mois end) as solde_resultat_{{ cadre }},
        max(case when mois between mois_index and {{ mo }} then mois end)
            as dernier_mois_observe_{{ cadre }},
        max_by(solde_fin_mois, case when mois between mois_index and {{ mo }} then mois end)
            as dette_sortie_{{ cadre }},
        count(case when mois between {{ ajouter_mois(mo, -2) }} and {{ mo }}
            then 1 end) as mois_recents_{{ cadre }},
        count(case when mois between {{ ajouter_mois(mo, -2) }} and {{ mo }}
            and mois_couvert then 1 end) as mois_recents_couverts_{{ cadre }},
        min(case when mois between mois_index and {{ mo }} and solde_fin_mois <= 0 then mois end)
            as mois_dette_soldee_{{ cadre }},
        {%- endfor %}
        max(case when mois = {{ ajouter_mois('mois_index', -1) }} then solde_fin_mois end)
            as solde_avant_index,
        max(case when mois = mois_index then solde_fin_mois end) as solde_index
    from comptes_menages
    group by projet_id, menage_id

),

liste_cadres as (

    {%- for cadre in cadres %}
    select '{{ cadre }}' as cadre
    {{- " union all" if not loop.last }}
    {%- endfor %}

),

par_cadre as (

    -- one row per household and frame, from the aggregated relation read once
    select
        par_menage.projet_id,
        par_menage.menage_id,
        liste_cadres.cadre,
        par_menage.solde_avant_index,
        par_menage.solde_index,
        {%- for colonne in ['solde_resultat', 'dernier_mois_observe', 'dette_sortie', 'mois_recents',
                            'mois_recents_couverts', 'mois_dette_soldee'] %}
        case liste_cadres.cadre
            {%- for cadre in cadres %}
            when '{{ cadre }}' then par_menage.{{ colonne }}_{{ cadre }}
            {%- endfor %}
        end as {{ colonne }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from par_menage
    cross join liste_cadres
    where
        {%- for cadre in cadres %}
        (liste_cadres.cadre = '{{ cadre }}' and par_menage.dans_{{ cadre }} > 0)
        {{- " or" if not loop.last }}
        {%- endfor %}

),

final as (

    select
        projet_id,
        menage_id,
        cadre,
        coalesce(solde_avant_index, solde_index) as dette_entree,
        dette_sortie,
        dernier_mois_observe,
        case
            when solde_resultat is not null and solde_resultat <= 0 then true
            when mois_recents = 3 then mois_recents_couverts = 3
        end as loyer_a_jour,
        mois_dette_soldee
    from par_cadre

)

select * from final
