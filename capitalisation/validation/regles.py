"""The validation rules: the Great Expectations suites of expectations/ and how each one runs.

Each table of the contract has one suite, `expectations/<table>.json`, a reviewed file in
Great Expectations' own format. Every expectation carries in its `meta`:

- `code`: the rule code cited in reports (`montant_negatif`, `identite_compte`…);
- `libelle`: its French label;
- `severite`: `erreur` (the delivery is refused) or `avertissement` (reported, accepted);
- `execution` (absent = `ge`): where the rule runs:
    - `ge`: Great Expectations, on each chunk of the landing file as a pandas DataFrame
      (row-level rules: every row is judged on its own);
    - `duckdb`: DuckDB SQL over the whole landing file (rules across rows: uniqueness,
      households missing from menages, the rent-account identity month to month…), or the
      personal-data detectors for `donnees_personnelles`;
    - `schema`: the column types of the typed Parquet file (pandas loses DECIMAL vs DOUBLE).

`unexpected_rows_expectation` queries name the file being checked `{batch}` (as Great
Expectations does) and the delivery's other tables `{menages}`, `{comptes_mensuels}`…;
each returns the `ligne_source` of the offending rows. A suite may also name, in its own
`meta.relations`, relations its rules share (`{comptes_par_menage}`: the accounts with
their window over each household's months): the rules of the form
`select ligne_source from {relation} where <condition>` over the same relation are judged
together, in one pass over it (one window computed once for all of them).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import duckdb

from capitalisation import config, contrat
from capitalisation.erreurs import ErreurUtilisateur

DOSSIER_SUITES = config.RACINE / "expectations"
TAILLE_MORCEAU = 500_000
LIGNES_CITEES = 10
ERREUR = "erreur"
AVERTISSEMENT = "avertissement"
SEVERITES = (ERREUR, AVERTISSEMENT)
EXECUTIONS = ("ge", "duckdb", "schema")
_DATE_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ESPACE_RESERVE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Regle:
    """One expectation of a suite, with what the reports need to cite it."""

    table: str
    indice: int  # position in its suite
    type: str
    kwargs: dict = field(hash=False, compare=False)
    code: str = ""
    libelle: str = ""
    severite: str = ERREUR
    execution: str = "ge"
    colonne: str | None = None
    relations: dict = field(default_factory=dict, hash=False, compare=False)  # the suite's

    @property
    def tables_citees(self) -> set[str]:
        """The delivery's tables a SQL rule reads, besides its own (through the suite's
        relations too)."""
        requete = self.kwargs.get("unexpected_rows_query", "")
        noms = set(_ESPACE_RESERVE.findall(requete))
        for relation in noms & set(self.relations):
            noms |= set(_ESPACE_RESERVE.findall(self.relations[relation]))
        return noms - {"batch"} - set(self.relations)


@dataclass
class Resultat:
    """What a rule found over a whole table: failing rows, or a table-level failure."""

    regle: Regle
    lignes: int | None = 0  # None: a table-level rule (no rows to count)
    premieres: list[int] = field(default_factory=list)
    echec: bool = False
    non_evaluee: bool = False

    def ajouter(self, lignes: int | None, premieres: list[int]) -> None:
        self.echec = True
        if lignes is None or self.lignes is None:
            self.lignes = None
        else:
            self.lignes += lignes
        self.premieres = sorted(set(self.premieres) | set(premieres))[:LIGNES_CITEES]


# --------------------------------------------------------------------------- suites


def _colonne(kwargs: dict) -> str | None:
    for cle in ("column", "column_B", "column_A"):
        if cle in kwargs:
            return kwargs[cle]
    return None


class SuiteInvalide(ErreurUtilisateur):
    """A suite that cannot be run as written: refused before any delivery is read."""


# The expectation types each non-GE execution knows; the `ge` rules are compiled to SQL.
TYPES_EXECUTES = {
    "duckdb": {"unexpected_rows_expectation", "expect_column_values_to_not_match_regex_list"},
    "schema": {"expect_table_columns_to_match_set", "expect_column_values_to_be_of_type"},
}


def _verifier_executable(regle: Regle, fichier: str) -> None:
    """Refuse a rule no engine runs: a rule is never skipped."""
    from capitalisation.validation import compilateur

    lieu = f"{fichier}, attente n° {regle.indice + 1} ({regle.type})"
    if regle.execution == "ge":
        try:
            compilateur.compiler(regle, None)
        except compilateur.RegleNonCompilable as erreur:
            raise SuiteInvalide(
                f"{lieu} : règle que le moteur SQL ne sait pas exécuter ({erreur}) ; "
                "la validation ne démarre pas plutôt que de l'ignorer."
            ) from None
    elif regle.type not in TYPES_EXECUTES[regle.execution]:
        raise SuiteInvalide(
            f"{lieu} : type d'attente non pris en charge pour l'exécution « {regle.execution} » ; "
            "la validation ne démarre pas plutôt que de l'ignorer."
        )


def _relations(donnees: dict, fichier: str) -> dict[str, str]:
    """The suite's shared relations (`meta.relations`: name → SQL over `{batch}` and the
    delivery's tables), checked: a name that hides a table, or a relation that reads
    another relation, is refused."""
    relations = (donnees.get("meta") or {}).get("relations") or {}
    if not isinstance(relations, dict):
        raise SuiteInvalide(f"{fichier} : meta.relations doit associer un nom à une requête.")
    for nom, requete in relations.items():
        connus = {"batch", *contrat.TABLES}
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", nom) or nom in connus or not isinstance(requete, str):
            raise SuiteInvalide(f"{fichier} : relation « {nom} » invalide (nom déjà pris ou requête absente).")
        inconnus = set(_ESPACE_RESERVE.findall(requete)) - connus
        if inconnus:
            raise SuiteInvalide(f"{fichier} : la relation « {nom} » cite {', '.join(sorted(inconnus))}, "
                                "ni une table du contrat ni {batch}.")
    return dict(relations)


def _verifier_requete(regle: Regle, fichier: str) -> None:
    """Every name a SQL rule cites is the checked file, a table of the contract or a
    relation of its suite: a misspelt name would otherwise skip the rule."""
    requete = regle.kwargs.get("unexpected_rows_query", "")
    inconnus = set(_ESPACE_RESERVE.findall(requete)) - {"batch", *contrat.TABLES, *regle.relations}
    if inconnus:
        raise SuiteInvalide(
            f"{fichier}, attente n° {regle.indice + 1} : la requête cite {', '.join(sorted(inconnus))}, "
            "ni une table du contrat ni une relation de la suite ; la validation ne démarre pas "
            "plutôt que d'ignorer la règle."
        )


@lru_cache(maxsize=4)
def charger_suites(dossier: Path = DOSSIER_SUITES) -> dict[str, tuple[Regle, ...]]:
    """Every suite, table → its rules, checked for the meta each rule needs."""
    suites: dict[str, tuple[Regle, ...]] = {}
    for table in contrat.TABLES:
        chemin = Path(dossier) / f"{table}.json"
        donnees = json.loads(chemin.read_text(encoding="utf-8"))
        relations = _relations(donnees, chemin.name)
        regles = []
        for indice, attente in enumerate(donnees["expectations"]):
            meta = attente.get("meta", {})
            regle = Regle(
                table=table,
                indice=indice,
                type=attente["type"],
                kwargs=attente.get("kwargs", {}),
                code=meta.get("code", ""),
                libelle=meta.get("libelle", ""),
                severite=meta.get("severite", ""),
                execution=meta.get("execution", "ge"),
                colonne=meta.get("colonne") or _colonne(attente.get("kwargs", {})),
                relations=relations,
            )
            if not regle.code or not regle.libelle or regle.severite not in SEVERITES or (
                regle.execution not in EXECUTIONS
            ):
                raise SuiteInvalide(f"{chemin.name}, attente n° {indice + 1} : meta incomplète.")
            _verifier_executable(regle, chemin.name)
            _verifier_requete(regle, chemin.name)
            regles.append(regle)
        suites[table] = tuple(regles)
    return suites


@lru_cache(maxsize=1)
def catalogue() -> dict[str, list[str]]:
    """The codes of the reference seeds (projects and landlords)."""

    def codes(fichier: str, colonne: str) -> list[str]:
        # the seeds of the dbt project in use (the benchmark points it at a larger catalogue)
        with open(config.DBT_PROJET / "seeds" / fichier, encoding="utf-8", newline="") as flux:
            return sorted({ligne[colonne].strip() for ligne in csv.DictReader(flux)})

    return {
        "projets_catalogue": codes("projets.csv", "projet_id"),
        "bailleurs_catalogue": codes("bailleurs.csv", "bailleur_id"),
    }


# --------------------------------------------------------------------------- Great Expectations


def _valeur_ge(valeur):
    """Date bounds are written AAAA-MM-JJ in the suites; pandas compares Timestamps."""
    import pandas as pd

    if isinstance(valeur, str) and _DATE_ISO.match(valeur):
        return pd.Timestamp(valeur)
    return valeur


class MoteurGE:
    """An ephemeral Great Expectations context, one pandas asset per table (built once)."""

    _instance: MoteurGE | None = None

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("TQDM_DISABLE", "1")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        for nom in ("great_expectations", "great_expectations.core", "great_expectations.validator"):
            logging.getLogger(nom).setLevel(logging.CRITICAL)
        self._gx = gx
        self.contexte = gx.get_context(mode="ephemeral")
        self.contexte.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        source = self.contexte.data_sources.add_pandas("livraison")
        self.definitions = {
            table: source.add_dataframe_asset(table).add_batch_definition_whole_dataframe("morceau")
            for table in contrat.TABLES
        }
        self._suites: dict[tuple[str, tuple[int, ...]], object] = {}

    @classmethod
    def obtenir(cls) -> MoteurGE:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _suite(self, table: str, regles: tuple[Regle, ...]):
        cle = (table, tuple(r.indice for r in regles))
        if cle not in self._suites:
            attentes = []
            for regle in regles:
                kwargs = {k: _valeur_ge(v) for k, v in regle.kwargs.items()}
                attentes.append(
                    {
                        "type": regle.type,
                        "kwargs": kwargs,
                        "meta": {"indice": regle.indice},
                        "severity": "critical" if regle.severite == ERREUR else "warning",
                    }
                )
            self._suites[cle] = self._gx.ExpectationSuite(
                name=f"livraison_{table}_{len(self._suites)}", expectations=attentes
            )
        return self._suites[cle]

    def _executer(self, table, regles, morceau, parametres, format_resultat):
        lot = self.definitions[table].get_batch(batch_parameters={"dataframe": morceau})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lot.validate(
                self._suite(table, regles),
                expectation_parameters=parametres,
                result_format=format_resultat,
            ).results

    def valider_morceau(self, table, regles, morceau, parametres) -> list[tuple[Regle, int | None, list[int], bool]]:
        """(rule, failing rows, first failing row numbers, not evaluable) for each failed rule.

        A first pass asks only for success (fast); the failed rules are run again for their
        counts and row numbers. Values are never read from the results.
        """
        par_indice = {r.indice: r for r in regles}
        premiers = self._executer(table, regles, morceau, parametres, "BOOLEAN_ONLY")
        echouees = tuple(
            par_indice[r.expectation_config.meta["indice"]] for r in premiers if not r.success
        )
        if not echouees:
            return []
        details = self._executer(
            table,
            echouees,
            morceau,
            parametres,
            {
                "result_format": "SUMMARY",
                "unexpected_index_column_names": ["ligne_source"],
                "partial_unexpected_count": LIGNES_CITEES,
                "include_unexpected_rows": False,
            },
        )
        sortie = []
        for resultat in details:
            if resultat.success:
                continue
            regle = par_indice[resultat.expectation_config.meta["indice"]]
            infos = resultat.result or {}
            exception = resultat.exception_info or {}
            leve = bool(exception.get("raised_exception")) or (
                not infos and any(isinstance(v, dict) and v.get("raised_exception") for v in exception.values())
            )
            if leve:
                sortie.append((regle, None, [], True))
                continue
            compte = infos.get("unexpected_count")
            lignes = [
                int(index["ligne_source"])
                for index in infos.get("partial_unexpected_index_list") or []
                if isinstance(index, dict) and "ligne_source" in index
            ]
            sortie.append((regle, None if compte is None else int(compte), lignes, False))
        return sortie


def _selection_pandas(table: contrat.Table) -> str:
    """The landing columns, amounts as DOUBLE (pandas has no exact decimal dtype)."""
    from capitalisation.lecture import schema_sql

    morceaux = []
    for nom, type_sql in schema_sql(table):
        if type_sql.startswith("decimal"):
            morceaux.append(f"cast({nom} as double) as {nom}")
        else:
            morceaux.append(nom)
    return ", ".join(morceaux)


def _cumuler(resultats, moteur, table, regles, morceau, parametres) -> None:
    for regle, compte, lignes, non_evaluee in moteur.valider_morceau(table, regles, morceau, parametres):
        resultat = resultats.setdefault(regle.indice, Resultat(regle))
        resultat.ajouter(compte, lignes)
        resultat.non_evaluee = resultat.non_evaluee or non_evaluee


def regles_ge(
    con: duckdb.DuckDBPyConnection,
    table: contrat.Table,
    parquet: Path,
    regles: tuple[Regle, ...],
    parametres: dict,
    taille_morceau: int = TAILLE_MORCEAU,
) -> dict[int, Resultat]:
    """Run the row-level rules chunk by chunk: never the whole file in pandas at once."""
    a_executer = tuple(r for r in regles if r.execution == "ge")
    resultats: dict[int, Resultat] = {}
    if not a_executer:
        return resultats
    moteur = MoteurGE.obtenir()
    lecteur = con.sql(
        f"select {_selection_pandas(table)} from read_parquet({_litteral(str(parquet))})"
    ).to_arrow_reader(taille_morceau)
    vide = True
    for lot in lecteur:
        if lot.num_rows == 0:
            continue
        vide = False
        _cumuler(resultats, moteur, table.nom, a_executer, lot.to_pandas(date_as_object=False), parametres)
    if vide:  # table-level rules (at least one row…) still apply to an empty table
        morceau = lecteur.schema.empty_table().to_pandas(date_as_object=False)
        _cumuler(resultats, moteur, table.nom, a_executer, morceau, parametres)
    return resultats


def regles_compilees(
    con: duckdb.DuckDBPyConnection,
    parquet: Path,
    regles: tuple[Regle, ...],
    parametres: dict,
) -> dict[int, Resultat]:
    """The same row-level rules as `regles_ge`, compiled to DuckDB SQL, over the whole file."""
    from capitalisation.validation import compilateur

    a_executer = tuple(r for r in regles if r.execution == "ge")
    resultats: dict[int, Resultat] = {}
    source = f"read_parquet({_litteral(str(parquet))})"
    for regle, compte, lignes, non_evaluee in compilateur.executer(con, source, a_executer, parametres):
        resultat = resultats.setdefault(regle.indice, Resultat(regle))
        resultat.ajouter(compte, lignes)
        resultat.non_evaluee = non_evaluee
    return resultats


# --------------------------------------------------------------------------- DuckDB


def _litteral(texte: str) -> str:
    return "'" + texte.replace("'", "''") + "'"


_FUSIONNABLE = re.compile(r"\s*select\s+ligne_source\s+from\s+\{(\w+)\}\s+where\s+(.+?)\s*", re.I | re.S)
# A condition holding one of these words is not a plain condition on the relation's rows:
# its rule runs on its own (always right, one more pass).
_HORS_CONDITION = re.compile(
    r"\b(select|from|union|intersect|except|group|order|limit|offset|having|window|qualify|over)\b|[;{}]", re.I
)


def _fusionnable(regle: Regle) -> tuple[str, str] | None:
    """(relation, condition) when the rule is `select ligne_source from {R} where <condition>`
    over the checked file or a relation of its suite, with a plain condition."""
    correspondance = _FUSIONNABLE.fullmatch(regle.kwargs["unexpected_rows_query"])
    if correspondance is None:
        return None
    relation, condition = correspondance.groups()
    if relation != "batch" and relation not in regle.relations:
        return None
    if _HORS_CONDITION.search(condition) or condition.count("(") != condition.count(")"):
        return None
    return relation, condition


def _substituer(requete: str, sources: dict[str, str], relations: dict[str, str]) -> str:
    """The placeholders of a rule replaced: relations by their query, tables by their file."""
    for nom, sql in relations.items():
        requete = requete.replace("{" + nom + "}", f"({sql})")
    for nom, source in sources.items():
        requete = requete.replace("{" + nom + "}", source)
    return requete


def _une_regle(con, regle: Regle, sources: dict[str, str]) -> tuple[int, list[int]]:
    requete = _substituer(regle.kwargs["unexpected_rows_query"], sources, regle.relations)
    compte, premieres = con.execute(
        f"""
        with lignes as materialized ({requete})
        select
            (select count(*) from lignes),
            (select list(ligne_source) from (
                select ligne_source from lignes order by ligne_source limit {LIGNES_CITEES}))
        """
    ).fetchone()
    return int(compte or 0), [int(n) for n in premieres or []]


def _ensemble(con, relation: str, groupe: list[tuple[Regle, str]], sources: dict[str, str]):
    """The rules over one relation in one pass: per rule, its count and its first lines."""
    relations = groupe[0][0].relations
    source = sources["batch"] if relation == "batch" else f"({_substituer(relations[relation], sources, {})})"
    selection = ", ".join(
        f"coalesce(count_if({condition}), 0), min(ligne_source, {LIGNES_CITEES}) filter (where {condition})"
        for _, condition in groupe
    )
    valeurs = con.execute(f"select {selection} from {source} as lignes").fetchone()
    return [
        (int(valeurs[2 * i] or 0), sorted(int(n) for n in valeurs[2 * i + 1] or []))
        for i in range(len(groupe))
    ]


def regles_sql(
    con: duckdb.DuckDBPyConnection,
    table: str,
    parquets: dict[str, Path],
    regles: tuple[Regle, ...],
) -> dict[int, Resultat]:
    """Run the cross-row rules over the whole landing files of the delivery.

    The rules that are a plain condition on the checked file, or on one relation of the
    suite, are judged together in one pass over it (`_ensemble`); the others run one
    query each. A rule that reads a table the delivery lacks (optional, or unreadable) is
    not run.
    """
    sources = {nom: f"read_parquet({_litteral(str(chemin))})" for nom, chemin in parquets.items()}
    sources["batch"] = sources[table]
    seules: list[Regle] = []
    par_relation: dict[str, list[tuple[Regle, str]]] = {}
    for regle in regles:
        if regle.execution != "duckdb" or regle.type != "unexpected_rows_expectation":
            continue
        if not regle.tables_citees <= set(parquets):
            continue
        fusion = _fusionnable(regle)
        if fusion is None:
            seules.append(regle)
        else:
            par_relation.setdefault(fusion[0], []).append((regle, fusion[1]))
    trouves: dict[int, tuple[int, list[int]]] = {}
    for relation, groupe in par_relation.items():
        try:
            for (regle, _), trouve in zip(groupe, _ensemble(con, relation, groupe, sources)):
                trouves[regle.indice] = trouve
        except duckdb.Error:  # one condition cannot run together: each rule on its own
            seules += [regle for regle, _ in groupe]
    for regle in seules:
        trouves[regle.indice] = _une_regle(con, regle, sources)
    resultats: dict[int, Resultat] = {}
    for regle in regles:
        if regle.indice in trouves and trouves[regle.indice][0]:
            compte, premieres = trouves[regle.indice]
            resultats[regle.indice] = Resultat(regle, compte, premieres, True)
    return resultats


def regles_schema(
    con: duckdb.DuckDBPyConnection, parquet: Path, regles: tuple[Regle, ...]
) -> dict[int, Resultat]:
    """The columns and their types in the typed Parquet file against the declared ones."""
    types = {
        nom: type_.replace(" ", "").upper()
        for nom, type_, *_ in con.execute(
            "describe select * from read_parquet(?)", [str(parquet)]
        ).fetchall()
    }
    resultats = {}
    for regle in regles:
        if regle.execution != "schema":
            continue
        if regle.type == "expect_table_columns_to_match_set":
            attendues = set(regle.kwargs["column_set"])
            conforme = attendues == set(types) if regle.kwargs.get("exact_match") else attendues <= set(types)
        else:
            attendu = str(regle.kwargs.get("type_", "")).replace(" ", "").upper()
            conforme = types.get(regle.kwargs.get("column")) == attendu
        if not conforme:
            resultats[regle.indice] = Resultat(regle, None, [], True)
    return resultats
