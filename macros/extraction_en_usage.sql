{#- Keep only the newest extraction of each project: a newer delivery supersedes the older one as a whole. -#}
{% macro extraction_en_usage(alias) %}
    {{ alias }}.date_extraction = (
        select max(derniere.date_extraction)
        from {{ source('livraisons', 'menages') }} as derniere
        where derniere.projet_id = {{ alias }}.projet_id
    )
{% endmacro %}
