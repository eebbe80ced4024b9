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
# Written first in a demo folder: the folder holds demo deliveries only.
MARQUE = ".capitalisation-demo"

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


def _fichiers_demo() -> set[str]:
    return {contrat.CLASSEUR} | {f"{t}.csv" for t in contrat.TABLES}


def _dedans(chemin: Path, dossier: Path) -> bool:
    return chemin == dossier or chemin.is_relative_to(dossier)


def demo_precedente(dossier: Path) -> list[Path]:
    """The delivery folders a previous demo wrote under `dossier` (to be replaced).

    Refuses (ErreurUtilisateur) a folder where a real delivery could be, or might be: the
    configured exports folder, one that holds it, or one holding anything the demo did not
    write (a file or folder it does not know, a delivery that is not in its truth file).
    """
    from capitalisation import config
    from capitalisation.erreurs import ErreurUtilisateur

    cible, reel = Path(dossier).resolve(), config.EXPORTS.resolve()
    if _dedans(cible, reel) or _dedans(reel, cible):
        raise ErreurUtilisateur(
            f"{dossier} est (ou contient) le dossier des livraisons réelles {config.EXPORTS} : la "
            f"démonstration n'y écrit jamais. Choisissez un autre dossier (défaut : {config.EXPORTS_DEMO})."
        )
    if not cible.exists():
        return []
    if not cible.is_dir():
        raise ErreurUtilisateur(f"{dossier} existe et n'est pas un dossier : la démonstration n'y écrit pas.")
    entrees = sorted(cible.iterdir())
    if not entrees:
        return []
    try:
        ancienne = json.loads((cible / FICHIER_VERITE).read_text(encoding="utf-8"))
        livraisons = {projet: set(v.get("livraisons", {})) for projet, v in ancienne["projets"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        livraisons = None
    if livraisons is None and (cible / MARQUE).is_file():
        # A first demo interrupted before its truth file: any delivery date of a demo project.
        from capitalisation import lecture

        livraisons = {projet: {d.name for d in (cible / projet).glob("*") if lecture.MOTIF_DATE.match(d.name)}
                      for projet in PROJETS}
    if livraisons is None:
        raise ErreurUtilisateur(
            f"{dossier} n'est pas vide et n'a pas été écrit par « capitalisation demo » (pas de "
            f"{FICHIER_VERITE} lisible) : rien n'a été écrit, pour ne remplacer aucune livraison réelle. "
            "Choisissez un dossier vide ou absent."
        ) from None
    connus, a_remplacer = _fichiers_demo(), []
    etrangers = []
    for entree in entrees:
        if entree.name in (FICHIER_VERITE, MARQUE, f".{FICHIER_VERITE}.provisoire") and entree.is_file():
            continue
        if entree.is_symlink() or not entree.is_dir() or entree.name not in livraisons:
            etrangers.append(entree)
            continue
        for date in sorted(entree.iterdir()):
            if date.is_symlink() or not date.is_dir() or date.name not in livraisons[entree.name]:
                etrangers.append(date)
                continue
            inconnus = [f for f in date.iterdir() if f.is_symlink() or not f.is_file() or f.name not in connus]
            etrangers += inconnus
            if not inconnus:
                a_remplacer.append(date)
    if etrangers:
        noms = ", ".join(str(e.relative_to(cible)) for e in etrangers[:5])
        raise ErreurUtilisateur(
            f"{dossier} contient ce que la démonstration n'a pas écrit ({noms}"
            + (f" et {len(etrangers) - 5} autre(s)" if len(etrangers) > 5 else "")
            + ") : rien n'a été écrit ni effacé, pour ne remplacer aucune livraison réelle. "
            "Choisissez un dossier vide ou absent, ou déplacez ces fichiers."
        )
    return a_remplacer


def generer_demo(dossier: Path, graine: int = 20200601) -> dict:
    """Write the demo deliveries of the five projects under `dossier` and return the truth.

    `dossier` is absent, empty, or holds a previous demo (only what `demo_precedente`
    accepts): a real delivery is never overwritten or deleted.
    """
    dossier = Path(dossier)
    anciennes = demo_precedente(dossier)
    dossier.mkdir(parents=True, exist_ok=True)
    (dossier / MARQUE).write_text("Dossier écrit par « capitalisation demo » : livraisons fictives.\n",
                                  encoding="utf-8")
    for livraison in anciennes:
        shutil.rmtree(livraison)
        if livraison.parent.is_dir() and not any(livraison.parent.iterdir()):
            livraison.parent.rmdir()
    verite: dict = {"graine": int(graine), "version_contrat": contrat.VERSION, "projets": {},
                    "effets": {}}
    for projet_id, fabrique in PROJETS.items():
        projet = fabrique(int(graine))
        cible = dossier / projet_id
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
    # The truth file goes last, in one rename: until then the previous one still names the
    # folders of this demo, so that an interrupted demo can be written again.
    provisoire = dossier / f".{FICHIER_VERITE}.provisoire"
    provisoire.write_text(texte + "\n", encoding="utf-8")
    provisoire.replace(dossier / FICHIER_VERITE)
    return json.loads(texte)

