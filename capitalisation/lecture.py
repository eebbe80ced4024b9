"""Reading deliveries: from what landlords' office tools write to typed landing tables.

A delivery is a folder `exports/<projet_id>/<YYYY-MM-DD>/` holding the contract's CSV
files or one workbook `export.xlsx`. Each table is read as text, its columns matched to
the contract (case- and accent-insensitively), then every cell is parsed by DuckDB into
the contract's type (French dates, decimal commas, `oui`/`non`...) and written as one
Parquet file per table, project and extraction:

    <landing>/<table>/<projet_id>__<YYYY-MM-DD>.parquet

Parsing happens in DuckDB so that a delivery of tens of millions of rows streams from
CSV to Parquet without being held in memory.
"""

from __future__ import annotations

import codecs
import csv as csv_module
import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
import threading
import unicodedata
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from capitalisation import contrat
from capitalisation.erreurs import ErreurUtilisateur, LivraisonIllisible

MOTIF_PROJET = re.compile(r"^[a-z0-9_]{1,64}$")
MOTIF_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TAILLE_BLOC = 1 << 20
LIGNES_CITEES = 10
MEMOIRE_DUCKDB = "3GB"  # beyond it DuckDB spills to disk: a large delivery streams through


def regler_connexion(con: duckdb.DuckDBPyConnection, dossier_tmp: Path | None = None, part: int = 1) -> None:
    """Memory limit (and spill folder) of one DuckDB connection; when `part` connections
    work at once (one worker per core), each gets its share of the memory and of the cores."""
    if dossier_tmp is not None:
        con.execute(f"set temp_directory = '{Path(dossier_tmp) / 'duckdb'}'")
    if part <= 1:
        con.execute(f"set memory_limit = '{MEMOIRE_DUCKDB}'")
        return
    unites = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
    nombre, unite = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]B)", MEMOIRE_DUCKDB.strip().upper()).groups()
    con.execute(f"set memory_limit = '{int(float(nombre) * unites[unite] / part / 1e6)}MB'")
    con.execute(f"set threads = {max(1, (os.cpu_count() or 1) // part)}")


class _ConnexionDuFil:
    """A thread's DuckDB connection (in memory), kept from one delivery to the next:
    opening one costs as much as reading a small table. Its spill folder is its own, and
    both go when the thread ends (or the process)."""

    def __init__(self, part: int):
        self.dossier = Path(tempfile.mkdtemp(prefix="capitalisation-duckdb-"))
        self.con = duckdb.connect()
        regler_connexion(self.con, self.dossier, part)
        weakref.finalize(self, _fermer, self.con, self.dossier)


def _fermer(con: duckdb.DuckDBPyConnection, dossier: Path) -> None:
    try:
        con.close()
    finally:
        shutil.rmtree(dossier, ignore_errors=True)


_FILS = threading.local()


def connexion(part: int = 1) -> duckdb.DuckDBPyConnection:
    """The current thread's DuckDB connection for reading and judging deliveries, with its
    share of memory and cores when `part` deliveries are worked on at once
    (`regler_connexion`). Nothing a delivery leaves in it is read by the next: every
    statement names its files, and the rejects tables are emptied before each read."""
    if not hasattr(_FILS, "connexions"):
        _FILS.connexions = {}
    if part not in _FILS.connexions:  # one per share: a connection in use is never replaced
        _FILS.connexions[part] = _ConnexionDuFil(part)
    return _FILS.connexions[part].con


@dataclass(frozen=True)
class Livraison:
    """One delivery: a project's export at one extraction date."""

    projet_id: str
    date_extraction: dt.date
    dossier: Path

    @property
    def nom(self) -> str:
        return f"{self.projet_id}/{self.date_extraction.isoformat()}"

    def fichiers(self) -> list[Path]:
        return sorted(p for p in self.dossier.iterdir() if p.is_file())


@dataclass
class TableLue:
    """A table of a delivery read into the landing area."""

    table: str
    fichier: str  # name of the delivered file (or `export.xlsx:<sheet>`)
    lignes: int
    parquet: Path
    encodage: str = ""
    separateur: str = ""


@dataclass
class LivraisonLue:
    livraison: Livraison
    tables: dict[str, TableLue] = field(default_factory=dict)


# --------------------------------------------------------------------------- discovery


def trouver_livraisons(exports: Path) -> list[Livraison]:
    """Every delivery folder under `exports`, sorted by project then extraction date."""
    exports = Path(exports)
    if not exports.is_dir():
        raise LivraisonIllisible(f"le dossier des livraisons {exports} n'existe pas.")
    racine = exports.resolve()
    livraisons = []
    for dossier_projet in sorted(exports.iterdir()):
        if dossier_projet.name.startswith((".", "_")) or not dossier_projet.is_dir():
            continue
        if not MOTIF_PROJET.match(dossier_projet.name):
            raise LivraisonIllisible(
                f"{dossier_projet.name!r} n'est pas un code de projet valide (lettres minuscules, "
                "chiffres et « _ ») : dossier ignoré impossible, corrigez son nom."
            )
        for dossier in sorted(dossier_projet.iterdir()):
            if dossier.name.startswith(".") or not dossier.is_dir():
                continue
            if not dossier.resolve().is_relative_to(racine):
                raise LivraisonIllisible(
                    f"{dossier_projet.name}/{dossier.name} sort du dossier des livraisons : refusé."
                )
            livraisons.append(Livraison(dossier_projet.name, _date_dossier(dossier), dossier))
    return livraisons


