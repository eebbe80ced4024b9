{{ publier_indicateurs(ref('fct_indicateurs_departement'), ['projet_id', 'departement'], 'departement',
    'projet_id', 'departement') }}
