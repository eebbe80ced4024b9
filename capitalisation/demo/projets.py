"""The five demo projects: households, rent accounts, events, contacts and energy readings.

Each project follows its source document (shared/seeds/): periods, household numbers,
volets, landlords and départements, and writes its files in its own dialect. Habitat
Réuni's comparison group and Le Trait Social's energy savings come from explicit models
whose true effects are computed on both potential paths of every household (same draws).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace

import numpy as np

from capitalisation.demo.ecriture import FormatLivraison
from capitalisation.demo.generateur import (
    ESSAIS,
    ProjetGenere,
    ajouter_mois,
    cloture,
    conforme,
    entier_uniforme,
    generateur_aleatoire,
    loyer_index,
    nouveau_menage,
    numeros_locataires,
    ordonner,
    quotas_melanges,
    scenario_classe,
    tronquer,
)
from capitalisation.demo.modele import (
    Alea,
    Menage,
    RegleContacts,
    Scenario,
    Trajectoire,
    centimes,
    date_aleatoire,
    dernier_jour,
    indicateurs,
    mois_de,
    resultat_descriptif,
    resultat_horizon,
    simuler,
    tirer_contacts,
)
from capitalisation.demo.profils import Profil, choisir, tirer_profil

# =========================================================================== Zéro expulsion

FORMAT_ZERO_EXPULSION = FormatLivraison(
    description="progiciel du bailleur, export CSV Windows : Windows-1252, « ; », virgule "
    "décimale et espace insécable des milliers, dates JJ/MM/AAAA, mois MM/AAAA, oui/non, "
    "en-têtes capitalisés et accentués",
    encodage="cp1252",
    separateur=";",
    decimale=",",
    milliers="\u00a0",
    format_date="%d/%m/%Y",
    format_mois="%m/%Y",
    vrai="oui",
    faux="non",
    fin_ligne="\r\n",
    entetes={
        "menage_id": "Ménage_ID",
        "projet_id": "Projet_ID",
        "bailleur_id": "Bailleur_ID",
        "cohorte": "Cohorte",
        "volet": "Volet",
        "date_orientation": "Date_Orientation",
        "date_debut_accompagnement": "Date_Début_Accompagnement",
        "date_fin_accompagnement": "Date_Fin_Accompagnement",
        "motif_fin": "Motif_Fin",
        "composition": "Composition",
        "tranche_age": "Tranche_Âge",
        "tranche_ressources": "Tranche_Ressources",
        "loyer_mensuel": "Loyer_Mensuel",
        "taux_effort": "Taux_Effort",
        "departement": "Département",
        "public_prioritaire": "Public_Prioritaire",
        "origine_orientation": "Origine_Orientation",
        "mois": "Mois",
        "quittance": "Quittance",
        "aide_logement": "Aide_Logement",
        "paiement": "Paiement",
        "regularisation": "Régularisation",
        "solde_fin_mois": "Solde_Fin_Mois",
        "plan_apurement": "Plan_Apurement",
        "date": "Date",
        "type_evenement": "Type_Événement",
        "type_contact": "Type_Contact",
        "honore": "Honoré",
        "intervenant": "Intervenant",
    },
)

CONTACTS_ZERO_EXPULSION = RegleContacts(
    par_mois=1.6,
    types={"visite_domicile": 0.5, "rdv_bureau": 0.15, "telephone": 0.2,
           "accompagnement_demarche": 0.15},
    intervenants={"travailleur_social": 0.8, "psychologue": 0.12, "autre": 0.08},
    p_honore=0.8,
)


def zero_expulsion(graine: int) -> ProjetGenere:
    """« Zéro expulsion locative » (Batigère, Présence Habitat; 57, 54, 68, 67), 2017-2019."""
    projet_id, rang = "zero_expulsion", 3
    extraction, anterieure = dt.date(2019, 12, 31), dt.date(2019, 6, 30)
    rng = generateur_aleatoire(graine, rang)
    quotas_adheres = {
        "maintien": {"procedure_evitee": 26, "procedure_en_cours": 2, "expulsion": 2, "depart": 1,
                     "dette_resolue": 22, "dette_non_resolue": 2},
        "acces": {"stable": 62, "dette_resolue": 4, "dette_non_resolue": 2},
    }
    quotas_non_adheres = {
        "maintien": {"procedure_en_cours": 6, "expulsion": 3, "dette_resolue": 4,
                     "dette_non_resolue": 4},
        "acces": {"stable": 16, "dette_non_resolue": 4},
    }
    tirages = []  # (volet, adhesion, classe)
    for volet in ("maintien", "acces"):
        tirages += [(volet, True, c) for c in quotas_melanges(rng, quotas_adheres[volet])]
        tirages += [(volet, False, c) for c in quotas_melanges(rng, quotas_non_adheres[volet])]
    tirages = [tirages[i] for i in rng.permutation(len(tirages))]
    orientations = sorted(
        date_aleatoire(rng, dt.date(2017, 1, 2), dt.date(2019, 11, 29)) for _ in tirages
    )
    numeros = numeros_locataires(rng, len(tirages), "ZE")
    menages = []
    for i, ((volet, adhere, classe), orientation, numero) in enumerate(
        zip(tirages, orientations, numeros)
    ):
        r = generateur_aleatoire(graine, rang, i)
        bailleur = "batigere" if r.random() < 0.55 else "presence_habitat"
        departement = choisir(r, {"57": 0.45, "54": 0.3, "68": 0.13, "67": 0.12})
        profil = tirer_profil(r, volet)
        if volet == "acces" and profil.taux_effort is not None:
            # housing cost capped at 25 % of resources on the access side
            profil.taux_effort = round(min(profil.taux_effort, r.uniform(0.18, 0.25)), 3)
        m0 = mois_de(orientation)
        debut = None
        if adhere:
            debut = min(orientation + dt.timedelta(days=entier_uniforme(r, 5, 60)), extraction)
        md = mois_de(debut) if debut else None
        if volet == "acces":
            entree = min(orientation + dt.timedelta(days=entier_uniforme(r, 0, 20)),
                         dernier_jour(m0))
            premier, carence = m0, 1
        else:
            entree, premier, carence = None, m0 - 6, 0
        duree = entier_uniforme(r, 6, 12) if volet == "acces" else entier_uniforme(r, 9, 18)
        for _ in range(ESSAIS):
            sc = scenario_classe(r, classe, premier=premier, dernier=mois_de(extraction), m0=m0,
                                  md=md, profil=profil, carence=carence, mois_regul=4)
            mutation = (
                volet == "maintien" and classe in ("dette_resolue", "procedure_evitee")
                and (profil.taux_effort or 0) > 0.35 and r.random() < 0.4
            )
            if mutation:  # a move to a cheaper home is offered above a 35 % effort rate
                sc = replace(sc, mois_relogement=(md or m0) + entier_uniforme(r, 3, 8),
                             type_relogement="mutation")
            trajectoire = simuler(sc, Alea.tirer(r, sc.mois_dernier - sc.mois_premier + 1))
            if entree is not None:
                trajectoire.evenements.insert(0, (entree, "entree_logement"))
            fin, motif, coherent = None, None, True
            if adhere:
                motif_normal = (
                    "objectifs_atteints" if sc.mois_redressement is not None
                    else ("abandon" if r.random() < 0.7 else "autre")
                )
                if trajectoire.date_evenement("mutation"):
                    motif_normal = "relogement"
                fin, motif, coherent = cloture(
                    trajectoire, debut, ajouter_mois(debut, duree), extraction, motif_normal
                )
                if motif == "relogement" and trajectoire.date_evenement("mutation") > fin:
                    motif = "objectifs_atteints"
            menage = nouveau_menage(
                graine=graine, projet_id=projet_id, numero=numero, bailleur_id=bailleur,
                departement=departement, cohorte="accompagne", volet=volet,
                orientation=orientation, debut=debut, fin=fin, motif=motif, profil=profil,
                trajectoire=trajectoire, loyer_mensuel=loyer_index(sc, trajectoire, m0),
                classe=classe,
            )
            if not coherent:
                continue
            if not adhere:
                break
            ind = indicateurs(menage, trajectoire, *resultat_descriptif(menage, extraction))
            if conforme(classe, ind, motif):
                break
        if adhere:
            menage.contacts = tirer_contacts(
                r, CONTACTS_ZERO_EXPULSION, debut, fin or extraction, fin is not None
            )
        menages.append(menage)
    menages = ordonner(menages)
    anciens = ordonner([m for m in (tronquer(m, anterieure) for m in menages) if m is not None])
    projet = ProjetGenere(projet_id, {anterieure: anciens, extraction: menages},
                          FORMAT_ZERO_EXPULSION, consommations=False)
    projet.verite = {
        "parametres": {
            "periode_orientation": ["2017-01-02", "2019-11-29"],
            "volets": {"maintien": 72, "acces": 88},
            "classes_adheres": quotas_adheres,
            "classes_non_adheres": quotas_non_adheres,
            "duree_accompagnement_mois": {"acces": [6, 12], "maintien": [9, 18]},
            "note": "la livraison du 2019-06-30 est la même base vue à cette date (ménages "
            "orientés avant, dates, comptes, événements et contacts coupés) ; celle du "
            "2019-12-31 la remplace",
        },
    }
    return projet


# =========================================================================== Déclic

FORMAT_DECLIC = FormatLivraison(
    description="tableur, « CSV UTF-8 (délimité par des points-virgules) » : UTF-8 avec BOM, "
    "« ; », virgule décimale et espace des milliers, dates JJ/MM/AAAA, mois MM/AAAA, VRAI/FAUX",
    encodage="utf-8-sig",
    separateur=";",
    decimale=",",
    milliers=" ",
    format_date="%d/%m/%Y",
    format_mois="%m/%Y",
    vrai="VRAI",
    faux="FAUX",
    fin_ligne="\r\n",
)

CONTACTS_DECLIC = RegleContacts(
    par_mois=2.2,
    types={"visite_domicile": 0.45, "rdv_bureau": 0.15, "telephone": 0.25,
           "accompagnement_demarche": 0.15},
    intervenants={"travailleur_social": 0.55, "cesf": 0.3, "psychologue": 0.15},
    p_honore=0.72,
)


def declic(graine: int) -> ProjetGenere:
    """« Déclic » (Les Chalets, Toulouse 31), June 2017 - June 2020."""
    projet_id, rang = "declic", 4
    extraction = dt.date(2020, 6, 30)
    rng = generateur_aleatoire(graine, rang)
    n = 67
    orientations = sorted(
        date_aleatoire(rng, dt.date(2017, 6, 1), dt.date(2020, 3, 31)) for _ in range(n)
    )
    # 13 accompaniments still running: the 10 most recent and 3 among the 15 before them
    en_cours = set(range(n - 10, n)) | {
        int(x) for x in rng.choice(np.arange(n - 25, n - 10), size=3, replace=False)
    }
    quotas_termines = {"objectifs_atteints": 32, "relogement": 16, "autre": 6}
    classes_termines = iter(quotas_melanges(rng, quotas_termines))
    numeros = numeros_locataires(rng, n, "CH")
    menages = []
    for i, (orientation, numero) in enumerate(zip(orientations, numeros)):
        r = generateur_aleatoire(graine, rang, i)
        classe = "en_cours" if i in en_cours else next(classes_termines)
        profil = tirer_profil(
            r, "maintien",
            compositions={"isole": 0.55, "monoparental": 0.2, "couple_sans_enfant": 0.1,
                          "couple_avec_enfants": 0.1, "autre": 0.05},
            ressources={"moins_1000": 0.65, "1000_1500": 0.28, "1500_plus": 0.07},
            origines={"bailleur": 0.7, "association": 0.2, "service_social": 0.1},
        )
        m0 = mois_de(orientation)
        debut = min(orientation + dt.timedelta(days=entier_uniforme(r, 3, 45)), extraction)
        md = mois_de(debut)
        net = max(profil.loyer - profil.aide, 1)
        etape = int(r.choice(4, p=[0.35, 0.25, 0.28, 0.12]))
        initiale = int(net * r.uniform(1.0, 8.0))
        redresse = classe in ("objectifs_atteints",) or (
            classe == "en_cours" and r.random() < 0.75) or (
            classe in ("relogement", "autre") and r.random() < 0.5)
        sc = Scenario(
            mois_premier=m0 - 6, mois_dernier=mois_de(extraction), loyer=profil.loyer,
            aide=profil.aide, solde_initial=initiale, p_plein=0.35,
            etape_initiale=etape,
            mois_etape_initiale=m0 - entier_uniforme(r, 0, 5) if etape else None,
            cfp=False, mois_regul=6, seuil_commandement=2.0, procedure=etape > 0,
        )
        if redresse:
            sc = replace(
                sc, mois_redressement=md + entier_uniforme(r, 1, 4),
                plan=max(4000, int((initiale + 3 * net) / entier_uniforme(r, 8, 24))),
                fsl=centimes(r.uniform(300, 1200)) if r.random() < 0.35 else 0,
            )
        if classe in ("relogement", "autre"):
            mois_relog = min(md + entier_uniforme(r, 2, 9), mois_de(extraction) - 1)
            mutation = classe == "relogement" and r.random() < 0.25
            type_relog = "mutation" if mutation else "relogement"
            sc = replace(sc, mois_relogement=max(mois_relog, md + 1), type_relogement=type_relog)
        trajectoire = simuler(sc, Alea.tirer(r, sc.mois_dernier - sc.mois_premier + 1))
        fin, motif = None, None
        if classe != "en_cours":
            if classe == "objectifs_atteints":
                fin = ajouter_mois(debut, entier_uniforme(r, 5, 18))
            else:
                date_relog = trajectoire.date_evenement(sc.type_relogement)
                fin = date_relog + dt.timedelta(days=entier_uniforme(r, 0, 45))
            fin = min(fin, extraction - dt.timedelta(days=entier_uniforme(r, 1, 20)))
            fin = max(fin, debut)
            motif = classe
        # The households rehoused or reoriented never signed the accompaniment contract:
        # adhesion (a start date) is about 2/3, as the project published.
        engage = classe not in ("relogement", "autre")
        menage = nouveau_menage(
            graine=graine, projet_id=projet_id, numero=numero, bailleur_id="les_chalets",
            departement="31", cohorte="accompagne", volet="maintien", orientation=orientation,
            debut=debut if engage else None, fin=fin if engage else None,
            motif=motif if engage else None, profil=profil, trajectoire=trajectoire,
            loyer_mensuel=loyer_index(sc, trajectoire, m0), classe=classe,
        )
        if engage:
            menage.contacts = tirer_contacts(r, CONTACTS_DECLIC, debut, fin or extraction,
                                             fin is not None)
        menages.append(menage)
    projet = ProjetGenere(projet_id, {extraction: ordonner(menages)}, FORMAT_DECLIC,
                          consommations=False)
    projet.verite = {
        "parametres": {
            "periode_orientation": ["2017-06-01", "2020-03-31"],
            "accompagnements_en_cours": 13,
            "motifs_fin": quotas_termines,
        },
        "correspondance_publie": {
            "67 ménages suivis": "67 ménages accompagne orientés vers le dispositif",
            "13 encore en cours": "date_fin_accompagnement vide pour 13 ménages",
            "2/3 ont adhéré et sont revenus à une gestion courante": "date de début "
            "d'accompagnement (adhésion) : motif_fin objectifs_atteints (32) ou accompagnement "
            "en cours (13) : 45 / 67",
            "1/3 relogés ou réorientés": "22 ménages sans date de début (réorientés avant de "
            "signer le contrat d'accompagnement), chacun avec un événement relogement ou "
            "mutation : 22 / 67 ; l'indicateur relogement, calculé parmi les ménages ayant "
            "adhéré, ne peut donc pas retrouver ce tiers",
            "toutes les expulsions évitées": "aucun expulsion_realisee (concours de la force "
            "publique jamais accordé) ; une partie des ménages est en procédure",
        },
    }
    return projet


# =========================================================================== Solide-R

FORMAT_SOLIDE_R = FormatLivraison(
    description="classeur export.xlsx, une feuille par table : dates en vraies dates Excel, "
    "montants en nombres, mois en texte MM/AAAA, oui/non",
    classeur=True,
    format_mois="%m/%Y",
    vrai="oui",
    faux="non",
)

CONTACTS_SOLIDE_R = RegleContacts(
    par_mois=2.8,
    types={"visite_domicile": 0.7, "rdv_bureau": 0.06, "telephone": 0.12,
           "accompagnement_demarche": 0.12},
    intervenants={"cesf": 0.85, "travailleur_social": 0.15},
    p_honore=0.76,
)


def solide_r(graine: int) -> ProjetGenere:
    """« Solide-R » (CILOGIS / ciléa, Gironde 33), 2013: 30 households, 20 maintien, 10 accès."""
    projet_id, rang = "solide_r", 5
    extraction = dt.date(2014, 6, 30)
    rng = generateur_aleatoire(graine, rang)
    volets = ["maintien"] * 20 + ["acces"] * 10
    volets = [volets[i] for i in rng.permutation(30)]
    quotas = {"dette_soldee": 8, "dette_reduite": 12, "dette_accrue": 10}
    classes = quotas_melanges(rng, quotas)
    bailleurs = quotas_melanges(rng, {"domofrance": 10, "clairsienne": 8, "foyer_de_la_gironde": 6,
                              "logevie": 6})
    orientations = sorted(
        date_aleatoire(rng, dt.date(2013, 1, 7), dt.date(2013, 9, 30)) for _ in range(30)
    )
    numeros = numeros_locataires(rng, 30, "SR")
    menages = []
    for i, (volet, classe, bailleur, orientation, numero) in enumerate(
        zip(volets, classes, bailleurs, orientations, numeros)
    ):
        r = generateur_aleatoire(graine, rang, i)
        profil = tirer_profil(r, volet, ressources={"moins_1000": 0.6, "1000_1500": 0.4},
                              loyer=(300, 600))
        m0 = mois_de(orientation)
        debut = orientation + dt.timedelta(days=entier_uniforme(r, 7, 30))
        md = mois_de(debut)
        # a 6-month measure, renewed once for most households
        duree = 12 if r.random() < 0.6 else 6
        if volet == "acces":
            entree = min(orientation + dt.timedelta(days=entier_uniforme(r, 0, 10)),
                         dernier_jour(m0))
            premier, carence, premier_paiement = m0, 1, r.uniform(0.3, 0.7)
        else:
            entree, premier, carence, premier_paiement = None, m0 - 6, 0, None
        for _ in range(ESSAIS):
            sc = scenario_classe(r, classe, premier=premier, dernier=mois_de(extraction), m0=m0,
                                  md=md, profil=profil, carence=carence, mois_regul=3,
                                  premier_paiement=premier_paiement)
            if volet == "maintien" and sc.solde_initial <= 0:
                sc = replace(sc, solde_initial=max(profil.loyer - profil.aide, 1) * 2)
            if volet == "maintien" and r.random() < 0.5:
                sc = replace(sc, etape_initiale=1,
                             mois_etape_initiale=m0 - entier_uniforme(r, 0, 4))
            trajectoire = simuler(sc, Alea.tirer(r, sc.mois_dernier - sc.mois_premier + 1))
            if entree is not None:
                trajectoire.evenements.insert(0, (entree, "entree_logement"))
            motif_normal = "objectifs_atteints" if classe != "dette_accrue" else (
                "abandon" if r.random() < 0.5 else "autre")
            fin, motif, coherent = cloture(
                trajectoire, debut, ajouter_mois(debut, duree), extraction, motif_normal
            )
            menage = nouveau_menage(
                graine=graine, projet_id=projet_id, numero=numero, bailleur_id=bailleur,
                departement="33", cohorte="accompagne", volet=volet, orientation=orientation,
                debut=debut, fin=fin, motif=motif, profil=profil, trajectoire=trajectoire,
                loyer_mensuel=loyer_index(sc, trajectoire, m0), classe=classe,
            )
            ind = indicateurs(menage, trajectoire, *resultat_descriptif(menage, extraction))
            if coherent and ind["en_dette_entree"] and conforme(classe, ind, motif):
                break
        menage.contacts = tirer_contacts(r, CONTACTS_SOLIDE_R, debut, fin or extraction,
                                         fin is not None)
        if duree == 12 and ajouter_mois(debut, 6) <= (fin or extraction):
            # the three-party review that renews the measure after six months
            menage.contacts.append((ajouter_mois(debut, 6), "bilan", True, "cesf"))
            menage.contacts.sort()
        menages.append(menage)
    projet = ProjetGenere(projet_id, {extraction: ordonner(menages)}, FORMAT_SOLIDE_R,
                          consommations=False)
    projet.verite = {
        "parametres": {
            "periode_orientation": ["2013-01-07", "2013-09-30"],
            "volets": {"maintien": 20, "acces": 10},
            "classes_dette": quotas,
            "duree_accompagnement_mois": "6, renouvelé une fois (12) pour 60 % des ménages",
            "note": "tous en dette à l'entrée : solde(m0-1) > 0 en maintien ; en accès le compte "
            "commence au mois d'entrée (m0), sans aide au logement ce mois-là, et solde(m0) > 0",
        },
    }
    return projet


# =========================================================================== Habitat Réuni

FORMAT_HABITAT_REUNI = FormatLivraison(
    description="outil de requête : UTF-8 sans BOM, « , », point décimal, dates AAAA-MM-JJ, "
    "mois AAAA-MM, booléens 1/0",
    vrai="1",
    faux="0",
)

CONTACTS_HABITAT_REUNI = RegleContacts(
    par_mois=1.4,
    types={"visite_domicile": 0.45, "rdv_bureau": 0.2, "telephone": 0.2,
           "accompagnement_demarche": 0.15},
    intervenants={"travailleur_social": 0.6, "cesf": 0.3, "autre": 0.1},
    p_honore=0.8,
)

# Landlord -> (households accompanied, control households, départements with weights)
BAILLEURS_HABITAT_REUNI = {
    "habitat_62_59": (18, 7, {"62": 0.75, "80": 0.25}),
    "habitat_du_nord": (18, 7, {"59": 0.8, "62": 0.2}),
    "toit_et_joie": (12, 5, {"93": 0.8, "75": 0.2}),
    "essonne_habitat": (20, 8, {"91": 1.0}),
    "logis_transports": (14, 6, {"93": 0.5, "92": 0.2, "94": 0.3}),
    "pierres_et_lumieres": (18, 7, {"45": 0.5, "78": 0.3, "93": 0.1, "94": 0.1}),
}

# The outcome model: log-odds of a lasting recovery of the rent account after the index
# month, and the effect of being accompanied (for households that adhere).
MODELE_HABITAT_REUNI = {
    "constante": 0.8,
    "dette_mois_loyer": -0.25,  # per month of net rent owed at the index (capped at 12)
    "en_procedure_index": -1.0,
    "ressources_moins_1000": -0.6,
    "volet_acces": 0.5,
    "couple": 0.3,
    "effet_accompagnement": 3.4,  # on the log-odds of recovery
    "delai_moyen_redressement_mois": {"accompagne": 1.0, "gestion_habituelle": 5.0},
    "p_fsl": {"accompagne": 0.45, "gestion_habituelle": 0.15},
    "p_concours_force_publique": {"accompagne": 0.25, "gestion_habituelle": 0.65},
    "p_depart_volontaire": 0.05,
    "p_adhesion": 0.92,
}


# The landlords' choice of their control panel, among households they judged less
# fragile than the ones they sent to the accompaniment: less debt at the index (median
# 2 months of net rent against 4), fewer procedures under way (a step from the
# assignation on: 1 in 3 against 1 in 2 among the maintien households), more couples
# and higher resources. The choice is a tilt, not a cut: some controls are as indebted
# and as far into a procedure as the accompanied households, so that the two cohorts
# can be compared once these differences are taken into account.
SELECTION_TEMOINS_HABITAT_REUNI = {
    "dette_mois_loyer": {"accompagne": (4.0, 0.6), "temoin": (2.0, 0.75)},  # lognormal median, sd
    "etapes": {"accompagne": [0.3, 0.25, 0.3, 0.15], "temoin": [0.45, 0.22, 0.22, 0.11]},
    "compositions_temoin": {"couple_avec_enfants": 0.25, "couple_sans_enfant": 0.15,
                            "isole": 0.3, "monoparental": 0.25, "autre": 0.05},
    "ressources": {"accompagne": {"moins_1000": 0.6, "1000_1500": 0.32, "1500_plus": 0.08},
                   "temoin": {"moins_1000": 0.45, "1000_1500": 0.4, "1500_plus": 0.15}},
}


def _logistique(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@dataclass
class _LatentHabitat:
    """A household's baseline and draws, shared by its two potential paths."""

    volet: str
    profil: Profil
    m0: int
    dette_mois: float
    etape: int
    mois_etape: int | None
    u: np.ndarray  # uniforms: recovery, delay, plan, fsl, fsl amount, cfp, depart, depart
    # month, relogement, relogement month
    alea: Alea
    adhere: bool
    md: int | None


