"""`capitalisation valider DIR…`: find the deliveries, validate each, write the reports.

DIR is a delivery folder (`exports/<projet>/<AAAA-MM-JJ>`), a project folder, or an
exports folder holding many. A folder that is not a delivery (badly named, or leading
outside the exports folder through a symlink or `..`) is refused on its own: the other
deliveries are still validated.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from capitalisation import lecture
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.terminal import progression, sortie
from capitalisation.validation import donnees_personnelles as dp
from capitalisation.validation import rapport
from capitalisation.validation.controle import (
    ERREUR,
    REGLES_LIVRAISON,
    Echec,
    ResultatValidation,
    hors_du_dossier,
    valider_livraison,
)


@dataclass(frozen=True)
class DossierRefuse(lecture.Livraison):
    """A folder found among the deliveries that is not one (its name, or where it leads)."""

    motif: str = ""

    @property
    def nom(self) -> str:  # the folder as cited, relative to the exports folder
        nom = _cite(self.dossier.name)
        return nom if self.projet_id is None else f"{self.projet_id}/{nom}"


def _cite(nom: str) -> str:
    return "«nom masqué»" if dp.contient_donnees_personnelles(nom) else nom


def _refus(
    projet: str | None, dossier: Path, code: str, precision: str, nom: str | None = None
) -> ResultatValidation:
    projet = None if projet is None else _cite(projet)
    refuse = DossierRefuse(projet, None, dossier, motif=code)
    if nom is None:
        nom = _cite(dossier.name) if projet is None else f"{projet}/{_cite(dossier.name)}"
    else:
        nom = _cite(nom)
    resultat = ResultatValidation(nom)
    resultat.echecs.append(
        Echec(nom, None, code, f"{REGLES_LIVRAISON[code]} : {precision}", ERREUR)
    )
    resultat.refuse = refuse  # type: ignore[attr-defined]
    return resultat


def _date(nom: str):
    import datetime as dt

    if not lecture.MOTIF_DATE.match(nom):
        return None
    try:
        return dt.date.fromisoformat(nom)
    except ValueError:
        return None


def decouvrir(dossier: Path) -> tuple[list[tuple[lecture.Livraison, Path]], list[ResultatValidation]]:
    """(deliveries with the folder they were found in, folders refused) under `dossier`."""
    from capitalisation.validation import regles

    regles.charger_suites()  # a suite no engine can run is refused before anything is read
    dossier = Path(dossier)
    if ".." in dossier.parts:
        return [], [_refus(None, dossier, "chemin", "un chemin contenant « .. » est refusé", str(dossier))]
    if not dossier.is_dir():
        raise ErreurUtilisateur(f"le dossier {dossier} n'existe pas.")
    date = _date(dossier.name)
    if date is not None and lecture.MOTIF_PROJET.match(dossier.parent.name):
        racine = dossier.parent.parent
        if hors_du_dossier(dossier, racine):
            return [], [_refus(dossier.parent.name, dossier, "chemin", "lien symbolique vers l'extérieur")]
        return [(lecture.Livraison(dossier.parent.name, date, dossier), racine)], []
    sous_dossiers = [d for d in dossier.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))]
    if sous_dossiers and lecture.MOTIF_PROJET.match(dossier.name) and all(
        lecture.MOTIF_DATE.match(d.name) for d in sous_dossiers
    ):
        return _livraisons_projet(dossier, dossier.parent)
    livraisons, refus = [], []
    for dossier_projet in sorted(dossier.iterdir()):
        if dossier_projet.name.startswith((".", "_")) or not dossier_projet.is_dir():
            continue
        if not lecture.MOTIF_PROJET.match(dossier_projet.name):
            refus.append(_refus(None, dossier_projet, "dossier",
                                "code de projet invalide (lettres minuscules, chiffres et « _ »)"))
            continue
        if hors_du_dossier(dossier_projet, dossier):
            refus.append(_refus(None, dossier_projet, "chemin", "lien symbolique vers l'extérieur"))
            continue
        trouvees, refusees = _livraisons_projet(dossier_projet, dossier)
        livraisons += trouvees
        refus += refusees
    return livraisons, refus


def _livraisons_projet(dossier_projet: Path, racine: Path):
    livraisons, refus = [], []
    for dossier in sorted(dossier_projet.iterdir()):
        if dossier.name.startswith(".") or not dossier.is_dir():
            continue
        date = _date(dossier.name)
        if date is None:
            refus.append(_refus(dossier_projet.name, dossier, "dossier",
                                "le dossier d'une livraison est nommé par la date d'extraction AAAA-MM-JJ"))
        elif hors_du_dossier(dossier, racine):
            refus.append(_refus(dossier_projet.name, dossier, "chemin", "lien symbolique vers l'extérieur"))
        else:
            livraisons.append((lecture.Livraison(dossier_projet.name, date, dossier), racine))
    return livraisons, refus


def afficher(resultats: list[tuple[ResultatValidation, Path | None]], titre: str) -> None:
    """The French summary on the terminal: one row per delivery, then the failed rules."""
    largeur = None if sortie.is_terminal else 200
    sortie.print(rapport.tableau_livraisons(resultats, titre), width=largeur)
    for resultat, _ in resultats:
        if resultat.echecs:
            sortie.print(rapport.tableau_echecs(resultat), width=largeur)
    refusees = sum(1 for r, _ in resultats if not r.acceptee)
    acceptees = len(resultats) - refusees
    sortie.print(
        f"{acceptees} livraison(s) acceptée(s), {refusees} refusée(s).", width=largeur, markup=False
    )


Tache = TypeVar("Tache")
Bilan = TypeVar("Bilan")


def nombre_de_travailleurs(taches: int) -> int:
    """One worker per core, never more workers than tasks."""
    return max(1, min(taches, os.cpu_count() or 1))


def en_parallele(taches: Sequence[Tache], faire: Callable[[Tache, int], Bilan], titre: str) -> list[Bilan]:
    """`faire(tache, part)` for every task, one worker per core; the results in the order
    of the tasks (never in the order they finish).

    Workers are threads: DuckDB works outside Python's lock, so deliveries validated at
    once use every core. `part` is the number of workers: each worker keeps its own DuckDB
    connection, with that share of the memory limit and of the cores (`lecture.connexion`).
    A task that raises cancels the tasks not started yet,
    and its exception is raised again here.
    """
    travailleurs = nombre_de_travailleurs(len(taches))
    with progression() as barre, ThreadPoolExecutor(travailleurs) as groupe:
        avancement = barre.add_task(titre, total=len(taches))
        en_cours = [groupe.submit(faire, tache, travailleurs) for tache in taches]
        try:
            for termine in as_completed(en_cours):
                termine.result()
                barre.advance(avancement)
        except BaseException:
            for futur in en_cours:
                futur.cancel()
            raise
        return [futur.result() for futur in en_cours]


def valider_seule(livraison: lecture.Livraison, racine: Path, part: int = 1) -> ResultatValidation:
    """One delivery in its own working folder, on the worker's DuckDB connection."""
    with tempfile.TemporaryDirectory(prefix="validation-") as travail:
        return valider_livraison(livraison, Path(travail), racine, part=part)


