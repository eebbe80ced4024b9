"""Spreadsheet exports that French users open safely: CSV and XLSX.

CSV: UTF-8 with a byte-order mark (so that Excel reads the accents), `;` between cells,
decimal comma, no thousands separator (so that numbers stay numbers). XLSX: numbers as
numbers, text as text (xlsxwriter `write_string`, never a formula).

No exported cell can be read as a formula: in CSV, a text starting with = + - @ or a tab,
carriage return or line feed gets a leading apostrophe (the usual neutralisation: the
spreadsheet shows the text, it does not evaluate it); in XLSX, text is always written with
`write_string` in a workbook opened with `strings_to_formulas`, `strings_to_numbers` and
`strings_to_urls` off.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

# Characters that make a spreadsheet read a cell as a formula (or start one).
DEBUTS_DANGEREUX = ("=", "+", "-", "@", "\t", "\r", "\n")


@dataclass
class Tableau:
    """A table to export: a sheet name, column headers, rows of cells and per-column formats.

    Cells are numbers (int, float, Decimal), text or None (empty). `formats` maps a column
    header to an XLSX number format (for instance '0.0' or '#,##0'); `decimales` to the number
    of decimals written in CSV (default: as many as the value needs).
    """

    nom: str
    colonnes: list[str]
    lignes: list[list]
    formats: dict[str, str] = field(default_factory=dict)
    decimales: dict[str, int] = field(default_factory=dict)
    largeurs: dict[str, int] = field(default_factory=dict)


def neutraliser(texte: str) -> str:
    """A text cell that no spreadsheet will evaluate (leading apostrophe when needed)."""
    texte = str(texte)
    if texte.startswith(DEBUTS_DANGEREUX):
        return "'" + texte
    return texte


def _est_nombre(valeur) -> bool:
    return isinstance(valeur, (int, float, Decimal)) and not isinstance(valeur, bool)


def _vide(valeur) -> bool:
    if valeur is None:
        return True
    if isinstance(valeur, float) and math.isnan(valeur):
        return True
    try:
        import pandas as pd

        return bool(pd.isna(valeur)) if not isinstance(valeur, (str, bytes)) else False
    except (TypeError, ValueError):
        return False


def nombre_csv(valeur, decimales: int | None = None) -> str:
    """1705.5 → « 1705,5 »: decimal comma, no thousands separator, a plain minus sign."""
    if isinstance(valeur, bool):
        return "1" if valeur else "0"
    if decimales is not None:
        texte = f"{float(valeur):.{decimales}f}"
    elif isinstance(valeur, int):
        texte = str(valeur)
    elif isinstance(valeur, Decimal):
        texte = format(valeur, "f")
    else:
        texte = repr(float(valeur))
        if "e" in texte or "E" in texte:
            texte = format(Decimal(texte), "f")
        texte = texte.removesuffix(".0")
    if texte.startswith("-") and set(texte[1:]) <= {"0", "."}:
        texte = texte[1:]  # no negative zero
    return texte.replace(".", ",")


def cellule_csv(valeur, decimales: int | None = None) -> str:
    if _vide(valeur):
        return ""
    if _est_nombre(valeur):
        return nombre_csv(valeur, decimales)
    return neutraliser(valeur)


def _ecrire_atomique(chemin: Path, ecrire) -> None:
    """Write through a temporary file beside `chemin`, then rename it into place."""
    chemin = Path(chemin)
    chemin.parent.mkdir(parents=True, exist_ok=True)
    descripteur, provisoire = tempfile.mkstemp(prefix=f".{chemin.name}.", dir=chemin.parent)
    os.close(descripteur)
    try:
        ecrire(Path(provisoire))
        masque = os.umask(0)
        os.umask(masque)
        os.chmod(provisoire, 0o666 & ~masque)
        os.replace(provisoire, chemin)
    except BaseException:
        Path(provisoire).unlink(missing_ok=True)
        raise


def ecrire_csv(chemin: Path, tableau: Tableau) -> None:
    """The table as a CSV for French spreadsheets (UTF-8 with BOM, `;`, decimal comma)."""

    def ecrire(provisoire: Path) -> None:
        with open(provisoire, "w", encoding="utf-8-sig", newline="") as flux:
            ecrivain = csv.writer(flux, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
            ecrivain.writerow([neutraliser(c) for c in tableau.colonnes])
            for ligne in tableau.lignes:
                ecrivain.writerow([
                    cellule_csv(valeur, tableau.decimales.get(colonne))
                    for colonne, valeur in zip(tableau.colonnes, ligne, strict=True)
                ])

    _ecrire_atomique(chemin, ecrire)


def nom_feuille(nom: str, pris: set[str]) -> str:
    """A valid, unique worksheet name (31 characters, none of []:*?/\\)."""
    propre = "".join("_" if c in "[]:*?/\\" else c for c in nom).strip("'") or "Feuille"
    propre = propre[:31]
    candidat, numero = propre, 2
    while candidat.lower() in {p.lower() for p in pris}:
        suffixe = f" ({numero})"
        candidat = propre[:31 - len(suffixe)] + suffixe
        numero += 1
    pris.add(candidat)
    return candidat


def ecrire_xlsx(chemin: Path, tableaux: list[Tableau]) -> None:
    """The tables as the sheets of one workbook: text as text, numbers as numbers, no formula."""
    import xlsxwriter

    def ecrire(provisoire: Path) -> None:
        classeur = xlsxwriter.Workbook(
            str(provisoire),
            {
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "nan_inf_to_errors": True,
            },
        )
        try:
            entete = classeur.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
            formats_nombres: dict[str, object] = {}
            pris: set[str] = set()
            for tableau in tableaux:
                feuille = classeur.add_worksheet(nom_feuille(tableau.nom, pris))
                for j, colonne in enumerate(tableau.colonnes):
                    feuille.write_string(0, j, str(colonne), entete)
                    largeur = tableau.largeurs.get(colonne, max(10, min(40, len(str(colonne)) + 2)))
                    feuille.set_column(j, j, largeur)
                for i, ligne in enumerate(tableau.lignes, start=1):
                    for j, (colonne, valeur) in enumerate(zip(tableau.colonnes, ligne, strict=True)):
                        if _vide(valeur):
                            feuille.write_blank(i, j, None)
                        elif _est_nombre(valeur):
                            motif = tableau.formats.get(colonne)
                            if motif and motif not in formats_nombres:
                                formats_nombres[motif] = classeur.add_format({"num_format": motif})
                            feuille.write_number(i, j, float(valeur), formats_nombres.get(motif))
                        else:
                            feuille.write_string(i, j, str(valeur))
                feuille.freeze_panes(1, 0)
                if tableau.lignes:
                    feuille.autofilter(0, 0, len(tableau.lignes), len(tableau.colonnes) - 1)
        finally:
            classeur.close()

    _ecrire_atomique(chemin, ecrire)
