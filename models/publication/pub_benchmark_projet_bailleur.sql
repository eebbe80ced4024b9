{{ publier_benchmark(ref('fct_benchmark_projet_bailleur'), ['projet_id', 'bailleur_id'], 'bailleur',
    'projet_id', 'bailleur_id') }}
