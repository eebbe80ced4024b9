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
  to 0; for `ipw_att` the treated mean and the weighted control mean.
* estimation, ic_bas, ic_haut (95 %), p_valeur; ess: effective size of the weighted
  controls (`ipw_att`).
* avertissements: "code: message" lines joined by " | ", empty when none.

Methods: difference_brute (Newcombe interval, Fisher's exact p), rapport_risques
(log-scale interval, Fisher's p), difference_moyennes (Welch), logit_effet_marginal,
ols_ajuste, ipw_att (see modeles.py), did, cox (hazard ratio), logrank (estimation =
chi-square), puissance_mdd (estimation = minimum detectable difference at 80 % power,
5 % two-sided, for the sizes at hand: in proportion for a binary outcome, around the
control proportion; in the outcome's unit for a continuous one), puissance_taille
(estimation = households needed in each of two equal groups, 80 % power, 5 % two-sided,
to detect 15 points from the control proportion in either direction for a binary
outcome, or a quarter of the control mean for a continuous one; p_temoins holds the
control proportion or mean, p_traites the one that would be detected).

Small samples: each model keeps the covariates its data can carry (rare levels grouped
with the reference, then one parameter per ten households of the limiting count, the
covariates taken in the order given: see "Covariates of each model" below), with a
`covariables_reduites` warning. A model left without covariates reports what it then
is: the raw difference with its Newcombe interval (logit) or the difference in means
with Welch's interval (regression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capitalisation import config
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.evaluation import modeles
from capitalisation.evaluation import statistiques as st

COLONNES_ESTIMATIONS = [
    "projet_id", "resultat", "horizon_mois", "methode", "n_traites", "k_traites", "n_temoins",
    "k_temoins", "p_traites", "p_temoins", "estimation", "ic_bas", "ic_haut", "p_valeur", "ess",
    "avertissements",
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
    "difference_brute": "Différence brute (intervalle de Newcombe)",
    "rapport_risques": "Rapport de risques",
    "difference_moyennes": "Différence de moyennes (Welch)",
    "logit_effet_marginal": "Effet marginal moyen (logit ajusté)",
    "ols_ajuste": "Régression linéaire ajustée",
    "ipw_att": "Pondération inverse, effet sur les accompagnés (ATT)",
    "did": "Différence de différences",
    "cox": "Rapport des risques instantanés (Cox)",
    "logrank": "Test du log-rank (khi-deux)",
    "puissance_mdd": "Différence minimale détectable (80 %, 5 %)",
    "puissance_taille": "Taille nécessaire par groupe (80 %, 5 %)",
}

# |SMD| above this flags a covariate (or level) as imbalanced.
SEUIL_SMD = 0.1
# Fewer events (or non-events) than this in a cohort: estimates are fragile.
MIN_EVENEMENTS = 10
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
    """The treatment column as an int array of 0/1; a clear error otherwise."""
    if serie.isna().any() or (serie.astype(str).str.strip() == "").any():
        n = int(serie.isna().sum() + (serie.astype(str).str.strip() == "").sum())
        raise ErreurUtilisateur(
            f"la colonne de traitement « {serie.name} » a {n} valeur(s) manquante(s) : "
            "chaque ménage doit valoir 0 (témoin) ou 1 (accompagné)")
    valeurs = convertir_binaire(serie)
    if valeurs is None:
        autres = sorted({str(v) for v in serie.unique()} - {"0", "1", "0.0", "1.0"})[:5]
        raise ErreurUtilisateur(
            f"la colonne de traitement « {serie.name} » doit valoir 0 (témoin) ou 1 "
            f"(accompagné) ; valeurs trouvées : {', '.join(autres)}")
    return valeurs.to_numpy().astype(int)


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


def preparer_covariables(table: pd.DataFrame, covariables: list[str] | tuple[str, ...]) -> Covariables:
    colonnes: dict[str, np.ndarray] = {}
    lignes: list[tuple[str, str, np.ndarray, bool]] = []
    par_covariable: dict[str, list[str]] = {}
    for nom in covariables:
        avant = len(colonnes)
        _preparer_covariable(table[nom], nom, colonnes, lignes)
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
# Covariates of each model: rare levels, then events per parameter
# ---------------------------------------------------------------------------
#
# A logit (or a regression) with many columns for few households separates, or overfits:
# with ~30 controls and ~18 design columns the propensity model predicts the cohort
# almost perfectly and the weights rest on two or three controls. Each model therefore
# keeps only what its data can carry, the way an evaluator would:
#
# 1. Rare levels. An indicator column (a level of a categorical covariate, a missing
#    indicator, a 0/1 covariate) carried by fewer than MIN_PAR_NIVEAU households of a
#    cohort, or whose complement is, is dropped: the level joins the reference level
#    (a 0/1 covariate leaves the model). Such a level cannot be compared across cohorts.
# 2. Events per parameter (Peduzzi et al. 1996; Harrell, Regression Modeling
#    Strategies, 4.4): a model has at most one parameter, besides the intercept, for
#    EVENEMENTS_PAR_PARAMETRE households of its limiting count, which is the smaller
#    cohort for the propensity score and the adjusted regression, and the smallest of the
#    cohorts, the events and the non-events for the logit of a binary outcome. The
#    treatment takes one of these parameters in the outcome models. Covariates enter in
#    the order they are given (their priority order: the confounders the selection of
#    the control group is known to have used first), each with all its remaining
#    columns, until the next one no longer fits; the rest are left out.
#
# What is left out is listed in a `covariables_reduites` warning on the row. The
# balance table still shows every covariate, before and after weighting, so that the
# imbalance left on the covariates that were not modelled can be seen.

MIN_PAR_NIVEAU = 5
EVENEMENTS_PAR_PARAMETRE = 10


def budget_parametres(limitants: dict[str, int], deja_pris: int = 0) -> tuple[int, str]:
    """Covariate columns a model can carry: floor(min(limitants) / EVENEMENTS_PAR_PARAMETRE)
    minus the parameters already taken (the treatment), at least 0; and a French phrase
    naming the limiting count."""
    libelle, valeur = min(limitants.items(), key=lambda kv: kv[1])
    budget = max(valeur // EVENEMENTS_PAR_PARAMETRE - deja_pris, 0)
    phrase = (f"au plus {budget} colonne(s) de covariables (un paramètre pour "
              f"{EVENEMENTS_PAR_PARAMETRE} {libelle} : {valeur} {libelle}"
              + (", dont un pour le traitement)" if deja_pris else ")"))
    return budget, phrase


def covariables_du_modele(
    cov: Covariables, traite: np.ndarray, budget: int, phrase: str, modele: str
) -> tuple[np.ndarray | None, list[Avertissement]]:
    """The design of one model (None without covariates) and its `covariables_reduites`
    warning: rare levels dropped, then covariates in priority order within `budget`."""
    if not cov.colonnes:
        return None, []
    t = np.asarray(traite) == 1
    rares = []
    for colonne in cov.design.columns:
        if colonne not in cov.indicatrices:
            continue
        v = cov.design[colonne].to_numpy() == 1
        comptes = [int(v[t].sum()), int((~v[t]).sum()), int(v[~t].sum()), int((~v[~t]).sum())]
        if min(comptes) < MIN_PAR_NIVEAU:
            rares.append(colonne)
    retenues, ecartees, colonnes, regroupes = [], [], [], []
    for nom, cols in cov.colonnes.items():
        restantes = [c for c in cols if c not in rares]
        if not restantes:
            regroupes += cols
            continue
        if not ecartees and len(colonnes) + len(restantes) <= budget:
            retenues.append(nom)
            colonnes += restantes
            regroupes += [c for c in cols if c in rares]
        else:
            ecartees.append(nom)
    if not regroupes and not ecartees:
        return cov.matrice, []
    morceaux = [f"{modele} : {phrase}"]
    morceaux.append("retenues : " + (", ".join(retenues) if retenues else "aucune"))
    if ecartees:
        morceaux.append("écartées : " + ", ".join(ecartees))
    if regroupes:
        morceaux.append(f"niveaux rares regroupés avec la référence (moins de {MIN_PAR_NIVEAU} "
                        "ménages dans une cohorte) : " + ", ".join(regroupes))
    x = cov.design[colonnes].to_numpy(dtype=float) if colonnes else None
    return x, [("covariables_reduites", " ; ".join(morceaux))]


# ---------------------------------------------------------------------------
# Warnings shared by the rows of one outcome
# ---------------------------------------------------------------------------


def _sous_seuil(compte: int) -> bool:
    return 1 <= compte <= config.SEUIL_EFFECTIF


def avertissement_secret(n_t: int, n_c: int, k_t: int | None = None, k_c: int | None = None,
                         quoi: str = "l'événement") -> list[Avertissement]:
    """Secrecy: a denominator under SEUIL_DENOMINATEUR or a count (or its complement)
    between 1 and SEUIL_EFFECTIF in a cohort; the publication layer suppresses it."""
    raisons = []
    for libelle, n, k in (("accompagnés", n_t, k_t), ("témoins", n_c, k_c)):
        if n < config.SEUIL_DENOMINATEUR:
            raisons.append(f"{n} {libelle} (dénominateur inférieur à {config.SEUIL_DENOMINATEUR})")
        if k is not None and (_sous_seuil(k) or _sous_seuil(n - k)):
            raisons.append(f"{libelle} : {k} avec {quoi} et {n - k} sans, sur {n} (effectif de 1 "
                           f"à {config.SEUIL_EFFECTIF})")
    if not raisons:
        return []
    return [("secret_statistique", "sous le seuil du secret statistique, à masquer avant "
             "publication : " + " ; ".join(raisons))]


def avertissement_evenements(n_t: int, k_t: int, n_c: int, k_c: int) -> list[Avertissement]:
    if min(k_t, n_t - k_t, k_c, n_c - k_c) < MIN_EVENEMENTS:
        return [("evenements_rares",
                 (f"moins de {MIN_EVENEMENTS} événements ou non-événements dans une cohorte "
                 f"(accompagnés : {k_t} sur {n_t}, témoins : {k_c} sur {n_c}) : estimations fragiles"))]
    return []


def _sans_covariable(avertissements: list[Avertissement], quoi: str) -> list[Avertissement]:
    """The `covariables_reduites` warning of a model left without any covariate says what
    the estimate then is."""
    return [(code, f"{message} ; sans covariable, l'estimation est la {quoi}")
            if code == "covariables_reduites" else (code, message)
            for code, message in avertissements]


def _ligne(projet_id, resultat, horizon, methode, *, n_t=None, k_t=None, n_c=None, k_c=None,
           p_t=math.nan, p_c=math.nan, estimation=math.nan, ic_bas=math.nan, ic_haut=math.nan,
           p_valeur=math.nan, ess=math.nan, avertissements=()) -> dict:
    return {
        "projet_id": projet_id, "resultat": resultat, "horizon_mois": horizon, "methode": methode,
        "n_traites": n_t, "k_traites": k_t, "n_temoins": n_c, "k_temoins": k_c, "p_traites": p_t, "p_temoins": p_c,
        "estimation": estimation, "ic_bas": ic_bas, "ic_haut": ic_haut, "p_valeur": p_valeur, "ess": ess,
        "avertissements": joindre_avertissements(list(avertissements)),
    }


def tableau_estimations(lignes: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with the stable column order and dtypes of the results."""
    df = pd.DataFrame(lignes, columns=COLONNES_ESTIMATIONS)
    for col in ("projet_id", "resultat", "methode", "avertissements"):
        df[col] = df[col].astype(object).where(df[col].notna(), None)
    df["avertissements"] = df["avertissements"].fillna("")
    for col in ("horizon_mois", "n_traites", "k_traites", "n_temoins", "k_temoins"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    for col in ("p_traites", "p_temoins", "estimation", "ic_bas", "ic_haut", "p_valeur", "ess"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


# ---------------------------------------------------------------------------
# One outcome
# ---------------------------------------------------------------------------


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
) -> pd.DataFrame:
    """Every estimate of the effect of treatment on one outcome (rows with a missing
    outcome dropped). Binary outcome: difference_brute, rapport_risques,
    logit_effet_marginal, ipw_att, puissance_mdd; continuous: difference_moyennes,
    ols_ajuste, ipw_att, puissance_mdd."""
    valeurs, type_resultat = convertir_resultat(table[resultat], type_resultat)
    garder = valeurs.notna().to_numpy()
    sous = table.loc[garder]
    y = valeurs.to_numpy()[garder]
    t = convertir_traitement(sous[traitement]) if len(sous) else np.zeros(0, dtype=int)
    cov = preparer_covariables(sous, list(covariables))
    erreurs = modeles.choisir_erreurs(sous[grappe].to_numpy() if grappe else None)
    traites, temoins = t == 1, t == 0
    n_t, n_c = int(traites.sum()), int(temoins.sum())
    cohortes = {"accompagnés": n_t, "témoins": n_c}
    x_ps, avs_ps = covariables_du_modele(cov, t, *budget_parametres(cohortes),
                                         "score de propension")
    if type_resultat == "binaire":
        k = int(np.nansum(y))
        limitants = {**cohortes, "événements": k, "non-événements": len(y) - k}
        x_y, avs_y = covariables_du_modele(cov, t, *budget_parametres(limitants, 1),
                                           "modèle logistique du résultat")
    else:
        x_y, avs_y = covariables_du_modele(cov, t, *budget_parametres(cohortes, 1),
                                           "régression du résultat")
    base = {"n_t": n_t, "n_c": n_c}
    ligne = lambda methode, **kw: _ligne(projet_id, resultat, horizon_mois, methode, **kw)

    def ligne_modele(methode, estime, p_t, p_c, avs_covariables, **kw):
        """A model's row: its estimate, with the comparison's warnings (`communs`), then those
        of the standard errors, of the covariates and of the model."""
        return ligne(methode, **base, p_t=p_t, p_c=p_c, estimation=estime["estimation"],
                     ic_bas=estime["ic_bas"], ic_haut=estime["ic_haut"], p_valeur=estime["p_valeur"],
                     avertissements=communs + erreurs.avertissements + avs_covariables
                     + estime["avertissements"], **kw)

    if n_t == 0 or n_c == 0:
        manque = [("estimation_impossible", "une des deux cohortes n'a aucun ménage avec ce résultat")]
        methodes = (["difference_brute"] if type_resultat == "binaire" else ["difference_moyennes"])
        return tableau_estimations([ligne(m, **base, avertissements=manque) for m in methodes])

    lignes = []
    # One household in a cohort: no variance, so no model-based estimate.
    impossible = {"estimation": math.nan, "ic_bas": math.nan, "ic_haut": math.nan,
                  "p_valeur": math.nan, "p1": math.nan, "p0": math.nan, "mu1": math.nan,
                  "mu0": math.nan, "ess": math.nan, "avertissements": [(
                      "estimation_impossible", ("un seul ménage dans une cohorte : ni "
                                                "intervalle ni ajustement possibles"))]}
    modeles_possibles = min(n_t, n_c) >= 2
    if type_resultat == "binaire":
        k_t, k_c = int(y[traites].sum()), int(y[temoins].sum())
        base.update(k_t=k_t, k_c=k_c)
        communs = (avertissement_secret(n_t, n_c, k_t, k_c)
                   + avertissement_evenements(n_t, k_t, n_c, k_c))
        p_t, p_c = k_t / n_t, k_c / n_c
        p_fisher = st.p_fisher(k_t, n_t, k_c, n_c)
        d_brute, bas_brute, haut_brute = st.difference_newcombe(k_t, n_t, k_c, n_c)
        lignes.append(ligne("difference_brute", **base, p_t=p_t, p_c=p_c, estimation=d_brute,
                            ic_bas=bas_brute, ic_haut=haut_brute, p_valeur=p_fisher,
                            avertissements=communs))
        rr, bas, haut = st.rapport_risques(k_t, n_t, k_c, n_c)
        avs_rr = list(communs)
        if k_t == 0 or k_c == 0:
            avs_rr.append(("estimation_impossible", ("aucun événement dans une cohorte : "
                           "intervalle du rapport de risques non défini")))
        lignes.append(ligne("rapport_risques", **base, p_t=p_t, p_c=p_c,
                            estimation=rr if math.isfinite(rr) else math.nan,
                            ic_bas=bas, ic_haut=haut, p_valeur=p_fisher, avertissements=avs_rr))
        if not modeles_possibles:
            ame = impossible
        elif x_y is None:
            # Without covariates the logit is saturated: its marginal effect is the raw
            # difference, whose Newcombe interval behaves better than the Wald one with
            # few events.
            ame = {"estimation": d_brute, "ic_bas": bas_brute, "ic_haut": haut_brute,
                   "p_valeur": p_fisher, "p1": p_t, "p0": p_c, "avertissements": []}
            avs_y = _sans_covariable(avs_y, "différence brute, intervalle de Newcombe")
        else:
            ame = modeles.effet_marginal_logit(y, t, x_y, erreurs)
        lignes.append(ligne_modele("logit_effet_marginal", ame, ame["p1"], ame["p0"], avs_y))
    else:
        communs = avertissement_secret(n_t, n_c)
        w = st.difference_moyennes_welch(y[traites], y[temoins])
        lignes.append(ligne("difference_moyennes", **base, p_t=w["moyenne_t"], p_c=w["moyenne_c"],
                            estimation=w["estimation"], ic_bas=w["ic_bas"], ic_haut=w["ic_haut"],
                            p_valeur=w["p_valeur"], avertissements=communs))
        if not modeles_possibles:
            ols = impossible
        elif x_y is None:
            # Without covariates the regression is the difference in means (Welch).
            ols = {k: w[k] for k in ("estimation", "ic_bas", "ic_haut", "p_valeur")}
            ols["avertissements"] = []
            avs_y = _sans_covariable(avs_y, "différence de moyennes, intervalle de Welch")
        else:
            ols = modeles.ols_ajuste(y, t, x_y, erreurs)
        lignes.append(ligne_modele("ols_ajuste", ols, w["moyenne_t"], w["moyenne_c"], avs_y))

    ipw = modeles.ipw_att(y, t, x_ps, erreurs) if modeles_possibles else impossible
    lignes.append(ligne_modele("ipw_att", ipw, ipw["mu1"], ipw["mu0"], avs_ps, ess=ipw["ess"]))

    if type_resultat == "binaire":
        p_c = base["k_c"] / n_c
        mdd = st.difference_minimale_detectable(n_t, n_c, p_c, PUISSANCE, ALPHA)
        avs_mdd = list(communs)
        if math.isnan(mdd):
            avs_mdd.append(("puissance_insuffisante", ("avec ces effectifs, aucune différence de "
                            "proportion n'est détectable avec une puissance de 80 %")))
        lignes.append(ligne("puissance_mdd", **base, p_t=base["k_t"] / n_t, p_c=p_c,
                            estimation=mdd, avertissements=avs_mdd))
        taille, cible = taille_necessaire_ecart(p_c)
        lignes.append(ligne("puissance_taille", **base, p_t=cible, p_c=p_c,
                            estimation=math.nan if taille is None else float(taille),
                            avertissements=communs))
    else:
        s_t = float(np.std(y[traites], ddof=1)) if n_t > 1 else math.nan
        s_c = float(np.std(y[temoins], ddof=1)) if n_c > 1 else math.nan
        mdd = st.difference_minimale_detectable_moyennes(n_t, n_c, s_t, s_c, PUISSANCE, ALPHA)
        m_t, m_c = float(y[traites].mean()), float(y[temoins].mean())
        lignes.append(ligne("puissance_mdd", **base, p_t=m_t, p_c=m_c, estimation=mdd,
                            avertissements=communs))
        ecart = ECART_RELATIF_CIBLE * abs(m_c)
        taille = st.taille_necessaire_moyennes(s_t, s_c, ecart, PUISSANCE, ALPHA)
        avs_taille = list(communs)
        if taille is None:
            avs_taille.append(("estimation_impossible", (
                "moyenne des témoins nulle ou écarts types non calculables : taille nécessaire "
                "non définie")))
        lignes.append(ligne("puissance_taille", **base, p_t=m_c - ecart, p_c=m_c,
                            estimation=math.nan if taille is None else float(taille),
                            avertissements=avs_taille))
    return tableau_estimations(lignes)


def taille_necessaire_ecart(p_temoins: float, ecart: float = ECART_CIBLE) -> tuple[int | None, float]:
    """Households per group (two equal groups, 80 % power, 5 % two-sided) to detect a
    difference of `ecart` from the control proportion in either direction: the larger of
    the sizes for p_temoins + ecart and p_temoins - ecart (those within [0, 1]); with the
    proportion that gave it."""
    tailles = []
    for cible in (p_temoins + ecart, p_temoins - ecart):
        if 0 <= cible <= 1:
            taille = st.taille_necessaire(p_temoins, cible - p_temoins, PUISSANCE, ALPHA)
            if taille is not None:
                tailles.append((taille, cible))
    if not tailles:
        return None, math.nan
    taille, cible = max(tailles)
    return taille, cible


def taille_necessaire_observee(estimations: pd.DataFrame) -> int | None:
    """Households per group needed to detect the observed raw difference (binary outcome)."""
    brute = estimations[estimations["methode"] == "difference_brute"]
    if brute.empty or pd.isna(brute["estimation"].iloc[0]) or pd.isna(brute["p_temoins"].iloc[0]):
        return None
    return st.taille_necessaire(float(brute["p_temoins"].iloc[0]), float(brute["estimation"].iloc[0]),
                                PUISSANCE, ALPHA)


# ---------------------------------------------------------------------------
# Balance
# ---------------------------------------------------------------------------


def tableau_equilibre(
    table: pd.DataFrame,
    traitement: str,
    covariables: list[str] | tuple[str, ...] = (),
    autres: list[str] | tuple[str, ...] = (),
    *,
    projet_id: str | None = None,
) -> pd.DataFrame:
    """Standardised mean differences by covariate (and level), before and after ATT weighting.

    The weights come from the propensity model on `covariables` (those it can carry, in
    the order given: `covariables_du_modele`); every covariate is shown, so that the
    imbalance left on those the model could not take is visible. `autres` are shown in
    the table (with the same weights) without entering the model (e.g. the landlord).
    `desequilibre_avant` / `desequilibre_apres` are true when |SMD| > SEUIL_SMD before / after
    weighting. `n_traites` / `n_temoins` are the households of each cohort, `k_traites` /
    `k_temoins` those at the level (binary covariates; null for continuous ones): the
    publication layer applies statistical secrecy to them (models/publication/pub_equilibre.sql).
    """
    t = convertir_traitement(table[traitement])
    cov = preparer_covariables(table, list(covariables))
    poids = None
    if (t == 1).any() and (t == 0).any():
        budget = budget_parametres({"accompagnés": int((t == 1).sum()),
                                    "témoins": int((t == 0).sum())})
        x_ps, _ = covariables_du_modele(cov, t, *budget, "score de propension")
        scores, _, _ = modeles.score_propension(t, x_ps, modeles.Erreurs("HC1"))
        if scores is not None and np.all((scores > 0) & (scores < 1)):
            poids = modeles.poids_att(scores, t)
    lignes_eq = cov.lignes_equilibre + preparer_covariables(table, [a for a in autres
                                                                    if a not in covariables]).lignes_equilibre
    traites, temoins = t == 1, t == 0
    n_t, n_c = int(traites.sum()), int(temoins.sum())
    lignes = []
    for nom, niveau, valeurs, binaire in lignes_eq:
        x_t, x_c = valeurs[traites], valeurs[temoins]
        avant = st.difference_standardisee(x_t, x_c, binaire=binaire)
        apres = (st.difference_standardisee(x_t, x_c, poids[traites], poids[temoins], binaire=binaire)
                 if poids is not None else math.nan)
        ponderee = (float(np.average(x_c, weights=poids[temoins]))
                    if poids is not None and n_c else math.nan)
        lignes.append({
            "projet_id": projet_id, "covariable": nom, "niveau": niveau,
            "n_traites": n_t, "n_temoins": n_c,
            "k_traites": int(round(x_t.sum())) if binaire else None,
            "k_temoins": int(round(x_c.sum())) if binaire else None,
            "moyenne_traites": float(x_t.mean()) if n_t else math.nan,
            "moyenne_temoins": float(x_c.mean()) if n_c else math.nan,
            "moyenne_ponderee_temoins": ponderee,
            "smd_avant": avant, "smd_apres": apres,
            "ratio_variance_avant": math.nan, "ratio_variance_apres": math.nan,
            "ks_avant": math.nan, "ks_apres": math.nan,
            "desequilibre_avant": bool(not math.isnan(avant) and abs(avant) > SEUIL_SMD),
            "desequilibre_apres": bool(not math.isnan(apres) and abs(apres) > SEUIL_SMD),
        })
    df = pd.DataFrame(lignes, columns=COLONNES_EQUILIBRE)
    for col in ("projet_id", "covariable", "niveau"):
        df[col] = df[col].astype(object)
    for col in ("n_traites", "n_temoins", "k_traites", "k_temoins"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    for col in ("moyenne_traites", "moyenne_temoins", "moyenne_ponderee_temoins", "smd_avant", "smd_apres",
                "ratio_variance_avant", "ratio_variance_apres", "ks_avant", "ks_apres"):
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
                              f"cohorte (accompagnés : {k_t}, témoins : {k_c}) : estimations fragiles"))]
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
        if not math.isnan(cox["coef"]) and abs(cox["coef"]) > modeles.SEUIL_COEF_STANDARDISE:
            avs_cox.append(("separation", ("modèle de Cox : coefficient démesuré, estimation "
                                           "non fiable ; intervalle et p-valeur non calculés")))
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
PREMIER_MOIS_PANEL = -6


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
