"""Command-line tool `capitalisation`: parses arguments and calls one library function.

Every user-facing message is French. An expected failure (bad input, a locked warehouse,
a missing file) raises `ErreurUtilisateur`, printed as one clear message with a non-zero
exit and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from capitalisation import __version__, config
from capitalisation.erreurs import ErreurUtilisateur


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
    from capitalisation.validation import valider_commande

    return valider_commande([Path(d) for d in args.dossiers], rapports=Path(args.rapports))


def _cmd_comparer(args: argparse.Namespace) -> int:
    from capitalisation.evaluation.commande import comparer_commande

    return comparer_commande(args)


def _cmd_fiches(args: argparse.Namespace) -> int:
    from capitalisation.publication.fiches import fiches_commande

    return fiches_commande(args)


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from capitalisation.publication.benchmark import benchmark_commande

    return benchmark_commande(args)


def _cmd_bench(args: argparse.Namespace) -> int:
    from capitalisation.bench import bench_commande

    return bench_commande(args)


def _cmd_preparer(args: argparse.Namespace) -> int:
    from capitalisation.preparation import preparer_commande

    return preparer_commande(args)


def construire_parseur() -> argparse.ArgumentParser:
    parseur = argparse.ArgumentParser(
        prog="capitalisation",
        description="Évaluation et capitalisation du programme « 10 000 logements HLM "
        "accompagnés » : des exports anonymisés aux fiches projet.",
    )
    parseur.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sous = parseur.add_subparsers(dest="commande", metavar="COMMANDE")

    p = sous.add_parser("demo", help="écrit les livraisons de démonstration des cinq projets")
    p.add_argument("--exports", default=str(config.EXPORTS_DEMO), help="dossier de sortie")
    p.add_argument("--graine", type=int, default=config.GRAINE_DEMO, help="graine du tirage")
    p.set_defaults(func=_cmd_demo)

    p = sous.add_parser("run", help="lit les livraisons, construit l'entrepôt, publie")
    p.add_argument("--exports", default=str(config.EXPORTS_DEMO),
                   help="dossier des livraisons (défaut : les livraisons de démonstration)")
    p.add_argument("--warehouse", default=str(config.ENTREPOT),
                   help="fichier DuckDB de l'entrepôt")
    p.add_argument("--sans-fiches", action="store_true", help="ne rend pas les fiches")
    p.set_defaults(func=_cmd_run)

    p = sous.add_parser("valider", help="valide une ou plusieurs livraisons sans rien charger")
    p.add_argument("dossiers", nargs="+", help="dossier d'une livraison ou dossier des exports")
    p.add_argument("--rapports", default=str(config.RAPPORTS_VALIDATION),
                   help="dossier des rapports de validation")
    p.set_defaults(func=_cmd_valider)

    p = sous.add_parser("preparer", help="prépare une livraison à partir des extractions d'un "
                        "bailleur (pseudonymisée, vérifiée avant écriture)")
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

    p = sous.add_parser("comparer", help="compare cohorte accompagnée et groupe témoin")
    p.add_argument("fichier", help="table de cohorte (CSV ou Parquet)")
    p.add_argument("--traitement", required=True, help="colonne du traitement (0/1)")
    p.add_argument("--resultat", required=True, help="colonne du résultat")
    p.add_argument("--covariables", default="", help="colonnes d'ajustement, séparées par des virgules")
    p.add_argument("--grappe", default=None, help="colonne de grappe (ex. bailleur)")
    p.add_argument("--json", action="store_true", help="sortie JSON sur la sortie standard")
    p.set_defaults(func=_cmd_comparer)

    p = sous.add_parser("fiches", help="rend les fiches projet et le site")
    p.add_argument("--warehouse", default=str(config.ENTREPOT), help="fichier DuckDB de l'entrepôt")
    p.add_argument("--sortie", default=str(config.SITE), help="dossier du site rendu")
    p.add_argument("--formats", default="html,pdf,docx", help="formats, séparés par des virgules")
    p.add_argument("--projets", default="", help="projets à rendre (défaut : tous)")
    p.add_argument("--forcer", action="store_true", help="rend même les fiches à jour")
    p.set_defaults(func=_cmd_fiches)

    p = sous.add_parser("benchmark", help="compare les bailleurs entre eux (entonnoirs)")
    p.add_argument("--bailleur", default=None, help="code du bailleur qui lit")
    p.add_argument("--warehouse", default=str(config.ENTREPOT), help="fichier DuckDB de l'entrepôt")
    p.add_argument("--sortie", default=str(config.EXPORTS_BENCHMARK), help="dossier des exports")
    p.set_defaults(func=_cmd_benchmark)

    p = sous.add_parser("bench", help="mesure le temps et la mémoire de chaque étape")
    p.add_argument("--menages", default="10000,100000,1000000",
                   help="tailles à mesurer, séparées par des virgules")
    p.add_argument("--sortie", default=str(config.DOSSIER_BENCH), help="dossier de travail")
    p.add_argument("--garder", action="store_true",
                   help="garde les livraisons, l'atterrissage et l'entrepôt générés")
    p.set_defaults(func=_cmd_bench)
    return parseur


def main(argv: list[str] | None = None) -> int:
    parseur = construire_parseur()
    args = parseur.parse_args(argv)
    if not getattr(args, "func", None):
        parseur.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ErreurUtilisateur as erreur:
        print(f"Erreur : {erreur}", file=sys.stderr)
        return erreur.code_sortie
    except KeyboardInterrupt:
        print("Interrompu : l'entrepôt et les fiches publiées sont inchangés.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
