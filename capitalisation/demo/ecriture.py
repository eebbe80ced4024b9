"""Writing a delivery the way landlords' office tools do: CSV dialects and one workbook.

The tables, their columns and their types come from the contract (`capitalisation.contrat`).
Cells reach the writers as Python values: text, `datetime.date`, months as integer indices,
amounts as integer cents, measurements as floats, booleans.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from capitalisation import contrat
from capitalisation.demo.modele import Menage, premier_jour


@dataclass(frozen=True)
class FormatLivraison:
    """How one project's system writes its files."""

    description: str
    classeur: bool = False  # one workbook `export.xlsx` instead of CSV files
    encodage: str = "utf-8"  # `utf-8`, `utf-8-sig` (with BOM) or `cp1252`
    separateur: str = ","
    decimale: str = "."
    milliers: str = ""  # thousands separator of amounts: "", " " or "\u00a0"
    format_date: str = "%Y-%m-%d"
    format_mois: str = "%Y-%m"
    vrai: str = "true"
    faux: str = "false"
    fin_ligne: str = "\n"
    entetes: dict[str, str] = field(default_factory=dict)  # contract column -> header written
    decimales_nombre: int = 3

    def resume(self) -> dict:
        """The format as it is recorded in the truth file."""
        return {
            "description": self.description,
            "forme": "classeur export.xlsx" if self.classeur else "fichiers CSV",
            "encodage": None if self.classeur else self.encodage,
            "separateur": None if self.classeur else self.separateur,
            "decimale": None if self.classeur else self.decimale,
            "milliers": None if self.classeur else self.milliers,
            "format_date": "date Excel" if self.classeur else self.format_date,
            "format_mois": self.format_mois,
            "booleens": [self.vrai, self.faux],
            "fin_ligne": None if self.classeur else {"\r\n": "CRLF", "\n": "LF"}[self.fin_ligne],
            "entetes_modifies": dict(self.entetes),
        }


# --------------------------------------------------------------------------- rows


def lignes_tables(menages: list[Menage]) -> dict[str, list[dict]]:
    """The rows of every table of a delivery, in the contract's column names."""
    tables: dict[str, list[dict]] = {nom: [] for nom in contrat.TABLES}
    for m in menages:
        tables["menages"].append(
            {
                "menage_id": m.menage_id,
                "projet_id": m.projet_id,
                "bailleur_id": m.bailleur_id,
                "cohorte": m.cohorte,
                "volet": m.volet,
                "date_orientation": m.date_orientation,
                "date_debut_accompagnement": m.date_debut_accompagnement,
                "date_fin_accompagnement": m.date_fin_accompagnement,
                "motif_fin": m.motif_fin,
                "composition": m.composition,
                "tranche_age": m.tranche_age,
                "tranche_ressources": m.tranche_ressources,
                "loyer_mensuel": m.loyer_mensuel,
                "taux_effort": m.taux_effort,
                "departement": m.departement,
                "public_prioritaire": m.public_prioritaire,
                "origine_orientation": m.origine_orientation,
            }
        )
        for ligne in m.trajectoire.comptes:
            tables["comptes_mensuels"].append(
                {
                    "menage_id": m.menage_id,
                    "projet_id": m.projet_id,
                    "mois": ligne.mois,
                    "quittance": ligne.quittance,
                    "aide_logement": ligne.aide_logement,
                    "paiement": ligne.paiement,
                    "regularisation": ligne.regularisation,
                    "solde_fin_mois": ligne.solde_fin_mois,
                    "plan_apurement": ligne.plan_apurement,
                }
            )
        for date, type_evenement in m.trajectoire.evenements:
            tables["evenements"].append(
                {"menage_id": m.menage_id, "projet_id": m.projet_id, "date": date,
                 "type_evenement": type_evenement}
            )
        for date, type_contact, honore, intervenant in m.contacts:
            tables["contacts"].append(
                {"menage_id": m.menage_id, "projet_id": m.projet_id, "date": date,
                 "type_contact": type_contact, "honore": honore, "intervenant": intervenant}
            )
        for mois, fluide, quantite, montant in m.consommations:
            tables["consommations"].append(
                {"menage_id": m.menage_id, "projet_id": m.projet_id, "mois": mois,
                 "fluide": fluide, "quantite": quantite, "montant": montant}
            )
    return tables


# --------------------------------------------------------------------------- cells


def _grouper(entier: str, milliers: str) -> str:
    if not milliers:
        return entier
    groupes = []
    while len(entier) > 3:
        groupes.insert(0, entier[-3:])
        entier = entier[:-3]
    groupes.insert(0, entier)
    return milliers.join(groupes)


