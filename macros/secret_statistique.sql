{#-
    Statistical secrecy (indicators.md, « Disclosure »). Thresholds come from the dbt vars
    `seuil_effectif` (counts of households from 1 to it are never published, default 5) and
    `seuil_denominateur` (no proportion on fewer households, default 10), which
    `capitalisation run` sets from parametres.toml.
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
