"""The French summary printed at the end of `capitalisation run`."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from rich.table import Table

from capitalisation import formats
from capitalisation.publication.secret import SECRET
from capitalisation.terminal import sortie

INDICATEURS_RESUME = (
    ("adhesion", "Adhésion"),
    ("loyer_a_jour", "Loyer à jour"),
    ("dette_reduite", "Dette réduite"),
    ("dette_resorbee", "Dette résorbée"),
    ("expulsion_evitee", "Expulsion évitée"),
    ("maintien", "Maintien dans le logement"),
    ("relogement", "Relogement ou mutation"),
    ("rdv_honores", "Rendez-vous honorés"),
    ("gain_energie_eur", "Gain mensuel sur les factures"),
)

STATUTS = {
    "confirme": "[green]confirmé[/green]",
    "non_confirme": "[red]non confirmé[/red]",
    "non_calculable": "[yellow]non calculable[/yellow]",
}


def lignes_resume(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """One row per project and indicator, with the published figure where there is one."""
    codes = ", ".join(f"'{code}'" for code, _ in INDICATEURS_RESUME)
    return con.execute(
        f"""
        select
            indicateurs.projet_id, indicateurs.indicateur, indicateurs.nature,
            indicateurs.n, indicateurs.k, indicateurs.valeur, indicateurs.ic_bas, indicateurs.ic_haut,
            indicateurs.cellules_secretes,
            publies.valeur_publiee, publies.type_valeur, publies.comparaison, publies.statut
        from pub_indicateurs_projet as indicateurs
        left join pub_reconciliation as publies
            on indicateurs.projet_id = publies.projet_id
            and indicateurs.indicateur = publies.indicateur
        where indicateurs.indicateur in ({codes})
        order by indicateurs.projet_id
        """
    ).fetchdf().to_dict("records")


def _cellules(ligne: dict) -> tuple[str, str, str]:
    """(k / n, recomputed value, interval), from the publication layer: « s » where secret."""
    n, k = ligne["n"], ligne["k"]
    if "valeur" in ligne["cellules_secretes"].split(","):
        return SECRET, SECRET, ""
    if ligne["nature"] == "montant":
        return formats.nombre(n), formats.euros(ligne["valeur"], 2), formats.intervalle(
            ligne["ic_bas"], ligne["ic_haut"], en_pourcentage=False
        )
    return (
        f"{formats.nombre(k)} / {formats.nombre(n)}",
        formats.pourcentage(ligne["valeur"]),
        formats.intervalle(ligne["ic_bas"], ligne["ic_haut"]),
    )


def _effectif(k) -> str:
    return SECRET if pd.isna(k) else formats.nombre(k)


# Below this width, one narrow table per project (the wide table would wrap its figures).
LARGEUR_LARGE = 120


def _publie(ligne: dict) -> str:
    if pd.isna(ligne["valeur_publiee"]):
        return ""
    prefixe = {"au_moins": "≥ ", "au_plus": "≤ ", "dans_intervalle": "≈ "}.get(ligne["comparaison"], "")
    if ligne["type_valeur"] == "proportion":
        return prefixe + formats.pourcentage(ligne["valeur_publiee"])
    return prefixe + formats.nombre(ligne["valeur_publiee"]) + " ménages"


def _titre_projet(projet: str, effectifs: dict) -> str:
    e = effectifs.get(projet, {})
    return (f"{projet}\n{_effectif(e.get('menages_accompagnes', 0))} accompagnés"
            f" / {_effectif(e.get('menages_orientes', 0))} orientés")


def tableaux_resume(lignes: list[dict], effectifs: dict, largeur: int) -> list:
    """The summary as rich renderables: one wide table, or a title and one narrow table per
    project (below LARGEUR_LARGE columns, so that no figure is cut on a 80-column terminal)."""
    from rich import box
    from rich.text import Text

    libelles = dict(INDICATEURS_RESUME)
    lignes = sorted(lignes, key=lambda r: (r["projet_id"], list(libelles).index(r["indicateur"])))
    titre = "Indicateurs recalculés à partir des livraisons (IC à 95 %, Wilson)"
    if largeur >= LARGEUR_LARGE:
        tableau = Table(title=titre)
        for entete in ("Projet", "Indicateur", "k / n", "Recalculé", "IC 95 %", "Publié", "Statut"):
            tableau.add_column(entete, justify="right" if entete in ("k / n", "Recalculé") else "left")
        projet_precedent = None
        for ligne in lignes:
            projet = ligne["projet_id"]
            if projet != projet_precedent and projet_precedent is not None:
                tableau.add_section()
            k_n, valeur, ic = _cellules(ligne)
            publie = _publie(ligne)
            statut = STATUTS.get(ligne["statut"], "") if publie else ""
            tableau.add_row(_titre_projet(projet, effectifs) if projet != projet_precedent else "",
                            libelles[ligne["indicateur"]], k_n, valeur, ic, publie, statut)
            projet_precedent = projet
        return [tableau]
    tableaux = []
    for projet in dict.fromkeys(r["projet_id"] for r in lignes):
        tableau = Table(title=_titre_projet(projet, effectifs).replace("\n", " : "), box=box.SIMPLE_HEAD,
                        padding=(0, 1), title_justify="left")
        tableau.add_column("Indicateur", ratio=1, min_width=12, overflow="fold")
        tableau.add_column("k / n", justify="right", no_wrap=True)
        tableau.add_column("Valeur", justify="right", no_wrap=True)
        tableau.add_column("IC 95 %", no_wrap=True)
        tableau.add_column("Publié : constat", min_width=8)
        for ligne in (r for r in lignes if r["projet_id"] == projet):
            k_n, valeur, ic = _cellules(ligne)
            publie = _publie(ligne)
            if publie and ligne["statut"] in STATUTS:
                publie = f"{publie} : {STATUTS[ligne['statut']]}"
            tableau.add_row(libelles[ligne["indicateur"]], k_n, valeur, ic, publie)
        tableaux.append(tableau)
    return [Text(titre, style="italic"), *tableaux] if tableaux else []


def afficher_resume(entrepot: Path) -> None:
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        lignes = lignes_resume(con)
        effectifs = {
            r["projet_id"]: r
            for r in con.execute("select * from pub_effectifs_projet").fetchdf().to_dict("records")
        }
    finally:
        con.close()
    for tableau in tableaux_resume(lignes, effectifs, sortie.width):
        sortie.print(tableau)
