-- How many published figures does each project's export confirm?
select
    projet_id,
    statut,
    count(*) as chiffres
from {{ ref('fct_reconciliation') }}
group by projet_id, statut
order by projet_id, statut
