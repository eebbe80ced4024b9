"""Table-by-table comparison of two warehouses built from the same landing files.

A table is a list of column names and a list of rows (Python values as the engines'
clients return them: Decimal, float, int, bool, str, date, datetime, lists, records).
Two tables are equal when they have the same columns and, once both are sorted, the same
rows: counts exactly, every non-float value exactly (a DECIMAL to the cent, with the same
kind of value on both sides: a decimal on one engine and a float on the other is a
difference), floats within TOLERANCE (relative, or absolute near zero).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

TOLERANCE = 1e-9
# Differences named per table, at most.
DIFFERENCES_CITEES = 5


@dataclass(frozen=True)
class Table:
    colonnes: tuple[str, ...]
    lignes: list[tuple]

    @classmethod
    def de(cls, colonnes: Iterable[str], lignes: Iterable[Sequence]) -> Table:
        colonnes = tuple(c.lower() for c in colonnes)
        return cls(colonnes, [tuple(normaliser(v) for v in ligne) for ligne in lignes])


def normaliser(valeur):
    """One Python form per kind of value, whatever the client (a Spark Row is a record)."""
    if valeur is None:
        return None
    if hasattr(valeur, "asDict"):
        return tuple(sorted((k, normaliser(v)) for k, v in valeur.asDict().items()))
    if isinstance(valeur, dict):
        return tuple(sorted((k, normaliser(v)) for k, v in valeur.items()))
    if isinstance(valeur, list | tuple):
        return tuple(normaliser(v) for v in valeur)
    if hasattr(valeur, "item") and not isinstance(valeur, Decimal):  # numpy scalars
        return valeur.item()
    return valeur


def nature(valeur) -> str:
    """The kind of a value, compared between engines (bool before int: bool is an int)."""
    for type_, nom in ((bool, "booleen"), (int, "entier"), (Decimal, "decimal"), (float, "flottant"),
                       (str, "texte"), (dt.datetime, "horodatage"), (dt.date, "date"),
                       (tuple, "liste")):
        if isinstance(valeur, type_):
            return nom
    return type(valeur).__name__


def _cle_tri(valeur):
    """An order on any value, nulls first; floats rounded so that near-equal rows sort alike."""
    if valeur is None:
        return (0, "")
    if isinstance(valeur, float):
        if math.isnan(valeur):
            return (1, "nan")
        return (2, round(valeur, 6))
    if isinstance(valeur, bool):
        return (3, int(valeur))
    if isinstance(valeur, int | Decimal):
        return (2, valeur)
    if isinstance(valeur, tuple):
        return (4, tuple(_cle_tri(v) for v in valeur))
    return (5, nature(valeur), str(valeur))


def valeurs_egales(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if nature(a) != nature(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(valeurs_egales(x, y) for x, y in zip(a, b))
    return a == b


def comparer_tables(nom: str, reference: Table, autre: Table,
                    moteurs: tuple[str, str] = ("DuckDB", "Spark")) -> list[str]:
    """The differences between two versions of table `nom`, in French; empty when equal."""
    gauche, droite = moteurs
    if set(reference.colonnes) != set(autre.colonnes):
        seules_g = sorted(set(reference.colonnes) - set(autre.colonnes))
        seules_d = sorted(set(autre.colonnes) - set(reference.colonnes))
        return [f"{nom} : colonnes différentes (seulement {gauche} : {', '.join(seules_g) or '—'} ; "
                f"seulement {droite} : {', '.join(seules_d) or '—'})"]
    if len(reference.lignes) != len(autre.lignes):
        return [f"{nom} : {len(reference.lignes)} ligne(s) sur {gauche}, "
                f"{len(autre.lignes)} sur {droite}"]
    ordre = [autre.colonnes.index(c) for c in reference.colonnes]
    lignes_autre = [tuple(ligne[i] for i in ordre) for ligne in autre.lignes]
    tri = lambda ligne: tuple(_cle_tri(v) for v in ligne)
    differences = []
    for numero, (a, b) in enumerate(zip(sorted(reference.lignes, key=tri), sorted(lignes_autre, key=tri)),
                                    start=1):
        colonnes = [c for c, x, y in zip(reference.colonnes, a, b) if not valeurs_egales(x, y)]
        if colonnes:
            differences.append(f"{nom} : ligne {numero} (après tri) diffère sur {', '.join(colonnes)}")
            if len(differences) == DIFFERENCES_CITEES:
                differences.append(f"{nom} : (différences suivantes non citées)")
                break
    return differences


def comparer_entrepots(tables_reference: dict[str, Table], tables_autre: dict[str, Table],
                       moteurs: tuple[str, str] = ("DuckDB", "Spark")) -> list[str]:
    """Every table of either warehouse must be in the other, and equal."""
    gauche, droite = moteurs
    differences = [f"{nom} : absente de {droite}" for nom in sorted(set(tables_reference) - set(tables_autre))]
    differences += [f"{nom} : absente de {gauche}" for nom in sorted(set(tables_autre) - set(tables_reference))]
    for nom in sorted(set(tables_reference) & set(tables_autre)):
        differences += comparer_tables(nom, tables_reference[nom], tables_autre[nom], moteurs)
    return differences
