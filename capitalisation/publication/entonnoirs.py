"""Funnel plots of the landlords' benchmark (matplotlib, French labels and alternative text).

One figure per indicator: each landlord's proportion against its denominator, the
programme's proportion p0 as a horizontal line, and the control limits at 95 % and 99.8 %
(p0 ± z · sqrt(φ · p0 (1 − p0) / n), clipped to [0, 1]; macros/entonnoirs.sql computes the
same limits at each landlord's n in the warehouse, which the tests check against these
curves). Only published points are drawn: the caller passes the rows of the publication
layer whose proportion is not secret, and the number of the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from capitalisation import formats

Z_95 = 1.959963984540054
Z_998 = 3.090232306167813

COULEUR_POINT = "#1f6f8b"
COULEUR_LECTEUR = "#d1495b"
COULEUR_MOYENNE = "#333333"
COULEUR_95 = "#5f7f8f"
COULEUR_998 = "#9aa9b1"

POSITIONS = {
    "au_dessus": "au-dessus des limites",
    "dans_les_limites": "dans les limites",
    "en_dessous": "en dessous des limites",
}


@dataclass
class Point:
    """A published landlord: its label, its denominator and proportion, its positions."""

    libelle: str
    n: float
    proportion: float
    position_95: str | None = None
    position_998: str | None = None
    lecteur: bool = False


@dataclass
class Entonnoir:
    """What one funnel plot shows."""

    indicateur: str
    titre: str
    libelle_denominateur: str
    moyenne: float | None
    surdispersion: float = 1.0
    points: list[Point] = field(default_factory=list)
    non_representes: int = 0
    unite: str = "bailleurs"


def limites(p0: float, n, z: float, phi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The control limits at `n` (scalar or array), clipped to [0, 1]."""
    n = np.asarray(n, dtype=float)
    demi = z * np.sqrt(phi * p0 * (1 - p0) / n)
    return np.clip(p0 - demi, 0.0, 1.0), np.clip(p0 + demi, 0.0, 1.0)


def _pourcentage(valeur: float, _position=None) -> str:
    return formats.pourcentage(round(valeur, 4))


def _entier(valeur: float, _position=None) -> str:
    return formats.nombre(valeur) if float(valeur).is_integer() else ""


def legende(entonnoir: Entonnoir) -> str:
    """The caption printed under the figure."""
    texte = (f"{entonnoir.titre} : proportion de chaque {entonnoir.unite[:-1]} selon son dénominateur "
             f"({entonnoir.libelle_denominateur.lower()}). ")
    if entonnoir.moyenne is not None:
        texte += f"Trait plein : moyenne du programme ({formats.pourcentage(entonnoir.moyenne)}). "
    texte += "Tirets : limites de contrôle à 95 % ; pointillés : à 99,8 %"
    if entonnoir.surdispersion > 1:
        texte += f", élargies par le facteur de surdispersion φ = {formats.nombre(entonnoir.surdispersion, 2)}"
    texte += "."
    if entonnoir.non_representes:
        texte += (f" {entonnoir.non_representes} {entonnoir.unite} non représentés (secret statistique).")
    return texte


