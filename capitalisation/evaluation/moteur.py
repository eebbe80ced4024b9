"""The comparison of one cohort table: balance, raw and adjusted estimates, power,
trajectories and time to event, as tidy DataFrames with their warnings.

A cohort table has one row per household, a 0/1 treatment column (1 = accompanied),
outcome columns and covariate columns. The same functions serve the warehouse marts
(`entrepot.py`) and any table an evaluator brings (`commande.py`).

Results (one row per projet_id, resultat, horizon_mois, methode), columns
`COLONNES_ESTIMATIONS`:

* n_traites, n_temoins: households of each cohort entering the estimate; k_traites,
  k_temoins: events (binary outcomes, time to event).
* p_traites, p_temoins: proportions (or means, for a continuous outcome) by cohort; for
  `logit_effet_marginal` the mean predicted probabilities with treatment set to 1 and
  to 0; for the weighted rows the treated (or weighted treated) mean and the weighted
  control mean (the counterfactual mean for the doubly robust row).
* estimation, ic_bas, ic_haut (95 %), p_valeur; ess: effective size of the weighted
  controls; estimande: ATT or ATE for the adjusted and weighted rows.
* covariables_utilisees, covariables_ecartees: the covariates the model used, and those
  it could not (with why: constant, collinear); methode_inference: how the interval and
  p-value were obtained; p_permutation, ic_permutation_bas/haut: randomisation
  inference; e_valeur, e_valeur_ic: E-values (binary outcomes); p_holm: Holm-adjusted
  p-value across the outcomes of a method (`ajouter_holm`).
* avertissements: "code: message" lines joined by " | " (French messages naming no
  count of households), empty when none; codes_avertissement: the codes alone.

Methods: difference_brute (Miettinen-Nurminen score interval, Fisher's exact p),
rapport_risques (log-scale interval, Fisher's p), difference_moyennes (Welch, and a permutation test),
logit_effet_marginal, ols_ajuste, ipw_att / ipw_ate, ipw_ra_att / ipw_ra_ate (doubly
robust), did, cox (hazard ratio), logrank (estimation = chi-square), puissance_mdd
(estimation = minimum detectable difference for the test reported: Fisher's exact test,
exact power, for a binary outcome; Welch's t test for a continuous one), puissance_taille
(households needed in each of two equal groups to detect the target difference: 15
points from the control proportion in either direction, or a quarter of the control
mean, unless set; p_temoins holds the control proportion or mean, p_traites the one
that would be detected).

Small samples (the design this engine exists for: 25 accompanied against 25 controls):
every covariate asked for enters every model (see "Covariates of each model"); Student
t critical values; HC3 errors for the regressions; for the weighted estimators the
randomisation interval (treatment redrawn from the propensity scores); with few
landlords, the wild cluster bootstrap, and no interval where none is reliable
(`intervalle_non_applicable`). The coverage study (`simulation.py`, `make bench`) checks
each reported interval on such designs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capitalisation import config
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.evaluation import inference, modeles
from capitalisation.evaluation import statistiques as st
from capitalisation.evaluation.statistiques import NIVEAU

COLONNES_ESTIMATIONS = [
    "projet_id", "resultat", "horizon_mois", "methode", "n_traites", "k_traites", "n_temoins",
    "k_temoins", "p_traites", "p_temoins", "estimation", "ic_bas", "ic_haut", "p_valeur", "ess",
    "avertissements", "estimande", "covariables_utilisees", "covariables_ecartees",
    "methode_inference", "p_permutation", "ic_permutation_bas", "ic_permutation_haut",
    "e_valeur", "e_valeur_ic", "p_holm", "codes_avertissement",
]
COLONNES_EQUILIBRE = [
    "projet_id", "covariable", "niveau", "n_traites", "n_temoins", "k_traites", "k_temoins",
    "moyenne_traites", "moyenne_temoins", "moyenne_ponderee_temoins", "smd_avant", "smd_apres",
    "ratio_variance_avant", "ratio_variance_apres", "ks_avant", "ks_apres", "desequilibre_avant",
    "desequilibre_apres",
]
COLONNES_TRAJECTOIRES = ["projet_id", "cohorte", "mois_relatif", "n", "moyenne", "ic_bas", "ic_haut"]
COLONNES_SURVIE = ["projet_id", "evenement", "cohorte", "temps", "survie", "ic_bas", "ic_haut",
                   "n_risque"]

METHODES = {
    "difference_brute": "Différence brute (intervalle de Miettinen-Nurminen)",
    "rapport_risques": "Rapport de risques",
    "difference_moyennes": "Différence de moyennes (Welch)",
    "logit_effet_marginal": "Effet marginal moyen (modèle logistique)",
    "ols_ajuste": "Régression linéaire ajustée",
    "ipw_att": "Pondération inverse, effet sur les accompagnés (ATT)",
    "ipw_ate": "Pondération inverse, effet moyen (ATE)",
    "ipw_ra_att": "Doublement robuste (régression pondérée), effet sur les accompagnés (ATT)",
    "ipw_ra_ate": "Doublement robuste (régression pondérée), effet moyen (ATE)",
    "did": "Différence de différences",
    "cox": "Rapport des risques instantanés (Cox)",
    "logrank": "Test du log-rank (khi-deux)",
    "puissance_mdd": "Différence minimale détectable",
    "puissance_taille": "Taille nécessaire par groupe",
}

# |SMD| above this flags a covariate (or level) as imbalanced.
SEUIL_SMD = 0.1
# Fewer events (or non-events) than this in a cohort: estimates are fragile.
MIN_EVENEMENTS = 10
# Fewer events (or non-events) than this in a cohort: the risk ratio and the logit's
# marginal effect are given without interval (nor p-value, for the logit). With so few
# events their intervals cover more than their level (the coverage study's rare outcome,
# about 6 %: Katz's interval for the risk ratio 99 %, the delta method for the marginal
# effect 97 %), and an interval that says little about the data is not reported as if it
# did. The raw difference keeps its Miettinen-Nurminen interval, and the weighted
# estimates their randomisation intervals, which hold their level there (95 to 97 %).
MIN_EVENEMENTS_INTERVALLE = 5
# Power computations.
PUISSANCE, ALPHA = 0.8, 0.05
# Size per group needed (puissance_taille): to detect a difference of ECART_CIBLE in
# proportion (15 points, in either direction from the control proportion), or of
# ECART_RELATIF_CIBLE of the control mean for a continuous outcome (a quarter of the debt).
ECART_CIBLE = 0.15
ECART_RELATIF_CIBLE = 0.25
# Cohort codes of the warehouse.
COHORTE_TRAITEE, COHORTE_TEMOIN = "accompagne", "temoin"

_VRAI = {"1", "1.0", "oui", "o", "vrai", "true", "t", "yes", "y"}
_FAUX = {"0", "0.0", "non", "n", "faux", "false", "f", "no"}
# Treatment codes besides the binary words: the data contract's cohort codes.
_TRAITE = _VRAI | {COHORTE_TRAITEE, "accompagné", "accompagnee", "accompagnée", "traite", "traité"}
_TEMOIN = _FAUX | {COHORTE_TEMOIN, "témoin"}

Avertissement = tuple[str, str]


def joindre_avertissements(avertissements: list[Avertissement]) -> str:
    """`code: message` lines joined by " | ", duplicates removed, order kept."""
    vus: list[str] = []
    for code, message in avertissements:
        ligne = f"{code}: {message}"
        if ligne not in vus:
            vus.append(ligne)
    return " | ".join(vus)


def _fr(x: float, decimales: int = 1) -> str:
    return f"{x:.{decimales}f}".replace(".", ",")


# ---------------------------------------------------------------------------
# Columns: treatment, outcome, covariates
# ---------------------------------------------------------------------------


def _textes(serie: pd.Series) -> pd.Series:
    return serie.map(lambda v: v if pd.isna(v) else str(v).strip().lower())


def convertir_binaire(serie: pd.Series) -> pd.Series | None:
    """0/1 floats (NaN when missing) if every value is binary, else None.

    Accepts booleans, 0/1 numbers and the words oui/non, vrai/faux, true/false.
    """
    if pd.api.types.is_bool_dtype(serie.dtype):
        return serie.astype("Float64").astype(float)
    if pd.api.types.is_numeric_dtype(serie.dtype):
        valeurs = pd.to_numeric(serie, errors="coerce").astype(float)
        presentes = valeurs.dropna()
        return valeurs if presentes.isin([0.0, 1.0]).all() else None
    textes = _textes(serie)
    presentes = textes.dropna()
    presentes = presentes[presentes != ""]
    if not presentes.isin(_VRAI | _FAUX).all():
        return None
    return textes.map(lambda v: 1.0 if v in _VRAI else (0.0 if v in _FAUX else np.nan)).astype(float)


def convertir_numerique(serie: pd.Series) -> pd.Series | None:
    """Floats (NaN when missing) if every non-empty value is a number, else None."""
    if pd.api.types.is_bool_dtype(serie.dtype):
        return serie.astype("Float64").astype(float)
    if pd.api.types.is_numeric_dtype(serie.dtype):
        return pd.to_numeric(serie, errors="coerce").astype(float)
    textes = serie.map(lambda v: v if pd.isna(v) else str(v).strip())
    textes = textes.where(textes != "", None)
    valeurs = pd.to_numeric(textes, errors="coerce")
    if (valeurs.isna() & textes.notna()).any():
        return None
    return valeurs.astype(float)


def convertir_resultat(serie: pd.Series, type_resultat: str | None = None) -> tuple[pd.Series, str]:
    """(values as floats with NaN, "binaire" or "continu"); auto-detected when not given."""
    if type_resultat in (None, "binaire"):
        binaire = convertir_binaire(serie)
        if binaire is not None:
            return binaire, "binaire"
        if type_resultat == "binaire":
            raise ErreurUtilisateur(
                f"la colonne de résultat « {serie.name} » n'est pas binaire "
                "(valeurs attendues : 0/1, oui/non, vrai/faux)")
    numerique = convertir_numerique(serie)
    if numerique is None:
        exemples = ", ".join(sorted({str(v) for v in serie.dropna().unique()})[:5])
        raise ErreurUtilisateur(
            f"la colonne de résultat « {serie.name} » n'est ni binaire (0/1, oui/non, "
            f"vrai/faux) ni numérique (valeurs : {exemples})")
    return numerique, "continu"


def convertir_traitement(serie: pd.Series) -> np.ndarray:
    """The treatment column as an int array of 0/1; a clear error otherwise.

    Accepted: 1/0, oui/non (vrai/faux, true/false) and the cohort codes
    accompagne/temoin (with or without accents, any case)."""
    vides = serie.isna() | (serie.astype(str).str.strip() == "")
    if vides.any():
        lignes = _citer_lignes(np.flatnonzero(vides.to_numpy()))
        raise ErreurUtilisateur(
            f"la colonne de traitement « {serie.name} » a {int(vides.sum())} valeur(s) manquante(s) "
            f"({lignes}) : chaque ménage doit valoir 1, oui ou accompagne (accompagné) ou 0, non "
            "ou temoin (témoin)")
    if pd.api.types.is_bool_dtype(serie.dtype) or pd.api.types.is_numeric_dtype(serie.dtype):
        valeurs = convertir_binaire(serie)
        if valeurs is not None:
            return valeurs.to_numpy().astype(int)
    textes = _textes(serie)
    inconnus = ~textes.isin(_TRAITE | _TEMOIN)
    if inconnus.any():
        autres = sorted({str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                         for v in serie[inconnus].unique()})[:5]
        raise ErreurUtilisateur(
            f"la colonne de traitement « {serie.name} » doit valoir 1, oui ou accompagne "
            f"(accompagné) ou 0, non ou temoin (témoin) ; valeurs trouvées : {', '.join(autres)} "
            f"({_citer_lignes(np.flatnonzero(inconnus.to_numpy()))})")
    return textes.isin(_TRAITE).to_numpy().astype(int)


def _citer_lignes(positions: np.ndarray, maximum: int = 10) -> str:
    """« ligne(s) 2, 5, 9 » for 0-based row positions (line 1 is the header)."""
    numeros = [str(int(i) + 2) for i in positions[:maximum]]
    suite = f" et {len(positions) - maximum} autre(s)" if len(positions) > maximum else ""
    return f"ligne{'s' if len(positions) > 1 else ''} {', '.join(numeros)}{suite}"


@dataclass
class Covariables:
    """Covariates prepared for the models and for the balance table.

    `design`: float columns without constant (numeric as is, missing values imputed by
    the median with a `<col>_manquant` indicator, categories as indicators of every
    level but the most frequent one). `lignes_equilibre`: (covariable, niveau, values,
    binaire) with every level of a categorical covariate. `colonnes`: the design columns
    of each covariate, in the order the covariates were given (their priority order);
    `indicatrices`: the 0/1 columns (levels, missing indicators, binary covariates).
    """

    design: pd.DataFrame
    lignes_equilibre: list[tuple[str, str, np.ndarray, bool]]
    colonnes: dict[str, list[str]] = field(default_factory=dict)
    indicatrices: set[str] = field(default_factory=set)

    @property
    def matrice(self) -> np.ndarray | None:
        return self.design.to_numpy(dtype=float) if self.design.shape[1] else None


def _est_nombre(v) -> bool:
    import numbers
    return isinstance(v, (bool, np.bool_, numbers.Number)) and not isinstance(v, str)


def preparer_covariables(table: pd.DataFrame, covariables: list[str] | tuple[str, ...],
                         categorielles: list[str] | tuple[str, ...] = ()) -> Covariables:
    """`categorielles`: covariates taken as categories even when their values are numbers
    (a département, a code)."""
    colonnes: dict[str, np.ndarray] = {}
    lignes: list[tuple[str, str, np.ndarray, bool]] = []
    par_covariable: dict[str, list[str]] = {}
    for nom in covariables:
        avant = len(colonnes)
        serie = table[nom]
        if nom in categorielles:
            serie = serie.map(lambda v: v if pd.isna(v) else (
                str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))).astype(object)
        _preparer_covariable(serie, nom, colonnes, lignes)
        if len(colonnes) > avant:
            par_covariable[nom] = list(colonnes)[avant:]
    design = pd.DataFrame(colonnes, index=table.index) if colonnes else pd.DataFrame(index=table.index)
    indicatrices = {c for c, valeurs in colonnes.items() if np.isin(valeurs, [0.0, 1.0]).all()}
    return Covariables(design=design, lignes_equilibre=lignes, colonnes=par_covariable,
                       indicatrices=indicatrices)


def _preparer_covariable(serie: pd.Series, nom: str, colonnes: dict[str, np.ndarray],
                         lignes: list[tuple[str, str, np.ndarray, bool]]) -> None:
    """Adds the design columns and balance rows of one covariate."""
    numerique = None
    if not (pd.api.types.is_object_dtype(serie.dtype) or pd.api.types.is_string_dtype(serie.dtype)
            or isinstance(serie.dtype, pd.CategoricalDtype)):
        numerique = convertir_numerique(serie)
    elif serie.notna().any() and serie.dropna().map(_est_nombre).all():
        # Python booleans or numbers (e.g. decimals) in an object column.
        numerique = serie.map(lambda v: np.nan if pd.isna(v) else float(v)).astype(float)
    if numerique is not None:
        valeurs = numerique.to_numpy(dtype=float)
        manquants = np.isnan(valeurs)
        if manquants.all():
            return
        binaire = bool(np.isin(valeurs[~manquants], [0.0, 1.0]).all())
        if manquants.any():
            valeurs = np.where(manquants, np.nanmedian(valeurs), valeurs)
        colonnes[nom] = valeurs
        lignes.append((nom, "", valeurs, binaire))
        if manquants.any():
            indicateur = manquants.astype(float)
            colonnes[f"{nom}_manquant"] = indicateur
            lignes.append((nom, "manquant", indicateur, True))
        return
    textes = serie.map(lambda v: "manquant" if pd.isna(v) or str(v).strip() == "" else str(v).strip())
    effectifs = textes.value_counts()
    niveaux = sorted(effectifs.index)
    reference = max(niveaux, key=lambda niv: (effectifs[niv], -niveaux.index(niv)))
    for niveau in niveaux:
        indicateur = (textes == niveau).to_numpy(dtype=float)
        lignes.append((nom, niveau, indicateur, True))
        if niveau != reference:
            colonnes[f"{nom}={niveau}"] = indicateur


# ---------------------------------------------------------------------------
# Covariates of each model
# ---------------------------------------------------------------------------
#
# Every covariate the evaluator asks for enters every model. A design column is left out
# only when the model cannot be written with it: a column that is constant, or a linear
# combination of the others (a level every household of the sample shares, two
# covariates that say the same thing). What was left out, and why, is written in the
# row itself (`covariables_ecartees`), beside what was used (`covariables_utilisees`).
# Few events per parameter do not drop anything: the row says the estimate is fragile
# (`peu_d_evenements_par_parametre`). When the data cannot support a model at all
# (separation of the logit, treatment determined by the covariates), the row gives no
# estimate and says why; no row ever shows another estimator's number under its name.

EVENEMENTS_PAR_PARAMETRE = 10


@dataclass
class DesignModele:
    """The covariate design of one model (None without covariates) and what it used."""

    x: np.ndarray | None
    utilisees: list[str]
    ecartees: list[str]
    colonnes: list[str] = field(default_factory=list)  # the names of the columns of x


def design_du_modele(cov: Covariables, traite: np.ndarray | None = None) -> DesignModele:
    """The design columns of `cov` a model can carry: constant and linearly dependent
    columns (given the constant, and the treatment when `traite` is given) are left out
    and listed with the reason."""
    if not cov.colonnes:
        return DesignModele(None, [], [])
    noms = list(cov.design.columns)
    base = [np.ones(len(cov.design))]
    if traite is not None:
        base.append(np.asarray(traite, dtype=float))
    m = np.column_stack(base + [cov.design.to_numpy(dtype=float)])
    gardees = set(j - len(base) for j in modeles.colonnes_independantes(m) if j >= len(base))
    retenues = [noms[j] for j in range(len(noms)) if j in gardees]
    ecartees = []
    for j, nom in enumerate(noms):
        if j in gardees:
            continue
        colonne = cov.design[nom].to_numpy(dtype=float)
        raison = "constante" if np.all(colonne == colonne[0]) else "colinéaire aux autres"
        ecartees.append(f"{nom} ({raison})")
    utilisees = [c for c, cols in cov.colonnes.items() if any(col in retenues for col in cols)]
    ecartees += [f"{c} (aucune colonne utilisable)" for c in cov.colonnes if c not in utilisees
                 and not any(e.startswith(f"{c}") for e in ecartees)]
    x = cov.design[retenues].to_numpy(dtype=float) if retenues else None
    return DesignModele(x, utilisees, ecartees, retenues)


def avertissement_parametres(limitants: dict[str, int], k: int, modele: str) -> list[Avertissement]:
    """Fewer than EVENEMENTS_PAR_PARAMETRE of the limiting count per parameter (besides the
    intercept): the estimate is fragile (Peduzzi et al. 1996). No count is named."""
    if k <= 0:
        return []
    libelle, valeur = min(limitants.items(), key=lambda kv: kv[1])
    if valeur >= EVENEMENTS_PAR_PARAMETRE * k:
        return []
    return [("peu_d_evenements_par_parametre", (
        f"{modele} : moins de {EVENEMENTS_PAR_PARAMETRE} {libelle} par paramètre : estimation "
        "fragile, à lire avec l'intervalle"))]


# ---------------------------------------------------------------------------
# Warnings shared by the rows of one outcome
# ---------------------------------------------------------------------------


def _sous_seuil(compte: int) -> bool:
    return 1 <= compte < config.SEUIL_EFFECTIF


def avertissement_secret(n_t: int, n_c: int, k_t: int | None = None, k_c: int | None = None,
                         quoi: str = "l'événement") -> list[Avertissement]:
    """Secrecy: a denominator under SEUIL_DENOMINATEUR or a count (or its complement)
    between 1 and SEUIL_EFFECTIF - 1 in a cohort; the publication layer suppresses it.
    The text names which cohort, never a count."""
    raisons = []
    for libelle, n, k in (("accompagnés", n_t, k_t), ("témoins", n_c, k_c)):
        if n < config.SEUIL_DENOMINATEUR:
            raisons.append(f"{libelle} : dénominateur inférieur à {config.SEUIL_DENOMINATEUR}")
        if k is not None and (_sous_seuil(k) or _sous_seuil(n - k)):
            raisons.append(f"{libelle} : effectif avec ou sans {quoi} de 1 à "
                           f"{config.SEUIL_EFFECTIF - 1}")
    if not raisons:
        return []
    return [("secret_statistique", "sous le seuil du secret statistique, à masquer avant "
             "publication : " + " ; ".join(raisons))]


def avertissement_evenements(n_t: int, k_t: int, n_c: int, k_c: int) -> list[Avertissement]:
    if min(k_t, n_t - k_t, k_c, n_c - k_c) < MIN_EVENEMENTS:
        return [("evenements_rares",
                 (f"moins de {MIN_EVENEMENTS} événements ou non-événements dans une cohorte : "
                  "estimations fragiles"))]
    return []


def _ligne(projet_id, resultat, horizon, methode, *, n_t=None, k_t=None, n_c=None, k_c=None,
           p_t=math.nan, p_c=math.nan, estimation=math.nan, ic_bas=math.nan, ic_haut=math.nan,
           p_valeur=math.nan, ess=math.nan, avertissements=(), estimande=None,
           utilisees=(), ecartees=(), methode_inference="", p_permutation=math.nan,
           ic_permutation=(math.nan, math.nan)) -> dict:
    avertissements = list(avertissements)
    return {
        "projet_id": projet_id, "resultat": resultat, "horizon_mois": horizon, "methode": methode,
        "n_traites": n_t, "k_traites": k_t, "n_temoins": n_c, "k_temoins": k_c, "p_traites": p_t, "p_temoins": p_c,
        "estimation": estimation, "ic_bas": ic_bas, "ic_haut": ic_haut, "p_valeur": p_valeur, "ess": ess,
        "avertissements": joindre_avertissements(avertissements),
        "estimande": estimande, "covariables_utilisees": ", ".join(utilisees),
        "covariables_ecartees": ", ".join(ecartees), "methode_inference": methode_inference,
        "p_permutation": p_permutation, "ic_permutation_bas": ic_permutation[0],
        "ic_permutation_haut": ic_permutation[1], "e_valeur": math.nan, "e_valeur_ic": math.nan,
        "p_holm": math.nan,
        "codes_avertissement": ",".join(dict.fromkeys(code for code, _ in avertissements)),
    }


def tableau_estimations(lignes: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with the stable column order and dtypes of the results."""
    df = pd.DataFrame(lignes, columns=COLONNES_ESTIMATIONS)
    for col in ("projet_id", "resultat", "methode", "avertissements", "estimande",
                "covariables_utilisees", "covariables_ecartees", "methode_inference",
                "codes_avertissement"):
        df[col] = df[col].astype(object).where(df[col].notna(), None)
    for col in ("avertissements", "covariables_utilisees", "covariables_ecartees",
                "methode_inference", "codes_avertissement"):
        df[col] = df[col].fillna("")
    for col in ("horizon_mois", "n_traites", "k_traites", "n_temoins", "k_temoins"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    for col in ("p_traites", "p_temoins", "estimation", "ic_bas", "ic_haut", "p_valeur", "ess",
                "p_permutation", "ic_permutation_bas", "ic_permutation_haut", "e_valeur",
                "e_valeur_ic", "p_holm"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def ajouter_holm(estimations: pd.DataFrame) -> pd.DataFrame:
    """p_holm: Holm's adjustment of p_valeur across the outcomes of one project, horizon
    and method (the family of tests an evaluator reads together)."""
    df = estimations.copy()
    cles = [df["projet_id"].fillna(""), df["horizon_mois"].fillna(-1), df["methode"]]
    df["p_holm"] = math.nan
    for _, index in df.groupby(cles, sort=False).groups.items():
        df.loc[index, "p_holm"] = inference.holm(df.loc[index, "p_valeur"].to_numpy(dtype=float))
    df.loc[df["methode"].astype(str).str.startswith("puissance"), "p_holm"] = math.nan
    return df


def _ajouter_e_valeurs(lignes: list[dict]) -> None:
    """E-values of the binary outcome's rows: the risk ratio p_traites / p_temoins of each
    row and, for the interval, its limit closest to the null as a ratio (the difference
    limits taken around p_temoins)."""
    for ligne in lignes:
        p_t, p_c = ligne["p_traites"], ligne["p_temoins"]
        if ligne["methode"].startswith("puissance") or not (
                isinstance(p_c, float) and math.isfinite(p_c) and p_c > 0
                and math.isfinite(ligne["estimation"])):
            continue
        if ligne["methode"] == "rapport_risques":
            rr, bas, haut = ligne["estimation"], ligne["ic_bas"], ligne["ic_haut"]
        else:
            rr = p_t / p_c if math.isfinite(p_t) else math.nan
            bas = (p_c + ligne["ic_bas"]) / p_c if math.isfinite(ligne["ic_bas"]) else math.nan
            haut = (p_c + ligne["ic_haut"]) / p_c if math.isfinite(ligne["ic_haut"]) else math.nan
        ligne["e_valeur"] = inference.e_valeur(rr)
        ligne["e_valeur_ic"] = (inference.e_valeur_intervalle(max(bas, 1e-12), haut)
                                if math.isfinite(bas) and math.isfinite(haut) else math.nan)


# ---------------------------------------------------------------------------
# One outcome
# ---------------------------------------------------------------------------

# Above this many households, the randomisation tests are not run (the asymptotic
# intervals hold, and the draws would cost more than they add).
MAX_RANDOMISATION = 2000


def comparer_resultat(
    table: pd.DataFrame,
    traitement: str,
    resultat: str,
    covariables: list[str] | tuple[str, ...] = (),
    grappe: str | None = None,
    *,
    projet_id: str | None = None,
    horizon_mois: int | None = None,
    type_resultat: str | None = None,
    estimande: str = "ATT",
    categorielles: list[str] | tuple[str, ...] = (),
    puissance: float | None = None,
    ecart_cible: float | None = None,
    rognage: float | None = None,
    tirages: int = inference.TIRAGES,
    avec_puissance: bool = True,
) -> pd.DataFrame:
    """Every estimate of the effect of treatment on one outcome (rows with a missing
    outcome dropped). Binary outcome: difference_brute, rapport_risques,
    logit_effet_marginal, ipw_att (ipw_ate), ipw_ra_att (ipw_ra_ate), puissance_mdd,
    puissance_taille; continuous: difference_moyennes, ols_ajuste, the weighted ones, the
    power rows.

    `estimande`: "ATT" (effect on the accompanied, default) or "ATE" (in the whole
    sample). `rognage`: households whose propensity score lies outside [a, 1 - a] leave
    the weighted estimates (Crump et al. 2009), which then say so. `puissance`,
    `ecart_cible`: power and target difference of the power rows.
    """
    estimande = (estimande or "ATT").upper()
    if estimande not in ("ATT", "ATE"):
        raise ErreurUtilisateur(f"estimande inconnu « {estimande} » : ATT ou ATE")
    puissance = PUISSANCE if puissance is None else float(puissance)
    valeurs, type_resultat = convertir_resultat(table[resultat], type_resultat)
    garder = valeurs.notna().to_numpy()
    sous = table.loc[garder]
    y = valeurs.to_numpy()[garder]
    t = convertir_traitement(sous[traitement]) if len(sous) else np.zeros(0, dtype=int)
    cov = preparer_covariables(sous, list(covariables), categorielles)
    erreurs = modeles.choisir_erreurs(sous[grappe].to_numpy() if grappe else None, tirages)
    traites, temoins = t == 1, t == 0
    n_t, n_c = int(traites.sum()), int(temoins.sum())
    base = {"n_t": n_t, "n_c": n_c}
    ligne = lambda methode, **kw: _ligne(projet_id, resultat, horizon_mois, methode, **kw)
    suffixe = estimande.lower()
    binaire = type_resultat == "binaire"

    if n_t == 0 or n_c == 0:
        manque = [("estimation_impossible", "une des deux cohortes n'a aucun ménage avec ce résultat")]
        methodes = ["difference_brute"] if binaire else ["difference_moyennes"]
        return tableau_estimations([ligne(m, **base, avertissements=manque) for m in methodes])

    d_ps = design_du_modele(cov)
    d_y = design_du_modele(cov, t)
    cohortes = {"accompagnés": n_t, "témoins": n_c}
    k_ps = 0 if d_ps.x is None else d_ps.x.shape[1]
    k_y = 0 if d_y.x is None else d_y.x.shape[1]
    avs_ps = avertissement_parametres(cohortes, k_ps, "score de propension")
    lignes = []
    impossible = {"estimation": math.nan, "ic_bas": math.nan, "ic_haut": math.nan,
                  "p_valeur": math.nan, "p1": math.nan, "p0": math.nan, "mu1": math.nan,
                  "mu0": math.nan, "ess": math.nan, "methode_inference": "", "avertissements": [(
                      "estimation_impossible", ("un seul ménage dans une cohorte : ni "
                                                "intervalle ni ajustement possibles"))]}
    modeles_possibles = min(n_t, n_c) >= 2
    petit = len(y) <= MAX_RANDOMISATION and erreurs.type == "HC"
    grappes_bootstrap = erreurs.type != "HC"

    def ligne_modele(methode, estime, p_t, p_c, design, avs_modele, **kw):
        return ligne(methode, **base, p_t=p_t, p_c=p_c, estimation=estime["estimation"],
                     ic_bas=estime["ic_bas"], ic_haut=estime["ic_haut"], p_valeur=estime["p_valeur"],
                     avertissements=communs + erreurs.avertissements + avs_modele
                     + estime["avertissements"], estimande=kw.pop("estimande", estimande),
                     utilisees=design.utilisees, ecartees=design.ecartees,
                     methode_inference=estime.get("methode_inference", ""), **kw)

    def brute_grappes(quoi):
        """The raw difference as the regression of y on the treatment, for clusters."""
        r = modeles._inference_lineaire(y, np.column_stack([np.ones(len(y)), t.astype(float)]),
                                        erreurs, NIVEAU)
        return r, [("inference_par_grappe", f"{quoi} : intervalle et p-valeur tenant compte des "
                    "grappes (régression sur le traitement), au lieu de l'intervalle usuel")]

    if binaire:
        k_t, k_c = int(y[traites].sum()), int(y[temoins].sum())
        base.update(k_t=k_t, k_c=k_c)
        communs = (avertissement_secret(n_t, n_c, k_t, k_c)
                   + avertissement_evenements(n_t, k_t, n_c, k_c))
        p_t, p_c = k_t / n_t, k_c / n_c
        p_fisher = st.p_fisher(k_t, n_t, k_c, n_c)
        d_brute, bas_brute, haut_brute = st.difference_miettinen_nurminen(k_t, n_t, k_c, n_c)
        peu_d_evenements = min(k_t, n_t - k_t, k_c, n_c - k_c) < MIN_EVENEMENTS_INTERVALLE
        if grappes_bootstrap:
            r, avs_g = brute_grappes("différence brute")
            lignes.append(ligne("difference_brute", **base, p_t=p_t, p_c=p_c, estimation=d_brute,
                                ic_bas=r["ic_bas"], ic_haut=r["ic_haut"], p_valeur=r["p_valeur"],
                                avertissements=communs + erreurs.avertissements + avs_g,
                                methode_inference=r["methode_inference"]))
        else:
            lignes.append(ligne("difference_brute", **base, p_t=p_t, p_c=p_c, estimation=d_brute,
                                ic_bas=bas_brute, ic_haut=haut_brute, p_valeur=p_fisher,
                                avertissements=communs, p_permutation=p_fisher,
                                methode_inference=("intervalle de Miettinen-Nurminen (score) ; "
                                                   "test exact de Fisher (test de permutation "
                                                   "exact)")))
        rr, bas, haut = st.rapport_risques(k_t, n_t, k_c, n_c)
        avs_rr = list(communs)
        inference_rr = "intervalle de Katz (échelle logarithmique) ; test exact de Fisher"
        if k_t == 0 or k_c == 0:
            avs_rr.append(("estimation_impossible", ("aucun événement dans une cohorte : "
                           "intervalle du rapport de risques non défini")))
        if grappes_bootstrap:
            bas = haut = math.nan
            avs_rr.append(("intervalle_non_applicable", ("rapport de risques : intervalle non "
                           "calculé avec des grappes (voir la différence brute)")))
            inference_rr = "aucune (grappes)"
        elif peu_d_evenements and math.isfinite(bas):
            bas = haut = math.nan
            avs_rr.append(_sans_intervalle("rapport de risques", p_valeur=False))
            inference_rr = "test exact de Fisher ; pas d'intervalle (trop peu d'événements)"
        lignes.append(ligne("rapport_risques", **base, p_t=p_t, p_c=p_c,
                            estimation=rr if math.isfinite(rr) else math.nan,
                            ic_bas=bas, ic_haut=haut,
                            p_valeur=math.nan if grappes_bootstrap else p_fisher,
                            avertissements=avs_rr, methode_inference=inference_rr))
        limitants = {**cohortes, "événements": k_t + k_c, "non-événements": len(y) - k_t - k_c}
        avs_y = avertissement_parametres(limitants, k_y + 1, "modèle logistique du résultat")
        ame = (modeles.effet_marginal_logit(y, t, d_y.x, erreurs, estimande=estimande)
               if modeles_possibles else impossible)
        if peu_d_evenements:
            _retirer_intervalle(ame, "effet marginal du logit")
        lignes.append(ligne_modele("logit_effet_marginal", ame, ame["p1"], ame["p0"], d_y, avs_y))
    else:
        communs = avertissement_secret(n_t, n_c)
        w = st.difference_moyennes_welch(y[traites], y[temoins])
        perm = (inference.permutation_difference(y, t, tirages=tirages) if petit and modeles_possibles
                else {"p_valeur": math.nan, "ic_bas": math.nan, "ic_haut": math.nan})
        if grappes_bootstrap:
            r, avs_g = brute_grappes("différence de moyennes")
            lignes.append(ligne("difference_moyennes", **base, p_t=w["moyenne_t"], p_c=w["moyenne_c"],
                                estimation=w["estimation"], ic_bas=r["ic_bas"], ic_haut=r["ic_haut"],
                                p_valeur=r["p_valeur"], avertissements=communs
                                + erreurs.avertissements + avs_g,
                                methode_inference=r["methode_inference"]))
        else:
            lignes.append(ligne("difference_moyennes", **base, p_t=w["moyenne_t"], p_c=w["moyenne_c"],
                                estimation=w["estimation"], ic_bas=w["ic_bas"], ic_haut=w["ic_haut"],
                                p_valeur=w["p_valeur"], avertissements=communs,
                                p_permutation=perm["p_valeur"],
                                ic_permutation=(perm["ic_bas"], perm["ic_haut"]),
                                methode_inference=(
                                    "intervalle de Welch ; permutation "
                                    f"({tirages} tirages, effet additif constant)" if petit
                                    else "intervalle de Welch")))
        avs_y = avertissement_parametres(cohortes, k_y + 1, "régression du résultat")
        ols = modeles.ols_ajuste(y, t, d_y.x, erreurs) if modeles_possibles else impossible
        lignes.append(ligne_modele("ols_ajuste", ols, w["moyenne_t"], w["moyenne_c"], d_y, avs_y))

    # Weighted estimators (optionally on the households within the overlap region).
    y_w, t_w, x_w, erreurs_w, base_w = y, t, d_ps.x, erreurs, dict(base)
    avs_rognage: list[Avertissement] = []
    if rognage and modeles_possibles:
        e_all, _, _ = modeles.score_propension(t, d_ps.x, erreurs)
        if e_all is not None:
            dedans = (e_all >= rognage) & (e_all <= 1 - rognage)
            y_w, t_w = y[dedans], t[dedans]
            x_w = None if d_ps.x is None else d_ps.x[dedans]
            if erreurs.groupes is not None:
                erreurs_w = modeles.choisir_erreurs(erreurs.groupes[dedans], tirages)
            base_w = {"n_t": int((t_w == 1).sum()), "n_c": int((t_w == 0).sum())}
            if binaire:
                base_w.update(k_t=int(y_w[t_w == 1].sum()), k_c=int(y_w[t_w == 0].sum()))
            avs_rognage = [("rognage", (
                f"rognage : ménages dont le score de propension est hors de [{_fr(rognage, 2)} ; "
                f"{_fr(1 - rognage, 2)}] écartés des estimations pondérées (effectifs de la ligne)"))]
    possibles_w = min(int((t_w == 1).sum()), int((t_w == 0).sum())) >= 2
    ipw = modeles.ipw(y_w, t_w, x_w, erreurs_w, estimande=estimande) if possibles_w else impossible
    petit_w = petit and possibles_w and ipw.get("scores") is not None
    dr = (modeles.ipw_ra(y_w, t_w, x_w, erreurs_w, estimande=estimande, scores=ipw["scores"])
          if possibles_w and ipw.get("scores") is not None
          else {**impossible, "avertissements": ipw["avertissements"][-1:] or impossible["avertissements"]})
    if petit_w:
        # Small samples: the randomisation interval is the one reported (the sandwich
        # intervals of the weighted estimators are too narrow at 25 versus 25).
        for estime, robuste in ((ipw, False), (dr, True)):
            if not math.isfinite(estime["estimation"]):
                continue
            r = inference.randomisation_ponderee(y_w, t_w, ipw["design_ps"], ipw["scores"],
                                                 estimande, tirages=tirages,
                                                 doublement_robuste=robuste)
            estime.update(ic_bas=r["ic_bas"], ic_haut=r["ic_haut"], p_valeur=r["p_valeur"],
                          p_permutation=r["p_valeur"], ic_permutation=(r["ic_bas"], r["ic_haut"]))
            estime["methode_inference"] = (
                f"randomisation : traitement retiré selon les scores de propension, modèle "
                f"réajusté à chaque tirage ({r['tirages']} tirages), intervalle par inversion du "
                "test sous un effet additif constant")
    elif erreurs_w.type == "bootstrap" and math.isfinite(dr["estimation"]):
        dr.update(ic_bas=math.nan, ic_haut=math.nan, p_valeur=math.nan,
                  methode_inference="aucune (grappes peu nombreuses)")
        dr["avertissements"] = dr["avertissements"] + [("intervalle_non_applicable", (
            "estimation doublement robuste : avec des grappes peu nombreuses, son intervalle par "
            "bootstrap sauvage couvre mal la valeur vraie (étude de couverture) ; estimation "
            "donnée sans intervalle ni p-valeur"))]
    sauve = dict(base)
    base.clear()
    base.update(base_w)
    lignes.append(ligne_modele(
        f"ipw_{suffixe}", ipw, ipw["mu1"], ipw["mu0"], d_ps, avs_ps + avs_rognage, ess=ipw["ess"],
        p_permutation=ipw.get("p_permutation", math.nan),
        ic_permutation=ipw.get("ic_permutation", (math.nan, math.nan))))
    lignes.append(ligne_modele(f"ipw_ra_{suffixe}", dr, ipw["mu1"], ipw["mu1"] - dr["estimation"]
                               if math.isfinite(ipw["mu1"]) and math.isfinite(dr["estimation"])
                               else math.nan, d_ps, avs_ps + avs_rognage,
                               p_permutation=dr.get("p_permutation", math.nan),
                               ic_permutation=dr.get("ic_permutation", (math.nan, math.nan))))
    base.clear()
    base.update(sauve)

    if avec_puissance:
        lignes += _lignes_puissance(ligne, base, communs, y, traites, temoins, binaire,
                                    puissance, ecart_cible)
    if binaire:
        _ajouter_e_valeurs(lignes)
    return tableau_estimations(lignes)


def _sans_intervalle(quoi: str, p_valeur: bool = True) -> Avertissement:
    return ("intervalle_evenements_rares", (
        f"{quoi} : moins de {MIN_EVENEMENTS_INTERVALLE} événements ou non-événements dans une "
        "cohorte ; son intervalle couvrirait bien plus que 95 % (étude de couverture) : "
        f"estimation donnée sans intervalle{' ni p-valeur' if p_valeur else ''}"))


def _retirer_intervalle(estime: dict, quoi: str) -> None:
    """An estimate of a model kept without interval nor p-value (too few events)."""
    if not math.isfinite(estime.get("estimation", math.nan)):
        return
    estime.update(ic_bas=math.nan, ic_haut=math.nan, p_valeur=math.nan,
                  methode_inference="aucune (trop peu d'événements)")
    estime["avertissements"] = list(estime["avertissements"]) + [_sans_intervalle(quoi)]


def _lignes_puissance(ligne, base, communs, y, traites, temoins, binaire, puissance,
                      ecart_cible) -> list[dict]:
    """puissance_mdd and puissance_taille for the test reported: Fisher's exact test
    (exact power, by enumerating the binomial outcomes) for a binary outcome, Welch's t
    test (noncentral t) for a continuous one."""
    n_t, n_c = base["n_t"], base["n_c"]
    lignes = []
    texte = f"{_fr(100 * puissance, 0)} %, test bilatéral à {_fr(100 * ALPHA, 0)} %"
    if binaire:
        p_c = base["k_c"] / n_c
        mdd = inference.difference_detectable_fisher(n_t, n_c, p_c, puissance, ALPHA)
        avs_mdd = list(communs)
        if math.isnan(mdd):
            avs_mdd.append(("puissance_insuffisante", ("avec ces effectifs, aucune différence de "
                            f"proportion n'est détectable avec une puissance de {_fr(100 * puissance, 0)} %")))
        lignes.append(ligne("puissance_mdd", **base, p_t=base["k_t"] / n_t, p_c=p_c,
                            estimation=mdd, avertissements=avs_mdd,
                            methode_inference=f"puissance exacte du test de Fisher ({texte})"))
        taille, cible = taille_necessaire_ecart(p_c, ECART_CIBLE if ecart_cible is None
                                                else ecart_cible, puissance)
        lignes.append(ligne("puissance_taille", **base, p_t=cible, p_c=p_c,
                            estimation=math.nan if taille is None else float(taille),
                            avertissements=communs,
                            methode_inference=f"puissance exacte du test de Fisher ({texte})"))
        return lignes
    s_t = float(np.std(y[traites], ddof=1)) if n_t > 1 else math.nan
    s_c = float(np.std(y[temoins], ddof=1)) if n_c > 1 else math.nan
    mdd = inference.difference_detectable_welch(n_t, n_c, s_t, s_c, puissance, ALPHA)
    m_t, m_c = float(y[traites].mean()), float(y[temoins].mean())
    lignes.append(ligne("puissance_mdd", **base, p_t=m_t, p_c=m_c, estimation=mdd,
                        avertissements=communs,
                        methode_inference=f"puissance du test de Welch, t non central ({texte})"))
    ecart = (ECART_RELATIF_CIBLE if ecart_cible is None else ecart_cible) * abs(m_c)
    taille = inference.taille_welch(s_t, s_c, ecart, puissance, ALPHA)
    avs_taille = list(communs)
    if taille is None:
        avs_taille.append(("estimation_impossible", (
            "moyenne des témoins nulle ou écarts types non calculables : taille nécessaire "
            "non définie")))
    lignes.append(ligne("puissance_taille", **base, p_t=m_c - ecart, p_c=m_c,
                        estimation=math.nan if taille is None else float(taille),
                        avertissements=avs_taille,
                        methode_inference=f"puissance du test de Welch, t non central ({texte})"))
    return lignes


def taille_necessaire_ecart(p_temoins: float, ecart: float = ECART_CIBLE,
                            puissance: float = PUISSANCE) -> tuple[int | None, float]:
    """Households per group (two equal groups) for Fisher's exact test to detect a
    difference of `ecart` from the control proportion in either direction: the larger of
    the sizes for p_temoins + ecart and p_temoins - ecart (those within [0, 1]); with the
    proportion that gave it."""
    tailles = []
    for cible in (p_temoins + ecart, p_temoins - ecart):
        if 0 <= cible <= 1:
            taille = inference.taille_fisher(p_temoins, cible - p_temoins, puissance, ALPHA)
            if taille is not None:
                tailles.append((taille, cible))
    if not tailles:
        return None, math.nan
    taille, cible = max(tailles)
    return taille, cible


def taille_necessaire_observee(estimations: pd.DataFrame, puissance: float = PUISSANCE) -> int | None:
    """Households per group needed for Fisher's exact test to detect the observed raw
    difference (binary outcome)."""
    brute = estimations[estimations["methode"] == "difference_brute"]
    if brute.empty or pd.isna(brute["estimation"].iloc[0]) or pd.isna(brute["p_temoins"].iloc[0]):
        return None
    return inference.taille_fisher(float(brute["p_temoins"].iloc[0]),
                                   float(brute["estimation"].iloc[0]), puissance, ALPHA)


# ---------------------------------------------------------------------------
# Balance
# ---------------------------------------------------------------------------


def scores_et_poids(t: np.ndarray, cov: Covariables, estimande: str = "ATT"
                    ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Propensity scores on every usable covariate (maximum likelihood, Firth under
    separation) and the estimand's weights; (None, None) when they cannot be estimated."""
    if not ((t == 1).any() and (t == 0).any()):
        return None, None
    design = design_du_modele(cov)
    scores, _, _ = modeles.score_propension(t, design.x, modeles.Erreurs("HC"))
    if scores is None or not np.all((scores > 0) & (scores < 1)):
        return None, None
    return scores, modeles.poids_estimande(scores, t, estimande)


def _ks(x_t, x_c, w_t=None, w_c=None) -> float:
    """Kolmogorov-Smirnov statistic of the (weighted) empirical distributions."""
    w_t = np.ones(len(x_t)) if w_t is None else np.asarray(w_t, dtype=float)
    w_c = np.ones(len(x_c)) if w_c is None else np.asarray(w_c, dtype=float)
    points = np.unique(np.concatenate([x_t, x_c]))
    f = lambda x, w: np.array([w[x <= p].sum() for p in points]) / w.sum()
    if len(points) > 2000:
        ordre_t, ordre_c = np.argsort(x_t), np.argsort(x_c)
        cw_t = np.cumsum(w_t[ordre_t]) / w_t.sum()
        cw_c = np.cumsum(w_c[ordre_c]) / w_c.sum()
        i_t = np.searchsorted(x_t[ordre_t], points, side="right")
        i_c = np.searchsorted(x_c[ordre_c], points, side="right")
        f_t = np.where(i_t > 0, cw_t[np.maximum(i_t - 1, 0)], 0.0)
        f_c = np.where(i_c > 0, cw_c[np.maximum(i_c - 1, 0)], 0.0)
        return float(np.max(np.abs(f_t - f_c)))
    return float(np.max(np.abs(f(x_t, w_t) - f(x_c, w_c))))


def tableau_equilibre(
    table: pd.DataFrame,
    traitement: str,
    covariables: list[str] | tuple[str, ...] = (),
    autres: list[str] | tuple[str, ...] = (),
    *,
    projet_id: str | None = None,
    estimande: str = "ATT",
    categorielles: list[str] | tuple[str, ...] = (),
) -> pd.DataFrame:
    """Balance of each covariate (and level) before and after weighting, as cobalt's
    bal.tab and MatchIt's summary report it.

    Weights: those of the estimand (ATT: 1 and e/(1-e); ATE: 1/e and 1/(1-e)) from the
    propensity model on every usable covariate; `autres` are shown with the same weights
    without entering the model (e.g. the landlord); the first row is the propensity
    score itself (`score_propension`, cobalt's « distance »).

    * moyenne_traites, moyenne_temoins: unweighted means (proportions for a level);
      moyenne_ponderee_temoins: the weighted control mean;
    * smd_avant, smd_apres: (treated - control mean) over the treated group's standard
      deviation for the ATT, over sqrt((s_t^2 + s_c^2) / 2) for the ATE, the same
      unweighted denominator before and after weighting (cobalt's s.d.denom), sqrt(p(1-p))
      for a 0/1 column;
    * ratio_variance_avant, ratio_variance_apres: treated over control variance
      (weighted after), continuous covariates only;
    * ks_avant, ks_apres: Kolmogorov-Smirnov statistic (the difference in proportions for
      a 0/1 column);
    * desequilibre_avant, desequilibre_apres: |SMD| > SEUIL_SMD.

    n_traites, n_temoins: households of each cohort; k_traites, k_temoins: households at
    that level (null for a continuous covariate). Secrecy is the publication layer's.
    """
    estimande = (estimande or "ATT").upper()
    t = convertir_traitement(table[traitement])
    cov = preparer_covariables(table, list(covariables), categorielles)
    scores, poids = scores_et_poids(t, cov, estimande)
    lignes_eq = list(cov.lignes_equilibre)
    if scores is not None and cov.colonnes:
        lignes_eq.insert(0, ("score_propension", "", scores, False))
    lignes_eq += preparer_covariables(table, [a for a in autres if a not in covariables],
                                      categorielles).lignes_equilibre
    traites, temoins = t == 1, t == 0
    n_t, n_c = int(traites.sum()), int(temoins.sum())
    w_t = None if poids is None else (poids[traites] if estimande == "ATE" else np.ones(n_t))
    w_c = None if poids is None else poids[temoins]
    lignes = []
    for nom, niveau, valeurs, binaire in lignes_eq:
        x_t, x_c = valeurs[traites], valeurs[temoins]
        m_t = float(x_t.mean()) if n_t else math.nan
        m_c = float(x_c.mean()) if n_c else math.nan
        if binaire:
            v_t, v_c = m_t * (1 - m_t), m_c * (1 - m_c)
        else:
            v_t, v_c = st.variance_ponderee(x_t), st.variance_ponderee(x_c)
        denominateur = math.sqrt(v_t) if estimande == "ATT" else math.sqrt((v_t + v_c) / 2)
        if not (denominateur > 1e-12):
            denominateur = math.sqrt(max((v_t + v_c) / 2, 0.0)) if math.isfinite(v_t + v_c) else 0.0

        def smd(a, b, denominateur=denominateur):
            d = a - b
            if not math.isfinite(d):
                return math.nan
            if denominateur < 1e-12:
                return 0.0 if abs(d) < 1e-12 else math.copysign(math.inf, d)
            return d / denominateur

        mp_t = st.moyenne_ponderee(x_t, w_t) if w_t is not None else math.nan
        mp_c = st.moyenne_ponderee(x_c, w_c) if w_c is not None else math.nan
        ratio = lambda a, b: a / b if (math.isfinite(a) and math.isfinite(b) and b > 0) else math.nan
        if binaire:
            rv_avant = rv_apres = math.nan
            ks_avant = abs(m_t - m_c)
            ks_apres = abs(mp_t - mp_c) if w_c is not None else math.nan
        else:
            rv_avant = ratio(v_t, v_c)
            rv_apres = (ratio(st.variance_ponderee(x_t, w_t) if estimande == "ATE" else v_t,
                              st.variance_ponderee(x_c, w_c)) if w_c is not None else math.nan)
            ks_avant = _ks(x_t, x_c) if n_t and n_c else math.nan
            ks_apres = _ks(x_t, x_c, w_t, w_c) if w_c is not None else math.nan
        avant, apres = smd(m_t, m_c), smd(mp_t, mp_c)
        lignes.append({
            "projet_id": projet_id, "covariable": nom, "niveau": niveau,
            "n_traites": n_t, "n_temoins": n_c,
            "k_traites": int(round(x_t.sum())) if binaire else None,
            "k_temoins": int(round(x_c.sum())) if binaire else None,
            "moyenne_traites": m_t, "moyenne_temoins": m_c, "moyenne_ponderee_temoins": mp_c,
            "smd_avant": avant, "smd_apres": apres,
            "ratio_variance_avant": rv_avant, "ratio_variance_apres": rv_apres,
            "ks_avant": ks_avant, "ks_apres": ks_apres,
            "desequilibre_avant": bool(not math.isnan(avant) and abs(avant) > SEUIL_SMD),
            "desequilibre_apres": bool(not math.isnan(apres) and abs(apres) > SEUIL_SMD),
        })
    df = pd.DataFrame(lignes, columns=COLONNES_EQUILIBRE)
    for col in ("projet_id", "covariable", "niveau"):
        df[col] = df[col].astype(object)
    for col in ("n_traites", "n_temoins", "k_traites", "k_temoins"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    for col in ("moyenne_traites", "moyenne_temoins", "moyenne_ponderee_temoins", "smd_avant",
                "smd_apres", "ratio_variance_avant", "ratio_variance_apres", "ks_avant", "ks_apres"):
        df[col] = df[col].astype(float)
    for col in ("desequilibre_avant", "desequilibre_apres"):
        df[col] = df[col].astype(bool)
    return df


# ---------------------------------------------------------------------------
# Time to event
# ---------------------------------------------------------------------------


def comparer_survie(
    table: pd.DataFrame,
    traitement: str,
    duree: str,
    evenement: str,
    nom_evenement: str,
    *,
    projet_id: str | None = None,
    horizon_mois: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier curves by cohort, log-rank test and Cox hazard ratio (treated vs control).

    Households with a missing duration or event flag are left out. Returns
    (estimation rows `logrank` and `cox` with resultat = nom_evenement, KM rows).
    """
    temps = convertir_numerique(table[duree])
    statut = convertir_binaire(table[evenement])
    if temps is None or statut is None:
        raise ErreurUtilisateur(f"durée « {duree} » ou événement « {evenement} » illisible")
    garder = (temps.notna() & statut.notna()).to_numpy()
    temps, statut = temps.to_numpy()[garder], statut.to_numpy()[garder]
    t = convertir_traitement(table.loc[garder, traitement]) if garder.any() else np.zeros(0, int)
    traites, temoins = t == 1, t == 0
    n_t, n_c = int(traites.sum()), int(temoins.sum())
    k_t, k_c = int(statut[traites].sum()), int(statut[temoins].sum())
    base = {"n_t": n_t, "n_c": n_c, "k_t": k_t, "k_c": k_c}
    communs = avertissement_secret(n_t, n_c, k_t, k_c)
    if min(k_t, k_c) < MIN_EVENEMENTS:
        communs = communs + [("evenements_rares", (f"moins de {MIN_EVENEMENTS} événements dans une "
                              "cohorte : estimations fragiles"))]
    ligne = lambda methode, **kw: _ligne(projet_id, nom_evenement, horizon_mois, methode, **kw)
    lignes = []
    if n_t == 0 or n_c == 0:
        manque = [("estimation_impossible", "une des deux cohortes n'a aucun ménage suivi")]
        return (tableau_estimations([ligne("logrank", **base, avertissements=communs + manque)]),
                pd.DataFrame(columns=COLONNES_SURVIE))
    chi2, p = st.test_logrank(temps, statut, t)
    lignes.append(ligne("logrank", **base, estimation=chi2, p_valeur=p, avertissements=communs))
    avs_cox = list(communs)
    if k_t == 0 or k_c == 0:
        cox = {"estimation": math.nan, "ic_bas": math.nan, "ic_haut": math.nan, "p_valeur": math.nan}
        avs_cox.append(("estimation_impossible", ("aucun événement dans une cohorte : rapport des "
                        "risques instantanés non estimable")))
    else:
        cox = st.cox_rapport_risques(temps, statut, t)
        if not all(math.isfinite(cox[c]) for c in ("estimation", "ic_bas", "ic_haut")):
            avs_cox.append(("non_convergence", ("modèle de Cox : vraisemblance partielle sans "
                                                "maximum fini ; intervalle et p-valeur non calculés")))
            cox.update(ic_bas=math.nan, ic_haut=math.nan, p_valeur=math.nan)
    lignes.append(ligne("cox", **base, estimation=cox["estimation"], ic_bas=cox["ic_bas"],
                        ic_haut=cox["ic_haut"], p_valeur=cox["p_valeur"], avertissements=avs_cox))
    courbes = []
    for cohorte, masque in ((COHORTE_TRAITEE, traites), (COHORTE_TEMOIN, temoins)):
        km = st.kaplan_meier(temps[masque], statut[masque])
        km.insert(0, "cohorte", cohorte)
        km.insert(0, "evenement", nom_evenement)
        km.insert(0, "projet_id", projet_id)
        courbes.append(km)
    km = pd.concat(courbes, ignore_index=True)[COLONNES_SURVIE]
    return tableau_estimations(lignes), _typer_survie(km)


def _typer_survie(km: pd.DataFrame) -> pd.DataFrame:
    km = km.copy()
    for col in ("projet_id", "evenement", "cohorte"):
        km[col] = km[col].astype(object)
    for col in ("temps", "survie", "ic_bas", "ic_haut"):
        km[col] = km[col].astype(float)
    km["n_risque"] = km["n_risque"].astype("Int64")
    return km


# ---------------------------------------------------------------------------
# Debt trajectories
# ---------------------------------------------------------------------------

# First relative month counted as "post" in the difference-in-differences: the index
# month itself (the last pre month, m0 - 1, is the one that defines dette_entree).
PREMIER_MOIS_POST = 0
PREMIER_MOIS_PANEL = config.PREMIER_MOIS_PANEL


def comparer_trajectoires(
    panel: pd.DataFrame,
    *,
    traitement: str = "traite",
    menage: str = "menage_id",
    mois_relatif: str = "mois_relatif",
    calendrier: str = "mois",
    valeur: str = "solde_fin_mois",
    projet_id: str | None = None,
    horizon_mois: int = config.HORIZON_MOIS,
    mois_debut: int = PREMIER_MOIS_PANEL,
    resultat: str = "solde",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean debt curves by cohort (months mois_debut..horizon_mois relative to the index)
    and the difference-in-differences of the balance after the index month (`did`)."""
    rel = pd.to_numeric(panel[mois_relatif], errors="coerce")
    p = panel.loc[rel.between(mois_debut, horizon_mois)].copy()
    p["_y"] = pd.to_numeric(p[valeur], errors="coerce").astype(float)
    p = p[p["_y"].notna()]
    t = convertir_traitement(p[traitement]) if len(p) else np.zeros(0, dtype=int)
    p["_t"] = t
    p["_rel"] = pd.to_numeric(p[mois_relatif]).astype(int)

    courbes = []
    for (code, rel_m), groupe in p.groupby(["_t", "_rel"], sort=True):
        n, m, bas, haut = st.intervalle_moyenne(groupe["_y"].to_numpy())
        courbes.append({"projet_id": projet_id,
                            "cohorte": COHORTE_TRAITEE if code == 1 else COHORTE_TEMOIN,
                            "mois_relatif": int(rel_m), "n": n, "moyenne": m, "ic_bas": bas, "ic_haut": haut})
    traj = pd.DataFrame(courbes, columns=COLONNES_TRAJECTOIRES)
    traj = traj.sort_values(["cohorte", "mois_relatif"], ignore_index=True)
    for col in ("projet_id", "cohorte"):
        traj[col] = traj[col].astype(object)
    traj["mois_relatif"] = traj["mois_relatif"].astype("Int64")
    traj["n"] = traj["n"].astype("Int64")
    for col in ("moyenne", "ic_bas", "ic_haut"):
        traj[col] = traj[col].astype(float)

    menages_t = p.loc[p["_t"] == 1, menage].nunique()
    menages_c = p.loc[p["_t"] == 0, menage].nunique()
    avs = avertissement_secret(int(menages_t), int(menages_c))
    post = (p["_rel"] >= PREMIER_MOIS_POST).to_numpy(dtype=float)
    periodes = p.groupby(["_t", post])[menage].nunique()
    if len(periodes) < 4:
        avs.append(("estimation_impossible", ("il faut des mois avant et après l'orientation "
                    "dans les deux cohortes")))
        did = {"estimation": math.nan, "ic_bas": math.nan, "ic_haut": math.nan, "p_valeur": math.nan}
    else:
        did = modeles.difference_en_differences(
            p["_y"].to_numpy(), p[menage].to_numpy(), p[calendrier].to_numpy(), p["_t"].to_numpy(),
            post)
    ligne = _ligne(projet_id, resultat, horizon_mois, "did", n_t=int(menages_t),
                   n_c=int(menages_c), estimation=did["estimation"], ic_bas=did["ic_bas"],
                   ic_haut=did["ic_haut"], p_valeur=did["p_valeur"], avertissements=avs)
    return tableau_estimations([ligne]), traj
