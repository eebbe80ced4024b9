{{ publier_indicateurs(ref('fct_indicateurs_volet'), ['projet_id', 'volet'], 'volet', 'projet_id', 'volet') }}
