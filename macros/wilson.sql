{#- 95 % Wilson score interval for k successes out of n (null when n = 0). -#}
{% macro wilson_bas(k, n) -%}
    case when {{ n }} > 0 then
        ({{ k }} + {{ var('z_95') }} * {{ var('z_95') }} / 2.0
            - {{ var('z_95') }} * sqrt({{ k }} * ({{ n }} - {{ k }}) / cast({{ n }} as double)
                + {{ var('z_95') }} * {{ var('z_95') }} / 4.0))
        / ({{ n }} + {{ var('z_95') }} * {{ var('z_95') }})
    end
{%- endmacro %}

{% macro wilson_haut(k, n) -%}
    case when {{ n }} > 0 then
        ({{ k }} + {{ var('z_95') }} * {{ var('z_95') }} / 2.0
            + {{ var('z_95') }} * sqrt({{ k }} * ({{ n }} - {{ k }}) / cast({{ n }} as double)
                + {{ var('z_95') }} * {{ var('z_95') }} / 4.0))
        / ({{ n }} + {{ var('z_95') }} * {{ var('z_95') }})
    end
{%- endmacro %}
