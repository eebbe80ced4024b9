{#-
    Each household's contribution to each aggregate indicator of the descriptive frame,
    one row per household and indicator whose population it belongs to (indicators.md,
    "Outcome month"): `n` and `k` for proportions (rdv: contacts planned and honoured),
    `montant` for amounts. The populations are defined here and only here.
-#}
{%- set proportions = [
    ('adhesion', "cohorte = 'accompagne'", 'adhesion'),
    ('loyer_a_jour', 'adhesion and loyer_a_jour is not null', 'loyer_a_jour'),
    ('en_dette_entree', 'adhesion and dette_entree is not null', 'en_dette_entree'),
    ('dette_resorbee', 'adhesion and en_dette_entree and dette_sortie is not null', 'dette_resorbee'),
    ('dette_reduite', 'adhesion and en_dette_entree and dette_sortie is not null', 'dette_reduite'),
    ('en_procedure', 'adhesion', 'en_procedure'),
    ('expulsion_evitee', 'adhesion and en_procedure', 'expulsion_evitee'),
    ('expulse', 'adhesion', 'expulse'),
    ('maintien', 'adhesion', 'maintien'),
    ('relogement', 'adhesion', 'relogement'),
] -%}
{%- set montants = [
    ('gain_energie_eur', 'adhesion and gain_energie_eur is not null', 'gain_energie_eur'),
    ('dette_entree_eur', 'adhesion and en_dette_entree', 'dette_entree'),
    ('dette_sortie_eur', 'adhesion and en_dette_entree and dette_sortie is not null', 'dette_sortie'),
] -%}
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
