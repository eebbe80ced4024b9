"""Demo deliveries of the five source projects, written as landlords' tools write them.

`generer_demo(dossier, graine)` writes `dossier/<projet_id>/<YYYY-MM-DD>/` for each project
in the format of the data contract (each project in its own dialect: encodings,
separators, decimal commas, French dates, one workbook) and returns the truth the files
were drawn from, also written as `dossier/verite_demo.json`. The same seed gives
byte-identical files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from capitalisation import contrat
from capitalisation.demo.ecriture import ecrire_livraison
from capitalisation.demo.generateur import ProjetGenere, indicateurs_descriptifs
from capitalisation.demo.projets import PROJETS

FICHIER_VERITE = "verite_demo.json"

__all__ = ["FICHIER_VERITE", "PROJETS", "generer_demo"]

PUBLIE = {
    "zero_expulsion": {"menages_orientes": 160, "accompagnements": 123, "loyer_a_jour": 0.93,
                       "expulsions_evitees": 28, "periode": "2017-2019"},
    "declic": {"menages_suivis": 67, "en_cours": 13, "adhesion": "2/3",
               "expulsions": "toutes évitées", "relogement_ou_reorientation": "1/3",
               "periode": "juin 2017 - juin 2020"},
    "solide_r": {"menages": 30, "maintien": 20, "acces": 10, "en_dette_entree": 1.0,
                 "dette_reduite": 0.67, "dette_resorbee": 0.27, "visites_effectives": 0.75,
                 "visites_domicile_annee": 700, "periode": "2013"},
    "habitat_reuni": {"menages": 100, "maintien": 50, "acces": 50,
                      "evaluation": "25 accompagnés contre 25 témoins, sur deux ans"},
    "trait_social": {"menages_par_an": 75, "suivi_mois": 6, "resultat": "gain en euros"},
}


def _verite_projet(projet: ProjetGenere) -> dict:
    livraisons = {}
    for date, menages in sorted(projet.livraisons.items()):
        livraisons[date.isoformat()] = {
            "menages": len(menages),
            "remplacee": date != projet.date_extraction,
        }
    verite = {
        "date_extraction": projet.date_extraction.isoformat(),
        "livraisons": livraisons,
        "format": projet.format.resume(),
        "tables": sorted(
            t for t in contrat.TABLES if t != "consommations" or projet.consommations
        ),
        "publie": PUBLIE[projet.projet_id],
        "indicateurs": indicateurs_descriptifs(projet.menages, projet.date_extraction),
    }
    for cle, valeur in projet.verite.items():
        if cle != "effets":
            verite[cle] = valeur
    return verite


def _effectifs(projet: ProjetGenere) -> dict:
    comptes: dict[str, dict[str, int]] = {}
    for cle in ("cohorte", "volet", "bailleur_id", "departement", "motif_fin", "classe"):
        valeurs: dict[str, int] = {}
        for m in projet.menages:
            v = getattr(m, cle) or "vide"
            valeurs[v] = valeurs.get(v, 0) + 1
        comptes[cle] = dict(sorted(valeurs.items()))
    return comptes


def generer_demo(dossier: Path, graine: int = 20200601) -> dict:
    """Write the demo deliveries of the five projects under `dossier` and return the truth."""
    dossier = Path(dossier)
    dossier.mkdir(parents=True, exist_ok=True)
    (dossier / FICHIER_VERITE).unlink(missing_ok=True)
    verite: dict = {"graine": int(graine), "version_contrat": contrat.VERSION, "projets": {},
                    "effets": {}}
    for projet_id, fabrique in PROJETS.items():
        projet = fabrique(int(graine))
        cible = dossier / projet_id
        if cible.exists():
            shutil.rmtree(cible)
        lignes = {}
        for date, menages in sorted(projet.livraisons.items()):
            lignes[date.isoformat()] = ecrire_livraison(
                cible / date.isoformat(), menages, projet.format, date, projet.consommations
            )
        verite["projets"][projet_id] = _verite_projet(projet)
        verite["projets"][projet_id]["effectifs"] = _effectifs(projet)
        for date, compte in lignes.items():
            verite["projets"][projet_id]["livraisons"][date]["lignes"] = compte
        if "effets" in projet.verite:
            verite["effets"][projet_id] = projet.verite["effets"]
    texte = json.dumps(verite, ensure_ascii=False, indent=2)
    (dossier / FICHIER_VERITE).write_text(texte + "\n", encoding="utf-8")
    return json.loads(texte)

