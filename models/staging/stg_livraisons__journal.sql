{#-
    The audit journal of deliveries, one row per delivery seen by a run. The journal folder
    may not exist yet (no run has written to it): the model is then empty, with its types.
-#}
{%- set journal = source('livraisons', 'journal') -%}
{%- set motif = env_var('CAPITALISATION_LANDING', 'warehouse/landing') ~ '/../journal/*.json' -%}
{%- set present = false -%}
{%- if execute -%}
    {%- set present = run_query("select count(*) from glob('" ~ motif ~ "')").columns[0].values()[0] > 0 -%}
{%- endif %}

with

journal as (

    {% if present -%}
    select * from {{ journal }}
    {%- else -%}
    select
        null::varchar as evenement_id,
        null::varchar as execution_id,
        null::timestamp as horodatage,
        null::varchar as projet_id,
        null::date as date_extraction,
        null::varchar as dossier,
        null::varchar as statut,
        null::struct(fichier varchar, sha256 varchar, lignes bigint)[] as fichiers,
        null::varchar[] as raisons
    where false
    {%- endif %}

),

final as (

    select
        evenement_id,
        execution_id,
        horodatage,
        projet_id,
        date_extraction,
        dossier,
        statut,
        fichiers,
        raisons
    from journal

)

select * from final
