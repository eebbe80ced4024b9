"""The site of the fiches: its documents, its pages and its publication.

* `ecrire_fiche` writes one project's document from `reports/fiche.qmd`: the same body,
  the project's title and date in the front matter, its parameter values in the cell
  tagged `parameters`; a new row in the catalogue is a new fiche, without code.
* `page_index` and `page_programme` are the Markdown of the site's two pages (the cells
  of `reports/index.qmd` and `reports/programme.qmd` print them).
* `navigation_html` is the bar of links added at the top of every HTML page.
* `publier_site` replaces the published site by a complete new one; a run interrupted
  before leaves the published site as it was.

`python -m capitalisation.publication.site` writes the fiches' documents into
`reports/fiches/` so that `quarto render reports` (the website of `reports/_quarto.yml`)
renders the same site as `capitalisation fiches`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
from html import escape
from pathlib import Path

from capitalisation import config, formats
from capitalisation.formats import ESPACE_INSECABLE as NBSP
from capitalisation.publication import libelles
from capitalisation.publication.publie import (
    cellule,
    cle_tri,
    connecter,
    echapper,
    enumeration,
    est_secret,
    guillemets,
    intervalle_montant,
    lignes,
    lire,
    liste,
    montant,
    proportion,
    tableau,
    typographie,
)
from capitalisation.publication.publie import date as date_cellule
from capitalisation.publication.rendu import ecrire_entete, separer_entete
from capitalisation.publication.secret import SECRET

DOSSIER_RAPPORTS = config.RACINE / "reports"
DOCUMENT_FICHE = "fiche.qmd"
# The site's pages: source document, HTML file, label in the navigation bar.
PAGES = (
    ("index.qmd", "index.html", "Toutes les fiches"),
    ("programme.qmd", "programme.html", "Synthèse du programme"),
    ("benchmark.qmd", "benchmark.html", "Benchmark des bailleurs"),
)
# Files copied beside every document (its style sheet).
RESSOURCES = ("styles.css",)
MANIFESTE = "_manifeste.json"

_CELLULE_PARAMETRES = re.compile(
    r"(```\{python\}\n(?:#\|[^\n]*\n)*?#\|\s*tags:\s*\[[^\]\n]*parameters[^\]\n]*\]\n(?:#\|[^\n]*\n)*)"
    r"(.*?)(```)", re.DOTALL)


# --------------------------------------------------------------------------- catalogue


def catalogue(entrepot: Path) -> list[dict]:
    """The projects of the catalogue, with their extraction date when they delivered."""
    con = connecter(entrepot)
    try:
        projets = lignes(lire(con, "projets", ordre="projet_id"))
        effectifs = {r["projet_id"]: r for r in lignes(lire(con, "pub_effectifs_projet"))}
    finally:
        con.close()
    for projet in projets:
        e = effectifs.get(projet["projet_id"])
        projet["date_extraction"] = date_cellule(e.get("date_extraction")) if e else None
    return projets


# --------------------------------------------------------------------------- documents


def _valeurs_parametres(params: dict) -> str:
    return "".join(f"{cle} = {valeur!r}\n" for cle, valeur in params.items())


def ecrire_document(source: Path, cible: Path, entete: dict | None = None,
                    params: dict | None = None) -> Path:
    """A copy of a .qmd with front matter keys replaced and the `parameters` cell set."""
    texte = Path(source).read_text(encoding="utf-8")
    ancienne, corps, _ = separer_entete(texte)
    nouvelle = {**ancienne, **(entete or {})}
    if params:
        if "params" in nouvelle:
            nouvelle["params"] = {**(nouvelle.get("params") or {}), **params}

        def remplacer(m: re.Match) -> str:
            # Keep the cell's comments, then the values of this rendering.
            commentaires = "".join(l_ + "\n" for l_ in m.group(2).splitlines() if l_.startswith("#"))
            return m.group(1) + commentaires + _valeurs_parametres(params) + m.group(3)

        corps, nombre = _CELLULE_PARAMETRES.subn(remplacer, corps, count=1)
        if not nombre:
            corps = f"```{{python}}\n#| tags: [parameters]\n#| include: false\n{_valeurs_parametres(params)}```\n" + corps
    cible = Path(cible)
    cible.parent.mkdir(parents=True, exist_ok=True)
    cible.write_text(ecrire_entete(nouvelle, corps), encoding="utf-8")
    for ressource in RESSOURCES:
        if (Path(source).parent / ressource).exists():
            shutil.copyfile(Path(source).parent / ressource, cible.parent / ressource)
    return cible


def parametres_fiche(projet_id: str, entrepot: Path, narratifs: Path) -> dict:
    return {"projet_id": projet_id, "entrepot": str(Path(entrepot).resolve()),
            "narratifs": str(Path(narratifs).resolve()), "figures": ""}


def date_publication(jour: dt.date | None = None) -> str:
    """The date line of a published document: the month it is rendered (« Décembre 2026 »);
    the extraction date of the data is in its sources line."""
    return formats.mois_annee_titre(jour or dt.date.today())


def ecrire_fiche(sources: Path, projet: dict, entrepot: Path, narratifs: Path, dossier: Path) -> Path:
    """`<dossier>/<projet_id>.qmd`: the fiche document of one project of the catalogue, with
    its page layouts for PDF and DOCX beside it (`modeles.preparer`)."""
    from capitalisation.publication import modeles

    porteurs = [p.strip() for p in str(projet.get("porteurs") or "").split(";") if p.strip()]
    entete = {
        "title": f"Fiche projet {guillemets(projet['nom'])}",
        "author": enumeration(porteurs),
        "date": date_publication(),
        "pagetitle": f"Fiche projet {projet['nom']}",
    }
    document = ecrire_document(Path(sources) / DOCUMENT_FICHE, Path(dossier) / f"{projet['projet_id']}.qmd",
                               entete, parametres_fiche(projet["projet_id"], entrepot, narratifs))
    propres = Path(sources) / modeles.DOSSIER
    modeles.preparer(document.parent, propres if (propres / modeles.TYPST).exists() else modeles.SOURCES)
    return document


def pages_presentes(sources: Path) -> list[tuple[str, str, str]]:
    return [p for p in PAGES if (Path(sources) / p[0]).exists()]


# --------------------------------------------------------------------------- navigation


def navigation_html(racine: str, pages: list[tuple[str, str]], courante: str | None = None,
                    telechargements: list[tuple[str, str]] | None = None) -> str:
    """The navigation bar (HTML fragment placed at the top of every page of the site)."""
    liens = []
    for fichier, libelle in pages:
        courant = ' aria-current="page"' if fichier == courante else ""
        liens.append(f'<a href="{escape(racine + fichier)}"{courant}>{escape(libelle)}</a>')
    html = '<nav class="site" aria-label="Navigation du site">' + " ".join(liens)
    if telechargements:
        html += (f' <span class="telechargements">Télécharger{NBSP}: '
                 + " ".join(f'<a href="{escape(f)}">{escape(l_)}</a>' for f, l_ in telechargements)
                 + "</span>")
    return html + "</nav>\n"


def ecrire_icone(chemin: Path) -> None:
    """The site's icon (browsers ask for /favicon.ico): a square in the fiches' colour."""
    from PIL import Image

    Image.new("RGB", (32, 32), (31, 111, 139)).save(chemin, format="ICO", sizes=[(32, 32)])


# --------------------------------------------------------------------------- state


def lire_etat(etat: str | Path | None, projets: list[str] = ()) -> dict:
    """The state of the rendering the pages describe (written by `fiches.py`).

    Without one (a website rendered by `quarto render reports`), every project of the
    catalogue has its fiche in HTML, in fiches/.
    """
    if not etat or not Path(etat).exists():
        return {"formats": ["html"], "fiches": {p: {"formats": ["html"], "etat": "rendue"} for p in projets}}
    return json.loads(Path(etat).read_text(encoding="utf-8"))


def _liens_formats(projet_id: str, etat: dict) -> str:
    fiche = etat.get("fiches", {}).get(projet_id) or {}
    liens = [f"[{f.upper()}](fiches/{projet_id}.{f} \"Fiche {projet_id} au format {f.upper()}\")"
             for f in fiche.get("formats", [])]
    texte = " · ".join(liens) if liens else "fiche non rendue"
    if fiche.get("etat") == "echec":
        texte += (f" (version précédente{NBSP}: le dernier rendu a échoué)" if liens
                  else f"{NBSP}: le rendu a échoué")
    return texte


# --------------------------------------------------------------------------- index


INDICATEURS_PHARES = ("loyer_a_jour", "dette_reduite")
PLURIELS = {"confirme": ("confirmé", "confirmés"), "non_confirme": ("non confirmé", "non confirmés"),
            "non_testable": ("non testable", "non testables")}


def _constats(connus: list[dict], secrets: int) -> str:
    """« 4 confirmés, 1 non confirmé » (and how many findings are secret)."""
    morceaux = []
    for code, (singulier, pluriel) in PLURIELS.items():
        nombre = sum(1 for r in connus if r.get("verdict") == code)
        if nombre:
            morceaux.append(f"{nombre} {singulier if nombre == 1 else pluriel}")
    if secrets:
        morceaux.append(f"{secrets} couvert{'s' if secrets > 1 else ''} par le secret ({SECRET})")
    return ", ".join(morceaux)


def page_index(entrepot: str | Path, etat: str | Path | None = None) -> str:
    """The list of the fiches, with each project's headline figures (secret-aware)."""
    from capitalisation.publication import donnees_fiche

    con = connecter(entrepot)
    try:
        projets = sorted(lignes(lire(con, "projets")), key=lambda p: cle_tri(p["nom"]))
        effectifs = {r["projet_id"]: r for r in lignes(lire(con, "pub_effectifs_projet"))}
        indicateurs = lignes(lire(con, "pub_indicateurs_projet"))
        reconciliation = lignes(lire(con, "pub_reconciliation"))
    finally:
        con.close()
    etat = lire_etat(etat, [p["projet_id"] for p in projets])
    texte = (
        "\nUne fiche par projet du programme, dans le format des fiches de capitalisation de 2020. "
        "Chaque chiffre d'une fiche est recalculé à partir des données anonymisées livrées par le "
        f"projet et posé à côté du chiffre que le projet avait publié. La mention {guillemets(SECRET)} "
        "signale un chiffre couvert par le secret statistique.\n\n")
    rangees = []
    for projet in projets:
        pid = projet["projet_id"]
        e = effectifs.get(pid)
        fichiers = etat.get("fiches", {}).get(pid, {}).get("formats", [])
        nom = echapper(projet["nom"])
        titre = f"[{nom}](fiches/{pid}.html)" if "html" in fichiers else nom
        debut, fin = date_cellule(projet.get("date_debut")), date_cellule(projet.get("date_fin"))
        periode = (f"{formats.mois_annee(debut)} – {formats.mois_annee(fin)}" if debut and fin else "–")
        phares = []
        for code in INDICATEURS_PHARES:
            ligne = next((r for r in indicateurs if r["projet_id"] == pid and r["indicateur"] == code), None)
            phares.append(proportion(ligne)["valeur"] if ligne else "–")
        publies = [donnees_fiche.comparable(r) for r in reconciliation if r["projet_id"] == pid]
        connus = [r for r in publies if not est_secret(r, "statut")]
        secrets = len(publies) - len(connus)
        rangees.append([
            titre, typographie(echapper(projet.get("territoire") or "–")), periode,
            cellule(e, "menages_accompagnes") if e else "–", *phares,
            _constats(connus, secrets) if publies else "–",
            _liens_formats(pid, etat),
        ])
    texte += tableau(
        ["Projet", "Territoire", "Période", "Ménages accompagnés", "Loyer à jour", "Dette réduite",
         "Chiffres publiés par le projet", "Fiche"],
        rangees, [14, 20, 12, 9, 9, 9, 10, 17], ["g", "g", "g", "d", "d", "d", "d", "g"],
        legende="Les fiches projet")
    texte += ("Les proportions sont celles des ménages accompagnés (loyer à jour) et des ménages en "
              "dette à leur entrée (dette réduite), en fin de suivi. Les définitions, les dénominateurs "
              "et les intervalles de confiance figurent dans chaque fiche.\n\n")
    return texte


