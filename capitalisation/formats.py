"""French typography for figures: « 93 % », « 1 705 € », « juin 2020 »."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

ESPACE_INSECABLE = "\u00a0"
ESPACE_FINE = "\u202f"  # thousands separator

MOIS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)


def nombre(valeur, decimales: int = 0) -> str:
    """1705.5 → « 1 705,5 » (narrow no-break space between thousands, decimal comma)."""
    if valeur is None:
        return "–"
    quantum = Decimal(1).scaleb(-decimales)
    arrondi = Decimal(str(valeur)).quantize(quantum, rounding=ROUND_HALF_UP)
    signe = "−" if arrondi < 0 else ""
    entier, _, fraction = f"{abs(arrondi):f}".partition(".")
    groupes = []
    while len(entier) > 3:
        groupes.insert(0, entier[-3:])
        entier = entier[:-3]
    groupes.insert(0, entier)
    texte = ESPACE_FINE.join(groupes)
    return signe + texte + ("," + fraction if fraction else "")


def pourcentage(proportion, decimales: int = 0) -> str:
    """0.93 → « 93 % »."""
    if proportion is None:
        return "–"
    return nombre(Decimal(str(proportion)) * 100, decimales) + ESPACE_INSECABLE + "%"


def euros(montant, decimales: int = 0) -> str:
    """1705 → « 1 705 € »."""
    if montant is None:
        return "–"
    return nombre(montant, decimales) + ESPACE_INSECABLE + "€"


def intervalle(bas, haut, en_pourcentage: bool = True) -> str:
    """« [88 % ; 96 %] », or for amounts « [7,95 € ; 9,40 €] »."""
    if bas is None or haut is None or bas != bas or haut != haut:
        return "–"
    if en_pourcentage:
        return f"[{pourcentage(bas)} ; {pourcentage(haut)}]"
    return f"[{euros(bas, 2)} ; {euros(haut, 2)}]"


def mois_annee(date: dt.date) -> str:
    """2020-06-30 → « juin 2020 »."""
    return f"{MOIS[date.month - 1]} {date.year}"


def date_longue(date: dt.date) -> str:
    """2020-06-30 → « 30 juin 2020 » (1er for the first day)."""
    jour = "1er" if date.day == 1 else str(date.day)
    return f"{jour} {mois_annee(date)}"
