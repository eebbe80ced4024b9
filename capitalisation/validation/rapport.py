"""Validation reports: Markdown, self-contained HTML (no script, no web font, no CDN) and JSON.

One report per delivery, in `<rapports>/<projet_id>/<date>/rapport.md|.html|.json`. A
report names files, columns, rules and row numbers: never a cell's value.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

from rich.table import Table
from rich.text import Text

from capitalisation import contrat
from capitalisation.validation.controle import ERREUR, ResultatValidation

STATUTS = {"acceptee": "acceptée", "refusee": "refusée"}
SEVERITES = {"erreur": "erreur", "avertissement": "avertissement"}


def dossier_rapport(rapports: Path, resultat: ResultatValidation) -> Path:
    """`<rapports>/<projet_id>/<date>/`; `<rapports>/_dossiers/<nom>/` for a folder that is not a delivery."""
    if resultat.livraison is None:
        nom = re.sub(r"[^A-Za-z0-9_-]+", "_", resultat.dossier)[:80] or "dossier"
        return Path(rapports) / "_dossiers" / nom
    return Path(rapports) / resultat.projet_id / resultat.date_extraction


def _lignes(echec) -> str:
    if echec.lignes is None and not echec.premieres_lignes:
        return "—"
    citees = ", ".join(str(n) for n in echec.premieres_lignes)
    nombre = echec.lignes if echec.lignes is not None else len(echec.premieres_lignes)
    suite = ", …" if nombre > len(echec.premieres_lignes) else ""
    return f"{nombre} ({citees}{suite})" if citees else str(nombre)


def _tri(echecs):
    return sorted(echecs, key=lambda e: (e.severite != ERREUR, e.fichier, e.colonne or "", e.code))


def en_json(resultat: ResultatValidation) -> dict:
    return {
        "contrat": contrat.VERSION,
        "livraison": resultat.dossier,
        "projet_id": resultat.projet_id,
        "date_extraction": resultat.date_extraction,
        "statut": resultat.statut,
        "valide_le": resultat.horodatage,
        "erreurs": len(resultat.erreurs),
        "avertissements": len(resultat.avertissements),
        "regles_verifiees": resultat.regles_verifiees,
        "fichiers": [
            {"fichier": f.fichier, "sha256": f.sha256, "lignes": f.lignes} for f in resultat.fichiers
        ],
        "echecs": [e.en_dict() for e in _tri(resultat.echecs)],
    }


def _verdict(resultat: ResultatValidation) -> str:
    if resultat.acceptee:
        suite = (
            f", avec {len(resultat.avertissements)} avertissement(s) à examiner"
            if resultat.avertissements
            else ""
        )
        return f"Livraison acceptée{suite}."
    return (
        f"Livraison refusée : {len(resultat.erreurs)} erreur(s). Elle n'entre pas dans l'entrepôt ; "
        "corrigez-la à la source et livrez-la de nouveau (les valeurs en cause ne sont jamais "
        "reproduites ici : reportez-vous aux numéros de ligne, l'en-tête étant la ligne 1)."
    )


def en_markdown(resultat: ResultatValidation) -> str:
    lignes = [
        f"# Rapport de validation — {resultat.dossier}",
        "",
        f"- Statut : **{STATUTS[resultat.statut]}**",
        f"- Validée le : {resultat.horodatage}",
        f"- Erreurs : {len(resultat.erreurs)} ; avertissements : {len(resultat.avertissements)}",
        f"- Règles vérifiées : {resultat.regles_verifiees}",
        "",
        _verdict(resultat),
        "",
        "## Fichiers",
        "",
        "| Fichier | Lignes lues | SHA-256 |",
        "|---|---:|---|",
    ]
    for f in resultat.fichiers:
        lignes.append(f"| {_md(f.fichier)} | {'—' if f.lignes is None else f.lignes} | `{f.sha256 or '—'}` |")
    lignes += ["", "## Règles en échec", ""]
    if not resultat.echecs:
        lignes.append("Aucune : toutes les règles sont respectées.")
    else:
        lignes += [
            "| Fichier | Colonne | Règle | Code | Sévérité | Lignes (premières) |",
            "|---|---|---|---|---|---|",
        ]
        for e in _tri(resultat.echecs):
            lignes.append(
                f"| {_md(e.fichier)} | {_md(e.colonne or '—')} | {_md(e.libelle)} | `{e.code}` | "
                f"{SEVERITES[e.severite]} | {_lignes(e)} |"
            )
        details = [e for e in _tri(resultat.echecs) if e.detail]
        if details:
            lignes += ["", "### Messages du lecteur", ""]
            lignes += [f"- {_md(e.fichier)} : {_md(e.detail)}" for e in details]
    lignes.append("")
    return "\n".join(lignes)


def _md(texte: str) -> str:
    return str(texte).replace("|", "\\|").replace("\n", " ")


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #1d1d1b; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #c8c8c8; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.nombre { text-align: right; white-space: nowrap; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; word-break: break-all; }
.statut { display: inline-block; padding: .15rem .6rem; border-radius: .3rem; font-weight: bold; color: #fff; }
.acceptee { background: #2e7d32; } .refusee { background: #c62828; }
tr.erreur td:first-child { border-left: .3rem solid #c62828; }
tr.avertissement td:first-child { border-left: .3rem solid #ef6c00; }
"""


