"""`capitalisation run`: get the deliveries, build the warehouse, infer, publish.

The steps read top to bottom:

1. take the lock (one run at a time);
2. read each project's newest readable delivery into the landing area (a delivery
   already read, with the same files, is not read again);
3. build the warehouse with dbt into a new file and run the comparisons into it;
4. render the fiches and the site from the new file into a build folder;
5. the gate: the attacker's audit of statistical secrecy (publication/controle_secret.py)
   reads the new warehouse, the new site and the summary; when it finds a disclosure,
   nothing is swapped in and the last good warehouse and site stay;
6. publish: the site, then the warehouse, are swapped in; the summary is printed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from capitalisation import config, formats, lecture, travail
from capitalisation.erreurs import ErreurUtilisateur, noter_changement
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


def _manifeste(landing: Path, livraison: lecture.Livraison) -> Path:
    return landing / "_livraisons" / f"{livraison.projet_id}__{livraison.date_extraction}.json"


def _deja_lue(landing: Path, livraison: lecture.Livraison, hachages: dict[str, str]) -> dict | None:
    chemin = _manifeste(landing, livraison)
    if not chemin.exists():
        return None
    manifeste = json.loads(chemin.read_text(encoding="utf-8"))
    if manifeste.get("empreintes") != hachages:
        return None
    from capitalisation.validation import controle

    if not controle.landing_intact(landing, livraison, manifeste):
        return None  # a landing file damaged since: read the delivery again
    return manifeste


def atterrir(
    livraison: lecture.Livraison,
    landing: Path,
    rapports: Path | None = None,
    quarantaine: Path | None = None,
    racine: Path | None = None,
    part: int = 1,
) -> BilanLivraison:
    """Validate one delivery, then land it whole, or refuse it whole.

    The delivery is read and validated in a temporary folder outside the warehouse: a
    refused delivery leaves nothing in the landing area, only its report (which names
    files, columns and rows, never a value) and its untouched copy in quarantine.
    `part`: how many deliveries are validated at once (see `valider_livraison`).
    """
    from capitalisation.validation import controle, rapport
    from capitalisation.validation import quarantaine as mise_a_l_ecart

    rapports = Path(rapports or config.RAPPORTS_VALIDATION)
    quarantaine = Path(quarantaine or config.QUARANTAINE)
    hors_dossier = controle.controler_chemins(livraison, racine)
    hachages = {} if hors_dossier else controle.empreintes(livraison)
    manifeste = None if hors_dossier else _deja_lue(landing, livraison, hachages)
    if manifeste is not None:
        return BilanLivraison(livraison, "deja_lue", lignes=manifeste["lignes"], empreintes=hachages)
    with tempfile.TemporaryDirectory(prefix="validation-") as tmp:
        provisoire = Path(tmp)
        resultat = controle.valider_livraison(livraison, provisoire, racine, part=part)
        rapport.ecrire_rapport(rapport.dossier_rapport(rapports, resultat), resultat)
        lignes = resultat.lignes_par_table()
        if not resultat.acceptee:
            mise_a_l_ecart.mettre_en_quarantaine(livraison, resultat, quarantaine)
            return BilanLivraison(livraison, "refusee", resultat.raisons(), lignes, hachages)
        deposer(livraison, provisoire, landing, list(resultat.tables))
    chemin = _manifeste(landing, livraison)
    chemin.parent.mkdir(parents=True, exist_ok=True)
    provisoire_manifeste = chemin.with_name(f".{chemin.name}.{os.getpid()}.tmp")
    provisoire_manifeste.write_text(
        json.dumps(
            {
                "projet_id": livraison.projet_id,
                "date_extraction": livraison.date_extraction.isoformat(),
                "empreintes": hachages,
                "lignes": lignes,
                "landing": controle.empreintes_landing(landing, livraison, resultat.tables),
                "lue_le": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    os.replace(provisoire_manifeste, chemin)
    return BilanLivraison(livraison, "lue", lignes=lignes, empreintes=hachages)


def deposer(livraison: lecture.Livraison, provisoire: Path, landing: Path, tables: list[str]) -> None:
    """Move a validated delivery's typed files into the landing area.

    The files are first copied beside their target (the validation folder may be on
    another file system), then each is renamed in place, `menages` last: the warehouse
    takes a project's extraction in use from `menages`, so a run killed half-way never
    leaves a half-landed extraction in use. Tables the new files lack are removed last.
    """
    with tempfile.TemporaryDirectory(prefix=".atterrissage-", dir=landing) as tmp:
        copies = {}
        for nom in tables:
            copie = Path(tmp) / f"{nom}.parquet"
            shutil.copyfile(lecture.chemin_landing(provisoire, nom, livraison), copie)
            copies[nom] = copie
        for nom in sorted(copies, key=lambda t: t == "menages"):
            cible = lecture.chemin_landing(landing, nom, livraison)
            cible.parent.mkdir(parents=True, exist_ok=True)
            os.replace(copies[nom], cible)
    for cible in contrat_tables(landing, livraison):
        if cible.parent.name not in tables:
            cible.unlink(missing_ok=True)


def nettoyer_restes(landing: Path) -> None:
    """Remove what a killed run may have left in the landing area (under the lock)."""
    if not landing.is_dir():
        return
    for reste in landing.glob(".atterrissage-*"):
        shutil.rmtree(reste, ignore_errors=True)
    for reste in landing.glob("atterrissage-*"):
        shutil.rmtree(reste, ignore_errors=True)


def contrat_tables(landing: Path, livraison: lecture.Livraison) -> list[Path]:
    """The landing files of a delivery, whatever tables it had."""
    return [
        lecture.chemin_landing(landing, nom, livraison)
        for nom in lecture.contrat.TABLES
    ]


def lire_livraisons(
    exports: Path,
    landing: Path,
    rapports: Path | None = None,
    quarantaine: Path | None = None,
) -> list[BilanLivraison]:
    """For each project, land its newest valid delivery (older ones are kept on disk).

    Every delivery is validated before it lands; a refused one goes to quarantine and
    the project keeps its last accepted extraction. A folder that is not a delivery
    (badly named, or leading outside the exports folder) is refused on its own: the
    other projects are not affected.
    """
    from capitalisation.validation import commande, rapport

    rapports = Path(rapports or config.RAPPORTS_VALIDATION)
    livraisons, refus = commande.decouvrir(exports)
    if not livraisons and not refus:
        raise ErreurUtilisateur(f"aucune livraison dans {exports} (attendu : <projet>/<AAAA-MM-JJ>/).")
    landing.mkdir(parents=True, exist_ok=True)
    lecture.ecrire_schemas_vides(landing)
    bilans = []
    for resultat in refus:
        rapport.ecrire_rapport(rapport.dossier_rapport(rapports, resultat), resultat)
        bilans.append(BilanLivraison(resultat.refuse, "refusee", resultat.raisons()))
    par_projet: dict[str, list[tuple[lecture.Livraison, Path]]] = {}
    for livraison, racine in livraisons:
        par_projet.setdefault(livraison.projet_id, []).append((livraison, racine))

    def projet(candidates: list[tuple[lecture.Livraison, Path]], part: int) -> list[BilanLivraison]:
        """A project's deliveries, newest first, until one lands (its own worker)."""
        faits, retenue = [], False
        for livraison, racine in sorted(candidates, key=lambda c: c[0].date_extraction, reverse=True):
            if retenue:
                faits.append(BilanLivraison(
                    livraison, "ignoree", ["remplacée par une extraction plus récente, en usage"]
                ))
                continue
            try:
                bilan = atterrir(livraison, landing, rapports, quarantaine, racine, part)
            except ErreurUtilisateur as erreur:
                from capitalisation.validation.donnees_personnelles import masquer

                bilan = BilanLivraison(livraison, "refusee", [masquer(str(erreur))])
            retenue = bilan.statut in ("lue", "deja_lue")
            faits.append(bilan)
        return faits

    # one project per core, as `capitalisation valider` does one delivery per core
    for faits in commande.en_parallele([c for _p, c in sorted(par_projet.items())], projet,
                                       "Validation et lecture des livraisons"):
        bilans += faits
    return bilans


