{#- Compound foreign key: every (colonnes) of the model exists in `vers`. -#}
{% test relation_composee(model, vers, colonnes) %}
select {% for c in colonnes %}enfant.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ model }} as enfant
left join {{ vers }} as parent
    on {% for c in colonnes %}enfant.{{ c }} = parent.{{ c }}{% if not loop.last %} and {% endif %}{% endfor %}
where parent.{{ colonnes[0] }} is null
{% endtest %}
