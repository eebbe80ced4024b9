"""French labels of the codes that published outputs show (indicators, outcomes, covariates)."""

from __future__ import annotations

# Indicators of pub_indicateurs_* (code -> label, population the proportion is over),
# in the order a fiche shows them.
INDICATEURS = {
    "adhesion": ("Adhésion à l'accompagnement", "ménages orientés"),
    "en_dette_entree": ("Dette de loyer à l'entrée", "ménages accompagnés"),
    "loyer_a_jour": ("Loyer à jour en fin de suivi", "ménages accompagnés dont le compte est connu"),
    "dette_reduite": ("Dette réduite", "ménages en dette à l'entrée"),
    "dette_resorbee": ("Dette résorbée", "ménages en dette à l'entrée"),
    "en_procedure": ("Procédure d'expulsion engagée", "ménages accompagnés"),
    "expulsion_evitee": ("Expulsion évitée", "ménages en procédure"),
    "expulse": ("Expulsion réalisée", "ménages accompagnés"),
    "maintien": ("Maintien dans le logement", "ménages accompagnés"),
    "relogement": ("Relogement ou mutation", "ménages accompagnés"),
    "rdv_honores": ("Rendez-vous honorés", "rendez-vous prévus"),
}
MONTANTS = {
    "dette_entree_eur": ("Dette de loyer à l'entrée", "ménages en dette à l'entrée"),
    "dette_sortie_eur": ("Dette de loyer en fin de suivi", "ménages en dette à l'entrée"),
    "gain_energie_eur": ("Gain mensuel sur les factures d'énergie", "ménages suivis six mois au moins"),
}

# Counts of pub_effectifs_projet and of the published figures (resultats_publies).
EFFECTIFS = {
    "menages_orientes": "Ménages orientés vers le dispositif",
    "menages_accompagnes": "Ménages accompagnés (adhésion)",
    "menages_termines": "dont accompagnement terminé",
    "menages_en_cours": "dont accompagnement en cours",
    "volet_maintien": "Volet maintien dans le logement",
    "volet_acces": "Volet accès au logement",
    "menages_temoins": "Groupe témoin",
    "expulsion_evitee": "Expulsions évitées",
    "expulse": "Expulsions",
}

# Verdicts of a published figure (the reconciliation's `verdict`; `non_calculable` is the former
# name of `non_testable`, still the value of the `statut` column).
STATUTS = {
    "confirme": "Confirmé",
    "non_confirme": "Non confirmé",
    "non_testable": "Non testable",
}
VERDICTS_ANCIENS = {"non_calculable": "non_testable"}

# What a published figure states (resultats_publies.comparaison), as words before the value.
COMPARAISONS = {"au_moins": "au moins ", "au_plus": "au plus ", "dans_intervalle": "environ "}
SYMBOLES_COMPARAISON = {"au_moins": "≥\u00a0", "au_plus": "≤\u00a0", "dans_intervalle": "≈\u00a0"}

# The populations a published figure is about (resultats_publies.population).
POPULATIONS = {
    "menages_orientes": "ménages orientés (adhérents ou non)",
    "menages_adherents": "ménages accompagnés (adhésion)",
    "en_dette_entree": "ménages accompagnés en dette de loyer à l'entrée",
    "en_procedure": "ménages accompagnés en procédure d'expulsion",
    "menages_temoins": "ménages du groupe témoin",
    "contacts": "visites à domicile et rendez-vous au bureau prévus",
    "visites_domicile": "visites à domicile prévues",
}

# What a published count counts, as a noun phrase after the number (« 28 expulsions évitées »).
NOMS_EFFECTIFS = {
    "menages_orientes": "ménages orientés",
    "menages_accompagnes": "ménages accompagnés",
    "menages_termines": "accompagnements terminés",
    "menages_en_cours": "accompagnements en cours",
    "menages_temoins": "ménages témoins",
    "volet_maintien": "ménages du volet maintien",
    "volet_acces": "ménages du volet accès",
    "menages_accompagnes_par_an": "ménages accompagnés par an",
    "expulsion_evitee": "expulsions évitées",
    "expulse": "expulsions",
    "relogement": "relogements ou mutations",
    "en_procedure": "procédures d'expulsion",
}
# The same nouns after 0 or 1 (« 0 expulsion », « 1 ménage orienté »).
NOMS_EFFECTIFS_SINGULIER = {
    "menages_orientes": "ménage orienté",
    "menages_accompagnes": "ménage accompagné",
    "menages_termines": "accompagnement terminé",
    "menages_en_cours": "accompagnement en cours",
    "menages_temoins": "ménage témoin",
    "volet_maintien": "ménage du volet maintien",
    "volet_acces": "ménage du volet accès",
    "menages_accompagnes_par_an": "ménage accompagné par an",
    "expulsion_evitee": "expulsion évitée",
    "expulse": "expulsion",
    "relogement": "relogement ou mutation",
    "en_procedure": "procédure d'expulsion",
}

