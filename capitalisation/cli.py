"""Command-line tool `capitalisation`: parses arguments and calls one library function.

Every user-facing message is French, argparse's own included. An expected failure (bad
input, a locked warehouse, a missing file, a folder that cannot be written, invalid
settings) raises `ErreurUtilisateur` or an OSError, printed as one clear message with a
non-zero exit and no traceback.
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path

from capitalisation import __version__, config
from capitalisation.erreurs import ErreurUtilisateur, changements

# --------------------------------------------------------------------------- argparse in French

_TRADUCTIONS = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "afficher ce message d'aide et quitter",
    "show program's version number and exit": "afficher la version du programme et quitter",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (choix possibles : %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s attendu) : %(value)r",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "au plus une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut désigner %(matches)s",
    "not allowed with argument %s": "interdit avec l'argument %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "ignored explicit argument %r": "argument explicite ignoré : %r",
    "unexpected option string: %s": "option inattendue : %s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "commande inconnue %(parser_name)r (choix possibles : %(choices)s)",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
}


def _traduire(texte: str) -> str:
    return _TRADUCTIONS.get(texte, texte)


def _traduire_pluriel(singulier: str, pluriel: str, n: int) -> str:
    if singulier == "expected %s argument":
        return "%s valeur attendue" if n == 1 else "%s valeurs attendues"
    return singulier if n == 1 else pluriel


# argparse looks its messages up through these module globals at each call.
argparse._ = _traduire
argparse.ngettext = _traduire_pluriel


class _Formateur(argparse.HelpFormatter):
    """Help laid out for the terminal (at most 100 columns); examples kept as written."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=min(_largeur(), 100))

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(_EXEMPLES):
            return text
        return super()._fill_text(text, width, indent)


def _largeur() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


def _court(chemin: Path) -> str:
    """A default path as the user reads it: relative to the project root when inside it."""
    try:
        return str(Path(chemin).relative_to(config.RACINE))
    except ValueError:
        return str(chemin)


_EXEMPLES = "exemples :"


def _exemples(*lignes: str) -> str:
    """An epilog of examples; a long command goes on several lines (« \\ » at line ends)."""
    sorties = []
    for ligne in lignes:
        morceaux, courant = [], "  "
        for mot in ligne.split(" "):
            if len(courant) + len(mot) + 3 > 78 and courant.strip():
                morceaux.append(courant.rstrip() + " \\")
                courant = "      "
            courant += mot + " "
        morceaux.append(courant.rstrip())
        sorties += morceaux
    return _EXEMPLES + "\n" + "\n".join(sorties)


# --------------------------------------------------------------------------- commands


def _cmd_demo(args: argparse.Namespace) -> int:
    from capitalisation.demo import generer_demo

    verite = generer_demo(Path(args.exports), graine=args.graine)
    print(f"Livraisons de démonstration écrites dans {args.exports} "
          f"({len(verite['projets'])} projets).")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from capitalisation.pipeline import executer

    return executer(
        exports=Path(args.exports),
        entrepot=Path(args.warehouse),
        fiches=not args.sans_fiches,
    )


def _cmd_valider(args: argparse.Namespace) -> int:
    from capitalisation import travail
    from capitalisation.validation import valider_commande

    # The deliveries' temporary copies stay in a private folder beside the reports.
    with travail.dossier_prive(Path(args.rapports)):
        return valider_commande([Path(d) for d in args.dossiers], rapports=Path(args.rapports))


def _cmd_comparer(args: argparse.Namespace) -> int:
    from capitalisation.evaluation.commande import comparer_commande

    return comparer_commande(args)


def _cmd_fiches(args: argparse.Namespace) -> int:
    from capitalisation.publication.fiches import fiches_commande

    if args.sortie is None:
        args.sortie = str(config.sorties(args.warehouse).site)
    return fiches_commande(args)


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from capitalisation.publication.benchmark import benchmark_commande

    if args.sortie is None:
        args.sortie = str(config.sorties(args.warehouse).benchmark)
    return benchmark_commande(args)


def _cmd_bench(args: argparse.Namespace) -> int:
    from capitalisation.bench import bench_commande

    return bench_commande(args)


def _cmd_preparer(args: argparse.Namespace) -> int:
    from capitalisation.preparation import preparer_commande

    return preparer_commande(args)


_BESIDE = "le dossier de l'entrepôt ; {defaut} pour l'entrepôt par défaut"


