{{ publier_indicateurs(ref('fct_indicateurs_programme'), [], 'programme') }}
