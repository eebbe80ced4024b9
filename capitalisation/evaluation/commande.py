"""`capitalisation comparer`: the comparison on a cohort table the evaluator brings.

Reads a CSV (separator `;`, `,` or tab, sniffed; decimal comma or point; UTF-8 or
Windows-1252) or Parquet file, checks the columns, runs the balance table and every
estimate of `moteur.comparer_resultat`, and prints them in French (rich tables) or, with
--json, as JSON on standard output (numbers as numbers, NaN as null).
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.evaluation import modeles, moteur

_MANQUANTS = {"", "na", "n/a", "nan", "null", "none", "#n/a"}
_NOMBRE_FR = re.compile(r"^[+-]?(\d{1,3}([ \u00a0\u202f]\d{3})+|\d+)(,\d+)?$")
_NOMBRE_POINT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def _nombre(texte: str) -> float | None:
    t = texte.strip()
    if _NOMBRE_POINT.match(t):
        return float(t)
    if _NOMBRE_FR.match(t):
        return float(re.sub(r"[ \u00a0\u202f]", "", t).replace(",", "."))
    return None


def _typer_colonne(serie: pd.Series) -> pd.Series:
    """Numbers (decimal comma or point) become floats; anything else stays text."""
    textes = [None if pd.isna(v) or str(v).strip().lower() in _MANQUANTS else str(v).strip()
              for v in serie.tolist()]
    presents = [v for v in textes if v is not None]
    if not presents:
        return pd.Series(np.nan, index=serie.index, name=serie.name, dtype=float)
    nombres = [None if v is None else _nombre(v) for v in textes]
    if all(nombre is not None for nombre, v in zip(nombres, textes) if v is not None):
        return pd.Series([np.nan if x is None else x for x in nombres], index=serie.index,
                         name=serie.name, dtype=float)
    return pd.Series(textes, index=serie.index, name=serie.name, dtype=object)


def lire_csv(chemin: Path) -> pd.DataFrame:
    brut = chemin.read_bytes()
    for encodage in ("utf-8-sig", "cp1252"):
        try:
            texte = brut.decode(encodage)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly anything
        raise ErreurUtilisateur(f"encodage illisible (ni UTF-8 ni Windows-1252) : {chemin}")
    lignes = [ligne for ligne in texte.splitlines() if ligne.strip()]
    if not lignes:
        raise ErreurUtilisateur(f"fichier vide : {chemin}")
    entete = lignes[0]
    separateur = max([";", "\t", ","], key=entete.count)
    if entete.count(separateur) == 0:
        # Whitespace-delimited text (as some published datasets are distributed).
        separateur = r"\s+" if len(entete.split()) > 1 else ","
    try:
        table = pd.read_csv(io.StringIO(texte), sep=separateur, dtype=str, keep_default_na=False,
                            skip_blank_lines=True)
    except (pd.errors.ParserError, ValueError) as exc:
        raise ErreurUtilisateur(f"fichier CSV illisible : {chemin} ({exc})") from exc
    table.columns = [str(c).strip().lstrip("\ufeff") for c in table.columns]
    return pd.DataFrame({col: _typer_colonne(table[col]) for col in table.columns})


def lire_table(chemin: Path | str) -> pd.DataFrame:
    """A cohort table from CSV or Parquet (by extension; anything else is read as CSV)."""
    chemin = Path(chemin)
    if not chemin.is_file():
        raise ErreurUtilisateur(f"fichier introuvable : {chemin}")
    if chemin.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(chemin)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise ErreurUtilisateur(f"fichier Parquet illisible : {chemin} ({exc})") from exc
    return lire_csv(chemin)


# ---------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------


def _liste(texte: str | None) -> list[str]:
    """Comma-separated column names, blanks and duplicates removed, order kept."""
    return list(dict.fromkeys(c.strip() for c in (texte or "").split(",") if c.strip()))


def verifier_colonnes(table: pd.DataFrame, colonnes: list[str]) -> None:
    for col in colonnes:
        if col not in table.columns:
            disponibles = ", ".join(map(str, table.columns))
            raise ErreurUtilisateur(
                f"colonne « {col} » absente du fichier (colonnes disponibles : {disponibles})")


def comparer_table(
    table: pd.DataFrame,
    traitement: str,
    resultats: list[str],
    covariables: list[str],
    grappe: str | None = None,
) -> dict:
    """Balance table, estimates and power of a cohort table; the library entry of `comparer`."""
    verifier_colonnes(table, [traitement] + resultats + covariables + ([grappe] if grappe else []))
    for col in resultats + covariables:
        if col == traitement:
            raise ErreurUtilisateur(
                f"la colonne de traitement « {traitement} » ne peut pas être aussi un résultat "
                "ou une covariable")
    for col in resultats:
        if col in covariables:
            raise ErreurUtilisateur(
                f"la colonne « {col} » ne peut pas être à la fois un résultat et une covariable")
    t = moteur.convertir_traitement(table[traitement])
    if not ((t == 1).any() and (t == 0).any()):
        raise ErreurUtilisateur(
            f"la colonne de traitement « {traitement} » doit contenir des accompagnés (1) et "
            "des témoins (0)")
    equilibre = moteur.tableau_equilibre(table, traitement, covariables)
    estimations, puissance, types = [], [], {}
    for resultat in resultats:
        _, type_resultat = moteur.convertir_resultat(table[resultat])
        types[resultat] = type_resultat
        lignes = moteur.comparer_resultat(table, traitement, resultat, covariables, grappe)
        estimations.append(lignes)
        mdd = lignes.loc[lignes["methode"] == "puissance_mdd", "estimation"]
        taille = lignes.loc[lignes["methode"] == "puissance_taille", "estimation"]
        brute = lignes.loc[lignes["methode"].isin(["difference_brute", "difference_moyennes"]),
                           "estimation"]
        puissance.append({
            "resultat": resultat,
            "type": type_resultat,
            "difference_minimale_detectable": float(mdd.iloc[0]) if len(mdd) else math.nan,
            "difference_observee": float(brute.iloc[0]) if len(brute) else math.nan,
            "taille_necessaire_par_groupe": (moteur.taille_necessaire_observee(lignes)
                                          if type_resultat == "binaire" else None),
            "taille_par_groupe_ecart_cible": (int(taille.iloc[0]) if len(taille)
                                              and pd.notna(taille.iloc[0]) else None),
            "ecart_cible": (moteur.ECART_CIBLE if type_resultat == "binaire"
                            else moteur.ECART_RELATIF_CIBLE),
        })
    erreurs = modeles.choisir_erreurs(table[grappe].to_numpy() if grappe else None)
    return {
        "traitement": traitement, "resultats": resultats, "types": types, "covariables": covariables,
        "grappe": grappe, "erreurs": erreurs.libelle, "n_menages": len(table),
        "n_traites": int((t == 1).sum()), "n_temoins": int((t == 0).sum()),
        "equilibre": equilibre, "estimations": pd.concat(estimations, ignore_index=True),
        "puissance": puissance,
    }


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def _propre(valeur):
    """JSON-ready value: NaN/NA -> None, numpy scalars -> Python numbers."""
    if valeur is None or valeur is pd.NA:
        return None
    if isinstance(valeur, (np.bool_, bool)):
        return bool(valeur)
    if isinstance(valeur, (np.integer, int)):
        return int(valeur)
    if isinstance(valeur, (np.floating, float)):
        return float(valeur) if math.isfinite(valeur) else None
    return valeur


def _lignes_json(table: pd.DataFrame) -> list[dict]:
    return [{col: _propre(v) for col, v in ligne.items()} for ligne in table.to_dict("records")]


def en_json(resultat: dict, fichier: str) -> str:
    sortie = {
        "fichier": fichier,
        **{cle: resultat[cle] for cle in ("traitement", "resultats", "types", "covariables",
                                           "grappe", "erreurs", "n_menages", "n_traites",
                                           "n_temoins")},
        "equilibre": _lignes_json(resultat["equilibre"]),
        "estimations": _lignes_json(resultat["estimations"]),
        "puissance": [{k: _propre(v) for k, v in p.items()} for p in resultat["puissance"]],
    }
    return json.dumps(sortie, ensure_ascii=False, indent=2, allow_nan=False)


def nombre_fr(x, decimales: int = 3) -> str:
    """French number: decimal comma, narrow no-break space between thousands; '–' if missing."""
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "−∞"
    texte = f"{x:,.{decimales}f}".replace(",", "\u202f").replace(".", ",")
    return texte.replace("-", "−")


def _valeur(x, binaire: bool, methode: str, decimales: int = 2) -> str:
    if methode in ("rapport_risques", "cox", "logrank"):
        return nombre_fr(x, 2)
    if methode == "puissance_taille":
        return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else (
            f"{nombre_fr(x, 0)} ménages")
    if binaire:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "–"
        signe = "+" if x > 0 and methode != "puissance_mdd" else ""
        return f"{signe}{nombre_fr(100 * x, 1)} pts"
    return nombre_fr(x, decimales)


def _proportion(x, binaire: bool, decimales: int = 2) -> str:
    if binaire:
        return "–" if x is None or math.isnan(x) else f"{nombre_fr(100 * x, 1)} %"
    return nombre_fr(x, decimales)


def _decimales(lignes: pd.DataFrame) -> int:
    """Decimals for a continuous outcome: none for amounts in the hundreds or more."""
    echelle = lignes[["p_traites", "p_temoins"]].abs().max().max()
    return 0 if pd.notna(echelle) and echelle >= 100 else 2


def _p(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return "< 0,001" if x < 0.001 else nombre_fr(x, 3)


def afficher(resultat: dict, fichier: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=170)
    console.print(f"[bold]Comparaison accompagnés / témoins[/bold] — {fichier}")
    console.print(
        f"{resultat['n_menages']} ménages : {resultat['n_traites']} accompagnés (traitement = 1), "
        f"{resultat['n_temoins']} témoins (traitement = 0). Covariables : "
        f"{', '.join(resultat['covariables']) or 'aucune'}. Erreurs types {resultat['erreurs']}.")

    eq = resultat["equilibre"]
    if len(eq):
        table = Table(title="Équilibre des covariables (différences moyennes standardisées)")
        for titre in ("Covariable", "Niveau", "Moy. accompagnés", "Moy. témoins", "DMS avant",
                      "DMS après pondération", "Déséquilibre"):
            table.add_column(titre, no_wrap=True)
        for ligne in eq.itertuples():
            table.add_row(ligne.covariable, ligne.niveau or "", nombre_fr(ligne.moyenne_traites),
                          nombre_fr(ligne.moyenne_temoins), nombre_fr(ligne.smd_avant),
                          nombre_fr(ligne.smd_apres), "oui" if ligne.desequilibre_avant or ligne.desequilibre_apres else "")
        console.print(table)
        console.print(f"Déséquilibre : |DMS| > {nombre_fr(moteur.SEUIL_SMD, 1)} avant ou après "
                      "pondération (poids ATT du score de propension).")

    for puissance in resultat["puissance"]:
        nom = puissance["resultat"]
        binaire = puissance["type"] == "binaire"
        lignes = resultat["estimations"][resultat["estimations"]["resultat"] == nom]
        table = Table(title=f"Résultat « {nom} » ({'binaire' if binaire else 'continu'})")
        for titre in ("Méthode", "n acc.", "k acc.", "n tém.", "k tém.",
                      "Accompagnés" if not binaire else "% acc.",
                      "Témoins" if not binaire else "% tém.", "Estimation", "IC à 95 %", "p",
                      "Taille eff."):
            table.add_column(titre, no_wrap=True)
        avertissements: dict[str, list[str]] = {}
        dec = _decimales(lignes)
        for ligne in lignes.itertuples():
            entier = lambda v: "–" if pd.isna(v) else str(int(v))
            ic = ("–" if pd.isna(ligne.ic_bas) else
                  f"{_valeur(ligne.ic_bas, binaire, ligne.methode, dec)} ; "
                  f"{_valeur(ligne.ic_haut, binaire, ligne.methode, dec)}")
            table.add_row(
                moteur.METHODES.get(ligne.methode, ligne.methode), entier(ligne.n_traites),
                entier(ligne.k_traites), entier(ligne.n_temoins), entier(ligne.k_temoins),
                _proportion(ligne.p_traites, binaire, dec), _proportion(ligne.p_temoins, binaire, dec),
                _valeur(ligne.estimation, binaire, ligne.methode, dec), ic, _p(ligne.p_valeur),
                nombre_fr(ligne.ess, 1))
            for morceau in filter(None, (ligne.avertissements or "").split(" | ")):
                avertissements.setdefault(morceau, []).append(ligne.methode)
        console.print(table)
        mdd = puissance["difference_minimale_detectable"]
        if binaire:
            phrase = (f"Puissance : avec ces effectifs, la plus petite différence de proportion "
                      f"détectable (puissance 80 %, test bilatéral à 5 %) est de "
                      f"{nombre_fr(100 * mdd, 1) if not math.isnan(mdd) else '–'} points.")
            n_requis = puissance["taille_necessaire_par_groupe"]
            if n_requis:
                phrase += (f" Pour détecter la différence observée "
                           f"({nombre_fr(100 * puissance['difference_observee'], 1)} points), il "
                           f"faudrait {n_requis} ménages par groupe.")
            ecart = (f"{nombre_fr(100 * moteur.ECART_CIBLE, 0)} points avec la proportion des "
                     f"témoins, dans un sens ou dans l'autre")
        else:
            phrase = (f"Puissance : avec ces effectifs, la plus petite différence de moyennes "
                      f"détectable (puissance 80 %, test bilatéral à 5 %) est de "
                      f"{nombre_fr(mdd, dec)}.")
            ecart = f"{nombre_fr(100 * moteur.ECART_RELATIF_CIBLE, 0)} % de la moyenne des témoins"
        taille = puissance["taille_par_groupe_ecart_cible"]
        if taille:
            phrase += f" Pour détecter un écart de {ecart}, il faudrait {taille} ménages par groupe."
        console.print(phrase)
        if avertissements:
            console.print("[bold]Avertissements[/bold]")
            for morceau, methodes in avertissements.items():
                console.print(f"  • {morceau} (méthodes : {', '.join(methodes)})", highlight=False)


def comparer_commande(args) -> int:
    """Entry point of `capitalisation comparer` (arguments parsed by cli.py)."""
    table = lire_table(args.fichier)
    resultats = _liste(args.resultat)
    if not resultats:
        raise ErreurUtilisateur("aucune colonne de résultat indiquée (--resultat)")
    resultat = comparer_table(table, args.traitement, resultats, _liste(args.covariables),
                              args.grappe or None)
    if args.json:
        print(en_json(resultat, str(args.fichier)))
    else:
        afficher(resultat, str(args.fichier))
    return 0
