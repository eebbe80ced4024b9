"""Settings: what changes between runs, in one place.

Defaults live here; a `parametres.toml` at the project root (or the file named by the
environment variable CAPITALISATION_PARAMETRES) overrides them. Every key is declared
once, by `_param`, with its type and its allowed range: a value of the wrong type, out of
range, or a key nobody declared is an error, reported in French by `verifier()` (the
command line calls it before any command runs). Importing this module never fails, so
that `capitalisation --help` works even with a broken settings file; until `verifier()`
is called, an invalid value is replaced by its default.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from capitalisation.erreurs import ErreurUtilisateur

RACINE = Path(__file__).resolve().parent.parent


class ErreurParametres(ErreurUtilisateur):
    """The settings file cannot be read, or holds a value outside what is allowed."""

    code_sortie = 2


def _lire(fichier: Path, explicite: bool) -> tuple[dict, list[str]]:
    """The settings file's contents, and what makes it unreadable (in French)."""
    if not fichier.exists():
        return {}, ([f"fichier de paramètres introuvable : {fichier}"] if explicite else [])
    try:
        texte = fichier.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return {}, [f"{fichier} : le fichier de paramètres n'est pas encodé en UTF-8."]
    except OSError as erreur:
        return {}, [f"{fichier} : fichier de paramètres illisible ({erreur.strerror or erreur})."]
    try:
        return tomllib.loads(texte), []
    except tomllib.TOMLDecodeError as erreur:
        position = re.search(r"line (\d+), column (\d+)", str(erreur))
        ou = f", ligne {position.group(1)}, colonne {position.group(2)}" if position else ""
        return {}, [f"{fichier} : syntaxe TOML invalide{ou} (attendu : « clé = valeur » dans une "
                    "section [nom] ; texte entre guillemets, booléens true ou false)."]


_explicite = "CAPITALISATION_PARAMETRES" in os.environ
FICHIER = Path(os.environ.get("CAPITALISATION_PARAMETRES", RACINE / "parametres.toml"))
_PARAMS, _ERREURS = _lire(FICHIER, _explicite)
_DECLARES: dict[str, set[str]] = {}

_TYPES = {bool: "un booléen (true ou false)", int: "un nombre entier", float: "un nombre",
          str: "un texte entre guillemets"}


def _du_bon_type(valeur, type_) -> bool:
    if type_ is bool:
        return isinstance(valeur, bool)
    if type_ is int:
        return isinstance(valeur, int) and not isinstance(valeur, bool)
    if type_ is float:
        return isinstance(valeur, (int, float)) and not isinstance(valeur, bool)
    return isinstance(valeur, type_)


