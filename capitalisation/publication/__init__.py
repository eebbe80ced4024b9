"""Publication: statistical secrecy, benchmark, fiches. Every published figure passes through here."""
