"""Évaluation et capitalisation du programme « 10 000 logements HLM accompagnés »."""
__version__ = "0.1.0"
