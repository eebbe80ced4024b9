{#-
    Each household's contribution to each aggregate indicator of the descriptive frame,
    one row per household and indicator whose population it belongs to (indicators.md,
    "Outcome month"): `n` and `k` for proportions (rdv: contacts planned and honoured),
    `montant` for amounts. The populations of the proportions are those of
    macros/populations.sql (`indicateurs_menage`); those of the amounts are defined here.
-#}
{%- set proportions = [] -%}
{%- for indicateur, population, connu in indicateurs_menage() -%}
    {%- do proportions.append((indicateur, dans_population(population, connu), indicateur)) -%}
{%- endfor -%}
{%- set montants = [
    ('gain_energie_eur', 'adhesion and gain_energie_eur is not null', 'gain_energie_eur'),
    ('dette_entree_eur', 'adhesion and en_dette_entree', 'dette_entree'),
    ('dette_sortie_eur', 'adhesion and en_dette_entree and dette_sortie is not null', 'dette_sortie'),
] -%}
{#- Each indicator once: a household contributes one row to an indicator, which the
    aggregates count as households (macros/agreger_indicateurs.sql). -#}
{%- set noms = [] -%}
{%- for indicateur, _, _ in proportions + montants -%}{%- do noms.append(indicateur) -%}{%- endfor -%}
{%- do noms.append('rdv_honores') -%}
{%- if noms | length != noms | unique | list | length -%}
    {{ exceptions.raise_compiler_error("int_indicateurs_contributions : un indicateur apparaît deux fois") }}
{%- endif -%}
with

menages as (

    select * from {{ ref('int_indicateurs_menage') }}
    where cadre = 'descriptif'

),

contributions as (

    {% for indicateur, population, valeur in proportions %}
    select
        projet_id, menage_id, bailleur_id, volet, departement,
        '{{ indicateur }}' as indicateur,
        'proportion' as nature,
        1 as n,
        case when {{ valeur }} then 1 else 0 end as k,
        cast(null as decimal(14, 2)) as montant
    from menages
    where {{ population }}
    union all
    {% endfor %}
    select
        projet_id, menage_id, bailleur_id, volet, departement,
        'rdv_honores' as indicateur,
        'proportion' as nature,
        rdv_prevus as n,
        rdv_honores as k,
        cast(null as decimal(14, 2)) as montant
    from menages
    where adhesion and rdv_prevus > 0
    {% for indicateur, population, valeur in montants %}
    union all
    select
        projet_id, menage_id, bailleur_id, volet, departement,
        '{{ indicateur }}' as indicateur,
        'montant' as nature,
        1 as n,
        0 as k,
        {{ valeur }} as montant
    from menages
    where {{ population }}
    {% endfor %}

),

final as (

    select * from contributions

)

select * from final
