"""`capitalisation run`: get the deliveries, build the warehouse, infer, publish.

The steps read top to bottom:

1. take the lock (one run at a time);
2. read each project's newest readable delivery into the landing area (a delivery
   already read, with the same files, is not read again);
3. build the warehouse with dbt into a new file, run the comparisons into it, and swap
   it in place of the previous one only when everything succeeded;
4. print the summary, then render the fiches.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from capitalisation import config, lecture
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.terminal import console, progression


@dataclass
class BilanLivraison:
    livraison: lecture.Livraison
    statut: str  # 'lue', 'deja_lue', 'refusee', 'ignoree'
    raisons: list[str] = field(default_factory=list)
    lignes: dict[str, int] = field(default_factory=dict)
    empreintes: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- lock


@contextmanager
def verrou(entrepot: Path):
    """Refuse a second run on the same warehouse while one is running."""
    entrepot.parent.mkdir(parents=True, exist_ok=True)
    chemin = entrepot.parent / f".{entrepot.name}.verrou"
    with open(chemin, "w") as flux:
        try:
            fcntl.flock(flux, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ErreurUtilisateur(
                f"une autre exécution construit déjà l'entrepôt {entrepot} : attendez qu'elle "
                "se termine (l'entrepôt en place reste utilisable pendant ce temps)."
            ) from None
        flux.write(str(os.getpid()))
        flux.flush()
        try:
            yield
        finally:
            fcntl.flock(flux, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- landing


def dossier_landing(entrepot: Path) -> Path:
    return entrepot.parent / "landing"


def empreintes(livraison: lecture.Livraison) -> dict[str, str]:
    """SHA-256 of every file of a delivery."""
    resultat = {}
    for fichier in livraison.fichiers():
        h = hashlib.sha256()
        with open(fichier, "rb") as flux:
            while bloc := flux.read(1 << 20):
                h.update(bloc)
        resultat[fichier.name] = h.hexdigest()
    return resultat


def _manifeste(landing: Path, livraison: lecture.Livraison) -> Path:
    return landing / "_livraisons" / f"{livraison.projet_id}__{livraison.date_extraction}.json"


def _deja_lue(landing: Path, livraison: lecture.Livraison, hachages: dict[str, str]) -> dict | None:
    chemin = _manifeste(landing, livraison)
    if not chemin.exists():
        return None
    manifeste = json.loads(chemin.read_text(encoding="utf-8"))
    if manifeste.get("empreintes") != hachages:
        return None
    if not all(lecture.chemin_landing(landing, t, livraison).exists() for t in manifeste["lignes"]):
        return None
    return manifeste


def atterrir(livraison: lecture.Livraison, landing: Path) -> BilanLivraison:
    """Read one delivery into the landing area, all or nothing."""
    hachages = empreintes(livraison)
    manifeste = _deja_lue(landing, livraison, hachages)
    if manifeste is not None:
        return BilanLivraison(livraison, "deja_lue", lignes=manifeste["lignes"], empreintes=hachages)
    with tempfile.TemporaryDirectory(prefix="atterrissage-", dir=landing) as tmp:
        provisoire = Path(tmp)
        lue = lecture.lire_livraison(livraison, provisoire)
        lignes = {t: table.lignes for t, table in lue.tables.items()}
        for table in contrat_tables(landing, livraison):
            table.unlink(missing_ok=True)
        for nom in lue.tables:
            source = lecture.chemin_landing(provisoire, nom, livraison)
            cible = lecture.chemin_landing(landing, nom, livraison)
            cible.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, cible)
    chemin = _manifeste(landing, livraison)
    chemin.parent.mkdir(parents=True, exist_ok=True)
    chemin.write_text(
        json.dumps(
            {
                "projet_id": livraison.projet_id,
                "date_extraction": livraison.date_extraction.isoformat(),
                "empreintes": hachages,
                "lignes": lignes,
                "lue_le": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return BilanLivraison(livraison, "lue", lignes=lignes, empreintes=hachages)


def contrat_tables(landing: Path, livraison: lecture.Livraison) -> list[Path]:
    """The landing files of a delivery, whatever tables it had."""
    return [
        lecture.chemin_landing(landing, nom, livraison)
        for nom in lecture.contrat.TABLES
    ]


def lire_livraisons(exports: Path, landing: Path) -> list[BilanLivraison]:
    """For each project, land its newest readable delivery (older ones are kept on disk)."""
    livraisons = lecture.trouver_livraisons(exports)
    if not livraisons:
        raise ErreurUtilisateur(f"aucune livraison dans {exports} (attendu : <projet>/<AAAA-MM-JJ>/).")
    landing.mkdir(parents=True, exist_ok=True)
    lecture.ecrire_schemas_vides(landing)
    par_projet: dict[str, list[lecture.Livraison]] = {}
    for livraison in livraisons:
        par_projet.setdefault(livraison.projet_id, []).append(livraison)
    bilans = []
    with progression() as barre:
        tache = barre.add_task("Lecture des livraisons", total=len(par_projet))
        for projet, candidates in sorted(par_projet.items()):
            barre.update(tache, description=f"Lecture de {projet}")
            retenue = False
            for livraison in sorted(candidates, key=lambda l: l.date_extraction, reverse=True):
                if retenue:
                    bilans.append(BilanLivraison(livraison, "ignoree", ["remplacée par une extraction plus récente"]))
                    continue
                try:
                    bilan = atterrir(livraison, landing)
                    retenue = True
                except ErreurUtilisateur as erreur:
                    bilan = BilanLivraison(livraison, "refusee", [str(erreur)])
                bilans.append(bilan)
            barre.advance(tache)
    return bilans


# --------------------------------------------------------------------------- build


def construire_entrepot(entrepot: Path, landing: Path, variables: dict | None = None) -> None:
    """Build into a new file, then swap it in; the previous warehouse is untouched on failure."""
    from capitalisation import entrepot as dbt_entrepot

    variables = {"horizon_mois": config.HORIZON_MOIS, **(variables or {})}
    nouveau = entrepot.with_name(f".{entrepot.name}.construction")
    for reste in (nouveau, nouveau.with_name(nouveau.name + ".wal")):
        reste.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="dbt-") as travail, progression() as barre:
        tache = barre.add_task("Construction de l'entrepôt (dbt)", total=None)
        resultat = dbt_entrepot.construire(
            nouveau, landing, Path(travail), variables=variables,
            progression=lambda _noeud: barre.advance(tache),
        )
    if not resultat.succes:
        nouveau.unlink(missing_ok=True)
        raise dbt_entrepot.EchecConstruction(
            "la construction de l'entrepôt a échoué ; l'entrepôt précédent reste en place.\n  "
            + "\n  ".join(resultat.echecs[:20])
        )
    etapes_apres_dbt(nouveau, variables["horizon_mois"])
    finaliser(nouveau)
    os.replace(nouveau, entrepot)


def finaliser(fichier: Path) -> None:
    """Checkpoint the new warehouse so that it is one self-contained file before the swap."""
    import duckdb

    con = duckdb.connect(str(fichier))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    wal = fichier.with_name(fichier.name + ".wal")
    if wal.exists():
        raise ErreurUtilisateur(f"l'entrepôt en construction {fichier} n'a pas pu être finalisé.")


def etapes_apres_dbt(entrepot: Path, horizon_mois: int) -> None:
    """Statistics written back into the new warehouse before it replaces the previous one."""
    try:
        from capitalisation.evaluation.entrepot import evaluer_entrepot
    except ImportError:
        return
    import duckdb

    with progression() as barre:
        tache = barre.add_task("Comparaisons accompagnés / témoins", total=None)
        con = duckdb.connect(str(entrepot))
        try:
            evaluer_entrepot(con, horizon_mois=horizon_mois)
        finally:
            con.close()
        barre.update(tache, total=1, completed=1)


# --------------------------------------------------------------------------- run


def executer(exports: Path, entrepot: Path, fiches: bool = True) -> int:
    exports, entrepot = Path(exports), Path(entrepot)
    with verrou(entrepot):
        landing = dossier_landing(entrepot)
        bilans = lire_livraisons(exports, landing)
        refusees = [b for b in bilans if b.statut == "refusee"]
        for bilan in refusees:
            console.print(f"[red]Livraison refusée[/red] {bilan.livraison.nom} :")
            for raison in bilan.raisons:
                console.print(f"  {raison}", markup=False, highlight=False)
        if not any(b.statut in ("lue", "deja_lue") for b in bilans):
            raise ErreurUtilisateur("aucune livraison lisible : l'entrepôt précédent reste en place.")
        construire_entrepot(entrepot, landing)
        from capitalisation.resume import afficher_resume

        afficher_resume(entrepot)
        if fiches:
            publier(entrepot)
    return 1 if refusees else 0


def publier(entrepot: Path) -> None:
    try:
        from capitalisation.publication.fiches import rendre_fiches
    except ImportError:
        return
    rendre_fiches(entrepot, config.SITE)
