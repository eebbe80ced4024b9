"""Personal-data detectors: what must never enter the warehouse (data contract, "What never enters").

Every text and code cell of a delivery is searched for e-mail addresses, French telephone
numbers, NIR (with their key checked, Corsica included), IBAN (mod-97 checked), street
addresses, dates written in a text column, spreadsheet formulas and over-long fields.

What a detector reports is a kind, a column and row numbers: never the value. The
patterns are written in the syntax shared by Python's `re` and RE2 (DuckDB), so that the
same pattern pre-filters millions of rows inside DuckDB and classifies the few candidate
cells in Python (where the NIR key and the IBAN checksum are verified).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from capitalisation import contrat

LONGUEUR_MAXIMALE = 1000
LIGNES_CITEES = 10
TAILLE_LOT = 10_000

# Neither a letter nor a digit before / after: a pseudonym such as `a_5a8f401d0612345678` or a
# 64-character HMAC holds runs of digits that must not read as a telephone number.
_AVANT = r"(?:^|[^0-9A-Za-z])"
_APRES = r"(?:$|[^0-9A-Za-z])"

# kind → pattern. The order is the order of the report.
MOTIFS: dict[str, str] = {
    "courriel": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "telephone": (
        _AVANT
        + r"(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?[1-9]|0[1-9])(?:[\s.-]?[0-9]{2}){4}"
        + _APRES
    ),
    "nir": (
        _AVANT
        + r"[12378]\s?[0-9]{2}\s?[0-9]{2}\s?(?:[0-9]{2}|2[AaBb])\s?[0-9]{3}\s?[0-9]{3}\s?[0-9]{2}"
        + _APRES
    ),
    "iban": _AVANT + r"[A-Za-z]{2}[0-9]{2}(?:\s?[A-Za-z0-9]{4}){2,7}(?:\s?[A-Za-z0-9]{1,4})?" + _APRES,
    "adresse": (
        r"(?i)" + _AVANT
        + r"[0-9]{1,4}\s*(?:bis|ter)?\s*,?\s*(?:rue|avenue|av\.?|bd|boulevard|all[ée]e|chemin|impasse"
        r"|place|quai|route|cours|square|r[ée]sidence|lotissement|voie|passage|cit[ée]|faubourg"
        r"|chauss[ée]e|sentier|hameau|villa|esplanade|promenade|parvis|rond-point)"
        + _APRES
    ),
    "date": (
        _AVANT
        + r"(?:[0-9]{1,2}[/.-][0-9]{1,2}[/.-](?:19|20)?[0-9]{2}|(?:19|20)[0-9]{2}[/.-][0-9]{1,2}[/.-][0-9]{1,2})"
        + _APRES
    ),
    "formule": r"^\s*(?:=|[+-]\s*[A-Za-z]|@)",
}

# kind → (rule code, French label)
NATURES: dict[str, tuple[str, str]] = {
    "courriel": ("dp_courriel", "adresse électronique"),
    "telephone": ("dp_telephone", "numéro de téléphone"),
    "nir": ("dp_nir", "numéro de sécurité sociale (NIR)"),
    "iban": ("dp_iban", "coordonnées bancaires (IBAN)"),
    "adresse": ("dp_adresse", "adresse postale"),
    "date": ("dp_date_texte", "date dans une colonne de texte (date de naissance ?)"),
    "formule": ("formule", "formule ou injection de formule dans une cellule"),
    "long": ("champ_trop_long", "champ de plus de 1 000 caractères"),
}

_COMPILES = {nature: re.compile(motif) for nature, motif in MOTIFS.items()}
# One pattern to pre-filter whole cells or lines (the order does not matter here).
MOTIF_GLOBAL = "|".join(f"(?:{motif.removeprefix('(?i)')})" for motif in MOTIFS.values())
MOTIF_GLOBAL_SQL = "(?i)" + MOTIF_GLOBAL
_GLOBAL = re.compile(MOTIF_GLOBAL, re.IGNORECASE)
_GLOBAL_LIGNE = re.compile(MOTIF_GLOBAL, re.IGNORECASE | re.MULTILINE)  # cells joined by newlines

# Python's `\s` (every character `str.isspace()` holds) spelt out for RE2, whose `\s` is ASCII.
_ESPACES_PYTHON = (r"\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}"
                   r"\x{2029}\x{202f}\x{205f}\x{3000}")
# Under IGNORECASE, Python's [A-Za-z] also holds these two, RE2's does not: they are read as `i`.
_I_TURCS = ("\u0130\u0131", "ii")


def pour_re2(motif: str) -> str:
    r"""`motif` for RE2 (DuckDB), matching at least what Python's `re` matches: `\s` spelt out
    as Python reads it, in a character class or alone."""
    sortie, dans_classe, i = [], False, 0
    while i < len(motif):
        if motif[i] == "\\" and i + 1 < len(motif):
            paire = motif[i:i + 2]
            if paire == r"\s":
                paire = _ESPACES_PYTHON if dans_classe else f"[{_ESPACES_PYTHON}]"
            sortie.append(paire)
            i += 2
            continue
        if motif[i] == "[" and not dans_classe:
            dans_classe = True
        elif motif[i] == "]" and dans_classe:
            dans_classe = False
        sortie.append(motif[i])
        i += 1
    return "".join(sortie)


MOTIF_LIGNE_RE2 = "(?im)" + pour_re2(MOTIF_GLOBAL)
TAILLE_LOT_BRUT = 50_000  # raw rows searched by RE2 at once


def lignes_suspectes(textes: list[str]) -> set[int] | None:
    """The positions of the texts RE2 (DuckDB) finds the pattern in: at least every text
    Python's `_GLOBAL_LIGNE` finds it in, in one linear pass (Python's engine backtracks on
    every run of digits). None when DuckDB cannot take them: then every text is a suspect."""
    import pyarrow as pa

    con = duckdb.connect()
    try:
        con.register("lot", pa.table({"i": pa.array(range(len(textes)), pa.int64()),
                                      "t": pa.array(textes, pa.large_string())}))
        return {i for (i,) in con.execute(
            f"select i from lot where regexp_matches(translate(t, '{_I_TURCS[0]}', '{_I_TURCS[1]}'), ?)",
            [MOTIF_LIGNE_RE2],
        ).fetchall()}
    except (duckdb.Error, pa.ArrowException, UnicodeError):
        return None
    finally:
        con.close()


# --------------------------------------------------------------------------- checks


def cle_nir_valide(texte: str) -> bool:
    """A 15-character NIR whose key is 97 − (number mod 97); 2A/2B read as 19/18."""
    nir = re.sub(r"\s", "", texte).upper()
    if len(nir) != 15:
        return False
    corps, cle = nir[:13], nir[13:]
    corps = corps[:5] + corps[5:7].replace("2A", "19").replace("2B", "18") + corps[7:]
    if not corps.isdigit() or not cle.isdigit():
        return False
    return 97 - int(corps) % 97 == int(cle)


def iban_valide(texte: str) -> bool:
    """ISO 13616: the first four characters moved to the end, letters as 10..35, mod 97 == 1."""
    iban = re.sub(r"\s", "", texte).upper()
    if not 15 <= len(iban) <= 34 or not iban.isalnum() or not iban.isascii():
        return False
    tourne = iban[4:] + iban[:4]
    chiffres = "".join(str(int(c, 36)) for c in tourne)
    return int(chiffres) % 97 == 1


def _coeur(correspondance: str) -> str:
    """A match without the boundary characters around it."""
    return re.sub(r"^[^0-9A-Za-z]+|[^0-9A-Za-z]+$", "", correspondance)


_ESPACES = re.compile(r"\s+")
_PORTEE_COURRIEL = 256  # characters searched on each side of an `@` in a long cell
_AROBASES_CHERCHEES = 1000


def _courriels_autour_des_arobases(valeur: str) -> list[str]:
    trouves: list[str] = []
    position = valeur.find("@")
    for _ in range(_AROBASES_CHERCHEES):
        if position < 0 or trouves:
            break
        fenetre = valeur[max(0, position - _PORTEE_COURRIEL): position + _PORTEE_COURRIEL]
        trouves = [m.group(0) for m in _COMPILES["courriel"].finditer(fenetre)]
        position = valeur.find("@", position + 1)
    return trouves


def natures_cellule(valeur: str, texte_libre: bool = True) -> list[str]:
    """The kinds of personal data (or formula, over-long field) a cell holds.

    `texte_libre` is false for a column of dates or numbers read raw: a date there is
    what the column holds, not a leak.
    """
    if valeur is None:
        return []
    trouvees = []
    long = len(valeur) > LONGUEUR_MAXIMALE
    if long:
        # Python's backtracking engine is quadratic on some long inputs (a million letters
        # and no `@` for the e-mail pattern, runs of spaces for the address one): a long
        # cell is refused anyway, and searched with whitespace runs folded and the e-mail
        # pattern around each `@` only, which keeps the search linear.
        trouvees.append("long")
        valeur = _ESPACES.sub(" ", valeur)
    elif not _GLOBAL.search(valeur):
        return trouvees
    for nature, motif in _COMPILES.items():
        if nature == "date" and not texte_libre:
            continue
        if long and nature == "courriel":
            correspondances = _courriels_autour_des_arobases(valeur)
        else:
            correspondances = [m.group(0) for m in motif.finditer(valeur)]
        if not correspondances:
            continue
        if nature == "nir" and not any(cle_nir_valide(_coeur(m)) for m in correspondances):
            continue
        if nature == "iban" and not any(iban_valide(_coeur(m)) for m in correspondances):
            continue
        trouvees.append(nature)
    return trouvees


_NATURES_MASQUEES = {"courriel", "telephone", "nir", "iban", "adresse"}


def masquer(texte: str) -> str:
    """A message with anything that looks like personal data replaced (a safety net).

    Dates are left alone: messages cite delivery folders named by their extraction date.
    """

    def remplacer(correspondance: re.Match) -> str:
        natures = set(natures_cellule(correspondance.group(0)))
        return "«valeur masquée»" if natures & _NATURES_MASQUEES else correspondance.group(0)

    return _GLOBAL.sub(remplacer, texte)


_CHIFFRES_ENTETE = re.compile(r"[0-9]{2}\D{0,3}[0-9]{2}\D{0,3}[0-9]{2}")


def en_tete_suspect(entete: str) -> bool:
    """Whether a column header may be personal data: any detector (a date included), an
    `@`, a run of digit pairs (a telephone number however written), or a long header."""
    return (
        bool(natures_cellule(entete))
        or "@" in entete
        or bool(_CHIFFRES_ENTETE.search(entete))
        or len(entete) > 64
    )


def contient_donnees_personnelles(texte: str) -> bool:
    """Whether a name (of a file, a folder, a column) looks like personal data (dates aside)."""
    return bool(set(natures_cellule(texte)) & _NATURES_MASQUEES)


# --------------------------------------------------------------------------- findings


@dataclass
class Constat:
    """Rows of one column holding one kind of finding."""

    nature: str
    colonne: str
    lignes: int = 0
    premieres: list[int] = field(default_factory=list)

    def ajouter(self, ligne: int) -> None:
        self.lignes += 1
        if len(self.premieres) < LIGNES_CITEES:
            self.premieres.append(ligne)


class Constats:
    def __init__(self) -> None:
        self._par_cle: dict[tuple[str, str], Constat] = {}

    def ajouter(self, nature: str, colonne: str, ligne: int) -> None:
        cle = (colonne, nature)
        if cle not in self._par_cle:
            self._par_cle[cle] = Constat(nature, colonne)
        self._par_cle[cle].ajouter(ligne)

    def __iter__(self) -> Iterator[Constat]:
        ordre = list(NATURES)
        return iter(sorted(self._par_cle.values(), key=lambda c: (ordre.index(c.nature), c.colonne)))

    def __bool__(self) -> bool:
        return bool(self._par_cle)


# --------------------------------------------------------------------------- typed tables


def colonnes_textuelles(table: contrat.Table) -> list[str]:
    return [c.nom for c in table.colonnes if c.type in (contrat.TEXTE, contrat.CODE)]


def _litteral(texte: str) -> str:
    return "'" + texte.replace("'", "''") + "'"


def colonnes_suspectes(con: duckdb.DuckDBPyConnection, fichiers: dict[str, Path]) -> dict[str, list[str]]:
    """For each table (name → landing Parquet file), its text and code columns holding a
    value the pre-filter flags (the pattern, RE2, or the length test).

    One statement for all the tables of a delivery, and the pattern applied once: to the
    distinct values of every column of every file, tagged with their table and column (a
    list: a filter on `select distinct` would be pushed below it, onto every row). The
    pattern is compiled once per statement, which is most of the cost on small files.
    """
    colonnes = {nom: colonnes_textuelles(contrat.TABLES[nom]) for nom in fichiers}
    parties = []
    for t, (nom, parquet) in enumerate(fichiers.items()):
        if not colonnes[nom]:
            continue
        listes = ", ".join(
            f"list_transform(list(distinct {c}) filter (where {c} is not null), lambda v: {{'t': {t}, 'c': {i}, 'v': v}})"
            for i, c in enumerate(colonnes[nom])
        )
        parties.append(f"select list_concat({listes}, []) as valeurs from read_parquet({_litteral(str(parquet))})")
    if not parties:
        return {}
    (trouvees,) = con.execute(
        "select list_distinct(flatten(list(list_transform(list_filter(valeurs, lambda x: "
        f"regexp_matches(x.v, {_litteral(MOTIF_GLOBAL_SQL)}) or length(x.v) > {LONGUEUR_MAXIMALE}), "
        "lambda x: [x.t, x.c])))) from (" + " union all ".join(parties) + ")"
    ).fetchone()
    noms = list(fichiers)
    suspectes: dict[str, list[str]] = {}
    for t, i in sorted(trouvees or []):
        suspectes.setdefault(noms[t], []).append(colonnes[noms[t]][i])
    return suspectes


def scanner_parquets(con: duckdb.DuckDBPyConnection, fichiers: dict[str, Path]) -> dict[str, Constats]:
    """Search every text and code column of a delivery's landing Parquet files (table name →
    file): one pre-filtering statement for all (`colonnes_suspectes`), then only the files
    with a candidate value are read row by row, and only their candidate rows come to
    Python, in batches, to be classified."""
    constats = {nom: Constats() for nom in fichiers}
    for nom, suspectes in colonnes_suspectes(con, fichiers).items():
        _classer_lignes(con, contrat.TABLES[nom], fichiers[nom], suspectes, constats[nom])
    return constats


def _classer_lignes(con, table: contrat.Table, parquet: Path, suspectes: list[str], constats: Constats) -> None:
    motif = _litteral(MOTIF_GLOBAL_SQL)
    colonnes = colonnes_textuelles(table)
    condition = " or ".join(
        f"(regexp_matches({c}, {motif}) or length({c}) > {LONGUEUR_MAXIMALE})" for c in suspectes
    )
    selection = ", ".join(colonnes)
    curseur = con.execute(
        f"select ligne_source, {selection} from read_parquet({_litteral(str(parquet))}) "
        f"where {condition} order by ligne_source"
    )
    # the length of a text column is a rule of its suite: not reported twice
    textes = {c.nom for c in table.colonnes if c.type == contrat.TEXTE}
    while lot := curseur.fetchmany(TAILLE_LOT):
        for ligne, *valeurs in lot:
            for colonne, valeur in zip(colonnes, valeurs):
                for nature in natures_cellule(valeur):
                    if not (nature == "long" and colonne in textes):
                        constats.ajouter(nature, colonne, int(ligne))


# --------------------------------------------------------------------------- raw files


def _encodage_lisible(chemin: Path) -> str:
    with open(chemin, "rb") as flux:
        debut = flux.read(4)
    if debut.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        with open(chemin, encoding="utf-8") as flux:
            while flux.read(1 << 20):
                pass
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def _colonne_brute(table: contrat.Table | None, entetes: list[str], position: int) -> tuple[str, bool]:
    """(name to cite, whether the column is free text) for a raw cell."""
    from capitalisation.lecture import nom_citable

    nom = nom_citable(entetes[position] if position < len(entetes) else "", position + 1)
    texte_libre = True
    if table is not None and nom in table.noms_colonnes:
        texte_libre = table.colonne(nom).type in (contrat.TEXTE, contrat.CODE)
    return nom, texte_libre


def scanner_lignes(lignes: Iterable[list[str]], table: contrat.Table | None) -> Constats:
    """Search raw rows (the header first); row numbers count records, the header being 1."""
    constats = Constats()
    iterateur = iter(lignes)
    try:
        entetes = next(iterateur)
    except StopIteration:
        return constats
    for position, cellule in enumerate(entetes):
        for nature in natures_cellule(cellule):
            constats.ajouter(nature, f"en-tête, colonne n° {position + 1}", 1)
    lot: list[tuple[int, list[str]]] = []
    for numero, ligne in enumerate(iterateur, start=2):
        lot.append((numero, ligne))
        if len(lot) >= TAILLE_LOT_BRUT:
            _scanner_lot(lot, table, entetes, constats)
            lot = []
    _scanner_lot(lot, table, entetes, constats)
    return constats


def _scanner_lot(lot: list[tuple[int, list[str]]], table, entetes: list[str], constats: Constats) -> None:
    # One search per row (cells joined by newlines: every match inside a cell is still one),
    # by RE2 over the whole batch first, then by Python's pattern on the rows RE2 kept,
    # before the search per cell; a row with a long cell goes straight to the cells.
    courtes = {i: "\n".join(ligne) for i, (_, ligne) in enumerate(lot)
               if ligne and max(map(len, ligne)) <= LONGUEUR_MAXIMALE}
    positions = list(courtes)
    trouvees = lignes_suspectes([courtes[i] for i in positions]) if courtes else set()
    suspectes = set(courtes) if trouvees is None else {positions[k] for k in trouvees}
    for i, (numero, ligne) in enumerate(lot):
        if i in courtes and (i not in suspectes or not _GLOBAL_LIGNE.search(courtes[i])):
            continue
        for position, cellule in enumerate(ligne):
            if not cellule or (len(cellule) <= LONGUEUR_MAXIMALE and not _GLOBAL.search(cellule)):
                continue
            nom, texte_libre = _colonne_brute(table, entetes, position)
            for nature in natures_cellule(cellule, texte_libre):
                constats.ajouter(nature, nom, numero)


def scanner_csv_brut(chemin: Path, table: contrat.Table | None) -> Constats:
    """Search a delivered CSV file as text, when the reader could not type it."""
    try:
        with open(chemin, "rb") as flux:
            if b"\x00" in flux.read(1 << 16):
                return Constats()  # binary or UTF-16: nothing readable to search
        encodage = _encodage_lisible(chemin)
        with open(chemin, encoding=encodage, errors="replace", newline="") as flux:
            entete = flux.readline()
            separateur = ";" if entete.count(";") >= entete.count(",") else ","
            flux.seek(0)
            lecteur = csv.reader(flux, delimiter=separateur)
            csv.field_size_limit(1 << 30)
            return scanner_lignes(lecteur, table)
    except (OSError, csv.Error):
        return Constats()


def scanner_classeur_brut(classeur: Path) -> dict[str, Constats]:
    """Search every sheet of a workbook as text: sheet name → findings."""
    from python_calamine import CalamineWorkbook

    from capitalisation.lecture import _valeur_cellule, normaliser_nom

    resultats: dict[str, Constats] = {}
    try:
        wb = CalamineWorkbook.from_path(str(classeur))
    except Exception:  # an unreadable workbook is reported by the reader
        return resultats
    for nom in wb.sheet_names:
        table = contrat.TABLES.get(normaliser_nom(nom))
        lignes = wb.get_sheet_by_name(nom).to_python(skip_empty_area=False)
        cellules = ([_valeur_cellule(v) for v in ligne] for ligne in lignes)
        constats = scanner_lignes(cellules, table)
        if constats:
            resultats[table.nom if table else nom] = constats
    return resultats


def formules_classeur(classeur: Path) -> dict[str, Constats]:
    """Cells holding a formula (`=HYPERLINK(...)`, `=A1`…), sheet name → findings by column.

    A workbook stores a formula and its last computed value: the reader sees the value,
    so formulas are looked for with openpyxl, reading the file as a stream.
    """
    import openpyxl

    from capitalisation.lecture import normaliser_nom

    resultats: dict[str, Constats] = {}
    try:
        wb = openpyxl.load_workbook(classeur, read_only=True, data_only=False)
    except Exception:  # an unreadable workbook is reported by the reader
        return resultats
    try:
        for feuille in wb.worksheets:
            table = contrat.TABLES.get(normaliser_nom(feuille.title))
            nom_feuille = table.nom if table else feuille.title
            entetes: list[str] = []
            constats = Constats()
            for numero, ligne in enumerate(feuille.iter_rows(), start=1):
                if numero == 1:
                    entetes = ["" if c.value is None else str(c.value) for c in ligne]
                for position, cellule in enumerate(ligne):
                    if getattr(cellule, "data_type", None) == "f":
                        nom, _ = _colonne_brute(table, entetes, position)
                        constats.ajouter("formule", nom, numero)
            if constats:
                resultats[nom_feuille] = constats
    finally:
        wb.close()
    return resultats
