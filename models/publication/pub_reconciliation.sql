{#-
    The published figure is public already; the recomputed one is made of cells of the
    secrecy layer: a proportion's n and k, or a count (int_secret_occurrences). A secret
    recomputed figure hides its value, interval, gap and status (« confirmé » beside a
    published count would give it back).
-#}
{%- set effectifs = secret_effectifs() -%}
with

reconciliation as (

    select * from {{ ref('fct_reconciliation') }}

),

cellules as (

    select * from {{ ref('int_secret_cellules') }}

),

identifiants as (

    select
        *,
        {{ secret_cellule_id(secret_mesure_n('indicateur'), 'projet', 'projet_id') }} as cellule_n,
        {{ secret_cellule_id(secret_mesure_k('indicateur'), 'projet', 'projet_id') }} as cellule_k,
        case indicateur
            {%- for colonne, mesure, niveau, dimension in effectifs %}
            when '{{ colonne }}' then {{ secret_cellule_id(mesure, niveau, 'projet_id', dimension) }}
            {%- endfor %}
            when 'menages_accompagnes_par_an' then {{ secret_cellule_id("'accompagnes_par_an'", 'projet', 'projet_id') }}
            else {{ secret_cellule_id(secret_mesure_k('indicateur'), 'projet', 'projet_id') }}
        end as cellule_effectif
    from reconciliation

),

drapeaux as (

    select
        identifiants.*,
        identifiants.n is not null and {{ est_secrete('cellules_n') }} as n_secret,
        case
            when type_valeur = 'proportion' then {{ est_secrete('cellules_k') }}
            else {{ est_secrete('cellules_effectif') }}
        end as k_secret
    from identifiants
    left join cellules as cellules_n
        on identifiants.cellule_n = cellules_n.cellule_id
    left join cellules as cellules_k
        on identifiants.cellule_k = cellules_k.cellule_id
    left join cellules as cellules_effectif
        on identifiants.cellule_effectif = cellules_effectif.cellule_id

),

regles as (

    select
        *,
        n_secret or k_secret as recalcul_secret,
        -- the figure on the published claim's own population: secret with the default one, or by
        -- its own primary rules (fct_reconciliation.secret_population)
        n_secret or k_secret or (not population_defaut and secret_population) as population_secrete
    from drapeaux

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
        {{ masquer('n', 'n_secret') }} as n,
        {{ masquer('k', 'k_secret') }} as k,
        {{ masquer('ecart', 'recalcul_secret') }} as ecart,
        {{ masquer('statut', 'recalcul_secret') }} as statut,
        population,
        borne_basse,
        borne_haute,
        raison,
        population_defaut,
        {{ masquer('valeur_population', 'population_secrete') }} as valeur_population,
        {{ masquer('ic_bas_population', 'population_secrete') }} as ic_bas_population,
        {{ masquer('ic_haut_population', 'population_secrete') }} as ic_haut_population,
        {{ masquer('n_population', 'population_secrete') }} as n_population,
        {{ masquer('k_population', 'population_secrete') }} as k_population,
        {{ masquer('verdict', 'population_secrete') }} as verdict,
        {{ liste_secrets([('valeur_recalculee', 'recalcul_secret'), ('ic_bas', 'recalcul_secret'),
            ('ic_haut', 'recalcul_secret'), ('n', 'n_secret'), ('k', 'k_secret'),
            ('ecart', 'recalcul_secret'), ('statut', 'recalcul_secret'),
            ('valeur_population', 'population_secrete'), ('ic_bas_population', 'population_secrete'),
            ('ic_haut_population', 'population_secrete'), ('n_population', 'population_secrete'),
            ('k_population', 'population_secrete'), ('verdict', 'population_secrete')]) }} as cellules_secretes
    from regles

)

select * from final
