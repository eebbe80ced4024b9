{{ publier_indicateurs(ref('fct_indicateurs_projet'), ['projet_id'], 'projet', 'projet_id') }}
