"""The landlords' side: turn an extract of their own system into a contract delivery.

    preparer(sources, correspondance, sortie) → Preparation   (pseudonymised, validated, written)
    ecrire_modele() → the commented mapping template, generated from the contract
    preparer_commande(args) → exit code of `capitalisation preparer`

See the README's guide « Préparer une livraison » and exemple/ for a made-up extract.
"""

from capitalisation.preparation.commande import (
    Preparation,
    PreparationRefusee,
    preparer,
    preparer_commande,
)
from capitalisation.preparation.correspondance import CorrespondanceInvalide, lire_correspondance
from capitalisation.preparation.modele import ecrire_modele

__all__ = [
    "CorrespondanceInvalide",
    "Preparation",
    "PreparationRefusee",
    "ecrire_modele",
    "lire_correspondance",
    "preparer",
    "preparer_commande",
]
