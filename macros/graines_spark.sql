{#-
    Seeds on Spark. dbt-spark's own loader binds values as '<value>' without escaping (« Val-d'Oise »
    ends the literal), turns empty cells into the string 'None' and sends numbers through a
    float. Here each value is an escaped string literal cast to the seed's column type, and an
    empty cell is null: the seeds load as they do on DuckDB. A column type `varchar` without
    length (refused by Spark) is read as `string`.
-#}
{% macro type_graine_spark(type_) -%}
    {{- 'string' if (type_ | string | trim | lower) == 'varchar' else type_ -}}
{%- endmacro %}

{% macro types_graine_spark(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set types = [] -%}
  {%- for col_name in agate_table.column_names -%}
      {%- do types.append(type_graine_spark(
          column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)))) -%}
  {%- endfor -%}
  {{ return(types) }}
{% endmacro %}

{% macro spark__create_csv_table(model, agate_table) %}
  {%- set types = types_graine_spark(model, agate_table) -%}
  {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
  {%- set sql -%}
    create table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }} {{ types[loop.index0] }}
            {%- if not loop.last %}, {% endif -%}
        {%- endfor -%}
    )
    {{ file_format_clause() }}
    {{ location_clause() }}
    {{ comment_clause() }}
  {%- endset -%}
  {%- call statement('_') -%}
    {{ sql }}
  {%- endcall -%}
  {{ return(sql) }}
{% endmacro %}
{% macro spark__load_csv_rows(model, agate_table) %}

  {%- set batch_size = get_batch_size() -%}
  {%- set types = types_graine_spark(model, agate_table) -%}

  {%- set statements = [] -%}
  {%- for chunk in agate_table.rows | batch(batch_size) -%}
      {%- set sql -%}
          insert into {{ this.render() }} values
          {% for row in chunk -%}
              ({%- for valeur in row -%}
                  cast({{ litteral_graine(valeur) }} as {{ types[loop.index0] }})
                  {%- if not loop.last %}, {% endif -%}
              {%- endfor -%})
              {%- if not loop.last %},
          {% endif -%}
          {%- endfor %}
      {%- endset -%}
      {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
      {%- if loop.index0 == 0 -%}
          {%- do statements.append(sql) -%}
      {%- endif -%}
  {%- endfor -%}

  {{ return(statements[0]) }}
{% endmacro %}

{#- A seed cell as a Spark string literal (backslash and quote escaped), or null when empty. -#}
{% macro litteral_graine(valeur) -%}
    {%- if valeur is none or (valeur | string) == '' -%}
        null
    {%- elif valeur is sameas true or valeur is sameas false -%}
        '{{ valeur | string | lower }}'
    {%- else -%}
        '{{ valeur | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
