"""`capitalisation comparer`: the comparison on a cohort table the evaluator brings.

Reads a CSV (separator `;`, `,` or tab, sniffed; decimal comma or point; UTF-8 or
Windows-1252), XLSX (first sheet) or Parquet file, checks the columns, runs the balance
table and every estimate of `moteur.comparer_resultat`, and prints them in French (rich
tables, warnings as French sentences) or, with --json, as JSON on standard output
(numbers as numbers, NaN as null, warnings with their machine codes).

A column whose values are mostly numbers but not all (« NSP » in an amount) is refused
with the lines concerned, unless it is declared categorical (--categorielles).
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
    """Numbers (decimal comma or point) become floats; anything else stays text. A text
    column whose values are mostly numbers records the positions of the others in
    `attrs["non_nombres"]` (checked when the column is used)."""
    textes = [None if pd.isna(v) or str(v).strip().lower() in _MANQUANTS else str(v).strip()
              for v in serie.tolist()]
    presents = [v for v in textes if v is not None]
    if not presents:
        return pd.Series(np.nan, index=serie.index, name=serie.name, dtype=float)
    nombres = [None if v is None else _nombre(v) for v in textes]
    if all(nombre is not None for nombre, v in zip(nombres, textes) if v is not None):
        return pd.Series([np.nan if x is None else x for x in nombres], index=serie.index,
                         name=serie.name, dtype=float)
    sortie = pd.Series(textes, index=serie.index, name=serie.name, dtype=object)
    autres = [i for i, (nombre, v) in enumerate(zip(nombres, textes)) if v is not None and nombre is None]
    if len(autres) <= len(presents) / 2:
        sortie.attrs["non_nombres"] = autres
    return sortie


def _typer_table(table: pd.DataFrame) -> pd.DataFrame:
    colonnes = {col: _typer_colonne(table[col]) for col in table.columns}
    sortie = pd.DataFrame(colonnes)
    sortie.attrs["non_nombres"] = {col: s.attrs["non_nombres"] for col, s in colonnes.items()
                                   if "non_nombres" in s.attrs}
    return sortie


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
    return _typer_table(table)


def lire_xlsx(chemin: Path) -> pd.DataFrame:
    """The first sheet of a workbook (python-calamine), first row as header."""
    from python_calamine import CalamineWorkbook

    from capitalisation.lecture import _valeur_cellule

    try:
        classeur = CalamineWorkbook.from_path(str(chemin))
        lignes = classeur.get_sheet_by_index(0).to_python(skip_empty_area=True)
    except Exception as exc:  # calamine raises its own error types
        raise ErreurUtilisateur(f"classeur illisible : {chemin} ({type(exc).__name__})") from None
    lignes = [ligne for ligne in lignes if any(v not in (None, "") for v in ligne)]
    if not lignes:
        raise ErreurUtilisateur(f"classeur vide : {chemin}")
    entete = [str(v).strip() for v in lignes[0]]
    corps = [[_valeur_cellule(v) for v in ligne] + [""] * (len(entete) - len(ligne))
             for ligne in lignes[1:]]
    table = pd.DataFrame([ligne[:len(entete)] for ligne in corps], columns=entete, dtype=str)
    return _typer_table(table)


def lire_table(chemin: Path | str) -> pd.DataFrame:
    """A cohort table from CSV, XLSX or Parquet (by extension; anything else is read as CSV)."""
    chemin = Path(chemin)
    if not chemin.is_file():
        raise ErreurUtilisateur(f"fichier introuvable : {chemin}")
    if chemin.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(chemin)
        except Exception as exc:  # pyarrow raises several unrelated types
            raise ErreurUtilisateur(f"fichier Parquet illisible : {chemin} ({exc})") from exc
    if chemin.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        return lire_xlsx(chemin)
    if chemin.read_bytes()[:4] == b"PK\x03\x04":
        return lire_xlsx(chemin)
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


def verifier_nombres(table: pd.DataFrame, colonnes: list[str], fichier: str | None = None) -> None:
    """A used column with mostly numbers and some other values: refused, with its lines."""
    non_nombres = table.attrs.get("non_nombres", {})
    for col in colonnes:
        positions = non_nombres.get(col)
        if positions:
            valeurs = sorted({str(table[col].iloc[i]) for i in positions})[:5]
            lieu = f"{fichier} : " if fichier else ""
            raise ErreurUtilisateur(
                f"{lieu}colonne « {col} » : valeurs non numériques dans une colonne de nombres "
                f"({moteur._citer_lignes(np.asarray(positions))} : {', '.join(valeurs)}). "
                "Corriger ou vider ces cases, ou déclarer la colonne catégorielle avec "
                "--categorielles")


def comparer_table(
    table: pd.DataFrame,
    traitement: str,
    resultats: list[str],
    covariables: list[str],
    grappe: str | None = None,
    *,
    categorielles: list[str] | tuple[str, ...] = (),
    estimande: str = "ATT",
    puissance: float | None = None,
    ecart_cible: float | None = None,
    rognage: float | None = None,
    fichier: str | None = None,
) -> dict:
    """Balance table, estimates and power of a cohort table; the library entry of `comparer`."""
    verifier_colonnes(table, [traitement] + resultats + covariables + ([grappe] if grappe else [])
                      + list(categorielles))
    for col in resultats + covariables:
        if col == traitement:
            raise ErreurUtilisateur(
                f"la colonne de traitement « {traitement} » ne peut pas être aussi un résultat "
                "ou une covariable")
    for col in resultats:
        if col in covariables:
            raise ErreurUtilisateur(
                f"la colonne « {col} » ne peut pas être à la fois un résultat et une covariable")
    verifier_nombres(table, resultats + [c for c in covariables if c not in categorielles], fichier)
    t = moteur.convertir_traitement(table[traitement])
    if not ((t == 1).any() and (t == 0).any()):
        raise ErreurUtilisateur(
            f"la colonne de traitement « {traitement} » doit contenir des accompagnés (1) et "
            "des témoins (0)")
    estimande = (estimande or "ATT").upper()
    equilibre = moteur.tableau_equilibre(table, traitement, covariables, estimande=estimande,
                                         categorielles=categorielles)
    estimations, puissances, types, manquants = [], [], {}, {}
    for resultat in resultats:
        valeurs, type_resultat = moteur.convertir_resultat(table[resultat])
        types[resultat] = type_resultat
        manquants[resultat] = {"accompagnes": int(valeurs[t == 1].isna().sum()),
                               "temoins": int(valeurs[t == 0].isna().sum())}
        lignes = moteur.comparer_resultat(table, traitement, resultat, covariables, grappe,
                                          estimande=estimande, categorielles=categorielles,
                                          puissance=puissance, ecart_cible=ecart_cible,
                                          rognage=rognage)
        estimations.append(lignes)
        mdd = lignes.loc[lignes["methode"] == "puissance_mdd", "estimation"]
        taille = lignes.loc[lignes["methode"] == "puissance_taille", "estimation"]
        brute = lignes.loc[lignes["methode"].isin(["difference_brute", "difference_moyennes"]),
                           "estimation"]
        niveau = moteur.PUISSANCE if puissance is None else puissance
        puissances.append({
            "resultat": resultat,
            "type": type_resultat,
            "test": "exact de Fisher" if type_resultat == "binaire" else "t de Welch",
            "puissance": niveau,
            "difference_minimale_detectable": float(mdd.iloc[0]) if len(mdd) else math.nan,
            "difference_observee": float(brute.iloc[0]) if len(brute) else math.nan,
            "taille_necessaire_par_groupe": (moteur.taille_necessaire_observee(lignes, niveau)
                                             if type_resultat == "binaire" else None),
            "taille_par_groupe_ecart_cible": (int(taille.iloc[0]) if len(taille)
                                              and pd.notna(taille.iloc[0]) else None),
            "ecart_cible": (ecart_cible if ecart_cible is not None else
                            moteur.ECART_CIBLE if type_resultat == "binaire"
                            else moteur.ECART_RELATIF_CIBLE),
        })
    erreurs = modeles.choisir_erreurs(table[grappe].to_numpy() if grappe else None)
    # The propensity model of the balance table (every household of the file), as an
    # evaluator compares it with a published fit.
    design = moteur.design_du_modele(moteur.preparer_covariables(table, covariables, categorielles))
    propension = (modeles.resume_propension(t, design.x, design.colonnes) if design.colonnes
                  else None)
    return {
        "traitement": traitement, "resultats": resultats, "types": types, "covariables": covariables,
        "categorielles": list(categorielles), "estimande": estimande, "rognage": rognage,
        "grappe": grappe, "erreurs": erreurs.libelle, "n_menages": len(table),
        "n_traites": int((t == 1).sum()), "n_temoins": int((t == 0).sum()),
        "resultats_manquants": manquants,
        "modele_propension": propension,
        "equilibre": equilibre,
        "estimations": moteur.ajouter_holm(pd.concat(estimations, ignore_index=True)),
        "puissance": puissances,
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
                                           "categorielles", "estimande", "rognage", "grappe",
                                           "erreurs", "n_menages", "n_traites", "n_temoins",
                                           "resultats_manquants")},
        "modele_propension": (None if resultat["modele_propension"] is None else {
            cle: ([{k: _propre(v) for k, v in c.items()} for c in valeur] if cle == "coefficients"
                  else _propre(valeur))
            for cle, valeur in resultat["modele_propension"].items()}),
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


def _entier(v) -> str:
    return "–" if pd.isna(v) else str(int(v))


def _groupe(n, k, p, binaire: bool, dec: int) -> str:
    """« k/n (p %) » for a binary outcome, « mean (n = n) » for a continuous one."""
    if binaire:
        return f"{_entier(k)}/{_entier(n)} ({_proportion(p, binaire, dec)})"
    return f"{_proportion(p, binaire, dec)} (n = {_entier(n)})"


def _message(morceau: str) -> str:
    """The French sentence of a "code: message" warning."""
    code, _, message = morceau.partition(": ")
    return (message or code).strip()


def afficher(resultat: dict, fichier: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=170)
    estimande = resultat["estimande"]
    console.print(f"[bold]Comparaison accompagnés / témoins[/bold] — {fichier}")
    console.print(
        f"{resultat['n_menages']} ménages : {resultat['n_traites']} accompagnés, "
        f"{resultat['n_temoins']} témoins. Covariables : "
        f"{', '.join(resultat['covariables']) or 'aucune'}"
        + (f" (catégorielles : {', '.join(resultat['categorielles'])})" if resultat["categorielles"] else "")
        + f". Estimande : {'effet sur les accompagnés (ATT)' if estimande == 'ATT' else 'effet moyen (ATE)'}"
        + (f", rognage des scores hors de [{nombre_fr(resultat['rognage'], 2)} ; "
           f"{nombre_fr(1 - resultat['rognage'], 2)}]" if resultat.get("rognage") else "")
        + f". Erreurs types {resultat['erreurs']}.", highlight=False)
    for nom, manque in resultat["resultats_manquants"].items():
        if manque["accompagnes"] or manque["temoins"]:
            console.print(f"Résultat « {nom} » manquant pour {manque['accompagnes']} accompagné(s) "
                          f"et {manque['temoins']} témoin(s) : ces ménages sont exclus de ses "
                          "estimations.", highlight=False)

    propension = resultat.get("modele_propension")
    if propension and propension["log_vraisemblance"] is not None:
        console.print(f"Score de propension : modèle logistique ({propension['methode']}), "
                      f"log-vraisemblance {nombre_fr(propension['log_vraisemblance'], 2)}.",
                      highlight=False)

    eq = resultat["equilibre"]
    if len(eq):
        table = Table(title="Équilibre des covariables (différences standardisées, rapports de "
                            "variances, Kolmogorov-Smirnov)")
        for titre in ("Covariable", "Niveau", "Moy. acc.", "Moy. tém.", "Moy. tém. pondérée",
                      "DMS avant", "DMS après", "RV avant", "RV après", "KS avant", "KS après",
                      "Désé. avant", "Désé. après"):
            table.add_column(titre, no_wrap=True)
        for ligne in eq.itertuples():
            table.add_row(ligne.covariable, ligne.niveau or "", nombre_fr(ligne.moyenne_traites),
                          nombre_fr(ligne.moyenne_temoins), nombre_fr(ligne.moyenne_ponderee_temoins),
                          nombre_fr(ligne.smd_avant), nombre_fr(ligne.smd_apres),
                          nombre_fr(ligne.ratio_variance_avant, 2), nombre_fr(ligne.ratio_variance_apres, 2),
                          nombre_fr(ligne.ks_avant), nombre_fr(ligne.ks_apres),
                          "oui" if ligne.desequilibre_avant else "", "oui" if ligne.desequilibre_apres else "")
        console.print(table)
        denominateur = ("l'écart type des accompagnés" if estimande == "ATT"
                        else "l'écart type moyen des deux groupes")
        console.print(f"Différence standardisée (DMS) : écart des moyennes divisé par {denominateur}, "
                      f"avant et après pondération ; déséquilibre : |DMS| > "
                      f"{nombre_fr(moteur.SEUIL_SMD, 1)}. RV : rapport des variances (accompagnés / "
                      "témoins), variables continues.", highlight=False)

    for puissance in resultat["puissance"]:
        nom = puissance["resultat"]
        binaire = puissance["type"] == "binaire"
        lignes = resultat["estimations"][resultat["estimations"]["resultat"] == nom]
        table = Table(title=f"Résultat « {nom} » ({'binaire' if binaire else 'continu'})")
        for titre in ("Méthode", "Accompagnés", "Témoins", "Estimation", "IC à 95 %", "p",
                      "p Holm", "p perm.", "E-valeur", "Taille eff."):
            table.add_column(titre, no_wrap=titre != "Méthode")
        avertissements: dict[str, list[str]] = {}
        dec = _decimales(lignes)
        for ligne in lignes.itertuples():
            ic = ("–" if pd.isna(ligne.ic_bas) else
                  f"{_valeur(ligne.ic_bas, binaire, ligne.methode, dec)} ; "
                  f"{_valeur(ligne.ic_haut, binaire, ligne.methode, dec)}")
            table.add_row(
                moteur.METHODES.get(ligne.methode, ligne.methode),
                _groupe(ligne.n_traites, ligne.k_traites, ligne.p_traites, binaire, dec),
                _groupe(ligne.n_temoins, ligne.k_temoins, ligne.p_temoins, binaire, dec),
                _valeur(ligne.estimation, binaire, ligne.methode, dec), ic, _p(ligne.p_valeur),
                _p(ligne.p_holm), _p(ligne.p_permutation), nombre_fr(ligne.e_valeur, 2),
                nombre_fr(ligne.ess, 1))
            for morceau in filter(None, (ligne.avertissements or "").split(" | ")):
                avertissements.setdefault(_message(morceau), []).append(
                    moteur.METHODES.get(ligne.methode, ligne.methode))
        console.print(table)
        for ligne in lignes.itertuples():
            details = []
            if ligne.covariables_utilisees:
                details.append(f"covariables utilisées : {ligne.covariables_utilisees}")
            if ligne.covariables_ecartees:
                details.append(f"écartées : {ligne.covariables_ecartees}")
            if ligne.methode_inference:
                details.append(f"inférence : {ligne.methode_inference}")
            if not pd.isna(ligne.ic_permutation_bas):
                details.append("intervalle par randomisation : "
                               f"{_valeur(ligne.ic_permutation_bas, binaire, ligne.methode, dec)} ; "
                               f"{_valeur(ligne.ic_permutation_haut, binaire, ligne.methode, dec)}")
            if details:
                console.print(f"  {moteur.METHODES.get(ligne.methode, ligne.methode)} — "
                              + " ; ".join(details), highlight=False)
        mdd = puissance["difference_minimale_detectable"]
        niveau = nombre_fr(100 * puissance["puissance"], 0)
        test = f"test {puissance['test']} bilatéral à 5 %"
        if binaire:
            phrase = (f"Puissance : avec ces effectifs, la plus petite différence de proportion "
                      f"détectable (puissance {niveau} %, {test}) est de "
                      f"{nombre_fr(100 * mdd, 1) if not math.isnan(mdd) else '–'} points.")
            n_requis = puissance["taille_necessaire_par_groupe"]
            if n_requis:
                phrase += (f" Pour détecter la différence observée "
                           f"({nombre_fr(100 * puissance['difference_observee'], 1)} points), il "
                           f"faudrait {n_requis} ménages par groupe.")
            ecart = (f"{nombre_fr(100 * puissance['ecart_cible'], 0)} points avec la proportion des "
                     f"témoins, dans un sens ou dans l'autre")
        else:
            phrase = (f"Puissance : avec ces effectifs, la plus petite différence de moyennes "
                      f"détectable (puissance {niveau} %, {test}) est de "
                      f"{nombre_fr(mdd, dec)}.")
            ecart = f"{nombre_fr(100 * puissance['ecart_cible'], 0)} % de la moyenne des témoins"
        taille = puissance["taille_par_groupe_ecart_cible"]
        if taille:
            phrase += f" Pour détecter un écart de {ecart}, il faudrait {taille} ménages par groupe."
        console.print(phrase, highlight=False)
        if binaire:
            console.print("E-valeur : force minimale (en rapport de risques) qu'un facteur de "
                          "confusion non mesuré devrait avoir avec le traitement et avec le résultat "
                          "pour expliquer à lui seul l'écart estimé (VanderWeele et Ding, 2017).",
                          highlight=False)
        if avertissements:
            console.print("[bold]Avertissements[/bold]")
            for morceau, methodes in avertissements.items():
                console.print(f"  • {morceau} ({', '.join(dict.fromkeys(methodes))})", highlight=False)


def _nombre_option(texte: str | None, nom: str, bas: float, haut: float) -> float | None:
    if texte in (None, ""):
        return None
    try:
        valeur = float(str(texte).replace(",", "."))
    except ValueError:
        raise ErreurUtilisateur(f"option {nom} : « {texte} » n'est pas un nombre") from None
    if not bas < valeur < haut:
        raise ErreurUtilisateur(f"option {nom} : {texte} hors de ]{nombre_fr(bas, 2)} ; "
                                f"{nombre_fr(haut, 2)}[")
    return valeur


def comparer_commande(args) -> int:
    """Entry point of `capitalisation comparer` (arguments parsed by cli.py)."""
    table = lire_table(args.fichier)
    resultats = _liste(args.resultat)
    if not resultats:
        raise ErreurUtilisateur("aucune colonne de résultat indiquée (--resultat)")
    covariables = _liste(args.covariables)
    resultat = comparer_table(
        table, args.traitement, resultats, covariables, args.grappe or None,
        categorielles=_liste(getattr(args, "categorielles", "")),
        estimande=getattr(args, "estimande", "ATT") or "ATT",
        puissance=_nombre_option(getattr(args, "puissance", None), "--puissance", 0, 1),
        ecart_cible=_nombre_option(getattr(args, "ecart_cible", None), "--ecart-cible", 0, 1e12),
        rognage=_nombre_option(getattr(args, "rognage", None), "--rognage", 0, 0.5),
        fichier=str(args.fichier))
    dossier = getattr(args, "graphiques", None)
    if dossier:
        from capitalisation.evaluation import graphiques

        graphiques.graphique_love(resultat["equilibre"], Path(dossier) / "equilibre.png")
        cov = moteur.preparer_covariables(table, covariables, _liste(getattr(args, "categorielles", "")))
        t = moteur.convertir_traitement(table[args.traitement])
        scores, _ = moteur.scores_et_poids(t, cov, resultat["estimande"])
        graphiques.graphique_chevauchement(scores, t, Path(dossier) / "chevauchement.png",
                                           rognage=resultat.get("rognage"))
    if args.json:
        print(en_json(resultat, str(args.fichier)))
    else:
        afficher(resultat, str(args.fichier))
        if dossier:
            print(f"Graphiques écrits dans {dossier} : equilibre.png (différences standardisées), "
                  "chevauchement.png (scores de propension).")
    return 0
