"""Validation of deliveries: the rules of expectations/, the personal-data detectors, the reports.

    valider_livraison(livraison, dossier_travail, racine) → ResultatValidation
    valider_commande(dossiers, rapports) → exit code of `capitalisation valider`

See expectations/README.md for the rules, their severities and where each one runs.
"""

from capitalisation.validation.commande import decouvrir, valider_commande
from capitalisation.validation.controle import Echec, ResultatValidation, valider_livraison

__all__ = ["Echec", "ResultatValidation", "decouvrir", "valider_commande", "valider_livraison"]
