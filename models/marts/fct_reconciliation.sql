{#-
    Each figure a project published beside the one recomputed from its export, on the
    same population (seed resultats_publies, column `population`: the households, or the
    contacts, the published figure is about) and with the comparison its wording calls for
    (column `comparaison`):

    * a count is exact: `egal` when equal, `au_moins` when reached, `au_plus` when not
      exceeded, `dans_intervalle` when between borne_basse and borne_haute;
    * a proportion is compared through its 95 % Wilson interval: `egal` when the published
      value lies in it, `au_moins` when the interval reaches the published value, `au_plus`
      when its lower bound does not exceed it, `dans_intervalle` when it meets
      [borne_basse, borne_haute].

    The figures recomputed on that population are the `*_population` columns, with their
    `verdict`: `confirme`, `non_confirme`, or `non_testable` with its `raison` (the team's,
    from the seed, or: the data give no such figure on that population).

    The columns valeur_recalculee, ic_bas, ic_haut, n, k, ecart and `statut` (same tests,
    `non_calculable` for `non_testable`) stay those of the indicator on the population the
    warehouse's own tables compute it over, whose secrecy cells the publication layer
    knows. `population_defaut` is true when the two populations are the same; otherwise
    `secret_population` applies the primary rules of secrecy to the row's own numbers and
    to their differences with the default population's (macros/secret_statistique.sql).
-#}
{%- set effectifs = [
    ('menages_orientes', 'menages_orientes'), ('menages_accompagnes', 'menages_adherents'),
    ('menages_termines', 'menages_adherents'), ('menages_en_cours', 'menages_adherents'),
    ('menages_temoins', 'menages_temoins'), ('volet_maintien', 'menages_orientes'),
    ('volet_acces', 'menages_orientes')] -%}
with

publies as (

    select * from {{ ref('resultats_publies') }}

),

menages as (

    select * from {{ ref('int_indicateurs_menage') }}
    where cadre = 'descriptif'
        and projet_id in (select projet_id from publies)

),

contacts as (

    select * from {{ ref('stg_livraisons__contacts') }}
    where projet_id in (select projet_id from publies)

),

effectifs as (

    select * from {{ ref('fct_effectifs_projet') }}

),

couts as (

    select * from {{ ref('fct_couts_projet') }}

),

{#- Proportions on the populations a published figure asks for, when not the default one. -#}
contributions as (

    {% for indicateur, defaut, connu in indicateurs_menage() %}
    {% for population in populations() if population != defaut %}
    select
        menages.projet_id,
        '{{ indicateur }}' as indicateur,
        '{{ population }}' as population,
        case when menages.{{ indicateur }} then 1 else 0 end as k
    from menages
    inner join publies
        on menages.projet_id = publies.projet_id
        and publies.indicateur = '{{ indicateur }}'
        and publies.population = '{{ population }}'
    where {{ dans_population(population, connu) }}
    union all
    {% endfor %}
    {% endfor %}
    {% for population, types in populations_contacts().items() if population != 'contacts' %}
    select
        menages.projet_id,
        'rdv_honores' as indicateur,
        '{{ population }}' as population,
        case when contacts.honore then 1 else 0 end as k
    from menages
    inner join contacts
        on menages.projet_id = contacts.projet_id
        and menages.menage_id = contacts.menage_id
    inner join publies
        on menages.projet_id = publies.projet_id
        and publies.indicateur = 'rdv_honores'
        and publies.population = '{{ population }}'
    where menages.adhesion
        and contacts.type_contact in {{ types }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

proportions as (

    select
        projet_id, indicateur, population, false as population_defaut,
        cast(count(*) as integer) as n,
        cast(sum(k) as integer) as k
    from contributions
    group by projet_id, indicateur, population
    union all
    select
        projet_id, indicateur,
        case indicateur
            {%- for indicateur, defaut, connu in indicateurs_menage() %}
            when '{{ indicateur }}' then '{{ defaut }}'
            {%- endfor %}
            when 'rdv_honores' then '{{ (populations_contacts().keys() | list)[0] }}'
        end as population,
        true as population_defaut,
        n, k
    from {{ ref('fct_indicateurs_projet') }}
    where nature = 'proportion'

),

recalcules as (

    select
        projet_id, indicateur, population, 'proportion' as type_valeur, population_defaut,
        k / cast(nullif(n, 0) as double) as valeur,
        {{ wilson_bas('k', 'n') }} as ic_bas,
        {{ wilson_haut('k', 'n') }} as ic_haut,
        n, k
    from proportions
    union all
    select
        projet_id, indicateur, population, 'effectif' as type_valeur, population_defaut,
        cast(k as double) as valeur, cast(null as double) as ic_bas,
        cast(null as double) as ic_haut, n, k
    from proportions
    {% for effectif, population in effectifs %}
    union all
    select
        projet_id, '{{ effectif }}' as indicateur, '{{ population }}' as population,
        'effectif' as type_valeur, true as population_defaut,
        cast({{ effectif }} as double) as valeur, cast(null as double) as ic_bas,
        cast(null as double) as ic_haut, cast(null as integer) as n, {{ effectif }} as k
    from effectifs
    {% endfor %}
    union all
    select
        projet_id, 'menages_accompagnes_par_an' as indicateur, 'menages_adherents' as population,
        'effectif' as type_valeur, true as population_defaut,
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
        defaut.valeur as valeur_recalculee,
        defaut.ic_bas,
        defaut.ic_haut,
        defaut.n,
        defaut.k,
        publies.population,
        publies.borne_basse,
        publies.borne_haute,
        publies.raison_non_testable,
        meme.valeur as valeur_population,
        meme.ic_bas as ic_bas_population,
        meme.ic_haut as ic_haut_population,
        meme.n as n_population,
        meme.k as k_population,
        coalesce(meme.population_defaut, defaut.population is null or defaut.population = publies.population)
            as population_defaut
    from publies
    left join recalcules as defaut
        on publies.projet_id = defaut.projet_id
        and publies.indicateur = defaut.indicateur
        and publies.type_valeur = defaut.type_valeur
        and defaut.population_defaut
    left join recalcules as meme
        on publies.projet_id = meme.projet_id
        and publies.indicateur = meme.indicateur
        and publies.type_valeur = meme.type_valeur
        and publies.population = meme.population

),

verdicts as (

    select
        *,
        valeur_recalculee - valeur_publiee as ecart,
        {{ verdict_reconciliation('valeur_recalculee', 'ic_bas', 'ic_haut') }} as statut_defaut,
        case
            when raison_non_testable is not null then 'non_testable'
            else {{ verdict_reconciliation('valeur_population', 'ic_bas_population', 'ic_haut_population') }}
        end as verdict,
        case
            when raison_non_testable is not null then raison_non_testable
            when valeur_population is null
                then 'les données livrées ne permettent pas de recalculer cet indicateur sur cette population'
        end as raison
    from compares

),

final as (

    select
        projet_id,
        indicateur,
        type_valeur,
        comparaison,
        periode,
        source,
        libelle,
        valeur_publiee,
        valeur_recalculee,
        ic_bas,
        ic_haut,
        n,
        k,
        ecart,
        case when statut_defaut = 'non_testable' then 'non_calculable' else statut_defaut end as statut,
        population,
        borne_basse,
        borne_haute,
        valeur_population,
        ic_bas_population,
        ic_haut_population,
        n_population,
        k_population,
        verdict,
        raison,
        population_defaut,
        case
            when population_defaut or valeur_population is null then false
            when type_valeur = 'proportion'
                then {{ proportion_secrete('k_population', 'n_population') }}
                    or {{ effectif_secret('k_population - k') }}
                    or {{ effectif_secret('(n_population - k_population) - (n - k)') }}
            else {{ effectif_secret('k_population') }} or {{ effectif_secret('n_population - k_population') }}
                or {{ effectif_secret('k_population - k') }}
        end as secret_population
    from verdicts

)

select * from final
