"""`capitalisation fiches`: render every fiche projet, and the site that lists them.

The steps, top to bottom:

1. read the project catalogue from the warehouse; for each project, the fingerprint of
   its inputs: its rows in the published tables and seeds, the fiche document, its
   narrative file, the code that writes a fiche, the formats asked for;
2. in a build folder beside the site, copy the fiches whose fingerprint is the one
   recorded in the site's manifest (`_manifeste.json`), and render the others, two at a
   time, each in its own folder (its own figures): with quarto when it is installed,
   otherwise by executing the document's cells and converting with pandoc and Typst
   (`rendu.py`); a fiche that fails does not stop the others;
3. render the site's pages (list of the fiches, programme synthesis, and the landlords'
   benchmark when `reports/benchmark.qmd` exists);
4. the gate: the attacker's audit of statistical secrecy (`controle_secret`) reads the
   warehouse and the new site; when it finds a disclosure, nothing is published;
5. replace the published site by the new one, in one go: a run interrupted before this
   step leaves the published fiches as they were;
6. report: a fiche that failed is named, and the command ends with a non-zero status.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from capitalisation import __version__, config, formats
from capitalisation.erreurs import ErreurUtilisateur, noter_changement
from capitalisation.formats import ESPACE_INSECABLE as NBSP
from capitalisation.publication import controle_secret, rendu, site
from capitalisation.publication.publie import connecter, tables_publiees
from capitalisation.terminal import console, progression

FORMATS_DEFAUT = ("html", "pdf", "docx")
TRAVAILLEURS = 2
VERSION_MANIFESTE = 1
# The code that shapes a fiche: a change in any of these files renders every fiche again.
_RACINE_PAQUET = Path(__file__).resolve().parent.parent
CODE_FICHE = (
    "publication/fiches.py", "publication/rendu.py", "publication/site.py",
    "publication/donnees_fiche.py", "publication/publie.py", "publication/libelles.py",
    "publication/graphiques_fiche.py", "publication/secret.py", "publication/modeles.py", "formats.py",
    "evaluation/graphiques.py", "evaluation/moteur.py", "evaluation/entrepot.py",
)


@dataclass
class Tache:
    """One document to render in its own folder (run in a worker process)."""

    genre: str  # "fiche" or "page"
    cle: str  # projet_id, or the page's HTML file name
    document: str
    formats: list[str]
    params: dict
    avant_corps: str | None
    quarto: bool


@dataclass
class Bilan:
    sortie: Path
    rendues: list[str] = field(default_factory=list)
    a_jour: list[str] = field(default_factory=list)
    echecs: dict[str, str] = field(default_factory=dict)
    pages_echecs: dict[str, str] = field(default_factory=dict)
    duree: float = 0.0

    @property
    def succes(self) -> bool:
        return not self.echecs and not self.pages_echecs


# --------------------------------------------------------------------------- fingerprints


def _sha(*morceaux) -> str:
    h = hashlib.sha256()
    for morceau in morceaux:
        h.update(morceau if isinstance(morceau, bytes) else str(morceau).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def _sha_fichier(chemin: Path) -> str:
    return _sha(chemin.read_bytes()) if chemin.exists() else "absent"


def empreinte_code(sources: Path) -> str:
    """The version of the code and style that write a fiche."""
    fichiers = [_RACINE_PAQUET / f for f in CODE_FICHE]
    fichiers += sorted(Path(sources).glob("*.css")) + sorted(Path(sources).glob("modeles/*"))
    return _sha(__version__, *(f"{f.name}:{_sha_fichier(f)}" for f in fichiers))


# Doubles are compared to this many significant digits: a build may sum in another order
# and change the last digit, which no fiche shows; the fingerprint must not see it either.
CHIFFRES_SIGNIFICATIFS = 10


def canonique(valeur):
    """A cell as the fingerprint sees it: doubles rounded, NaN as one value, recursively."""
    if isinstance(valeur, float):
        return "nan" if valeur != valeur else float(f"{valeur:.{CHIFFRES_SIGNIFICATIFS}g}") + 0.0
    if isinstance(valeur, (list, tuple)):
        return tuple(canonique(v) for v in valeur)
    if isinstance(valeur, dict):
        return tuple(sorted((k, canonique(v)) for k, v in valeur.items()))
    return valeur


def _rangees(con, requete: str, parametres=()) -> list:
    return [canonique(r) for r in con.execute(requete, list(parametres)).fetchall()]


def empreinte_donnees(con, projet_id: str) -> str:
    """The project's rows in every published table and seed that has a projet_id."""
    morceaux = []
    for table in tables_publiees(con):
        colonnes = [r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'main' "
            "and table_name = ? order by ordinal_position", [table]).fetchall()]
        if "projet_id" not in colonnes:
            continue
        rangees = _rangees(con, f'select * from "{table}" where projet_id = ? order by all', [projet_id])
        morceaux.append(repr((table, colonnes, rangees)))
    return _sha(*morceaux)