# --------------------------------------------------------------------------- programme


def page_programme(entrepot: str | Path, etat: str | Path | None = None,
                   figures: str = "programme_files/figures") -> str:
    """The programme synthesis: indicators over every project, and the reconciliation overview."""
    from capitalisation.publication import donnees_fiche, graphiques_fiche

    con = connecter(entrepot)
    try:
        programme = lire(con, "pub_indicateurs_programme")
        projets = {r["projet_id"]: r for r in lignes(lire(con, "projets"))}
        reconciliation = lire(con, "pub_reconciliation", ordre="projet_id, indicateur")
        indicateurs = lire(con, "pub_indicateurs_projet")
        synthese = lire(con, "pub_synthese_programme")
    finally:
        con.close()
    texte = ("\nLes indicateurs ci-dessous portent sur l'ensemble des ménages des projets qui ont livré "
             "leurs données, selon les mêmes définitions que les fiches. Chaque proportion est donnée "
             f"avec son numérateur, son dénominateur et son intervalle de confiance à 95{NBSP}%.\n\n")
    texte += "\n## Indicateurs de l'ensemble des projets\n\n"
    ordre = list(libelles.INDICATEURS) + list(libelles.MONTANTS)
    rangees_p, rangees_m, points = [], [], []
    for ligne in sorted(lignes(programme), key=lambda r: (ordre.index(r["indicateur"])
                                                           if r["indicateur"] in ordre else 99)):
        code = ligne["indicateur"]
        if ligne.get("nature") == "montant":
            libelle, population = libelles.MONTANTS.get(code, (libelles.indicateur(code), ""))
            rangees_m.append([f"{libelle} ({population})" if population else libelle, cellule(ligne, "n"),
                              cellule(ligne, "moyenne_eur", montant),
                              cellule(ligne, "mediane_eur", montant),
                              SECRET if est_secret(ligne, "ic_bas") else intervalle_montant(
                                  ligne.get("ic_bas"), ligne.get("ic_haut"))])
            continue
        libelle, population = libelles.INDICATEURS.get(code, (libelles.indicateur(code), ""))
        morceaux = proportion(ligne)
        rangees_p.append([f"{libelle} ({population})" if population else libelle,
                          morceaux["valeur"], morceaux["k_sur_n"], morceaux["ic"]])
        if morceaux["valeur"] != SECRET and not formats.manquant(ligne.get("valeur")):
            points.append({"libelle": libelle, "valeur": ligne["valeur"], "ic_bas": ligne["ic_bas"],
                           "ic_haut": ligne["ic_haut"]})
    if rangees_p:
        texte += tableau(["Indicateur (population)", "Valeur", "k sur n", f"IC à 95{NBSP}%"], rangees_p,
                         [46, 12, 20, 20], ["g", "d", "d", "d"],
                         legende="Indicateurs de l'ensemble des projets")
    figure = graphiques_fiche.indicateurs(points)
    if figure is not None:
        chemin = Path(figures) / "indicateurs.png"
        chemin.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(chemin, dpi=150)
        alt = ("Graphique en points des indicateurs de l'ensemble des projets et de leur intervalle de "
               "confiance à 95 % : " + " ; ".join(
                   f"{p['libelle']} {formats.pourcentage(p['valeur'])} "
                   f"(IC {formats.etendue(p['ic_bas'], p['ic_haut'])})" for p in points))
        texte += (f"\n![Indicateurs de l'ensemble des projets (point et intervalle de confiance à "
                  f"95{NBSP}%).]({chemin.as_posix()}){{#fig-programme fig-alt=\"{typographie(alt)}\" "
                  f"width=\"100%\"}}\n\n")
    if rangees_m:
        texte += tableau(["Montant par ménage", "Ménages", "Moyenne", "Médiane",
                          f"IC à 95{NBSP}% de la moyenne"], rangees_m, [40, 10, 12, 12, 22],
                         ["g", "d", "d", "d", "d"], legende="Montants de l'ensemble des projets")

    texte += synthese_indicateurs(indicateurs, synthese, projets)
    texte += "\n## Chiffres publiés et chiffres recalculés\n\n"
    rec = [donnees_fiche.comparable(r) for r in lignes(reconciliation)]
    if not rec:
        return texte + "Aucun chiffre publié n'est rapproché des données livrées.\n"
    texte += ("Pour chaque projet, les chiffres qu'il avait publiés sont rapprochés des chiffres "
              "recalculés à partir de ses données, sur la même population et selon ce que le chiffre "
              "affirme (un nombre exact, un minimum, un maximum, un ordre de grandeur)" + NBSP + "; une "
              "proportion est comparée à travers l'intervalle de confiance à 95" + NBSP + "% de la "
              "proportion recalculée.\n\n")
    rangees, phrases = [], {}
    for pid in sorted({r["projet_id"] for r in rec}, key=lambda p: cle_tri(projets.get(p, {}).get("nom", p))):
        publies = [r for r in rec if r["projet_id"] == pid]
        compte = {code: sum(1 for r in publies if r.get("verdict") == code and not est_secret(r, "statut"))
                  for code in libelles.STATUTS}
        secrets = sum(1 for r in publies if est_secret(r, "statut"))
        nom = echapper(projets.get(pid, {}).get("nom", pid))
        rangees.append([nom, formats.nombre(len(publies)),
                        *(formats.nombre(compte[c]) for c in libelles.STATUTS), formats.nombre(secrets)])
        secrets_projet = donnees_fiche.indicateurs_secrets(indicateurs[indicateurs["projet_id"] == pid]
                                                           if not indicateurs.empty else indicateurs)
        for ligne in publies:
            code = "secret" if est_secret(ligne, "statut") or est_secret(ligne, "verdict") else ligne.get("verdict")
            phrase = donnees_fiche.phrase_verdict(ligne, secrets_projet)
            phrases.setdefault(code, []).append(f"**{nom}**{NBSP}— {phrase}")
    total = [formats.nombre(sum(int(str(r[i]).replace(formats.ESPACE_FINE, "")) for r in rangees))
             for i in range(1, 6)]
    rangees.append(["**Ensemble**", *(f"**{t}**" for t in total)])
    texte += tableau(["Projet", "Chiffres publiés", *libelles.STATUTS.values(),
                      f"Constat couvert par le secret ({SECRET})"], rangees,
                     [35, 13, 13, 13, 13, 13], ["g", "d", "d", "d", "d", "d"],
                     legende="Rapprochement des chiffres publiés, par projet")
    for code, titre in (("confirme", "Chiffres publiés confirmés par les données"),
                        ("non_confirme", "Chiffres publiés que les données ne confirment pas"),
                        ("non_testable", "Chiffres publiés que les données ne permettent pas de tester")):
        if phrases.get(code):
            texte += f"\n### {titre}\n" + liste(phrases[code])
    if phrases.get("secret"):
        texte += ("\n### Chiffres publiés dont le constat est couvert par le secret statistique\n"
                  + liste(phrases["secret"]))
    return texte


