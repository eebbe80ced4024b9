{#-
    Kaplan–Meier points as published. A step of the curve gives its number of events back
    (d = n_risque × (1 − S(t) / S(t−))), so small groups of events are merged: the curve starts
    from S = 1 before the index month (unpublished), and the next published point is the first
    one after it with no event in between, or with more than `seuil_effectif` events in between;
    the points skipped are not published. The events of the index month count like any other
    (no first point below 1 on fewer than `seuil_effectif` + 1 events). Points whose number at
    risk is under `seuil_denominateur` are never published, and the number at risk is published
    rounded to a multiple of `seuil_denominateur` (macros/secret_statistique.sql, `arrondi_effectif`),
    so that the households leaving the follow-up between two points cannot be read.
-#}
with recursive

survie as (

    select * from {{ source('evaluation', 'fct_survie') }}

),

pas as (

    select
        *,
        coalesce(lag(survie) over (partition by projet_id, evenement, cohorte order by temps), 1.0)
            as survie_precedente
    from survie
    where not {{ denominateur_secret('n_risque') }}

),

evenements as (

    select
        *,
        case
            when survie_precedente > 0 then round(n_risque * (1 - survie / survie_precedente))
            else 0
        end as evenements_au_temps
    from pas

),

cumuls as (

    select
        *,
        sum(evenements_au_temps) over (
            partition by projet_id, evenement, cohorte
            order by temps
            rows between unbounded preceding and current row
        ) as evenements_cumules
    from evenements

),

suivants as (

    select
        depart.projet_id,
        depart.evenement,
        depart.cohorte,
        depart.temps,
        min(arrivee.temps) as temps_suivant
    from cumuls as depart
    inner join cumuls as arrivee
        on depart.projet_id = arrivee.projet_id
        and depart.evenement = arrivee.evenement
        and depart.cohorte = arrivee.cohorte
        and arrivee.temps > depart.temps
        and (
            arrivee.evenements_cumules = depart.evenements_cumules
            or arrivee.evenements_cumules > depart.evenements_cumules + {{ var('seuil_effectif') }}
        )
    group by depart.projet_id, depart.evenement, depart.cohorte, depart.temps

),

{#- From the origin (S = 1, no event yet): the first point with no event or enough events. #}
premiers as (

    select
        projet_id,
        evenement,
        cohorte,
        min(temps) as temps
    from cumuls
    where evenements_cumules = 0 or evenements_cumules > {{ var('seuil_effectif') }}
    group by projet_id, evenement, cohorte

),

publies (projet_id, evenement, cohorte, temps) as (

    select
        projet_id,
        evenement,
        cohorte,
        temps
    from premiers
    union all
    select
        suivants.projet_id,
        suivants.evenement,
        suivants.cohorte,
        suivants.temps_suivant
    from publies
    inner join suivants
        on publies.projet_id = suivants.projet_id
        and publies.evenement = suivants.evenement
        and publies.cohorte = suivants.cohorte
        and publies.temps = suivants.temps

),

final as (

    select
        survie.projet_id,
        survie.evenement,
        survie.cohorte,
        survie.temps,
        survie.survie,
        survie.ic_bas,
        survie.ic_haut,
        {{ arrondi_effectif('survie.n_risque') }} as n_risque,
        '' as cellules_secretes
    from survie
    inner join publies
        on survie.projet_id = publies.projet_id
        and survie.evenement = publies.evenement
        and survie.cohorte = publies.cohorte
        and survie.temps = publies.temps

)

select * from final
