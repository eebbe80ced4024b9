"""Charts of the comparison (matplotlib, French labels).

Each function takes one of the result tables (as written to the warehouse), returns
the matplotlib Figure and, given `chemin`, saves it there (format from the extension).
Figures are built with the object-oriented API (`matplotlib.figure.Figure`, rendered by
the Agg canvas), so nothing depends on pyplot's global state or on a display.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

from capitalisation.evaluation.moteur import COHORTE_TEMOIN, COHORTE_TRAITEE, METHODES, SEUIL_SMD

COULEURS = {COHORTE_TRAITEE: "#1f6f8b", COHORTE_TEMOIN: "#d17a22"}
LIBELLES_COHORTES = {COHORTE_TRAITEE: "Accompagnés", COHORTE_TEMOIN: "Témoins"}
# Title of each Kaplan-Meier panel: what the "surviving" households have not yet had.
TITRES_SURVIE = {"expulsion": "Ménages non expulsés", "dette_soldee": "Ménages encore en dette"}

# Methods on a difference scale (0 = no effect) and on a ratio scale (1 = no effect).
METHODES_DIFFERENCE = ["difference_brute", "difference_moyennes", "logit_effet_marginal",
                       "ols_ajuste", "ipw_att", "ipw_ate", "ipw_ra_att", "ipw_ra_ate", "did"]
METHODES_RAPPORT = ["rapport_risques", "cox"]


def _nombre(valeur: float, _position=None) -> str:
    """Tick label in French: decimal comma, minus sign, no useless zeros."""
    texte = f"{valeur:.6g}".replace(".", ",").replace("-", "\u2212")
    return texte


def _axes_francais(axe, x: bool = True, y: bool = True, x_entier: bool = False) -> None:
    """French tick labels on the linear numeric axes (integers only when asked)."""
    for axis, garder, entier in ((axe.xaxis, x, x_entier), (axe.yaxis, y, False)):
        if garder and axis.get_scale() == "linear":
            if entier:
                axis.set_major_locator(MaxNLocator(integer=True))
            axis.set_major_formatter(FuncFormatter(_nombre))


def _graduations_log(axe, valeurs: np.ndarray) -> None:
    """Readable ticks on a log axis (0.5, 1, 2, 5... or finer for a narrow range)."""
    valeurs = valeurs[np.isfinite(valeurs) & (valeurs > 0)]
    bas, haut = min(valeurs.min(), 1.0) / 1.02, max(valeurs.max(), 1.0) * 1.02
    graduations = [1.0]
    for multiples in ((1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.1, 1.2, 1.3, 1.5, 1.7, 2, 2.5, 3,
                                                         4, 5, 6, 7, 8, 9)):
        candidats = sorted({round(m * 10.0**e, 6) for e in range(-4, 5) for m in multiples})
        graduations = [c for c in candidats if bas <= c <= haut]
        if len(graduations) >= 3:
            break
    axe.xaxis.set_major_locator(FixedLocator(graduations))
    axe.xaxis.set_major_formatter(FuncFormatter(_nombre))
    axe.xaxis.set_minor_formatter(NullFormatter())


def _figure(largeur: float, hauteur: float) -> Figure:
    figure = Figure(figsize=(largeur, hauteur), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _enregistrer(figure: Figure, chemin: str | Path | None) -> Figure:
    if chemin is not None:
        chemin = Path(chemin)
        chemin.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(chemin, dpi=150)
    return figure


def _vide(figure: Figure, message: str) -> None:
    axe = figure.add_subplot()
    axe.text(0.5, 0.5, message, ha="center", va="center")
    axe.set_axis_off()


def graphique_forest(estimations: pd.DataFrame, chemin: str | Path | None = None,
                     titre: str | None = None) -> Figure:
    """Forest plot: one panel per outcome and scale (difference or ratio), one line per method."""
    lignes = estimations[estimations["methode"].isin(METHODES_DIFFERENCE + METHODES_RAPPORT)
                         & estimations["estimation"].notna()]
    panneaux = []
    for resultat, groupe in lignes.groupby("resultat", sort=False):
        for methodes, rapport in ((METHODES_DIFFERENCE, False), (METHODES_RAPPORT, True)):
            sous = groupe[groupe["methode"].isin(methodes)]
            if len(sous):
                panneaux.append((resultat, rapport, sous))
    hauteur = 1.0 + sum(0.45 * len(p[2]) + 0.6 for p in panneaux)
    figure = _figure(8, max(hauteur, 2.5))
    if not panneaux:
        _vide(figure, "Aucune estimation à représenter")
        return _enregistrer(figure, chemin)
    axes = figure.subplots(len(panneaux), 1, squeeze=False,
                           height_ratios=[len(p[2]) + 0.5 for p in panneaux])[:, 0]
    for axe, (resultat, rapport, sous) in zip(axes, panneaux):
        y = np.arange(len(sous))[::-1]
        est = sous["estimation"].to_numpy(dtype=float)
        bas = sous["ic_bas"].to_numpy(dtype=float)
        haut = sous["ic_haut"].to_numpy(dtype=float)
        ok = np.isfinite(bas) & np.isfinite(haut)
        axe.errorbar(est[ok], y[ok], xerr=[est[ok] - bas[ok], haut[ok] - est[ok]], fmt="o",
                     color="#1f6f8b", capsize=3)
        axe.plot(est[~ok], y[~ok], "o", color="#1f6f8b", fillstyle="none")
        axe.axvline(1.0 if rapport else 0.0, color="grey", linestyle="--", linewidth=1)
        axe.set_yticks(y, [METHODES.get(m, m) for m in sous["methode"]])
        if rapport:
            axe.set_xscale("log")
            _graduations_log(axe, np.r_[est, bas, haut])
        else:
            _axes_francais(axe, y=False)
        axe.set_title(f"{resultat} — {'rapport (1 = pas d’effet)' if rapport else 'différence accompagnés − témoins'}",
                      fontsize=10, loc="left")
    axes[-1].set_xlabel("Estimation et intervalle de confiance à 95 %")
    if titre:
        figure.suptitle(titre)
    return _enregistrer(figure, chemin)


def graphique_love(equilibre: pd.DataFrame, chemin: str | Path | None = None,
                   titre: str | None = None) -> Figure:
    """Love plot: |SMD| of each covariate (level) before and after ATT weighting."""
    figure = _figure(7, 1.2 + 0.3 * max(len(equilibre), 1))
    if equilibre.empty:
        _vide(figure, "Aucune covariable")
        return _enregistrer(figure, chemin)
    axe = figure.add_subplot()
    noms = [f"{c} = {n}" if n else c for c, n in zip(equilibre["covariable"], equilibre["niveau"])]
    y = np.arange(len(equilibre))[::-1]
    avant = equilibre["smd_avant"].abs().replace(np.inf, np.nan).to_numpy(dtype=float)
    apres = equilibre["smd_apres"].abs().replace(np.inf, np.nan).to_numpy(dtype=float)
    axe.plot(avant, y, "o", color="#d17a22", fillstyle="none", label="Avant pondération")
    axe.plot(apres, y, "o", color="#1f6f8b", label="Après pondération (ATT)")
    axe.axvline(SEUIL_SMD, color="grey", linestyle="--", linewidth=1)
    axe.set_yticks(y, noms)
    _axes_francais(axe, y=False)
    axe.set_xlabel("Différence moyenne standardisée, en valeur absolue")
    axe.legend(loc="lower right", fontsize=8)
    axe.set_title(titre or "Équilibre des covariables", fontsize=11)
    return _enregistrer(figure, chemin)


def graphique_trajectoires(trajectoires: pd.DataFrame, chemin: str | Path | None = None,
                           titre: str | None = None) -> Figure:
    """Mean balance by month relative to orientation, by cohort, with 95 % bands."""
    figure = _figure(8, 4.5)
    if trajectoires.empty:
        _vide(figure, "Aucune trajectoire")
        return _enregistrer(figure, chemin)
    axe = figure.add_subplot()
    for cohorte, groupe in trajectoires.groupby("cohorte", sort=True):
        groupe = groupe.sort_values("mois_relatif")
        x = groupe["mois_relatif"].to_numpy(dtype=float)
        couleur = COULEURS.get(cohorte)
        axe.plot(x, groupe["moyenne"].to_numpy(dtype=float), marker="o", markersize=3,
                 color=couleur, label=LIBELLES_COHORTES.get(cohorte, cohorte))
        axe.fill_between(x, groupe["ic_bas"].to_numpy(dtype=float),
                         groupe["ic_haut"].to_numpy(dtype=float), color=couleur, alpha=0.2)
    axe.axvline(0, color="grey", linestyle="--", linewidth=1)
    axe.axhline(0, color="black", linewidth=0.5)
    _axes_francais(axe, x_entier=True)
    axe.set_xlabel("Mois relatif à l'orientation")
    axe.set_ylabel("Solde moyen en fin de mois (€)")
    axe.legend()
    axe.set_title(titre or "Trajectoires de dette locative", fontsize=11)
    return _enregistrer(figure, chemin)


def graphique_survie(survie: pd.DataFrame, chemin: str | Path | None = None,
                     titre: str | None = None) -> Figure:
    """Kaplan-Meier curves by cohort with 95 % bands, one panel per event."""
    evenements = list(dict.fromkeys(survie["evenement"])) if len(survie) else []
    figure = _figure(5 * max(len(evenements), 1), 4)
    if not evenements:
        _vide(figure, "Aucune courbe de survie")
        return _enregistrer(figure, chemin)
    axes = figure.subplots(1, len(evenements), squeeze=False)[0]
    for axe, evenement in zip(axes, evenements):
        for cohorte, groupe in survie[survie["evenement"] == evenement].groupby("cohorte"):
            groupe = groupe.sort_values("temps")
            x = groupe["temps"].to_numpy(dtype=float)
            couleur = COULEURS.get(cohorte)
            axe.step(x, groupe["survie"].to_numpy(dtype=float), where="post", color=couleur,
                     label=LIBELLES_COHORTES.get(cohorte, cohorte))
            bas = groupe["ic_bas"].to_numpy(dtype=float)
            haut = groupe["ic_haut"].to_numpy(dtype=float)
            axe.fill_between(x, bas, haut, step="post", color=couleur, alpha=0.2,
                             where=np.isfinite(bas) & np.isfinite(haut))
        axe.set_title(TITRES_SURVIE.get(evenement, evenement), fontsize=11)
        _axes_francais(axe, x_entier=True)
        axe.set_xlabel("Mois depuis l'orientation")
        axe.set_ylabel("Proportion (Kaplan-Meier)")
        axe.set_ylim(0, 1.02)
        axe.legend(fontsize=8)
    if titre:
        figure.suptitle(titre)
    return _enregistrer(figure, chemin)


def graphique_chevauchement(scores: np.ndarray | None, traite: np.ndarray,
                            chemin: str | Path | None = None, titre: str | None = None,
                            rognage: float | None = None) -> Figure:
    """Overlap of the propensity scores: their distribution in each cohort (mirrored
    histograms, accompanied above, controls below), with the trimming bounds if any."""
    figure = _figure(7, 4)
    if scores is None or len(scores) == 0:
        _vide(figure, "Scores de propension non estimés")
        return _enregistrer(figure, chemin)
    scores = np.asarray(scores, dtype=float)
    t = np.asarray(traite) == 1
    axe = figure.add_subplot()
    bornes = np.linspace(0, 1, 21)
    for masque, signe, cohorte in ((t, 1, COHORTE_TRAITEE), (~t, -1, COHORTE_TEMOIN)):
        effectifs, _ = np.histogram(scores[masque], bins=bornes)
        part = effectifs / max(masque.sum(), 1)
        axe.bar(bornes[:-1], signe * part, width=np.diff(bornes), align="edge",
                color=COULEURS[cohorte], alpha=0.8, label=LIBELLES_COHORTES[cohorte])
    axe.axhline(0, color="black", linewidth=0.5)
    if rognage:
        for borne in (rognage, 1 - rognage):
            axe.axvline(borne, color="grey", linestyle="--", linewidth=1)
    axe.set_xlim(0, 1)
    axe.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: _nombre(abs(v))))
    axe.xaxis.set_major_formatter(FuncFormatter(_nombre))
    axe.set_xlabel("Score de propension (probabilité estimée d'être accompagné)")
    axe.set_ylabel("Part des ménages du groupe")
    axe.legend(fontsize=8)
    axe.set_title(titre or "Chevauchement des scores de propension", fontsize=11)
    return _enregistrer(figure, chemin)