def _scenario_habitat(lat: _LatentHabitat, traite: bool, dernier: int) -> tuple[Scenario, bool]:
    mod = MODELE_HABITAT_REUNI
    net = max(lat.profil.loyer - lat.profil.aide, 1)
    acces = lat.volet == "acces"
    lineaire = (
        mod["constante"]
        + mod["dette_mois_loyer"] * min(lat.dette_mois, 12)
        + mod["en_procedure_index"] * (lat.etape >= 2)
        + mod["ressources_moins_1000"] * (lat.profil.tranche_ressources == "moins_1000")
        + mod["volet_acces"] * acces
        + mod["couple"] * lat.profil.composition.startswith("couple")
        + (mod["effet_accompagnement"] if traite else 0.0)
    )
    cle = "accompagne" if traite else "gestion_habituelle"
    u = lat.u
    redresse = u[0] < _logistique(lineaire)
    premier = lat.m0 if acces else lat.m0 - 6
    initiale = 0 if acces else int(net * lat.dette_mois)
    sc = Scenario(
        mois_premier=premier, mois_dernier=dernier, loyer=lat.profil.loyer, aide=lat.profil.aide,
        carence_aide=1 if acces else 0, solde_initial=initiale,
        p_plein=0.72 if acces else 0.45, premier_paiement=1.0 if acces else None,
        etape_initiale=lat.etape, mois_etape_initiale=lat.mois_etape,
        cfp=bool(u[5] < mod["p_concours_force_publique"][cle]), mois_regul=5,
    )
    if redresse:
        delai = int(-math.log(max(u[1], 1e-9)) * mod["delai_moyen_redressement_mois"][cle])
        mois = lat.m0 + 1 + delai
        if traite:
            mois = max(mois, lat.md + 1)
        sc = replace(
            sc, mois_redressement=mois,
            plan=max(4000, int((initiale + 3 * net) / (6 + int(u[2] * 19)))),
            fsl=centimes(300 + 1200 * u[4]) if u[3] < mod["p_fsl"][cle] else 0,
            p_rechute=0.04,
        )
    if u[6] < mod["p_depart_volontaire"]:
        sc = replace(sc, mois_depart=lat.m0 + 1 + int(u[7] * 18))
    if traite and not acces and u[8] < 0.12:
        sc = replace(sc, mois_relogement=lat.m0 + 3 + int(u[9] * 9),
                     type_relogement="mutation" if u[9] < 0.5 else "relogement")
    return sc, redresse


