{#-
    The landlords' benchmark across projects: each landlord's proportion on every household
    of its projects, against the programme's pooled proportion, with funnel-plot limits
    (macros/entonnoirs.sql). The overdispersion factor is estimated over the landlords of each
    indicator.
-#}
{{ benchmark_entonnoir(['bailleur_id']) }}
