"""Building the dbt warehouse over the landing tables.

dbt runs in-process (dbtRunner) against a DuckDB file named by the caller. The caller
builds into a new file and swaps it in only when everything succeeded (see pipeline.py).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from capitalisation import config
from capitalisation.erreurs import ErreurUtilisateur

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


# The publication layer, built after the comparisons have been written into the warehouse.
PUBLICATION = "path:models/publication"


class EchecConstruction(ErreurUtilisateur):
    """The dbt build failed (a model, a test or a unit test)."""

    code_sortie = 4


@dataclass
class ResultatConstruction:
    succes: bool
    noeuds: int = 0
    echecs: list[str] = field(default_factory=list)


def cible_dbt(entrepot: Path) -> Path:
    """dbt's target folder for a warehouse: beside it, kept from one build to the next
    (builds of one warehouse never overlap: the run holds its lock)."""
    return Path(entrepot).parent / ".dbt" / "target"


@contextmanager
def _environnement(variables: dict[str, str]):
    anciennes = {cle: os.environ.get(cle) for cle in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for cle, valeur in anciennes.items():
            if valeur is None:
                os.environ.pop(cle, None)
            else:
                os.environ[cle] = valeur


def construire(
    entrepot: Path,
    landing: Path,
    dossier_travail: Path,
    commande: str = "build",
    selection: str | None = None,
    exclusion: str | None = None,
    variables: dict | None = None,
    progression=None,
    total=None,
    tests_unitaires: bool = False,
    cible: str | None = None,
) -> ResultatConstruction:
    """Run `dbt <commande>` into the DuckDB file `entrepot` over `landing`.

    `dossier_travail` receives dbt's logs. The target (dbt's parsed project) persists beside
    the warehouse so that dbt parses only what changed since the last build. dbt's unit
    tests check the models' SQL, not the data: they run in the test suite
    (`tests_unitaires=True`), not in every build. `progression(noeud)` is called as each
    node finishes; `total(n)` when dbt announces how many nodes it will run (once the
    project is parsed). `cible` names another target of profiles.yml (`spark`: see
    capitalisation/spark/).
    """
    from dbt.cli.main import dbtRunner

    dossier_travail.mkdir(parents=True, exist_ok=True)
    arguments = [
        commande,
        "--project-dir", str(config.DBT_PROJET),
        "--profiles-dir", str(config.DBT_PROJET),
        "--target-path", str(cible_dbt(entrepot)),
        "--log-path", str(dossier_travail / "logs"),
        "--quiet",
        "--log-level", "none",  # failures are reported in French by the caller
        "--no-use-colors",
        "--partial-parse",
    ]
    if cible:
        arguments += ["--target", cible]
    if commande == "build" and not tests_unitaires:
        arguments += ["--exclude-resource-type", "unit_test"]
    if selection:
        arguments += ["--select", selection]
    if exclusion:
        arguments += ["--exclude", exclusion]
    if variables:
        import json

        arguments += ["--vars", json.dumps(variables)]

    annonce = {"total": 0}

    def rappel(evenement):
        nombre = getattr(evenement.data, "total", 0) or 0
        if total is not None and nombre and nombre != annonce["total"]:
            annonce["total"] = nombre
            total(int(nombre))
        if progression is None:
            return
        nom = evenement.info.name
        if nom in ("LogModelResult", "LogTestResult", "LogSeedResult", "LogNodeResult"):
            progression(getattr(evenement.data, "node_info", None))

    with _environnement(
        {
            "CAPITALISATION_ENTREPOT": str(entrepot),
            "CAPITALISATION_LANDING": str(landing),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    ):
        runner = dbtRunner(callbacks=[rappel])
        resultat = runner.invoke(arguments)
    echecs = []
    noeuds = 0
    if resultat.result is not None and hasattr(resultat.result, "results"):
        for r in resultat.result.results:
            noeuds += 1
            statut = str(getattr(r, "status", ""))
            if statut.lower() in ("error", "fail", "runtimeerr", "runtime error"):
                message = _resumer(getattr(r, "message", "") or "")
                echecs.append(f"{r.node.name} : {message}")
    if resultat.exception is not None:
        echecs.append(_resumer(str(resultat.exception)))
    if echecs:
        from capitalisation.validation.controle import landing_abime

        abimes = landing_abime(Path(landing))
        if abimes:  # say which files, whatever DuckDB's message said
            echecs.insert(0, "fichiers d'atterrissage endommagés depuis leur dépôt : " + ", ".join(
                str(p.relative_to(landing)) for p in abimes
            ) + " ; gardez leurs livraisons dans le dossier des livraisons et relancez : elles seront relues")
    return ResultatConstruction(resultat.success and not echecs, noeuds, echecs)


_FICHIER_CITE = re.compile(r"""(?:file|fichier)\s+['"]?([^'"\s]+)""", re.IGNORECASE)
# DuckDB's and dbt's English messages, as what the user can do about them.
_CAUSES = (
    (re.compile(r"No space left on device|disk full|ENOSPC", re.I),
     "disque plein : libérez de la place puis relancez (l'entrepôt précédent reste en place)"),
    (re.compile(r"magic bytes|too small to be a Parquet|Corrupt|Invalid Parquet|thrift|TProtocol|Parquet file", re.I),
     "fichier d'atterrissage endommagé{fichier} : gardez la livraison d'origine dans le dossier des "
     "livraisons et relancez, elle sera relue et le fichier reconstruit"),
    (re.compile(r"Out of Memory|could not allocate|memory_limit", re.I),
     "mémoire insuffisante : fermez d'autres programmes ou réduisez le nombre de livraisons lues ensemble"),
    (re.compile(r"Permission denied|Read-only file system", re.I),
     "écriture refusée par le système{fichier} : vérifiez les droits du dossier"),
    (re.compile(r"Could not set lock|Conflicting lock", re.I),
     "l'entrepôt est ouvert par un autre programme : fermez-le puis relancez"),
)


def _resumer(message: str) -> str:
    """A French sentence for a failed node (the technical text kept short, at the end)."""
    message = re.sub(r"\s+", " ", message).strip()
    for motif, phrase in _CAUSES:
        if motif.search(message):
            fichier = _FICHIER_CITE.search(message)
            return phrase.format(fichier=f" ({fichier.group(1)})" if fichier else "")
    if re.search(r"\bfailed\b|\bFail\b|Got \d+ results?", message):
        return "un test de l'entrepôt a échoué (détail technique : " + message[:200] + ")"
    return "erreur de construction (détail technique : " + message[:200] + ")"