def en_html(resultat: ResultatValidation) -> str:
    e_ = html.escape
    fichiers = "\n".join(
        f"<tr><td>{e_(f.fichier)}</td><td class='nombre'>{'—' if f.lignes is None else f.lignes}</td>"
        f"<td><code>{e_(f.sha256 or '—')}</code></td></tr>"
        for f in resultat.fichiers
    )
    if resultat.echecs:
        echecs = "\n".join(
            f"<tr class='{e.severite}'><td>{e_(e.fichier)}</td><td>{e_(e.colonne or '—')}</td>"
            f"<td>{e_(e.libelle)}</td><td><code>{e_(e.code)}</code></td><td>{SEVERITES[e.severite]}</td>"
            f"<td class='nombre'>{e_(_lignes(e))}</td></tr>"
            for e in _tri(resultat.echecs)
        )
        tableau = (
            "<table><thead><tr><th>Fichier</th><th>Colonne</th><th>Règle</th><th>Code</th>"
            f"<th>Sévérité</th><th>Lignes (premières)</th></tr></thead><tbody>{echecs}</tbody></table>"
        )
        details = [e for e in _tri(resultat.echecs) if e.detail]
        if details:
            tableau += "<h3>Messages du lecteur</h3><ul>" + "".join(
                f"<li>{e_(e.fichier)} : {e_(e.detail)}</li>" for e in details
            ) + "</ul>"
    else:
        tableau = "<p>Aucune : toutes les règles sont respectées.</p>"
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rapport de validation — {e_(resultat.dossier)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Rapport de validation — {e_(resultat.dossier)}</h1>
<p><span class="statut {resultat.statut}">{STATUTS[resultat.statut]}</span></p>
<ul>
<li>Validée le : {e_(resultat.horodatage)}</li>
<li>Erreurs : {len(resultat.erreurs)} ; avertissements : {len(resultat.avertissements)}</li>
<li>Règles vérifiées : {resultat.regles_verifiees}</li>
</ul>
<p>{e_(_verdict(resultat))}</p>
<h2>Fichiers</h2>
<table><thead><tr><th>Fichier</th><th>Lignes lues</th><th>SHA-256</th></tr></thead>
<tbody>{fichiers}</tbody></table>
<h2>Règles en échec</h2>
{tableau}
</body>
</html>
"""


def _ecrire(chemin: Path, texte: str) -> None:
    provisoire = chemin.with_name(f".{chemin.name}.{os.getpid()}.tmp")
    provisoire.write_text(texte, encoding="utf-8")
    os.replace(provisoire, chemin)


def ecrire_rapport(dossier: Path, resultat: ResultatValidation) -> Path:
    """Write rapport.md, rapport.html and rapport.json into `dossier`; return the HTML path."""
    dossier.mkdir(parents=True, exist_ok=True)
    _ecrire(dossier / "rapport.json", json.dumps(en_json(resultat), ensure_ascii=False, indent=2) + "\n")
    _ecrire(dossier / "rapport.md", en_markdown(resultat))
    _ecrire(dossier / "rapport.html", en_html(resultat))
    return dossier / "rapport.html"


# --------------------------------------------------------------------------- terminal


def tableau_livraisons(resultats: list[tuple[ResultatValidation, Path | None]], titre: str) -> Table:
    tableau = Table(title=titre)
    for entete in ("Livraison", "Statut", "Erreurs", "Avertissements", "Rapport"):
        tableau.add_column(entete, justify="right" if entete in ("Erreurs", "Avertissements") else "left")
    for resultat, chemin in resultats:
        statut = Text("acceptée", style="green") if resultat.acceptee else Text("refusée", style="red")
        tableau.add_row(
            Text(resultat.dossier), statut, str(len(resultat.erreurs)), str(len(resultat.avertissements)),
            Text(str(chemin) if chemin else "—"),
        )
    return tableau


def tableau_echecs(resultat: ResultatValidation) -> Table:
    tableau = Table(title=f"Règles en échec — {resultat.dossier}")
    for entete in ("Fichier", "Colonne", "Règle", "Code", "Sévérité", "Lignes (premières)"):
        tableau.add_column(entete)
    for e in _tri(resultat.echecs):
        severite = Text("erreur", style="red") if e.severite == ERREUR else Text("avertissement", style="yellow")
        tableau.add_row(
            Text(e.fichier), Text(e.colonne or "—"), Text(e.libelle), Text(e.code), severite, Text(_lignes(e))
        )
    return tableau
