"""From the extract's text tables to the contract's tables, by the mapping.

Each contract column is one DuckDB expression over the source's text cells: recoded
through the mapping's code lists, then typed by the reader's own conversions
(`lecture.sql_conversion`: French dates, decimal commas, `oui`/`non`), so that a value is
read here exactly as the warehouse will read it. Amounts stay DECIMAL(14, 2) from the
source cell to the delivered file. `menage_id` is the HMAC of the tenant number; the two
bands are computed from the birth date and the resources, which never leave DuckDB.

Every problem (a source column missing, a cell that is not a date, a value without a
code) is reported with the source file, its column and row numbers, never a value.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from capitalisation import contrat, lecture
from capitalisation.preparation.cle import SEPARATEUR, Cle
from capitalisation.preparation.correspondance import (
    REFERENCE_AGE,
    Alimentation,
    Correspondance,
    Origine,
    cle_valeur,
)
from capitalisation.preparation.sources import COLONNE_LIGNE, Source, nom_cite

LIGNES_CITEES = 10
VALEURS_CITEES = 20
VALEURS_DISTINCTES_MAX = 200  # beyond, a column is free text, not a list of codes
LONGUEUR_CITEE = 40
_DATE = contrat.Colonne("date", contrat.DATE)
_MONTANT = contrat.Colonne("montant", contrat.MONTANT)
_TYPES_SQL = lecture._TYPES_SQL


@dataclass
class TablePreparee:
    """A contract table written to the delivery, and where each of its rows comes from."""

    table: str
    chemin: Path
    alimentations: list[Alimentation]
    sources: list[Source]
    origines_lignes: list[tuple[int, int]] = field(default_factory=list)  # (feeding, source row)
    ecartees: int = 0  # rows dropped by ignorer_si_vide or ignorer_hors_menages

    @property
    def lignes(self) -> int:
        return len(self.origines_lignes)


def _litteral(texte: str) -> str:
    return "'" + texte.replace("'", "''") + "'"


def _citer(lignes: list[int], total: int) -> str:
    texte = ", ".join(str(n) for n in lignes[:LIGNES_CITEES])
    return f"{total} ligne(s) ({texte}{', …' if total > LIGNES_CITEES else ''})"


def _valeur_citee(texte: str) -> str:
    """A value of a code column, as printed to the landlord's data officer."""
    if nom_cite(texte) != texte or len(texte) > LONGUEUR_CITEE:
        return "«valeur masquée»"
    return texte