def construire_parseur() -> argparse.ArgumentParser:
    parseur = argparse.ArgumentParser(
        prog="capitalisation",
        formatter_class=_Formateur,
        description="Évaluation et capitalisation du programme « 10 000 logements HLM "
        "accompagnés » : des exports anonymisés aux fiches projet.",
        epilog=_exemples(
            "capitalisation demo",
            f"capitalisation run --exports {_court(config.EXPORTS_DEMO)} "
            f"--warehouse {_court(config.ENTREPOT_DEMO)}",
            "capitalisation valider exports/zero_expulsion/2020-06-30",
            "capitalisation run",
            "capitalisation COMMANDE --help   (aide d'une commande)",
        ),
    )
    parseur.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                         help="afficher la version du programme et quitter")
    sous = parseur.add_subparsers(dest="commande", metavar="COMMANDE", title="commandes")

    def commande(nom: str, aide: str, *exemples: str) -> argparse.ArgumentParser:
        return sous.add_parser(nom, help=aide, description=aide[0].upper() + aide[1:] + ".",
                               formatter_class=_Formateur, epilog=_exemples(*exemples))

    entrepot = _court(config.ENTREPOT)
    p = commande(
        "demo", "écrit les livraisons de démonstration des cinq projets",
        "capitalisation demo",
        "capitalisation demo --exports /tmp/demo --graine 7",
    )
    p.add_argument("--exports", default=str(config.EXPORTS_DEMO), metavar="DOSSIER",
                   help=f"dossier de démonstration, jamais celui des livraisons réelles "
                        f"(défaut : {_court(config.EXPORTS_DEMO)})")
    p.add_argument("--graine", type=int, default=config.GRAINE_DEMO, metavar="N",
                   help=f"graine du tirage (défaut : {config.GRAINE_DEMO})")
    p.set_defaults(func=_cmd_demo)

    p = commande(
        "run", "lit les livraisons, construit l'entrepôt, publie",
        "capitalisation run",
        f"capitalisation run --exports {_court(config.EXPORTS_DEMO)} "
        f"--warehouse {_court(config.ENTREPOT_DEMO)}",
        "capitalisation run --sans-fiches",
    )
    p.add_argument("--exports", default=str(config.EXPORTS), metavar="DOSSIER",
                   help=f"dossier des livraisons <projet>/<AAAA-MM-JJ>/ (défaut : {_court(config.EXPORTS)})")
    p.add_argument("--warehouse", default=str(config.ENTREPOT), metavar="FICHIER",
                   help=f"fichier DuckDB de l'entrepôt (défaut : {entrepot}) ; rapports, "
                        "quarantaine, site et benchmark vont dans "
                        + _BESIDE.format(defaut="les dossiers de parametres.toml"))
    p.add_argument("--sans-fiches", action="store_true",
                   help="ne rend pas les fiches (défaut : les fiches sont rendues)")
    p.set_defaults(func=_cmd_run)

    p = commande(
        "valider", "valide une ou plusieurs livraisons sans rien charger",
        "capitalisation valider exports/zero_expulsion/2020-06-30",
        "capitalisation valider exports --rapports /tmp/rapports",
    )
    p.add_argument("dossiers", nargs="+", metavar="DOSSIER",
                   help="dossier d'une livraison, d'un projet ou des exports")
    p.add_argument("--rapports", default=str(config.RAPPORTS_VALIDATION), metavar="DOSSIER",
                   help=f"dossier des rapports de validation (défaut : {_court(config.RAPPORTS_VALIDATION)})")
    p.set_defaults(func=_cmd_valider)

    p = commande(
        "preparer", "prépare une livraison à partir des extractions d'un bailleur "
        "(pseudonymisée, vérifiée avant écriture)",
        "capitalisation preparer --modele ma_correspondance.toml",
        "capitalisation preparer locataires.csv comptes.csv --correspondance ma_correspondance.toml "
        "--sortie livraisons",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE",
                   help="fichiers de l'extraction (CSV ou XLSX) nommés par la correspondance")
    p.add_argument("--correspondance", metavar="FICHIER.toml",
                   help="fichier de correspondance (colonnes, codes, projet, date d'extraction)")
    p.add_argument("--sortie", metavar="DOSSIER",
                   help="dossier des livraisons : la livraison y est écrite en <projet_id>/<date>/")
    p.add_argument("--cle", metavar="FICHIER", default=None,
                   help="clé de pseudonymisation (défaut : celle de la correspondance ; créée au "
                   "premier usage, à conserver, jamais à envoyer)")
    p.add_argument("--modele", nargs="?", const="-", default=None, metavar="FICHIER",
                   help="écrit le modèle commenté de correspondance (sur la sortie standard sans FICHIER)")
    p.add_argument("--remplacer", action="store_true",
                   help="refait une livraison déjà préparée (avant son envoi)")
    p.set_defaults(func=_cmd_preparer)

    p = commande(
        "comparer", "compare cohorte accompagnée et groupe témoin",
        "capitalisation comparer cohorte.csv --traitement accompagne --resultat maintien",
        "capitalisation comparer cohorte.parquet --traitement t --resultat y "
        "--covariables age,dette --grappe bailleur --json",
    )
    p.add_argument("fichier", help="table de cohorte (CSV ou Parquet)")
    p.add_argument("--traitement", required=True, metavar="COLONNE",
                   help="colonne du traitement (0/1) ; obligatoire")
    p.add_argument("--resultat", required=True, metavar="COLONNE",
                   help="colonne du résultat ; obligatoire")
    p.add_argument("--covariables", default="", metavar="COLONNES",
                   help="colonnes d'ajustement, séparées par des virgules (défaut : aucune)")
    p.add_argument("--grappe", default=None, metavar="COLONNE",
                   help="colonne de grappe, ex. bailleur (défaut : aucune)")
    p.add_argument("--json", action="store_true",
                   help="sortie JSON sur la sortie standard (défaut : tableau en français)")
    p.set_defaults(func=_cmd_comparer)

    p = commande(
        "fiches", "rend les fiches projet et le site",
        "capitalisation fiches",
        "capitalisation fiches --formats html,pdf --projets declic,solide_r",
        f"capitalisation fiches --warehouse {_court(config.ENTREPOT_DEMO)}",
    )
    p.add_argument("--warehouse", default=str(config.ENTREPOT), metavar="FICHIER",
                   help=f"fichier DuckDB de l'entrepôt (défaut : {entrepot})")
    p.add_argument("--sortie", default=None, metavar="DOSSIER",
                   help="dossier du site rendu (défaut : « site » dans "
                        + _BESIDE.format(defaut=_court(config.SITE)) + ")")
    p.add_argument("--formats", default="html,pdf,docx",
                   help="formats, séparés par des virgules (défaut : html,pdf,docx)")
    p.add_argument("--projets", default="", metavar="PROJETS",
                   help="projets à rendre, séparés par des virgules (défaut : tous)")
    p.add_argument("--forcer", action="store_true",
                   help="rend même les fiches à jour (défaut : seules les fiches changées)")
    p.set_defaults(func=_cmd_fiches)

    p = commande(
        "benchmark", "compare les bailleurs entre eux (entonnoirs)",
        "capitalisation benchmark",
        "capitalisation benchmark --bailleur B01 --sortie /tmp/benchmark",
    )
    p.add_argument("--bailleur", default=None, metavar="CODE",
                   help="code du bailleur qui lit (défaut : vue du programme, bailleurs anonymes)")
    p.add_argument("--warehouse", default=str(config.ENTREPOT), metavar="FICHIER",
                   help=f"fichier DuckDB de l'entrepôt (défaut : {entrepot})")
    p.add_argument("--sortie", default=None, metavar="DOSSIER",
                   help="dossier des exports (défaut : « benchmark » dans "
                        + _BESIDE.format(defaut=_court(config.EXPORTS_BENCHMARK)) + ")")
    p.set_defaults(func=_cmd_benchmark)

    p = commande(
        "bench", "mesure le temps et la mémoire de chaque étape",
        "capitalisation bench --menages 10000",
        "capitalisation bench --menages 10000,100000 --garder",
    )
    p.add_argument("--menages", default="10000,100000,1000000", metavar="TAILLES",
                   help="tailles à mesurer, séparées par des virgules (défaut : 10000,100000,1000000)")
    p.add_argument("--sortie", default=str(config.DOSSIER_BENCH), metavar="DOSSIER",
                   help=f"dossier de travail (défaut : {_court(config.DOSSIER_BENCH)})")
    p.add_argument("--garder", action="store_true",
                   help="garde les livraisons, l'atterrissage et l'entrepôt générés (défaut : effacés)")
    p.add_argument("--jusqu-a-l-entrepot", action="store_true",
                   help="ne mesure que lecture, validation et dbt (sans comparaisons, publication ni fiches)")
    p.add_argument("--lignes-livraison", default=None,
                   help="tailles d'une livraison seule, en lignes de compte (défaut : 10000,100000,1000000,3000000)")
    p.set_defaults(func=_cmd_bench)
    return parseur