def empreintes(entrepot: Path, projets: list[str], sources: Path, narratifs: Path,
               formats: list[str], quarto: bool) -> dict[str, dict]:
    """For each project: the fingerprint of everything its fiche is made from."""
    code = empreinte_code(sources)
    document = _sha_fichier(Path(sources) / site.DOCUMENT_FICHE)
    reglages = _sha(config.SEUIL_EFFECTIF, config.SEUIL_DENOMINATEUR, "quarto" if quarto else "interne")
    con = connecter(entrepot)
    try:
        resultat = {}
        for projet_id in projets:
            composantes = {
                "donnees": empreinte_donnees(con, projet_id),
                "document": document,
                "narratif": _sha_fichier(Path(narratifs) / f"{projet_id}.yml"),
                "code": code,
                "reglages": reglages,
            }
            resultat[projet_id] = {"empreinte": _sha(*sorted(composantes.items())),
                                   "composantes": composantes}
        return resultat
    finally:
        con.close()


def empreintes_pages_site(entrepot: Path, sources: Path, pages, etat: dict, quarto: bool) -> dict[str, str]:
    """For each page of the site: its document, every published table, the fiches' state and
    the code (for the benchmark page, every module of the publication package)."""
    con = connecter(entrepot)
    try:
        donnees = _sha(*(repr((t, _rangees(con, f'select * from "{t}" order by all')))
                         for t in tables_publiees(con)))
    finally:
        con.close()
    code = empreinte_code(sources)
    tout = _sha(*(f"{f.name}:{_sha_fichier(f)}" for f in sorted(_RACINE_PAQUET.glob("publication/*.py"))))
    etat_texte = json.dumps({p: [e.get("formats"), e.get("etat") == "echec"]
                             for p, e in etat.get("fiches", {}).items()}, sort_keys=True)
    return {html: _sha(qmd, _sha_fichier(Path(sources) / qmd), donnees, code,
                       etat_texte if qmd == "index.qmd" else "",
                       tout if qmd == "benchmark.qmd" else "", "quarto" if quarto else "interne",
                       config.SEUIL_EFFECTIF, config.SEUIL_DENOMINATEUR)
            for qmd, html, _ in pages}


DOSSIER_BENCHMARK = "benchmark"


def preparer_benchmark(entrepot: Path, dossier: Path) -> str:
    """The programme's benchmark export (`capitalisation benchmark`) beside the benchmark page,
    so that the page's links to its tables resolve once published; returns the `dossier`
    parameter of reports/benchmark.qmd (relative to the page). The public site's view designates
    every landlord by a letter (benchmark.lire_vue)."""
    from capitalisation.publication import benchmark

    cible = benchmark.exporter(benchmark.lire_vue(Path(entrepot), public=True), Path(dossier) / DOSSIER_BENCHMARK)
    return Path(os.path.relpath(cible, dossier)).as_posix()


def _copier_arbre(source: Path, cible: Path, fichiers: list[Path]) -> None:
    for fichier in fichiers:
        _copier(fichier, cible / fichier.relative_to(source))


# --------------------------------------------------------------------------- manifest