POSITIONS = {"au_dessus": "au-dessus", "en_dessous": "en dessous"}


def synthese_indicateurs(indicateurs, synthese, projets: dict) -> str:
    """For each indicator, over the projects whose proportion is published: the range and
    median of their proportions, and the projects above and below the programme's funnel
    limits at 95 % (pub_synthese_programme, the published programme synthesis mart, when the
    warehouse has it; without it, the range and median of pub_indicateurs_projet's proportions
    and no positions)."""
    import statistics

    from capitalisation.publication import benchmark

    ordre = [code for code, _, _ in benchmark.INDICATEURS]
    publies = [r for r in lignes(indicateurs) if r.get("nature") == "proportion"
               and not est_secret(r, "valeur") and not formats.manquant(r.get("valeur"))]
    positions = [r for r in lignes(synthese) if not est_secret(r, "position_95")
                 and r.get("position_95") in POSITIONS]
    rangees = []
    resumes = {r["indicateur"]: r for r in lignes(synthese) if not formats.manquant(r.get("proportion_min"))}
    for code in ordre:
        valeurs = sorted(float(r["valeur"]) for r in publies if r["indicateur"] == code)
        if not valeurs:
            continue
        resume = resumes.get(code)
        if resume:  # computed in the warehouse over the same published proportions
            etendue = formats.etendue(resume["proportion_min"], resume["proportion_max"])
            mediane = formats.pourcentage(resume["proportion_mediane"])
        else:
            etendue = formats.etendue(valeurs[0], valeurs[-1])
            mediane = formats.pourcentage(statistics.median(valeurs))
        noms = {}
        for sens in POSITIONS:
            noms[sens] = enumeration(sorted(
                (echapper(projets.get(r["projet_id"], {}).get("nom", r["projet_id"]))
                 for r in positions if r["indicateur"] == code and r["position_95"] == sens), key=cle_tri))
        libelle, population = libelles.INDICATEURS[code]
        rangees.append([f"{libelle} ({population})", formats.nombre(len(valeurs)), etendue, mediane,
                        (noms["au_dessus"] or "aucun") if not synthese.empty else "–",
                        (noms["en_dessous"] or "aucun") if not synthese.empty else "–"])
    if not rangees:
        return ""
    texte = ("\n## Les projets face au programme\n\nPour chaque indicateur, sur les projets dont la "
             "proportion est publiée (les proportions couvertes par le secret statistique sont laissées "
             f"de côté){NBSP}: l'étendue de leurs proportions, leur médiane, et les projets situés "
             "au-dessus ou en dessous des limites de l'entonnoir à 95" + NBSP + "% autour de la "
             "proportion de l'ensemble du programme (limites qui s'élargissent quand le projet compte "
             "peu de ménages).\n\n")
    texte += tableau(["Indicateur (population)", "Projets", "Étendue", "Médiane",
                      "Au-dessus des limites", "En dessous des limites"], rangees,
                     [30, 8, 14, 9, 20, 20], ["g", "d", "d", "d", "g", "g"],
                     legende="Étendue, médiane et position des projets, par indicateur")
    return texte


