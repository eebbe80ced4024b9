"""The charts of a fiche, from the published tables only, with French labels.

The comparison charts are those of `capitalisation.evaluation.graphiques` (forest plot,
love plot, trajectories, Kaplan–Meier), fed with the `pub_` rows whose figures are not
secret and with French labels in place of codes. The chart of the indicators (a dot and
its 95 % interval per indicator, the published figure marked) is drawn here.
Each function returns a matplotlib Figure, or None when there is nothing to draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator

from capitalisation import formats
from capitalisation.publication import libelles
from capitalisation.publication.publie import est_secret

BLEU, ORANGE, ROUGE = "#1f6f8b", "#d17a22", "#b2182b"


def _pourcent(valeur: float, _position=None) -> str:
    return formats.pourcentage(valeur / 100)


def indicateurs(points: list[dict], titre: str | None = None) -> Figure | None:
    """Dot + 95 % interval per proportion; the published figure as a red diamond.

    `points`: dicts with libelle, valeur, ic_bas, ic_haut (proportions) and optionally
    publie (a proportion) and comparaison (egal, au_moins, au_plus, dans_intervalle).
    """
    if not points:
        return None
    hauteur = 1.1 + 0.42 * len(points)
    figure = Figure(figsize=(8, hauteur), layout="constrained")
    FigureCanvasAgg(figure)
    axe = figure.add_subplot()
    y = np.arange(len(points))[::-1]
    valeurs = np.array([p["valeur"] for p in points], dtype=float) * 100
    bas = np.clip(np.array([p["ic_bas"] for p in points], dtype=float) * 100, 0, 100)
    haut = np.clip(np.array([p["ic_haut"] for p in points], dtype=float) * 100, 0, 100)
    axe.errorbar(valeurs, y, xerr=[np.maximum(valeurs - bas, 0), np.maximum(haut - valeurs, 0)],
                 fmt="o", color=BLEU, ecolor=BLEU, capsize=3, label="Recalculé (IC à 95\u00a0%)")
    publies = [(yy, p["publie"] * 100) for yy, p in zip(y, points) if p.get("publie") is not None]
    if publies:
        axe.plot([p[1] for p in publies], [p[0] for p in publies], "D", color=ROUGE,
                 fillstyle="none", markersize=8, markeredgewidth=1.5, label="Publié par le projet")
    axe.set_yticks(y, [p["libelle"] for p in points])
    axe.set_xlim(-2, 102)
    axe.xaxis.set_major_locator(MultipleLocator(20))
    axe.xaxis.set_major_formatter(FuncFormatter(_pourcent))
    axe.grid(axis="x", color="#dddddd", linewidth=0.6)
    axe.set_axisbelow(True)
    axe.set_xlabel("Proportion recalculée et intervalle de confiance à 95\u00a0%")
    axe.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18 if len(points) > 3 else -0.35),
               ncol=2, fontsize=8, frameon=False)
    if titre:
        axe.set_title(titre, fontsize=11, loc="left")
    return figure


def _libelle_resultat(resultat: str, binaire: bool) -> str:
    nom = libelles.RESULTATS.get(resultat, libelles.humaniser(resultat))
    return f"{nom} (points)" if binaire else f"{nom} (€)"


# Method names short enough for the forest plot's axis.
METHODES_COURTES = {
    "difference_brute": "Différence brute",
    "rapport_risques": "Rapport de risques",
    "difference_moyennes": "Différence de moyennes",
    "logit_effet_marginal": "Logit ajusté (effet marginal)",
    "ols_ajuste": "Régression ajustée",
    "ipw_att": "Pondération (ATT)",
    "did": "Différence de différences",
    "cox": "Modèle de Cox",
}


def forest(comparaisons: pd.DataFrame, binaires: set[str]) -> Figure | None:
    """The comparison's forest plot; differences of proportions in percentage points."""
    from capitalisation.evaluation import graphiques

    if comparaisons.empty:
        return None
    lignes = comparaisons[comparaisons.apply(
        lambda r: not est_secret(r.to_dict(), "estimation") and pd.notna(r["estimation"]), axis=1)].copy()
    lignes = lignes[lignes["methode"].isin(graphiques.METHODES_DIFFERENCE + graphiques.METHODES_RAPPORT)]
    if lignes.empty:
        return None
    difference = lignes["methode"].isin(graphiques.METHODES_DIFFERENCE) & lignes["resultat"].isin(binaires)
    for colonne in ("estimation", "ic_bas", "ic_haut"):
        lignes[colonne] = lignes[colonne].astype(float)
        lignes.loc[difference, colonne] = lignes.loc[difference, colonne] * 100
    ordre_resultats = list(libelles.RESULTATS)
    ordre_methodes = list(METHODES_COURTES)
    lignes["_ordre"] = [
        (ordre_resultats.index(r) if r in ordre_resultats else 99,
         ordre_methodes.index(m) if m in ordre_methodes else 99)
        for r, m in zip(lignes["resultat"], lignes["methode"])]
    lignes = lignes.sort_values("_ordre").drop(columns="_ordre")
    lignes["resultat"] = [
        _libelle_resultat(r, r in binaires) if m in graphiques.METHODES_DIFFERENCE
        else libelles.RESULTATS.get(r, libelles.humaniser(r))
        for r, m in zip(lignes["resultat"], lignes["methode"])]
    figure = graphiques.graphique_forest(lignes.reset_index(drop=True))
    longues = {graphiques.METHODES.get(code, code): court for code, court in METHODES_COURTES.items()}
    for axe in figure.axes:
        positions = axe.get_yticks()
        etiquettes = [longues.get(t.get_text(), t.get_text()) for t in axe.get_yticklabels()]
        axe.set_yticks(positions, etiquettes)
        axe.title.set_fontsize(9)
    return figure