class _Construction:
    """The SQL of one feeding (a source → a contract table), with the problems found."""

    def __init__(self, con, alimentation: Alimentation, source: Source, corresp: Correspondance):
        self.con = con
        self.a = alimentation
        self.source = source
        self.corresp = corresp
        self.table = contrat.TABLES[alimentation.table]
        self.problemes: list[str] = []
        self.controles: list[tuple[str, str, str]] = []  # (source column, SQL condition, label)
        self.expressions: dict[str, str] = {}

    def _ou(self, colonnes) -> str:
        noms = ", ".join(f"« {nom_cite(c)} »" for c in colonnes)
        return f"{self.source.nom}, colonne {noms}"

    def _sql_colonne(self, nom: str) -> str | None:
        cle = lecture.normaliser_nom(nom)
        if cle in self.source.doubles:
            self.problemes.append(f"{self.source.nom} : colonne « {nom_cite(nom)} » en double : "
                                  "laquelle lire ? Renommez l'une des deux.")
            return None
        sql = self.source.colonne_sql(nom)
        if sql is None:
            self.problemes.append(
                f"{self.source.nom} : pas de colonne « {nom_cite(nom)} » (demandée par [{self.a.table}]) ; "
                f"colonnes du fichier : {self.source.entetes_cites()}"
            )
        return sql

    # -- cells ---------------------------------------------------------------

    def _recodage(self, colonne: contrat.Colonne, sql: str, nom_source: str) -> str:
        """`sql` with the mapping's codes applied; unknown values of a code list reported."""
        recodage = self.a.codes.get(colonne.nom, {})
        if not recodage and not colonne.codes:
            return sql
        brut = f"nullif(trim({sql}), '')"
        distinctes = [
            v for (v,) in self.con.execute(
                f"select distinct {brut} from {self.source.table_sql} where {brut} is not null "
                f"order by 1 limit {VALEURS_DISTINCTES_MAX + 1}"
            ).fetchall()
        ]
        remplacements: dict[str, str | None] = {}
        inconnues: list[str] = []
        for valeur in distinctes:
            cle = cle_valeur(valeur)
            if cle in recodage:
                remplacements[valeur] = recodage[cle] or None
            elif colonne.codes and cle in colonne.codes:
                remplacements[valeur] = cle
            elif colonne.codes:
                inconnues.append(valeur)
        if inconnues:
            self._signaler_inconnues(colonne, brut, nom_source, inconnues, len(distinctes))
        if not remplacements:
            return brut
        cas = " ".join(
            f"when {_litteral(v)} then {'null' if c is None else _litteral(c)}"
            for v, c in remplacements.items()
        )
        return f"(case {brut} {cas} else {brut} end)"

    def _signaler_inconnues(self, colonne, brut, nom_source, inconnues, distinctes) -> None:
        liste = ", ".join(_litteral(v) for v in inconnues)
        ((total,),) = self.con.execute(
            f"select count(*) from {self.source.table_sql} where {brut} in ({liste})"
        ).fetchall()
        premieres = [n for (n,) in self.con.execute(
            f"select {COLONNE_LIGNE} from {self.source.table_sql} where {brut} in ({liste}) "
            f"order by 1 limit {LIGNES_CITEES}"
        ).fetchall()]
        ou = f"{self._ou([nom_source])} (→ {self.a.table}.{colonne.nom})"
        if distinctes > VALEURS_DISTINCTES_MAX:
            self.problemes.append(
                f"{ou} : plus de {VALEURS_DISTINCTES_MAX} valeurs différentes, ce n'est pas une liste "
                f"de codes (texte libre ?) — {_citer(premieres, total)}"
            )
            return
        citees = [_valeur_citee(v) for v in inconnues[:VALEURS_CITEES]]
        suite = ", …" if len(inconnues) > VALEURS_CITEES else ""
        self.problemes.append((
            f"{ou} : {len(inconnues)} valeur(s) sans code du contrat — {_citer(premieres, total)}.\n"
            f"      Ajoutez sous [{self.a.table}.codes.{colonne.nom}] une ligne par valeur "
            f"(codes : {', '.join(colonne.codes)}) :\n"
            + "".join(f"        \"{v}\" = \"\"\n" for v in citees if v != "«valeur masquée»")
            + (f"        ({citees.count('«valeur masquée»')} valeur(s) masquée(s) : elles ressemblent "
               "à des données personnelles)\n" if "«valeur masquée»" in citees else "")
            + (f"        {suite}\n" if suite else "")
        ).rstrip())

    def _typer(self, colonne: contrat.Colonne, texte: str, colonnes_source, libelle=None) -> str:
        """The typed expression of a text expression; unreadable cells become a check."""
        type_sql = _TYPES_SQL[colonne.type]
        sans_defaut = contrat.Colonne(colonne.nom, colonne.type)
        conversion = lecture.sql_conversion(sans_defaut, texte)
        if colonne.type == contrat.MOIS:  # a date of the month is a month too
            jour = lecture.sql_conversion(contrat.Colonne(colonne.nom, contrat.DATE), texte)
            conversion = f"coalesce({conversion}, date_trunc('month', {jour})::date)"
        if colonne.type in lecture._LIBELLES_TYPES and colonnes_source:
            self.controles.append((
                self._ou(colonnes_source) + (f" (→ {self.a.table}.{colonne.nom})" if libelle is None else ""),
                f"nullif(trim({texte}), '') is not null and ({conversion}) is null",
                f"ne sont pas {libelle or lecture._LIBELLES_TYPES[colonne.type]}",
            ))
        return f"({conversion})::{type_sql}"

    def colonne(self, colonne: contrat.Colonne, origine: Origine) -> str | None:
        if origine.nature == "valeur":
            return self._typer(colonne, _litteral(origine.valeur), ())
        if origine.nature == "colonne":
            sql = self._sql_colonne(origine.colonnes[0])
            if sql is None:
                return None
            texte = self._recodage(colonne, sql, origine.colonnes[0])
            if origine.valeur is not None:
                texte = f"coalesce(nullif(trim({texte}), ''), {_litteral(origine.valeur)})"
            return self._typer(colonne, texte, origine.colonnes)
        if origine.nature == "pseudonyme":
            parties = [self._sql_colonne(c) for c in origine.colonnes]
            if None in parties:
                return None
            texte = f"concat_ws(chr({ord(SEPARATEUR)}), {', '.join(parties)})"
            expression = f"pseudonyme(nullif({texte}, ''))"
            self.controles.append((self._ou(origine.colonnes) + " (→ menage_id)",
                                   f"{expression} is null", "sont vides (n° de locataire ?)"))
            return expression
        if origine.nature == "ressources":
            montants = []
            for nom in origine.colonnes:
                sql = self._sql_colonne(nom)
                if sql is not None:
                    montants.append(self._typer(_MONTANT, sql, (nom,), "des montants en euros"))
            if len(montants) != len(origine.colonnes):
                return None
            somme = " + ".join(f"coalesce({m}, 0)" for m in montants)
            connu = " or ".join(f"{m} is not null" for m in montants)
            ressources = f"(case when {connu} then {somme} end)"
            self.controles.append((self._ou(origine.colonnes) + " (ressources)",
                                   f"{ressources} is null", "sont vides"))
            return _tranche(ressources, contrat.BORNES_TRANCHES_RESSOURCES)
        if origine.nature == "date_naissance":
            sql = self._sql_colonne(origine.colonnes[0])
            if sql is None:
                return None
            naissance = self._typer(_DATE, sql, origine.colonnes, "des dates (de naissance)")
            if origine.reference == REFERENCE_AGE:
                reference = self.expressions.get(REFERENCE_AGE)
                if reference is None:
                    return None  # date_orientation is itself missing, already reported
            else:
                reference = f"date {_litteral(self.corresp.date_extraction.isoformat())}"
            age = (
                f"(year({reference}) - year({naissance}) - case when month({reference}) < "
                f"month({naissance}) or (month({reference}) = month({naissance}) and "
                f"day({reference}) < day({naissance})) then 1 else 0 end)"
            )
            self.controles.append((self._ou(origine.colonnes) + " (date de naissance)",
                                   f"{naissance} is null", "sont vides"))
            self.controles.append((self._ou(origine.colonnes) + " (date de naissance)",
                                   f"{age} < 0 or {age} > 120",
                                   "donnent un âge invraisemblable (avant la naissance ou plus de 120 ans)"))
            return _tranche(age, contrat.BORNES_TRANCHES_AGE)
        raise ValueError(origine.nature)  # pragma: no cover - checked when read

    def construire(self) -> str | None:
        """The SELECT of the contract's columns, plus the row's source line; None on a problem."""
        ordre = sorted(self.a.colonnes, key=lambda n: n != REFERENCE_AGE)  # the age needs it
        for nom in ordre:
            expression = self.colonne(self.table.colonne(nom), self.a.colonnes[nom])
            if expression is not None:
                self.expressions[nom] = expression
        projet = lecture.sql_conversion(contrat.Colonne("projet_id", contrat.TEXTE),
                                        _litteral(self.corresp.projet_id))
        self.expressions["projet_id"] = projet
        gardees = " and ".join(f"({self.expressions[n]}) is not null"
                               for n in self.a.ignorer_si_vide if n in self.expressions) or "true"
        self._verifier(gardees)
        if self.problemes:
            return None
        colonnes = []
        for colonne in self.table.colonnes:
            expression = self.expressions.get(colonne.nom, f"null::{_TYPES_SQL[colonne.type]}")
            if colonne.type == contrat.MOIS:
                expression = f"strftime({expression}, '%Y-%m')"
            colonnes.append(f"{expression} as {colonne.nom}")
        return (
            f"select {', '.join(colonnes)}, {COLONNE_LIGNE} as __ligne_source "
            f"from {self.source.table_sql} where {gardees}"
        )

    def _verifier(self, gardees: str) -> None:
        if self.problemes:
            return
        for ou, condition, libelle in self.controles:
            ((total,),) = self.con.execute(
                f"select count(*) from {self.source.table_sql} where ({gardees}) and ({condition})"
            ).fetchall()
            if total:
                premieres = [n for (n,) in self.con.execute(
                    f"select {COLONNE_LIGNE} from {self.source.table_sql} "
                    f"where ({gardees}) and ({condition}) order by 1 limit {LIGNES_CITEES}"
                ).fetchall()]
                self.problemes.append(f"{ou} : {_citer(premieres, total)} {libelle}")


