{#-
    The balance table as published. Its counts (the households of each cohort, those at each level
    of a covariate) are cells of the secrecy layer (int_secret_evaluation, decided in
    int_secret_cellules with every other count: 1 to `seuil_effectif`, complements, sums of levels,
    the landlord's own level for the insider). Everything computed from a hidden count is hidden
    with it: the means (a mean of a binary level is k / n), the weighted mean, the standardised
    differences, the variance ratios and the KS statistics (for a binary level each of them gives
    the proportion back, and with n the count: trying every integer pair inverts an SMD). A
    continuous covariate on a cohort under `seuil_denominateur` households hides its statistics.
-#}
{%- set comptes = ['n_traites', 'n_temoins', 'k_traites', 'k_temoins'] -%}
{%- set statistiques = ['moyenne_traites', 'moyenne_temoins', 'moyenne_ponderee_temoins', 'smd_avant', 'smd_apres',
    'ratio_variance_avant', 'ratio_variance_apres', 'ks_avant', 'ks_apres', 'desequilibre_avant',
    'desequilibre_apres'] -%}
with

equilibre as (

    select * from {{ source('evaluation', 'fct_equilibre') }}

),

{{ drapeaux_evaluation('equilibre', 'pub_equilibre', secret_ligne_equilibre('equilibre'), comptes) }},

final as (

    select
        {%- set colonnes = ['projet_id', 'covariable', 'niveau'] -%}
        {%- for colonne in comptes %}{% do colonnes.append((colonne, colonne ~ '_secret')) %}{% endfor -%}
        {%- for colonne in statistiques %}{% do colonnes.append((colonne, 'ligne_secrete')) %}{% endfor -%}
        {{- colonnes_publiees(colonnes) }}
    from regles

)

select * from final