def formater_montant(centimes: int, fmt: FormatLivraison) -> str:
    signe = "-" if centimes < 0 else ""
    euros, reste = divmod(abs(int(centimes)), 100)
    return f"{signe}{_grouper(str(euros), fmt.milliers)}{fmt.decimale}{reste:02d}"


def formater_nombre(valeur: float, fmt: FormatLivraison) -> str:
    texte = f"{valeur:.{fmt.decimales_nombre}f}".rstrip("0").rstrip(".")
    entier, _, decimales = texte.partition(".")
    signe = "-" if entier.startswith("-") else ""
    entier = _grouper(entier.lstrip("-"), fmt.milliers)
    return f"{signe}{entier}{fmt.decimale}{decimales}" if decimales else f"{signe}{entier}"


def formater_cellule(valeur, type_colonne: str, fmt: FormatLivraison) -> str:
    if valeur is None:
        return ""
    if type_colonne == contrat.DATE:
        return valeur.strftime(fmt.format_date)
    if type_colonne == contrat.MOIS:
        return premier_jour(valeur).strftime(fmt.format_mois)
    if type_colonne == contrat.MONTANT:
        return formater_montant(valeur, fmt)
    if type_colonne == contrat.NOMBRE:
        return formater_nombre(valeur, fmt)
    if type_colonne == contrat.BOOLEEN:
        return fmt.vrai if valeur else fmt.faux
    return str(valeur)


# --------------------------------------------------------------------------- writers


def ecrire_csv(
    chemin: Path, table: contrat.Table, lignes: list[dict], fmt: FormatLivraison
) -> None:
    entetes = [fmt.entetes.get(nom, nom) for nom in table.noms_colonnes]
    with open(chemin, "w", encoding=fmt.encodage, newline="") as flux:
        ecrivain = csv.writer(flux, delimiter=fmt.separateur, lineterminator=fmt.fin_ligne)
        ecrivain.writerow(entetes)
        for ligne in lignes:
            ecrivain.writerow(
                [formater_cellule(ligne[c.nom], c.type, fmt) for c in table.colonnes]
            )


def ecrire_classeur(
    chemin: Path,
    tables: dict[str, list[dict]],
    fmt: FormatLivraison,
    date_extraction: dt.date,
) -> None:
    """One sheet per table; dates as real dates, amounts as numbers, no formula."""
    import xlsxwriter

    classeur = xlsxwriter.Workbook(
        str(chemin),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    # A fixed creation date keeps the file byte-identical from one run to the next.
    moment = dt.datetime.combine(date_extraction, dt.time(18, 0))
    classeur.set_properties({"created": moment})
    f_date = classeur.add_format({"num_format": "dd/mm/yyyy"})
    f_montant = classeur.add_format({"num_format": "#,##0.00"})
    f_nombre = classeur.add_format({"num_format": "0.000"})
    f_entete = classeur.add_format({"bold": True})
    for nom, lignes in tables.items():
        table = contrat.TABLES[nom]
        feuille = classeur.add_worksheet(nom)
        for j, colonne in enumerate(table.colonnes):
            feuille.write_string(0, j, fmt.entetes.get(colonne.nom, colonne.nom), f_entete)
        for i, ligne in enumerate(lignes, start=1):
            for j, colonne in enumerate(table.colonnes):
                valeur = ligne[colonne.nom]
                if valeur is None:
                    continue
                if colonne.type == contrat.DATE:
                    feuille.write_datetime(i, j, dt.datetime.combine(valeur, dt.time()), f_date)
                elif colonne.type == contrat.MONTANT:
                    feuille.write_number(i, j, valeur / 100, f_montant)
                elif colonne.type == contrat.NOMBRE:
                    feuille.write_number(i, j, float(valeur), f_nombre)
                else:
                    feuille.write_string(i, j, formater_cellule(valeur, colonne.type, fmt))
        feuille.freeze_panes(1, 0)
    classeur.close()


def ecrire_livraison(
    dossier: Path,
    menages: list[Menage],
    fmt: FormatLivraison,
    date_extraction: dt.date,
    avec_consommations: bool,
) -> dict[str, int]:
    """Write one delivery folder; returns the number of rows of each table written."""
    dossier.mkdir(parents=True, exist_ok=True)
    tables = lignes_tables(menages)
    if not avec_consommations:
        del tables["consommations"]
    if fmt.classeur:
        ecrire_classeur(dossier / contrat.CLASSEUR, tables, fmt, date_extraction)
    else:
        for nom, lignes in tables.items():
            ecrire_csv(dossier / f"{nom}.csv", contrat.TABLES[nom], lignes, fmt)
    return {nom: len(lignes) for nom, lignes in tables.items()}
