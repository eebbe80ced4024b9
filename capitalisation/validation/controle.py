"""Validating one delivery: read it with the reader into a working folder, then judge it.

`valider_livraison` never raises for a bad delivery: whatever is wrong (an unreadable
file, a column out of the contract, a telephone number in an identifier, a broken rent
account) becomes an `Echec` naming the file, the column, the rule and the row numbers,
never the value. A delivery with at least one failure of severity `erreur` is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from capitalisation import contrat, lecture
from capitalisation.erreurs import LivraisonIllisible
from capitalisation.validation import donnees_personnelles as dp
from capitalisation.validation import regles as rg

ERREUR, AVERTISSEMENT = rg.ERREUR, rg.AVERTISSEMENT
LIGNES_CITEES = rg.LIGNES_CITEES
# Row-level rules run as compiled DuckDB SQL; "ge" runs them in Great Expectations (the
# reference engine, compared with SQL on the corpus by the tests).
MOTEUR = "sql"

# Rules that are not in a suite: they judge the delivery's folder and files.
REGLES_LIVRAISON = {
    "lecture": "livraison illisible par le lecteur",
    "chemin": "chemin qui sort du dossier des livraisons (lien symbolique ou « .. »)",
    "dossier": "dossier mal nommé (attendu : <projet>/<AAAA-MM-JJ>)",
    "projet_inconnu": "projet absent du catalogue (seeds/projets.csv)",
    "fichier_hors_contrat": "fichier hors contrat, ignoré",
    "formule": dp.NATURES["formule"][1],
    "regle_non_evaluee": "règle impossible à évaluer (contrôle refusé par prudence)",
    "lignes_non_lues": "lignes du fichier non lues (guillemet non fermé ou fin de fichier illisible)",
}


@dataclass
class Echec:
    """A failed rule: where (file, column), which rule, how bad, which rows. Never a value."""

    fichier: str
    colonne: str | None
    code: str
    libelle: str
    severite: str
    lignes: int | None = None
    premieres_lignes: list[int] = field(default_factory=list)
    table: str | None = None
    detail: str = ""

    def phrase(self) -> str:
        """One French line for the terminal, the journal and the run's messages."""
        ou = self.fichier + (f", colonne {self.colonne}" if self.colonne else "")
        texte = f"{ou} : {self.libelle} [{self.code}]"
        if self.lignes:
            citees = ", ".join(str(n) for n in self.premieres_lignes)
            suite = ", …" if self.lignes > len(self.premieres_lignes) else ""
            texte += f" — {self.lignes} ligne(s)" + (f" ({citees}{suite})" if citees else "")
        elif self.premieres_lignes:
            texte += " — ligne(s) " + ", ".join(str(n) for n in self.premieres_lignes)
        return texte

    def en_dict(self) -> dict:
        return {
            "fichier": self.fichier,
            "table": self.table,
            "colonne": self.colonne,
            "regle": self.code,
            "libelle": self.libelle,
            "severite": self.severite,
            "lignes": self.lignes,
            "premieres_lignes": self.premieres_lignes,
            "detail": self.detail,
        }


@dataclass
class FichierLu:
    fichier: str  # `menages.csv`, or `export.xlsx:menages` for a sheet
    sha256: str | None
    lignes: int | None = None


@dataclass
class ResultatValidation:
    """The verdict on one delivery (or on a folder that is not one)."""

    dossier: str  # `declic/2020-06-30`, as cited in messages
    livraison: lecture.Livraison | None = None
    echecs: list[Echec] = field(default_factory=list)
    fichiers: list[FichierLu] = field(default_factory=list)
    tables: dict[str, lecture.TableLue] = field(default_factory=dict)
    regles_verifiees: int = 0
    horodatage: str = field(default_factory=lambda: dt.datetime.now().isoformat(timespec="seconds"))

    @property
    def erreurs(self) -> list[Echec]:
        return [e for e in self.echecs if e.severite == ERREUR]

    @property
    def avertissements(self) -> list[Echec]:
        return [e for e in self.echecs if e.severite == AVERTISSEMENT]

    @property
    def acceptee(self) -> bool:
        return not self.erreurs

    @property
    def statut(self) -> str:
        return "acceptee" if self.acceptee else "refusee"

    @property
    def projet_id(self) -> str | None:
        return self.livraison.projet_id if self.livraison else None

    @property
    def date_extraction(self) -> str | None:
        return self.livraison.date_extraction.isoformat() if self.livraison else None

    def raisons(self) -> list[str]:
        """French reasons for a refusal (errors only), without any value."""
        return [e.phrase() for e in self.erreurs]

    def lignes_par_table(self) -> dict[str, int]:
        return {nom: table.lignes for nom, table in self.tables.items()}


