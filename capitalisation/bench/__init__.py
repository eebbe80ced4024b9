"""`capitalisation bench`: how the pipeline's cost grows, measured stage by stage.

For each size N, deliveries of N households (60 months of accounts each, a few hundred
projects) are generated, then each stage runs in its own process, timed, with its peak
memory (the child's maximum resident set). The floor is DuckDB merely reading the same
files once; times are given as ratios to it so that they hold from one machine to another.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from capitalisation import config, formats
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.terminal import console, progression, sortie

ETAPES = ("plancher", "borne_lecture", "lecture", "validation", "dbt", "comparaisons", "publication", "fiches")
JUSQU_A_L_ENTREPOT = ("lecture", "validation", "dbt")
LIBELLES = {
    "generation": "Génération des livraisons (hors mesure)",
    "analyse_dbt": "Analyse du projet dbt, une fois (hors mesure : `run` la garde d'une fois sur l'autre)",
    "plancher": "Plancher : DuckDB lit les fichiers une fois (médiane de 3)",
    "borne_lecture": "Borne : DuckDB écrit le Parquet typé, sans contrôle (hors total)",
    "lecture": "Lecture et normalisation",
    "validation": "Validation",
    "dbt": "Construction dbt",
    "comparaisons": "Comparaisons",
    "publication": "Couche de publication",
    "fiches": "Fiches (HTML et PDF)",
}
HORS_MESURE = ("generation", "analyse_dbt")
CIBLE_RATIO = 4.0
CIBLE_RATIO_ACCEPTABLE = 6.0  # the step when 4 × is out of reach, with what bounds it said
CIBLE_MEMOIRE = 6 * 1024**3
CIBLE_SECONDES_PAR_FICHE = 1.0


@dataclass
class Mesure:
    etape: str
    secondes: float
    memoire_octets: int
    details: dict = field(default_factory=dict)
    erreur: str = ""
    cpu: float | None = None  # CPU seconds (user + system, every thread): steadier on a shared machine


@dataclass
class Taille:
    menages: int
    projets: int
    octets: int
    mesures: list[Mesure] = field(default_factory=list)

    def mesure(self, etape: str) -> Mesure | None:
        return next((m for m in self.mesures if m.etape == etape), None)


def _copier_projet_dbt(cible: Path, jeu) -> None:
    from capitalisation.bench.generateur import ecrire_catalogue

    shutil.rmtree(cible, ignore_errors=True)
    cible.mkdir(parents=True)
    for nom in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(config.RACINE / nom, cible / nom)
    for dossier in ("models", "macros", "seeds", "analyses", "tests/dbt"):
        shutil.copytree(config.RACINE / dossier, cible / dossier)
    ecrire_catalogue(cible / "seeds", jeu)


def _etape(etape: str, dossier: Path) -> Mesure:
    """One stage in a fresh process (its own peak memory: a new child each time)."""
    script = (
        "import resource, subprocess, sys, json, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run([sys.executable, '-m', 'capitalisation.bench.etapes', sys.argv[1], sys.argv[2]],"
        " capture_output=True, text=True)\n"
        "d = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "m = u.ru_maxrss * 1024\n"
        "print(json.dumps({'code': p.returncode, 'secondes': d, 'memoire': m, 'cpu': u.ru_utime + u.ru_stime,"
        " 'sortie': p.stdout.strip().splitlines()[-1:] , 'erreur': p.stderr.strip().splitlines()[-3:]}))\n"
    )
    resultat = subprocess.run(
        [sys.executable, "-c", script, etape, str(dossier)], capture_output=True, text=True
    )
    donnees = json.loads(resultat.stdout.strip().splitlines()[-1])
    details = {}
    if donnees["code"] == 0 and donnees["sortie"]:
        details = json.loads(donnees["sortie"][0])
    erreur = "" if donnees["code"] == 0 else " ".join(donnees["erreur"])[-300:]
    return Mesure(etape, donnees["secondes"], donnees["memoire"], details, erreur, donnees["cpu"])


REPETITIONS_PLANCHER = 3


def _plancher_median(dossier: Path) -> Mesure:
    """The floor measured three times, the median kept (by CPU seconds): a single reading
    of a cheap stage swings with the machine's load."""
    mesures = sorted((_etape("plancher", dossier) for _ in range(REPETITIONS_PLANCHER)),
                     key=lambda m: (m.cpu if m.cpu is not None else m.secondes))
    mediane = mesures[len(mesures) // 2]
    mediane.details = {**mediane.details, "repetitions": [
        {"secondes": m.secondes, "cpu": m.cpu} for m in mesures]}
    return mediane


def mesurer(menages: int, dossier: Path, etapes=ETAPES) -> Taille:
    from capitalisation.bench.generateur import generer

    shutil.rmtree(dossier, ignore_errors=True)
    dossier.mkdir(parents=True)
    debut = time.perf_counter()
    jeu = generer(dossier / "exports", menages)
    taille = Taille(menages, len(jeu.projets), jeu.octets)
    taille.mesures.append(Mesure("generation", time.perf_counter() - debut, 0))
    _copier_projet_dbt(dossier / "dbt", jeu)
    # dbt parses the project once and keeps it beside the warehouse (partial parsing): the
    # build is timed as every run after the first one sees it
    taille.mesures.append(_etape("analyse_dbt", dossier))
    with progression() as barre:
        tache = barre.add_task(f"{formats.nombre(menages)} ménages", total=len(etapes))
        for etape in etapes:
            barre.update(tache, description=f"{formats.nombre(menages)} ménages : {LIBELLES[etape]}")
            mesure = _plancher_median(dossier) if etape == "plancher" else _etape(etape, dossier)
            taille.mesures.append(mesure)
            barre.advance(tache)
            if mesure.erreur and etape in ("lecture", "dbt"):
                break
    return taille


def resumer(tailles: list[Taille]) -> dict:
    """Ratios to the floor, target checks and the growth from one size to the next."""
    resume = {"tailles": [], "croissance": [], "cibles": {
        "ratio_jusqu_a_l_entrepot": CIBLE_RATIO,
        "memoire_max_octets": CIBLE_MEMOIRE,
        "secondes_par_fiche": CIBLE_SECONDES_PAR_FICHE,
    }}
    for taille in tailles:
        plancher = taille.mesure("plancher")
        base = plancher.secondes if plancher and not plancher.erreur else float("nan")
        base_cpu = plancher.cpu if plancher and not plancher.erreur and plancher.cpu else None
        etapes = []
        for m in taille.mesures:
            etapes.append({**asdict(m), "ratio_plancher": m.secondes / base if base else None,
                           "ratio_plancher_cpu": m.cpu / base_cpu if base_cpu and m.cpu is not None else None})
        jusqu_a = sum(m.secondes for m in taille.mesures if m.etape in JUSQU_A_L_ENTREPOT)
        jusqu_a_cpu = sum(m.cpu or 0.0 for m in taille.mesures if m.etape in JUSQU_A_L_ENTREPOT)
        fiches = taille.mesure("fiches")
        n_fiches = (fiches.details.get("fiches") if fiches and fiches.details else None) or 0
        resume["tailles"].append({
            "menages": taille.menages,
            "projets": taille.projets,
            "octets_livres": taille.octets,
            "etapes": etapes,
            "secondes_jusqu_a_l_entrepot": jusqu_a,
            "ratio_jusqu_a_l_entrepot": jusqu_a / base if base else None,
            "cpu_jusqu_a_l_entrepot": jusqu_a_cpu,
            "ratio_cpu_jusqu_a_l_entrepot": jusqu_a_cpu / base_cpu if base_cpu else None,
            "memoire_max_octets": max((m.memoire_octets for m in taille.mesures), default=0),
            "secondes_par_fiche": fiches.secondes / n_fiches if n_fiches else None,
        })
    for avant, apres in zip(resume["tailles"], resume["tailles"][1:]):
        facteur = apres["menages"] / avant["menages"]
        if avant["secondes_jusqu_a_l_entrepot"] > 0 and facteur > 1:
            exposant = math.log(apres["secondes_jusqu_a_l_entrepot"] / avant["secondes_jusqu_a_l_entrepot"]) / math.log(facteur)
            resume["croissance"].append({
                "de": avant["menages"], "a": apres["menages"], "exposant": exposant,
                "au_plus_lineaire": exposant <= 1.05,
            })
    return resume


def verdict_ratio(ratio: float | None) -> str:
    """Whether the ratio to the floor meets the target, and by how much it misses it."""
    if ratio is None:
        return ""
    if ratio <= CIBLE_RATIO:
        return "atteinte"
    if ratio <= CIBLE_RATIO_ACCEPTABLE:
        palier = f", sous le palier de {formats.nombre(CIBLE_RATIO_ACCEPTABLE)} ×"
    else:
        palier = (f" ; palier de {formats.nombre(CIBLE_RATIO_ACCEPTABLE)} × manqué de "
                  f"{formats.nombre(ratio - CIBLE_RATIO_ACCEPTABLE, 2)} × plancher")
    return (f"manquée de {formats.nombre(ratio - CIBLE_RATIO, 2)} × plancher "
            f"(× {formats.nombre(ratio / CIBLE_RATIO, 2)} la cible{palier})")


def part_du_total(etape: dict, taille: dict) -> float | None:
    """A stage's share of read + validate + build (CPU seconds when known)."""
    if etape["etape"] not in JUSQU_A_L_ENTREPOT:
        return None
    if etape.get("cpu") is not None and taille.get("cpu_jusqu_a_l_entrepot"):
        return etape["cpu"] / taille["cpu_jusqu_a_l_entrepot"]
    if taille["secondes_jusqu_a_l_entrepot"]:
        return etape["secondes"] / taille["secondes_jusqu_a_l_entrepot"]
    return None


def afficher(resume: dict) -> None:
    from rich.table import Table

    for taille in resume["tailles"]:
        tableau = Table(title=(
            f"{formats.nombre(taille['menages'])} ménages, {taille['projets']} projets, "
            f"{formats.nombre(taille['octets_livres'] / 1024**2)} Mio livrés"
        ))
        for titre in ("Étape", "Durée (s)", "× plancher", "CPU (s)", "× plancher CPU", "Mémoire max (Mio)",
                      "Remarque"):
            tableau.add_column(titre, justify="left" if titre in ("Étape", "Remarque") else "right")
        for etape in taille["etapes"]:
            ratio = etape["ratio_plancher"]
            remarque = etape["erreur"][:60] if etape["erreur"] else ""
            part = part_du_total(etape, taille)
            if not remarque and part is not None:
                remarque = f"{formats.nombre(100 * part)} % du total jusqu'à l'entrepôt"
            if not remarque and etape["etape"] == "borne_lecture":
                remarque = "le moins que coûte l'écriture de l'atterrissage"
            if etape["memoire_octets"] > CIBLE_MEMOIRE:
                remarque = f"mémoire au-dessus de 6 Gio de {formats.nombre((etape['memoire_octets'] - CIBLE_MEMOIRE) / 1024**2)} Mio"
            tableau.add_row(
                LIBELLES.get(etape["etape"], etape["etape"]),
                formats.nombre(etape["secondes"], 1),
                formats.nombre(ratio, 2) if ratio is not None and etape["etape"] not in HORS_MESURE else "",
                formats.nombre(etape["cpu"], 1) if etape.get("cpu") is not None else "",
                formats.nombre(etape["ratio_plancher_cpu"], 2)
                if etape.get("ratio_plancher_cpu") and etape["etape"] not in HORS_MESURE else "",
                formats.nombre(etape["memoire_octets"] / 1024**2) if etape["memoire_octets"] else "",
                remarque,
            )
        ratio = taille["ratio_jusqu_a_l_entrepot"]
        ratio_cpu = taille.get("ratio_cpu_jusqu_a_l_entrepot")
        juge = ratio_cpu if ratio_cpu is not None else ratio  # CPU seconds: steadier on a shared machine
        tableau.add_section()
        tableau.add_row(
            "Jusqu'à l'entrepôt (lecture + validation + dbt)",
            formats.nombre(taille["secondes_jusqu_a_l_entrepot"], 1),
            formats.nombre(ratio, 2) if ratio is not None else "",
            formats.nombre(taille.get("cpu_jusqu_a_l_entrepot") or 0, 1),
            formats.nombre(ratio_cpu, 2) if ratio_cpu is not None else "",
            formats.nombre(taille["memoire_max_octets"] / 1024**2),
            f"cible ≤ {formats.nombre(CIBLE_RATIO)} × plancher (CPU) : {verdict_ratio(juge)}",
        )
        if ratio is not None and ratio_cpu is not None:
            tableau.add_row("", "", "", "", "", "",
                            f"en durée : {verdict_ratio(ratio)}")
        if taille["secondes_par_fiche"] is not None:
            par_fiche = taille["secondes_par_fiche"]
            tableau.add_row(
                "Fiches : secondes par fiche", formats.nombre(par_fiche, 2), "", "", "", "",
                "cible ≤ 1 s : " + ("atteinte" if par_fiche <= CIBLE_SECONDES_PAR_FICHE
                                     else f"manquée de {formats.nombre(par_fiche - 1, 2)} s"),
            )
        sortie.print(tableau)
    for croissance in resume["croissance"]:
        sortie.print(
            f"Croissance de {formats.nombre(croissance['de'])} à {formats.nombre(croissance['a'])} "
            f"ménages : temps ∝ N^{formats.nombre(croissance['exposant'], 2)} "
            + ("(au plus linéaire)" if croissance["au_plus_lineaire"] else "(plus que linéaire)")
        )


def bench_commande(args) -> int:
    try:
        tailles_demandees = [int(t.replace("_", "").replace(" ", "")) for t in args.menages.split(",") if t]
    except ValueError:
        raise ErreurUtilisateur(
            f"--menages attend des nombres séparés par des virgules (reçu : {args.menages!r})."
        ) from None
    if not tailles_demandees or min(tailles_demandees) < 100:
        raise ErreurUtilisateur("--menages : au moins 100 ménages par taille.")
    racine = Path(args.sortie)
    tailles = []
    for menages in tailles_demandees:
        console.print(f"Mesure sur {formats.nombre(menages)} ménages…")
        etapes = ("plancher", "borne_lecture", *JUSQU_A_L_ENTREPOT) if getattr(args, "jusqu_a_l_entrepot", False) else ETAPES
        tailles.append(mesurer(menages, racine / f"n{menages}", etapes))
        if not args.garder:
            for reste in ("exports", "landing", "entrepot.duckdb", "site"):
                chemin = racine / f"n{menages}" / reste
                if chemin.is_dir():
                    shutil.rmtree(chemin, ignore_errors=True)
                elif chemin.exists():
                    chemin.unlink()
    resume = resumer(tailles)
    resume["livraison_seule"], resume["pathologiques"] = _mesurer_livraisons(args, racine)
    racine.mkdir(parents=True, exist_ok=True)
    (racine / "bench.json").write_text(json.dumps(resume, indent=2, default=str), encoding="utf-8")
    afficher(resume)
    from capitalisation.bench.livraisons import afficher_livraisons

    afficher_livraisons(resume["livraison_seule"], resume["pathologiques"])
    sortie.print(f"Résultats détaillés : {racine / 'bench.json'}")
    erreurs = [m["erreur"] for t in resume["tailles"] for m in t["etapes"]]
    erreurs += [t["erreur"] for t in resume["livraison_seule"]["tailles"]]
    erreurs += [c["erreur"] for c in resume["pathologiques"]]
    return 0 if not any(erreurs) else 1


def _mesurer_livraisons(args, racine: Path) -> tuple[dict, list[dict]]:
    """One delivery growing from 10 000 to 3 000 000 rows, then the pathological files."""
    from capitalisation.bench import livraisons

    texte = getattr(args, "lignes_livraison", None)
    try:
        tailles = ([int(t.replace("_", "").replace(" ", "")) for t in texte.split(",") if t]
                   if texte is not None else list(livraisons.TAILLES_LIVRAISON))
    except ValueError:
        raise ErreurUtilisateur(
            f"--lignes-livraison attend des nombres séparés par des virgules (reçu : {texte!r})."
        ) from None
    mesures = []
    for lignes in tailles:
        console.print(f"Une livraison de {formats.nombre(lignes)} lignes de compte…")
        mesures.append(livraisons.mesurer_livraison_seule(lignes, racine / f"livraison_{lignes}"))
    console.print("Fichiers pathologiques…")
    pathologiques = livraisons.mesurer_pathologiques(racine / "pathologiques")
    return livraisons.resumer_livraisons(mesures), livraisons.resumer_pathologiques(pathologiques)