def habitat_reuni(graine: int, horizons: tuple[int, ...] = (6, 12, 18)) -> ProjetGenere:
    """Habitat Réuni « Veille sociale » (6 landlords; Nord-Pas-de-Calais, Île-de-France,
    Orléans): 100 households accompanied (50 maintien, 50 accès) and a control panel."""
    projet_id, rang = "habitat_reuni", 2
    extraction = dt.date(2016, 12, 31)
    dernier = mois_de(extraction)
    rng = generateur_aleatoire(graine, rang)
    lignes = []  # (cohorte, bailleur, departement weights)
    for bailleur, (n_acc, n_tem, departements) in BAILLEURS_HABITAT_REUNI.items():
        lignes += [("accompagne", bailleur, departements)] * n_acc
        lignes += [("temoin", bailleur, departements)] * n_tem
    volets_acc = quotas_melanges(rng, {"maintien": 50, "acces": 50})
    volets_tem = quotas_melanges(rng, {"maintien": 20, "acces": 20})
    numeros = numeros_locataires(rng, len(lignes), "HR")
    mod = MODELE_HABITAT_REUNI
    menages, potentiels = [], {}
    i_acc = i_tem = 0
    for i, (cohorte, bailleur, departements) in enumerate(lignes):
        r = generateur_aleatoire(graine, rang, i)
        if cohorte == "accompagne":
            volet, i_acc = volets_acc[i_acc], i_acc + 1
        else:
            volet, i_tem = volets_tem[i_tem], i_tem + 1
        temoin = cohorte == "temoin"
        # The landlord chose its control panel among households it judged less fragile
        # (SELECTION_TEMOINS_HABITAT_REUNI).
        selection = SELECTION_TEMOINS_HABITAT_REUNI
        if temoin:
            profil = tirer_profil(
                r, volet,
                compositions=selection["compositions_temoin"],
                ressources=selection["ressources"]["temoin"],
                publics={"aucun": 0.7, "pdalhpd": 0.3} if volet == "maintien" else
                {"pdalhpd": 0.5, "dalo": 0.3, "aucun": 0.2},
                origines={"bailleur": 1.0} if volet == "maintien"
                else {"bailleur": 0.6, "siao": 0.4},
            )
        else:
            profil = tirer_profil(
                r, volet,
                ressources=selection["ressources"]["accompagne"],
                publics=None if volet == "maintien" else
                {"dalo": 0.35, "pdalhpd": 0.35, "violences": 0.2, "sortie_hebergement": 0.1},
            )
        mediane, dispersion = selection["dette_mois_loyer"][cohorte]
        dette_mois = (float(r.lognormal(math.log(mediane), dispersion)) if volet == "maintien"
                      else 0.0)
        p_etapes = selection["etapes"][cohorte]
        departement = choisir(r, departements)
        orientation = date_aleatoire(r, dt.date(2014, 10, 1), dt.date(2016, 3, 31))
        m0 = mois_de(orientation)
        etape = int(r.choice(4, p=p_etapes)) if volet == "maintien" else 0
        adhere = not temoin and r.random() < mod["p_adhesion"]
        debut = orientation + dt.timedelta(days=entier_uniforme(r, 5, 45)) if adhere else None
        lat = _LatentHabitat(
            volet=volet, profil=profil, m0=m0, dette_mois=dette_mois, etape=etape,
            mois_etape=m0 - entier_uniforme(r, 0, 4) if etape else None,
            u=r.random(10), alea=Alea.tirer(r, dernier - (m0 - 6) + 1), adhere=adhere,
            md=mois_de(debut) if debut else None,
        )
        entree = None
        if volet == "acces":
            entree = min(orientation + dt.timedelta(days=entier_uniforme(r, 0, 15)),
                         dernier_jour(m0))
        chemins = {}
        for traite in (False, True):
            sc, redresse = _scenario_habitat(lat, traite and adhere, dernier)
            trajectoire = simuler(sc, lat.alea)
            if entree is not None:
                trajectoire.evenements.insert(0, (entree, "entree_logement"))
            chemins[traite] = (sc, trajectoire, redresse)
        sc, trajectoire, redresse = chemins[not temoin]
        fin = motif = None
        if adhere:
            motif_normal = "objectifs_atteints" if redresse else "abandon"
            if trajectoire.date_evenement("relogement") or trajectoire.date_evenement("mutation"):
                motif_normal = "relogement"
            fin, motif, _ = cloture(trajectoire, debut,
                                     ajouter_mois(debut, entier_uniforme(r, 12, 24)),
                                     extraction, motif_normal)
        menage = nouveau_menage(
            graine=graine, projet_id=projet_id, numero=numeros[i], bailleur_id=bailleur,
            departement=departement, cohorte=cohorte, volet=volet, orientation=orientation,
            debut=debut, fin=fin, motif=motif, profil=profil, trajectoire=trajectoire,
            loyer_mensuel=loyer_index(sc, trajectoire, m0),
            classe="temoin" if temoin
            else ("accompagne_adherent" if adhere else "accompagne_refus"),
        )
        if adhere:
            menage.contacts = tirer_contacts(r, CONTACTS_HABITAT_REUNI, debut, fin or extraction,
                                             fin is not None)
        menages.append(menage)
        potentiels[menage.menage_id] = (chemins[True][1], chemins[False][1])
    projet = ProjetGenere(projet_id, {extraction: ordonner(menages)}, FORMAT_HABITAT_REUNI,
                          consommations=False)
    effets = {str(h): effets_horizon(menages, potentiels, h, extraction) for h in horizons}
    projet.verite = {
        "parametres": {
            "periode_orientation": ["2014-10-01", "2016-03-31"],
            "cohortes": {"accompagne": {"maintien": 50, "acces": 50},
                         "temoin": {"maintien": 20, "acces": 20}},
            "bailleurs": {b: {"accompagne": a, "temoin": t, "departements": d}
                          for b, (a, t, d) in BAILLEURS_HABITAT_REUNI.items()},
            "selection_temoin": "choisis par les bailleurs parmi les ménages jugés moins "
            "fragiles : dette d'entrée médiane 2 mois de loyer net (4 chez les accompagnés), "
            "moins de procédures, plus de couples et de ressources ≥ 1 000 € ; une inclinaison "
            "et non une coupure : des témoins aussi endettés que les accompagnés existent",
            "selection": SELECTION_TEMOINS_HABITAT_REUNI,
            "modele": MODELE_HABITAT_REUNI,
        },
        "effets": {
            "estimande": "ATT en intention de traiter : moyenne sur les ménages accompagne "
            "(adhérents ou non) de Y(accompagné) - Y(gestion habituelle), les deux chemins "
            "simulés avec les mêmes tirages ; pour un non-adhérent les deux chemins sont égaux",
            "definition": "indicators.md, comparaison de cohortes : mo = m0 + H, date de "
            "résultat = dernier jour de mo, ménages dont le mois d'extraction est ≥ mo",
            "horizon_principal": 12,
            "par_horizon": effets,
        },
    }
    return projet


