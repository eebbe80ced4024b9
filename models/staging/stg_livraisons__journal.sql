{#-
    The audit journal of deliveries, one row per delivery seen by a run. The journal folder
    may not exist yet (no run has written to it): the model is then empty, with its types.
-#}
{%- set journal = source('livraisons', 'journal') -%}
{%- set motif = env_var('CAPITALISATION_LANDING', 'warehouse/landing') ~ '/../journal/*.json' -%}
{%- set present = false -%}
{%- if execute -%}
    {%- set present = journal_present(motif) -%}
{%- endif %}

with

journal as (

    {% if present -%}
    select * from {{ journal }}
    {%- else -%}
    {%- set texte = dbt.type_string() %}
    select
        cast(null as {{ texte }}) as evenement_id,
        cast(null as {{ texte }}) as execution_id,
        cast(null as timestamp) as horodatage,
        cast(null as {{ texte }}) as projet_id,
        cast(null as date) as date_extraction,
        cast(null as {{ texte }}) as dossier,
        cast(null as {{ texte }}) as statut,
        cast(null as {{ type_liste(type_structure([('fichier', texte), ('sha256', texte), ('lignes', 'bigint')])) }})
            as fichiers,
        cast(null as {{ type_liste(texte) }}) as raisons
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
