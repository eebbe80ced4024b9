"""The mapping file: how a landlord's extract becomes the contract's tables.

A TOML file, written from the template (`capitalisation preparer --modele`):

    [livraison]
    projet_id = "zero_expulsion"
    date_extraction = "2020-06-30"
    cle = "cle_pseudonymisation.txt"        # relative to the mapping file

    [menages]
    source = "locataires.csv"               # a SOURCE file, by its name
    feuille = ""                            # a workbook's sheet (empty: the first one)
    ignorer_si_vide = []                    # contract columns whose empty value drops the row
    # (other tables) ignorer_hors_menages = true: drop rows of households not in menages

    [menages.colonnes]
    menage_id = { pseudonyme = "N° locataire" }      # HMAC-SHA-256 of the tenant number
    bailleur_id = { valeur = "batigere" }            # the same value on every row
    cohorte = "Dispositif"                           # a column of the extract
    motif_fin = { colonne = "Motif sortie", defaut = "" }
    tranche_age = { date_naissance = "Né(e) le" }    # band of the age at date_orientation
    tranche_ressources = { ressources = ["Salaires", "Prestations"] }

    [menages.codes.cohorte]                          # values of the extract → contract codes
    "Suivi ZEX" = "accompagne"

A table may also be a list (`[[evenements]]`) when several files or columns feed it.
Everything is checked against the contract before any data is read: every problem of the
mapping is reported at once, in French.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from capitalisation import contrat, lecture
from capitalisation.erreurs import ErreurUtilisateur

CLE_DEFAUT = "cle_pseudonymisation.txt"
SECTION_LIVRAISON = "livraison"
CLES_TABLE = {"source", "feuille", "ignorer_si_vide", "ignorer_hors_menages", "colonnes", "codes"}
# Contract columns that are derived rather than copied, and what they are derived from.
DERIVATIONS = {"tranche_age": "date_naissance", "tranche_ressources": "ressources"}
REFERENCE_AGE = "date_orientation"


class CorrespondanceInvalide(ErreurUtilisateur):
    """A mapping file that leaves a required column unmapped, names an unknown code…"""

    code_sortie = 4


@dataclass(frozen=True)
class Origine:
    """Where one contract column comes from."""

    nature: str  # colonne | valeur | pseudonyme | date_naissance | ressources
    colonnes: tuple[str, ...] = ()  # source columns (as written in the mapping)
    valeur: str | None = None  # the constant, or the default of an empty cell
    reference: str = REFERENCE_AGE  # for date_naissance: the date the age is reckoned at

    def decrire(self) -> str:
        """French description of the origin, for messages (never a value of the data)."""
        from capitalisation.preparation.sources import nom_cite

        noms = ", ".join(f"« {nom_cite(c)} »" for c in self.colonnes)
        return {
            "colonne": f"colonne {noms}",
            "valeur": "valeur fixe de la correspondance",
            "pseudonyme": f"pseudonyme de {noms}",
            "date_naissance": f"tranche d'âge calculée de {noms}",
            "ressources": f"tranche de ressources calculée de {noms}",
        }[self.nature]


@dataclass
class Alimentation:
    """One source file (or sheet) feeding one contract table."""

    table: str
    source: str
    feuille: str = ""
    colonnes: dict[str, Origine] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # column → value → code
    ignorer_si_vide: tuple[str, ...] = ()
    ignorer_hors_menages: bool = False  # an extract of the whole stock: keep the project's households

    @property
    def nom_source(self) -> str:
        return f"{self.source}:{self.feuille}" if self.feuille else self.source

    def colonnes_source(self) -> set[str]:
        return {lecture.normaliser_nom(c) for o in self.colonnes.values() for c in o.colonnes}


@dataclass
class Correspondance:
    chemin: Path
    projet_id: str
    date_extraction: dt.date
    cle: Path
    alimentations: list[Alimentation]

    def par_table(self, table: str) -> list[Alimentation]:
        return [a for a in self.alimentations if a.table == table]


# --------------------------------------------------------------------------- reading


def _texte(valeur) -> str | None:
    """A TOML scalar as the text a cell would hold; None for an empty string."""
    if isinstance(valeur, bool):
        return "true" if valeur else "false"
    if isinstance(valeur, int | float):
        return str(valeur)
    if isinstance(valeur, dt.date):
        return valeur.isoformat()
    if isinstance(valeur, str):
        return valeur.strip() or None
    return None


def _colonnes_de(valeur, ou: str, problemes: list[str]) -> tuple[str, ...]:
    liste = valeur if isinstance(valeur, list) else [valeur]
    noms = []
    for element in liste:
        if not isinstance(element, str):
            problemes.append(f"{ou} : un nom de colonne de votre extraction est attendu (texte)")
            return ()
        if element.strip():
            noms.append(element.strip())
    return tuple(noms)


def _origine(nom: str, valeur, ou: str, problemes: list[str]) -> Origine | None:
    """The origin of a contract column; None when it is left unmapped (empty)."""
    if isinstance(valeur, str | list):
        colonnes = _colonnes_de(valeur, ou, problemes)
        if len(colonnes) > 1:
            problemes.append(f"{ou} : une seule colonne de votre extraction par colonne du contrat")
            return None
        return Origine("colonne", colonnes) if colonnes else None
    if not isinstance(valeur, dict):
        problemes.append(f"{ou} : valeur non comprise (attendu : un nom de colonne entre "
                         "guillemets ou une table { … })")
        return None
    cles = set(valeur)
    natures = cles & {"colonne", "valeur", "pseudonyme", "date_naissance", "ressources"}
    if len(natures) != 1:
        problemes.append(
            f"{ou} : indiquez une et une seule de colonne, valeur, pseudonyme, date_naissance, "
            "ressources"
        )
        return None
    nature = natures.pop()
    permises = {nature} | ({"defaut"} if nature == "colonne" else set()) | (
        {"reference"} if nature == "date_naissance" else set()
    )
    if cles - permises:
        problemes.append(f"{ou} : clé(s) non comprise(s) : " + ", ".join(sorted(cles - permises)))
        return None
    if nature == "valeur":
        texte = _texte(valeur["valeur"])
        return Origine("valeur", valeur=texte) if texte is not None else None
    colonnes = _colonnes_de(valeur[nature], ou, problemes)
    if not colonnes:
        return None
    if nature in ("colonne", "date_naissance") and len(colonnes) > 1:
        problemes.append(f"{ou} : une seule colonne de votre extraction attendue")
        return None
    reference = valeur.get("reference", REFERENCE_AGE)
    return Origine(nature, colonnes, _texte(valeur.get("defaut")), str(reference))


def _date_extraction(valeur, problemes: list[str]) -> dt.date | None:
    if isinstance(valeur, dt.date) and not isinstance(valeur, dt.datetime):
        return valeur
    texte = _texte(valeur)
    if texte and lecture.MOTIF_DATE.match(texte):
        try:
            return dt.date.fromisoformat(texte)
        except ValueError:
            pass
    problemes.append("[livraison] date_extraction : une date AAAA-MM-JJ est attendue "
                     "(la date de votre extraction, nom du dossier livré)")
    return None


def lire_correspondance(chemin: Path) -> Correspondance:
    """Read and check a mapping file against the contract; every problem is reported at once."""
    chemin = Path(chemin)
    if not chemin.is_file():
        raise CorrespondanceInvalide(f"le fichier de correspondance {chemin} n'existe pas.")
    try:
        donnees = tomllib.loads(chemin.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise CorrespondanceInvalide(f"{chemin.name} : enregistrez le fichier en UTF-8.") from None
    except tomllib.TOMLDecodeError as erreur:
        raise CorrespondanceInvalide(f"{chemin.name} : syntaxe TOML invalide ({erreur}).") from None
    problemes: list[str] = []
    inconnues = sorted(set(donnees) - set(contrat.TABLES) - {SECTION_LIVRAISON})
    if inconnues:
        problemes.append("sections hors contrat : " + ", ".join(f"[{s}]" for s in inconnues)
                         + " (tables du contrat : " + ", ".join(contrat.TABLES) + ")")
    livraison = donnees.get(SECTION_LIVRAISON, {})
    projet_id = _texte(livraison.get("projet_id")) or ""
    if not lecture.MOTIF_PROJET.match(projet_id):
        problemes.append("[livraison] projet_id : le code du projet au catalogue est attendu "
                         "(lettres minuscules, chiffres et « _ »)")
    date_extraction = _date_extraction(livraison.get("date_extraction"), problemes)
    cle = Path(_texte(livraison.get("cle")) or CLE_DEFAUT).expanduser()
    if not cle.is_absolute():
        cle = chemin.resolve().parent / cle

    alimentations: list[Alimentation] = []
    for table in contrat.TABLES.values():
        sections = donnees.get(table.nom, [])
        sections = sections if isinstance(sections, list) else [sections]
        for rang, section in enumerate(sections, start=1):
            ou = f"[{table.nom}]" if len(sections) == 1 else f"[[{table.nom}]] n° {rang}"
            alimentation = _alimentation(table, section, ou, problemes)
            if alimentation is not None:
                alimentations.append(alimentation)
        if table.obligatoire and not any(a.table == table.nom for a in alimentations) and (
            table.nom in (contrat.MENAGES.nom, contrat.COMPTES_MENSUELS.nom)
        ):
            problemes.append(f"[{table.nom}] source : table obligatoire sans fichier source")
    _colonnes_protegees(alimentations, problemes)
    if problemes:
        raise CorrespondanceInvalide(
            f"{chemin.name} : la correspondance est incomplète ou erronée, rien n'a été préparé :\n"
            + "\n".join(f"  - {p}" for p in problemes)
        )
    return Correspondance(chemin, projet_id, date_extraction, cle, alimentations)


def _alimentation(table: contrat.Table, section, ou: str, problemes: list[str]):
    if not isinstance(section, dict):
        problemes.append(f"{ou} : une table TOML est attendue")
        return None
    source = _texte(section.get("source"))
    if source is None:
        return None  # the table is not fed by this extract
    for cle in sorted(set(section) - CLES_TABLE):
        problemes.append(f"{ou} {cle} : clé non comprise (attendu : " + ", ".join(sorted(CLES_TABLE)) + ")")
    alimentation = Alimentation(table.nom, Path(source).name, _texte(section.get("feuille")) or "")
    colonnes = section.get("colonnes", {})
    for nom, valeur in colonnes.items():
        ici = f"{ou} colonnes.{nom}"
        if nom not in table.noms_colonnes:
            problemes.append(f"{ici} : colonne hors contrat (colonnes de {table.nom} : "
                             + ", ".join(table.noms_colonnes) + ")")
            continue
        if nom == "projet_id":
            problemes.append(f"{ici} : le projet vient de [livraison] projet_id, retirez cette ligne")
            continue
        origine = _origine(nom, valeur, ici, problemes)
        if origine is None:
            continue
        colonne = table.colonne(nom)
        if nom == "menage_id" and origine.nature != "pseudonyme":
            problemes.append(f"{ici} : l'identifiant du ménage doit être pseudonymisé : "
                             "menage_id = { pseudonyme = \"<colonne du n° de locataire>\" }")
            continue
        if origine.nature == "pseudonyme" and nom != "menage_id":
            problemes.append(f"{ici} : seul menage_id est pseudonymisé")
            continue
        if origine.nature in ("date_naissance", "ressources") and DERIVATIONS.get(nom) != origine.nature:
            cible = next(c for c, n in DERIVATIONS.items() if n == origine.nature)
            problemes.append(f"{ici} : {origine.nature} ne sert qu'à calculer {cible}")
            continue
        if origine.nature == "date_naissance" and origine.reference != REFERENCE_AGE and (
            origine.reference != "date_extraction"
        ):
            problemes.append(f"{ici} : reference = \"{REFERENCE_AGE}\" (défaut) ou \"date_extraction\"")
            continue
        texte = origine.valeur  # a constant, or the default of an empty cell
        if texte is not None and colonne.codes and texte.lower() not in colonne.codes:
            problemes.append(f"{ici} : code inconnu du contrat (codes : " + ", ".join(colonne.codes) + ")")
            continue
        if texte is not None and colonne.type == contrat.BOOLEEN and texte.lower() not in (
            contrat.BOOLEENS_VRAIS | contrat.BOOLEENS_FAUX
        ):
            problemes.append(f"{ici} : oui ou non attendu")
            continue
        alimentation.colonnes[nom] = origine
    for nom in table.noms_colonnes:
        colonne = table.colonne(nom)
        if nom == "projet_id" or nom in alimentation.colonnes or colonne.nullable:
            continue
        if nom in colonnes and any(p.startswith(f"{ou} colonnes.{nom} ") for p in problemes):
            continue  # already reported
        problemes.append(f"{ou} colonnes.{nom} : colonne obligatoire sans correspondance")
    _codes(table, section.get("codes", {}), alimentation, ou, problemes)
    ignorer = section.get("ignorer_si_vide", [])
    ignorer = [ignorer] if isinstance(ignorer, str) else ignorer
    for nom in ignorer:
        if nom not in alimentation.colonnes:
            problemes.append(f"{ou} ignorer_si_vide : {nom} n'est pas une colonne alimentée de {table.nom}")
    alimentation.ignorer_si_vide = tuple(ignorer)
    hors_menages = section.get("ignorer_hors_menages", False)
    if not isinstance(hors_menages, bool) or (hors_menages and table.nom == contrat.MENAGES.nom):
        problemes.append(f"{ou} ignorer_hors_menages : true ou false, pour les tables autres que menages")
    else:
        alimentation.ignorer_hors_menages = hors_menages
    return alimentation


def _codes(table: contrat.Table, codes, alimentation: Alimentation, ou: str, problemes: list[str]) -> None:
    if not isinstance(codes, dict):
        problemes.append(f"{ou} codes : une table TOML est attendue")
        return
    for nom, valeurs in codes.items():
        ici = f"{ou} codes.{nom}"
        if valeurs == {}:
            continue  # a section of the template left empty
        origine = alimentation.colonnes.get(nom)
        if nom not in table.noms_colonnes:
            problemes.append(f"{ici} : colonne hors contrat")
            continue
        if origine is None or origine.nature != "colonne":
            problemes.append(f"{ici} : {nom} n'est pas lue d'une colonne de votre extraction")
            continue
        if not isinstance(valeurs, dict):
            problemes.append(f"{ici} : une table « valeur de l'extraction » = « code » est attendue")
            continue
        colonne = table.colonne(nom)
        recodage: dict[str, str] = {}
        for valeur_source, code in valeurs.items():
            texte = _texte(code)
            if texte is None and not colonne.nullable:
                problemes.append(f"{ici} : « {valeur_source} » sans code (colonne obligatoire)")
                continue
            if texte is not None and colonne.codes and texte.lower() not in colonne.codes:
                problemes.append(f"{ici} : « {valeur_source} » = « {texte} » : code inconnu du contrat "
                                 "(codes : " + ", ".join(colonne.codes) + ")")
                continue
            if texte is not None and colonne.type == contrat.BOOLEEN and texte.lower() not in (
                contrat.BOOLEENS_VRAIS | contrat.BOOLEENS_FAUX
            ):
                problemes.append(f"{ici} : « {valeur_source} » = « {texte} » : oui ou non attendu")
                continue
            recodage[cle_valeur(valeur_source)] = "" if texte is None else texte
        alimentation.codes[nom] = recodage


def cle_valeur(texte: str) -> str:
    """How values of the extract are matched to the mapping: case, accents and spacing aside."""
    return lecture.normaliser_nom(str(texte))


def _colonnes_protegees(alimentations: list[Alimentation], problemes: list[str]) -> None:
    """A tenant number, a birth date or an amount of resources is never copied in clear."""
    protegees: dict[tuple[str, str], str] = {}
    for a in alimentations:
        for origine in a.colonnes.values():
            if origine.nature in ("pseudonyme", "date_naissance", "ressources"):
                for c in origine.colonnes:
                    protegees[(a.nom_source, lecture.normaliser_nom(c))] = origine.nature
    for a in alimentations:
        for nom, origine in a.colonnes.items():
            if origine.nature != "colonne":
                continue
            nature = protegees.get((a.nom_source, lecture.normaliser_nom(origine.colonnes[0])))
            if nature:
                problemes.append(
                    f"[{a.table}] colonnes.{nom} : la colonne « {origine.colonnes[0]} » sert de "
                    f"{nature.replace('_', ' ')} : elle ne peut pas être livrée en clair"
                )
