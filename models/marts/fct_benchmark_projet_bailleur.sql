{#-
    The landlords' benchmark within projects: each landlord's proportion in each of its
    projects, against the programme's pooled proportion, with funnel-plot limits
    (macros/entonnoirs.sql). The overdispersion factor is estimated over the (project,
    landlord) units of each indicator.
-#}
{{ benchmark_entonnoir(['projet_id', 'bailleur_id']) }}