# --------------------------------------------------------------------------- folders and files


def hors_du_dossier(chemin: Path, racine: Path) -> bool:
    """Whether `chemin` (a symlink followed) leads outside `racine`."""
    try:
        return not chemin.resolve().is_relative_to(racine.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return True


def controler_chemins(livraison: lecture.Livraison, racine: Path | None) -> list[Echec]:
    """A delivery whose folder or files lead outside the exports folder is refused unread."""
    echecs = []
    if racine is not None and hors_du_dossier(livraison.dossier, racine):
        echecs.append(Echec(livraison.nom, None, "chemin", REGLES_LIVRAISON["chemin"], ERREUR))
        return echecs
    for entree in sorted(livraison.dossier.iterdir()):
        if entree.is_symlink() and hors_du_dossier(entree, livraison.dossier):
            echecs.append(
                Echec(_nom_sur(entree.name), None, "chemin", REGLES_LIVRAISON["chemin"], ERREUR)
            )
    return echecs


def _nom_sur(nom: str) -> str:
    """A file name as it may be cited (masked if it looks like personal data)."""
    return "«nom masqué»" if dp.contient_donnees_personnelles(nom) else nom


def empreinte(chemin: Path) -> str:
    h = hashlib.sha256()
    with open(chemin, "rb") as flux:
        while bloc := flux.read(1 << 20):
            h.update(bloc)
    return h.hexdigest()


def empreintes(livraison: lecture.Livraison) -> dict[str, str]:
    """SHA-256 of the delivery's files (those inside its folder only)."""
    return {
        f.name: lecture.examiner_fichier(f).sha256  # one pass: hash, encoding and line count
        for f in livraison.fichiers()
        if not (f.is_symlink() and hors_du_dossier(f, livraison.dossier))
    }


def empreintes_landing(landing: Path, livraison: lecture.Livraison, tables) -> dict[str, str]:
    """SHA-256 of a delivery's landing files, recorded when it lands."""
    return {nom: empreinte(lecture.chemin_landing(landing, nom, livraison)) for nom in sorted(tables)}


def landing_intact(landing: Path, livraison: lecture.Livraison, manifeste: dict) -> bool:
    """Whether every landing file of a delivery is still what was landed, byte for byte.

    A file damaged or removed since (a disk error, a hand edit) makes the delivery be read
    and landed again; a manifest without the files' hashes (older layout) too.
    """
    attendues = manifeste.get("landing")
    if not isinstance(attendues, dict) or set(attendues) != set(manifeste.get("lignes", {})):
        return False
    for nom, sha in attendues.items():
        chemin = lecture.chemin_landing(landing, nom, livraison)
        try:
            if not chemin.is_file() or empreinte(chemin) != sha:
                return False
        except OSError:
            return False
    return True


def landing_abime(landing: Path) -> list[Path]:
    """The landing files whose content no longer matches the hash recorded at landing."""
    import json

    abimes = []
    for manifeste in sorted((Path(landing) / "_livraisons").glob("*.json")):
        try:
            donnees = json.loads(manifeste.read_text(encoding="utf-8"))
            livraison = lecture.Livraison(
                donnees["projet_id"], dt.date.fromisoformat(donnees["date_extraction"]), Path()
            )
        except (OSError, ValueError, KeyError):
            continue
        for nom, sha in (donnees.get("landing") or {}).items():
            chemin = lecture.chemin_landing(landing, nom, livraison)
            try:
                if not chemin.is_file() or empreinte(chemin) != sha:
                    abimes.append(chemin)
            except OSError:
                abimes.append(chemin)
    return abimes


def fichiers_hors_contrat(livraison: lecture.Livraison) -> list[Echec]:
    attendus = {f"{t}.csv" for t in contrat.TABLES}
    noms = {f.name.lower() for f in livraison.fichiers()}
    if contrat.CLASSEUR in noms:
        attendus = {contrat.CLASSEUR}
    return [
        Echec(_nom_sur(f.name), None, "fichier_hors_contrat", REGLES_LIVRAISON["fichier_hors_contrat"],
              AVERTISSEMENT)
        for f in livraison.fichiers()
        if f.name.lower() not in attendus
    ]


# --------------------------------------------------------------------------- reader failures

_COLONNE_ILLISIBLE = re.compile(r"^colonne (\w+) : (\d+) ligne\(s\) \(([^)]*)\) ne sont pas (.+)$")
_A_LA_LIGNE = re.compile(r"à la ligne (\d+)")
_LIBELLES_LECTURE = (
    ("colonnes manquantes", "colonne manquante"),
    ("colonnes en double", "colonne en double"),
    ("colonnes hors contrat", "colonne hors contrat (refusée : c'est ainsi que fuient noms et adresses)"),
    ("fichier vide", "fichier vide"),
    ("UTF-16", "encodage non accepté (UTF-16)"),
    ("encodage illisible", "encodage illisible (ni UTF-8 ni Windows-1252)"),
    ("fichier binaire", "fichier binaire, pas un CSV"),
    ("sans séparateur", "ligne d'en-tête sans séparateur (fichier vide ou tronqué ?)"),
    ("structure CSV illisible", "structure CSV illisible (séparateurs mélangés, guillemet non fermé ou fichier tronqué)"),
    ("manquant(e)s", "fichier ou feuille manquant"),
    ("pas un fichier", "pas un fichier (un dossier ou un lien porte le nom d'une table)"),
    ("classeur illisible", "classeur illisible"),
)


def echecs_lecture(message: str, fichier: str, table: str | None) -> list[Echec]:
    """The reader's French message as failures (one per column where it names several)."""
    corps = message
    if corps.startswith(f"{fichier} : "):
        corps = corps[len(fichier) + 3:]
    corps = dp.masquer(corps).rstrip(".")
    nom_court = fichier.split("/", 2)[-1] if fichier.count("/") >= 2 else fichier
    echecs = []
    for partie in corps.split(" ; "):
        illisible = _COLONNE_ILLISIBLE.match(partie)
        if illisible:
            colonne, nombre, lignes, attendu = illisible.groups()
            echecs.append(
                Echec(
                    nom_court, colonne, "lecture", f"valeur illisible : attendu {attendu}", ERREUR,
                    int(nombre), [int(n) for n in re.findall(r"\d+", lignes)][:LIGNES_CITEES], table,
                    detail=partie,
                )
            )
            continue
        libelle = next(
            (texte for motif, texte in _LIBELLES_LECTURE if motif in partie), REGLES_LIVRAISON["lecture"]
        )
        ligne = _A_LA_LIGNE.search(partie)
        colonnes, cites = None, nom_court
        if ":" in partie and partie.startswith("colonnes "):
            colonnes = partie.split(":", 1)[1].split("(")[0].strip()
        elif partie.startswith("pas un fichier :"):  # folders named as tables: cite them
            cites = partie.split(":", 1)[1].split("(")[0].strip()
        elif "manquant(e)s :" in partie:  # missing files or sheets: cite them
            manquants = partie.split(":", 1)[1].strip()
            if partie.startswith("feuilles"):
                manquants = ", ".join(f"{contrat.CLASSEUR}:{m.strip()}" for m in manquants.split(","))
            cites = manquants
        echecs.append(
            Echec(
                cites, colonnes, "lecture", libelle, ERREUR,
                1 if ligne else None, [int(ligne.group(1))] if ligne else [], table, detail=partie,
            )
        )
    return echecs


# --------------------------------------------------------------------------- the delivery


def controler_nombre_de_lignes(chemin: Path, lue: lecture.TableLue, fichier: str, table: str) -> list[Echec]:
    """Every line of a CSV file must have become a row: nothing may be dropped silently.

    The contract has no free text, so no cell legitimately spans several lines; a file
    with more lines than rows read has lost some (an unclosed quote swallows the rest).
    """
    perdues = lecture.examiner_fichier(chemin).lignes_non_vides - 1 - lue.lignes
    if perdues <= 0:
        return []
    return [Echec(fichier, None, "lignes_non_lues", REGLES_LIVRAISON["lignes_non_lues"], ERREUR,
                  perdues, [lue.lignes + 2], table)]


def _echecs_constats(constats: dp.Constats, fichier: str, table: str | None) -> list[Echec]:
    echecs = []
    for constat in constats:
        code, libelle = dp.NATURES[constat.nature]
        echecs.append(
            Echec(fichier, constat.colonne, code, libelle, ERREUR, constat.lignes, constat.premieres, table)
        )
    return echecs


def _echec_regle(resultat: rg.Resultat, fichier: str) -> Echec:
    regle = resultat.regle
    if resultat.non_evaluee:
        return Echec(fichier, regle.colonne, "regle_non_evaluee",
                     f"{REGLES_LIVRAISON['regle_non_evaluee']} : {regle.libelle} [{regle.code}]",
                     ERREUR, None, [], regle.table)
    return Echec(fichier, regle.colonne, regle.code, regle.libelle, regle.severite,
                 resultat.lignes, resultat.premieres, regle.table)


def _nom_fichier(lue: lecture.TableLue, livraison: lecture.Livraison) -> str:
    prefixe = livraison.nom + "/"
    return lue.fichier[len(prefixe):] if lue.fichier.startswith(prefixe) else lue.fichier


def valider_livraison(
    livraison: lecture.Livraison,
    dossier_travail: Path,
    racine: Path | None = None,
    taille_morceau: int = rg.TAILLE_MORCEAU,
    moteur: str | None = None,
    part: int = 1,
) -> ResultatValidation:
    """Read a delivery into `dossier_travail` (typed Parquet, landing layout) and judge it.

    `racine` is the exports folder the delivery was found in: nothing outside it is read.
    The typed files stay in `dossier_travail` for the caller to land when accepted.
    `moteur` runs the row-level rules as compiled SQL (`sql`, the default) or in Great
    Expectations (`ge`, the reference engine). `part`: how many deliveries are validated
    at once (each connection then takes its share of memory and cores).
    """
    resultat = ResultatValidation(livraison.nom, livraison)
    resultat.echecs += controler_chemins(livraison, racine)
    if resultat.echecs:
        resultat.fichiers = [FichierLu(_nom_sur(f.name), None) for f in livraison.dossier.iterdir()]
        return resultat
    hachages = empreintes(livraison)
    resultat.echecs += fichiers_hors_contrat(livraison)
    if livraison.projet_id not in rg.catalogue()["projets_catalogue"]:
        resultat.echecs.append(
            Echec(livraison.nom, None, "projet_inconnu", REGLES_LIVRAISON["projet_inconnu"], ERREUR)
        )
    with tempfile.TemporaryDirectory(prefix="lecture-") as brouillon:
        _lire_et_juger(livraison, Path(dossier_travail), Path(brouillon), resultat, taille_morceau,
                       moteur or MOTEUR, part)
    lus = {_nom_fichier(lue, livraison): lue.lignes for lue in resultat.tables.values()}
    for nom_fichier, sha in sorted(hachages.items()):
        if nom_fichier.lower() == contrat.CLASSEUR:
            feuilles = [(f, n) for f, n in lus.items() if f.startswith(nom_fichier + ":")]
            if feuilles:
                resultat.fichiers += [FichierLu(f, sha, n) for f, n in feuilles]
                continue
        resultat.fichiers.append(FichierLu(_nom_sur(nom_fichier), sha, lus.get(nom_fichier)))
    return resultat


def _lire_et_juger(
    livraison: lecture.Livraison,
    sortie: Path,
    brouillon: Path,
    resultat: ResultatValidation,
    taille_morceau: int,
    moteur: str,
    part: int = 1,
) -> None:
    con = lecture.connexion(part)
    try:
        trouves = lecture.fichiers_livraison(livraison, brouillon)
    except LivraisonIllisible as erreur:
        resultat.echecs += echecs_lecture(str(erreur), livraison.nom, None)
        return
    classeur = next((f for f in livraison.fichiers() if f.name.lower() == contrat.CLASSEUR), None)
    if classeur is not None:
        for feuille, constats in dp.formules_classeur(classeur).items():
            resultat.echecs += _echecs_constats(constats, f"{classeur.name}:{feuille}", feuille)
    parquets: dict[str, Path] = {}
    for nom, (chemin, fichier) in trouves.items():
        table = contrat.TABLES[nom]
        nom_court = fichier.split("/", 2)[-1]
        parquet = lecture.chemin_landing(sortie, nom, livraison)
        try:
            lue = lecture.lire_table(
                con, table, chemin, fichier, livraison.date_extraction, parquet, brouillon
            )
        except LivraisonIllisible as erreur:
            resultat.echecs += echecs_lecture(str(erreur), fichier, nom)
            # a cell the reader could not type may be a leak: search the raw file
            resultat.echecs += _echecs_constats(dp.scanner_csv_brut(chemin, table), nom_court, nom)
            continue
        resultat.tables[nom] = lue
        parquets[nom] = parquet
        if classeur is None:
            perdues = controler_nombre_de_lignes(chemin, lue, nom_court, nom)
            if perdues:  # what was not read may be a leak: search the raw file
                resultat.echecs += perdues
                resultat.echecs += _echecs_constats(dp.scanner_csv_brut(chemin, table), nom_court, nom)
    _juger(con, livraison, parquets, resultat, taille_morceau, moteur)


def _juger(con, livraison, parquets, resultat, taille_morceau, moteur: str = MOTEUR) -> None:
    suites = rg.charger_suites()
    parametres = {"projet_livraison": [livraison.projet_id], **rg.catalogue()}
    constats = dp.scanner_parquets(con, {nom: parquets[nom] for nom in contrat.TABLES if nom in parquets})
    for nom in contrat.TABLES:
        if nom not in parquets:
            continue
        table, parquet = contrat.TABLES[nom], parquets[nom]
        fichier = _nom_fichier(resultat.tables[nom], livraison)
        regles = suites[nom]
        trouves: dict[int, rg.Resultat] = {}
        trouves.update(rg.regles_schema(con, parquet, regles))
        if moteur == "ge":
            trouves.update(rg.regles_ge(con, table, parquet, regles, parametres, taille_morceau))
        else:
            trouves.update(rg.regles_compilees(con, parquet, regles, parametres))
        trouves.update(rg.regles_sql(con, nom, parquets, regles))
        resultat.regles_verifiees += len(regles)
        for indice in sorted(trouves):
            resultat.echecs.append(_echec_regle(trouves[indice], fichier))
        resultat.echecs += _echecs_constats(constats[nom], fichier, nom)


def juger_landing(livraison: lecture.Livraison, landing: Path, part: int = 1) -> ResultatValidation:
    """The rules alone, on a delivery already read into `landing` (used by the benchmark to
    time validation apart from reading; `valider_livraison` does both). `part`: as there."""
    resultat = ResultatValidation(livraison.nom, livraison)
    parquets = {
        nom: lecture.chemin_landing(landing, nom, livraison)
        for nom in contrat.TABLES
        if lecture.chemin_landing(landing, nom, livraison).exists()
    }
    for nom, parquet in parquets.items():
        lignes = pq.ParquetFile(parquet).metadata.num_rows
        resultat.tables[nom] = lecture.TableLue(nom, f"{livraison.nom}/{nom}.csv", lignes, parquet)
    _juger(lecture.connexion(part), livraison, parquets, resultat, rg.TAILLE_MORCEAU)
    return resultat