def _bornes(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f"de {minimum} à {maximum}"
    if minimum is not None:
        return f"au moins {minimum}"
    return f"au plus {maximum}"


def _param(section: str, cle: str, defaut, minimum=None, maximum=None, *, pourquoi: str = ""):
    """The value of `[section] cle` in the settings file, checked; `defaut` gives its type."""
    _DECLARES.setdefault(section, set()).add(cle)
    bloc = _PARAMS.get(section, {})
    if not isinstance(bloc, dict) or cle not in bloc:
        return defaut
    valeur, type_ = bloc[cle], type(defaut)
    nom = f"[{section}] {cle} = {_citer(valeur)}"
    if not _du_bon_type(valeur, type_):
        _ERREURS.append(f"{nom} : valeur refusée, attendu {_TYPES[type_]}"
                        + (f" {_bornes(minimum, maximum)}" if minimum is not None or maximum is not None else "")
                        + f" (défaut : {_citer(defaut)}).")
        return defaut
    if type_ is str and not valeur.strip():
        _ERREURS.append(f"{nom} : valeur refusée, un chemin ne peut pas être vide (défaut : {_citer(defaut)}).")
        return defaut
    if (minimum is not None and valeur < minimum) or (maximum is not None and valeur > maximum):
        _ERREURS.append(f"{nom} : valeur hors des bornes permises, {_bornes(minimum, maximum)}"
                        + (f" ({pourquoi})" if pourquoi else "") + f" ; défaut : {_citer(defaut)}.")
        return defaut
    return valeur


def _citer(valeur) -> str:
    if isinstance(valeur, bool):
        return "true" if valeur else "false"
    if isinstance(valeur, str):
        return f'"{valeur[:80]}"'
    if isinstance(valeur, dict):
        return "{…}"
    return str(valeur)[:80]


def _chemin(section: str, cle: str, defaut: str) -> Path:
    return RACINE / _param(section, cle, defaut)


# Where things are. `exports` is where real deliveries are put; the demo has its own folders.
EXPORTS = _chemin("chemins", "exports", "exports")
ENTREPOT = _chemin("chemins", "entrepot", "warehouse/capitalisation.duckdb")
RAPPORTS_VALIDATION = _chemin("chemins", "rapports_validation", "warehouse/validation")
QUARANTAINE = _chemin("chemins", "quarantaine", "quarantaine")
SITE = _chemin("chemins", "site", "reports/_site")
EXPORTS_BENCHMARK = _chemin("chemins", "exports_benchmark", "warehouse/benchmark")
DOSSIER_BENCH = _chemin("chemins", "bench", "warehouse/bench")
# The dbt project (the benchmark points it at a copy with a larger catalogue).
DBT_PROJET = Path(os.environ.get("CAPITALISATION_DBT_PROJET", RACINE))

# The demo deliveries and their own warehouse, apart from any real delivery.
GRAINE_DEMO = _param("demo", "graine", 20200601, 0, 2**32 - 1)
EXPORTS_DEMO = _chemin("demo", "exports", "demo/exports")
ENTREPOT_DEMO = _chemin("demo", "entrepot", "demo/warehouse/capitalisation.duckdb")

# Statistical secrecy (indicators.md, Disclosure): the thresholds are floors.
SEUIL_EFFECTIF = _param("secret", "seuil_effectif", 5, 5,
                        pourquoi="le seuil du secret statistique est un plancher")
SEUIL_DENOMINATEUR = _param("secret", "seuil_denominateur", 10, 10,
                            pourquoi="le seuil du secret statistique est un plancher")

# Cohort comparison (evaluation.md).
HORIZON_MOIS = _param("evaluation", "horizon_mois", 12, 1, 120)
# First month of the debt trajectories, relative to the index month: the comparison engine
# reads the rent-account panel from here to the horizon, and fct_panel_mensuel holds no other.
PREMIER_MOIS_PANEL = -6

# Landlords' benchmark: widen the funnel limits for overdispersion (Spiegelhalter 2005).
BENCHMARK_SURDISPERSION = _param("benchmark", "surdispersion", False)


def erreurs() -> list[str]:
    """Every problem of the settings file, in French (empty when it is valid)."""
    trouvees = list(_ERREURS)
    for section, bloc in _PARAMS.items():
        if section not in _DECLARES:
            trouvees.append(f"section inconnue [{section}] (sections possibles : "
                            + ", ".join(sorted(_DECLARES)) + ").")
            continue
        if not isinstance(bloc, dict):
            trouvees.append(f"{section} doit être une section [{section}], pas une valeur.")
            continue
        for cle in bloc:
            if cle not in _DECLARES[section]:
                trouvees.append(f"clé inconnue [{section}] {cle} (clés possibles : "
                                + ", ".join(sorted(_DECLARES[section])) + ").")
    return trouvees


def verifier() -> None:
    """Raise ErreurParametres naming every invalid key, value and allowed range."""
    trouvees = erreurs()
    if trouvees:
        raise ErreurParametres(f"paramètres invalides dans {FICHIER} :\n  " + "\n  ".join(trouvees))


@dataclass(frozen=True)
class Sorties:
    """Where the outputs of one warehouse go."""

    rapports: Path
    quarantaine: Path
    site: Path
    benchmark: Path


def sorties(entrepot: Path | str) -> Sorties:
    """The output folders of a warehouse: those of the settings for the configured warehouse,
    otherwise folders beside the warehouse file, so that a warehouse and what is published
    from it are never apart (and another warehouse never writes into this checkout)."""
    entrepot = Path(entrepot).absolute()
    if entrepot.resolve() == ENTREPOT.resolve():
        return Sorties(RAPPORTS_VALIDATION, QUARANTAINE, SITE, EXPORTS_BENCHMARK)
    dossier = entrepot.parent
    return Sorties(dossier / "validation", dossier / "quarantaine", dossier / "site", dossier / "benchmark")


def variables_dbt() -> dict:
    """The settings the dbt project reads as vars (dbt_project.yml holds the same defaults)."""
    return {
        "horizon_mois": HORIZON_MOIS,
        "premier_mois_panel": PREMIER_MOIS_PANEL,
        "seuil_effectif": SEUIL_EFFECTIF,
        "seuil_denominateur": SEUIL_DENOMINATEUR,
        "benchmark_surdispersion": BENCHMARK_SURDISPERSION,
    }
