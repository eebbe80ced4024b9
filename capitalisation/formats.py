"""French typography for figures: « 93 % », « 1 705 € », « juin 2020 »."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

ESPACE_INSECABLE = "\u00a0"
ESPACE_FINE = "\u202f"  # thousands separator

MOIS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)


def manquant(valeur) -> bool:
    """True for None, NaN and pandas' NA (a value that cannot be printed)."""
    if valeur is None:
        return True
    if isinstance(valeur, float):  # numpy's floats included
        return math.isnan(valeur)
    return type(valeur).__name__ in ("NAType", "NaTType")


def nombre(valeur, decimales: int = 0) -> str:
    """1705.5 → « 1 705,5 » (narrow no-break space between thousands, decimal comma)."""
    if manquant(valeur):
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
    if manquant(proportion):
        return "–"
    return nombre(Decimal(str(proportion)) * 100, decimales) + ESPACE_INSECABLE + "%"


def euros(montant, decimales: int = 0) -> str:
    """1705 → « 1 705 € »."""
    if manquant(montant):
        return "–"
    return nombre(montant, decimales) + ESPACE_INSECABLE + "€"


def intervalle(bas, haut, en_pourcentage: bool = True) -> str:
    """« [88 % ; 96 %] », or for amounts « [7,95 € ; 9,40 €] »."""
    if manquant(bas) or manquant(haut):
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


def mois_annee_titre(date: dt.date) -> str:
    """2020-06-30 → « Juin 2020 » (the date line of a fiche)."""
    texte = mois_annee(date)
    return texte[0].upper() + texte[1:]


def etendue(bas, haut, en_pourcentage: bool = True, decimales: int = 0) -> str:
    """A confidence interval as a range: « 88 % – 97 % » (or « 7,63 € – 9,71 € »)."""
    if manquant(bas) or manquant(haut):
        return "–"
    if en_pourcentage:
        # A Wilson bound of 0 can come out as −1e-18: never print « −0 % ».
        bas, haut = max(float(bas), 0.0), min(float(haut), 1.0)
        return f"{pourcentage(bas, decimales)} – {pourcentage(haut, decimales)}"
    return f"{euros(bas, decimales)} – {euros(haut, decimales)}"


def proportion_detaillee(k, n, valeur, bas, haut) -> str:
    """« 93 % (114 sur 122 ; IC 95 % : 88 % – 97 %) »."""
    return (
        f"{pourcentage(valeur)} ({nombre(k)} sur {nombre(n)}{ESPACE_INSECABLE}; "
        f"IC{ESPACE_INSECABLE}95{ESPACE_INSECABLE}%{ESPACE_INSECABLE}: {etendue(bas, haut)})"
    )


def points(difference, decimales: int = 0) -> str:
    """A difference of proportions in percentage points: 0.2947 → « 29 points »."""
    if manquant(difference):
        return "–"
    valeur = Decimal(str(difference)) * 100
    unite = "point" if abs(valeur) < 2 else "points"
    return nombre(valeur, decimales) + ESPACE_INSECABLE + unite


def mois_entre(debut: dt.date, fin: dt.date) -> int:
    """Calendar months covered from debut's month to fin's month, both included."""
    return (fin.year - debut.year) * 12 + fin.month - debut.month + 1


def duree(mois: int) -> str:
    """37 → « 3 ans et 1 mois », 24 → « 2 ans », 6 → « 6 mois »."""
    ans, reste = divmod(int(mois), 12)
    morceaux = []
    if ans:
        morceaux.append(f"{ans}{ESPACE_INSECABLE}{'an' if ans == 1 else 'ans'}")
    if reste or not ans:
        morceaux.append(f"{reste}{ESPACE_INSECABLE}mois")
    return " et ".join(morceaux)


def de(texte: str) -> str:
    """The preposition « de » before a word, elided before a vowel: « d'août 2014 »."""
    return ("d'" if texte[:1].lower() in "aâeéèêiîoôuûh" else "de ") + texte


def periode(debut: dt.date, fin: dt.date) -> str:
    """« De janvier 2017 à décembre 2019 (3 ans) », « D'août 2014 à juillet 2016 (2 ans) »."""
    texte = de(mois_annee(debut))
    return f"{texte[0].upper()}{texte[1:]} à {mois_annee(fin)} ({duree(mois_entre(debut, fin))})"
