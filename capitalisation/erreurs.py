"""Expected failures, reported to the user as one French message without a traceback."""


class ErreurUtilisateur(Exception):
    """A failure the user can act on: bad input, a locked warehouse, a missing file."""

    code_sortie = 1


class LivraisonIllisible(ErreurUtilisateur):
    """A delivery that cannot be read (encoding, separator, missing table...)."""

    code_sortie = 3



# What this process has changed for good (a warehouse swapped in, a site published), in
# French, so that an interrupted command says truthfully what it left behind.
_CHANGEMENTS: dict[str, str] = {}


def noter_changement(cle: str, texte: str) -> None:
    """Record a lasting change (`cle`: "entrepot", "site"...); the last text of a key wins."""
    _CHANGEMENTS[cle] = texte


def changements() -> dict[str, str]:
    return dict(_CHANGEMENTS)
