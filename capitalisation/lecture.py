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
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from capitalisation import contrat
from capitalisation.erreurs import LivraisonIllisible

MOTIF_PROJET = re.compile(r"^[a-z0-9_]{1,64}$")
MOTIF_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TAILLE_BLOC = 1 << 20
LIGNES_CITEES = 10
MEMOIRE_DUCKDB = "3GB"  # beyond it DuckDB spills to disk: a large delivery streams through


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


def correspondance_colonnes(table: contrat.Table, entetes: list[str], fichier: str) -> list[str]:
    """Map each delivered header to a contract column; refuse missing, duplicated or extra ones."""
    normalises = [normaliser_nom(e) for e in entetes]
    attendues = set(table.noms_colonnes)
    autorisees = set(contrat.COLONNES_AUTORISEES.get(table.nom, ()))
    vus: set[str] = set()
    doubles, inconnues = [], []
    for position, nom in enumerate(normalises, start=1):
        if nom in vus:
            doubles.append(nom)
        vus.add(nom)
        if nom not in attendues and nom not in autorisees:
            inconnues.append(f"colonne {position}" if not nom else nom)
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
        vrais = ", ".join(f"'{v}'" for v in sorted(contrat.BOOLEENS_VRAIS))
        faux = ", ".join(f"'{v}'" for v in sorted(contrat.BOOLEENS_FAUX))
        expression = (
            f"case when lower({brut}) in ({vrais}) then true "
            f"when lower({brut}) in ({faux}) then false end"
        )
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


def _lire_et_convertir(
    con: duckdb.DuckDBPyConnection,
    table: contrat.Table,
    csv: Path,
    separateur: str,
    fichier: str,
    date_extraction: dt.date,
    parquet: Path,
) -> int:
    """One pass over the CSV: typed columns, the line number and a bitmask of unparsable
    cells; refuse the file if any cell is unparsable, else write the Parquet file."""
    entete = _premiere_ligne(csv, "utf-8-sig")
    entetes = next(csv_module.reader([entete], delimiter=separateur))
    noms = correspondance_colonnes(table, entetes, fichier)
    position = {nom: i for i, nom in enumerate(noms)}
    expressions, controles = [], []
    for col in table.colonnes:
        if col.nom not in position:  # an optional column with a default
            expressions.append(f"{col.defaut}::{_TYPES_SQL[col.type]} as {col.nom}")
            continue
        source = f"c{position[col.nom]}"
        conversion = sql_conversion(col, source)
        expressions.append(f"({conversion})::{_TYPES_SQL[col.type]} as {col.nom}")
        if col.type in _LIBELLES_TYPES:
            controles.append(
                (col, f"{_sql_nettoye(source)} is not null and ({conversion}) is null")
            )
    anomalies = " + ".join(
        f"(case when {condition} then {1 << bit} else 0 end)"
        for bit, (_, condition) in enumerate(controles)
    ) or "0"
    colonnes = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(noms)))
    parquet.parent.mkdir(parents=True, exist_ok=True)
    provisoire = parquet.with_name(f".{parquet.name}.{os.getpid()}.tmp")
    try:
        con.execute(
            f"""
            copy (
                select
                    {", ".join(expressions)},
                    ?::date as date_extraction,
                    row_number() over () + 1 as ligne_source,
                    cast({anomalies} as bigint) as anomalies_lecture
                from read_csv(?, delim = ?, header = true, auto_detect = false, quote = '"',
                              escape = '"', columns = {{{colonnes}}}, null_padding = false,
                              strict_mode = true)
            ) to '{provisoire}' (format parquet, compression zstd)
            """,
            [date_extraction, str(csv), separateur],
        )
    except duckdb.Error as erreur:
        provisoire.unlink(missing_ok=True)
        # DuckDB's message quotes the offending line: never repeat it (it may hold personal data).
        texte = str(erreur)
        ligne = re.search(r"Line:? (\d+)", texte)
        champs = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", texte)
        ou = f" à la ligne {int(ligne.group(1))}" if ligne else ""
        detail = (
            f" : {champs.group(2)} champs au lieu de {champs.group(1)}"
            if champs
            else " (guillemet non fermé, fichier tronqué ou caractère invalide)"
        )
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
    encodage = detecter_encodage(chemin, fichier)
    entete = _premiere_ligne(chemin, encodage)
    separateur = detecter_separateur(entete, fichier)
    csv = _en_utf8(chemin, encodage, dossier_tmp)
    lignes = _lire_et_convertir(con, table, csv, separateur, fichier, date_extraction, parquet)
    return TableLue(table.nom, fichier, lignes, parquet, encodage, separateur)


def chemin_landing(landing: Path, table: str, livraison: Livraison) -> Path:
    return Path(landing) / table / f"{livraison.projet_id}__{livraison.date_extraction.isoformat()}.parquet"


def lire_livraison(livraison: Livraison, landing: Path) -> LivraisonLue:
    """Read every table of a delivery into `landing`; all or nothing."""
    lue = LivraisonLue(livraison)
    ecrits: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="livraison-") as tmp:
        dossier_tmp = Path(tmp)
        con = duckdb.connect()
        con.execute(f"set temp_directory = '{dossier_tmp / 'duckdb'}'")
        con.execute(f"set memory_limit = '{MEMOIRE_DUCKDB}'")
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
        finally:
            con.close()
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
