"""Reading a landlord's extract: CSV files of office tools and workbooks, as text tables in DuckDB.

The same detection as the reader of deliveries (`capitalisation.lecture`): UTF-8 with or
without BOM or Windows-1252, `;` or `,`; a workbook is read with python-calamine, its
cells written as the reader writes them (dates ISO, numbers without float noise). Every
cell stays text here: typing happens with the mapping, by the reader's own conversions.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from capitalisation import lecture
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.validation import donnees_personnelles as dp

COLONNE_LIGNE = "__ligne"  # the row number in the source (the header being row 1)


class SourceIllisible(ErreurUtilisateur):
    code_sortie = 3


@dataclass
class Source:
    """One file (or sheet) of the extract, loaded as a text table `table_sql`."""

    nom: str  # as cited in messages: `locataires.csv`, `suivi.xlsx:Rendez-vous`
    table_sql: str
    entetes: list[str]
    positions: dict[str, int] = field(default_factory=dict)  # normalised header → column
    doubles: set[str] = field(default_factory=set)
    lignes: int = 0

    def colonne_sql(self, nom: str) -> str | None:
        position = self.positions.get(lecture.normaliser_nom(nom))
        return None if position is None else f"c{position}"

    def entetes_cites(self) -> str:
        return ", ".join(f"« {nom_cite(e)} »" for e in self.entetes if e.strip())


def nom_cite(nom: str) -> str:
    """A column or file name as it may be printed (masked if it looks like personal data)."""
    return "«nom masqué»" if dp.contient_donnees_personnelles(nom) else nom


def _entetes(entetes: list[str]) -> tuple[dict[str, int], set[str]]:
    positions: dict[str, int] = {}
    doubles: set[str] = set()
    for position, entete in enumerate(entetes):
        nom = lecture.normaliser_nom(entete)
        if not nom:
            continue
        if nom in positions:
            doubles.add(nom)
        else:
            positions[nom] = position
    return positions, doubles


def _charger_csv(
    con: duckdb.DuckDBPyConnection, csv_utf8: Path, separateur: str, nom: str, table_sql: str
) -> list[str]:
    """Load a numbered UTF-8 CSV (its first column the source's row number) as text."""
    with open(csv_utf8, encoding="utf-8-sig", newline="") as flux:
        entetes = next(csv.reader(flux, delimiter=separateur), [])
    colonnes = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(entetes)))
    try:
        con.execute(
            f"""
            create temp table {table_sql} as
            select try_cast(c0 as bigint) as {COLONNE_LIGNE}, *
            from read_csv(?, delim = ?, header = true, auto_detect = false, quote = '"',
                          escape = '"', columns = {{{colonnes}}}, null_padding = false,
                          strict_mode = true)
            """,
            [str(csv_utf8), separateur],
        )
    except duckdb.Error as erreur:
        # DuckDB quotes the offending line: never repeat it (it holds names and addresses).
        trouve = re.search(r"Line:? (\d+)", str(erreur))
        ou = f" à la ligne {int(trouve.group(1))}" if trouve else ""
        raise SourceIllisible(
            f"{nom} : structure CSV illisible{ou} (nombre de champs variable, guillemet non fermé "
            "ou fichier tronqué)."
        ) from None
    return entetes