def _date_dossier(dossier: Path) -> dt.date:
    nom = dossier.name
    try:
        if not MOTIF_DATE.match(nom):
            raise ValueError
        return dt.date.fromisoformat(nom)
    except ValueError:
        raise LivraisonIllisible(
            f"{dossier.parent.name}/{nom} : le dossier d'une livraison doit être nommé par la date "
            "d'extraction au format AAAA-MM-JJ (par exemple 2019-12-31)."
        ) from None


def livraisons_en_usage(livraisons: list[Livraison]) -> list[Livraison]:
    """The newest extraction of each project."""
    recentes: dict[str, Livraison] = {}
    for livraison in livraisons:
        if (
            livraison.projet_id not in recentes
            or livraison.date_extraction > recentes[livraison.projet_id].date_extraction
        ):
            recentes[livraison.projet_id] = livraison
    return [recentes[p] for p in sorted(recentes)]


# --------------------------------------------------------------------------- headers


def normaliser_nom(nom: str) -> str:
    """`Ménage ID` → `menage_id`: lower case, no accents, separators as `_`."""
    nom = nom.replace("\ufeff", "").strip().strip('"').strip()
    nom = unicodedata.normalize("NFKD", nom)
    nom = "".join(c for c in nom if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", nom).strip("_")


def nom_citable(entete: str, position: int) -> str:
    """A delivered header as messages and reports may cite it: its name, or its position
    (« colonne n° 7 ») when the header is empty or itself looks like personal data."""
    from capitalisation.validation.donnees_personnelles import en_tete_suspect

    nom = normaliser_nom(entete)
    if not nom or en_tete_suspect(entete):
        return f"colonne n° {position}"
    return nom


def correspondance_colonnes(table: contrat.Table, entetes: list[str], fichier: str) -> list[str]:
    """Map each delivered header to a contract column; refuse missing, duplicated or extra ones.

    A header out of the contract may itself be personal data (an e-mail address written
    where a column name was expected): it is cited by its position, never by its text.
    """
    normalises = [normaliser_nom(e) for e in entetes]
    attendues = set(table.noms_colonnes)
    autorisees = set(contrat.COLONNES_AUTORISEES.get(table.nom, ()))
    vus: set[str] = set()
    doubles, inconnues = [], []
    for position, nom in enumerate(normalises, start=1):
        if nom in vus:
            doubles.append(nom if nom in attendues else nom_citable(entetes[position - 1], position))
        vus.add(nom)
        if nom not in attendues and nom not in autorisees:
            inconnues.append(nom_citable(entetes[position - 1], position))
    manquantes = [c for c in table.noms_colonnes if c not in vus and not (
        table.colonne(c).nullable and table.colonne(c).defaut is not None)]
    problemes = []
    if manquantes:
        problemes.append("colonnes manquantes : " + ", ".join(manquantes))
    if doubles:
        problemes.append("colonnes en double : " + ", ".join(sorted(set(doubles))))
    if inconnues:
        problemes.append(
            "colonnes hors contrat : " + ", ".join(inconnues)
            + " (une colonne en trop est refusée : c'est ainsi que fuient noms et adresses)"
        )
    if problemes:
        raise LivraisonIllisible(f"{fichier} : " + " ; ".join(problemes) + ".")
    return normalises


# --------------------------------------------------------------------------- CSV files


@dataclass(frozen=True)
class Examen:
    """What one pass over a delivered file's bytes tells: its SHA-256, its encoding (or why
    it has none we read), and its physical lines holding something (header included)."""

    sha256: str
    encodage: str | None
    refus: str | None
    lignes_non_vides: int


_NON_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")  # the five bytes Windows-1252 leaves undefined
_BLANCS = b" \t\r\xef\xbb\xbf"
_LIGNE_BLANCHE = re.compile(rb"(?m)^[ \t\r\xef\xbb\xbf]*\n")
_EXAMENS: dict[tuple, Examen] = {}


_DEBUT_BLANC = re.compile(rb"\n[\n \t\r\xef]")


def _lignes_blanches(morceau: bytes) -> int:
    """Blank lines in `morceau` (whole lines, each ending with a newline); fast when none."""
    if morceau[:1] not in (b"\n", b" ", b"\t", b"\r", b"\xef") and not _DEBUT_BLANC.search(morceau):
        return 0
    return len(_LIGNE_BLANCHE.findall(morceau))


def examiner_fichier(chemin: Path) -> Examen:
    """Hash, encoding check and line count in a single streaming pass over the file
    (remembered while the file is unchanged: size and modification time)."""
    etat = chemin.stat()
    cle = (str(chemin), etat.st_size, etat.st_mtime_ns, etat.st_ino)
    if cle in _EXAMENS:
        return _EXAMENS[cle]
    h = hashlib.sha256()
    refus = None
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok, cp1252_ok = True, True  # Windows-1252 checked only if UTF-8 fails
    lignes, reste, debut = 0, b"", True
    with open(chemin, "rb") as flux:
        while bloc := flux.read(TAILLE_BLOC):
            h.update(bloc)
            if debut:
                debut = False
                if bloc[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                    refus = "utf16"
            if refus is None and b"\x00" in bloc:
                refus = "binaire"
            if utf8_ok:
                try:
                    utf8.decode(bloc)
                except UnicodeDecodeError:
                    utf8_ok = False
            fin = bloc.rfind(b"\n")
            if fin < 0:
                reste += bloc
                continue
            entieres = reste + bloc[: fin + 1]
            lignes += entieres.count(b"\n") - _lignes_blanches(entieres)
            reste = bloc[fin + 1:]
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if reste.strip(_BLANCS):
        lignes += 1
    if not utf8_ok:  # rare: then only is the file searched for bytes Windows-1252 leaves undefined
        with open(chemin, "rb") as flux:
            while bloc := flux.read(TAILLE_BLOC):
                if _NON_CP1252.search(bloc):
                    cp1252_ok = False
                    break
    with open(chemin, "rb") as flux:
        bom = flux.read(3) == codecs.BOM_UTF8
    if refus is None:
        if bom:
            encodage = "utf-8-sig" if utf8_ok else None
        else:
            encodage = "utf-8" if utf8_ok else "cp1252" if cp1252_ok else None
        refus = None if encodage else "illisible"
    else:
        encodage = None
    examen = Examen(h.hexdigest(), encodage, refus, lignes)
    if len(_EXAMENS) > 4096:
        _EXAMENS.clear()
    _EXAMENS[cle] = examen
    return examen


def detecter_encodage(chemin: Path, fichier: str | None = None) -> str:
    """`utf-8-sig`, `utf-8` or `cp1252`; refuse binary files and undecodable bytes."""
    fichier = fichier or chemin.name
    with open(chemin, "rb") as flux:
        debut = flux.read(4)
        flux.seek(0)
        if debut.startswith(codecs.BOM_UTF8):
            candidats = ["utf-8-sig"]
        else:
            candidats = ["utf-8", "cp1252"]
        if debut[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise LivraisonIllisible(
                f"{fichier} : fichier en UTF-16, enregistrez-le en UTF-8 ou Windows-1252."
            )
        for encodage in candidats:
            flux.seek(0)
            decodeur = codecs.getincrementaldecoder(encodage)()
            try:
                while bloc := flux.read(TAILLE_BLOC):
                    if b"\x00" in bloc:
                        raise LivraisonIllisible(
                            f"{fichier} : fichier binaire (octet nul), ce n'est pas un CSV."
                        )
                    decodeur.decode(bloc)
                decodeur.decode(b"", final=True)
                return encodage
            except UnicodeDecodeError:
                continue
    raise LivraisonIllisible(
        f"{fichier} : encodage illisible (ni UTF-8 ni Windows-1252)."
    )


def _premiere_ligne(chemin: Path, encodage: str) -> str:
    with open(chemin, encoding=encodage, newline="") as flux:
        return flux.readline().rstrip("\r\n")


def detecter_separateur(entete: str, fichier: str) -> str:
    points_virgules, virgules = entete.count(";"), entete.count(",")
    if points_virgules == 0 and virgules == 0:
        raise LivraisonIllisible(
            f"{fichier} : ligne d'en-tête sans séparateur « ; » ni « , » (fichier vide ou tronqué ?)."
        )
    return ";" if points_virgules >= virgules else ","


def _en_utf8(chemin: Path, encodage: str, dossier_tmp: Path) -> Path:
    """A UTF-8 copy of a Windows-1252 file (DuckDB reads UTF-8)."""
    if encodage in ("utf-8", "utf-8-sig"):
        return chemin
    cible = dossier_tmp / (chemin.stem + ".utf8.csv")
    with open(chemin, encoding=encodage, newline="") as src, open(
        cible, "w", encoding="utf-8", newline=""
    ) as dst:
        shutil.copyfileobj(src, dst, TAILLE_BLOC)
    return cible


# --------------------------------------------------------------------------- parsing SQL

def _sql_nettoye(colonne: str) -> str:
    return f"nullif(trim({colonne}), '')"


def _sql_montant(colonne: str) -> str:
    """Thousands separators (space, no-break and narrow no-break space) out, decimal comma to point."""
    texte = _sql_nettoye(colonne)
    for espace in (" ", "\u00a0", "\u202f"):
        texte = f"replace({texte}, '{espace}', '')"
    return f"replace({texte}, ',', '.')"


def sql_conversion(col: contrat.Colonne, source: str) -> str:
    """A DuckDB expression turning the text cell `source` into the column's type (NULL if bad)."""
    brut = _sql_nettoye(source)
    if col.type == contrat.TEXTE:
        expression = brut
    elif col.type == contrat.CODE:
        expression = f"lower({brut})"
    elif col.type == contrat.DATE:
        expression = (
            f"(case when substr({brut}, 5, 1) = '-' then try_strptime({brut}, '%Y-%m-%d') "
            f"else try_strptime({brut}, '%d/%m/%Y') end)::date"
        )
    elif col.type == contrat.MOIS:
        expression = (
            f"(case when substr({brut}, 5, 1) = '-' then try_strptime({brut}, '%Y-%m') "
            f"else try_strptime('01/' || {brut}, '%d/%m/%Y') end)::date"
        )
    elif col.type == contrat.MONTANT:
        # at most two decimals: a third one would be silently rounded by the cast
        nombre = _sql_montant(source)
        expression = (
            f"case when not regexp_matches({nombre}, '[.][0-9]{{3}}') "
            f"then try_cast({nombre} as decimal(14, 2)) end"
        )
    elif col.type == contrat.NOMBRE:
        expression = f"try_cast({_sql_montant(source)} as double)"
    elif col.type == contrat.BOOLEEN:
        # a simple case, the cell's text computed once (an IN list becomes a join)
        valeurs = [(v, "true") for v in sorted(contrat.BOOLEENS_VRAIS)] + [
            (v, "false") for v in sorted(contrat.BOOLEENS_FAUX)]
        expression = f"case lower({brut}) " + " ".join(f"when '{v}' then {b}" for v, b in valeurs) + " end"
    else:  # pragma: no cover - the contract has no other type
        raise ValueError(col.type)
    if col.defaut is not None:
        expression = f"coalesce({expression}, {col.defaut})"
    return expression


_LIBELLES_TYPES = {
    contrat.DATE: "une date AAAA-MM-JJ ou JJ/MM/AAAA",
    contrat.MOIS: "un mois AAAA-MM ou MM/AAAA",
    contrat.MONTANT: "un montant en euros (au plus deux décimales, virgule ou point)",
    contrat.NOMBRE: "un nombre",
    contrat.BOOLEEN: "oui/non, 1/0, vrai/faux ou true/false",
}

_TYPES_SQL = {
    contrat.TEXTE: "varchar",
    contrat.CODE: "varchar",
    contrat.DATE: "date",
    contrat.MOIS: "date",
    contrat.MONTANT: "decimal(14, 2)",
    contrat.NOMBRE: "double",
    contrat.BOOLEEN: "boolean",
}


def schema_sql(table: contrat.Table) -> list[tuple[str, str]]:
    """The landing table's columns and DuckDB types."""
    return [(c.nom, _TYPES_SQL[c.type]) for c in table.colonnes] + [
        ("date_extraction", "date"),
        ("ligne_source", "bigint"),
    ]


def _citer_lignes(lignes: list[int], total: int) -> str:
    texte = ", ".join(str(n) for n in lignes[:LIGNES_CITEES])
    return f"{total} ligne(s) ({texte}{', …' if total > len(lignes[:LIGNES_CITEES]) else ''})"


_ECRITURE_IMPOSSIBLE = (
    (("No space left on device", "ENOSPC", "disk full"), "disque plein"),
    (("Permission denied", "Read-only file system"), "écriture refusée par le système"),
    (("Out of Memory", "could not allocate"), "mémoire insuffisante"),
)


def verifier_ecriture(erreur: Exception, dossier: Path) -> None:
    """Raise a French `ErreurUtilisateur` when DuckDB failed for want of disk, rights or
    memory (not the delivery's fault, so not a `LivraisonIllisible`)."""
    texte = str(erreur)
    for motifs, cause in _ECRITURE_IMPOSSIBLE:
        if any(m.lower() in texte.lower() for m in motifs):
            raise ErreurUtilisateur(
                f"{cause} en écrivant dans {dossier} : libérez de la place ou corrigez les droits, "
                "puis relancez (rien n'a été déposé, l'entrepôt en place ne change pas)."
            ) from None


def _champs_de_la_ligne(csv: Path, separateur: str, numero: int) -> int | None:
    """The number of fields of physical line `numero` (1 = the header), streaming."""
    with open(csv, encoding="utf-8-sig", errors="replace", newline="") as flux:
        for indice, ligne in enumerate(flux, start=1):
            if indice == numero:
                return len(next(csv_module.reader([ligne.rstrip("\r\n")], delimiter=separateur), []))
    return None


def _lire_et_convertir(
    con: duckdb.DuckDBPyConnection,
    table: contrat.Table,
    csv: Path,
    separateur: str,
    fichier: str,
    date_extraction: dt.date,
    parquet: Path,
) -> int:
    """Read a CSV file into its typed Parquet landing file; the number of rows read.

    DuckDB's own typed reader is tried first (`_lecture_typee`); a file it cannot read
    cleanly, cell for cell, goes through the slower path that names the lines.
    """
    entete = _premiere_ligne(csv, "utf-8-sig")
    entetes = next(csv_module.reader([entete], delimiter=separateur))
    noms = correspondance_colonnes(table, entetes, fichier)
    position = {nom: i for i, nom in enumerate(noms)}
    lignes = _lecture_typee(con, table, csv, separateur, position, len(noms), date_extraction, parquet)
    if lignes is not None:
        return lignes
    return _lecture_ligne_a_ligne(con, table, csv, separateur, fichier, date_extraction, parquet, position, noms)


# data rows read to detect a file's date format and decimal separator: a format met further
# down makes DuckDB reject the cell, and the file goes the line-by-line path
ECHANTILLON_FORMATS = 200
_TYPES_LECTURE = {contrat.DATE: "DATE", contrat.MONTANT: "DOUBLE", contrat.NOMBRE: "DOUBLE"}
# the two ways the contract writes a date and a month: ISO, and French
_FORMATS_TEMPORELS = {contrat.DATE: ("%Y-%m-%d", "%d/%m/%Y"), contrat.MOIS: ("%Y-%m", "%m/%Y")}


def detecter_formats(
    csv: Path, separateur: str, table: contrat.Table, position: dict[str, int]
) -> tuple[str, str, str | None] | None:
    """(date format, decimal separator, month format) of a file from its first rows, or None
    when they are mixed or cannot be told (the file then takes the line-by-line path). The
    month format is None when the file has no month, or mixes them."""
    vus = {type_: set() for type_ in _FORMATS_TEMPORELS}
    temporelles = [(position[c.nom], vus[c.type], _FORMATS_TEMPORELS[c.type]) for c in table.colonnes
                   if c.nom in position and c.type in _FORMATS_TEMPORELS]
    decimales = set()
    nombres = [position[c.nom] for c in table.colonnes
               if c.nom in position and c.type in (contrat.MONTANT, contrat.NOMBRE)]
    try:
        with open(csv, encoding="utf-8-sig", newline="") as flux:
            lecteur = csv_module.reader(flux, delimiter=separateur)
            next(lecteur, None)
            for numero, ligne in enumerate(lecteur):
                if numero >= ECHANTILLON_FORMATS:
                    break
                largeur = len(ligne)
                for indice, formats, (iso, francais) in temporelles:
                    valeur = ligne[indice].strip() if indice < largeur else ""
                    if valeur:
                        formats.add(iso if valeur[4:5] == "-" else francais)
                for indice in nombres:
                    if indice < largeur:
                        decimales.update(c for c in ",." if c in ligne[indice])
    except (csv_module.Error, UnicodeDecodeError):
        return None
    dates, mois = vus[contrat.DATE], vus[contrat.MOIS]
    if len(dates) > 1 or len(decimales) > 1:
        return None
    return (next(iter(dates), "%Y-%m-%d"), next(iter(decimales), "."),
            next(iter(mois)) if len(mois) == 1 else None)


def types_natifs(types_presents: set[str], formats: tuple[str, str, str | None]) -> tuple[dict[str, str], str]:
    """The contract types DuckDB's reader types itself in a file whose columns are of
    `types_presents` (contract type → DuckDB type), and the date format to give it. DuckDB
    takes one date format per file: the months are typed by it when the file has no date
    (the rent accounts, the consumptions), else they come as text and are converted."""
    format_date, _, format_mois = formats
    if format_mois is not None and contrat.DATE not in types_presents:
        return {**_TYPES_LECTURE, contrat.MOIS: "DATE"}, format_mois
    return _TYPES_LECTURE, format_date


@dataclass(frozen=True)
class Copie:
    """A Parquet file written beside its final place: its path, rows and the largest value
    of each integer column (from the statistics DuckDB keeps as it writes)."""

    provisoire: Path
    lignes: int
    maximums: dict[str, int]


def _copier_en_parquet(con: duckdb.DuckDBPyConnection, selection: str, parametres: list,
                       parquet: Path) -> Copie:
    """Write `selection` to a temporary Parquet file beside `parquet` (the caller swaps it
    in). On a DuckDB error the temporary file is removed and a full disk or a refused write
    is reported in French (verifier_ecriture); any other error is raised again."""
    parquet.parent.mkdir(parents=True, exist_ok=True)
    provisoire = parquet.with_name(f".{parquet.name}.{os.getpid()}.tmp")
    try:
        (_, lignes, *_, statistiques, _, _) = con.execute(
            f"copy ({selection}) to '{provisoire}' (format parquet, compression zstd, return_stats)", parametres
        ).fetchone()
    except duckdb.Error as erreur:
        provisoire.unlink(missing_ok=True)
        verifier_ecriture(erreur, parquet.parent)
        raise
    maximums = {}
    for colonne, valeurs in (statistiques or {}).items():
        try:
            maximums[colonne.strip('"')] = int(valeurs["max"])
        except (KeyError, TypeError, ValueError):
            continue
    return Copie(provisoire, int(lignes), maximums)


def _selection(
    table: contrat.Table, position: dict[str, int], types_lecture: dict[str, str]
) -> tuple[list[str], list[tuple[contrat.Colonne, str]]]:
    """The landing columns as expressions over a file's cells `c0`, `c1`… (a column absent
    from the file takes its default), and the doubtful cells: (column, SQL condition).

    A column whose type is in `types_lecture` was typed by DuckDB's reader; the others
    come as text and are converted here (`sql_conversion`). Both read paths build their
    select from here, so that a file gives the same landing rows whichever path read it."""
    expressions, controles = [], []
    for col in table.colonnes:
        if col.nom not in position:
            expressions.append(f"{col.defaut}::{_TYPES_SQL[col.type]} as {col.nom}")
            continue
        source = f"c{position[col.nom]}"
        if col.type not in types_lecture:
            conversion = sql_conversion(col, source)
            if col.type in _LIBELLES_TYPES:
                controles.append((col, f"{_sql_nettoye(source)} is not null and ({conversion}) is null"))
        else:
            conversion = source if col.defaut is None else f"coalesce({source}, {col.defaut})"
            if col.type == contrat.MONTANT:
                # a third decimal: the amount read back from its two-decimal value differs
                controles.append((col, f"{source} <> {source}::{_TYPES_SQL[col.type]}::double"))
        expressions.append(f"({conversion})::{_TYPES_SQL[col.type]} as {col.nom}")
    return expressions, controles


def _requete_lecture(expressions: list[str], anomalies: str, types: list[str], options: str = "") -> str:
    """The select that lands a CSV file: the columns, the extraction date, the line number
    (the header is line 1) and the doubtful cells' mark. Parameters: extraction date, file,
    separator, then those of `options`."""
    colonnes = ", ".join(f"'c{i}': '{type_}'" for i, type_ in enumerate(types))
    return f"""
        select
            {", ".join(expressions)},
            ?::date as date_extraction,
            row_number() over () + 1 as ligne_source,
            cast({anomalies} as bigint) as anomalies_lecture
        from read_csv(?, delim = ?, header = true, auto_detect = false, quote = '"',
                      escape = '"', columns = {{{colonnes}}}, null_padding = false,
                      strict_mode = true{options})
    """


def _lecture_typee(
    con: duckdb.DuckDBPyConnection,
    table: contrat.Table,
    csv: Path,
    separateur: str,
    position: dict[str, int],
    nombre_colonnes: int,
    date_extraction: dt.date,
    parquet: Path,
) -> int | None:
    """DuckDB's typed CSV reader: dates with the file's format, amounts with its decimal
    separator as DOUBLE (wide enough to see a third decimal, exact back to two), rejected
    cells stored, straight into the Parquet file in one pass (no table in memory). Rows
    read, or None when any cell was rejected, an amount has a third decimal, a month is
    unreadable, or the formats are mixed: the file written is then dropped and the caller
    reads the file line by line. The Parquet file kept holds exactly what the line-by-line
    path writes."""
    formats_fichier = detecter_formats(csv, separateur, table, position)
    if formats_fichier is None:
        return None
    decimale = formats_fichier[1]
    if decimale == separateur:
        return None
    par_position = {i: col for col in table.colonnes if col.nom in position for i in [position[col.nom]]}
    types_lecture, format_date = types_natifs({c.type for c in par_position.values()}, formats_fichier)
    types = [types_lecture.get(par_position[i].type, "VARCHAR") if i in par_position else "VARCHAR"
             for i in range(nombre_colonnes)]
    expressions, controles = _selection(table, position, types_lecture)
    # A doubtful cell marks its row (the slow path then rewrites the file): an accepted
    # file has 0 everywhere, as the slow path writes it.
    douteuse = " or ".join(f"({condition})" for _, condition in controles) or "false"
    provisoire = None
    try:
        # DuckDB adds to the rejects tables at each read: emptied so that they are this file's
        con.execute("drop table if exists rejets_lecture")
        con.execute("drop table if exists rejets_lecture_fichiers")
        copie = _copier_en_parquet(
            con,
            _requete_lecture(expressions, f"coalesce({douteuse}, false)", types,
                             ", decimal_separator = ?, dateformat = ?, store_rejects = true, "
                             "rejects_table = 'rejets_lecture', rejects_scan = 'rejets_lecture_fichiers'"),
            [date_extraction, str(csv), separateur, decimale, format_date],
            parquet,
        )
        provisoire = copie.provisoire
        (rejets,) = con.execute("select count(*) from rejets_lecture").fetchone()
        if rejets or copie.maximums.get("anomalies_lecture", 0) or (
                copie.lignes and "anomalies_lecture" not in copie.maximums):
            return None
        os.replace(provisoire, parquet)
        provisoire = None
        return copie.lignes
    except duckdb.Error as erreur:
        verifier_ecriture(erreur, parquet.parent)
        return None  # whatever DuckDB's typed reader cannot read, the slow path explains
    finally:
        if provisoire is not None:
            provisoire.unlink(missing_ok=True)


def _lecture_ligne_a_ligne(
    con: duckdb.DuckDBPyConnection,
    table: contrat.Table,
    csv: Path,
    separateur: str,
    fichier: str,
    date_extraction: dt.date,
    parquet: Path,
    position: dict[str, int],
    noms: list[str],
) -> int:
    """One pass over the CSV as text: typed columns, the line number and a bitmask of
    unparsable cells; refuse the file if any cell is unparsable, else write the Parquet file."""
    expressions, controles = _selection(table, position, {})
    anomalies = " + ".join(
        f"(case when {condition} then {1 << bit} else 0 end)"
        for bit, (_, condition) in enumerate(controles)
    ) or "0"
    try:
        provisoire = _copier_en_parquet(
            con, _requete_lecture(expressions, anomalies, ["VARCHAR"] * len(noms)),
            [date_extraction, str(csv), separateur], parquet,
        ).provisoire
    except duckdb.Error as erreur:
        # DuckDB's message quotes the offending line: never repeat it (it may hold personal data).
        texte = str(erreur)
        ligne = re.search(r"Line:? (\d+)", texte)
        champs = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", texte)
        ou = f" à la ligne {int(ligne.group(1))}" if ligne else ""
        if champs:
            # DuckDB stops counting one field past the expected number: count them all
            trouves = _champs_de_la_ligne(csv, separateur, int(ligne.group(1))) if ligne else None
            detail = f" : {trouves or champs.group(2)} champs au lieu de {champs.group(1)}"
        else:
            detail = " (guillemet non fermé, fichier tronqué ou caractère invalide)"
        raise LivraisonIllisible(f"{fichier} : structure CSV illisible{ou}{detail}.") from None
    lu = f"read_parquet('{provisoire}')"
    comptes = con.execute(
        "select count(*)"
        + "".join(
            f", count(*) filter (where anomalies_lecture & {1 << bit} != 0)"
            for bit in range(len(controles))
        )
        + f" from {lu}"
    ).fetchone()
    lignes, comptes = int(comptes[0]), comptes[1:]
    erreurs = []
    for bit, ((col, _), total) in enumerate(zip(controles, comptes)):
        if total:
            premieres = [
                ligne for (ligne,) in con.execute(
                    f"select ligne_source from {lu} where anomalies_lecture & {1 << bit} != 0 "
                    f"order by ligne_source limit {LIGNES_CITEES}"
                ).fetchall()
            ]
            erreurs.append(
                f"colonne {col.nom} : {_citer_lignes(premieres, total)} ne sont pas "
                f"{_LIBELLES_TYPES[col.type]}"
            )
    if erreurs:
        provisoire.unlink(missing_ok=True)
        raise LivraisonIllisible(f"{fichier} : " + " ; ".join(erreurs) + ".")
    os.replace(provisoire, parquet)
    return lignes


# --------------------------------------------------------------------------- workbook


def _valeur_cellule(valeur) -> str:
    if valeur is None:
        return ""
    if isinstance(valeur, bool):
        return "true" if valeur else "false"
    if isinstance(valeur, dt.datetime):
        return valeur.date().isoformat()
    if isinstance(valeur, dt.date):
        return valeur.isoformat()
    if isinstance(valeur, float):
        return repr(round(valeur, 6)) if not valeur.is_integer() else str(int(valeur))
    return str(valeur)


def _classeur_en_csv(classeur: Path, dossier_tmp: Path) -> dict[str, Path]:
    """Each sheet of `export.xlsx` as a UTF-8 CSV file; sheet names matched like headers."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(classeur))
    except Exception as erreur:  # calamine raises its own error types
        raise LivraisonIllisible(
            f"{classeur.name} : classeur illisible ({type(erreur).__name__})."
        ) from None
    feuilles = {}
    for nom in wb.sheet_names:
        table = normaliser_nom(nom)
        if table not in contrat.TABLES:
            continue
        lignes = wb.get_sheet_by_name(nom).to_python(skip_empty_area=False)
        cible = dossier_tmp / f"{table}.csv"
        with open(cible, "w", encoding="utf-8", newline="") as flux:
            ecrivain = csv_module.writer(flux)
            for ligne in lignes:
                if any(v not in (None, "") for v in ligne):
                    ecrivain.writerow([_valeur_cellule(v) for v in ligne])
        feuilles[table] = cible
    return feuilles


# --------------------------------------------------------------------------- a delivery


def fichiers_livraison(livraison: Livraison, dossier_tmp: Path) -> dict[str, tuple[Path, str]]:
    """table → (CSV path to read, name to cite in messages).

    An entry named as a table's file (or as the workbook) that is not a regular file (a
    folder, a pipe, a broken link) is refused: ignoring it would drop the table silently.
    """
    attendus = {contrat.CLASSEUR} | {f"{t}.csv" for t in contrat.TABLES}
    pas_des_fichiers = sorted(
        p.name for p in livraison.dossier.iterdir() if p.name.lower() in attendus and not p.is_file()
    )
    if pas_des_fichiers:
        raise LivraisonIllisible(
            f"{livraison.nom} : pas un fichier : " + ", ".join(pas_des_fichiers)
            + " (un dossier ou un lien porte le nom d'une table du contrat : la table serait "
            "perdue sans bruit, livrer un fichier CSV)."
        )
    presents = {p.name.lower(): p for p in livraison.fichiers()}
    trouves: dict[str, tuple[Path, str]] = {}
    if contrat.CLASSEUR in presents:
        classeur = presents[contrat.CLASSEUR]
        for table, chemin in _classeur_en_csv(classeur, dossier_tmp).items():
            trouves[table] = (chemin, f"{livraison.nom}/{classeur.name}:{table}")
    else:
        for table in contrat.TABLES:
            chemin = presents.get(f"{table}.csv")
            if chemin is not None:
                trouves[table] = (chemin, f"{livraison.nom}/{chemin.name}")
    manquantes = [t.nom for t in contrat.TABLES.values() if t.obligatoire and t.nom not in trouves]
    if manquantes:
        forme = "feuilles" if contrat.CLASSEUR in presents else "fichiers"
        raise LivraisonIllisible(
            f"{livraison.nom} : {forme} manquant(e)s : "
            + ", ".join(f"{t}{'' if forme == 'feuilles' else '.csv'}" for t in manquantes)
            + "."
        )
    return trouves


def lire_table(
    con: duckdb.DuckDBPyConnection,
    table: contrat.Table,
    chemin: Path,
    fichier: str,
    date_extraction: dt.date,
    parquet: Path,
    dossier_tmp: Path,
) -> TableLue:
    if chemin.stat().st_size == 0:
        raise LivraisonIllisible(f"{fichier} : fichier vide (pas même une ligne d'en-tête).")
    examen = examiner_fichier(chemin)
    if examen.refus == "utf16" or examen.refus == "binaire" or examen.refus == "illisible":
        encodage = detecter_encodage(chemin, fichier)  # raises the French message
    else:
        encodage = examen.encodage
    entete = _premiere_ligne(chemin, encodage)
    separateur = detecter_separateur(entete, fichier)
    csv = _en_utf8(chemin, encodage, dossier_tmp)
    lignes = _lire_et_convertir(con, table, csv, separateur, fichier, date_extraction, parquet)
    return TableLue(table.nom, fichier, lignes, parquet, encodage, separateur)


def chemin_landing(landing: Path, table: str, livraison: Livraison) -> Path:
    return Path(landing) / table / f"{livraison.projet_id}__{livraison.date_extraction.isoformat()}.parquet"


def lire_livraison(livraison: Livraison, landing: Path, part: int = 1) -> LivraisonLue:
    """Read every table of a delivery into `landing`; all or nothing. `part`: how many
    deliveries are read at once (see `regler_connexion`)."""
    lue = LivraisonLue(livraison)
    ecrits: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="livraison-") as tmp:
        dossier_tmp = Path(tmp)
        con = connexion(part)
        try:
            for table_nom, (chemin, fichier) in fichiers_livraison(livraison, dossier_tmp).items():
                table = contrat.TABLES[table_nom]
                parquet = chemin_landing(landing, table_nom, livraison)
                lue.tables[table_nom] = lire_table(
                    con, table, chemin, fichier, livraison.date_extraction, parquet, dossier_tmp
                )
                ecrits.append(parquet)
        except BaseException:
            for parquet in ecrits:
                parquet.unlink(missing_ok=True)
            raise
    return lue


def ecrire_schemas_vides(landing: Path) -> None:
    """An empty, typed Parquet file per table, so that every source exists even with no data."""
    con = duckdb.connect()
    try:
        for table in contrat.TABLES.values():
            cible = Path(landing) / table.nom / "_schema.parquet"
            if cible.exists():
                continue
            cible.parent.mkdir(parents=True, exist_ok=True)
            colonnes = ", ".join(f"null::{type_} as {nom}" for nom, type_ in schema_sql(table))
            con.execute(f"copy (select {colonnes} limit 0) to '{cible}' (format parquet)")
    finally:
        con.close()
