"""Expected failures, reported to the user as one French message without a traceback."""


class ErreurUtilisateur(Exception):
    """A failure the user can act on: bad input, a locked warehouse, a missing file."""

    code_sortie = 1


class LivraisonIllisible(ErreurUtilisateur):
    """A delivery that cannot be read (encoding, separator, missing table...)."""

    code_sortie = 3