def texte_alternatif(entonnoir: Entonnoir) -> str:
    """A French description of the figure for readers who do not see it."""
    morceaux = [f"Diagramme en entonnoir « {entonnoir.titre} »."]
    if not entonnoir.points:
        morceaux.append("Aucun point publiable (secret statistique).")
        return " ".join(morceaux)
    morceaux.append(
        f"{len(entonnoir.points)} {entonnoir.unite} placés selon leur dénominateur "
        f"({entonnoir.libelle_denominateur.lower()}, axe horizontal) et leur proportion (axe vertical)."
    )
    if entonnoir.moyenne is not None:
        morceaux.append(f"Moyenne du programme : {formats.pourcentage(entonnoir.moyenne)}.")
    for sens, libelle in (("au_dessus", "au-dessus"), ("en_dessous", "en dessous")):
        hors_95 = [p for p in entonnoir.points if p.position_95 == sens]
        hors_998 = [p for p in entonnoir.points if p.position_998 == sens]
        if hors_95:
            morceaux.append(
                f"{len(hors_95)} {libelle} des limites à 95 % (dont {len(hors_998)} au-delà de 99,8 %) : "
                + ", ".join(p.libelle for p in sorted(hors_95, key=lambda p: p.libelle)) + "."
            )
    if not any(p.position_95 in ("au_dessus", "en_dessous") for p in entonnoir.points):
        morceaux.append("Tous sont dans les limites à 95 %.")
    for point in entonnoir.points:
        if point.lecteur:
            morceaux.append(
                f"{point.libelle} : {formats.pourcentage(point.proportion)} sur "
                f"{formats.nombre(point.n)} ({entonnoir.libelle_denominateur.lower()}), "
                f"{POSITIONS.get(point.position_95, 'position non publiée')} à 95 %."
            )
    if entonnoir.non_representes:
        morceaux.append(f"{entonnoir.non_representes} {entonnoir.unite} non représentés (secret statistique).")
    return " ".join(morceaux)


