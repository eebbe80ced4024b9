{#-
    The populations the indicators are computed over (indicators.md, « Outcome month »),
    as predicates on a household of int_indicateurs_menage (descriptive frame). They are
    used by the default aggregates (int_indicateurs_contributions) and by the reconciliation,
    which recomputes a published figure on the population the project published it for
    (seed resultats_publies, column `population`).
-#}
{% macro populations() %}
    {{ return({
        'menages_orientes': "cohorte = 'accompagne'",
        'menages_adherents': 'adhesion',
        'en_dette_entree': 'adhesion and en_dette_entree',
        'en_procedure': 'adhesion and en_procedure',
        'menages_temoins': "cohorte = 'temoin'",
    }) }}
{% endmacro %}

{#-
    The per-household indicators of int_indicateurs_menage that a proportion counts, with
    their default population and the condition for a household to count in the denominator
    (a value that is unknown leaves the household out of numerator and denominator).
    rdv_honores counts contacts, not households: see `populations_contacts`.
-#}
{% macro indicateurs_menage() %}
    {{ return([
        ('adhesion', 'menages_orientes', 'true'),
        ('loyer_a_jour', 'menages_adherents', 'loyer_a_jour is not null'),
        ('en_dette_entree', 'menages_adherents', 'dette_entree is not null'),
        ('dette_resorbee', 'en_dette_entree', 'dette_sortie is not null'),
        ('dette_reduite', 'en_dette_entree', 'dette_sortie is not null'),
        ('en_procedure', 'menages_adherents', 'true'),
        ('expulsion_evitee', 'en_procedure', 'true'),
        ('expulse', 'menages_adherents', 'true'),
        ('maintien', 'menages_adherents', 'true'),
        ('relogement', 'menages_adherents', 'true'),
    ]) }}
{% endmacro %}

{#- The contacts a rendez-vous rate is over: its default population, then the others. -#}
{% macro populations_contacts() %}
    {{ return({
        'contacts': "('visite_domicile', 'rdv_bureau')",
        'visites_domicile': "('visite_domicile')",
    }) }}
{% endmacro %}

{#- A household of `population` that counts in the denominator of `indicateur`. -#}
{% macro dans_population(population, connu) -%}
    {%- if connu == 'true' -%}{{ populations()[population] }}{%- else -%}{{ populations()[population] }} and {{ connu }}{%- endif -%}
{%- endmacro %}

{#-
    The verdict of a published figure (valeur_publiee, comparaison, borne_basse, borne_haute,
    type_valeur) against a recomputed value and its 95 % interval (fct_reconciliation).
-#}
{% macro verdict_reconciliation(valeur, ic_bas, ic_haut) -%}
    case
        when {{ valeur }} is null then 'non_testable'
        when type_valeur = 'proportion' and comparaison = 'au_moins'
            then case when {{ ic_haut }} >= valeur_publiee then 'confirme' else 'non_confirme' end
        when type_valeur = 'proportion' and comparaison = 'au_plus'
            then case when {{ ic_bas }} <= valeur_publiee then 'confirme' else 'non_confirme' end
        when type_valeur = 'proportion' and comparaison = 'dans_intervalle'
            then case when {{ ic_haut }} >= borne_basse and {{ ic_bas }} <= borne_haute
                then 'confirme' else 'non_confirme' end
        when type_valeur = 'proportion'
            then case when valeur_publiee between {{ ic_bas }} and {{ ic_haut }}
                then 'confirme' else 'non_confirme' end
        when comparaison = 'au_moins'
            then case when {{ valeur }} >= valeur_publiee then 'confirme' else 'non_confirme' end
        when comparaison = 'au_plus'
            then case when {{ valeur }} <= valeur_publiee then 'confirme' else 'non_confirme' end
        when comparaison = 'dans_intervalle'
            then case when {{ valeur }} between borne_basse and borne_haute
                then 'confirme' else 'non_confirme' end
        else case when {{ valeur }} = valeur_publiee then 'confirme' else 'non_confirme' end
    end
{%- endmacro %}
