"""Statistical secrecy (indicators.md, « Disclosure »).

The rules are applied once, in the warehouse's publication layer (models/publication/,
macros/secret_statistique.sql), which every published output reads. A secret cell is
null there and named in `cellules_secretes`; outputs print it as « s ».
"""

SECRET = "s"
