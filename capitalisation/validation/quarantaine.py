"""Quarantine: a refused delivery is copied untouched beside its report, and kept.

    <quarantaine>/<projet_id>/<AAAA-MM-JJ>/livraison/   the delivered files, as received
    <quarantaine>/<projet_id>/<AAAA-MM-JJ>/rapport.md|.html|.json

A refused delivery may hold personal data: the quarantine folder is readable by its owner
only. A symlink is copied as a link, never followed. When the same folder is refused again
with other contents, the earlier copy is kept under `livraison-<horodatage>/`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

from capitalisation import lecture
from capitalisation.validation import rapport
from capitalisation.validation.controle import ResultatValidation, empreintes


def _meme_contenu(copie: Path, livraison: lecture.Livraison) -> bool:
    deja = lecture.Livraison(livraison.projet_id, livraison.date_extraction, copie)
    try:
        return empreintes(deja) == empreintes(livraison)
    except OSError:
        return False


def mettre_en_quarantaine(
    livraison: lecture.Livraison, resultat: ResultatValidation, quarantaine: Path
) -> Path:
    """Copy the delivery and its report into quarantine; return the copy's folder."""
    quarantaine = Path(quarantaine)
    quarantaine.mkdir(parents=True, exist_ok=True)
    os.chmod(quarantaine, 0o700)
    dossier = quarantaine / livraison.projet_id / livraison.date_extraction.isoformat()
    dossier.mkdir(parents=True, exist_ok=True)
    cible = dossier / "livraison"
    if cible.exists() and not _meme_contenu(cible, livraison):
        horodatage = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        os.replace(cible, dossier / f"livraison-{horodatage}")
    if not cible.exists():
        with tempfile.TemporaryDirectory(prefix=".copie-", dir=dossier) as tmp:
            copie = Path(tmp) / "livraison"
            shutil.copytree(livraison.dossier, copie, symlinks=True)
            os.replace(copie, cible)
    rapport.ecrire_rapport(dossier, resultat)
    return cible
