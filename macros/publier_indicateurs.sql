{#-
    The published form of an aggregate indicator table (fct_indicateurs_*): the same columns,
    secret cells set to null and named in `cellules_secretes` (rules and cells in
    macros/secret_statistique.sql, decisions in int_secret_cellules).

    n, k, ménages and the euro total are hidden when their cell is; a proportion and its
    interval when its n or its k is (k / valeur would give n back); a mean, median and
    interval in euros when their n or their total is.
-#}
{% macro publier_indicateurs(relation, cles, niveau, projet='null', dimension='null') %}
{#- Within a project, every group has a row for every indicator of the project and for every
    indicator of the accompaniment (`vide`: a population without households, all secret): a
    missing row would say that it is empty (no row of evictions avoided says that nobody was in
    procedure). -#}
{%- set completer = 'projet_id' in cles %}
with

source as (

    select * from {{ relation }}

),

{% if completer -%}
groupes as (

    select distinct {{ cles | join(', ') }} from source

),

presents as (

    {{ indicateurs_presents('source') }}

),

indicateurs as (

    select
        {% for cle in cles %}groupes.{{ cle }},
        {% endfor -%}
        presents.indicateur,
        presents.nature,
        {{ colonnes_sauf(relation, 'source', cles + ['indicateur', 'nature']) }},
        source.indicateur is null as vide
    from groupes
    inner join presents on presents.projet_id = groupes.projet_id
    left join source
        on {% for cle in cles %}source.{{ cle }} = groupes.{{ cle }} and {% endfor %}source.indicateur = presents.indicateur

),
{%- else -%}
indicateurs as (

    select *, false as vide from source

),
{%- endif %}

cellules as (

    select * from {{ ref('int_secret_cellules') }}

),

drapeaux as (

    select
        indicateurs.*,
        {{ est_secrete('cellules_n') }} or indicateurs.vide as n_secret,
        {{ est_secrete('cellules_k') }} or indicateurs.vide as k_secret,
        {{ est_secrete('cellules_menages') }} or indicateurs.vide as menages_secret,
        {{ est_secrete('cellules_total') }} or indicateurs.vide as total_secret
    from indicateurs
    {{ joindre_cellule('cellules_n', secret_mesure_n('indicateurs.indicateur'), niveau,
        projet_qualifie(projet), projet_qualifie(dimension)) }}
    {{ joindre_cellule('cellules_k', secret_mesure_k('indicateurs.indicateur'), niveau,
        projet_qualifie(projet), projet_qualifie(dimension)) }}
    {{ joindre_cellule('cellules_menages', secret_mesure_menages('indicateurs.indicateur'), niveau,
        projet_qualifie(projet), projet_qualifie(dimension)) }}
    {{ joindre_cellule('cellules_total', secret_mesure_total('indicateurs.indicateur'), niveau,
        projet_qualifie(projet), projet_qualifie(dimension)) }}

),

regles as (

    select
        *,
        case
            when nature = 'proportion' then n_secret or k_secret
            else n_secret or total_secret
        end as valeur_secrete
    from drapeaux

),

final as (

    select
        {% for cle in cles %}{{ cle }},
        {% endfor -%}
        indicateur,
        nature,
        {{ masquer('n', 'n_secret') }} as n,
        {{ masquer('k', 'k_secret') }} as k,
        {{ masquer('valeur', 'valeur_secrete') }} as valeur,
        {{ masquer('ic_bas', 'valeur_secrete') }} as ic_bas,
        {{ masquer('ic_haut', 'valeur_secrete') }} as ic_haut,
        {{ masquer('moyenne_eur', 'valeur_secrete') }} as moyenne_eur,
        {{ masquer('mediane_eur', 'valeur_secrete') }} as mediane_eur,
        {{ masquer('total_eur', 'total_secret') }} as total_eur,
        {{ masquer('menages', 'menages_secret') }} as menages,
        {{ liste_secrets([
            ('n', 'n_secret'),
            ('k', "k_secret and nature = 'proportion'"),
            ('valeur', 'valeur_secrete'),
            ('ic_bas', 'valeur_secrete'),
            ('ic_haut', 'valeur_secrete'),
            ('moyenne_eur', "valeur_secrete and nature = 'montant'"),
            ('mediane_eur', "valeur_secrete and nature = 'montant'"),
            ('total_eur', "total_secret and nature = 'montant'"),
            ('menages', 'menages_secret'),
        ]) }} as cellules_secretes
    from regles

)

select * from final
{% endmacro %}

{#- The indicators each project of `source` has a row for: those of its data, and those of the
    accompaniment (secret_mesures: every population that follows from the orientations), which
    every project has, even empty. -#}
{% macro indicateurs_presents(source, colonnes=['nature']) -%}
    select distinct projet_id, indicateur{% for c in colonnes %}, {{ c }}{% endfor %} from {{ source }}
    union
    select projets.projet_id, famille.indicateur{% for c in colonnes %}, famille.{{ c }}{% endfor %}
    from (select distinct projet_id from {{ source }}) as projets
    cross join (
        select distinct indicateur{% for c in colonnes %}, {{ c }}{% endfor %} from {{ source }}
        where indicateur in ('{{ secret_mesures()['n'].keys() | list | join("', '") }}')
    ) as famille
{%- endmacro %}


{#- A column of the `indicateurs` CTE (or null). -#}
{% macro projet_qualifie(colonne) -%}
    {%- if colonne == 'null' -%}null{%- else -%}indicateurs.{{ colonne }}{%- endif -%}
{%- endmacro %}

{#- Join the cell of `mesure` at `niveau` (int_secret_cellules, CTE `cellules`) as `alias`. -#}
{% macro joindre_cellule(alias, mesure, niveau, projet='null', dimension='null') -%}
    left join cellules as {{ alias }}
        on {{ alias }}.cellule_id = {{ secret_cellule_id(mesure, niveau, projet, dimension) }}
{%- endmacro %}

{#-
    The published form of a benchmark mart (fct_benchmark_*): n, k and ménages hidden with
    their cells; the proportion, its interval, its residual and its positions when its n or
    its k is secret; the limits when its n is. Everything that rests on the programme's
    proportion is hidden when that proportion is. The overdispersion factor is estimated
    again over the published units only (so that no secret proportion feeds a published
    limit), and the limits and positions recomputed with it (macros/entonnoirs.sql).
-#}
{% macro publier_benchmark(relation, cles, niveau, projet='null', dimension='null') %}
{#- Every unit has a row for every indicator of its project (of the programme for a landlord
    across projects), as in publier_indicateurs: a missing row would say that its population is
    empty (`vide`: all secret). -#}
with

source as (

    select * from {{ relation }}

),

unites as (

    select distinct {{ cles | join(', ') }} from source

),

presents as (

    {% if 'projet_id' in cles -%}
    {{ indicateurs_presents('source', []) }}
    {%- else -%}
    select distinct indicateur from source
    {%- endif %}

),

benchmark as (

    select
        {% for cle in cles %}unites.{{ cle }},
        {% endfor -%}
        presents.indicateur,
        {{ colonnes_sauf(relation, 'source', cles + ['indicateur']) }},
        source.indicateur is null as vide
    from unites
    inner join presents on {% if 'projet_id' in cles %}presents.projet_id = unites.projet_id{% else %}1 = 1{% endif %}
    left join source
        on {% for cle in cles %}source.{{ cle }} = unites.{{ cle }} and {% endfor %}source.indicateur = presents.indicateur

),

cellules as (

    select * from {{ ref('int_secret_cellules') }}

),

drapeaux as (

    select
        benchmark.*,
        benchmark.vide or {{ est_secrete('cellules_n') }} as n_secret,
        benchmark.vide or {{ est_secrete('cellules_k') }} as k_secret,
        benchmark.vide or {{ est_secrete('cellules_menages') }} as menages_secret,
        {{ est_secrete('programme_n') }} or {{ est_secrete('programme_k') }} as moyenne_secrete
    from benchmark
    {{ joindre_cellule('cellules_n', secret_mesure_n('benchmark.indicateur'), niveau,
        benchmark_qualifie(projet), benchmark_qualifie(dimension)) }}
    {{ joindre_cellule('cellules_k', secret_mesure_k('benchmark.indicateur'), niveau,
        benchmark_qualifie(projet), benchmark_qualifie(dimension)) }}
    {{ joindre_cellule('cellules_menages', secret_mesure_menages('benchmark.indicateur'), niveau,
        benchmark_qualifie(projet), benchmark_qualifie(dimension)) }}
    {{ joindre_cellule('programme_n', secret_mesure_n('benchmark.indicateur'), 'programme') }}
    {{ joindre_cellule('programme_k', secret_mesure_k('benchmark.indicateur'), 'programme') }}

),

regles as (

    select
        *,
        n_secret or k_secret or moyenne_secrete as valeur_secrete,
        n_secret or moyenne_secrete as limites_secretes
    from drapeaux

),

unites_publiees as (

    select
        indicateur,
        z_score
    from regles
    where not valeur_secrete

),

{{ entonnoir_surdispersion('unites_publiees', ['indicateur']) }},

{{ entonnoir_avec_surdispersion('regles', estimee='surdispersion_publiee', appliquee='phi_publie') }},

limites as (

    select
        avec_surdispersion.*,
        {{ entonnoir_colonnes(phi='phi_publie', prefixe='publiee_') }}
    from avec_surdispersion

),

final as (

    select
        {% for cle in cles %}{{ cle }},
        {% endfor -%}
        indicateur,
        {% if niveau == 'bailleur_programme' %}projets,
        {% endif -%}
        {{ masquer('n', 'n_secret') }} as n,
        {{ masquer('k', 'k_secret') }} as k,
        {{ masquer('menages', 'menages_secret') }} as menages,
        {{ masquer('proportion', 'valeur_secrete') }} as proportion,
        {{ masquer('ic_bas', 'valeur_secrete') }} as ic_bas,
        {{ masquer('ic_haut', 'valeur_secrete') }} as ic_haut,
        {{ masquer('moyenne_programme', 'moyenne_secrete') }} as moyenne_programme,
        {{ masquer('z_score', 'valeur_secrete') }} as z_score,
        {{ masquer('surdispersion_publiee', 'moyenne_secrete') }} as surdispersion_estimee,
        cast({{ masquer('phi_publie', 'moyenne_secrete') }} as double) as surdispersion_appliquee,
        {% for limite in ['95_bas', '95_haut', '998_bas', '998_haut'] -%}
        {{ masquer('publiee_limite_' ~ limite, 'limites_secretes') }} as limite_{{ limite }},
        {% endfor -%}
        {{ masquer('publiee_position_95', 'valeur_secrete') }} as position_95,
        {{ masquer('publiee_position_998', 'valeur_secrete') }} as position_998,
        {{ liste_secrets([
            ('n', 'n_secret'),
            ('k', 'k_secret'),
            ('menages', 'menages_secret'),
            ('proportion', 'valeur_secrete'),
            ('ic_bas', 'valeur_secrete'),
            ('ic_haut', 'valeur_secrete'),
            ('moyenne_programme', 'moyenne_secrete'),
            ('z_score', 'valeur_secrete'),
            ('limite_95_bas', 'limites_secretes'),
            ('limite_95_haut', 'limites_secretes'),
            ('limite_998_bas', 'limites_secretes'),
            ('limite_998_haut', 'limites_secretes'),
            ('position_95', 'valeur_secrete'),
            ('position_998', 'valeur_secrete'),
        ]) }} as cellules_secretes
    from limites

)

select * from final
{% endmacro %}

{% macro benchmark_qualifie(colonne) -%}
    {%- if colonne == 'null' -%}null{%- else -%}benchmark.{{ colonne }}{%- endif -%}
{%- endmacro %}
