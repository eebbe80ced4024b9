{#-
    The published figure is public already; the recomputed one is made of cells of the
    secrecy layer: a proportion's n and k, or a count (int_secret_occurrences). A secret
    recomputed figure hides its value, interval, gap and status (« confirmé » beside a
    published count would give it back). A count the project published itself and that the
    data confirm is known to all: it is never chosen to protect another cell (int_secret_cellules),
    so it shows with « confirmé » unless it is itself a count of 1 to `seuil_effectif`.
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
        case when type_valeur = 'effectif' then k_secret else n_secret or k_secret end as recalcul_secret,
        -- the figure on the published claim's own population: secret with the default one, or by
        -- its own primary rules (fct_reconciliation.secret_population)
        n_secret or k_secret or (not population_defaut and secret_population) as population_secrete
    from drapeaux

),

final as (

    select
        {{- colonnes_publiees(['projet_id', 'indicateur', 'type_valeur', 'comparaison', 'periode', 'source', 'libelle',
            'valeur_publiee', ('valeur_recalculee', 'recalcul_secret'), ('ic_bas', 'recalcul_secret'),
            ('ic_haut', 'recalcul_secret'), ('n', 'n_secret'), ('k', 'k_secret'), ('ecart', 'recalcul_secret'),
            ('statut', 'recalcul_secret'), 'population', 'borne_basse', 'borne_haute', 'raison', 'population_defaut',
            ('valeur_population', 'population_secrete'), ('ic_bas_population', 'population_secrete'),
            ('ic_haut_population', 'population_secrete'), ('n_population', 'population_secrete'),
            ('k_population', 'population_secrete'), ('verdict', 'population_secrete')]) }}
    from regles

)

select * from final