def lire_manifeste(sortie: Path) -> dict:
    chemin = Path(sortie) / site.MANIFESTE
    try:
        manifeste = json.loads(chemin.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": VERSION_MANIFESTE, "fiches": {}}
    if manifeste.get("version") != VERSION_MANIFESTE:
        return {"version": VERSION_MANIFESTE, "fiches": {}}
    return manifeste


def _ecrire_json(chemin: Path, contenu: dict) -> None:
    chemin.write_text(json.dumps(contenu, indent=2, ensure_ascii=False, sort_keys=True), encoding="utf-8")


# --------------------------------------------------------------------------- workers


def executer_tache(tache: Tache) -> dict:
    """Render one document (in a worker process); never raises, reports the failure."""
    debut = time.monotonic()
    try:
        fichiers = rendu.rendre_document(
            Path(tache.document), tache.formats, tache.params,
            avant_corps=Path(tache.avant_corps) if tache.avant_corps else None, quarto=tache.quarto)
        return {"cle": tache.cle, "genre": tache.genre, "ok": True, "duree": time.monotonic() - debut,
                "fichiers": {f: str(p) for f, p in fichiers.items()}}
    except ErreurUtilisateur as exc:
        message = str(exc)
    except Exception as exc:  # noqa: BLE001 - a failing document must not stop the others
        message = f"{type(exc).__name__} : {exc}"
    return {"cle": tache.cle, "genre": tache.genre, "ok": False, "duree": time.monotonic() - debut,
            "erreur": message}


# Modules the workers need, loaded once in the fork server: each worker then starts at once.
PRECHARGES = ["capitalisation.publication.rendu", "capitalisation.publication.donnees_fiche",
              "capitalisation.publication.site", "matplotlib.figure", "matplotlib.backends.backend_agg",
              "pandas", "duckdb", "yaml"]


def mourir_avec_le_lanceur(pid: int) -> None:
    """In a worker: exit as soon as the command's process `pid` is gone, even by kill -9.

    The workers are forked by the fork server, which lives as long as they do: so each
    worker watches the command's process itself (a pidfd, else a poll each second) and exits
    when it ends; its own children (pandoc) are killed by the kernel then (rendu.py)."""
    import select
    import threading

    from capitalisation.travail import processus_vivant

    def surveiller() -> None:
        try:
            descripteur = os.pidfd_open(pid)
        except (AttributeError, OSError):
            descripteur = None
        if descripteur is not None:
            select.select([descripteur], [], [])
        else:
            while processus_vivant(pid):
                time.sleep(1)
        os._exit(1)

    threading.Thread(target=surveiller, name="surveillance-du-lanceur", daemon=True).start()


def _contexte():
    """Worker processes from a clean fork server (no thread of this process is inherited)."""
    try:
        contexte = multiprocessing.get_context("forkserver")
    except ValueError:  # a platform without fork
        return multiprocessing.get_context("spawn")
    contexte.set_forkserver_preload(PRECHARGES)
    return contexte


def _executer(taches: list[Tache], travailleurs: int, barre, tache_barre) -> dict[str, dict]:
    """Run the tasks two at a time in worker processes; returns the results by key."""
    resultats: dict[str, dict] = {}
    if not taches:
        return resultats
    contexte = _contexte()
    with ProcessPoolExecutor(max_workers=max(1, min(travailleurs, len(taches))),
                             mp_context=contexte, initializer=mourir_avec_le_lanceur,
                             initargs=(os.getpid(),)) as pool:
        futurs = {pool.submit(executer_tache, t): t for t in taches}
        try:
            for futur in as_completed(futurs):
                tache = futurs[futur]
                try:
                    resultat = futur.result()
                except BrokenProcessPool as exc:
                    resultat = {"cle": tache.cle, "genre": tache.genre, "ok": False,
                                "erreur": f"le processus de rendu s'est arrêté ({exc})"}
                resultats[tache.cle] = resultat
                quoi = "Fiche" if tache.genre == "fiche" else "Page"
                barre.update(tache_barre, advance=1,
                             description=f"{quoi} {tache.cle} {'rendue' if resultat['ok'] else 'en échec'}")
        except BaseException:
            for futur in futurs:
                futur.cancel()
            raise
    return resultats


# --------------------------------------------------------------------------- rendering


def _formats(formats_demandes) -> list[str]:
    if isinstance(formats_demandes, str):
        formats_demandes = [f.strip().lower() for f in formats_demandes.split(",") if f.strip()]
    liste = list(dict.fromkeys(formats_demandes or FORMATS_DEFAUT))
    inconnus = [f for f in liste if f not in rendu.FORMATS]
    if inconnus:
        raise ErreurUtilisateur(f"format(s) inconnu(s) : {', '.join(inconnus)} "
                                f"(possibles : {', '.join(rendu.FORMATS)})")
    if "html" not in liste:
        liste.insert(0, "html")  # the site links every fiche's HTML page
    return liste


def _copier(source: Path, cible: Path) -> None:
    cible.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, cible)
    except OSError:
        shutil.copy2(source, cible)


