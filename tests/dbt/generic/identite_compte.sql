{#-
    The rent-account identity, within `tolerance` euros, for every pair of consecutive months:
    solde(m) = solde(m−1) + quittance(m) − aide_logement(m) − paiement(m) + regularisation(m).
-#}
{% test identite_compte(model, tolerance=1) %}
with

comptes as (

    select
        projet_id,
        menage_id,
        mois,
        solde_fin_mois,
        quittance - aide_logement - paiement + regularisation as mouvement,
        lag(mois) over (partition by projet_id, menage_id order by mois) as mois_precedent,
        lag(solde_fin_mois) over (partition by projet_id, menage_id order by mois) as solde_precedent
    from {{ model }}

)

select *
from comptes
where mois_precedent = {{ ajouter_mois('mois', -1) }}
    and abs(solde_fin_mois - (solde_precedent + mouvement)) > {{ tolerance }}
{% endtest %}
