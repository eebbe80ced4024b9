"""`capitalisation preparer`: from a landlord's extract to a delivery, checked before it is written.

1. read and check the mapping against the contract (nothing is read before it is complete);
2. load the extract's files, build the contract's tables in a temporary folder;
3. validate that delivery exactly as `capitalisation valider` does (rules and personal-data
   detectors); any error refuses it, cited by source file, column and rows, never a value;
4. only then write the key file (on first use) and move the delivery into
   `<sortie>/<projet_id>/<date>/` in one rename: on any refusal nothing is left there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from capitalisation import lecture
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.preparation.cle import AVERTISSEMENT, charger_cle, trop_ouverte
from capitalisation.preparation.correspondance import Correspondance, lire_correspondance
from capitalisation.preparation.modele import ecrire_modele
from capitalisation.preparation.sources import Source, charger_source, nom_cite
from capitalisation.preparation.tables import TablePreparee, preparer_tables
from capitalisation.terminal import console, sortie
from capitalisation.validation.controle import Echec, valider_livraison


class PreparationRefusee(ErreurUtilisateur):
    """The extract cannot become a delivery as it stands (or the delivery would be refused)."""

    code_sortie = 5


@dataclass
class Preparation:
    """What was written: the delivery folder, its tables, the warnings of the validation."""

    dossier: Path
    tables: dict[str, TablePreparee]
    avertissements: list[str] = field(default_factory=list)
    cle: Path | None = None
    cle_creee: bool = False
    inutilises: list[str] = field(default_factory=list)  # SOURCE files the mapping does not name


# --------------------------------------------------------------------------- failures


def _lignes(lignes: list[int], total: int | None) -> str:
    texte = ", ".join(str(n) for n in lignes)
    if total is None:
        return f"ligne(s) {texte}"
    return f"{total} ligne(s) ({texte}{', …' if total > len(lignes) else ''})"


def traduire(echec: Echec, tables: dict[str, TablePreparee], corresp: Correspondance) -> str:
    """A failure of the delivery, cited where the landlord can fix it: source file, column, rows."""
    table = echec.table or echec.fichier.removesuffix(".csv")
    regle = f"{echec.libelle} [{echec.code}]"
    preparee = tables.get(table)
    cible = f"{table}.{echec.colonne}" if echec.colonne else table
    if preparee is None or not preparee.origines_lignes:
        return f"{echec.fichier}" + (f", colonne {echec.colonne}" if echec.colonne else "") + f" : {regle}"
    groupes: dict[int, list[int]] = {}
    for ligne in echec.premieres_lignes:
        if 2 <= ligne < len(preparee.origines_lignes) + 2:
            rang, ligne_source = preparee.origines_lignes[ligne - 2]
            groupes.setdefault(rang, []).append(ligne_source)
    if not groupes:  # a rule on the whole table
        sources = sorted({corresp.alimentations[r].nom_source for r, _ in preparee.origines_lignes})
        return f"{', '.join(sources)} (→ {cible}) : {regle}" + (
            f" — {_lignes([], echec.lignes)}" if echec.lignes else ""
        )
    phrases = []
    for rang, lignes in groupes.items():
        alimentation = corresp.alimentations[rang]
        origine = alimentation.colonnes.get(echec.colonne or "")
        ou = alimentation.nom_source + (f", {origine.decrire()}" if origine else "")
        total = echec.lignes if len(groupes) == 1 else None
        phrases.append(f"{ou} (→ {cible}) : {regle} — {_lignes(lignes, total)}")
    return "\n    ".join(phrases)


# --------------------------------------------------------------------------- the command


def _sources(fichiers: list[Path], corresp: Correspondance) -> dict[str, Path]:
    """The SOURCE files by name; every file the mapping names must be given."""
    par_nom: dict[str, Path] = {}
    for fichier in fichiers:
        fichier = Path(fichier)
        if not fichier.is_file():
            raise ErreurUtilisateur(f"le fichier source {fichier} n'existe pas.")
        if fichier.name in par_nom:
            raise ErreurUtilisateur(f"deux fichiers sources s'appellent {fichier.name} : renommez l'un d'eux.")
        par_nom[fichier.name] = fichier
    manquants = sorted({a.source for a in corresp.alimentations} - set(par_nom))
    if manquants:
        raise ErreurUtilisateur(
            "fichier(s) nommé(s) par la correspondance mais absent(s) de la commande : "
            + ", ".join(manquants) + "."
        )
    return par_nom


def _publier(provisoire: Path, cible: Path, remplacer: bool) -> None:
    """Move the checked delivery into place in one rename (the old one, if replaced, after)."""
    cible.parent.mkdir(parents=True, exist_ok=True)
    en_place = cible.parent / f".{cible.name}.preparation-{os.getpid()}"
    shutil.copytree(provisoire, en_place)
    ancienne = cible.parent / f".{cible.name}.ancienne-{os.getpid()}"
    try:
        if cible.exists():
            if not remplacer:
                raise ErreurUtilisateur(f"la livraison {cible} existe déjà (ajoutez --remplacer).")
            os.replace(cible, ancienne)
        os.replace(en_place, cible)
    except BaseException:
        shutil.rmtree(en_place, ignore_errors=True)
        if ancienne.exists() and not cible.exists():
            os.replace(ancienne, cible)
        raise
    shutil.rmtree(ancienne, ignore_errors=True)


def preparer(
    fichiers: list[Path],
    correspondance: Path,
    dossier_sortie: Path,
    cle: Path | None = None,
    remplacer: bool = False,
) -> Preparation:
    """Prepare the delivery of `fichiers` through `correspondance` into `dossier_sortie`."""
    corresp = lire_correspondance(correspondance)
    chemin_cle = Path(cle).expanduser().resolve() if cle else corresp.cle.resolve()
    dossier_sortie = Path(dossier_sortie)
    if chemin_cle.is_relative_to(dossier_sortie.resolve()):
        raise ErreurUtilisateur(
            f"la clé {chemin_cle} ne peut pas être rangée dans le dossier des livraisons "
            f"{dossier_sortie} : elle ne doit jamais être envoyée."
        )
    par_nom = _sources(fichiers, corresp)
    cible = dossier_sortie / corresp.projet_id / corresp.date_extraction.isoformat()
    if cible.exists() and not remplacer:
        raise ErreurUtilisateur(
            f"la livraison {cible} existe déjà : une livraison envoyée n'est jamais modifiée "
            "(ajoutez --remplacer pour la refaire avant envoi)."
        )
    la_cle = charger_cle(chemin_cle)
    with tempfile.TemporaryDirectory(prefix="preparation-") as tmp:
        tmp = Path(tmp)
        racine = tmp / "livraisons"
        provisoire = racine / corresp.projet_id / corresp.date_extraction.isoformat()
        brouillon = tmp / "brouillon"
        brouillon.mkdir()
        con = duckdb.connect()
        con.execute(f"set temp_directory = '{brouillon / 'duckdb'}'")
        con.execute(f"set memory_limit = '{lecture.MEMOIRE_DUCKDB}'")
        con.create_function("pseudonyme", la_cle.pseudonyme, ["VARCHAR"], "VARCHAR")
        try:
            sources: dict[str, Source] = {}
            for alimentation in corresp.alimentations:
                if alimentation.nom_source not in sources:
                    sources[alimentation.nom_source] = charger_source(
                        con, par_nom[alimentation.source], alimentation.feuille,
                        f"_source_{len(sources)}", brouillon,
                    )
            tables, problemes = preparer_tables(con, corresp, sources, la_cle, provisoire)
        finally:
            con.close()
        if problemes:
            raise PreparationRefusee(
                f"préparation refusée, rien n'a été écrit dans {dossier_sortie} :\n"
                + "\n".join(f"  - {p}" for p in problemes)
            )
        livraison = lecture.Livraison(corresp.projet_id, corresp.date_extraction, provisoire)
        travail = tmp / "validation"
        travail.mkdir()
        resultat = valider_livraison(livraison, travail, racine)
        if resultat.erreurs:
            raise PreparationRefusee(
                "préparation refusée : la livraison serait refusée par la validation "
                f"(capitalisation valider), rien n'a été écrit dans {dossier_sortie} :\n"
                + "\n".join(f"  - {traduire(e, tables, corresp)}" for e in resultat.erreurs)
                + "\n(les valeurs en cause ne sont jamais reproduites : reportez-vous aux numéros "
                "de ligne de vos fichiers, l'en-tête étant la ligne 1)"
            )
        creee = la_cle.enregistrer()
        _publier(provisoire, cible, remplacer)
    return Preparation(
        cible, tables, [traduire(e, tables, corresp) for e in resultat.avertissements],
        chemin_cle, creee, sorted(set(par_nom) - {a.source for a in corresp.alimentations}),
    )


def preparer_commande(args) -> int:
    """The command line: `--modele`, or a preparation with its French summary."""
    if args.modele is not None:
        texte = ecrire_modele()
        if args.modele == "-":
            print(texte, end="")
            return 0
        chemin = Path(args.modele)
        if chemin.exists():
            raise ErreurUtilisateur(f"{chemin} existe déjà : choisissez un autre nom de fichier.")
        chemin.write_text(texte, encoding="utf-8")
        sortie.print(f"Modèle de correspondance écrit dans {chemin}.", markup=False)
        return 0
    manquants = [option for option, valeur in (("SOURCE", args.sources),
                                               ("--correspondance", args.correspondance),
                                               ("--sortie", args.sortie)) if not valeur]
    if manquants:
        raise ErreurUtilisateur(
            "à préciser : " + ", ".join(manquants)
            + " (capitalisation preparer SOURCE… --correspondance FICHIER.toml --sortie DOSSIER ; "
            "capitalisation preparer --modele pour le modèle de correspondance)."
        )
    resultat = preparer([Path(s) for s in args.sources], Path(args.correspondance),
                        Path(args.sortie), Path(args.cle) if args.cle else None, args.remplacer)
    for nom, table in resultat.tables.items():
        ecartees = f", {table.ecartees} ligne(s) de la source écartée(s)" if table.ecartees else ""
        sortie.print(f"  {nom}.csv : {table.lignes} ligne(s){ecartees}", markup=False)
    if resultat.inutilises:
        sortie.print("  fichier(s) que la correspondance ne cite pas, non lus : "
                     + ", ".join(resultat.inutilises), markup=False)
    for avertissement in resultat.avertissements:
        sortie.print(f"  avertissement : {avertissement}", markup=False)
    sortie.print(f"Livraison écrite dans {resultat.dossier} ; elle passe la validation.", markup=False)
    if resultat.cle_creee:
        console.print(f"Clé de pseudonymisation créée : {resultat.cle}", markup=False)
        console.print("\n".join(AVERTISSEMENT), markup=False)
    elif resultat.cle is not None and trop_ouverte(resultat.cle):
        console.print(f"Attention : la clé {resultat.cle} est lisible par d'autres utilisateurs "
                      f"(chmod 600 {nom_cite(str(resultat.cle))}).", markup=False)
    return 0
