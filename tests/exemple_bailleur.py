"""A made-up landlord's extract, as the rent system « Quittanceo » and a social worker's workbook
would write it: names, addresses, telephone numbers, tenant numbers, birth dates, resources,
in their own column names and codes. Every person, address and number here is invented.

    python -m tests.exemple_bailleur DOSSIER    writes the four files of the extract

The files of capitalisation/preparation/exemple/ are this module's output (seed 14);
tests read them back to know every personal value planted in them.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from decimal import Decimal
from pathlib import Path

DATE_EXTRACTION = dt.date(2020, 6, 30)
GRAINE = 14

NOMS = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
        "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier", "Dupont", "Lambert", "Bonnet",
        "Francois", "Martinez", "Legrand", "Garnier", "Faure"]
PRENOMS = ["Nadia", "Karim", "Sophie", "Jean-Marc", "Fatou", "Lucie", "Mehdi", "Chantal", "Yanis",
           "Brigitte", "Samir", "Océane", "Didier", "Aïcha", "Thierry", "Inès", "Pascal", "Linh",
           "Rachid", "Josiane", "Kevin", "Mireille", "Bakary", "Élodie", "Gérard", "Sabrina",
           "Hervé", "Leïla", "Patrice", "Manon", "Olivier", "Zoé"]
VOIES = ["rue des Lilas", "avenue Foch", "rue Serpenoise", "boulevard de Trèves", "allée des Tilleuls",
         "rue du Pont-Rouge", "impasse des Jardins", "place Saint-Louis", "rue Mazelle", "chemin du Fort"]
COMMUNES = ["57000 Metz", "57100 Thionville", "57070 Metz", "57300 Hagondange", "57200 Sarreguemines"]

SITUATIONS = ["Personne seule", "Couple sans enfant", "Couple avec enfant(s)", "Famille monoparentale"]
PUBLICS = ["DALO", "PDALHPD", "Sans", "Sortie d'hébergement", "Violences conjugales"]
ORIENTEURS = ["Gestion locative", "SIAO", "CCAS", "Service social départemental", "Association"]
MOTIFS = ["Objectifs atteints", "Abandon", "Relogé", "Départ"]
TYPES_RDV = ["Visite à domicile", "RDV au bureau", "Entretien téléphonique", "Bilan", "Démarche accompagnée"]
INTERVENANTS = ["TS", "CESF", "Psychologue"]


def _mois(jour: dt.date, decalage: int) -> dt.date:
    indice = jour.year * 12 + jour.month - 1 + decalage
    return dt.date(indice // 12, indice % 12 + 1, 1)


def _euros(montant: Decimal, milliers: bool = True) -> str:
    """1234.5 → « 1 234,50 » (the way the rent system writes amounts)."""
    signe = "-" if montant < 0 else ""
    entier, _, centimes = f"{abs(montant):.2f}".partition(".")
    if milliers and len(entier) > 3:
        entier = entier[:-3] + "\u00a0" + entier[-3:]
    return f"{signe}{entier},{centimes}"


def _telephone(r: random.Random) -> str:
    return "06 " + " ".join(f"{r.randint(0, 99):02d}" for _ in range(4))


def generer(dossier: Path, graine: int = GRAINE, menages: int = 32) -> None:
    """Write locataires.csv, comptes.csv, procedures.csv and suivi_social.xlsx into `dossier`."""
    r = random.Random(graine)
    dossier.mkdir(parents=True, exist_ok=True)
    locataires, comptes, procedures, rdv = [], [], [], []
    for i in range(menages):
        numero = f"L{57000 + 37 * i:06d}"
        accompagne = i % 3 != 2
        orientation = dt.date(2019, 1, 1) + dt.timedelta(days=r.randint(0, 330))
        if i == 0:  # born on the orientation day, 25 years before: 25 on the day
            naissance = orientation.replace(year=orientation.year - 25)
        elif i == 1:  # one day short of 40
            naissance = orientation.replace(year=orientation.year - 40) + dt.timedelta(days=1)
        else:
            naissance = orientation - dt.timedelta(days=r.randint(19 * 365, 75 * 365))
        if i == 2:
            ressources = Decimal("1000.00")
        elif i == 3:
            ressources = Decimal("1499.99")
        elif i == 4:
            ressources = Decimal("1500.00")
        else:
            ressources = Decimal(r.randint(45000, 260000)) / 100
        loyer = Decimal(r.randint(38000, 72000)) / 100
        debut = fin = None
        motif = ""
        if accompagne and i % 7 != 5:  # a few never engaged
            debut = orientation + dt.timedelta(days=r.randint(5, 40))
            if i % 4 == 0:
                fin = min(debut + dt.timedelta(days=r.randint(150, 400)), DATE_EXTRACTION)
                motif = r.choice(MOTIFS)
        situation = SITUATIONS[i % len(SITUATIONS)]
        locataires.append({
            "N° locataire": numero,
            "Nom": NOMS[i % len(NOMS)].upper(),
            "Prénom": PRENOMS[i % len(PRENOMS)],
            "Adresse": f"{r.randint(1, 120)} {r.choice(VOIES)}",
            "Commune": r.choice(COMMUNES),
            "Téléphone": _telephone(r),
            "Né(e) le": naissance.strftime("%d/%m/%Y"),
            "Ressources mensuelles": _euros(ressources),
            "Dispositif": "ZEX" if accompagne else "Panel témoin",
            "Type de suivi": "Maintien" if i % 5 else "Accès",
            "Date orientation": orientation.strftime("%d/%m/%Y"),
            "Début accompagnement": debut.strftime("%d/%m/%Y") if debut else "",
            "Fin accompagnement": fin.strftime("%d/%m/%Y") if fin else "",
            "Motif sortie": motif,
            "Situation familiale": situation,
            "Loyer + charges": _euros(loyer),
            "Dépt": "57",
            "Public": PUBLICS[i % len(PUBLICS)],
            "Orienté par": ORIENTEURS[i % len(ORIENTEURS)],
            "Observations": f"Rappeler Mme {NOMS[(i + 3) % len(NOMS)]} au {_telephone(r)}" if i % 6 == 1
            else "",
        })
        # the rent account, from six months before the orientation to the extraction month
        solde = Decimal(r.choice([0, 0, r.randint(20000, 300000)])) / 100
        mois = _mois(orientation, -6)
        aide = Decimal(r.choice([0, r.randint(10000, 30000)])) / 100
        plan = False
        while mois <= DATE_EXTRACTION:
            quittance = loyer
            if r.random() < 0.25:
                paiement = Decimal(0)
            elif solde > 0 and debut and mois >= debut.replace(day=1) and r.random() < 0.6:
                paiement = min(quittance - aide + Decimal(r.randint(5000, 20000)) / 100,
                               solde + quittance - aide)
                plan = True
            else:
                paiement = quittance - aide
            regul = Decimal(-r.randint(1000, 8000)) / 100 if mois.month == 3 else Decimal(0)
            solde = solde + quittance - aide - paiement + regul
            comptes.append({
                "Compte": numero,
                "Période": mois.strftime("%m/%Y"),
                "Quittancé": _euros(quittance),
                "APL": _euros(aide),
                "Réglé": _euros(paiement),
                "Régul.": _euros(regul) if regul else "",
                "Solde fin de mois": _euros(solde),
                "Plan": "X" if plan else "",
            })
            mois = _mois(mois, 1)
        # the procedure file: one row per household in procedure, one date column per step
        if i % 3 == 0 or i in (2, 5):
            commandement = orientation + dt.timedelta(days=r.randint(-120, 60))
            assignation = commandement + dt.timedelta(days=r.randint(60, 120)) if i % 2 == 0 else None
            jugement = assignation + dt.timedelta(days=r.randint(60, 150)) if assignation and i % 4 == 0 else None
            expulsion = jugement + dt.timedelta(days=90) if jugement and not accompagne else None
            dates = [min(d, DATE_EXTRACTION) if d else None for d in (commandement, assignation, jugement, expulsion)]
            procedures.append({
                "N° locataire": numero,
                "Nom": NOMS[i % len(NOMS)].upper(),
                "Cdt de payer le": dates[0].strftime("%d/%m/%Y"),
                "Assignation le": dates[1].strftime("%d/%m/%Y") if dates[1] else "",
                "Jugement le": dates[2].strftime("%d/%m/%Y") if dates[2] else "",
                "Expulsion le": dates[3].strftime("%d/%m/%Y") if dates[3] else "",
            })
        # the social worker's meetings (followed households that engaged)
        if debut:
            jour = debut
            while jour <= (fin or DATE_EXTRACTION) and len([x for x in rdv if x[0] == numero]) < 8:
                rdv.append((numero, f"{PRENOMS[i % len(PRENOMS)]} {NOMS[i % len(NOMS)]}",
                            dt.datetime.combine(jour, dt.time()), r.choice(TYPES_RDV),
                            "Oui" if r.random() < 0.8 else "Non", r.choice(INTERVENANTS)))
                jour += dt.timedelta(days=r.randint(20, 60))

    def ecrire(nom: str, lignes: list[dict], encodage: str) -> None:
        with open(dossier / nom, "w", encoding=encodage, newline="") as flux:
            ecrivain = csv.DictWriter(flux, fieldnames=list(lignes[0]), delimiter=";",
                                      lineterminator="\r\n")
            ecrivain.writeheader()
            ecrivain.writerows(lignes)

    ecrire("locataires.csv", locataires, "cp1252")
    ecrire("comptes.csv", comptes, "cp1252")
    ecrire("procedures.csv", procedures, "utf-8-sig")

    import xlsxwriter

    classeur = xlsxwriter.Workbook(str(dossier / "suivi_social.xlsx"))
    classeur.set_properties({"created": dt.datetime(2020, 6, 30)})  # same bytes on every run
    feuille = classeur.add_worksheet("Rendez-vous")
    format_date = classeur.add_format({"num_format": "dd/mm/yyyy"})
    feuille.write_row(0, 0, ["Locataire", "Personne reçue", "Date du RDV", "Type", "Présent", "Intervenant"])
    for ligne, (numero, nom, jour, type_, present, intervenant) in enumerate(rdv, start=1):
        feuille.write_string(ligne, 0, numero)
        feuille.write_string(ligne, 1, nom)
        feuille.write_datetime(ligne, 2, jour, format_date)
        feuille.write_row(ligne, 3, [type_, present, intervenant])
    classeur.close()


# --------------------------------------------------------------------------- the mapping

# What the data officer writes into the template: (section, key) → TOML value.
COLONNES = {
    ("livraison", "projet_id"): '"zero_expulsion"',
    ("livraison", "date_extraction"): '"2020-06-30"',
    ("menages", "source"): '"locataires.csv"',
    ("menages.colonnes", "menage_id"): '{ pseudonyme = "N° locataire" }',
    ("menages.colonnes", "bailleur_id"): '{ valeur = "batigere" }',
    ("menages.colonnes", "cohorte"): '"Dispositif"',
    ("menages.colonnes", "volet"): '"Type de suivi"',
    ("menages.colonnes", "date_orientation"): '"Date orientation"',
    ("menages.colonnes", "date_debut_accompagnement"): '"Début accompagnement"',
    ("menages.colonnes", "date_fin_accompagnement"): '"Fin accompagnement"',
    ("menages.colonnes", "motif_fin"): '"Motif sortie"',
    ("menages.colonnes", "composition"): '"Situation familiale"',
    ("menages.colonnes", "tranche_age"): '{ date_naissance = "Né(e) le" }',
    ("menages.colonnes", "tranche_ressources"): '{ ressources = "Ressources mensuelles" }',
    ("menages.colonnes", "loyer_mensuel"): '"Loyer + charges"',
    ("menages.colonnes", "departement"): '"Dépt"',
    ("menages.colonnes", "public_prioritaire"): '"Public"',
    ("menages.colonnes", "origine_orientation"): '"Orienté par"',
    ("comptes_mensuels", "source"): '"comptes.csv"',
    ("comptes_mensuels.colonnes", "menage_id"): '{ pseudonyme = "Compte" }',
    ("comptes_mensuels.colonnes", "mois"): '"Période"',
    ("comptes_mensuels.colonnes", "quittance"): '"Quittancé"',
    ("comptes_mensuels.colonnes", "aide_logement"): '"APL"',
    ("comptes_mensuels.colonnes", "paiement"): '"Réglé"',
    ("comptes_mensuels.colonnes", "regularisation"): '"Régul."',
    ("comptes_mensuels.colonnes", "solde_fin_mois"): '"Solde fin de mois"',
    ("comptes_mensuels.colonnes", "plan_apurement"): '{ colonne = "Plan", defaut = "non" }',
    ("contacts", "source"): '"suivi_social.xlsx"',
    ("contacts", "feuille"): '"Rendez-vous"',
    ("contacts.colonnes", "menage_id"): '{ pseudonyme = "Locataire" }',
    ("contacts.colonnes", "date"): '"Date du RDV"',
    ("contacts.colonnes", "type_contact"): '"Type"',
    ("contacts.colonnes", "honore"): '"Présent"',
    ("contacts.colonnes", "intervenant"): '"Intervenant"',
}
# Values of the extract that are not already a contract code (« Maintien », « DALO »,
# « Abandon »… are matched to their code without a line).
CODES = {
    "menages.codes.cohorte": {"ZEX": "accompagne", "Panel témoin": "temoin"},
    "menages.codes.motif_fin": {"Relogé": "relogement", "Départ": "depart_volontaire"},
    "menages.codes.composition": {"Personne seule": "isole", "Couple avec enfant(s)": "couple_avec_enfants",
                                  "Famille monoparentale": "monoparental"},
    "menages.codes.public_prioritaire": {"Sans": "aucun", "Sortie d'hébergement": "sortie_hebergement",
                                         "Violences conjugales": "violences"},
    "menages.codes.origine_orientation": {"Gestion locative": "bailleur",
                                          "Service social départemental": "service_social"},
    "comptes_mensuels.codes.plan_apurement": {"X": "oui"},
    "contacts.codes.type_contact": {"Visite à domicile": "visite_domicile", "RDV au bureau": "rdv_bureau",
                                    "Entretien téléphonique": "telephone",
                                    "Démarche accompagnée": "accompagnement_demarche"},
    "contacts.codes.intervenant": {"TS": "travailleur_social"},
}
# The procedure file has one date column per step: one [[evenements]] per column.
ETAPES = {"Cdt de payer le": "commandement_payer", "Assignation le": "assignation",
          "Jugement le": "jugement_resiliation", "Expulsion le": "expulsion_realisee"}


def _toml(texte: str) -> str:
    return '"' + texte.replace("\\", "\\\\").replace('"', '\\"') + '"'


def remplir(modele: str, colonnes: dict | None = None, codes: dict | None = None,
            etapes: dict | None = None) -> str:
    """The template with the data officer's answers: lines replaced, code lines added."""
    colonnes = COLONNES if colonnes is None else colonnes
    codes = CODES if codes is None else codes
    etapes = ETAPES if etapes is None else etapes
    sortie, section = [], ""
    for ligne in modele.splitlines():
        if ligne.startswith("[") and not ligne.startswith("[["):
            section = ligne.strip("[] ")
        cle = ligne.split("=", 1)[0].strip() if "=" in ligne and not ligne.startswith("#") else None
        if cle is not None and (section, cle) in colonnes:
            ligne = f"{cle} = {colonnes[(section, cle)]}" + (
                "  " + ligne[ligne.index("#"):] if "#" in ligne.split("=", 1)[1] else ""
            )
        sortie.append(ligne)
        if ligne.startswith("[") and section in codes:
            sortie += [f"{_toml(v)} = {_toml(c)}" for v, c in codes[section].items()]
    if etapes:  # the events block, once per step, as a list of tables
        debut = sortie.index("[evenements]")
        fin = next(i for i, r in enumerate(sortie) if r.startswith("# contacts")) - 1
        bloc = "\n".join(sortie[debut:fin]).rstrip("\n")
        blocs = []
        for colonne, code in etapes.items():
            texte = bloc.replace("[evenements]\n", "[[evenements]]\n", 1)
            texte = texte.replace('source = ""', 'source = "procedures.csv"', 1)
            texte = texte.replace("ignorer_si_vide = []", 'ignorer_si_vide = ["date"]', 1)
            texte = texte.replace('menage_id = { pseudonyme = "" }',
                                  'menage_id = { pseudonyme = "N° locataire" }', 1)
            texte = texte.replace('\ndate = ""', f"\ndate = {_toml(colonne)}", 1)
            texte = texte.replace('type_evenement = ""', f"type_evenement = {{ valeur = {_toml(code)} }}", 1)
            blocs.append(texte)
        sortie = sortie[:debut] + "\n\n".join(blocs).splitlines() + [""] + sortie[fin:]
    return "\n".join(sortie) + "\n"


def ecrire_correspondance(chemin: Path) -> None:
    from capitalisation.preparation import ecrire_modele

    chemin.write_text(remplir(ecrire_modele()), encoding="utf-8")


if __name__ == "__main__":
    generer(Path(sys.argv[1]))
    ecrire_correspondance(Path(sys.argv[1]) / "correspondance.toml")
