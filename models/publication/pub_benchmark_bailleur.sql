{{ publier_benchmark(ref('fct_benchmark_bailleur'), ['bailleur_id'], 'bailleur_programme', 'null', 'bailleur_id') }}
