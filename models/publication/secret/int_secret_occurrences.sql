{#-
    Every count published by the publication layer, one row per published table, row and
    column, with the canonical cell it shows and the primary rule of that occurrence
    (macros/secret_statistique.sql). The pub_ models look their cells up in
    int_secret_cellules with the same identifiers.
-#}
{%- set effectifs = secret_effectifs() -%}
{%- set tables = secret_tables_agregees() -%}
with

{{ secret_importer_tables(tables) }}

effectifs as (

    select * from {{ ref('fct_effectifs_projet') }}

),

couts as (

    select * from {{ ref('fct_couts_projet') }}

),

reconciliation as (

    select * from {{ ref('fct_reconciliation') }}

),

occurrences_indicateurs as (

    {% for table in tables %}
    {{ secret_occurrences_indicateurs(table.nom, 'pub_' ~ table.nom, table.niveau, table.projet, table.dimension,
        montants=not table.benchmark) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

occurrences_effectifs as (

    {% for colonne, mesure, niveau, dimension in effectifs %}
    select
        'pub_effectifs_projet' as table_publiee,
        projet_id as ligne,
        '{{ colonne }}' as colonne,
        {{ secret_cellule_id(mesure, niveau, 'projet_id', dimension) }} as cellule_id,
        {{ mesure }} as mesure,
        '{{ niveau }}' as niveau,
        projet_id,
        coalesce({{ dimension }}, '') as dimension,
        '' as bailleur_id,
        cast({{ colonne }} as double) as valeur,
        {{ effectif_secret(colonne) }} as primaire,
        false as publique,
        false as confirmee
    from effectifs
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{#-
    The households accompanied per year are an average of counts: secret from 0 (excluded) to
    the threshold; for a one-year project they are the adhered households (int_secret_equations).
-#}
occurrences_couts as (

    select
        'pub_couts_projet' as table_publiee,
        projet_id as ligne,
        'expulsions_evitees' as colonne,
        {{ secret_cellule_id("'expulsion_evitee.k'", 'projet', 'projet_id') }} as cellule_id,
        'expulsion_evitee.k' as mesure,
        'projet' as niveau,
        projet_id,
        '' as dimension,
        '' as bailleur_id,
        cast(expulsions_evitees as double) as valeur,
        {{ effectif_secret('expulsions_evitees') }} as primaire,
        false as publique,
        false as confirmee
    from couts
    where expulsions_evitees is not null
    union all
    select
        'pub_couts_projet' as table_publiee,
        projet_id as ligne,
        'menages_accompagnes_par_an' as colonne,
        {{ secret_cellule_id("'accompagnes_par_an'", 'projet', 'projet_id') }} as cellule_id,
        'accompagnes_par_an' as mesure,
        'projet' as niveau,
        projet_id,
        '' as dimension,
        '' as bailleur_id,
        menages_accompagnes_par_an as valeur,
        menages_accompagnes_par_an > 0 and menages_accompagnes_par_an <= {{ var('seuil_effectif') }} as primaire,
        false as publique,
        false as confirmee
    from couts
    where menages_accompagnes_par_an is not null

),

{#- A reconciliation row shows a project's indicator (n, k) or one of its counts. -#}
reconciliation_cellules as (

    select
        *,
        case indicateur
            {%- for colonne, mesure, niveau, dimension in effectifs %}
            when '{{ colonne }}' then {{ secret_cellule_id(mesure, niveau, 'projet_id', dimension) }}
            {%- endfor %}
            when 'menages_accompagnes_par_an' then {{ secret_cellule_id("'accompagnes_par_an'", 'projet', 'projet_id') }}
            else {{ secret_cellule_id(secret_mesure_k('indicateur'), 'projet', 'projet_id') }}
        end as cellule_effectif,
        case indicateur
            {%- for colonne, mesure, niveau, dimension in effectifs %}
            when '{{ colonne }}' then {{ mesure }}
            {%- endfor %}
            when 'menages_accompagnes_par_an' then 'accompagnes_par_an'
            else {{ secret_mesure_k('indicateur') }}
        end as mesure_effectif,
        case indicateur
            {%- for colonne, mesure, niveau, dimension in effectifs %}
            when '{{ colonne }}' then '{{ niveau }}'
            {%- endfor %}
            else 'projet'
        end as niveau_effectif,
        case indicateur
            {%- for colonne, mesure, niveau, dimension in effectifs %}
            when '{{ colonne }}' then coalesce({{ dimension }}, '')
            {%- endfor %}
            else ''
        end as dimension_effectif
    from reconciliation

),

occurrences_reconciliation as (

    select
        'pub_reconciliation' as table_publiee,
        {{ dbt.concat(['projet_id', "'|'", 'indicateur', "'|'", 'type_valeur']) }} as ligne,
        'n' as colonne,
        {{ secret_cellule_id(secret_mesure_n('indicateur'), 'projet', 'projet_id') }} as cellule_id,
        {{ secret_mesure_n('indicateur') }} as mesure,
        'projet' as niveau,
        projet_id,
        '' as dimension,
        '' as bailleur_id,
        cast(n as double) as valeur,
        indicateur != 'rdv_honores' and {{ effectif_secret('n') }} as primaire,
        false as publique,
        false as confirmee
    from reconciliation_cellules
    where n is not null
    union all
    select
        'pub_reconciliation' as table_publiee,
        {{ dbt.concat(['projet_id', "'|'", 'indicateur', "'|'", 'type_valeur']) }} as ligne,
        'k' as colonne,
        {{ secret_cellule_id(secret_mesure_k('indicateur'), 'projet', 'projet_id') }} as cellule_id,
        {{ secret_mesure_k('indicateur') }} as mesure,
        'projet' as niveau,
        projet_id,
        '' as dimension,
        '' as bailleur_id,
        cast(k as double) as valeur,
        indicateur != 'rdv_honores' and {{ effectif_secret('k') }} as primaire,
        false as publique,
        false as confirmee
    from reconciliation_cellules
    where type_valeur = 'proportion' and k is not null
    union all
    select
        'pub_reconciliation' as table_publiee,
        {{ dbt.concat(['projet_id', "'|'", 'indicateur', "'|'", 'type_valeur']) }} as ligne,
        'valeur_recalculee' as colonne,
        cellule_effectif as cellule_id,
        mesure_effectif as mesure,
        niveau_effectif as niveau,
        projet_id,
        dimension_effectif as dimension,
        '' as bailleur_id,
        valeur_recalculee as valeur,
        valeur_recalculee > 0 and valeur_recalculee <= {{ var('seuil_effectif') }} as primaire,
        {#- A count the project published itself, exactly, that the data confirm: known to all. #}
        comparaison = 'egal' and valeur_publiee = valeur_recalculee as publique,
        {#- A count the project published that the data confirm: hidden last. #}
        statut = 'confirme' as confirmee
    from reconciliation_cellules
    where type_valeur = 'effectif' and valeur_recalculee is not null

),

final as (

    select * from occurrences_indicateurs
    union all
    select * from occurrences_effectifs
    union all
    select * from occurrences_couts
    union all
    select * from occurrences_reconciliation
    union all
    select * from {{ ref('int_secret_evaluation') }}

)

select * from final