def equilibre(table: pd.DataFrame, noms: dict[str, dict] | None = None) -> Figure | None:
    """Love plot with French covariate names; at most 9 inches tall.

    `noms` gives the names of some covariates' levels ({"bailleur_id": {code: name}}).
    """
    from capitalisation.evaluation import graphiques

    if table.empty:
        return None
    noms = noms or {}
    lignes = table.copy()
    lignes["niveau"] = [noms.get(c, {}).get(n) or libelles.niveau(n)
                        for c, n in zip(lignes["covariable"], lignes["niveau"].fillna(""))]
    lignes["covariable"] = [libelles.COVARIABLES.get(c, libelles.humaniser(c)) for c in lignes["covariable"]]
    figure = graphiques.graphique_love(lignes.reset_index(drop=True),
                                       titre="Équilibre des caractéristiques à l'entrée")
    largeur, hauteur = figure.get_size_inches()
    if hauteur > 9:
        figure.set_size_inches(largeur, 9)
        for axe in figure.axes:
            axe.tick_params(axis="y", labelsize=7)
    return figure


def trajectoires(table: pd.DataFrame) -> Figure | None:
    """Mean balance by month relative to orientation, months under the threshold left out."""
    from capitalisation.evaluation import graphiques

    if table.empty:
        return None
    lignes = table[table["moyenne"].notna() & table["ic_bas"].notna() & table["ic_haut"].notna()]
    if lignes.empty:
        return None
    return graphiques.graphique_trajectoires(lignes.reset_index(drop=True),
                                             titre="Dette locative moyenne autour de l'orientation")


def survie(table: pd.DataFrame, evenements: list[str]) -> Figure | None:
    """Kaplan–Meier curves of the events whose counts may be published."""
    from capitalisation.evaluation import graphiques

    if table.empty:
        return None
    lignes = table[table["evenement"].isin(evenements)]
    if lignes.empty:
        return None
    return graphiques.graphique_survie(lignes.reset_index(drop=True))