def _page_de_secours(chemin: Path, titre: str, navigation: str) -> None:
    """A page whose rendering failed and that had no previous version: links stay valid."""
    chemin.write_text(
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head><meta charset=\"utf-8\">"
        f"<title>{titre}</title></head>\n<body>\n{navigation}<main>\n<h1>{titre}</h1>\n"
        "<p>Cette page n'a pas pu être produite lors du dernier rendu du site.</p>\n"
        "</main>\n</body>\n</html>\n", encoding="utf-8")


def rendre_fiches(entrepot, sortie=None, formats_demandes=FORMATS_DEFAUT, projets=None, forcer: bool = False,
                  sources=None, narratifs=None, travailleurs: int = TRAVAILLEURS) -> Bilan:
    """Render the fiches of every project of the catalogue (or of `projets`) and the site.

    Raises ErreurUtilisateur naming the projects whose fiche failed, once the site with
    every other fiche has been published.
    """
    debut = time.monotonic()
    entrepot = Path(entrepot)
    sortie = Path(sortie or config.sorties(entrepot).site)
    sources = Path(sources or site.DOSSIER_RAPPORTS)
    narratifs = Path(narratifs or sources / "narratifs")
    formats = _formats(formats_demandes)
    if not (sources / site.DOCUMENT_FICHE).exists():
        raise ErreurUtilisateur(f"document des fiches introuvable : {sources / site.DOCUMENT_FICHE}")
    quarto = rendu.quarto_disponible()
    catalogue = {p["projet_id"]: p for p in site.catalogue(entrepot)}
    if isinstance(projets, str):
        projets = [p.strip() for p in projets.split(",") if p.strip()]
    selection = list(projets) if projets else list(catalogue)
    inconnus = [p for p in selection if p not in catalogue]
    if inconnus:
        raise ErreurUtilisateur(f"projet(s) absent(s) du catalogue : {', '.join(inconnus)}")

    sortie.parent.mkdir(parents=True, exist_ok=True)
    site.reprendre_publication(sortie)
    site.nettoyer_constructions(sortie)
    ancien = lire_manifeste(sortie)
    nouvelles = empreintes(entrepot, list(catalogue), sources, narratifs, formats, quarto)
    bilan = Bilan(sortie=sortie)
    construction = Path(tempfile.mkdtemp(prefix=f".{sortie.name}.construction-",
                                         suffix=f"-{os.getpid()}", dir=sortie.parent))
    try:
        nouveau_site = construction / "site"
        (nouveau_site / "fiches").mkdir(parents=True)
        manifeste = {"version": VERSION_MANIFESTE, "moteur": "quarto" if quarto else "interne",
                     "fiches": {}, "pages": {}}
        etat = {"formats": formats, "fiches": {}}

        # 1. Fiches up to date are copied, the others are to render.
        a_rendre = []
        for projet_id in catalogue:
            precedente = ancien.get("fiches", {}).get(projet_id)
            fichiers = ({f: sortie / "fiches" / f"{projet_id}.{f}" for f in precedente.get("formats", [])}
                        if precedente else {})
            fichiers = {f: c for f, c in fichiers.items() if c.exists()}
            meme = bool(precedente) and precedente.get("empreinte") == nouvelles[projet_id]["empreinte"]
            complete = meme and all(f in fichiers for f in formats)
            if projet_id in selection and (forcer or not complete):
                a_rendre.append(projet_id)
                continue
            if not fichiers or (projet_id in selection and not meme):
                continue
            # Kept as published: up to date, or outside the selection.
            for chemin in fichiers.values():
                _copier(chemin, nouveau_site / "fiches" / chemin.name)
            manifeste["fiches"][projet_id] = precedente
            etat["fiches"][projet_id] = {"formats": sorted(fichiers, key=rendu.FORMATS.index),
                                         "etat": "a_jour"}
            if projet_id in selection:
                bilan.a_jour.append(projet_id)

        # 2. The documents of the fiches to render, each in its own folder.
        pages_fiche = [("index.html", "Toutes les fiches"), ("programme.html", "Synthèse du programme")]
        taches = []
        for projet_id in a_rendre:
            dossier = construction / "travail" / "fiches" / projet_id
            document = site.ecrire_fiche(sources, catalogue[projet_id], entrepot, narratifs, dossier)
            navigation = dossier / "_navigation.html"
            navigation.write_text(site.navigation_html(
                "../", pages_fiche,
                telechargements=[(f"{projet_id}.{f}", f.upper()) for f in formats if f != "html"]),
                encoding="utf-8")
            taches.append(Tache("fiche", projet_id, str(document), formats,
                                site.parametres_fiche(projet_id, entrepot, narratifs), str(navigation), quarto))

        pages = site.pages_presentes(sources)
        resultats_pages_prealables: dict[str, dict] = {}
        with progression() as barre:
            tache_barre = barre.add_task("Rendu des fiches", total=len(taches) + len(pages))
            resultats = _executer(taches, travailleurs, barre, tache_barre)
            for projet_id in a_rendre:
                resultat = resultats.get(projet_id) or {"ok": False, "erreur": "rendu non effectué"}
                if resultat["ok"]:
                    for f, chemin in resultat["fichiers"].items():
                        shutil.move(chemin, nouveau_site / "fiches" / f"{projet_id}.{f}")
                    manifeste["fiches"][projet_id] = {**nouvelles[projet_id], "formats": formats}
                    etat["fiches"][projet_id] = {"formats": formats, "etat": "rendue"}
                    bilan.rendues.append(projet_id)
                    continue
                bilan.echecs[projet_id] = resultat["erreur"]
                # The previous version stays published, marked as such; its manifest entry
                # keeps its old fingerprint so that the next run tries again.
                precedente = ancien.get("fiches", {}).get(projet_id) or {}
                gardes = []
                for f in precedente.get("formats", []):
                    chemin = sortie / "fiches" / f"{projet_id}.{f}"
                    if chemin.exists():
                        _copier(chemin, nouveau_site / "fiches" / chemin.name)
                        gardes.append(f)
                if gardes:
                    manifeste["fiches"][projet_id] = {**precedente, "formats": gardes}
                etat["fiches"][projet_id] = {"formats": gardes, "etat": "echec"}

            # 3. The site's pages, from the state of the fiches; unchanged pages are kept.
            fichier_etat = construction / "etat.json"
            _ecrire_json(fichier_etat, etat)
            navigation_pages = [(html, libelle) for _, html, libelle in pages]
            empreintes_pages = empreintes_pages_site(entrepot, sources, pages, etat, quarto)
            taches_pages = []
            for qmd, html, _ in pages:
                precedente = ancien.get("pages", {}).get(html) or {}
                annexes = [sortie / a for a in precedente.get("annexes", [])]
                if (not forcer and precedente.get("empreinte") == empreintes_pages[html]
                        and (sortie / html).exists() and all(a.exists() for a in annexes)):
                    _copier_arbre(sortie, nouveau_site, [sortie / html, *annexes])
                    manifeste["pages"][html] = precedente
                    barre.update(tache_barre, advance=1)
                    continue
                dossier = construction / "travail" / "pages" / Path(qmd).stem
                dossier.mkdir(parents=True, exist_ok=True)
                params = {"entrepot": str(entrepot.resolve()), "etat": str(fichier_etat)}
                if qmd == "benchmark.qmd":
                    try:
                        params["dossier"] = preparer_benchmark(entrepot, dossier)
                    except Exception as exc:  # noqa: BLE001 - the page is reported, the site goes on
                        resultats_pages_prealables[html] = {"ok": False, "erreur": f"{type(exc).__name__} : {exc}"}
                        barre.update(tache_barre, advance=1)
                        continue
                document = site.ecrire_document(sources / qmd, dossier / qmd, params=params)
                navigation = dossier / "_navigation.html"
                navigation.write_text(site.navigation_html("", navigation_pages, courante=html),
                                      encoding="utf-8")
                taches_pages.append(Tache("page", html, str(document), ["html"], params,
                                          str(navigation), quarto))
            resultats_pages = {**resultats_pages_prealables,
                               **_executer(taches_pages, travailleurs, barre, tache_barre)}
        for qmd, html, libelle in pages:
            if html in manifeste["pages"]:
                continue  # kept, up to date
            resultat = resultats_pages.get(html) or {"ok": False, "erreur": "rendu non effectué"}
            if resultat["ok"]:
                shutil.move(resultat["fichiers"]["html"], nouveau_site / html)
                annexes = []
                travail = construction / "travail" / "pages" / Path(qmd).stem
                if qmd == "benchmark.qmd" and (travail / DOSSIER_BENCHMARK).exists():
                    shutil.copytree(travail / DOSSIER_BENCHMARK, nouveau_site / DOSSIER_BENCHMARK)
                    annexes = sorted(str(f.relative_to(nouveau_site))
                                     for f in (nouveau_site / DOSSIER_BENCHMARK).rglob("*") if f.is_file())
                manifeste["pages"][html] = {"source": qmd, "empreinte": empreintes_pages[html],
                                            "annexes": annexes}
                continue
            bilan.pages_echecs[html] = resultat["erreur"]
            precedente = ancien.get("pages", {}).get(html) or {}
            if (sortie / html).exists():
                _copier_arbre(sortie, nouveau_site, [sortie / html, *(sortie / a for a in precedente.get(
                    "annexes", []) if (sortie / a).exists())])
            else:
                _page_de_secours(nouveau_site / html, libelle,
                                 site.navigation_html("", navigation_pages, courante=html))

        # 4. The gate, then 5. publish.
        site.ecrire_icone(nouveau_site / "favicon.ico")
        _ecrire_json(nouveau_site / site.MANIFESTE, manifeste)
        controle_secret.verifier_publication(entrepot, [nouveau_site], controle_secret.chemin_precedente(entrepot))
        site.publier_site(nouveau_site, sortie)
        controle_secret.enregistrer_publication(entrepot)
        noter_changement("site", f"le site {sortie} a été publié")
    finally:
        shutil.rmtree(construction, ignore_errors=True)
    bilan.duree = time.monotonic() - debut
    afficher_bilan(bilan)
    if not bilan.succes:
        messages = [f"la fiche du projet « {p} » n'a pas pu être rendue : {m}" for p, m in bilan.echecs.items()]
        messages += [f"la page {p} du site n'a pas pu être rendue : {m}" for p, m in bilan.pages_echecs.items()]
        raise ErreurUtilisateur("\n  ".join(messages) + f"\n  Les autres fiches sont publiées dans {sortie}.")
    return bilan


def afficher_bilan(bilan: Bilan) -> None:
    def noms(liste: list[str]) -> str:
        return f" ({', '.join(liste)})" if liste else ""

    console.print(
        f"Fiches rendues{NBSP}: {len(bilan.rendues)}{noms(bilan.rendues)}{NBSP}; "
        f"déjà à jour{NBSP}: {len(bilan.a_jour)}{NBSP}; "
        f"en échec{NBSP}: {len(bilan.echecs)}{noms(list(bilan.echecs))} "
        f"({formats.nombre(bilan.duree, 1)}{NBSP}s).", markup=False, highlight=False)
    console.print(f"Site des fiches{NBSP}: {bilan.sortie / 'index.html'}", markup=False, highlight=False)


def fiches_commande(args) -> int:
    """`capitalisation fiches`: the CLI's arguments to `rendre_fiches`."""
    rendre_fiches(
        Path(args.warehouse), Path(args.sortie), formats_demandes=args.formats,
        projets=getattr(args, "projets", "") or None, forcer=bool(getattr(args, "forcer", False)),
    )
    return 0
