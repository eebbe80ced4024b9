{{ agreger_indicateurs(['projet_id', 'volet']) }}