def effets_horizon(
    menages: list[Menage],
    potentiels: dict[str, tuple[Trajectoire, Trajectoire]],
    horizon: int,
    date_extraction: dt.date,
) -> dict:
    """True effects on the accompanied at one horizon, and the raw observed gap for contrast."""
    mois_extraction = mois_de(date_extraction)
    retenus = [m for m in menages if m.mois_index + horizon <= mois_extraction]
    accompagnes = [m for m in retenus if m.cohorte == "accompagne"]
    temoins = [m for m in retenus if m.cohorte == "temoin"]
    paires = []
    for m in accompagnes:
        traite, non_traite = potentiels[m.menage_id]
        resultat = resultat_horizon(m, horizon)
        paires.append((indicateurs(m, traite, *resultat), indicateurs(m, non_traite, *resultat)))
    observes = {
        cohorte: [indicateurs(m, m.trajectoire, *resultat_horizon(m, horizon)) for m in groupe]
        for cohorte, groupe in (("accompagne", accompagnes), ("temoin", temoins))
    }
    resultats = {}
    for cle in ("loyer_a_jour", "dette_resorbee", "dette_reduite", "expulse", "maintien"):
        connues = [(a[cle], b[cle]) for a, b in paires if a[cle] is not None and b[cle] is not None]
        y1 = sum(bool(a) for a, _ in connues) / len(connues) if connues else None
        y0 = sum(bool(b) for _, b in connues) / len(connues) if connues else None
        brut = {}
        for cohorte, valeurs in observes.items():
            vals = [v[cle] for v in valeurs if v[cle] is not None]
            brut[cohorte] = round(sum(map(bool, vals)) / len(vals), 4) if vals else None
        resultats[cle] = {
            "n": len(connues),
            "moyenne_accompagne": round(y1, 4) if y1 is not None else None,
            "moyenne_contrefactuelle": round(y0, 4) if y0 is not None else None,
            "att": round(y1 - y0, 4) if connues else None,
            "observe": brut,
            "ecart_brut_observe": (
                round(brut["accompagne"] - brut["temoin"], 4)
                if None not in brut.values() else None
            ),
        }
    dettes = [(a["dette_sortie"], b["dette_sortie"]) for a, b in paires
              if a["dette_sortie"] is not None and b["dette_sortie"] is not None]
    brut_dette = {
        cohorte: round(np.mean([v["dette_sortie"] for v in valeurs
                                if v["dette_sortie"] is not None]) / 100, 2)
        for cohorte, valeurs in observes.items()
    }
    resultats["dette_sortie_eur"] = {
        "n": len(dettes),
        "moyenne_accompagne": round(sum(a for a, _ in dettes) / len(dettes) / 100, 2),
        "moyenne_contrefactuelle": round(sum(b for _, b in dettes) / len(dettes) / 100, 2),
        "att": round(sum(a - b for a, b in dettes) / len(dettes) / 100, 2),
        "observe": brut_dette,
        "ecart_brut_observe": round(brut_dette["accompagne"] - brut_dette["temoin"], 2),
    }
    return {
        "horizon_mois": horizon,
        "n_accompagne": len(accompagnes),
        "n_temoin": len(temoins),
        "resultats": resultats,
        "note": "n = ménages accompagnés dont le résultat est connu dans les deux chemins ; "
        "dette_resorbee et dette_reduite parmi ceux en dette à l'entrée ; "
        "ecart_brut_observe = accompagnés observés - témoins observés (biaisé par la sélection)",
    }