def _tranche(valeur: str, bornes) -> str:
    cas = []
    for code, bas, haut in bornes:
        conditions = [f"{valeur} >= {bas}" if bas is not None else None,
                      f"{valeur} < {haut}" if haut is not None else None]
        cas.append(f"when {' and '.join(c for c in conditions if c)} then {_litteral(code)}")
    return f"(case {' '.join(cas)} end)"


def preparer_tables(
    con: duckdb.DuckDBPyConnection,
    corresp: Correspondance,
    sources: dict[str, Source],
    cle: Cle,
    dossier: Path,
) -> tuple[dict[str, TablePreparee], list[str]]:
    """Write every contract table into `dossier`; (tables written, problems found)."""
    problemes: list[str] = []
    selections: dict[str, list[str]] = {}
    for rang, alimentation in enumerate(corresp.alimentations):
        construction = _Construction(con, alimentation, sources[alimentation.nom_source], corresp)
        selection = construction.construire()
        problemes += construction.problemes
        if selection is not None:
            filtre = ""
            if alimentation.ignorer_hors_menages:  # menages is written first
                filtre = f" where menage_id in (select menage_id from _sortie_{contrat.MENAGES.nom})"
            selections.setdefault(alimentation.table, []).append(
                f"select *, {rang} as __alimentation from ({selection}){filtre}"
            )
    if problemes:
        return {}, problemes
    dossier.mkdir(parents=True, exist_ok=True)
    preparees: dict[str, TablePreparee] = {}
    for table in contrat.TABLES.values():
        alimentations = corresp.par_table(table.nom)
        if not alimentations and not table.obligatoire:
            continue
        chemin = dossier / f"{table.nom}.csv"
        preparee = TablePreparee(table.nom, chemin, corresp.alimentations,
                                 [sources[a.nom_source] for a in corresp.alimentations])
        if not alimentations:  # a required table the extract does not hold: its header only
            with open(chemin, "w", encoding="utf-8", newline="") as flux:
                csv.writer(flux).writerow(table.noms_colonnes)
            preparees[table.nom] = preparee
            continue
        union = " union all ".join(selections[table.nom])
        ordre = "order by __alimentation, __ligne_source"
        con.execute(f"create temp table _sortie_{table.nom} as select * from ({union}) {ordre}")
        con.execute(
            f"copy (select {', '.join(table.noms_colonnes)} from _sortie_{table.nom} {ordre}) "
            f"to {_litteral(str(chemin))} (format csv, header true, delimiter ',')"
        )
        preparee.origines_lignes = [
            (int(a), int(n)) for a, n in con.execute(
                f"select __alimentation, __ligne_source from _sortie_{table.nom} {ordre}"
            ).fetchall()
        ]
        total = sum(sources[a.nom_source].lignes for a in alimentations)
        preparee.ecartees = total - preparee.lignes
        preparees[table.nom] = preparee
    return preparees, problemes

