"""The audit journal of deliveries: every delivery seen by a run, append-only.

One JSON file per delivery and run, in `<warehouse folder>/journal/`, never rewritten:

    {"evenement_id", "execution_id", "horodatage", "projet_id", "date_extraction",
     "dossier", "statut", "fichiers": [{"fichier", "sha256", "lignes"}], "raisons": [...]}

`statut` is `acceptee` (validated and landed by this run), `refusee`, `deja_lue` (the same
files were landed by an earlier run) or `remplacee` (a newer extraction of the project is
in use). `raisons` are French sentences naming files, columns, rules and row numbers,
never a value. The warehouse exposes the journal as `fct_journal_livraisons`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

from capitalisation import contrat

STATUTS = ("acceptee", "refusee", "deja_lue", "remplacee")


def dossier_journal(entrepot: Path) -> Path:
    """Beside the landing folder (the dbt source reads `<landing>/../journal/*.json`)."""
    return Path(entrepot).parent / "journal"


def nouvelle_execution() -> str:
    return uuid.uuid4().hex


def fichiers_lus(empreintes: dict[str, str], lignes: dict[str, int]) -> list[dict]:
    """Files with their SHA-256 and rows read (a workbook: one entry per sheet read)."""
    entrees = []
    for nom, sha in sorted(empreintes.items()):
        if nom.lower() == contrat.CLASSEUR and lignes:
            entrees += [
                {"fichier": f"{nom}:{table}", "sha256": sha, "lignes": int(n)}
                for table, n in sorted(lignes.items())
            ]
            continue
        table = nom.lower().removesuffix(".csv")
        n = lignes.get(table) if nom.lower().endswith(".csv") else None
        entrees.append({"fichier": nom, "sha256": sha, "lignes": None if n is None else int(n)})
    return entrees


def evenement(
    execution_id: str,
    statut: str,
    dossier: str,
    projet_id: str | None = None,
    date_extraction: dt.date | None = None,
    fichiers: list[dict] | None = None,
    raisons: list[str] | None = None,
) -> dict:
    if statut not in STATUTS:
        raise ValueError(statut)
    return {
        "evenement_id": uuid.uuid4().hex,
        "execution_id": execution_id,
        "horodatage": dt.datetime.now().isoformat(timespec="microseconds"),
        "projet_id": projet_id,
        "date_extraction": date_extraction.isoformat() if date_extraction else None,
        "dossier": dossier,
        "statut": statut,
        "fichiers": fichiers or [],
        "raisons": raisons or [],
    }


def enregistrer(dossier: Path, entree: dict) -> Path:
    """Add one entry; an existing file is never opened for writing."""
    dossier = Path(dossier)
    dossier.mkdir(parents=True, exist_ok=True)
    horodatage = entree["horodatage"].replace(":", "").replace("-", "").replace(".", "")
    projet = entree["projet_id"] or "dossier"
    nom = f"{horodatage}__{projet}__{entree['date_extraction'] or 'sans-date'}__{entree['evenement_id'][:12]}"
    provisoire = dossier / f".{nom}.tmp"
    with open(provisoire, "x", encoding="utf-8") as flux:
        json.dump(entree, flux, ensure_ascii=False, indent=2)
        flux.write("\n")
        flux.flush()
        os.fsync(flux.fileno())
    cible = dossier / f"{nom}.json"
    os.link(provisoire, cible)  # fails rather than overwrite
    provisoire.unlink()
    return cible


def lire(dossier: Path) -> list[dict]:
    """Every entry, oldest first."""
    dossier = Path(dossier)
    if not dossier.is_dir():
        return []
    entrees = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(dossier.glob("*.json"))]
    return sorted(entrees, key=lambda e: e["horodatage"])
