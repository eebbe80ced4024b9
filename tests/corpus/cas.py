"""The corpus of deliveries as they really arrive: one good delivery, and the bad ones.

Every case is written at test time from the same good delivery (project `declic`,
landlord `les_chalets`, extraction 2020-06-30: six households, their rent accounts,
events and meetings), with one thing broken. Each case states what the validation must
produce: the delivery's status, the failed rules (code, file, column, first row numbers,
the header being line 1) and a French fragment of the report. Values planted as personal
data are listed so that tests can check they never reach the warehouse, a report or a log.

Row numbers of the good delivery: menages.csv a1 = 2, a2 = 3, a3 = 4, t1 = 5, t2 = 6, a4 = 7;
comptes_mensuels.csv rows follow the households in that order, month by month (see
`ligne_compte`).
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

PROJET = "declic"
BAILLEUR = "les_chalets"
EXTRACTION = dt.date(2020, 6, 30)

COLONNES = {
    "menages": [
        "menage_id", "projet_id", "bailleur_id", "cohorte", "volet", "date_orientation",
        "date_debut_accompagnement", "date_fin_accompagnement", "motif_fin", "composition",
        "tranche_age", "tranche_ressources", "loyer_mensuel", "taux_effort", "departement",
        "public_prioritaire", "origine_orientation",
    ],
    "comptes_mensuels": [
        "menage_id", "projet_id", "mois", "quittance", "aide_logement", "paiement",
        "regularisation", "solde_fin_mois", "plan_apurement",
    ],
    "evenements": ["menage_id", "projet_id", "date", "type_evenement"],
    "contacts": ["menage_id", "projet_id", "date", "type_contact", "honore", "intervenant"],
}

# menage_id, cohorte, volet, orientation, debut, fin, motif, composition, age, ressources,
# loyer, taux, public, origine, first account month, opening balance, monthly repayment
_MENAGES = [
    ("a1", "accompagne", "maintien", "2019-03-15", "2019-04-01", "2019-12-20", "objectifs_atteints",
     "isole", "25_39", "moins_1000", "450.00", "0.35", "aucun", "bailleur", "2018-09", "900.00", "60.00"),
    ("a2", "accompagne", "maintien", "2019-05-10", "2019-05-20", "", "", "monoparental", "40_59",
     "1000_1500", "520.50", "0.40", "dalo", "siao", "2018-11", "1250.40", "45.20"),
    ("a3", "accompagne", "maintien", "2019-09-02", "", "", "", "couple_avec_enfants", "40_59",
     "1500_plus", "610.00", "", "aucun", "ccas", "2019-03", "300.00", "0.00"),
    ("t1", "temoin", "maintien", "2019-04-01", "", "", "", "isole", "60_plus", "moins_1000",
     "390.00", "0.30", "aucun", "bailleur", "2018-10", "780.00", "20.00"),
    ("t2", "temoin", "maintien", "2019-06-15", "", "", "", "couple_sans_enfant", "25_39",
     "1000_1500", "480.00", "0.28", "pdalhpd", "service_social", "2018-12", "0.00", "0.00"),
    ("a4", "accompagne", "acces", "2019-10-01", "2019-10-15", "", "", "isole", "moins_25",
     "moins_1000", "350.00", "0.25", "sortie_hebergement", "association", "2019-11", "0.00", "0.00"),
]
AIDE = Decimal("100.00")

_EVENEMENTS = [
    ("a1", "2019-02-10", "commandement_payer"),
    ("a1", "2019-06-01", "plan_apurement_signe"),
    ("a2", "2019-04-20", "impaye_signale"),
    ("t1", "2019-08-01", "commandement_payer"),
    ("a4", "2019-11-02", "entree_logement"),
]
_CONTACTS = [
    ("a1", "2019-04-01", "visite_domicile", "oui", "travailleur_social"),
    ("a1", "2019-05-03", "rdv_bureau", "non", "cesf"),
    ("a1", "2019-06-07", "telephone", "oui", "cesf"),
    ("a2", "2019-05-20", "visite_domicile", "oui", "travailleur_social"),
    ("a2", "2019-07-11", "bilan", "oui", "travailleur_social"),
    ("a4", "2019-10-15", "accompagnement_demarche", "oui", "autre"),
]


def _mois_suivant(mois: str) -> str:
    annee, numero = (int(x) for x in mois.split("-"))
    annee, numero = (annee + 1, 1) if numero == 12 else (annee, numero + 1)
    return f"{annee:04d}-{numero:02d}"


def base() -> dict[str, list[dict[str, str]]]:
    """The good delivery, as text cells (ISO dates, decimal point)."""
    menages, comptes = [], []
    for (menage, cohorte, volet, orientation, debut, fin, motif, composition, age, ressources,
         loyer, taux, public, origine, premier, solde, remboursement) in _MENAGES:
        menages.append(dict(zip(COLONNES["menages"], [
            menage, PROJET, BAILLEUR, cohorte, volet, orientation, debut, fin, motif, composition,
            age, ressources, loyer, taux, "31", public, origine,
        ])))
        solde, mois = Decimal(solde), premier
        while mois <= EXTRACTION.strftime("%Y-%m"):
            quittance = Decimal(loyer)
            paiement = quittance - AIDE + min(Decimal(remboursement), max(solde, Decimal(0)))
            solde = solde + quittance - AIDE - paiement
            comptes.append(dict(zip(COLONNES["comptes_mensuels"], [
                menage, PROJET, mois, f"{quittance:.2f}", f"{AIDE:.2f}", f"{paiement:.2f}", "0.00",
                f"{solde:.2f}", "oui" if remboursement != "0.00" and solde > 0 else "non",
            ])))
            mois = _mois_suivant(mois)
    evenements = [dict(zip(COLONNES["evenements"], [m, PROJET, d, t])) for m, d, t in _EVENEMENTS]
    contacts = [dict(zip(COLONNES["contacts"], [m, PROJET, d, t, h, i])) for m, d, t, h, i in _CONTACTS]
    return {"menages": menages, "comptes_mensuels": comptes, "evenements": evenements, "contacts": contacts}


def ligne_menage(menage_id: str) -> int:
    return [m[0] for m in _MENAGES].index(menage_id) + 2


def ligne_compte(menage_id: str, mois: str) -> int:
    for numero, ligne in enumerate(base()["comptes_mensuels"], start=2):
        if ligne["menage_id"] == menage_id and ligne["mois"] == mois:
            return numero
    raise KeyError((menage_id, mois))


def lignes_menage(donnees: dict, table: str, menage_id: str) -> list[int]:
    return [n for n, ligne in enumerate(donnees[table], start=2) if ligne["menage_id"] == menage_id]


def recalculer_soldes(comptes: list[dict[str, str]], menage_id: str) -> None:
    """Keep the rent-account identity after a flow was changed."""
    solde = None
    for ligne in comptes:
        if ligne["menage_id"] != menage_id:
            continue
        if solde is None:
            flux = (Decimal(ligne["quittance"]) - Decimal(ligne["aide_logement"])
                    - Decimal(ligne["paiement"]) + Decimal(ligne["regularisation"] or 0))
            solde = Decimal(ligne["solde_fin_mois"]) - flux
        solde += (Decimal(ligne["quittance"]) - Decimal(ligne["aide_logement"])
                  - Decimal(ligne["paiement"]) + Decimal(ligne["regularisation"] or 0))
        ligne["solde_fin_mois"] = f"{solde:.2f}"


def renommer_menage(donnees: dict, ancien: str, nouveau: str) -> None:
    for lignes in donnees.values():
        for ligne in lignes:
            if ligne.get("menage_id") == ancien:
                ligne["menage_id"] = nouveau


# --------------------------------------------------------------------------- writing


def texte_csv(lignes: list[dict[str, str]], colonnes: list[str], separateur: str = ";") -> str:
    def cellule(valeur: str) -> str:
        if any(c in valeur for c in (separateur, '"', "\n")):
            return '"' + valeur.replace('"', '""') + '"'
        return valeur

    sortie = [separateur.join(colonnes)]
    sortie += [separateur.join(cellule(ligne.get(c, "")) for c in colonnes) for ligne in lignes]
    return "\n".join(sortie) + "\n"


def ecrire_livraison(
    dossier: Path,
    donnees: dict[str, list[dict[str, str]]],
    colonnes: dict[str, list[str]] | None = None,
    separateur: str = ";",
    encodages: dict[str, str] | None = None,
) -> Path:
    dossier.mkdir(parents=True, exist_ok=True)
    colonnes = {**COLONNES, **(colonnes or {})}
    for table, lignes in donnees.items():
        texte = texte_csv(lignes, colonnes[table], separateur)
        encodage = (encodages or {}).get(table, "utf-8")
        (dossier / f"{table}.csv").write_bytes(texte.encode(encodage))
    return dossier


def ecrire_classeur(dossier: Path, donnees: dict, formules: dict | None = None) -> Path:
    """The delivery as one workbook; `formules` = {(sheet, row, column): formula}."""
    import xlsxwriter

    dossier.mkdir(parents=True, exist_ok=True)
    classeur = xlsxwriter.Workbook(str(dossier / "export.xlsx"))
    for table, lignes in donnees.items():
        feuille = classeur.add_worksheet(table)
        for j, colonne in enumerate(COLONNES[table]):
            feuille.write_string(0, j, colonne)
        for i, ligne in enumerate(lignes, start=1):
            for j, colonne in enumerate(COLONNES[table]):
                formule = (formules or {}).get((table, i, colonne))
                if formule:
                    feuille.write_formula(i, j, formule, None, ligne[colonne])
                else:
                    feuille.write_string(i, j, ligne[colonne])
    classeur.close()
    return dossier


# --------------------------------------------------------------------------- personal data


def nir(corps: str) -> str:
    """A NIR with its valid key (Corsica: 2A → 19, 2B → 18 for the key)."""
    nombre = corps.replace(" ", "").upper().replace("2A", "19").replace("2B", "18")
    return f"{corps} {97 - int(nombre) % 97:02d}"


NIR = nir("1 85 05 78 006 084")
NIR_CORSE = nir("2 90 12 2A 123 456")
IBAN = "FR76 3000 6000 0112 3456 7890 189"
COURRIEL = "marie.dupont@exemple.fr"
TELEPHONE = "06 12 34 56 78"
TELEPHONE_INTERNATIONAL = "+33 6 98 76 54 32"
ADRESSE = "12 rue des Lilas"
NOM = "Dupont-Martin"


# --------------------------------------------------------------------------- the cases


@dataclass
class Attendu:
    statut: str  # `refusee` or `acceptee`
    # (rule code, file, column, first row numbers); None = not checked
    regles: list[tuple[str, str | None, str | None, list[int] | None]] = field(default_factory=list)
    message: str = ""  # French fragment of the Markdown report


@dataclass
class Cas:
    nom: str
    description: str
    ecrire: Callable[[Path], Path]  # (delivery folder to create) → the folder written
    attendu: Attendu
    valeurs: tuple[str, ...] = ()  # planted personal data: never to be seen again
    dans_run: bool = True  # part of the single `run` over the whole corpus
    projet: str = PROJET


def _modifie(modifier: Callable[[dict], None], **options) -> Callable[[Path], Path]:
    def ecrire(dossier: Path) -> Path:
        donnees = base()
        modifier(donnees)
        return ecrire_livraison(dossier, donnees, **options)

    return ecrire


def _brut(fichier: str, contenu: Callable[[], bytes]) -> Callable[[Path], Path]:
    def ecrire(dossier: Path) -> Path:
        ecrire_livraison(dossier, base())
        (dossier / fichier).write_bytes(contenu())
        return dossier

    return ecrire


def _texte(table: str, separateur: str = ";", donnees: dict | None = None) -> str:
    return texte_csv((donnees or base())[table], COLONNES[table], separateur)


def _tronque() -> bytes:
    texte = _texte("comptes_mensuels").encode()
    fin = texte.rstrip(b"\n").rfind(b"\n")
    return texte[: fin + 20]  # cut in the middle of the last row


def _separateurs_melanges() -> bytes:
    lignes = _texte("comptes_mensuels").splitlines()
    lignes[5] = lignes[5].replace(";", ",")
    return ("\n".join(lignes) + "\n").encode()


def _guillemet() -> bytes:
    lignes = _texte("evenements").splitlines()
    lignes[2] = lignes[2].replace(";2019", ';"2019', 1)
    return ("\n".join(lignes) + "\n").encode()


def _entete_modifiee(table: str, remplacer: Callable[[str], str]) -> Callable[[], bytes]:
    def contenu() -> bytes:
        entete, reste = _texte(table).split("\n", 1)
        return (remplacer(entete) + "\n" + reste).encode()

    return contenu


def _colonne_en_plus(table: str, nom: str, valeur: Callable[[int], str]) -> Callable[[], bytes]:
    def contenu() -> bytes:
        lignes = _texte(table).splitlines()
        lignes[0] += f";{nom}"
        for i in range(1, len(lignes)):
            lignes[i] += f";{valeur(i)}"
        return ("\n".join(lignes) + "\n").encode()

    return contenu


def _cellule(table: str, index: int, colonne: str, valeur: str) -> Callable[[dict], None]:
    def modifier(donnees: dict) -> None:
        donnees[table][index][colonne] = valeur

    return modifier


def _menage(ancien: str, nouveau: str) -> Callable[[dict], None]:
    return lambda donnees: renommer_menage(donnees, ancien, nouveau)


def _flux(menage: str, mois: str, **valeurs: str) -> Callable[[dict], None]:
    def modifier(donnees: dict) -> None:
        for ligne in donnees["comptes_mensuels"]:
            if ligne["menage_id"] == menage and ligne["mois"] == mois:
                ligne.update(valeurs)
        recalculer_soldes(donnees["comptes_mensuels"], menage)

    return modifier


def _solde_faux(donnees: dict) -> None:
    for ligne in donnees["comptes_mensuels"]:
        if ligne["menage_id"] == "a2" and ligne["mois"] == "2019-08":
            ligne["solde_fin_mois"] = f"{Decimal(ligne['solde_fin_mois']) + 50:.2f}"


def _doublon(table: str, index: int) -> Callable[[dict], None]:
    def modifier(donnees: dict) -> None:
        donnees[table].insert(index + 1, dict(donnees[table][index]))

    return modifier


def _comptes_orphelins(donnees: dict) -> None:
    for ligne in donnees["comptes_mensuels"]:
        if ligne["menage_id"] == "t2":
            ligne["menage_id"] = "zz8"


def _sans_mois(menage: str, mois: str) -> Callable[[dict], None]:
    def modifier(donnees: dict) -> None:
        comptes = donnees["comptes_mensuels"]
        donnees["comptes_mensuels"] = [
            ligne for ligne in comptes if not (ligne["menage_id"] == menage and ligne["mois"] == mois)
        ]
        recalculer_soldes(donnees["comptes_mensuels"], menage)

    return modifier


def _projet(table: str, projet: str) -> Callable[[dict], None]:
    def modifier(donnees: dict) -> None:
        for ligne in donnees[table]:
            ligne["projet_id"] = projet

    return modifier


def _partout(projet: str) -> Callable[[dict], None]:
    def modifier(donnees: dict) -> None:
        for table in donnees:
            _projet(table, projet)(donnees)

    return modifier


def _ajoute(table: str, ligne: dict) -> Callable[[dict], None]:
    return lambda donnees: donnees[table].append(ligne)


def _vide(table: str) -> Callable[[dict], None]:
    def modifier(donnees: dict) -> None:
        donnees[table] = []

    return modifier


def _sans_fichier(table: str) -> Callable[[Path], Path]:
    def ecrire(dossier: Path) -> Path:
        ecrire_livraison(dossier, base())
        (dossier / f"{table}.csv").unlink()
        return dossier

    return ecrire


def _avec_bom(dossier: Path) -> Path:
    ecrire_livraison(dossier, base())
    for fichier in dossier.glob("*.csv"):
        fichier.write_bytes(codecs.BOM_UTF8 + fichier.read_bytes())
    return dossier


def _formats_francais(dossier: Path) -> Path:
    donnees = base()
    for ligne in donnees["menages"]:
        for colonne in ("loyer_mensuel", "taux_effort"):
            ligne[colonne] = ligne[colonne].replace(".", ",")
        for colonne in ("date_orientation", "date_debut_accompagnement", "date_fin_accompagnement"):
            if ligne[colonne]:
                annee, mois, jour = ligne[colonne].split("-")
                ligne[colonne] = f"{jour}/{mois}/{annee}"
        ligne["cohorte"] = ligne["cohorte"].capitalize()
    for ligne in donnees["comptes_mensuels"]:
        annee, mois = ligne["mois"].split("-")
        ligne["mois"] = f"{mois}/{annee}"
        ligne["plan_apurement"] = ligne["plan_apurement"].upper()
    return ecrire_livraison(dossier, donnees, encodages={"menages": "cp1252"})


def _classeur_sans(feuille: str) -> Callable[[Path], Path]:
    def ecrire(dossier: Path) -> Path:
        donnees = base()
        del donnees[feuille]
        return ecrire_classeur(dossier, donnees)

    return ecrire


def _classeur_formule(dossier: Path) -> Path:
    formule = '=HYPERLINK("http://exemple.org/piege","a2")'
    return ecrire_classeur(dossier, base(), {("menages", 2, "menage_id"): formule})


def _lien_fichier(dossier: Path) -> Path:
    ecrire_livraison(dossier, base())
    dehors = dossier.parent.parent.parent / "hors_exports"
    dehors.mkdir(parents=True, exist_ok=True)
    (dehors / "menages.csv").write_text(_texte("menages"), encoding="utf-8")
    (dossier / "menages.csv").unlink()
    os.symlink(dehors / "menages.csv", dossier / "menages.csv")
    return dossier


def _lien_dossier(dossier: Path) -> Path:
    dehors = dossier.parent.parent.parent / "hors_exports" / dossier.name
    ecrire_livraison(dehors, base())
    dossier.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(dehors, dossier, target_is_directory=True)
    return dossier


def _binaire() -> bytes:
    return bytes(range(256)) * 8


LONG = "x" * 1500


def _compte(menage: str, mois: str) -> list[int]:
    return [ligne_compte(menage, mois)]


CAS: list[Cas] = [
    # --- what the reader refuses
    Cas("fichier_vide", "menages.csv de zéro octet", _brut("menages.csv", lambda: b""),
        Attendu("refusee", [("lecture", "menages.csv", None, None)], "fichier vide")),
    Cas("fichier_tronque", "comptes_mensuels.csv coupé au milieu de la dernière ligne",
        _brut("comptes_mensuels.csv", _tronque),
        Attendu("refusee", [("lecture", "comptes_mensuels.csv", None, None)], "structure CSV illisible")),
    Cas("entete_tronquee", "menages.csv réduit à la moitié de son en-tête",
        _brut("menages.csv", lambda: _texte("menages").split("\n")[0][:60].encode()),
        Attendu("refusee", [("lecture", "menages.csv", None, None)], "colonne manquante")),
    Cas("fichier_binaire", "contacts.csv remplacé par des octets binaires",
        _brut("contacts.csv", _binaire),
        Attendu("refusee", [("lecture", "contacts.csv", None, None)], "fichier binaire")),
    Cas("encodage_utf16", "evenements.csv enregistré en UTF-16",
        _brut("evenements.csv", lambda: _texte("evenements").encode("utf-16")),
        Attendu("refusee", [("lecture", "evenements.csv", None, None)], "UTF-16")),
    Cas("octets_invalides", "menages.csv avec un octet ni UTF-8 ni Windows-1252",
        _brut("menages.csv", lambda: _texte("menages").encode().replace(b"isole", b"iso\x81le", 1)),
        Attendu("refusee", [("lecture", "menages.csv", None, None)], "encodage illisible")),
    Cas("separateurs_melanges", "une ligne de comptes_mensuels.csv séparée par des virgules",
        _brut("comptes_mensuels.csv", _separateurs_melanges),
        Attendu("refusee", [("lecture", "comptes_mensuels.csv", None, [6])], "structure CSV illisible")),
    Cas("guillemet_non_ferme", "un guillemet ouvert jamais fermé dans evenements.csv",
        _brut("evenements.csv", _guillemet),
        Attendu("refusee", [("lecture", "evenements.csv", None, [3])], "guillemet non fermé")),
    Cas("colonne_manquante", "menages.csv sans la colonne taux_effort",
        _brut("menages.csv", _entete_modifiee("menages", lambda e: e.replace(";taux_effort", ";"))),
        Attendu("refusee", [("lecture", "menages.csv", None, None)], "taux_effort")),
    Cas("colonne_en_double", "menages.csv avec deux colonnes cohorte",
        _brut("menages.csv", _entete_modifiee("menages", lambda e: e.replace(";volet;", ";cohorte;"))),
        Attendu("refusee", [("lecture", "menages.csv", "cohorte", None)], "colonne en double")),
    Cas("colonne_en_trop", "menages.csv avec une colonne nom (des noms de famille)",
        _brut("menages.csv", _colonne_en_plus("menages", "nom", lambda i: f"{NOM}{i}")),
        Attendu("refusee", [("lecture", "menages.csv", "nom", None)], "colonne hors contrat"),
        valeurs=(NOM,)),
    Cas("colonne_iban_en_trop", "contacts.csv avec une colonne iban remplie",
        _brut("contacts.csv", _colonne_en_plus("contacts", "iban", lambda i: IBAN)),
        Attendu("refusee", [("lecture", "contacts.csv", "iban", None), ("dp_iban", "contacts.csv", "iban", [2, 3, 4])],
                "IBAN"),
        valeurs=(IBAN, IBAN.replace(" ", ""))),
    Cas("fichier_manquant", "pas de contacts.csv", _sans_fichier("contacts"),
        Attendu("refusee", [("lecture", None, None, None)], "contacts.csv")),
    Cas("valeur_illisible_courriel", "une adresse électronique dans la colonne date_orientation",
        _modifie(_cellule("menages", 1, "date_orientation", COURRIEL)),
        Attendu("refusee", [("lecture", "menages.csv", "date_orientation", [3]),
                            ("dp_courriel", "menages.csv", "date_orientation", [3])], "adresse électronique"),
        valeurs=(COURRIEL,)),
    Cas("montant_illisible", "un montant à trois décimales dans comptes_mensuels.csv",
        _modifie(_cellule("comptes_mensuels", 3, "quittance", "450.001")),
        Attendu("refusee", [("lecture", "comptes_mensuels.csv", "quittance", [5])], "valeur illisible")),
    # --- workbooks
    Cas("classeur_feuille_manquante", "export.xlsx sans la feuille contacts", _classeur_sans("contacts"),
        Attendu("refusee", [("lecture", None, None, None)], "contacts")),
    Cas("classeur_formule", "export.xlsx avec =HYPERLINK(...) dans un identifiant", _classeur_formule,
        Attendu("refusee", [("formule", "export.xlsx:menages", "menage_id", [3])], "formule"),
        valeurs=("exemple.org/piege",)),
    # --- personal data in a typed column
    Cas("courriel", "une adresse électronique comme identifiant de ménage",
        _modifie(_menage("a2", COURRIEL)),
        Attendu("refusee", [("dp_courriel", "menages.csv", "menage_id", [3]),
                            ("dp_courriel", "comptes_mensuels.csv", "menage_id", None)], "adresse électronique"),
        valeurs=(COURRIEL,)),
    Cas("telephone", "un numéro de portable à la place d'un intervenant",
        _modifie(_cellule("contacts", 1, "intervenant", TELEPHONE)),
        Attendu("refusee", [("dp_telephone", "contacts.csv", "intervenant", [3]),
                            ("code_inconnu", "contacts.csv", "intervenant", [3])], "numéro de téléphone"),
        valeurs=(TELEPHONE,)),
    Cas("telephone_international", "un numéro +33 comme identifiant de ménage",
        _modifie(_menage("t1", TELEPHONE_INTERNATIONAL)),
        Attendu("refusee", [("dp_telephone", "menages.csv", "menage_id", [5])], "numéro de téléphone"),
        valeurs=(TELEPHONE_INTERNATIONAL,)),
    Cas("telephone_0033", "un numéro 0033 collé comme identifiant de ménage",
        _modifie(_menage("t2", "0033698765432")),
        Attendu("refusee", [("dp_telephone", "menages.csv", "menage_id", [6])], "numéro de téléphone"),
        valeurs=("0033698765432",)),
    Cas("nir", "un numéro de sécurité sociale comme identifiant de ménage",
        _modifie(_menage("a1", NIR)),
        Attendu("refusee", [("dp_nir", "menages.csv", "menage_id", [2])], "NIR"),
        valeurs=(NIR, NIR.replace(" ", ""))),
    Cas("nir_corse", "un NIR né en Corse-du-Sud (2A) comme identifiant",
        _modifie(_menage("a3", NIR_CORSE.replace(" ", ""))),
        Attendu("refusee", [("dp_nir", "menages.csv", "menage_id", [4])], "NIR"),
        valeurs=(NIR_CORSE.replace(" ", ""),)),
    Cas("iban", "un IBAN comme identifiant de ménage",
        _modifie(_menage("a4", IBAN)),
        Attendu("refusee", [("dp_iban", "menages.csv", "menage_id", [7])], "IBAN"),
        valeurs=(IBAN,)),
    Cas("adresse", "une adresse postale comme identifiant de ménage",
        _modifie(_menage("a2", ADRESSE)),
        Attendu("refusee", [("dp_adresse", "menages.csv", "menage_id", [3])], "adresse postale"),
        valeurs=(ADRESSE,)),
    Cas("date_naissance_texte", "une date de naissance collée à l'identifiant",
        _modifie(_menage("a3", "a3_12/04/1958")),
        Attendu("refusee", [("dp_date_texte", "menages.csv", "menage_id", [4])], "date dans une colonne de texte"),
        valeurs=("12/04/1958",)),
    Cas("date_naissance_colonne", "une date de naissance dans date_orientation",
        _modifie(_cellule("menages", 0, "date_orientation", "1958-04-12")),
        Attendu("refusee", [("dp_date_naissance", "menages.csv", "date_orientation", [2])], "avant 1990")),
    Cas("formule_egal", "une formule =HYPERLINK dans un identifiant de ménage (CSV)",
        _modifie(_menage("a1", '=HYPERLINK("http://exemple.org/x","a1")')),
        Attendu("refusee", [("formule", "menages.csv", "menage_id", [2])], "formule"),
        valeurs=("exemple.org/x",)),
    Cas("formule_arobase", "une injection @SUM dans contacts.csv",
        _modifie(_cellule("contacts", 0, "menage_id", "@SUM(A1:A9)")),
        Attendu("refusee", [("formule", "contacts.csv", "menage_id", [2])], "formule")),
    Cas("formule_moins", "une injection -cmd dans evenements.csv",
        _modifie(_cellule("evenements", 0, "menage_id", "-cmd|' /C calc'!A0")),
        Attendu("refusee", [("formule", "evenements.csv", "menage_id", [2])], "formule")),
    Cas("champ_tres_long", "un identifiant de 1 500 caractères",
        _modifie(_menage("t2", LONG)),
        Attendu("refusee", [("champ_trop_long", "menages.csv", "menage_id", [6])], "1 000 caractères")),
    # --- amounts, dates and codes
    Cas("montant_negatif", "un paiement négatif (compte recalculé)",
        _modifie(_flux("a1", "2019-05", paiement="-50.00")),
        Attendu("refusee", [("montant_negatif", "comptes_mensuels.csv", "paiement", _compte("a1", "2019-05"))],
                "montant négatif")),
    Cas("montant_absurde", "une quittance de 250 000 € payée le même mois",
        _modifie(_flux("a2", "2019-09", quittance="250000.00", paiement="249900.00")),
        Attendu("refusee", [("montant_absurde", "comptes_mensuels.csv", "quittance", _compte("a2", "2019-09"))],
                "montant absurde")),
    Cas("loyer_nul", "un loyer mensuel à zéro",
        _modifie(_cellule("menages", 3, "loyer_mensuel", "0")),
        Attendu("refusee", [("loyer_nul", "menages.csv", "loyer_mensuel", [5])], "loyer nul")),
    Cas("taux_effort", "un taux d'effort de 2,5",
        _modifie(_cellule("menages", 1, "taux_effort", "2.5")),
        Attendu("refusee", [("taux_effort", "menages.csv", "taux_effort", [3])], "taux d'effort")),
    Cas("dates_inversees", "un début d'accompagnement avant l'orientation",
        _modifie(_cellule("menages", 0, "date_debut_accompagnement", "2019-03-01")),
        Attendu("refusee", [("ordre_dates", "menages.csv", "date_debut_accompagnement", [2])], "désordre")),
    Cas("fin_avant_debut", "une fin d'accompagnement avant son début",
        _modifie(_cellule("menages", 0, "date_fin_accompagnement", "2019-03-31")),
        Attendu("refusee", [("ordre_dates", "menages.csv", "date_fin_accompagnement", [2])], "désordre")),
    Cas("date_future", "un événement daté après l'extraction",
        _modifie(_cellule("evenements", 2, "date", "2021-01-10")),
        Attendu("refusee", [("date_posterieure_extraction", "evenements.csv", "date", [4])], "postérieure")),
    Cas("code_inconnu", "une cohorte « accompagnee » (hors liste)",
        _modifie(_cellule("menages", 2, "cohorte", "accompagnee")),
        Attendu("refusee", [("code_inconnu", "menages.csv", "cohorte", [4])], "hors de la liste")),
    Cas("evenement_inconnu", "un type d'événement « expulsion » (hors liste)",
        _modifie(_cellule("evenements", 3, "type_evenement", "expulsion")),
        Attendu("refusee", [("code_inconnu", "evenements.csv", "type_evenement", [5])], "hors de la liste")),
    Cas("obligatoire", "une cohorte vide",
        _modifie(_cellule("menages", 4, "cohorte", "")),
        Attendu("refusee", [("obligatoire", "menages.csv", "cohorte", [6])], "obligatoire")),
    Cas("departement", "un département « 2C »",
        _modifie(_cellule("menages", 5, "departement", "2C")),
        Attendu("refusee", [("departement", "menages.csv", "departement", [7])], "département")),
    # --- across rows and tables
    Cas("mois_en_double", "un mois de compte livré deux fois", _modifie(_doublon("comptes_mensuels", 4)),
        Attendu("refusee", [("unicite", "comptes_mensuels.csv", "mois", [6, 7])], "mois en double")),
    Cas("menage_en_double", "un ménage livré deux fois", _modifie(_doublon("menages", 1)),
        Attendu("refusee", [("unicite", "menages.csv", "menage_id", [3, 4])], "ménage en double")),
    Cas("identite_rompue", "un solde de fin de mois faux de 50 €", _modifie(_solde_faux),
        Attendu("refusee", [("identite_compte", "comptes_mensuels.csv", "solde_fin_mois",
                             _compte("a2", "2019-08") + _compte("a2", "2019-09"))], "identité du compte")),
    Cas("orphelin", "un événement d'un ménage absent de menages",
        _modifie(_ajoute("evenements", {"menage_id": "zz9", "projet_id": PROJET, "date": "2019-05-05",
                                        "type_evenement": "assignation"})),
        Attendu("refusee", [("menage_orphelin", "evenements.csv", "menage_id", [7])], "absent de la table menages")),
    Cas("orphelin_comptes", "des mois de compte d'un ménage absent de menages",
        _modifie(_comptes_orphelins),
        Attendu("refusee", [("menage_orphelin", "comptes_mensuels.csv", "menage_id", None)],
                "absent de la table menages")),
    Cas("projet_different", "des comptes au nom d'un autre projet",
        _modifie(_projet("comptes_mensuels", "solide_r")),
        Attendu("refusee", [("projet_livraison", "comptes_mensuels.csv", "projet_id", [2, 3, 4])],
                "projet différent")),
    Cas("bailleur_inconnu", "un bailleur absent du catalogue",
        _modifie(_cellule("menages", 2, "bailleur_id", "bailleur_fantome")),
        Attendu("refusee", [("bailleur_inconnu", "menages.csv", "bailleur_id", [4])], "bailleur absent")),
    Cas("projet_inconnu", "un projet absent du catalogue (dossier et lignes)",
        _modifie(_partout("projet_fantome")),
        Attendu("refusee", [("projet_inconnu", None, None, None),
                            ("projet_inconnu", "menages.csv", "projet_id", [2, 3, 4])], "catalogue"),
        projet="projet_fantome"),
    Cas("table_vide", "comptes_mensuels.csv réduit à son en-tête", _modifie(_vide("comptes_mensuels")),
        Attendu("refusee", [("table_vide", "comptes_mensuels.csv", None, None)], "sans aucune ligne")),
    # --- folders
    Cas("lien_fichier", "menages.csv est un lien vers un fichier hors du dossier des livraisons",
        _lien_fichier, Attendu("refusee", [("chemin", "menages.csv", None, None)], "sort du dossier")),
    Cas("lien_dossier", "le dossier de la livraison est un lien vers l'extérieur",
        _lien_dossier, Attendu("refusee", [("chemin", None, None, None)], "sort du dossier")),
    # --- accepted, with or without warnings
    Cas("bom", "des fichiers UTF-8 avec BOM (accepté)", _avec_bom, Attendu("acceptee"), dans_run=False),
    Cas("formats_francais", "Windows-1252, dates JJ/MM/AAAA, virgule décimale, casse (accepté)",
        _formats_francais, Attendu("acceptee"), dans_run=False),
    Cas("classeur", "la livraison en un classeur export.xlsx, une feuille par table (accepté)",
        lambda dossier: ecrire_classeur(dossier, base()), Attendu("acceptee"), dans_run=False),
    Cas("nir_cle_invalide", "un identifiant de 15 chiffres dont la clé n'est pas celle d'un NIR (accepté)",
        _modifie(_menage("a1", "185057800608400")), Attendu("acceptee"), dans_run=False),
    Cas("contact_temoin", "un rendez-vous pour un ménage témoin (avertissement)",
        _modifie(_cellule("contacts", 5, "menage_id", "t1")),
        Attendu("acceptee", [("contact_temoin", "contacts.csv", "menage_id", [7])], "avertissement"),
        dans_run=False),
    Cas("mois_manquant", "un mois absent du compte (avertissement)", _modifie(_sans_mois("a3", "2019-12")),
        Attendu("acceptee", [("mois_manquant", "comptes_mensuels.csv", "mois", None)], "mois manquant"),
        dans_run=False),
]

CAS_PAR_NOM = {cas.nom: cas for cas in CAS}
