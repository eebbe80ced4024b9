"""Reading the published tables, and writing what they hold as French Markdown.

Every published output reads the warehouse's publication layer (`pub_*` tables) and the
seeds the team maintains (the project catalogue, the landlords, the published figures),
never the `fct_*` marts: `lire` refuses any other table. A secret cell is NULL in a
`pub_` table and its column is named in `cellules_secretes`; it prints « s ».
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pandas as pd

from capitalisation import formats
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.formats import ESPACE_INSECABLE as NBSP
from capitalisation.publication.secret import SECRET

# The seeds that published outputs may read besides the pub_ tables.
SEEDS = ("projets", "bailleurs", "resultats_publies", "sources_publiees")

# A NULL cell is secret when its own column, or a column it is derived from, is listed
# in `cellules_secretes` (an interval is secret with its value, a p-value with its estimate).
DERIVEES = {
    "ic_bas": ("valeur", "valeur_recalculee", "estimation", "moyenne"),
    "ic_haut": ("valeur", "valeur_recalculee", "estimation", "moyenne"),
    "ecart": ("valeur_recalculee",),
    "moyenne_eur": ("valeur",),
    "mediane_eur": ("valeur",),
    "total_eur": ("valeur",),
    "p_valeur": ("estimation",),
    "p_traites": ("k_traites", "estimation"),
    "p_temoins": ("k_temoins", "estimation"),
    "valeur": ("k",),
}

LIBELLE_SECRET = "secret statistique"


# --------------------------------------------------------------------------- reading


def connecter(entrepot: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection; a missing or damaged warehouse is a French error."""
    entrepot = Path(entrepot)
    if not entrepot.exists():
        raise ErreurUtilisateur(f"entrepôt introuvable : {entrepot} (lancer d'abord « capitalisation run »).")
    if not entrepot.is_file():
        raise ErreurUtilisateur(f"{entrepot} n'est pas un fichier d'entrepôt DuckDB (c'est un dossier).")
    try:
        con = duckdb.connect(str(entrepot), read_only=True)
        con.execute("select count(*) from information_schema.tables").fetchone()
    except duckdb.Error:
        raise ErreurUtilisateur(
            f"l'entrepôt {entrepot} est illisible (fichier endommagé, tronqué ou qui n'est pas un "
            "entrepôt DuckDB) : reconstruisez-le avec « capitalisation run »."
        ) from None
    return con


def tables_publiees(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The pub_ tables and seeds present in the warehouse, sorted."""
    noms = [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'main' "
        "order by table_name").fetchall()]
    return [n for n in noms if n.startswith("pub_") or n in SEEDS]


def lire(con: duckdb.DuckDBPyConnection, table: str, projet_id: str | None = None,
         ordre: str | None = None) -> pd.DataFrame:
    """Rows of a published table (of one project when given); empty when the table is absent."""
    if not (table.startswith("pub_") or table in SEEDS):
        raise ValueError(f"les sorties publiées ne lisent que les tables pub_ et les seeds ({table})")
    existe = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'main' and table_name = ?",
        [table]).fetchone()[0]
    if not existe:
        return pd.DataFrame()
    colonnes = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = 'main' "
        "and table_name = ? order by ordinal_position", [table]).fetchall()]
    requete = f'select * from "{table}"'
    parametres: list = []
    if projet_id is not None and "projet_id" in colonnes:
        requete += " where projet_id = ?"
        parametres.append(projet_id)
    requete += f" order by {ordre}" if ordre else " order by all"
    table_lue = con.execute(requete, parametres).df()
    if "cellules_secretes" in table_lue.columns:
        table_lue["cellules_secretes"] = table_lue["cellules_secretes"].fillna("").astype(str)
    return table_lue


def montant(valeur) -> str:
    """An amount per household: cents for small amounts (« 8,67 € »), whole euros otherwise."""
    if formats.manquant(valeur):
        return "–"
    return formats.euros(valeur, 2 if abs(float(valeur)) < 100 else 0)


def intervalle_montant(bas, haut) -> str:
    if formats.manquant(bas) or formats.manquant(haut):
        return "–"
    return f"{montant(bas)} – {montant(haut)}"


def cle_tri(texte) -> str:
    """Sort key of a French name: accents ignored (« Éco » between « Déclic » and « Solide »)."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", str(texte)) if not unicodedata.combining(c)).lower()


def lignes(table: pd.DataFrame) -> list[dict]:
    """Rows as dicts, with pandas' missing values turned into None."""
    if table.empty:
        return []
    return [{k: (None if formats.manquant(v) else v) for k, v in r.items()}
            for r in table.astype(object).to_dict("records")]


def date(valeur) -> dt.date | None:
    """A date cell (DuckDB date, pandas Timestamp or ISO text) as a date."""
    if formats.manquant(valeur):
        return None
    if isinstance(valeur, pd.Timestamp | dt.datetime):
        return valeur.date()
    if isinstance(valeur, dt.date):
        return valeur
    return dt.date.fromisoformat(str(valeur)[:10])


# --------------------------------------------------------------------------- secrecy


def secrets(ligne: dict) -> set[str]:
    return {c.strip() for c in str(ligne.get("cellules_secretes") or "").split(",") if c.strip()}


def est_secret(ligne: dict, colonne: str) -> bool:
    """True when the cell must print « s »."""
    listes = secrets(ligne)
    if colonne in listes:
        return True
    valeur = ligne.get(colonne)
    return formats.manquant(valeur) and any(c in listes for c in DERIVEES.get(colonne, ()))


