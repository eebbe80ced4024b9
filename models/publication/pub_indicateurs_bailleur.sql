{{ publier_indicateurs(ref('fct_indicateurs_bailleur'), ['projet_id', 'bailleur_id'], 'bailleur',
    'projet_id', 'bailleur_id') }}