def _csv_numerote(chemin: Path, encodage: str, separateur: str, nom: str, cible: Path) -> None:
    """A UTF-8 copy of a CSV file whose first column is the line where each record starts.

    Blank lines are skipped but still counted, so that a row is cited by the line number an
    office tool shows; a record short of trailing fields is padded (office tools drop them).
    """
    with open(chemin, encoding=encodage, newline="") as source, open(
        cible, "w", encoding="utf-8", newline=""
    ) as sortie:
        lecteur = csv.reader(source, delimiter=separateur)
        ecrivain = csv.writer(sortie)
        largeur, ligne = None, 1
        try:
            for enregistrement in lecteur:
                debut, ligne = ligne, lecteur.line_num + 1
                if not any(cellule.strip() for cellule in enregistrement):
                    continue
                if largeur is None:
                    largeur = len(enregistrement)
                    ecrivain.writerow([COLONNE_LIGNE, *enregistrement])
                    continue
                if len(enregistrement) > largeur:
                    if any(c.strip() for c in enregistrement[largeur:]):
                        raise SourceIllisible(
                            f"{nom} : ligne {debut} : {len(enregistrement)} champs au lieu de "
                            f"{largeur} (séparateur « {separateur} » dans une valeur non protégée "
                            "par des guillemets ?)."
                        )
                    enregistrement = enregistrement[:largeur]
                enregistrement += [""] * (largeur - len(enregistrement))
                ecrivain.writerow([str(debut), *enregistrement])
        except csv.Error:
            raise SourceIllisible(
                f"{nom} : structure CSV illisible vers la ligne {lecteur.line_num} "
                "(guillemet non fermé ?)."
            ) from None


def _feuille_en_csv(chemin: Path, feuille: str, cible: Path) -> str:
    """One sheet as a UTF-8 CSV whose first column is the sheet's row number; its cited name."""
    from python_calamine import CalamineWorkbook

    try:
        classeur = CalamineWorkbook.from_path(str(chemin))
    except Exception as erreur:  # calamine raises its own error types
        raise SourceIllisible(f"{chemin.name} : classeur illisible ({type(erreur).__name__}).") from None
    noms = classeur.sheet_names
    if feuille:
        trouvees = [n for n in noms if lecture.normaliser_nom(n) == lecture.normaliser_nom(feuille)]
        if not trouvees:
            raise SourceIllisible(
                f"{chemin.name} : pas de feuille « {feuille} » (feuilles : " + ", ".join(noms) + ")."
            )
        nom = trouvees[0]
    else:
        if not noms:
            raise SourceIllisible(f"{chemin.name} : classeur sans feuille.")
        nom = noms[0]
    lignes = classeur.get_sheet_by_name(nom).to_python(skip_empty_area=False)
    entete_vue = False
    with open(cible, "w", encoding="utf-8", newline="") as flux:
        ecrivain = csv.writer(flux)
        for numero, ligne in enumerate(lignes, start=1):
            if not any(v not in (None, "") for v in ligne):
                continue
            cellules = [lecture._valeur_cellule(v) for v in ligne]
            ecrivain.writerow([COLONNE_LIGNE if not entete_vue else str(numero), *cellules])
            entete_vue = True
    return f"{chemin.name}:{nom}"


def charger_source(
    con: duckdb.DuckDBPyConnection, chemin: Path, feuille: str, table_sql: str, brouillon: Path
) -> Source:
    """Load one source file (a sheet of a workbook) into DuckDB as text."""
    chemin = Path(chemin)
    if chemin.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        cible = brouillon / f"{table_sql}.csv"
        nom = _feuille_en_csv(chemin, feuille, cible)
        entetes = _charger_csv(con, cible, ",", nom, table_sql)[1:]
    else:
        nom = chemin.name
        if chemin.stat().st_size == 0:
            raise SourceIllisible(f"{nom} : fichier vide (pas même une ligne d'en-tête).")
        encodage = lecture.detecter_encodage(chemin, nom)
        separateur = lecture.detecter_separateur(lecture._premiere_ligne(chemin, encodage), nom)
        cible = brouillon / f"{table_sql}.csv"
        _csv_numerote(chemin, encodage, separateur, nom, cible)
        entetes = _charger_csv(con, cible, ",", nom, table_sql)[1:]
    positions, doubles = _entetes(entetes)
    positions = {n: p + 1 for n, p in positions.items()}  # c0 holds the row number
    ((lignes,),) = con.execute(f"select count(*) from {table_sql}").fetchall()
    return Source(nom, table_sql, entetes, positions, doubles, int(lignes))
