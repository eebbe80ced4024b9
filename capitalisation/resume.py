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
    libelles = dict(INDICATEURS_RESUME)
    tableau = Table(title="Indicateurs recalculés à partir des livraisons (IC à 95 %, Wilson)")
    for titre in ("Projet", "Indicateur", "k / n", "Recalculé", "IC 95 %", "Publié", "Statut"):
        tableau.add_column(titre, justify="right" if titre in ("k / n", "Recalculé") else "left")
    projet_precedent = None
    for ligne in sorted(lignes, key=lambda r: (r["projet_id"], list(libelles).index(r["indicateur"]))):
        projet = ligne["projet_id"]
        if projet != projet_precedent and projet_precedent is not None:
            tableau.add_section()
        k_n, valeur, ic = _cellules(ligne)
        publie = ""
        if pd.notna(ligne["valeur_publiee"]):
            prefixe = {"au_moins": "≥ ", "au_plus": "≤ ", "dans_intervalle": "≈ "}.get(ligne["comparaison"], "")
            if ligne["type_valeur"] == "proportion":
                publie = prefixe + formats.pourcentage(ligne["valeur_publiee"])
            else:
                publie = prefixe + formats.nombre(ligne["valeur_publiee"]) + " ménages"
        statut = STATUTS.get(ligne["statut"], "") if publie else ""
        titre_projet = ""
        if projet != projet_precedent:
            e = effectifs.get(projet, {})
            titre_projet = (
                f"{projet}\n{_effectif(e.get('menages_accompagnes', 0))} accompagnés"
                f" / {_effectif(e.get('menages_orientes', 0))} orientés"
            )
        tableau.add_row(titre_projet, libelles[ligne["indicateur"]], k_n, valeur, ic, publie, statut)
        projet_precedent = projet
    sortie.print(tableau)
