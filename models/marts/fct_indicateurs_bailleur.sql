{{ agreger_indicateurs(['projet_id', 'bailleur_id']) }}
