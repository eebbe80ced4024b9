{#-
    The programme synthesis: for each indicator of the benchmark (macros/entonnoirs.sql), each
    project's proportion against the programme's pooled proportion, with the funnel-plot limits
    at 95 % and 99.8 % (φ = 1), and, over the projects, the range and the median of their
    proportions and how many lie above or below the 95 % limits.

    One row per indicator and project, on every project: the publication layer hides the
    rows whose project proportion is secret in pub_indicateurs_projet and computes the range,
    the median and the counts over the projects it shows (`publiable` flags the rows the
    primary rules of secrecy already hide).
-#}
{%- set indicateurs = benchmark_indicateurs() -%}
with

projets as (

    select * from {{ ref('fct_indicateurs_projet') }}
    where nature = 'proportion'
        and indicateur in ({% for code in indicateurs %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor %})
        and n > 0

),

programme as (

    select
        indicateur,
        valeur as moyenne_programme
    from {{ ref('fct_indicateurs_programme') }}
    where nature = 'proportion'
        and n > 0

),

unites as (

    select
        projets.indicateur,
        projets.projet_id,
        projets.n,
        projets.k,
        projets.valeur as proportion,
        not (projets.indicateur != 'rdv_honores' and {{ proportion_secrete('projets.k', 'projets.n') }})
            as publiable,
        programme.moyenne_programme,
        {{ entonnoir_colonnes(proportion='projets.valeur', n='projets.n', p0='programme.moyenne_programme',
            phi='1.0') }}
    from projets
    inner join programme
        on projets.indicateur = programme.indicateur

),

resume as (

    select
        indicateur,
        count(*) as projets,
        min(proportion) as proportion_min,
        max(proportion) as proportion_max,
        {{ quantile_continu('proportion', 0.5) }} as proportion_mediane,
        sum(case when position_95 = 'au_dessus' then 1 else 0 end) as projets_au_dessus,
        sum(case when position_95 = 'en_dessous' then 1 else 0 end) as projets_en_dessous
    from unites
    group by indicateur

),

final as (

    select
        unites.indicateur,
        unites.projet_id,
        cast(unites.n as integer) as n,
        cast(unites.k as integer) as k,
        unites.proportion,
        unites.publiable,
        unites.moyenne_programme,
        unites.limite_95_bas,
        unites.limite_95_haut,
        unites.limite_998_bas,
        unites.limite_998_haut,
        unites.position_95,
        unites.position_998,
        cast(resume.projets as integer) as projets,
        resume.proportion_min,
        resume.proportion_max,
        cast(resume.proportion_mediane as double) as proportion_mediane,
        cast(resume.projets_au_dessus as integer) as projets_au_dessus,
        cast(resume.projets_en_dessous as integer) as projets_en_dessous
    from unites
    inner join resume
        on unites.indicateur = resume.indicateur

)

select * from final
