"""The mapping template: every table, column and code list of the contract, commented.

Generated from `capitalisation.contrat`, so that the template can never drift from the
contract. The template is valid TOML in which nothing is mapped yet: prepared as is, it
is refused with the list of every required column still to map.
"""

from __future__ import annotations

from capitalisation import contrat, formats
from capitalisation.preparation.correspondance import CLE_DEFAUT, DERIVATIONS, REFERENCE_AGE

_TYPES = {
    contrat.TEXTE: "texte",
    contrat.CODE: "code",
    contrat.DATE: "date (AAAA-MM-JJ ou JJ/MM/AAAA, ou date Excel)",
    contrat.MOIS: "mois (AAAA-MM ou MM/AAAA, ou une date du mois)",
    contrat.MONTANT: "montant en euros (virgule ou point, au plus deux décimales)",
    contrat.NOMBRE: "nombre",
    contrat.BOOLEEN: "oui/non (1/0, vrai/faux, true/false)",
}


def _bornes(bornes, unite: str) -> list[str]:
    """One comment line per band: « #     25_39 : de 25 ans à moins de 40 ans »."""
    lignes = []
    for code, bas, haut in bornes:
        if bas is None:
            texte = f"moins de {formats.nombre(haut)} {unite}"
        elif haut is None:
            texte = f"{formats.nombre(bas)} {unite} et plus"
        else:
            texte = f"de {formats.nombre(bas)} {unite} à moins de {formats.nombre(haut)} {unite}"
        lignes.append(f"#     {code} : {texte}")
    return lignes


def _nombre(valeur: float) -> str:
    return f"{valeur:g}".replace(".", ",")


def _exemple(colonne: contrat.Colonne) -> str:
    """The mapping line left to fill in."""
    if colonne.nom == "menage_id":
        return 'menage_id = { pseudonyme = "" }'
    if colonne.nom in DERIVATIONS:
        return f'{colonne.nom} = {{ {DERIVATIONS[colonne.nom]} = "" }}'
    return f'{colonne.nom} = ""'


def _commentaires(table: contrat.Table, colonne: contrat.Colonne) -> list[str]:
    statut = "facultative" if colonne.nullable else "obligatoire"
    lignes = [f"# {colonne.nom} — {_TYPES[colonne.type]}, {statut}"]
    if colonne.defaut is not None:
        lignes.append(f"#   vide ou absente : {colonne.defaut}")
    if colonne.codes:
        lignes.append("#   codes : " + ", ".join(colonne.codes))
    if colonne.minimum is not None or colonne.maximum is not None:
        bornes = []
        if colonne.minimum is not None:
            bornes.append(f"au moins {_nombre(colonne.minimum)}")
        if colonne.maximum is not None:
            bornes.append(f"au plus {_nombre(colonne.maximum)}")
        lignes.append("#   " + " et ".join(bornes))
    if colonne.nom == "menage_id":
        lignes += [
            "#   remplacé par un HMAC-SHA-256 de la ou des colonnes indiquées (n° de locataire, de",
            "#   contrat), calculé avec votre clé : le numéro n'est jamais livré. Indiquez la même",
            "#   colonne dans chaque table pour que les lignes d'un ménage se rejoignent ;",
            '#   plusieurs colonnes : { pseudonyme = ["N° contrat", "N° locataire"] }.',
        ]
    if colonne.nom == "tranche_age":
        lignes += [
            f"#   {{ date_naissance = \"…\" }} : âge en années révolues à {REFERENCE_AGE}",
            '#   (ou { date_naissance = "…", reference = "date_extraction" }) :',
            *_bornes(contrat.BORNES_TRANCHES_AGE, "ans"),
            "#   La date de naissance n'est jamais livrée.",
            "#   Si votre extraction porte déjà la tranche : tranche_age = \"colonne\" et [codes].",
        ]
    if colonne.nom == "tranche_ressources":
        lignes += [
            "#   { ressources = \"…\" } : ressources mensuelles hors aide au logement, en euros ;",
            "#   plusieurs colonnes sont additionnées : { ressources = [\"Salaires\", \"RSA\"] } :",
            *_bornes(contrat.BORNES_TRANCHES_RESSOURCES, "€"),
            "#   Le montant n'est jamais livré.",
        ]
    return lignes