# --------------------------------------------------------------------------- publication


def publier_site(construit: Path, sortie: Path) -> None:
    """Put the new site in place of the published one, in two renames.

    The previous site is first moved aside (`.<name>.precedent`), then the new one renamed
    into place, then the previous one deleted; `reprendre_publication` finishes or undoes
    a swap that was interrupted in between.
    """
    sortie = Path(sortie)
    precedent = sortie.with_name(f".{sortie.name}.precedent")
    reprendre_publication(sortie)
    if sortie.exists():
        os.replace(sortie, precedent)
    os.replace(construit, sortie)
    shutil.rmtree(precedent, ignore_errors=True)


def reprendre_publication(sortie: Path) -> None:
    """After an interrupted swap: the previous site goes back if no site is in place."""
    sortie = Path(sortie)
    precedent = sortie.with_name(f".{sortie.name}.precedent")
    if precedent.exists():
        if sortie.exists():
            shutil.rmtree(precedent, ignore_errors=True)
        else:
            os.replace(precedent, sortie)


def nettoyer_constructions(sortie: Path) -> None:
    """Remove the build folders that killed runs left beside the site."""
    sortie = Path(sortie)
    if sortie.parent.is_dir():
        for reste in sortie.parent.glob(f".{sortie.name}.construction-*"):
            try:
                pid = int(reste.name.rsplit("-", 1)[1])
            except ValueError:
                pid = 0
            if pid and _processus_vivant(pid):
                continue
            shutil.rmtree(reste, ignore_errors=True)


def _processus_vivant(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


# --------------------------------------------------------------------------- quarto website


def preparer_quarto(sources: Path = DOSSIER_RAPPORTS, entrepot: Path = config.ENTREPOT) -> list[Path]:
    """Write `<sources>/fiches/<projet_id>.qmd` for `quarto render` of the website."""
    dossier = Path(sources) / "fiches"
    if dossier.exists():
        shutil.rmtree(dossier)
    return [ecrire_fiche(sources, projet, entrepot, Path(sources) / "narratifs", dossier)
            for projet in catalogue(entrepot)]


def main(argv: list[str] | None = None) -> int:
    parseur = argparse.ArgumentParser(description="Écrit les documents des fiches pour quarto.")
    parseur.add_argument("--sources", default=str(DOSSIER_RAPPORTS))
    parseur.add_argument("--warehouse", default=str(config.ENTREPOT))
    args = parseur.parse_args(argv)
    for chemin in preparer_quarto(Path(args.sources), Path(args.warehouse)):
        print(chemin)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

