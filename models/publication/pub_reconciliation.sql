{#- The published figure is public already; the recomputed one follows the secrecy rules. -#}
with

reconciliation as (

    select * from {{ ref('fct_reconciliation') }}

),

drapeaux as (

    select
        *,
        case
            when type_valeur = 'proportion' and indicateur = 'rdv_honores' then {{ denominateur_secret('n') }}
            when type_valeur = 'proportion' then {{ proportion_secrete('k', 'n') }}
            else {{ effectif_secret('valeur_recalculee') }}
        end as recalcul_secret
    from reconciliation

),

final as (

    select
        projet_id,
        indicateur,
        type_valeur,
        comparaison,
        periode,
        source,
        libelle,
        valeur_publiee,
        {{ masquer('valeur_recalculee', 'recalcul_secret') }} as valeur_recalculee,
        {{ masquer('ic_bas', 'recalcul_secret') }} as ic_bas,
        {{ masquer('ic_haut', 'recalcul_secret') }} as ic_haut,
        {{ masquer('n', 'recalcul_secret and ' ~ effectif_secret('n')) }} as n,
        {{ masquer('k', 'recalcul_secret') }} as k,
        {{ masquer('ecart', 'recalcul_secret') }} as ecart,
        statut,
        {{ liste_secrets([('valeur_recalculee', 'recalcul_secret'), ('k', 'recalcul_secret'),
            ('n', 'recalcul_secret and ' ~ effectif_secret('n'))]) }} as cellules_secretes
    from drapeaux

)

select * from final