# A delivery's status in the run (BilanLivraison) → in the audit journal.
STATUTS_JOURNAL = {"lue": "acceptee", "deja_lue": "deja_lue", "refusee": "refusee", "ignoree": "remplacee"}


def journaliser(entrepot: Path, bilans: list[BilanLivraison]) -> str:
    """One journal entry per delivery seen by this run; returns the run's identifier."""
    from capitalisation.validation import journal

    execution = journal.nouvelle_execution()
    for bilan in bilans:
        livraison = bilan.livraison
        date = livraison.date_extraction
        journal.enregistrer(
            journal.dossier_journal(entrepot),
            journal.evenement(
                execution,
                STATUTS_JOURNAL[bilan.statut],
                livraison.nom,
                projet_id=livraison.projet_id,
                date_extraction=date,
                fichiers=journal.fichiers_lus(bilan.empreintes, bilan.lignes),
                raisons=bilan.raisons,
            ),
        )
    return execution


STATUTS_AFFICHES = {
    "lue": "[green]acceptée[/green]",
    "deja_lue": "déjà lue",
    "ignoree": "[dim]remplacée[/dim]",
    "refusee": "[red]refusée[/red]",
}


def _lue_le(landing: Path, projet_id: str, date) -> str | None:
    """When the landed copy of an extraction was read (from its manifest), in French."""
    import datetime as dt

    chemin = Path(landing) / "_livraisons" / f"{projet_id}__{date.isoformat()}.json"
    try:
        moment = dt.datetime.fromisoformat(json.loads(chemin.read_text(encoding="utf-8"))["lue_le"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return f"{formats.date_longue(moment.date())} à {moment:%H:%M}"


def _extraction_landee(landing: Path, projet_id: str):
    """The newest extraction of a project in the landing area (the one the warehouse uses)."""
    import datetime as dt

    dates = []
    for parquet in (Path(landing) / "menages").glob(f"{projet_id}__*.parquet"):
        try:
            dates.append(dt.date.fromisoformat(parquet.stem.split("__", 1)[1]))
        except ValueError:
            continue
    return max(dates, default=None)


def extractions_en_usage(bilans: list[BilanLivraison], landing: Path) -> list[str]:
    """For each project whose newest delivery was refused: which extraction the warehouse
    uses instead, and why, in French (the same words the fiche uses)."""
    par_projet: dict[str, list[BilanLivraison]] = {}
    for bilan in bilans:
        if bilan.livraison.projet_id and bilan.livraison.date_extraction:
            par_projet.setdefault(bilan.livraison.projet_id, []).append(bilan)
    phrases = []
    for projet_id, liste in sorted(par_projet.items()):
        refusees = sorted((b.livraison.date_extraction for b in liste if b.statut == "refusee"), reverse=True)
        if not refusees:
            continue
        retenue = next((b.livraison.date_extraction for b in liste if b.statut in ("lue", "deja_lue")), None)
        if retenue is not None and refusees[0] < retenue:
            continue
        en_usage = retenue or _extraction_landee(landing, projet_id)
        refus = f"la livraison du {formats.date_longue(refusees[0])} a été refusée"
        if en_usage is None:
            phrases.append(f"{projet_id} : aucune extraction en usage ({refus}) ; le projet est absent "
                           "de l'entrepôt")
            continue
        precision = ""
        if en_usage == refusees[0]:
            lue_le = _lue_le(landing, projet_id, en_usage)
            precision = " (copie lue" + (f" le {lue_le}" if lue_le else "") + " ; ses fichiers ont changé depuis)"
        phrases.append(f"{projet_id} : extraction du {formats.date_longue(en_usage)} en usage{precision} : "
                       f"{refus}")
    return phrases


def afficher_bilans(bilans: list[BilanLivraison], rapports: Path, landing: Path | None = None) -> None:
    """The deliveries of this run in a French table, the reasons of each refusal, then which
    extraction each project whose newest delivery was refused keeps in use."""
    from rich.table import Table
    from rich.text import Text

    tableau = Table(title="Livraisons")
    for entete in ("Livraison", "Statut", "Lignes lues"):
        tableau.add_column(entete, justify="right" if entete == "Lignes lues" else "left")
    for bilan in sorted(bilans, key=lambda b: b.livraison.nom):
        lignes = sum(bilan.lignes.values()) if bilan.lignes else None
        tableau.add_row(
            Text(bilan.livraison.nom), STATUTS_AFFICHES[bilan.statut], "—" if lignes is None else str(lignes)
        )
    console.print(tableau)
    for bilan in bilans:
        if bilan.statut != "refusee":
            continue
        console.print(f"[red]Livraison refusée[/red] {bilan.livraison.nom} (mise en quarantaine) :")
        for raison in bilan.raisons:
            console.print(f"  {raison}", markup=False, highlight=False)
    if any(b.statut == "refusee" for b in bilans):
        console.print(f"Rapports de validation : {rapports}", markup=False, highlight=False)
    for phrase in extractions_en_usage(bilans, landing) if landing is not None else []:
        console.print(f"[yellow]Extraction en usage[/yellow] {phrase}.", highlight=False)


# --------------------------------------------------------------------------- build


def construire_entrepot(entrepot: Path, landing: Path, variables: dict | None = None,
                        remplacer: bool = True) -> Path:
    """Build into a new file, then swap it in (unless `remplacer` is false: the new file's path
    is returned for the gate); the previous warehouse is untouched on failure.

    dbt builds the marts; the comparisons are computed into the same file; dbt then builds
    the publication layer (statistical secrecy) over both.
    """
    from capitalisation import entrepot as dbt_entrepot

    variables = {**config.variables_dbt(), **(variables or {})}
    nouveau = entrepot.with_name(f".{entrepot.name}.construction")
    for reste in (nouveau, nouveau.with_name(nouveau.name + ".wal")):
        reste.unlink(missing_ok=True)
    try:
        _dbt(nouveau, landing, variables, "Construction de l'entrepôt (dbt)",
             exclusion=dbt_entrepot.PUBLICATION)
        etapes_apres_dbt(nouveau, variables["horizon_mois"])
        # The publication in place: a cell it hid stays hidden. Only a warehouse published through
        # the gate is one (its cells kept beside it, which the gate reads as the previous
        # publication): the choice and the gate then know the same previous publication.
        from capitalisation.publication.controle_secret import chemin_precedente

        precedent = str(entrepot) if chemin_precedente(entrepot).exists() else ""
        _dbt(nouveau, landing, {**variables, "entrepot_precedent": precedent},
             "Couche de publication (secret statistique)", selection=dbt_entrepot.PUBLICATION)
        finaliser(nouveau)
    except BaseException:
        for reste in (nouveau, nouveau.with_name(nouveau.name + ".wal")):
            reste.unlink(missing_ok=True)
        raise
    # Without `remplacer`, the new file goes beside under its own name (a path dbt never
    # opened, so that this process can read it again).
    cible = entrepot if remplacer else entrepot.with_name(f".{entrepot.name}.candidat")
    os.replace(nouveau, cible)
    if remplacer:
        noter_changement("entrepot", f"l'entrepôt {entrepot} a été reconstruit et remplacé par cette exécution")
    return cible


def _dbt(fichier: Path, landing: Path, variables: dict, titre: str, selection=None, exclusion=None):
    from capitalisation import entrepot as dbt_entrepot

    with tempfile.TemporaryDirectory(prefix="dbt-") as travail, progression() as barre:
        tache = barre.add_task(f"{titre} : lecture du projet dbt", total=None)
        resultat = dbt_entrepot.construire(
            fichier, landing, Path(travail), variables=variables, selection=selection,
            exclusion=exclusion, progression=lambda _noeud: barre.advance(tache),
            total=lambda n: barre.update(tache, total=n, description=titre),
        )
    if not resultat.succes:
        raise dbt_entrepot.EchecConstruction(
            "la construction de l'entrepôt a échoué ; l'entrepôt précédent reste en place.\n  "
            + "\n  ".join(resultat.echecs[:20])
        )


def etapes_apres_dbt(entrepot: Path, horizon_mois: int) -> None:
    """Statistics written into the new warehouse before the publication layer is built."""
    import duckdb

    from capitalisation.evaluation.entrepot import evaluer_entrepot

    with progression() as barre:
        tache = barre.add_task("Comparaisons accompagnés / témoins", total=None)
        con = duckdb.connect(str(entrepot))
        try:
            evaluer_entrepot(con, horizon_mois=horizon_mois)
        finally:
            con.close()
        barre.update(tache, total=1, completed=1)


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


# --------------------------------------------------------------------------- run


def executer(
    exports: Path,
    entrepot: Path,
    fiches: bool = True,
    rapports: Path | None = None,
    quarantaine: Path | None = None,
) -> int:
    """Validate and land the deliveries, journal them, build, summarise, publish.

    Returns 1 when a delivery was refused (the warehouse is still built with the others).
    """
    exports, entrepot = Path(exports), Path(entrepot)
    sorties = config.sorties(entrepot)
    rapports = Path(rapports or sorties.rapports)
    quarantaine = Path(quarantaine or sorties.quarantaine)
    with verrou(entrepot):
        landing = dossier_landing(entrepot)
        nettoyer_restes(landing)
        # The deliveries' temporary copies stay beside the warehouse, in a private folder.
        with travail.dossier_prive(entrepot.parent, f".{entrepot.name}.travail"):
            bilans = lire_livraisons(exports, landing, rapports, quarantaine)
        journaliser(entrepot, bilans)
        afficher_bilans(bilans, rapports, landing)
        refusees = [b for b in bilans if b.statut == "refusee"]
        if not any(b.statut in ("lue", "deja_lue") for b in bilans):
            raise ErreurUtilisateur(
                "aucune livraison acceptée : l'entrepôt précédent reste en place "
                f"(rapports de validation dans {rapports})."
            )
        from capitalisation.publication.controle_secret import (
            SecretNonRespecte,
            enregistrer_publication,
        )
        from capitalisation.resume import afficher_resume

        nouveau = construire_entrepot(entrepot, landing, remplacer=False)
        fiches_en_echec = None
        try:
            if fiches:
                try:
                    # the gate runs on the new warehouse and site before the site's swap
                    publier(nouveau, sorties.site)
                except SecretNonRespecte:
                    raise
                except ErreurUtilisateur as erreur:  # some fiches failed, the site is published
                    fiches_en_echec = erreur
            else:
                controler_publication(nouveau)
            os.replace(nouveau, entrepot)
            noter_changement("entrepot", f"l'entrepôt {entrepot} a été reconstruit et remplacé par cette exécution")
        finally:
            nouveau.unlink(missing_ok=True)
        enregistrer_publication(entrepot)
        afficher_resume(entrepot)
        if fiches_en_echec is not None:
            raise fiches_en_echec
    return 1 if refusees else 0


def publier(entrepot: Path, site: Path | None = None) -> None:
    """The fiches and the site (rendered apart, then swapped in: see publication/fiches.py),
    beside the warehouse they come from (`config.sorties`)."""
    from capitalisation.publication.fiches import rendre_fiches

    rendre_fiches(entrepot, site or config.sorties(entrepot).site)


def controler_publication(entrepot: Path) -> None:
    """The gate without a site: the attacker's audit of the new warehouse and its summary."""
    from capitalisation.publication.controle_secret import chemin_precedente, verifier_publication

    verifier_publication(entrepot, precedente=chemin_precedente(entrepot))