def figure(entonnoir: Entonnoir):
    """The matplotlib Figure of one funnel plot (object-oriented API, Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig = Figure(figsize=(8, 5.2))
    fig.subplots_adjust(left=0.09, right=0.97, top=0.93, bottom=0.1)
    FigureCanvasAgg(fig)
    axe = fig.add_subplot()
    n_max = max([p.n for p in entonnoir.points], default=10)
    n_min = min([p.n for p in entonnoir.points], default=1)
    borne = max(10.0, n_max * 1.15)
    bas_vu, haut_vu = [p.proportion for p in entonnoir.points], [p.proportion for p in entonnoir.points]
    if entonnoir.moyenne is not None:
        grille = np.linspace(1.0, borne, 800)
        p0, phi = entonnoir.moyenne, max(1.0, entonnoir.surdispersion)
        for z, couleur, style, nom in ((Z_95, COULEUR_95, "--", "Limites à 95 %"),
                                        (Z_998, COULEUR_998, ":", "Limites à 99,8 %")):
            bas, haut = limites(p0, grille, z, phi)
            axe.plot(grille, bas, color=couleur, linestyle=style, linewidth=1.2, label=nom)
            axe.plot(grille, haut, color=couleur, linestyle=style, linewidth=1.2)
        axe.axhline(p0, color=COULEUR_MOYENNE, linewidth=1.2,
                    label=f"Moyenne du programme ({formats.pourcentage(p0)})")
        bas_998, haut_998 = limites(p0, max(1.0, n_min), Z_998, phi)
        bas_vu += [float(bas_998), p0]
        haut_vu += [float(haut_998), p0]
    autres = [p for p in entonnoir.points if not p.lecteur]
    lecteurs = [p for p in entonnoir.points if p.lecteur]
    if autres:
        axe.scatter([p.n for p in autres], [p.proportion for p in autres], s=36, color=COULEUR_POINT,
                    edgecolor="white", linewidth=0.6, zorder=3, label=entonnoir.unite.capitalize())
    for point in lecteurs:
        axe.scatter([point.n], [point.proportion], s=90, color=COULEUR_LECTEUR, marker="D",
                    edgecolor="black", linewidth=0.8, zorder=4, label=point.libelle)
    axe.set_xlim(0, borne)
    # The vertical axis covers the points and the 99.8 % limits at the smallest n, not always 0–100 %.
    if bas_vu:
        axe.set_ylim(max(-0.02, min(bas_vu) - 0.05), min(1.04, max(haut_vu) + 0.05))
    else:
        axe.set_ylim(-0.02, 1.04)
    _etiqueter(axe, entonnoir.points, borne)
    axe.set_xlabel(entonnoir.libelle_denominateur)
    axe.set_ylabel("Proportion")
    axe.yaxis.set_major_formatter(FuncFormatter(_pourcentage))
    axe.xaxis.set_major_locator(MaxNLocator(integer=True))
    axe.xaxis.set_major_formatter(FuncFormatter(_entier))
    axe.set_title(entonnoir.titre, loc="left", fontsize=12)
    axe.grid(True, color="#e5e5e5", linewidth=0.6)
    axe.spines[["top", "right"]].set_visible(False)
    if not entonnoir.points:
        axe.text(0.5, 0.5, "Aucun point publiable (secret statistique)", transform=axe.transAxes,
                 ha="center", va="center", color="#555555")
    if axe.get_legend_handles_labels()[0]:
        axe.legend(loc="lower right", fontsize=8, frameon=False)
    return fig


# Label offsets tried in turn (points), right then left of the point.
DECALAGES = ((6, 5), (6, -12), (6, 14), (6, -21), (-8, 5), (-8, -12), (6, 23), (6, -30))


def _etiqueter(axe, points: list[Point], borne: float) -> None:
    """Label every point, moving a label to the next free offset when it would overlap another
    (approximate boxes in points on the axes' size)."""
    largeur_axe, hauteur_axe = 520.0, 330.0
    bas, haut = axe.get_ylim()
    poses: list[tuple[float, float, float, float]] = []
    for point in sorted(points, key=lambda p: (not p.lecteur, p.n, p.proportion)):
        taille = 9 if point.lecteur else 7.5
        largeur, hauteur = 0.65 * taille * len(point.libelle), taille + 1
        x = point.n / borne * largeur_axe
        y = (point.proportion - bas) / max(1e-9, haut - bas) * hauteur_axe
        choisi = DECALAGES[0]
        for dx, dy in DECALAGES:
            gauche = x + dx - (largeur if dx < 0 else 0)
            boite = (gauche, y + dy, gauche + largeur, y + dy + hauteur)
            if not any(boite[0] < b[2] and b[0] < boite[2] and boite[1] < b[3] and b[1] < boite[3]
                       for b in poses):
                choisi = (dx, dy)
                break
        dx, dy = choisi
        gauche = x + dx - (largeur if dx < 0 else 0)
        poses.append((gauche, y + dy, gauche + largeur, y + dy + hauteur))
        axe.annotate(point.libelle, (point.n, point.proportion), xytext=(dx, dy), textcoords="offset points",
                     ha="right" if dx < 0 else "left", fontsize=taille,
                     fontweight="bold" if point.lecteur else "normal",
                     color="black" if point.lecteur else "#333333", zorder=5, annotation_clip=False)


def tracer(entonnoir: Entonnoir, base: Path, extensions: tuple[str, ...] = ("png", "svg")) -> dict:
    """Write the figure as `base`.png and `base`.svg; returns the file names, caption and alt text."""
    import matplotlib

    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    alternatif = texte_alternatif(entonnoir)
    fig = figure(entonnoir)
    fichiers = []
    with matplotlib.rc_context({"svg.hashsalt": f"entonnoir-{entonnoir.indicateur}", "svg.fonttype": "none"}):
        for extension in extensions:
            chemin = base.with_suffix(f".{extension}")
            if extension == "svg":
                metadonnees = {"Title": entonnoir.titre, "Description": alternatif, "Language": "fr",
                               "Date": None, "Creator": None}
            elif extension == "png":
                metadonnees = {"Title": entonnoir.titre, "Description": alternatif, "Software": None}
            else:
                metadonnees = {}
            fig.savefig(chemin, dpi=150, metadata=metadonnees)
            fichiers.append(chemin.name)
    return {
        "indicateur": entonnoir.indicateur,
        "titre": entonnoir.titre,
        "fichiers": fichiers,
        "legende": legende(entonnoir),
        "texte_alternatif": alternatif,
    }
