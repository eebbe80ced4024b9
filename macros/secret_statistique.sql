{#-
    Statistical secrecy (indicators.md, « Disclosure »; README, « Secret statistique »).

    Thresholds come from the dbt vars `seuil_effectif` (counts of households from 1 to it are
    never published, default 5) and `seuil_denominateur` (no proportion, mean or total on
    fewer households, default 10), which `capitalisation run` sets from parametres.toml.

    The rules, applied once, in the publication layer (models/publication/):

    1. Cells. Every count published anywhere (n, k, ménages, effectifs, expulsions évitées, the
       numbers of a reconciliation row, euro totals) is an occurrence of one canonical cell,
       identified by a measure, a level, a project and a dimension value
       (`secret_cellule_id`). The same number printed in two tables is one cell: the k of
       `adhesion` is the n of `maintien` and the `menages_accompagnes` of the project's counts
       (`secret_mesure_n`, `secret_mesure_k`). Hiding it in one table hides it in all.
    2. Primary secrecy:
       - a count of households from 1 to `seuil_effectif`;
       - the complement n − k of a proportion of households from 1 to `seuil_effectif` (an
         unpublished cell, protected like the others: « 95 adhérents sur 100 orientés » gives
         the 5 who did not adhere), and the remainder of a population inside another
         (`secret_sous_populations`);
       - a proportion on fewer than `seuil_denominateur` households (for rendez-vous: fewer than
         `seuil_denominateur` households or planned rendez-vous): its k and its n are hidden;
       - a euro total on fewer than `seuil_denominateur` households;
       - the counts of the comparison accompanied / control (int_secret_evaluation).
    3. Secondary secrecy. The cells are tied by sums (int_secret_equations): landlords, volets
       and départements add up to their project, projects and landlords (across projects) to the
       programme, a landlord's projects to the landlord, ended plus running accompaniments to
       adhered households, k plus its complement to n, a population inside another plus its
       remainder to it, the levels of a covariate to their cohort. The cells to hide are chosen
       in Python (capitalisation/publication/secret.py, dbt Python model int_secret_cellules):
       for the public and for each landlord (who knows its own cells), no sum may leave a single
       unknown cell that is secret, and no small secret count may be pinned by the bounds of the
       sums; the figures the project published itself are never chosen, the previous
       publication's secret cells stay secret. The generic test `secret_sans_case_deductible`
       fails the build if a sum still gives a secret cell back.
    4. Display. A proportion (valeur, interval) is hidden when its n or its k is; a mean, median
       or interval in euros when its n or its total is. Secret cells are null in the pub_
       tables and named in `cellules_secretes`; every output prints « s », never 0.
-#}

{% macro effectif_secret(colonne) -%}
    coalesce({{ colonne }} between 1 and {{ var('seuil_effectif') }}, false)
{%- endmacro %}

{% macro denominateur_secret(colonne) -%}
    coalesce({{ colonne }} < {{ var('seuil_denominateur') }}, true)
{%- endmacro %}

{#- A proportion k / n is secret when n is small, or when k or n − k is a small count. -#}
{% macro proportion_secrete(k, n) -%}
    ({{ denominateur_secret(n) }} or {{ effectif_secret(k) }} or {{ effectif_secret(n ~ ' - ' ~ k) }})
{%- endmacro %}

{#-
    A count published rounded to the nearest multiple of `seuil_denominateur` (halves up), where
    the differences of successive counts would be households (numbers at risk, months of a
    trajectory): the difference of two rounded counts leaves the true one uncertain by more than
    `seuil_effectif`.
-#}
{% macro arrondi_effectif(colonne) -%}
    cast(floor(({{ colonne }} + {{ var('seuil_denominateur') }} / 2.0) / {{ var('seuil_denominateur') }})
        * {{ var('seuil_denominateur') }} as integer)
{%- endmacro %}

{#- The value, or null when `condition` holds. -#}
{% macro masquer(colonne, condition) -%}
    case when {{ condition }} then null else {{ colonne }} end
{%- endmacro %}

{#- A comma-separated list of the names whose condition holds (empty when none). -#}
{% macro liste_secrets(conditions) -%}
    coalesce(concat_ws(','
    {%- for nom, condition in conditions %}, case when {{ condition }} then '{{ nom }}' end{% endfor -%}
    ), '')
{%- endmacro %}

{#- The columns of a published table, in order, then its `cellules_secretes`: a name is passed
    through (after `prefixe`); (name, condition) is masked when the condition holds and listed
    among the secret cells; (name, condition, expression) masks that expression instead, and
    (name, none, expression) passes it through. -#}
{% macro colonnes_publiees(colonnes, prefixe='') -%}
    {%- set secrets = [] -%}
    {%- for colonne in colonnes -%}
        {%- if colonne is string %}
        {{ prefixe ~ colonne }},
        {%- elif colonne[1] is none %}
        {{ colonne[2] }} as {{ colonne[0] }},
        {%- else -%}
            {%- set expression = colonne[2] if colonne | length > 2 else prefixe ~ colonne[0] -%}
            {%- do secrets.append((colonne[0], colonne[1])) %}
        {{ masquer(expression, colonne[1]) }} as {{ colonne[0] }},
        {%- endif -%}
    {%- endfor %}
        {{ liste_secrets(secrets) }} as cellules_secretes
{%- endmacro %}

{#-
    Canonical measures: the population an indicator's n (or k) counts, as defined in
    models/intermediate/int_indicateurs_contributions.sql. Indicators over the same
    population share their n; an indicator whose population is another's numerator shares it.
    The generic test `secret_cellules_coherentes` checks, on every build, that all the
    occurrences of a cell hold the same number.
-#}
{% macro secret_mesures() %}
    {{ return({
        'n': {
            'adhesion': 'orientes',
            'maintien': 'adherents',
            'relogement': 'adherents',
            'en_procedure': 'adherents',
            'expulse': 'adherents',
            'expulsion_evitee': 'en_procedure',
            'dette_resorbee': 'dette_sortie_connue',
            'dette_reduite': 'dette_sortie_connue',
            'dette_sortie_eur': 'dette_sortie_connue',
            'dette_entree_eur': 'en_dette_entree',
            'rdv_honores': 'rdv_prevus',
        },
        'k': {
            'adhesion': 'adherents',
            'en_dette_entree': 'en_dette_entree',
            'en_procedure': 'en_procedure',
            'rdv_honores': 'rdv_honores',
        },
        'menages': {
            'rdv_honores': 'rdv_menages',
        },
    }) }}
{% endmacro %}

{% macro _secret_mesure(indicateur, colonne, suffixe) -%}
    case {{ indicateur }}
        {%- for code, mesure in secret_mesures()[colonne].items() %}
        when '{{ code }}' then '{{ mesure }}'
        {%- endfor %}
        else {{ dbt.concat([indicateur, "'" ~ suffixe ~ "'"]) }}
    end
{%- endmacro %}

{% macro secret_mesure_n(indicateur) -%}
    {{ _secret_mesure(indicateur, 'n', '.n') }}
{%- endmacro %}

{% macro secret_mesure_k(indicateur) -%}
    {{ _secret_mesure(indicateur, 'k', '.k') }}
{%- endmacro %}

{#-
    Populations inside another (indicators.md, populations of the descriptive frame): the n of an
    indicator that counts only some of the households of another measure. The households left out
    (the adhered households without a known entry debt, for example) are an unpublished remainder,
    protected like a complement: « 9 accompagnés, dont 6 à la dette d'entrée connue » gives 3.
-#}
{% macro secret_sous_populations() %}
    {{ return({
        'loyer_a_jour.n': 'adherents',
        'en_dette_entree.n': 'adherents',
        'gain_energie_eur.n': 'adherents',
        'rdv_menages': 'adherents',
        'dette_sortie_connue': 'en_dette_entree',
    }) }}
{% endmacro %}

{#- The row keys of the comparison's tables in int_secret_evaluation (`alias`: the table's alias). -#}
{% macro secret_ligne_comparaison(alias) -%}
    {{ dbt.concat([alias ~ '.projet_id', "'|'", alias ~ '.resultat', "'|'",
        'cast(' ~ alias ~ '.horizon_mois as ' ~ dbt.type_string() ~ ')', "'|'", alias ~ '.methode']) }}
{%- endmacro %}

{% macro secret_ligne_equilibre(alias) -%}
    {{ dbt.concat([alias ~ '.projet_id', "'|'", alias ~ '.covariable', "'|'", 'coalesce(' ~ alias ~ ".niveau, '')"]) }}
{%- endmacro %}

{#-
    Join, as `alias`, whether the cell shown by column `colonne` of the row `ligne` of the published
    table `table_publiee` is secret (int_secret_evaluation, then int_secret_cellules).
-#}
{#- The CTEs `drapeaux` and `regles` of a comparison table (`relation`, published as
    `table_publiee`, its rows named by `ligne`): each count of `comptes` secret with its cell; the
    row (`ligne_secrete`) when one of them is, or a cohort has too few households. -#}
{% macro drapeaux_evaluation(relation, table_publiee, ligne, comptes) -%}
drapeaux as (

    select
        {{ relation }}.*,
        {% for colonne in comptes -%}
        {{ est_secrete('cellule_' ~ colonne) }} as {{ colonne }}_secret,
        {% endfor -%}
        {{ denominateur_secret(relation ~ '.n_traites') }} or {{ denominateur_secret(relation ~ '.n_temoins') }}
            as denominateur_insuffisant
    from {{ relation }}
    {% for colonne in comptes -%}
    {{ joindre_cellule_evaluation('cellule_' ~ colonne, table_publiee, ligne, colonne) }}
    {% endfor %}

),

regles as (

    select
        *,
        denominateur_insuffisant
        {%- for colonne in comptes %} or {{ colonne }}_secret{% endfor %} as ligne_secrete
    from drapeaux

)
{%- endmacro %}

{% macro joindre_cellule_evaluation(alias, table_publiee, ligne, colonne) -%}
    left join {{ ref('int_secret_evaluation') }} as {{ alias }}_occurrence
        on {{ alias }}_occurrence.table_publiee = '{{ table_publiee }}'
        and {{ alias }}_occurrence.ligne = {{ ligne }}
        and {{ alias }}_occurrence.colonne = '{{ colonne }}'
    left join {{ ref('int_secret_cellules') }} as {{ alias }}
        on {{ alias }}.cellule_id = {{ alias }}_occurrence.cellule_id
{%- endmacro %}

{#-
    The columns of fct_effectifs_projet as cells: (column, measure, level, dimension). The
    oriented and adhered households are the n and k of `adhesion`; a volet's households are
    the n of `adhesion` in that volet.
-#}
{% macro secret_effectifs() %}
    {{ return([
        ('menages_orientes', "'orientes'", 'projet', 'null'),
        ('menages_accompagnes', "'adherents'", 'projet', 'null'),
        ('menages_termines', "'termines'", 'projet', 'null'),
        ('menages_en_cours', "'en_cours'", 'projet', 'null'),
        ('menages_temoins', "'temoins'", 'projet', 'null'),
        ('volet_maintien', "'orientes'", 'volet', "'maintien'"),
        ('volet_acces', "'orientes'", 'volet', "'acces'"),
    ]) }}
{% endmacro %}

{#- The households counted by `menages`: the n, except for rendez-vous (n counts rendez-vous). -#}
{% macro secret_mesure_menages(indicateur) -%}
    case when {{ indicateur }} = 'rdv_honores' then 'rdv_menages' else {{ secret_mesure_n(indicateur) }} end
{%- endmacro %}

{% macro secret_mesure_total(indicateur) -%}
    {{ dbt.concat([indicateur, "'.total'"]) }}
{%- endmacro %}

{#-
    Identifier of a canonical cell. Levels: `programme`, `projet`, `bailleur` (a landlord in a
    project), `volet`, `departement` (in a project) and `bailleur_programme` (a landlord
    across its projects). `projet` and `dimension` are SQL expressions or null.
-#}
{% macro secret_cellule_id(mesure, niveau, projet='null', dimension='null') -%}
    {{ dbt.concat([mesure, "'|" ~ niveau ~ "|'", "coalesce(" ~ projet ~ ", '')", "'|'",
        "coalesce(cast(" ~ dimension ~ " as " ~ dbt.type_string() ~ "), '')"]) }}
{%- endmacro %}

{#- True when the cell `identifiant` (an alias of int_secret_cellules joined on it) is secret. -#}
{% macro est_secrete(alias) -%}
    coalesce({{ alias }}.secrete, false)
{%- endmacro %}

{#-
    The aggregate tables whose counts the publication layer publishes, `fct_<nom>` published as
    `pub_<nom>`: the level of their cells and the columns that give a cell's project and
    dimension (SQL expressions or null). The benchmark marts hold proportions only, without
    `nature` or amounts. `proportions`: whether the table's proportions are listed in
    int_secret_proportions (those of fct_benchmark_projet_bailleur are the cells of
    fct_indicateurs_bailleur's).
-#}
{% macro secret_tables_agregees() %}
    {{ return([
        {'nom': 'indicateurs_programme', 'niveau': 'programme', 'projet': 'null', 'dimension': 'null',
            'benchmark': false, 'proportions': true},
        {'nom': 'indicateurs_projet', 'niveau': 'projet', 'projet': 'projet_id', 'dimension': 'null',
            'benchmark': false, 'proportions': true},
        {'nom': 'indicateurs_bailleur', 'niveau': 'bailleur', 'projet': 'projet_id', 'dimension': 'bailleur_id',
            'benchmark': false, 'proportions': true},
        {'nom': 'indicateurs_volet', 'niveau': 'volet', 'projet': 'projet_id', 'dimension': 'volet',
            'benchmark': false, 'proportions': true},
        {'nom': 'indicateurs_departement', 'niveau': 'departement', 'projet': 'projet_id',
            'dimension': 'departement', 'benchmark': false, 'proportions': true},
        {'nom': 'benchmark_bailleur', 'niveau': 'bailleur_programme', 'projet': 'null',
            'dimension': 'bailleur_id', 'benchmark': true, 'proportions': true},
        {'nom': 'benchmark_projet_bailleur', 'niveau': 'bailleur', 'projet': 'projet_id',
            'dimension': 'bailleur_id', 'benchmark': true, 'proportions': false},
    ]) }}
{% endmacro %}

{#- One import CTE per table of `tables` (secret_tables_agregees), named after it. -#}
{% macro secret_importer_tables(tables) -%}
{%- for table in tables %}
{{ table.nom }} as (

    select
        *{% if table.benchmark %},
        'proportion' as nature{% endif %}
    from {{ ref('fct_' ~ table.nom) }}

),
{% endfor -%}
{%- endmacro %}

{#-
    Every occurrence of a count in an aggregate indicator table (fct_indicateurs_*, and the
    benchmark marts with `montants=false`): one row per row, column and cell, with the
    primary rule of that occurrence.
-#}
{% macro secret_occurrences_indicateurs(relation, table_publiee, niveau, projet='null', dimension='null',
    montants=true) %}
    {%- set cle = dbt.concat(["coalesce(" ~ projet ~ ", '')", "'|'",
        "coalesce(cast(" ~ dimension ~ " as " ~ dbt.type_string() ~ "), '')", "'|'", "indicateur"]) -%}
    {%- set colonnes = [
        ('n', secret_mesure_n('indicateur'), 'cast(n as double)',
            "case when indicateur = 'rdv_honores' then " ~ effectif_secret('menages')
            ~ " else " ~ effectif_secret('n') ~ " end", 'true'),
        ('k', secret_mesure_k('indicateur'), 'cast(k as double)',
            "indicateur != 'rdv_honores' and " ~ effectif_secret('k'), "nature = 'proportion'"),
        ('menages', secret_mesure_menages('indicateur'), 'cast(menages as double)',
            effectif_secret('menages'), 'true'),
    ] -%}
    {%- if montants -%}
        {%- do colonnes.append(('total_eur', secret_mesure_total('indicateur'), 'cast(total_eur as double)',
            denominateur_secret('n'), "nature = 'montant'")) -%}
    {%- endif -%}
    {%- for colonne, mesure, valeur, primaire, condition in colonnes %}
    select
        '{{ table_publiee }}' as table_publiee,
        {{ cle }} as ligne,
        '{{ colonne }}' as colonne,
        {{ secret_cellule_id(mesure, niveau, projet, dimension) }} as cellule_id,
        {{ mesure }} as mesure,
        '{{ niveau }}' as niveau,
        coalesce({{ projet }}, '') as projet_id,
        coalesce(cast({{ dimension }} as {{ dbt.type_string() }}), '') as dimension,
        '' as bailleur_id,
        {{ valeur }} as valeur,
        {{ primaire }} as primaire,
        false as publique,
        false as confirmee
    from {{ relation }}
    where {{ condition }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}

{#-
    The proportions of an aggregate table, for the rules that tie n and k: one row per row,
    with the two cells, whether the proportion is on too few households (one of n and k must
    be hidden) and the complement n − k (households only).
-#}
{% macro secret_proportions_indicateurs(relation, niveau, projet='null', dimension='null') %}
    select
        {{ secret_cellule_id(secret_mesure_n('indicateur'), niveau, projet, dimension) }} as cellule_n,
        {{ secret_cellule_id(secret_mesure_k('indicateur'), niveau, projet, dimension) }} as cellule_k,
        cast(n as double) as n,
        cast(k as double) as k,
        indicateur = 'rdv_honores' as sur_rendez_vous,
        case
            when indicateur = 'rdv_honores'
                then {{ denominateur_secret('n') }} or {{ denominateur_secret('menages') }}
            else {{ denominateur_secret('n') }}
        end as denominateur_insuffisant
    from {{ relation }}
    where nature = 'proportion'
{% endmacro %}

{#-
    The published form of a count column: null when its cell is secret. `alias` is the
    int_secret_cellules row joined for that column.
-#}
{% macro publier_cellule(colonne, alias) -%}
    {{ masquer(colonne, est_secrete(alias)) }}
{%- endmacro %}

{#-
    Grain-free generic tests of the publication layer.

    secret_cellules_coherentes: every occurrence of a canonical cell holds the same number
    (the measures of `secret_mesures` match the populations of the indicators).
-#}
{% test secret_cellules_coherentes(model) %}
select
    cellule_id,
    min(valeur) as plus_petite,
    max(valeur) as plus_grande
from {{ model }}
group by cellule_id
having max(valeur) - min(valeur) > 0.005
{% endtest %}

{#-
    secret_sans_case_deductible: no sum of `equations` has exactly one unknown cell that is secret
    (the cells of `model`, column `secrete`; a cell that everyone knows, `publique`, is not unknown).
-#}
{% test secret_sans_case_deductible(model, equations) %}
with

membres as (

    select
        equations.equation_id,
        equations.cellule_id,
        case when {{ est_secrete('cellules') }} and not coalesce(cellules.publique, false) then 1 else 0 end
            as secrete,
        case
            when ({{ est_secrete('cellules') }} or equations.implicite) and not coalesce(cellules.publique, false)
                then 1
            else 0
        end as inconnue
    from {{ equations }} as equations
    left join {{ model }} as cellules
        on equations.cellule_id = cellules.cellule_id

)

select
    equation_id,
    sum(inconnue) as inconnues,
    sum(secrete) as secretes
from membres
group by equation_id
having sum(inconnue) = 1 and sum(secrete) = 1
{% endtest %}