# =========================================================================== Le Trait Social

FORMAT_TRAIT_SOCIAL = FormatLivraison(
    description="export d'un logiciel de suivi : UTF-8 sans BOM, « , », point décimal, "
    "dates JJ/MM/AAAA, mois MM/AAAA, true/false",
    format_date="%d/%m/%Y",
    format_mois="%m/%Y",
    vrai="true",
    faux="false",
)

CONTACTS_TRAIT_SOCIAL = RegleContacts(
    par_mois=1.3,
    types={"visite_domicile": 0.6, "telephone": 0.25, "accompagnement_demarche": 0.15},
    intervenants={"conseiller_energie": 0.5, "travailleur_social": 0.5},
    p_honore=0.85,
)

# Site -> (landlord, département, weight)
SITES_TRAIT_SOCIAL = {
    "Sartrouville": ("batigere_idf", "78", 0.08),
    "Cergy": ("erigere", "95", 0.15),
    "Romainville": ("batigere_idf", "93", 0.15),
    "Massy": ("erigere", "91", 0.2),
    "Montgeron": ("batigere_idf", "91", 0.22),
    "Limeil-Brévannes": ("batigere_idf", "94", 0.1),
    "Sannois": ("erigere", "95", 0.1),
}

# 2015 prices: euros per kWh or m3, and monthly subscription in euros.
PRIX = {"electricite": (0.1467, 8.32), "gaz": (0.0679, 17.12), "eau": (3.62, 0.0)}
SAISONS = {"electricite": 0.1, "gaz": 0.12, "eau": 0.0}