def cellule(ligne: dict | None, colonne: str, formateur=formats.nombre) -> str:
    """The cell formatted, « s » when secret, « – » when missing."""
    if ligne is None:
        return "–"
    if est_secret(ligne, colonne):
        return SECRET
    valeur = ligne.get(colonne)
    if formats.manquant(valeur):
        return "–"
    return formateur(valeur)


def proportion(ligne: dict, k: str = "k", n: str = "n", valeur: str = "valeur") -> dict:
    """The pieces of a proportion for a table: value, « k sur n », interval (secret-aware)."""
    if est_secret(ligne, valeur) or est_secret(ligne, k):
        return {"valeur": SECRET, "k_sur_n": f"{SECRET} sur {cellule(ligne, n)}", "ic": SECRET}
    return {
        "valeur": cellule(ligne, valeur, formats.pourcentage),
        "k_sur_n": f"{cellule(ligne, k)} sur {cellule(ligne, n)}",
        "ic": formats.etendue(ligne.get("ic_bas"), ligne.get("ic_haut")),
    }


# --------------------------------------------------------------------------- Markdown


_SPECIAUX = re.compile(r"([\\`*_{}\[\]<>#|])")


def echapper(texte) -> str:
    """Plain text (catalogue fields) made safe inside Markdown."""
    return _SPECIAUX.sub(r"\\\1", str(texte))


def typographie(texte: str) -> str:
    """French typography in a text written by the team: no-break spaces before ; : ! ? » % €
    and after «, never touching Markdown structure at the start of a line."""
    texte = re.sub(r"(?<=\S) ([;:!?»%€])", NBSP + r"\1", texte)
    texte = re.sub(r"« ", "«" + NBSP, texte)
    # Thousands: « 1 500 € », « 10 000 logements » with a narrow no-break space.
    texte = re.sub(r"(?<=\b\d) (?=\d{3}\b)|(?<=\b\d\d) (?=\d{3}\b)|(?<=\b\d\d\d) (?=\d{3}\b)",
                   formats.ESPACE_FINE, texte)
    return texte


def enumeration(elements: list[str]) -> str:
    """« a, b et c »."""
    elements = [e for e in elements if e]
    if len(elements) <= 1:
        return "".join(elements)
    return ", ".join(elements[:-1]) + " et " + elements[-1]


def guillemets(texte: str) -> str:
    return f"«{NBSP}{texte}{NBSP}»"


def etiquette(texte: str) -> str:
    """« Catégorie : » with its no-break space."""
    return f"{texte}{NBSP}:"


def tableau(entetes: list[str], rangees: list[list[str]], largeurs: list[int] | None = None,
            alignements: list[str] | None = None, legende: str | None = None) -> str:
    """A pipe table; relative column widths from `largeurs` (in dashes), alignments 'g'/'d'.

    The separator row is made longer than pandoc's line width, so that pandoc keeps the
    relative widths (and wraps long cells) in every format.
    """
    nb = len(entetes)
    largeurs = largeurs or [max(10, len(e)) for e in entetes]
    total = sum(largeurs)
    if total < 80:
        largeurs = [max(3, round(l_ * 80 / total)) for l_ in largeurs]
    alignements = alignements or ["g"] * nb
    separateurs = []
    for largeur, alignement in zip(largeurs, alignements):
        tirets = "-" * max(3, largeur)
        separateurs.append(tirets[:-1] + ":" if alignement == "d" else ":" + tirets[1:])

    def rangee(cellules: list[str]) -> str:
        return "| " + " | ".join(typographie(str(c)).replace("|", "\\|").replace("\n", " ")
                                 for c in cellules) + " |"

    texte = [rangee(entetes), "|" + "|".join(separateurs) + "|"]
    texte += [rangee(r) for r in rangees]
    sortie = "\n".join(texte) + "\n"
    if legende:
        sortie += f"\n: {typographie(legende)}\n"
    return "\n" + sortie + "\n"


def liste(elements: list[str]) -> str:
    return "\n" + "\n".join(f"- {e}" for e in elements) + "\n\n"


def paragraphes(texte: str | None) -> str:
    if not texte:
        return ""
    return "\n" + typographie(str(texte).strip()) + "\n\n"


def bloc_html(html: str) -> str:
    """A raw HTML block: shown in HTML, dropped from PDF and DOCX."""
    return f"\n```{{=html}}\n{html}\n```\n\n"


def navigation(racine: str, pages: list[tuple[str, str]], courante: str | None = None,
               telechargements: list[tuple[str, str]] | None = None) -> str:
    """The site's navigation bar as a raw HTML block (HTML output only).

    `racine` is the relative path from the page to the site root ("" or "../");
    `pages` are (file, label) pairs, `telechargements` (file, label) pairs beside the page.
    """
    from html import escape

    liens = []
    for fichier, libelle in pages:
        if fichier == courante:
            liens.append(f'<a href="{escape(racine + fichier)}" aria-current="page">{escape(libelle)}</a>')
        else:
            liens.append(f'<a href="{escape(racine + fichier)}">{escape(libelle)}</a>')
    html = '<nav class="site" aria-label="Navigation du site">' + " ".join(liens)
    if telechargements:
        html += ' <span class="telechargements">Télécharger' + NBSP + ": " + " ".join(
            f'<a href="{escape(f)}" download>{escape(l_)}</a>' for f, l_ in telechargements) + "</span>"
    return bloc_html(html + "</nav>")