# Outcomes of the cohort comparison.
RESULTATS = {
    "loyer_a_jour": "Loyer à jour",
    "dette_resorbee": "Dette résorbée",
    "dette_reduite": "Dette réduite",
    "expulse": "Expulsion",
    "maintien": "Maintien dans le logement",
    "dette_sortie": "Dette à l'horizon",
    "solde": "Solde mensuel du compte",
    "expulsion": "Délai avant une expulsion",
    "dette_soldee": "Délai avant l'apurement de la dette",
}
# What a minimum detectable difference is about, in a sentence.
RESULTATS_PHRASE = {
    "loyer_a_jour": "la part des ménages à jour de leur loyer",
    "dette_resorbee": "la part des ménages en dette qui l'ont résorbée",
    "dette_reduite": "la part des ménages en dette qui l'ont réduite",
    "expulse": "la part des ménages expulsés",
    "maintien": "la part des ménages maintenus dans leur logement",
    "dette_sortie": "la dette moyenne à l'horizon",
}

COVARIABLES = {
    "dette_entree_mois_loyer": "Dette à l'entrée (mois de loyer)",
    "dette_entree": "Dette à l'entrée (€)",
    "en_procedure_index": "Procédure engagée à l'orientation",
    "volet": "Volet",
    "composition": "Composition du ménage",
    "tranche_age": "Âge",
    "tranche_ressources": "Ressources mensuelles",
    "taux_effort": "Taux d'effort",
    "public_prioritaire": "Public prioritaire",
    "bailleur_id": "Bailleur",
    "departement": "Département",
}
NIVEAUX = {
    "acces": "accès", "maintien": "maintien", "isole": "personne isolée",
    "monoparental": "famille monoparentale", "couple_avec_enfants": "couple avec enfants",
    "couple_sans_enfant": "couple sans enfant", "autre": "autre", "moins_25": "moins de 25 ans",
    "25_39": "25 à 39 ans", "40_59": "40 à 59 ans", "60_plus": "60 ans et plus",
    "moins_1000": "moins de 1\u202f000\u00a0€", "1000_1500": "1\u202f000 à 1\u202f500\u00a0€",
    "1500_plus": "1\u202f500\u00a0€ et plus",
    "manquant": "non renseigné", "aucun": "aucun", "dalo": "DALO", "pdalhpd": "PDALHPD",
    "sortie_hebergement": "sortie d'hébergement", "violences": "victime de violences",
}

COHORTES = {"accompagne": "Accompagnés", "temoin": "Témoins"}

# Warnings of the comparison engine: only their codes are read (their messages may quote
# counts under the secrecy threshold); each becomes a short remark and its explanation.
AVERTISSEMENTS = {
    "secret_statistique": ("secret", (
        "des effectifs de la comparaison sont couverts par le secret statistique : "
        "l'estimation n'est pas publiée")),
    "evenements_rares": ("peu d'événements", (
        "très peu d'événements (ou de non-événements) dans un des groupes : estimation fragile")),
    "grappes_peu_nombreuses": ("peu de bailleurs", (
        "trop peu de bailleurs pour regrouper les erreurs par bailleur : erreurs robustes simples")),
    "separation": ("modèle instable", "séparation dans le modèle logistique : estimation peu fiable"),
    "chevauchement_faible": ("groupes peu comparables", (
        "les scores de propension des deux groupes se recouvrent mal : la pondération compare "
        "des ménages différents")),
    "taille_effective_faible": ("peu de témoins pondérés", (
        "après pondération, l'estimation repose sur peu de témoins")),
    "covariables_reduites": ("ajustement partiel", (
        "trop peu de ménages pour ajuster sur toutes les caractéristiques : le modèle n'en retient "
        "qu'une partie")),
    "estimation_impossible": ("non estimable", "le modèle n'a pas pu être estimé avec ces données"),
    "puissance_insuffisante": ("effectifs trop petits", (
        "avec ces effectifs, aucune différence n'est détectable avec une puissance suffisante")),
}


def humaniser(code) -> str:
    """A code without a label, readable: « sortie_hebergement » → « sortie hebergement »."""
    return str(code).replace("_", " ")


def indicateur(code: str) -> str:
    return (INDICATEURS.get(code) or MONTANTS.get(code) or (humaniser(code).capitalize(),))[0]


def niveau(code) -> str:
    if code is None or code == "":
        return ""
    return NIVEAUX.get(str(code), humaniser(code))


def covariable(code: str, niveau_code=None) -> str:
    nom = COVARIABLES.get(code, humaniser(code).capitalize())
    texte_niveau = niveau(niveau_code)
    return f"{nom} : {texte_niveau}".replace(" :", "\u00a0:") if texte_niveau else nom


def codes_avertissements(texte: str | None) -> list[str]:
    """The codes of an `avertissements` cell (never its messages, which may quote small counts)."""
    codes = []
    for morceau in str(texte or "").split(" | "):
        code = morceau.split(":", 1)[0].strip()
        if code and code not in codes:
            codes.append(code)
    return codes


def remarque(code: str) -> str:
    return AVERTISSEMENTS.get(code, (humaniser(code), ""))[0]


def explication(code: str) -> str:
    court, long = AVERTISSEMENTS.get(code, (humaniser(code), ""))
    return f"{court} : {long}".replace(" :", "\u00a0:") if long else court
