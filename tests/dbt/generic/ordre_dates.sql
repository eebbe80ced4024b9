{#- `avant` is on or before `apres` wherever both are known. -#}
{% test ordre_dates(model, avant, apres) %}
select *
from {{ model }}
where {{ avant }} is not null
    and {{ apres }} is not null
    and {{ avant }} > {{ apres }}
{% endtest %}
