"""Statistical secrecy (indicators.md, « Disclosure »; README, « Secret statistique »).

The rules are applied once, in the warehouse's publication layer (models/publication/,
macros/secret_statistique.sql), which every published output reads. A secret cell is
null there and named in `cellules_secretes`; outputs print it as « s ».

The SQL lists every published count as a canonical cell (int_secret_occurrences), the
proportions that tie an n to a k (int_secret_proportions) and the sums that tie cells
together (int_secret_equations). The choice of the cells to hide is made here
(`decider`, called by the dbt Python model int_secret_cellules), in rounds until nothing
changes:

1. Primary: a count of 1 to `seuil_effectif` (published, or an unpublished complement or
   remainder of a population); the k and the n of a proportion on fewer than
   `seuil_denominateur` households (unless known to all: an attacker must pin both); every cell hidden in the previous publication
   (`motif` « precedent »: a cell hidden once stays hidden, so that the next extraction's
   figures cannot pin it).
2. Known cells. An attacker knows every published cell, every figure the project published
   itself that the data confirm (`publique`), and the cells of the previous publication
   whose number has not changed. An insider, a landlord, knows besides every cell of its
   own (its households in each project and across projects, their complements). Hiding a
   known cell protects nothing: such a cell is never chosen.
3. Secondary: for the public and for each landlord, a sum with exactly one cell unknown to
   them, when that cell is secret (or a small complement), gets one more cell hidden:
   not known to anyone, not the landlord's own; a non-zero one before a zero; a part
   before the total; the one shown by the fewest published figures; the smallest; the
   first by identifier. A count the project published that the data confirm (« au moins »,
   « environ ») is chosen last of all.
4. Bounds: a proportion at 0 % or 100 % gives every part of it at 0 % or 100 % too; when a
   part's proportion is secret, the total's k is hidden.
5. Intervals: every count being non-negative, the sums give bounds (a hidden total is at least
   its published parts). A small secret count pinned to within ± PROTECTION households by these
   bounds (propagated over all the sums), or the k of a proportion on too few households so
   pinned (hidden parts of a sum adding up to 0 are all 0), gets one more cell hidden among the
   sums around it,
   nearest first (`motif` « intervalle »).
6. Linear programming: when nothing else changes, the exact interval each reader (the public, each
   landlord knowing its own cells) reaches for each sensitive cell, over all the sums, k ≤ n and
   the inequalities between populations (INEGALITES), every count non-negative, is computed with
   HiGHS (the audit's `Systeme`), and each cell that the audit's protection rule
   (`controle_secret.protegee`) finds pinned gets one more cell hidden among the sums and
   inequalities around it (`motif` « programme »), all at once; then the rounds start again, the
   next solve only for the cells found pinned (hiding more only widens the intervals), at most
   TOURS_LP times. `intervalles` computes the exact intervals over the sums alone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from capitalisation.publication.controle_secret import PROTECTION

SECRET = "s"

# Levels whose cells belong to one landlord (the `dimension` is the landlord).
NIVEAUX_BAILLEUR = ("bailleur", "bailleur_programme")

COLONNES = ["cellule_id", "mesure", "niveau", "projet_id", "dimension", "bailleur_id", "valeur", "poids",
            "implicite", "primaire", "publique", "secrete", "motif", "tour_secret"]


@dataclass
class Cellule:
    identifiant: str
    valeur: float
    mesure: str = ""
    niveau: str = ""
    projet_id: str = ""
    dimension: str = ""
    bailleur: str = ""
    poids: int = 0
    implicite: bool = False
    primaire: bool = False
    publique: bool = False
    confirmee: bool = False
    motif: str | None = None
    tour: int | None = None


@dataclass
class Equation:
    identifiant: str
    total: str | None = None
    membres: list[tuple[str, int]] = field(default_factory=list)  # (cell, rang_choix)


def petit(valeur: float, seuil_effectif: int) -> bool:
    """A count of households from 1 to the threshold."""
    return valeur is not None and 0 < round(valeur) <= seuil_effectif


def decider(
    occurrences: pd.DataFrame,
    proportions: pd.DataFrame,
    equations: pd.DataFrame,
    seuil_effectif: int,
    precedentes: pd.DataFrame | None = None,
    initie: bool = True,
    bornes: bool = True,
    programme: bool = True,
) -> pd.DataFrame:
    """One row per canonical cell (COLONNES): whether it is secret, and why. `initie`: protect
    against each landlord too; `bornes`: repair the counts pinned by bounds; `programme`: then
    by the exact intervals of the linear programme (all on by default)."""
    # The choice must not depend on the order of the rows an engine hands over.
    occurrences = occurrences.sort_values(list(occurrences.columns), kind="stable", ignore_index=True)
    proportions = proportions.sort_values(list(proportions.columns), kind="stable", ignore_index=True)
    equations = equations.sort_values(list(equations.columns), kind="stable", ignore_index=True)
    cellules = _cellules(occurrences)
    sommes = _equations(equations, cellules, seuil_effectif)
    secretes: dict[str, tuple[str, int]] = {}

    def cacher(identifiant: str, motif: str, tour: int) -> bool:
        if identifiant in secretes or cellules[identifiant].implicite:
            return False
        secretes[identifiant] = (motif, tour)
        return True

    for cellule in cellules.values():
        if cellule.primaire and not cellule.implicite:
            cacher(cellule.identifiant, "primaire", 0)

    connues_de_tous = {c.identifiant for c in cellules.values() if c.publique}
    # The levels of a covariate are all listed: when they make up the whole cohort, everyone
    # knows that nobody is left out.
    connues_de_tous |= {c.identifiant for c in cellules.values()
                        if c.implicite and c.identifiant.startswith("partition|") and c.valeur == 0}
    if precedentes is not None and len(precedentes):
        for ligne in precedentes.itertuples(index=False):
            cellule = cellules.get(ligne.cellule_id)
            if cellule is None or cellule.implicite:
                continue
            if bool(ligne.secrete):
                if not cellule.publique:
                    cacher(cellule.identifiant, "precedent", 0)
            elif ligne.valeur is not None and abs(float(ligne.valeur) - cellule.valeur) < 0.005:
                connues_de_tous.add(cellule.identifiant)

    bailleurs = sorted({c.bailleur for c in cellules.values() if c.bailleur})
    profils: list[str | None] = [None, *bailleurs] if initie else [None]
    # What each profile knows whatever is published: what it is told, and what follows from it.
    connues = {profil: _deductibles(connues_de_tous | {c.identifiant for c in cellules.values()
                                                        if profil is not None and c.bailleur == profil}, sommes)
               for profil in profils}
    connues_de_tous = connues[None]
    paires = _paires(proportions, cellules)
    for cellule_n, cellule_k, insuffisant in paires:
        # A proportion on too few households: its k (how many of them have the attribute, even
        # none) and its n are hidden, unless known to all.
        if not insuffisant:
            continue
        for cellule in (cellule_k, cellule_n):
            if cellule not in connues_de_tous:
                cacher(cellule, "paire", 0)

    tour = 0
    reparations_lp = 0
    revoir: dict = {}
    while True:
        tour += 1
        changement = False
        for profil in profils:
            for somme in sommes.values():
                choix = _ouverte(somme, cellules, secretes, connues[profil])
                if choix is not None and cacher(choix, "secondaire", tour):
                    changement = True
        for _n, _k, cellule_total_k in _bornes(paires, sommes, cellules, secretes):
            if cacher(cellule_total_k, "borne", tour):
                changement = True
        if not changement and bornes:
            for choix in _reparer(sommes, cellules, secretes, connues_de_tous):
                if cacher(choix, "intervalle", tour):
                    changement = True
        if not changement and bornes and programme and reparations_lp < TOURS_LP:
            # Deductions that combine several sums: the exact intervals, by linear programming.
            reparations_lp += 1
            for choix in _reparer_lp(sommes, cellules, paires, secretes, connues, seuil_effectif, revoir):
                if cacher(choix, "programme", tour):
                    changement = True
        if not changement:
            break

    lignes = []
    for cellule in cellules.values():
        motif, tour_secret = secretes.get(cellule.identifiant, (None, None))
        lignes.append({
            "cellule_id": cellule.identifiant, "mesure": cellule.mesure, "niveau": cellule.niveau,
            "projet_id": cellule.projet_id, "dimension": cellule.dimension, "bailleur_id": cellule.bailleur,
            "valeur": cellule.valeur, "poids": cellule.poids, "implicite": cellule.implicite,
            "primaire": cellule.primaire, "publique": cellule.identifiant in connues_de_tous,
            "secrete": motif is not None, "motif": motif, "tour_secret": tour_secret,
        })
    table = pd.DataFrame(lignes, columns=COLONNES)
    table["tour_secret"] = table["tour_secret"].astype("Int64")
    return table


def _cellules(occurrences: pd.DataFrame) -> dict[str, Cellule]:
    cellules: dict[str, Cellule] = {}
    for ligne in occurrences.itertuples(index=False):
        cellule = cellules.get(ligne.cellule_id)
        valeur = float(ligne.valeur) if pd.notna(ligne.valeur) else 0.0
        if cellule is None:
            niveau = str(ligne.niveau or "")
            bailleur = str(getattr(ligne, "bailleur_id", "") or "")
            if not bailleur and niveau in NIVEAUX_BAILLEUR:
                bailleur = str(ligne.dimension or "")
            cellule = cellules[ligne.cellule_id] = Cellule(
                ligne.cellule_id, valeur, str(ligne.mesure or ""), niveau, str(ligne.projet_id or ""),
                str(ligne.dimension or ""), bailleur)
        cellule.valeur = max(cellule.valeur, valeur)
        cellule.poids += 1
        cellule.primaire = cellule.primaire or bool(ligne.primaire)
        cellule.publique = cellule.publique or bool(getattr(ligne, "publique", False))
        cellule.confirmee = cellule.confirmee or bool(getattr(ligne, "confirmee", False))
    return cellules


def _equations(equations: pd.DataFrame, cellules: dict[str, Cellule], seuil_effectif: int) -> dict[str, Equation]:
    """The sums, their implicit cells (complements and remainders) added to `cellules` with their
    number (the total minus the other parts) and their owner (the total's)."""
    sommes: dict[str, Equation] = {}
    implicites: dict[str, str] = {}
    atomes: dict[str, float] = {}
    for ligne in equations.itertuples(index=False):
        somme = sommes.setdefault(ligne.equation_id, Equation(ligne.equation_id))
        if ligne.role == "total":
            somme.total = ligne.cellule_id
        somme.membres.append((ligne.cellule_id, int(ligne.rang_choix)))
        valeur = getattr(ligne, "valeur", None)
        if bool(ligne.implicite) and valeur is not None and pd.notna(valeur):
            atomes[ligne.cellule_id] = float(valeur)
        elif bool(ligne.implicite):
            implicites[ligne.cellule_id] = ligne.equation_id
    # The cube's atoms (and their complements): numbers given, owned by their landlord
    # (`atome|<measure>|<project>|<landlord>|<volet>|<département>`), never published.
    for identifiant, valeur in atomes.items():
        morceaux = identifiant.removeprefix("complement|").split("|")
        bailleur = morceaux[3] if len(morceaux) > 3 else ""
        cellules.setdefault(identifiant, Cellule(identifiant, valeur, "atome", "atome", morceaux[2] if len(morceaux) > 2
                                                 else "", "", bailleur, implicite=True))
    for identifiant, equation_id in implicites.items():
        if identifiant in cellules:
            continue
        somme = sommes[equation_id]
        total = cellules.get(somme.total)
        if total is None:
            continue
        parties = sum(cellules[c].valeur for c, _ in somme.membres
                      if c != somme.total and c != identifiant and c in cellules)
        valeur = total.valeur - parties
        cellules[identifiant] = Cellule(identifiant, valeur, "complement", total.niveau, total.projet_id,
                                        total.dimension, total.bailleur, implicite=True,
                                        primaire=petit(valeur, seuil_effectif))
    for somme in sommes.values():
        somme.membres = [(c, r) for c, r in somme.membres if c in cellules]
    return {i: s for i, s in sommes.items() if s.total in cellules}


def _paires(proportions: pd.DataFrame, cellules: dict[str, Cellule]) -> list[tuple[str, str, bool]]:
    return [(p.cellule_n, p.cellule_k, bool(p.denominateur_insuffisant))
            for p in proportions.itertuples(index=False)
            if p.cellule_n in cellules and p.cellule_k in cellules]


def _reparer(sommes: dict[str, Equation], cellules: dict[str, Cellule], secretes: dict,
             connues: set[str]) -> list[str]:
    """Cells to hide so that no small secret count (or complement) stays pinned by the bounds
    the sums give (every count non-negative): for each one pinned to within ± PROTECTION, a
    candidate of the sums around it, nearest first: non-zero, shown by the fewest figures, a part
    before a total, the smallest."""
    inconnues = {c for c, cellule in cellules.items()
                 if (c in secretes or cellule.implicite) and c not in connues}
    valeurs = {c: cellule.valeur for c, cellule in cellules.items()}
    membres = [[(c, c == somme.total) for c, _ in somme.membres] for somme in sommes.values()]
    bornes = _propager(_systemes(membres, valeurs, inconnues), inconnues)
    par_cellule = _par_cellule(sommes)
    choix = []
    for cellule, (bas, haut) in sorted(bornes.items()):
        sensible = cellules[cellule].primaire or secretes.get(cellule, ("",))[0] in ("paire", "precedent")
        if not sensible or haut - bas >= 2 * PROTECTION:
            continue
        voisine = _voisine([cellule], par_cellule, cellules, inconnues, connues)
        if voisine is not None:
            choix.append(voisine)
    return list(dict.fromkeys(choix))


def _par_cellule(sommes: dict[str, Equation]) -> dict[str, list[Equation]]:
    par_cellule: dict[str, list[Equation]] = defaultdict(list)
    for somme in sommes.values():
        for c, _ in somme.membres:
            par_cellule[c].append(somme)
    return par_cellule


def _voisine(depart: list[str], par_cellule: dict[str, list[Equation]], cellules: dict[str, Cellule],
             inconnues: set[str], connues: set[str], anneaux: int = 3) -> str | None:
    """The published cell to hide for cells `depart` pinned by the sums around them: among the
    cells of their sums (then of the sums of the unknown cells met, up to `anneaux` rings), one
    not known to the reader, not confirmed; non-zero, shown by the fewest figures, a part before
    a total, the smallest."""
    vues, anneau = set(depart), list(depart)
    for _ in range(anneaux):
        candidates = []
        suivant = []
        for c in anneau:
            for somme in par_cellule[c]:
                for autre, rang in somme.membres:
                    if autre in vues:
                        continue
                    vues.add(autre)
                    if autre in inconnues:
                        suivant.append(autre)
                    elif autre not in connues and not cellules[autre].confirmee:
                        candidates.append((autre, rang))
        if candidates:
            # The lightest first (hiding a count shown by many figures hides them all).
            candidates.sort(key=lambda cr: (cellules[cr[0]].valeur == 0, cellules[cr[0]].poids, cr[1],
                                            abs(cellules[cr[0]].valeur), cr[0]))
            return candidates[0][0]
        anneau = suivant
    return None


def _sensibles_lp(cellules: dict[str, Cellule], paires, secretes: dict, inconnues: set[str], profil: str | None,
                  propres: dict[str, float], seuil_effectif: int):
    """What the protection rule is applied to, for a reader who does not know `inconnues`:
    (cells to start the repair from, {cell: coefficient}, constant, true value, cap {cell: coefficient},
    cap constant). The public: each small secret count or complement, the k and n − k of a proportion on
    too few households (capped by its n). A landlord: the rest of each small count of a project it
    works in once its own households (`propres`) are taken out."""
    def expression(termes: dict[str, float]) -> tuple[dict[str, float], float]:
        expr, constante = {}, 0.0
        for c, a in termes.items():
            if c in inconnues:
                expr[c] = expr.get(c, 0.0) + a
            else:
                constante += a * cellules[c].valeur
        return expr, constante

    sortie = []
    if profil is None:
        for c in sorted(inconnues):
            if cellules[c].primaire:
                sortie.append(([c], {c: 1.0}, 0.0, cellules[c].valeur, None, 0.0))
        for n, k, insuffisant in paires:
            if not insuffisant or k not in cellules or n not in cellules:
                continue
            plafond = expression({n: 1.0})
            for termes in ({k: 1.0}, {n: 1.0, k: -1.0}):
                expr, constante = expression(termes)
                if expr:
                    vraie = sum(a * cellules[c].valeur for c, a in termes.items())
                    sortie.append((list(expr), expr, constante, vraie, plafond, 0.0))
        return sortie
    for c in sorted(inconnues):
        if c not in propres or not cellules[c].primaire:
            continue
        reste = cellules[c].valeur - propres[c]
        if petit(reste, seuil_effectif):
            sortie.append(([c], {c: 1.0}, -propres[c], reste, None, 0.0))
    return sortie


# Inequalities between the populations of the indicators, household by household, hence in every
# cell of the same households (same level, project and dimension, or same atom of the cube):
# Σ coefficient · measure ≤ 0 (indicators.md, populations).
INEGALITES = (
    (("expulse.k", 1), ("maintien.k", 1), ("adherents", -1)),
    (("expulse.k", 1), ("expulsion_evitee.k", 1), ("en_procedure", -1)),
    (("dette_resorbee.k", 1), ("dette_reduite.k", -1)),
    (("dette_sortie_connue", 1), ("en_dette_entree", -1)),
    (("loyer_a_jour.n", 1), ("adherents", -1)),
    (("en_dette_entree.n", 1), ("adherents", -1)),
    (("gain_energie_eur.n", 1), ("adherents", -1)),
)


def _inegalites(cellules: dict[str, Cellule]) -> list[list[tuple[str, float]]]:
    """INEGALITES written on the cells: [(cell, coefficient)] ≤ 0, one per group of the same households."""
    groupes: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for c in cellules:
        prefixe = "atome|" if c.startswith("atome|") else ""
        mesure, _, reste = c.removeprefix(prefixe).partition("|")
        groupes[(prefixe, reste)][mesure] = c
    lignes = []
    for mesures in groupes.values():
        for termes in INEGALITES:
            if all(m in mesures for m, _ in termes):
                lignes.append([(mesures[m], float(a)) for m, a in termes])
    return lignes


def _reparer_lp(sommes: dict[str, Equation], cellules: dict[str, Cellule], paires, secretes: dict,
                connues: dict[str | None, set[str]], seuil_effectif: int, revoir: dict | None = None) -> list[str]:
    """Cells to hide so that no sensitive cell is pinned, for the public or for a landlord, by the
    exact intervals of the linear programme over all the sums (every count non-negative, k ≤ n),
    under the audit's protection rule: one per pinned cell, among the sums around it (`_voisine`).

    `revoir` carries from one call to the next the cells found pinned, for each reader: hiding more
    cells only widens the intervals, so that the next call solves only for those (an empty dict:
    every reader, every sensitive cell)."""
    from capitalisation.publication.controle_secret import (
        INF,
        Systeme,
        borne_basse,
        entiers,
        protegee,
        seuils_audit,
    )

    seuils = seuils_audit(seuil_effectif)
    inegalites = _inegalites(cellules)
    # The cells around a pinned one: those of its sums and of its inequalities.
    par_cellule = _par_cellule({**sommes, **{f"inegalite:{i}": Equation(f"inegalite:{i}", None, [(c, 0) for c, _ in t])
                                             for i, t in enumerate(inegalites)}})
    # A landlord's part of each cell of the cube: the atoms of that cell that are its own.
    composition: dict[str, list[str]] = {}
    for somme in sommes.values():
        parties = [c for c, _ in somme.membres if c != somme.total]
        if parties and all(cellules[c].niveau == "atome" for c in parties):
            composition.setdefault(somme.total, parties)
    choix: list[str] = []
    premier = revoir is None or not revoir
    revoir = {} if revoir is None else revoir
    epinglees: dict = {}
    for profil, connues_profil in connues.items():
        if not premier and not revoir.get(profil):
            continue
        inconnues = {c for c, cellule in cellules.items()
                     if (c in secretes or cellule.implicite) and c not in connues_profil}
        propres = {}
        if profil is not None:
            projets = {cellules[c].projet_id for c in cellules
                       if cellules[c].bailleur == profil and cellules[c].niveau == "atome"}
            for total, parties in composition.items():
                if total in inconnues and cellules[total].projet_id in projets:
                    autres = {cellules[c].bailleur for c in parties} - {profil}
                    if autres:
                        propres[total] = sum(cellules[c].valeur for c in parties if cellules[c].bailleur == profil)
        sensibles = _sensibles_lp(cellules, paires, secretes, inconnues, profil, propres, seuil_effectif)
        if not premier:
            sensibles = [s for s in sensibles if (tuple(sorted(s[1])), s[3]) in revoir[profil]]
        if not sensibles:
            continue
        systeme = Systeme()
        # a cell's measure is « indicateur.mesure » (« gain_energie_eur.total ») or a population
        index = {c: systeme.variable(c, cellules[c].valeur, borne_basse(*cellules[c].mesure.partition(".")[::2]),
                                     groupe=cellules[c].projet_id) for c in sorted(inconnues)}
        for ligne, constante in _systemes([[(c, c == s.total) for c, _ in s.membres] for s in sommes.values()],
                                          {c: cellule.valeur for c, cellule in cellules.items()}, inconnues):
            systeme.egal({index[c]: a for c, a in ligne.items()}, constante)
        for n, k, _insuffisant in paires:
            if k in index or n in index:
                expr = {index[k]: 1.0} if k in index else {}
                if n in index:
                    expr[index[n]] = -1.0
                borne = 0.0 - (cellules[k].valeur if k not in index else 0.0) + (
                    cellules[n].valeur if n not in index else 0.0)
                systeme.contrainte(expr, -INF, borne)
        for termes in inegalites:
            expr, borne = {}, 0.0
            for c, a in termes:
                if c in index:
                    expr[index[c]] = expr.get(index[c], 0.0) + a
                else:
                    borne -= a * cellules[c].valeur
            systeme.contrainte(expr, -INF, borne)
        systeme.preparer()
        expressions, bas_voulu, haut_voulu, qui = [], [], [], []
        for j, (_depart, expr, constante, vraie, plafond, _c) in enumerate(sensibles):
            expressions.append({index[c]: a for c, a in expr.items()})
            bas_voulu.append(0.0 - constante)
            haut_voulu.append(max(vraie + PROTECTION, seuils.effectif + 1.0) - constante)
            qui.append((j, False))
            if plafond is not None and plafond[0]:
                expressions.append({index[c]: a for c, a in plafond[0].items()})
                bas_voulu.append(INF)
                haut_voulu.append(vraie + PROTECTION - plafond[1])
                qui.append((j, True))
        atteints = systeme.atteignables(expressions, bas_voulu, haut_voulu)
        intervalles_j: dict[int, tuple[float, float]] = {}
        plafonds: dict[int, float] = {}
        for (j, est_plafond), (bas, haut) in zip(qui, atteints):
            if est_plafond:
                plafonds[j] = haut + sensibles[j][4][1]
            else:
                intervalles_j[j] = (bas + sensibles[j][2], haut + sensibles[j][2])
        for j, (depart, expr, _constante, vraie, plafond, _c) in enumerate(sensibles):
            bas, haut = intervalles_j[j]
            bas, haut = entiers(bas, haut)
            cap = plafonds.get(j, plafond[1] if plafond is not None else INF)
            cap = math.floor(cap + 1e-6) if cap < INF else INF
            if protegee(vraie, bas, haut, seuils, cap):
                continue
            cle = (tuple(sorted(expr)), vraie)
            essais = revoir.get(profil, {}).get(cle, 0) + 1
            if essais > ESSAIS_LP:
                continue  # beyond repair around it: left to the audit, which refuses the publication
            epinglees.setdefault(profil, {})[cle] = essais
            voisine = _voisine(depart, par_cellule, cellules, inconnues, connues_profil, anneaux=8)
            if voisine is not None:
                choix.append(voisine)
    revoir.clear()
    revoir.update(epinglees)
    return list(dict.fromkeys(choix))


def _deductibles(connues: set[str], sommes: dict[str, Equation]) -> set[str]:
    """`connues` and every cell that sums give from them alone (a sum with one cell left)."""
    connues = set(connues)
    while True:
        ajout = False
        for somme in sommes.values():
            restes = [c for c, _ in somme.membres if c not in connues]
            if len(restes) == 1:
                connues.add(restes[0])
                ajout = True
        if not ajout:
            return connues


def _ouverte(somme: Equation, cellules: dict[str, Cellule], secretes: dict, connues: set[str]) -> str | None:
    """The cell to hide when, for a profile that knows `connues` besides what is published (the
    public; a landlord, who knows its own cells), the sum has exactly one unknown cell and that
    cell must stay unknown."""
    def connue(c: str) -> bool:
        return c in connues

    inconnues = [c for c, _ in somme.membres
                 if not connue(c) and (c in secretes or cellules[c].implicite)]
    if len(inconnues) != 1:
        return None
    seule = cellules[inconnues[0]]
    if not (seule.identifiant in secretes or (seule.implicite and seule.primaire)):
        return None
    candidates = [(c, rang) for c, rang in somme.membres
                  if c not in secretes and not cellules[c].implicite and not connue(c)]
    if not candidates:
        return None
    candidates.sort(key=lambda cr: (cellules[cr[0]].confirmee, cellules[cr[0]].valeur == 0, cr[1],
                                    cellules[cr[0]].poids, abs(cellules[cr[0]].valeur), cr[0]))
    return candidates[0][0]


def _bornes(paires, sommes: dict[str, Equation], cellules: dict[str, Cellule], secretes: dict):
    """(part n, part k, total k) for a part whose proportion is secret under a published total at
    0 % or 100 %."""
    par_k = {k: n for n, k, _ in paires}
    for somme in sommes.values():
        total_k = somme.total
        if total_k not in par_k or somme.identifiant.startswith("complement:"):
            continue
        total_n = par_k[total_k]
        if total_k in secretes or total_n in secretes:
            continue
        k, n = cellules[total_k].valeur, cellules[total_n].valeur
        if n <= 0 or 0 < k < n:
            continue
        for partie, _ in somme.membres:
            if partie == total_k or partie not in par_k:
                continue
            partie_n = par_k[partie]
            if partie in secretes or partie_n in secretes:
                yield partie_n, partie, total_k
                break


# --------------------------------------------------------------------------- interval audit

# PROTECTION (± households) and the protection rule are the audit's (controle_secret.protegee).
# Rounds of repair by linear programming (each hides one more cell per pinned cell, all at once),
# and repairs tried for one pinned cell.
TOURS_LP = 30
ESSAIS_LP = 20


def intervalles(cellules: pd.DataFrame, equations: pd.DataFrame, connues: set[str] | frozenset = frozenset(),
                cibles: set[str] | None = None) -> dict[str, tuple[float, float]]:
    """The interval an attacker reaches for each unknown cell (secret, or implicit; only those of
    `cibles` when given), by linear programming over the sums of `equations` with every other
    cell (and `connues`) known and every cell non-negative: {cell: (lowest, highest)}, highest
    infinite when unbounded.

    `cellules`: int_secret_cellules (cellule_id, valeur, secrete, implicite).
    """
    valeurs = dict(zip(cellules["cellule_id"], cellules["valeur"].astype(float)))
    inconnues = {c for c, s, i in zip(cellules["cellule_id"], cellules["secrete"], cellules["implicite"])
                 if (bool(s) or bool(i)) and c not in connues}
    sommes: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for equation, cellule, role in zip(equations["equation_id"], equations["cellule_id"], equations["role"]):
        sommes[equation].append((cellule, role == "total"))
    return _intervalles(list(sommes.values()), valeurs, inconnues, cibles)


def _systemes(sommes: list[list[tuple[str, bool]]], valeurs: dict[str, float],
              inconnues: set[str]) -> list[tuple[dict[str, float], float]]:
    """Each sum as {unknown cell: coefficient} = constant, the known cells moved to the right."""
    systemes = []
    for membres in sommes:
        ligne: dict[str, float] = {}
        constante = 0.0
        for cellule, est_total in membres:
            signe = 1.0 if est_total else -1.0
            if cellule in inconnues:
                ligne[cellule] = ligne.get(cellule, 0.0) + signe
            elif cellule in valeurs:
                constante -= signe * valeurs[cellule]
            else:
                ligne = {}
                break
        if ligne:
            systemes.append((ligne, constante))
    return systemes


def _propager(systemes: list[tuple[dict[str, float], float]], inconnues: set[str],
              tours: int = 60) -> dict[str, tuple[float, float]]:
    """Bounds of the unknown cells by propagation over the sums (each cell from the bounds of the
    others, every cell non-negative): wider than or equal to the linear programme's, and fast."""
    infini = float("inf")
    bornes = {c: [0.0, infini] for c in inconnues}
    for _ in range(tours):
        change = False
        for ligne, constante in systemes:
            # Σ a·x over the whole line, lowest and highest (with the count of infinite terms).
            somme_bas = somme_haut = 0.0
            infinis_bas = infinis_haut = 0
            for autre, a in ligne.items():
                lo, hi = bornes[autre]
                mini, maxi = (a * lo, a * hi) if a > 0 else (a * hi, a * lo)
                if mini == -infini:
                    infinis_bas += 1
                else:
                    somme_bas += mini
                if maxi == infini:
                    infinis_haut += 1
                else:
                    somme_haut += maxi
            for cellule, coefficient in ligne.items():
                lo, hi = bornes[cellule]
                mini, maxi = (coefficient * lo, coefficient * hi) if coefficient > 0 else (coefficient * hi,
                                                                                            coefficient * lo)
                # The others' Σ a·x, lowest and highest: the whole line's without this cell.
                autres_bas = -infini if infinis_bas - (mini == -infini) > 0 else somme_bas - (
                    0.0 if mini == -infini else mini)
                autres_haut = infini if infinis_haut - (maxi == infini) > 0 else somme_haut - (
                    0.0 if maxi == infini else maxi)
                # coefficient·x = constante − Σ others.
                bas, haut = constante - autres_haut, constante - autres_bas
                if coefficient < 0:
                    bas, haut = -haut, -bas
                borne = bornes[cellule]
                if bas > borne[0] + 1e-9:
                    borne[0] = bas
                    change = True
                if haut < borne[1] - 1e-9:
                    borne[1] = haut
                    change = True
        if not change:
            break
    return {c: (b[0], b[1]) for c, b in bornes.items()}


def _intervalles(sommes: list[list[tuple[str, bool]]], valeurs: dict[str, float], inconnues: set[str],
                 cibles: set[str] | None = None) -> dict[str, tuple[float, float]]:
    import numpy as np
    from scipy.optimize import linprog

    systemes = _systemes(sommes, valeurs, inconnues)
    parent = {c: c for c in inconnues}

    def racine(c):
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for ligne, _ in systemes:
        membres = list(ligne)
        for autre in membres[1:]:
            parent[racine(autre)] = racine(membres[0])
    groupes: dict[str, list] = defaultdict(list)
    for ligne, constante in systemes:
        groupes[racine(next(iter(ligne)))].append((ligne, constante))
    cibles = inconnues if cibles is None else cibles & inconnues
    resultat = {c: (0.0, float("inf")) for c in cibles}
    for lignes_groupe in groupes.values():
        variables = sorted({c for ligne, _ in lignes_groupe for c in ligne})
        visees = [c for c in variables if c in cibles]
        if not visees:
            continue
        index = {c: i for i, c in enumerate(variables)}
        a = np.zeros((len(lignes_groupe), len(variables)))
        b = np.zeros(len(lignes_groupe))
        for i, (ligne, constante) in enumerate(lignes_groupe):
            for c, coefficient in ligne.items():
                a[i, index[c]] = coefficient
            b[i] = constante
        for c in visees:
            objectif = np.zeros(len(variables))
            objectif[index[c]] = 1.0
            bas = linprog(objectif, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            haut = linprog(-objectif, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            resultat[c] = (bas.fun if bas.status == 0 else 0.0,
                           -haut.fun if haut.status == 0 else float("inf"))
    return resultat
