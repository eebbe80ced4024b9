{{ agreger_indicateurs([]) }}