# --------------------------------------------------------------------------- failures

_RAISONS_SYSTEME = {
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENOSPC: "disque plein",
    errno.EDQUOT: "quota disque dépassé",
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.EEXIST: "existe déjà",
    errno.ENAMETOOLONG: "nom trop long",
    errno.EIO: "erreur d'entrée-sortie du disque",
}


def message_systeme(erreur: OSError) -> str:
    """An operating-system failure in French, naming the file or folder concerned."""
    raison = _RAISONS_SYSTEME.get(erreur.errno, erreur.strerror or str(erreur) or "erreur du système")
    if erreur.filename is None:
        return f"erreur du système : {raison}."
    return (f"impossible d'écrire ou de lire {erreur.filename} : {raison}. Choisissez un dossier accessible "
            "en écriture (options --warehouse, --sortie, --rapports ou --exports) ; rien d'autre "
            "n'a été modifié.")


def _interruption(commande: str | None) -> str:
    """What an interruption left behind, as it was recorded: never a guess."""
    faits = changements()
    if commande in ("run", "fiches"):
        faits.setdefault("entrepot", "l'entrepôt est inchangé")
        faits.setdefault("site", "les fiches publiées sont inchangées")
    if not faits:
        return "Interrompu."
    return "Interrompu : " + " ; ".join(faits.values()) + "."


def main(argv: list[str] | None = None) -> int:
    parseur = construire_parseur()
    args = parseur.parse_args(argv)
    if not getattr(args, "func", None):
        parseur.print_help()
        return 2
    try:
        config.verifier()
        return int(args.func(args) or 0)
    except ErreurUtilisateur as erreur:
        print(f"Erreur : {erreur}", file=sys.stderr)
        return erreur.code_sortie
    except OSError as erreur:
        print(f"Erreur : {message_systeme(erreur)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(_interruption(args.commande), file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
