"""Settings: what changes between runs, in one place.

Defaults live here; a `parametres.toml` at the project root (or the file named by the
environment variable CAPITALISATION_PARAMETRES) overrides them.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent

_fichier = Path(os.environ.get("CAPITALISATION_PARAMETRES", RACINE / "parametres.toml"))
_PARAMS: dict = tomllib.loads(_fichier.read_text(encoding="utf-8")) if _fichier.exists() else {}


def _param(section: str, cle: str, defaut):
    return _PARAMS.get(section, {}).get(cle, defaut)


# Where things are.
EXPORTS_DEMO = RACINE / _param("chemins", "exports", "exports")
ENTREPOT = RACINE / _param("chemins", "entrepot", "warehouse/capitalisation.duckdb")
RAPPORTS_VALIDATION = RACINE / _param("chemins", "rapports_validation", "warehouse/validation")
QUARANTAINE = RACINE / _param("chemins", "quarantaine", "quarantaine")
SITE = RACINE / _param("chemins", "site", "reports/_site")
EXPORTS_BENCHMARK = RACINE / _param("chemins", "exports_benchmark", "warehouse/benchmark")
DOSSIER_BENCH = RACINE / _param("chemins", "bench", "warehouse/bench")
# The dbt project (the benchmark points it at a copy with a larger catalogue).
DBT_PROJET = Path(os.environ.get("CAPITALISATION_DBT_PROJET", RACINE))

# The demo deliveries.
GRAINE_DEMO = int(_param("demo", "graine", 20200601))

# Statistical secrecy (indicators.md, Disclosure).
SEUIL_EFFECTIF = int(_param("secret", "seuil_effectif", 5))
SEUIL_DENOMINATEUR = int(_param("secret", "seuil_denominateur", 10))

# Cohort comparison (evaluation.md).
HORIZON_MOIS = int(_param("evaluation", "horizon_mois", 12))

# Landlords' benchmark: widen the funnel limits for overdispersion (Spiegelhalter 2005).
BENCHMARK_SURDISPERSION = bool(_param("benchmark", "surdispersion", False))


def variables_dbt() -> dict:
    """The settings the dbt project reads as vars (dbt_project.yml holds the same defaults)."""
    return {
        "horizon_mois": HORIZON_MOIS,
        "seuil_effectif": SEUIL_EFFECTIF,
        "seuil_denominateur": SEUIL_DENOMINATEUR,
        "benchmark_surdispersion": BENCHMARK_SURDISPERSION,
    }
