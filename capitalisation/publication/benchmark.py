"""`capitalisation benchmark [--bailleur CODE]`: the landlords side by side.

Everything comes from the publication layer (pub_benchmark_bailleur,
pub_benchmark_projet_bailleur, pub_indicateurs_programme): secret cells stay secret and read
« s ». Two views:

* the programme view (no code), for the capitalisation team: every landlord named, every
  project of every landlord;
* a landlord's view: that landlord named, the others called « Bailleur A », « Bailleur B »…
  in an order drawn from a hash of their codes salted afresh for each export (neither
  alphabetical nor stable from one export to the next, so a letter says nothing about who it
  is), without their number of projects nor their projects; the landlord's own projects only.

Outputs, in `<sortie>/programme/` or `<sortie>/bailleur-<code>/`: the tables as CSV (UTF-8
with BOM, `;`, decimal comma) and XLSX, one funnel plot per indicator (PNG and SVG), and
`benchmark.json`, which the Quarto page reports/benchmark.qmd reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capitalisation import formats
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.publication import entonnoirs, tableurs
from capitalisation.publication.secret import SECRET

# The benchmark's indicators: (code, title, denominator label).
INDICATEURS = (
    ("adhesion", "Adhésion à l'accompagnement", "Ménages orientés"),
    ("loyer_a_jour", "Loyer à jour", "Ménages accompagnés"),
    ("dette_resorbee", "Dette résorbée", "Ménages en dette à l'entrée"),
    ("dette_reduite", "Dette réduite", "Ménages en dette à l'entrée"),
    ("expulsion_evitee", "Expulsion évitée", "Ménages en procédure"),
    ("maintien", "Maintien dans le logement", "Ménages accompagnés"),
    ("relogement", "Relogement ou mutation", "Ménages accompagnés"),
    ("rdv_honores", "Rendez-vous honorés", "Rendez-vous prévus"),
)
TITRES = {code: titre for code, titre, _ in INDICATEURS}
DENOMINATEURS = {code: denominateur for code, _, denominateur in INDICATEURS}

POSITIONS = {"au_dessus": "au-dessus", "dans_les_limites": "dans les limites", "en_dessous": "en dessous"}
SYMBOLES = {("au_dessus", "au_dessus"): "▲", ("au_dessus", None): "△",
            ("en_dessous", "en_dessous"): "▼", ("en_dessous", None): "▽"}

PROGRAMME = "Ensemble du programme"


@dataclass
class Vue:
    """What one reader may see: the tables of the publication layer, labelled for that reader."""

    lecteur: str | None  # the landlord's code, or None for the programme view
    libelles: dict[str, str]  # landlord code → label shown
    bailleurs: pd.DataFrame  # pub_benchmark_bailleur (+ libelle)
    projets: pd.DataFrame  # pub_benchmark_projet_bailleur (+ libelle), own projects only for a landlord
    programme: pd.DataFrame  # pub_indicateurs_programme, benchmark indicators
    date: dt.date = field(default_factory=dt.date.today)
    public: bool = False  # the programme's view for the public site: every landlord under a letter

    @property
    def titre(self) -> str:
        if self.lecteur is None:
            return "Benchmark des bailleurs — vue du programme"
        return f"Benchmark des bailleurs — vue de {self.libelles[self.lecteur]}"

    @property
    def dossier(self) -> str:
        return "programme" if self.lecteur is None else f"bailleur-{self.lecteur}"


# --------------------------------------------------------------------------- reading


def pseudonymes(codes: list[str], lecteur: str | None, sel: str) -> dict[str, str]:
    """« Bailleur A », « Bailleur B »… for every code but the reader's, in the order of a salted
    hash of the codes (so neither alphabetical nor the same from one export to another)."""
    autres = sorted((c for c in codes if c != lecteur),
                    key=lambda c: hashlib.sha256(f"{sel}\x00{c}".encode()).hexdigest())
    return {code: f"Bailleur {_lettres(rang)}" for rang, code in enumerate(autres)}


def _lettres(rang: int) -> str:
    """0 → A, 25 → Z, 26 → AA…"""
    texte = ""
    rang += 1
    while rang:
        rang, reste = divmod(rang - 1, 26)
        texte = chr(ord("A") + reste) + texte
    return texte


def _connexion(entrepot: Path):
    """Read-only, through the one connection rule of the published outputs (publie.connecter)."""
    from capitalisation.publication.publie import connecter

    return connecter(entrepot)


def lire_vue(entrepot: Path, bailleur: str | None = None, sel: str | None = None, public: bool = False) -> Vue:
    """The benchmark as `bailleur` (or the programme, when None) may see it. `public`: the
    programme's view for the public site, where every landlord is designated by a letter (drawn
    at random at each export): a landlord's view gives the other landlords' figures under
    letters, and a page naming them beside the same figures would give the names back."""
    con = _connexion(entrepot)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        manquantes = {"pub_benchmark_bailleur", "pub_benchmark_projet_bailleur", "pub_indicateurs_programme",
                      "bailleurs"} - tables
        if manquantes:
            raise ErreurUtilisateur(
                f"l'entrepôt {entrepot} ne contient pas le benchmark ({', '.join(sorted(manquantes))} "
                "manquantes) : relancez `capitalisation run`.")
        catalogue = con.execute("select bailleur_id, nom from bailleurs").fetchdf()
        bailleurs = con.execute("select * from pub_benchmark_bailleur").fetchdf()
        projets = con.execute("select * from pub_benchmark_projet_bailleur").fetchdf()
        codes = ", ".join(f"'{code}'" for code, _, _ in INDICATEURS)
        programme = con.execute(
            f"select * from pub_indicateurs_programme where indicateur in ({codes})").fetchdf()
    finally:
        con.close()
    noms = dict(zip(catalogue["bailleur_id"], catalogue["nom"], strict=True))
    presents = sorted(bailleurs["bailleur_id"].unique())
    if bailleur is not None:
        bailleur = bailleur.strip().lower()
        if bailleur not in noms:
            raise ErreurUtilisateur(
                f"bailleur inconnu : « {bailleur} ». Le code attendu est celui du catalogue des "
                "bailleurs (seeds/bailleurs.csv, colonne bailleur_id : en minuscules, sans accent).")
        if bailleur not in presents:
            raise ErreurUtilisateur(
                f"le bailleur « {bailleur} » n'a aucun ménage dans les livraisons en usage : "
                "pas de benchmark à produire.")
        libelles = pseudonymes(presents, bailleur, sel or secrets.token_hex(16))
        libelles[bailleur] = noms[bailleur]
        projets = projets[projets["bailleur_id"] == bailleur]
        bailleurs = bailleurs.drop(columns=["projets"])
    elif public:
        libelles = pseudonymes(presents, None, sel or secrets.token_hex(16))
    else:
        libelles = {code: noms.get(code, code) for code in presents}
    bailleurs = bailleurs.assign(libelle=bailleurs["bailleur_id"].map(libelles))
    projets = projets.assign(libelle=projets["bailleur_id"].map(libelles))
    return Vue(bailleur, libelles, bailleurs, projets, programme, public=public and bailleur is None)


# --------------------------------------------------------------------------- cells


def _secrete(ligne: pd.Series, colonne: str) -> bool:
    return colonne in str(ligne.get("cellules_secretes") or "").split(",")


def _valeur(ligne: pd.Series, colonne: str):
    """A cell for an export: the number, « s » when secret, None when empty."""
    if _secrete(ligne, colonne):
        return SECRET
    valeur = ligne.get(colonne)
    if valeur is None or pd.isna(valeur):
        return None
    return valeur.item() if hasattr(valeur, "item") else valeur


def _pourcent(ligne: pd.Series, colonne: str):
    valeur = _valeur(ligne, colonne)
    if isinstance(valeur, (int, float)):
        return round(100 * float(valeur), 1)
    return valeur


def _position(ligne: pd.Series, colonne: str):
    valeur = _valeur(ligne, colonne)
    return POSITIONS.get(valeur, valeur)


def _ordre_bailleurs(vue: Vue) -> list[str]:
    """The reader first, then the others by label."""
    return sorted(vue.libelles, key=lambda code: (code != vue.lecteur, vue.libelles[code]))


# --------------------------------------------------------------------------- tables

COLONNES_CHIFFRES = [
    "Indicateur", "Code indicateur", "Dénominateur (n)", "Numérateur (k)", "Ménages", "Proportion (%)",
    "IC 95 % bas (%)", "IC 95 % haut (%)", "Moyenne du programme (%)", "Limite 95 % basse (%)",
    "Limite 95 % haute (%)", "Limite 99,8 % basse (%)", "Limite 99,8 % haute (%)", "Position (95 %)",
    "Position (99,8 %)",
]
FORMATS = {c: "0.0" for c in COLONNES_CHIFFRES if c.endswith("(%)")} | {
    "Dénominateur (n)": "#,##0", "Numérateur (k)": "#,##0", "Ménages": "#,##0"}
DECIMALES = {c: 1 for c in COLONNES_CHIFFRES if c.endswith("(%)")}


def _chiffres(ligne: pd.Series) -> list:
    code = ligne["indicateur"]
    return [
        TITRES[code], code, _valeur(ligne, "n"), _valeur(ligne, "k"), _valeur(ligne, "menages"),
        _pourcent(ligne, "proportion"), _pourcent(ligne, "ic_bas"), _pourcent(ligne, "ic_haut"),
        _pourcent(ligne, "moyenne_programme"), _pourcent(ligne, "limite_95_bas"),
        _pourcent(ligne, "limite_95_haut"), _pourcent(ligne, "limite_998_bas"),
        _pourcent(ligne, "limite_998_haut"), _position(ligne, "position_95"), _position(ligne, "position_998"),
    ]


def _ligne_programme(ligne: pd.Series) -> list:
    """The programme's row of an indicator, in the benchmark's columns."""
    code = ligne["indicateur"]
    limites_et_positions = [None] * 6
    return [TITRES[code], code, _valeur(ligne, "n"), _valeur(ligne, "k"), _valeur(ligne, "menages"),
            _pourcent(ligne, "valeur"), _pourcent(ligne, "ic_bas"), _pourcent(ligne, "ic_haut"),
            _pourcent(ligne, "valeur"), *limites_et_positions]


def tableaux(vue: Vue) -> list[tableurs.Tableau]:
    """The tables of an export: landlords across projects (with the programme's rows), and
    landlords within projects."""
    # The programme team's view names the landlords and gives their codes; the public one does not.
    programme_vue = vue.lecteur is None and not vue.public
    entete = ["Bailleur"] + (["Code bailleur", "Projets"] if programme_vue else [])
    lignes = []
    par_indicateur = {code: vue.bailleurs[vue.bailleurs["indicateur"] == code] for code, _, _ in INDICATEURS}
    ordre = _ordre_bailleurs(vue)
    for code, _, _ in INDICATEURS:
        lignes_indicateur = par_indicateur[code].set_index("bailleur_id")
        for bailleur in ordre:
            if bailleur not in lignes_indicateur.index:
                continue
            ligne = lignes_indicateur.loc[bailleur]
            debut = [vue.libelles[bailleur]] + ([bailleur, _valeur(ligne, "projets")] if programme_vue else [])
            lignes.append(debut + _chiffres(ligne))
        total = vue.programme[vue.programme["indicateur"] == code]
        if not total.empty:
            debut = [PROGRAMME] + ([None, None] if programme_vue else [])
            lignes.append(debut + _ligne_programme(total.iloc[0]))
    par_bailleur = tableurs.Tableau(
        "Bailleurs", entete + COLONNES_CHIFFRES, lignes, formats=FORMATS, decimales=DECIMALES,
        largeurs={"Bailleur": 28, "Indicateur": 28})
    lignes_projets = []
    for _, ligne in vue.projets.sort_values(["projet_id", "libelle", "indicateur"]).iterrows():
        debut = [ligne["projet_id"], vue.libelles[ligne["bailleur_id"]]] + (
            [ligne["bailleur_id"]] if programme_vue else [])
        lignes_projets.append(debut + _chiffres(ligne))
    entete_projets = ["Projet", "Bailleur"] + (["Code bailleur"] if programme_vue else [])
    par_projet = tableurs.Tableau(
        "Projets et bailleurs", entete_projets + COLONNES_CHIFFRES, lignes_projets, formats=FORMATS,
        decimales=DECIMALES, largeurs={"Projet": 18, "Bailleur": 28, "Indicateur": 28})
    return [par_bailleur, par_projet]


# --------------------------------------------------------------------------- figures


def entonnoir(vue: Vue, code: str) -> entonnoirs.Entonnoir:
    """The funnel of one indicator: the landlords whose proportion is published."""
    lignes = vue.bailleurs[vue.bailleurs["indicateur"] == code]
    points, caches = [], 0
    for _, ligne in lignes.iterrows():
        if _secrete(ligne, "proportion") or _secrete(ligne, "n") or pd.isna(ligne["proportion"]):
            caches += 1
            continue
        points.append(entonnoirs.Point(
            libelle=vue.libelles[ligne["bailleur_id"]], n=float(ligne["n"]), proportion=float(ligne["proportion"]),
            position_95=_valeur(ligne, "position_95"), position_998=_valeur(ligne, "position_998"),
            lecteur=ligne["bailleur_id"] == vue.lecteur))
    moyennes = lignes["moyenne_programme"].dropna()
    phis = lignes["surdispersion_appliquee"].dropna()
    return entonnoirs.Entonnoir(
        indicateur=code,
        titre=TITRES[code],
        libelle_denominateur=DENOMINATEURS[code],
        moyenne=float(moyennes.iloc[0]) if not moyennes.empty else None,
        surdispersion=float(phis.iloc[0]) if not phis.empty else 1.0,
        points=points,
        non_representes=caches,
    )


# --------------------------------------------------------------------------- export


def exporter(vue: Vue, sortie: Path, progression=None) -> Path:
    """Write the view's tables, figures and manifest into `<sortie>/<vue.dossier>/`, replacing a
    previous export of the same view only once everything is written."""
    sortie = Path(sortie)
    sortie.mkdir(parents=True, exist_ok=True)
    cible = sortie / vue.dossier
    provisoire = Path(tempfile.mkdtemp(prefix=f".{vue.dossier}.", dir=sortie))
    try:
        figures = []
        for code, _, _ in INDICATEURS:
            figures.append(entonnoirs.tracer(entonnoir(vue, code), provisoire / f"entonnoir_{code}"))
            if progression:
                progression()
        par_bailleur, par_projet = tableaux(vue)
        tableurs.ecrire_csv(provisoire / "benchmark_bailleurs.csv", par_bailleur)
        tableurs.ecrire_csv(provisoire / "benchmark_projets_bailleurs.csv", par_projet)
        tableurs.ecrire_xlsx(provisoire / "benchmark.xlsx", [par_bailleur, par_projet])
        manifeste = {
            "titre": vue.titre,
            "vue": "programme" if vue.lecteur is None else "bailleur",
            "lecteur": None if vue.lecteur is None else vue.libelles[vue.lecteur],
            "public": vue.public,
            "date": vue.date.isoformat(),
            "date_texte": formats.date_longue(vue.date),
            "tableaux": {"bailleurs": "benchmark_bailleurs.csv",
                         "projets_bailleurs": "benchmark_projets_bailleurs.csv",
                         "classeur": "benchmark.xlsx"},
            "figures": figures,
        }
        (provisoire / "benchmark.json").write_text(
            json.dumps(manifeste, ensure_ascii=False, indent=2), encoding="utf-8")
        masque = os.umask(0)
        os.umask(masque)
        os.chmod(provisoire, 0o777 & ~masque)
        ancienne = None
        if cible.exists():
            ancienne = sortie / f".{vue.dossier}.ancienne.{os.getpid()}"
            os.replace(cible, ancienne)
        os.replace(provisoire, cible)
        if ancienne is not None:
            shutil.rmtree(ancienne, ignore_errors=True)
    except BaseException:
        shutil.rmtree(provisoire, ignore_errors=True)
        raise
    return cible


# --------------------------------------------------------------------------- terminal


def _case_terminal(ligne: pd.Series | None) -> str:
    if ligne is None:
        return "—"
    if _secrete(ligne, "proportion"):
        return SECRET
    if pd.isna(ligne["proportion"]):
        return "—"
    texte = formats.pourcentage(ligne["proportion"])
    p95 = _valeur(ligne, "position_95")
    p998 = _valeur(ligne, "position_998")
    symbole = SYMBOLES.get((p95, p998 if p998 == p95 else None), "")
    return f"{texte} {symbole}".strip()


def afficher(vue: Vue, console=None) -> None:
    """The view as one table: a landlord per row, an indicator per column."""
    from rich.table import Table
    from rich.text import Text

    from capitalisation.terminal import sortie

    console = console or sortie
    tableau = Table(title=vue.titre, caption=(
        "▲ / ▼ au-dessus / en dessous des limites à 99,8 % ; △ / ▽ à 95 % seulement ; "
        f"{SECRET} : secret statistique ; — : sans objet"))
    tableau.add_column("Bailleur", no_wrap=True)
    tableau.add_column("Ménages orientés", justify="right")
    for _, titre, _ in INDICATEURS:
        tableau.add_column(titre, justify="right")
    index = {(r["bailleur_id"], r["indicateur"]): r for _, r in vue.bailleurs.iterrows()}
    for bailleur in _ordre_bailleurs(vue):
        adhesion = index.get((bailleur, "adhesion"))
        orientes = "—" if adhesion is None else (
            SECRET if _secrete(adhesion, "n") else formats.nombre(adhesion["n"]))
        style = "bold" if bailleur == vue.lecteur else None
        tableau.add_row(Text(vue.libelles[bailleur]), orientes,
                        *[_case_terminal(index.get((bailleur, code))) for code, _, _ in INDICATEURS],
                        style=style)
    tableau.add_section()
    moyennes = {r["indicateur"]: r for _, r in vue.programme.iterrows()}
    cases = []
    for code, _, _ in INDICATEURS:
        ligne = moyennes.get(code)
        if ligne is None:
            cases.append("—")
        elif _secrete(ligne, "valeur"):
            cases.append(SECRET)
        else:
            cases.append(formats.pourcentage(ligne["valeur"]))
    adhesion = moyennes.get("adhesion")
    orientes = "—" if adhesion is None else (SECRET if _secrete(adhesion, "n") else formats.nombre(adhesion["n"]))
    tableau.add_row(PROGRAMME, orientes, *cases, style="italic")
    console.print(tableau)


# --------------------------------------------------------------------------- command


def benchmark_commande(args) -> int:
    """`capitalisation benchmark [--bailleur CODE] [--warehouse FICHIER] [--sortie DOSSIER]`."""
    from capitalisation.terminal import console, progression

    vue = lire_vue(Path(args.warehouse), getattr(args, "bailleur", None))
    afficher(vue)
    with progression() as barre:
        tache = barre.add_task("Entonnoirs et exports du benchmark", total=len(INDICATEURS))
        dossier = exporter(vue, Path(args.sortie), progression=lambda: barre.advance(tache))
    console.print(f"Benchmark écrit dans {dossier} (tableaux CSV et XLSX, entonnoirs PNG et SVG).",
                  markup=False, highlight=False)
    return 0


# --------------------------------------------------------------------------- the site's page


def _md(texte) -> str:
    """A table cell or a caption in Markdown: no pipe, no line break, no markup."""
    texte = str(texte).replace("\n", " ").replace("|", "\\|")
    for caractere in "*_`[]<>#":
        texte = texte.replace(caractere, "\\" + caractere)
    return texte


def _attribut(texte: str) -> str:
    return str(texte).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _lire_csv_export(chemin: Path) -> list[dict]:
    import csv

    with open(chemin, encoding="utf-8-sig", newline="") as flux:
        return list(csv.DictReader(flux, delimiter=";"))


def _nombre_export(texte) -> float | None:
    """A number of an exported CSV cell (« 4 955 », « '12 »), None for « s » or empty."""
    texte = (texte or "").lstrip("'").replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not texte or texte == SECRET:
        return None
    return float(texte.replace(",", "."))


def _case_page(ligne: dict) -> str:
    """« 76 % ▽ », or « s » (from an exported row)."""
    proportion = (ligne.get("Proportion (%)") or "").lstrip("'")
    if proportion == SECRET:
        return SECRET
    if not proportion:
        return "—"
    # k / n rounded once, as on every other output (formats.pourcentage), never the export's
    # rounded percentage rounded again (4 036 / 4 955 is 81 %, not 81,5 % then 82 %)
    k, n = (_nombre_export(ligne.get(c)) for c in ("Numérateur (k)", "Dénominateur (n)"))
    if k is None or not n:
        return SECRET
    texte = formats.pourcentage(k / n)
    inverse = {v: k for k, v in POSITIONS.items()}
    p95 = inverse.get(ligne.get("Position (95 %)"))
    p998 = inverse.get(ligne.get("Position (99,8 %)"))
    symbole = SYMBOLES.get((p95, p998 if p998 == p95 else None), "")
    return f"{texte} {symbole}".strip()


def page_benchmark(dossier: str | Path) -> str:
    """The Markdown body of the benchmark page (reports/benchmark.qmd) from an export folder
    written by `capitalisation benchmark`: the funnel plots with their captions and alternative
    texts, a table of the landlords, and the links to the CSV and XLSX files. Paths are written
    relative to the working directory (the document's folder while it renders)."""
    dossier = Path(dossier)
    manifeste_chemin = dossier / "benchmark.json"
    if not manifeste_chemin.exists():
        return ("Aucun benchmark n'a encore été produit dans ce dossier : lancez "
                "`capitalisation benchmark` puis rendez cette page de nouveau.\n")
    manifeste = json.loads(manifeste_chemin.read_text(encoding="utf-8"))

    def chemin(nom: str) -> str:
        return Path(os.path.relpath(dossier / nom, Path.cwd())).as_posix()

    morceaux = [f"## {_md(manifeste['titre'])}\n",
                f"Produit le {_md(manifeste['date_texte'])} à partir de la couche de publication de l'entrepôt.\n"]
    morceaux.append(
        "Chaque diagramme en entonnoir place un bailleur selon son nombre de ménages (axe horizontal) et "
        "sa proportion (axe vertical). Le trait plein est la moyenne du programme ; les tirets et les "
        "pointillés sont les limites de contrôle à 95 % et à 99,8 % : elles se resserrent quand le "
        "nombre de ménages augmente. Un bailleur hors des limites s'écarte de la moyenne plus que le "
        "hasard ne l'expliquerait. Les bailleurs dont la proportion est couverte par le secret "
        "statistique ne sont pas représentés.\n")
    if manifeste.get("vue") == "bailleur":
        morceaux.append(
            f"Vue de {_md(manifeste['lecteur'])} : les autres bailleurs sont désignés par une lettre, "
            "tirée au hasard à chaque export.\n")
    elif manifeste.get("public"):
        morceaux.append(
            "Les bailleurs sont désignés par une lettre, tirée au hasard à chaque export : chaque "
            "bailleur reçoit sa propre vue, où il figure sous son nom.\n")
    morceaux.append("## Tableau des bailleurs\n")
    lignes = _lire_csv_export(dossier / manifeste["tableaux"]["bailleurs"])
    par_bailleur: dict[str, dict[str, dict]] = {}
    for ligne in lignes:
        par_bailleur.setdefault(ligne["Bailleur"].lstrip("'"), {})[ligne["Code indicateur"]] = ligne
    entete = ["Bailleur", "Ménages orientés"] + [titre for _, titre, _ in INDICATEURS]
    tableau = ["| " + " | ".join(entete) + " |", "|" + "|".join(["---"] + ["--:"] * (len(entete) - 1)) + "|"]
    for bailleur, indicateurs in par_bailleur.items():
        adhesion = indicateurs.get("adhesion", {})
        orientes = (adhesion.get("Dénominateur (n)") or "—").lstrip("'")
        if orientes not in (SECRET, "—"):
            orientes = formats.nombre(float(orientes.replace(",", ".")))
        cases = [_case_page(indicateurs[code]) if code in indicateurs else "—" for code, _, _ in INDICATEURS]
        tableau.append("| " + " | ".join(_md(c) for c in [bailleur, orientes, *cases]) + " |")
    morceaux.append("\n".join(tableau) + "\n")
    morceaux.append(
        f": ▲ / ▼ au-dessus / en dessous des limites à 99,8 % ; △ / ▽ à 95 % seulement ; {SECRET} : "
        "secret statistique ; — : sans objet.\n")
    fichiers = manifeste["tableaux"]
    morceaux.append(
        f"Les chiffres complets (n, k, intervalles, limites) : [tableau des bailleurs (CSV)]"
        f"({chemin(fichiers['bailleurs'])}), [bailleurs par projet (CSV)]({chemin(fichiers['projets_bailleurs'])}), "
        f"[classeur (XLSX)]({chemin(fichiers['classeur'])}).\n")
    morceaux.append("## Diagrammes en entonnoir\n")
    for figure in manifeste["figures"]:
        png = next((f for f in figure["fichiers"] if f.endswith(".png")), figure["fichiers"][0])
        morceaux.append(f"### {_md(figure['titre'])}\n")
        morceaux.append(f"![{_md(figure['legende'])}]({chemin(png)}){{fig-alt=\"{_attribut(figure['texte_alternatif'])}\"}}\n")
    return "\n".join(morceaux)
