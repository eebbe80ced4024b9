"""The benchmark grown the other way: one ever larger delivery, and files made to break.

- One project's delivery of 10 000 to 3 000 000 account rows, read and validated as
  `capitalisation run` does: the time per row must stay flat as one delivery grows.
- Pathological files (a cell of 1 MiB, a row of 100 fields): each must be answered
  (refused, with its rule) within 10 seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from capitalisation import formats
from capitalisation.bench.generateur import MOIS_COMPTE, generer

TAILLES_LIVRAISON = (10_000, 100_000, 1_000_000, 3_000_000)  # account rows in one delivery
CIBLE_PLATITUDE = 1.25  # time per row at most 1.25 × the best of the smaller sizes
CIBLE_SECONDES_PATHOLOGIQUE = 10.0
TAILLE_CELLULE = 1 << 20
CHAMPS_LIGNE = 100


def _preparer(dossier: Path, menages: int):
    from capitalisation.bench import _copier_projet_dbt

    shutil.rmtree(dossier, ignore_errors=True)
    dossier.mkdir(parents=True)
    jeu = generer(dossier / "exports", menages, projets=1)
    _copier_projet_dbt(dossier / "dbt", jeu)
    (livraison,) = [p for p in (dossier / "exports").glob("*/*") if p.is_dir()]
    return jeu, livraison


def mesurer_livraison_seule(lignes: int, dossier: Path):
    """Read + validate one delivery of about `lignes` account rows (60 months a household)."""
    from capitalisation.bench import _etape

    _preparer(dossier, max(1, lignes // MOIS_COMPTE))
    mesure = _etape("livraison_seule", dossier)
    shutil.rmtree(dossier / "exports", ignore_errors=True)
    return mesure


def _cellule_geante(livraison: Path) -> None:
    chemin = livraison / "menages.csv"
    lignes = chemin.read_text(encoding="utf-8").splitlines()
    separateur = ";" if lignes[0].count(";") else ","
    champs = lignes[1].split(separateur)
    champs[0] = "x" * TAILLE_CELLULE
    lignes[1] = separateur.join(champs)
    chemin.write_text("\n".join(lignes) + "\n", encoding="utf-8")


def _ligne_de_cent_champs(livraison: Path) -> None:
    chemin = livraison / "comptes_mensuels.csv"
    lignes = chemin.read_text(encoding="utf-8").splitlines()
    separateur = ";" if lignes[0].count(";") else ","
    en_plus = CHAMPS_LIGNE - len(lignes[2].split(separateur))
    lignes[2] += (separateur + "x") * en_plus
    chemin.write_text("\n".join(lignes) + "\n", encoding="utf-8")


PATHOLOGIQUES = {
    "cellule_1_mio": ("une cellule de 1 Mio (menages.csv)", _cellule_geante),
    "ligne_100_champs": ("une ligne de 100 champs (comptes_mensuels.csv)", _ligne_de_cent_champs),
}


def mesurer_pathologiques(dossier: Path, menages: int = 2000) -> dict:
    """nom → Mesure of reading + validating each pathological delivery."""
    from capitalisation.bench import _etape

    mesures = {}
    for nom, (_, abimer) in PATHOLOGIQUES.items():
        cas = dossier / nom
        _, livraison = _preparer(cas, menages)
        abimer(livraison)
        mesures[nom] = _etape("pathologique", cas)
        shutil.rmtree(cas / "exports", ignore_errors=True)
    return mesures


def resumer_livraisons(mesures: list) -> dict:
    """Time per row (CPU and wall) by size, and whether it stays flat."""
    lignes = []
    for mesure in mesures:
        n = (mesure.details or {}).get("lignes") or 0
        lignes.append({
            "lignes": n,
            "comptes_mensuels": (mesure.details or {}).get("comptes_mensuels"),
            "secondes": mesure.secondes,
            "cpu": mesure.cpu,
            "memoire_octets": mesure.memoire_octets,
            "us_par_ligne": 1e6 * mesure.secondes / n if n else None,
            "us_cpu_par_ligne": 1e6 * mesure.cpu / n if n and mesure.cpu is not None else None,
            "erreur": mesure.erreur,
        })
    pire = None
    for i, ligne in enumerate(lignes[1:], start=1):
        precedents = [p["us_cpu_par_ligne"] for p in lignes[:i] if p["us_cpu_par_ligne"]]
        if ligne["us_cpu_par_ligne"] and precedents:
            facteur = ligne["us_cpu_par_ligne"] / min(precedents)
            pire = facteur if pire is None else max(pire, facteur)
    return {"tailles": lignes, "pire_facteur": pire, "plat": pire is None or pire <= CIBLE_PLATITUDE}


def resumer_pathologiques(mesures: dict) -> list[dict]:
    return [
        {
            "cas": nom,
            "libelle": PATHOLOGIQUES[nom][0],
            "secondes": mesure.secondes,
            "cpu": mesure.cpu,
            "statut": (mesure.details or {}).get("statut"),
            "regles": (mesure.details or {}).get("regles", []),
            # judged on CPU seconds when known: on a shared machine, waiting for a core is not
            # the validator's time
            "dans_les_temps": (mesure.cpu if mesure.cpu is not None else mesure.secondes)
            <= CIBLE_SECONDES_PATHOLOGIQUE and not mesure.erreur,
            "erreur": mesure.erreur,
        }
        for nom, mesure in mesures.items()
    ]


def afficher_livraisons(resume: dict, pathologiques: list[dict]) -> None:
    from rich.table import Table

    from capitalisation.terminal import sortie

    tableau = Table(title="Une seule livraison de plus en plus grande (lecture + validation)")
    for titre in ("Lignes", "Durée (s)", "CPU (s)", "µs CPU / ligne", "Mémoire max (Mio)", "Remarque"):
        tableau.add_column(titre, justify="left" if titre == "Remarque" else "right")
    for ligne in resume["tailles"]:
        tableau.add_row(
            formats.nombre(ligne["lignes"]),
            formats.nombre(ligne["secondes"], 1),
            formats.nombre(ligne["cpu"], 1) if ligne["cpu"] is not None else "",
            formats.nombre(ligne["us_cpu_par_ligne"], 2) if ligne["us_cpu_par_ligne"] else "",
            formats.nombre(ligne["memoire_octets"] / 1024**2),
            ligne["erreur"][:60],
        )
    if resume["pire_facteur"] is not None:
        verdict = ("atteinte" if resume["plat"] else
                   f"manquée : × {formats.nombre(resume['pire_facteur'], 2)} au lieu de "
                   f"× {formats.nombre(CIBLE_PLATITUDE, 2)} au plus")
        tableau.add_section()
        tableau.add_row("Temps par ligne", "", "", f"× {formats.nombre(resume['pire_facteur'], 2)}", "",
                        f"cible : plat (≤ × {formats.nombre(CIBLE_PLATITUDE, 2)}) : {verdict}")
    sortie.print(tableau)
    if not pathologiques:
        return
    tableau = Table(title="Fichiers pathologiques (réponse attendue en moins de 10 s de CPU)")
    for titre in ("Fichier", "Durée (s)", "CPU (s)", "Verdict", "Remarque"):
        tableau.add_column(titre, justify="right" if titre in ("Durée (s)", "CPU (s)") else "left")
    for cas in pathologiques:
        if cas["dans_les_temps"]:
            remarque = "cible atteinte"
        else:
            depasse = (cas["cpu"] if cas["cpu"] is not None else cas["secondes"]) - CIBLE_SECONDES_PATHOLOGIQUE
            remarque = cas["erreur"][:60] or f"cible manquée de {formats.nombre(depasse, 1)} s"
        verdict = {"refusee": "refusée", "acceptee": "acceptée"}.get(cas["statut"], "—")
        tableau.add_row(cas["libelle"], formats.nombre(cas["secondes"], 1),
                        formats.nombre(cas["cpu"], 1) if cas["cpu"] is not None else "",
                        f"{verdict} ({', '.join(cas['regles'])})" if cas["regles"] else verdict, remarque)
    sortie.print(tableau)