def _consommations(
    r: np.random.Generator, profil: Profil, md: int, mf: int
) -> tuple[list[tuple[int, str, float, int]], float, float]:
    """Monthly readings from the first to the last month of the coaching, and the true saving.

    Returns the rows, the true mean monthly saving (euros) over the last three months and
    the share saved at full effect.
    """
    personnes = {"isole": 1, "couple_sans_enfant": 2, "monoparental": 2.8,
                 "couple_avec_enfants": 3.8, "autre": 2.5}[profil.composition]
    bases = {
        "electricite": r.uniform(120, 170) * personnes ** 0.5,
        "eau": r.uniform(3.6, 4.8) * personnes,
    }
    if r.random() < 0.55:  # individual gas for cooking and hot water
        bases["gaz"] = r.uniform(110, 170) * personnes ** 0.6
    economie = r.uniform(0.1, 0.3)
    lignes, factures, contrefactuelles = [], [], []
    for k, mois in enumerate(range(md, mf + 1)):
        effet = 1 - economie * min(1.0, k / 3)
        facture = contrefactuelle = 0
        for fluide in ("electricite", "gaz", "eau"):
            if fluide not in bases:
                continue
            saison = 1 + SAISONS[fluide] * math.cos(2 * math.pi * (mois % 12) / 12)
            bruit = float(r.lognormal(0, 0.05))
            prix, abonnement = PRIX[fluide]
            base = bases[fluide] * saison * bruit
            quantites = []
            for q in (base * effet, base):
                quantites.append(round(q, 1) if fluide == "eau" else float(round(q)))
            montants = [centimes(q * prix + abonnement) for q in quantites]
            lignes.append((mois, fluide, quantites[0], montants[0]))
            facture += montants[0]
            contrefactuelle += montants[1]
        factures.append(facture)
        contrefactuelles.append(contrefactuelle)
    derniers = min(3, len(factures))
    vraie = (sum(contrefactuelles[-derniers:]) - sum(factures[-derniers:])) / derniers / 100
    return lignes, vraie, economie