def valider_commande(dossiers: list[Path], rapports: Path) -> int:
    """Validate every delivery under `dossiers`; 0 when all pass (warnings allowed), 1 otherwise."""
    livraisons: list[tuple[lecture.Livraison, Path]] = []
    refus: list[ResultatValidation] = []
    for dossier in dossiers:
        trouvees, refusees = decouvrir(Path(dossier))
        livraisons += trouvees
        refus += refusees
    if not livraisons and not refus:
        raise ErreurUtilisateur(
            "aucune livraison trouvée dans " + ", ".join(str(d) for d in dossiers)
            + " (attendu : <projet>/<AAAA-MM-JJ>/)."
        )
    resultats: list[tuple[ResultatValidation, Path | None]] = []
    for resultat in refus:
        resultats.append((resultat, rapport.ecrire_rapport(rapport.dossier_rapport(rapports, resultat), resultat)))
    validees = en_parallele(livraisons, lambda trouvee, part: valider_seule(*trouvee, part),
                            "Validation des livraisons")
    for resultat in validees:  # reports in the order of the deliveries
        chemin = rapport.ecrire_rapport(rapport.dossier_rapport(rapports, resultat), resultat)
        resultats.append((resultat, chemin))
    afficher(resultats, "Validation des livraisons")
    return 0 if all(r.acceptee for r, _ in resultats) else 1
