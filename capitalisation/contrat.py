"""The data contract (version 1), in one place.

Every module that reads, writes, generates or validates a delivery takes the tables,
columns, types and codes from here. The French text of the contract lives in
shared/spec/data-contract.md; this module is its executable form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERSION = 1

# Column types of the contract.
TEXTE = "texte"
CODE = "code"
DATE = "date"
MOIS = "mois"
MONTANT = "montant"  # euros, exact to the cent (DECIMAL(14,2))
NOMBRE = "nombre"  # a measurement (float)
BOOLEEN = "booleen"


@dataclass(frozen=True)
class Colonne:
    nom: str
    type: str
    nullable: bool = False
    codes: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    defaut: object | None = None  # value taken when the cell is empty


@dataclass(frozen=True)
class Table:
    nom: str
    colonnes: tuple[Colonne, ...]
    obligatoire: bool = True
    cle: tuple[str, ...] = ()
    description: str = ""
    noms: tuple[str, ...] = field(default=())

    def colonne(self, nom: str) -> Colonne:
        for col in self.colonnes:
            if col.nom == nom:
                return col
        raise KeyError(nom)

    @property
    def noms_colonnes(self) -> list[str]:
        return [col.nom for col in self.colonnes]


COHORTES = ("accompagne", "temoin")
VOLETS = ("maintien", "acces")
MOTIFS_FIN = (
    "objectifs_atteints",
    "abandon",
    "relogement",
    "expulsion",
    "depart_volontaire",
    "deces",
    "autre",
)
COMPOSITIONS = ("isole", "couple_sans_enfant", "couple_avec_enfants", "monoparental", "autre")
TRANCHES_AGE = ("moins_25", "25_39", "40_59", "60_plus")
TRANCHES_RESSOURCES = ("moins_1000", "1000_1500", "1500_plus")
PUBLICS_PRIORITAIRES = ("dalo", "pdalhpd", "violences", "sortie_hebergement", "aucun")
ORIGINES_ORIENTATION = ("bailleur", "siao", "ccas", "service_social", "association", "autre")

ETAPES_PROCEDURE = (
    "commandement_payer",
    "assignation",
    "jugement_resiliation",
    "commandement_quitter",
    "cfp_demande",
    "cfp_accorde",
    "expulsion_realisee",
)
AUTRES_EVENEMENTS = (
    "impaye_signale",
    "plan_apurement_signe",
    "protocole_cohesion_sociale",
    "fsl_accorde",
    "dossier_surendettement",
    "relogement",
    "mutation",
    "depart_volontaire",
    "entree_logement",
)
TYPES_EVENEMENTS = ETAPES_PROCEDURE + AUTRES_EVENEMENTS
TYPES_CONTACTS = ("visite_domicile", "rdv_bureau", "telephone", "accompagnement_demarche", "bilan")
INTERVENANTS = ("travailleur_social", "cesf", "psychologue", "conseiller_energie", "autre")
FLUIDES = ("electricite", "gaz", "eau")

_MENAGE = Colonne("menage_id", TEXTE)
_PROJET = Colonne("projet_id", TEXTE)

MENAGES = Table(
    "menages",
    (
        _MENAGE,
        _PROJET,
        Colonne("bailleur_id", TEXTE),
        Colonne("cohorte", CODE, codes=COHORTES),
        Colonne("volet", CODE, codes=VOLETS),
        Colonne("date_orientation", DATE),
        Colonne("date_debut_accompagnement", DATE, nullable=True),
        Colonne("date_fin_accompagnement", DATE, nullable=True),
        Colonne("motif_fin", CODE, nullable=True, codes=MOTIFS_FIN),
        Colonne("composition", CODE, codes=COMPOSITIONS),
        Colonne("tranche_age", CODE, codes=TRANCHES_AGE),
        Colonne("tranche_ressources", CODE, codes=TRANCHES_RESSOURCES),
        Colonne("loyer_mensuel", MONTANT, minimum=0.01),
        Colonne("taux_effort", NOMBRE, nullable=True, minimum=0, maximum=1.5),
        Colonne("departement", CODE),
        Colonne("public_prioritaire", CODE, codes=PUBLICS_PRIORITAIRES),
        Colonne("origine_orientation", CODE, codes=ORIGINES_ORIENTATION),
    ),
    cle=("projet_id", "menage_id"),
    description="un ménage par ligne",
)

COMPTES_MENSUELS = Table(
    "comptes_mensuels",
    (
        _MENAGE,
        _PROJET,
        Colonne("mois", MOIS),
        Colonne("quittance", MONTANT, minimum=0),
        Colonne("aide_logement", MONTANT, minimum=0),
        Colonne("paiement", MONTANT, minimum=0),
        Colonne("regularisation", MONTANT, nullable=True, defaut=0),
        Colonne("solde_fin_mois", MONTANT),
        Colonne("plan_apurement", BOOLEEN),
    ),
    cle=("projet_id", "menage_id", "mois"),
    description="un ménage et un mois du compte locatif par ligne",
)

EVENEMENTS = Table(
    "evenements",
    (
        _MENAGE,
        _PROJET,
        Colonne("date", DATE),
        Colonne("type_evenement", CODE, codes=TYPES_EVENEMENTS),
    ),
    description="une étape datée du bail ou de la procédure par ligne",
)

CONTACTS = Table(
    "contacts",
    (
        _MENAGE,
        _PROJET,
        Colonne("date", DATE),
        Colonne("type_contact", CODE, codes=TYPES_CONTACTS),
        Colonne("honore", BOOLEEN),
        Colonne("intervenant", CODE, codes=INTERVENANTS),
    ),
    description="un rendez-vous de l'accompagnement par ligne",
)

CONSOMMATIONS = Table(
    "consommations",
    (
        _MENAGE,
        _PROJET,
        Colonne("mois", MOIS),
        Colonne("fluide", CODE, codes=FLUIDES),
        Colonne("quantite", NOMBRE, minimum=0),
        Colonne("montant", MONTANT, minimum=0),
    ),
    obligatoire=False,
    cle=("projet_id", "menage_id", "mois", "fluide"),
    description="un ménage, un mois et un fluide par ligne",
)

TABLES: dict[str, Table] = {
    table.nom: table for table in (MENAGES, COMPTES_MENSUELS, EVENEMENTS, CONTACTS, CONSOMMATIONS)
}

CLASSEUR = "export.xlsx"  # the workbook form: one sheet per table

# Extra columns that may be delivered and are dropped on reading (none so far: every
# extra column is refused, the usual way a name or an address leaks into an export).
COLONNES_AUTORISEES: dict[str, tuple[str, ...]] = {}

BOOLEENS_VRAIS = frozenset({"oui", "1", "true", "vrai", "o", "y", "yes"})
BOOLEENS_FAUX = frozenset({"non", "0", "false", "faux", "n", "no"})

# Bands of the two derived columns of menages, as half-open intervals [lower, upper): a
# landlord's data hold a birth date and an amount of resources, the delivery only the band.
# Age is reckoned in whole years (birthdays passed) at date_orientation, the index date;
# resources are monthly, housing benefit excluded, in euros.
BORNES_TRANCHES_AGE: tuple[tuple[str, int | None, int | None], ...] = (
    ("moins_25", None, 25),
    ("25_39", 25, 40),
    ("40_59", 40, 60),
    ("60_plus", 60, None),
)
BORNES_TRANCHES_RESSOURCES: tuple[tuple[str, int | None, int | None], ...] = (
    ("moins_1000", None, 1000),
    ("1000_1500", 1000, 1500),
    ("1500_plus", 1500, None),
)
assert tuple(code for code, _, _ in BORNES_TRANCHES_AGE) == TRANCHES_AGE
assert tuple(code for code, _, _ in BORNES_TRANCHES_RESSOURCES) == TRANCHES_RESSOURCES
