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
    cible: str | None = None,
) -> ResultatConstruction:
    """Run `dbt <commande>` into the DuckDB file `entrepot` over `landing`.

    `dossier_travail` receives dbt's target and logs (one per build, so that builds do
    not share state). `progression(noeud)` is called as each node finishes; `total(n)`
    when dbt announces how many nodes it will run (once the project is parsed). `cible`
    names another target of profiles.yml (`spark`: see capitalisation/spark/).
    """
    from dbt.cli.main import dbtRunner

    dossier_travail.mkdir(parents=True, exist_ok=True)
    arguments = [
        commande,
        "--project-dir", str(config.DBT_PROJET),
        "--profiles-dir", str(config.DBT_PROJET),
        "--target-path", str(dossier_travail / "target"),
        "--log-path", str(dossier_travail / "logs"),
        "--quiet",
        "--no-use-colors",
        "--no-partial-parse",
    ]
    if cible:
        arguments += ["--target", cible]
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
    return ResultatConstruction(resultat.success and not echecs, noeuds, echecs)


def _resumer(message: str) -> str:
    message = re.sub(r"\s+", " ", message).strip()
    return message[:300]
