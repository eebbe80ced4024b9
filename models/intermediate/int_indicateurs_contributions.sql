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
{#- One row per indicator: (name, nature, n, k, montant, population). The households are
    read in one scan, crossed with the list of indicators (not one scan per indicator). -#}
{%- set lignes = [] -%}
{%- for indicateur, population, valeur in proportions -%}
    {%- do lignes.append((indicateur, 'proportion', '1', 'case when ' ~ valeur ~ ' then 1 else 0 end',
                          'cast(null as decimal(14, 2))', population)) -%}
{%- endfor -%}
{%- do lignes.append(('rdv_honores', 'proportion', 'rdv_prevus', 'rdv_honores',
                      'cast(null as decimal(14, 2))', 'adhesion and rdv_prevus > 0')) -%}
{%- for indicateur, population, valeur in montants -%}
    {%- do lignes.append((indicateur, 'montant', '1', '0', valeur, population)) -%}
{%- endfor -%}
{#- Each indicator once: a household contributes one row to an indicator, which the
    aggregates count as households (macros/agreger_indicateurs.sql). -#}
{%- set noms = lignes | map(attribute=0) | list -%}
{%- if noms | length != noms | unique | list | length -%}
    {{ exceptions.raise_compiler_error("int_indicateurs_contributions : un indicateur apparaît deux fois") }}
{%- endif -%}
with

menages as (

    select * from {{ ref('int_indicateurs_menage') }}
    where cadre = 'descriptif'

),

indicateurs as (

    {%- for indicateur, nature, _, _, _, _ in lignes %}
    select '{{ indicateur }}' as indicateur, '{{ nature }}' as nature
    {{- " union all" if not loop.last }}
    {%- endfor %}

),

contributions as (

    select
        menages.projet_id,
        menages.menage_id,
        menages.bailleur_id,
        menages.volet,
        menages.departement,
        indicateurs.indicateur,
        indicateurs.nature,
        {%- for position, colonne in [(2, 'n'), (3, 'k'), (4, 'montant')] %}
        case indicateurs.indicateur
            {%- for ligne in lignes %}
            when '{{ ligne[0] }}' then {{ ligne[position] }}
            {%- endfor %}
        end as {{ colonne }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from menages
    cross join indicateurs
    where
        {%- for indicateur, _, _, _, _, population in lignes %}
        (indicateurs.indicateur = '{{ indicateur }}' and ({{ population }}))
        {{- " or" if not loop.last }}
        {%- endfor %}

),

final as (

    select * from contributions

)

select * from final