def ecrire_modele() -> str:
    """The commented template of a mapping file, as TOML text."""
    lignes = [
        f"# Correspondance entre votre extraction et le contrat de données (version {contrat.VERSION}).",
        "#",
        "# Pour chaque table du contrat : le fichier de votre extraction qui l'alimente (source),",
        "# puis, pour chaque colonne du contrat, d'où elle vient :",
        '#   colonne = "Nom de votre colonne"                 (majuscules et accents indifférents)',
        '#   colonne = { colonne = "Nom", defaut = "non" }     (valeur prise quand la cellule est vide)',
        '#   colonne = { valeur = "batigere" }                 (la même valeur pour toutes les lignes)',
        "# Une colonne laissée vide (\"\") n'est pas alimentée : refusé si elle est obligatoire.",
        "# Les colonnes de votre extraction qui ne figurent pas ici ne sont jamais livrées.",
        "# Sous [<table>.codes.<colonne>], faites correspondre vos valeurs aux codes du contrat :",
        '#   "Suivi renforcé" = "accompagne"',
        "# (une valeur déjà égale à un code du contrat n'a pas besoin de ligne).",
        "# Une table alimentée par plusieurs fichiers s'écrit [[<table>]], une fois par fichier.",
        "",
        "[livraison]",
        'projet_id = ""              # code du projet au catalogue, par exemple "zero_expulsion"',
        'date_extraction = ""        # AAAA-MM-JJ : date de votre extraction (nom du dossier livré)',
        f'cle = "{CLE_DEFAUT}"  # clé de pseudonymisation, créée au premier usage ;',
        "                            # chemin relatif à ce fichier ; à conserver, jamais à envoyer",
    ]
    for table in contrat.TABLES.values():
        if table.nom in (contrat.MENAGES.nom, contrat.COMPTES_MENSUELS.nom):
            statut = "obligatoire"
        elif table.obligatoire:
            statut = "obligatoire, sans source : livrée avec son seul en-tête"
        else:
            statut = "facultative, sans source : non livrée"
        lignes += [
            "",
            f"# {'=' * 78}",
            f"# {table.nom} — {table.description} ({statut})",
            f"# {'=' * 78}",
            f"[{table.nom}]",
            'source = ""                 # fichier de votre extraction (CSV ou XLSX), par son nom',
            'feuille = ""                # pour un classeur : la feuille (vide : la première)',
            "ignorer_si_vide = []        # colonnes du contrat dont l'absence écarte la ligne",
        ]
        if table.nom != contrat.MENAGES.nom:
            lignes.append("ignorer_hors_menages = false  # true : écarte les lignes des ménages "
                          "absents de menages")
        lignes += [
            "",
            f"[{table.nom}.colonnes]",
            "# projet_id : pris de [livraison], pour toutes les lignes",
        ]
        for colonne in table.colonnes:
            if colonne.nom == "projet_id":
                continue
            lignes += _commentaires(table, colonne)
            lignes.append(_exemple(colonne))
        for colonne in table.colonnes:
            if colonne.codes:
                lignes += [
                    "",
                    f"[{table.nom}.codes.{colonne.nom}]",
                    "# \"valeur de votre extraction\" = \"" + colonne.codes[0] + "\"",
                    "# codes : " + ", ".join(colonne.codes),
                ]
            elif colonne.type == contrat.BOOLEEN:
                lignes += [
                    "",
                    f"[{table.nom}.codes.{colonne.nom}]",
                    '# "X" = "oui"                 # vos valeurs qui ne sont pas déjà oui/non, 1/0…',
                ]
    return "\n".join(lignes) + "\n"
