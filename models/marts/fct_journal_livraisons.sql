with

journal as (

    select * from {{ ref('stg_livraisons__journal') }}

),

fichiers as (

    select
        evenement_id,
        {{ deplier('fichiers') }} as fichier_lu
    from journal

),

final as (

    select
        journal.evenement_id,
        journal.execution_id,
        journal.horodatage,
        journal.projet_id,
        journal.date_extraction,
        journal.dossier,
        journal.statut,
        fichiers.fichier_lu.fichier as fichier,
        fichiers.fichier_lu.sha256 as sha256,
        fichiers.fichier_lu.lignes as lignes_lues,
        {{ joindre_liste('journal.raisons', "' ; '") }} as raisons,
        cast({{ longueur_liste('journal.raisons') }} as integer) as nombre_raisons
    from journal
    left join fichiers
        on journal.evenement_id = fichiers.evenement_id

)

select * from final