def trait_social(graine: int) -> ProjetGenere:
    """Le Trait Social with Batigère Île-de-France and Erigère: energy coaching, 2015-2016."""
    projet_id, rang = "trait_social", 1
    extraction = dt.date(2016, 12, 31)
    rng = generateur_aleatoire(graine, rang)
    n = 150
    orientations = sorted(
        date_aleatoire(rng, dt.date(2015, 1, 5), dt.date(2016, 9, 30)) for _ in range(n)
    )
    numeros = numeros_locataires(rng, n, "TS")
    menages, economies = [], []
    for i, (orientation, numero) in enumerate(zip(orientations, numeros)):
        r = generateur_aleatoire(graine, rang, i)
        site = choisir(r, {s: p for s, (_, _, p) in SITES_TRAIT_SOCIAL.items()})
        bailleur, departement, _ = SITES_TRAIT_SOCIAL[site]
        volet = "acces" if r.random() < 0.1 else "maintien"
        profil = tirer_profil(r, volet, origines={"bailleur": 0.8, "service_social": 0.1,
                                                 "ccas": 0.1})
        m0 = mois_de(orientation)
        adhere = r.random() < 0.95
        debut = orientation + dt.timedelta(days=entier_uniforme(r, 3, 25)) if adhere else None
        debut = min(debut, extraction) if debut else None
        md = mois_de(debut) if debut else None
        classe = "dette_resolue" if r.random() < 0.12 else "stable"
        if volet == "acces":
            entree = min(orientation + dt.timedelta(days=entier_uniforme(r, 0, 10)),
                         dernier_jour(m0))
            premier, carence = m0, 1
        else:
            entree, premier, carence = None, m0 - 6, 0
        sc = scenario_classe(r, classe, premier=premier, dernier=mois_de(extraction), m0=m0,
                              md=md, profil=profil, carence=carence, mois_regul=6)
        sc = replace(sc, cfp=False, procedure=r.random() < 0.2)
        trajectoire = simuler(sc, Alea.tirer(r, sc.mois_dernier - sc.mois_premier + 1))
        if entree is not None:
            trajectoire.evenements.insert(0, (entree, "entree_logement"))
        fin = motif = None
        if adhere:
            fin, motif, _ = cloture(trajectoire, debut, ajouter_mois(debut, 6), extraction,
                                     "objectifs_atteints" if r.random() < 0.9 else "abandon")
        menage = nouveau_menage(
            graine=graine, projet_id=projet_id, numero=numero, bailleur_id=bailleur,
            departement=departement, cohorte="accompagne", volet=volet, orientation=orientation,
            debut=debut, fin=fin, motif=motif, profil=profil, trajectoire=trajectoire,
            loyer_mensuel=loyer_index(sc, trajectoire, m0), classe=classe,
        )
        if adhere:
            menage.contacts = tirer_contacts(r, CONTACTS_TRAIT_SOCIAL, debut, fin or extraction,
                                             fin is not None)
            mf = mois_de(fin or extraction)
            menage.consommations, vraie, part = _consommations(r, profil, md, mf)
            if mf - md + 1 >= 6:
                economies.append((menage.menage_id, vraie, part))
        menages.append(menage)
    projet = ProjetGenere(projet_id, {extraction: ordonner(menages)}, FORMAT_TRAIT_SOCIAL,
                          consommations=True)
    gains = [gain_energie(m) for m in menages]
    gains = [g for g in gains if g is not None]
    projet.verite = {
        "parametres": {
            "periode_orientation": ["2015-01-05", "2016-09-30"],
            "sites": {s: {"bailleur_id": b, "departement": d}
                      for s, (b, d, _) in SITES_TRAIT_SOCIAL.items()},
            "duree_accompagnement_mois": 6,
            "prix_2015": {f: {"prix_unitaire": p, "abonnement_mensuel": a}
                          for f, (p, a) in PRIX.items()},
            "economie_pleine": "10 à 30 % des quantités, atteinte au 4e mois de relevés",
        },
        "effets": {
            "gain_energie_eur": {
                "n": len(gains),
                "moyenne": round(sum(gains) / len(gains), 2) if gains else None,
                "definition": "indicators.md : facture mensuelle moyenne (fluides sommés) des "
                "trois premiers mois de l'accompagnement moins celle des trois derniers mois "
                "observés, ménages avec au moins six mois de relevés",
            },
            "economie_mensuelle_vraie_eur": {
                "n": len(economies),
                "moyenne": round(sum(e for _, e, _ in economies) / len(economies), 2)
                if economies else None,
                "definition": "facture sans l'accompagnement (mêmes tirages) moins facture "
                "relevée, moyenne des trois derniers mois relevés",
            },
        },
    }
    return projet


def gain_energie(menage: Menage) -> float | None:
    """gain_energie_eur of indicators.md for one household (euros), None under six months."""
    if menage.date_debut_accompagnement is None:
        return None
    par_mois: dict[int, int] = {}
    for mois, _, _, montant in menage.consommations:
        par_mois[mois] = par_mois.get(mois, 0) + montant
    mois = sorted(par_mois)
    if len(mois) < 6:
        return None
    debut = sum(par_mois[m] for m in mois[:3]) / 3
    fin = sum(par_mois[m] for m in mois[-3:]) / 3
    return round((debut - fin) / 100, 2)


# =========================================================================== all projects

PROJETS = {
    "trait_social": trait_social,
    "habitat_reuni": habitat_reuni,
    "zero_expulsion": zero_expulsion,
    "declic": declic,
    "solide_r": solide_r,
}
