{#-
    Every published proportion, one row per pair of cells (n, k): whether it rests on too few
    households (one of its two cells must then be hidden), and for proportions of households
    the unpublished complement n − k, protected like a published count.
-#}
{%- set tables = secret_tables_agregees() | selectattr('proportions') | list -%}
with

{{ secret_importer_tables(tables) }}

proportions as (

    {% for table in tables %}
    {{ secret_proportions_indicateurs(table.nom, table.niveau, table.projet, table.dimension) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        cellule_n,
        cellule_k,
        {{ dbt.concat(["'complement|'", 'cellule_n', "'|'", 'cellule_k']) }} as cellule_complement,
        max(n) as n,
        max(k) as k,
        max(n) - max(k) as complement,
        max(case when sur_rendez_vous then 1 else 0 end) = 1 as sur_rendez_vous,
        max(case when denominateur_insuffisant then 1 else 0 end) = 1 as denominateur_insuffisant
    from proportions
    group by cellule_n, cellule_k

)

select * from final
