"""The secrecy audit as a gate: a publication it refuses swaps nothing in.

A first run publishes a warehouse and a site (the audit stubbed to pass, so that the test
does not depend on the suppression rules of the day); a second run, with a later extraction
and the thresholds lowered to 1 in the settings, builds a publication that shows small
cells: the real audit (whose floors are those of indicators.md) refuses it, the command ends
with a French message naming the cells and a non-zero status, and the last good warehouse
and site stay byte for byte. `capitalisation fiches` goes through the same gate.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from capitalisation import config, pipeline
from capitalisation.publication import controle_secret, fiches
from tests.test_secret_statistique import EXTRACTION, ecrire_livraisons


def contenu(dossier: Path) -> dict[str, bytes]:
    return {str(f.relative_to(dossier)): f.read_bytes() for f in sorted(dossier.rglob("*")) if f.is_file()}


def audit_vide(*args, **kwargs) -> controle_secret.Audit:
    return controle_secret.Audit(controle_secret.seuils_audit())


@pytest.fixture(scope="module")
def publie(tmp_path_factory):
    racine = tmp_path_factory.mktemp("porte")
    exports = racine / "exports"
    ecrire_livraisons(exports)
    entrepot = racine / "warehouse" / "capitalisation.duckdb"
    site = config.sorties(entrepot).site  # beside the warehouse, which is not the configured one
    patch = pytest.MonkeyPatch()
    patch.setattr(controle_secret, "auditer", audit_vide)
    try:
        code = pipeline.executer(exports, entrepot, fiches=True, rapports=racine / "rapports",
                                 quarantaine=racine / "quarantaine")
    finally:
        patch.undo()
    assert code == 0
    assert controle_secret.chemin_precedente(entrepot).exists()
    return {"racine": racine, "exports": exports, "entrepot": entrepot, "site": site}


# Thresholds of 1 passed to dbt, and a suppression choice that hides nothing (the real one
# applies the floors whatever the settings, and keeps the previous publication's hidden cells):
# a publication that shows small cells, which the real audit must refuse.
LANCEUR = """
import sys
from capitalisation import cli, config
from capitalisation.publication import secret
reglages = config.variables_dbt
config.variables_dbt = lambda: {**reglages(), "seuil_effectif": 1, "seuil_denominateur": 1}
decider = secret.decider
def rien_de_secret(*args, **kwargs):
    decision = decider(*args, **kwargs)
    decision["secrete"] = False
    return decision
secret.decider = rien_de_secret
sys.exit(cli.main(sys.argv[1:]))
"""


def test_un_audit_refuse_laisse_l_entrepot_et_le_site_en_place(publie):
    racine, entrepot, site = publie["racine"], publie["entrepot"], publie["site"]
    avant_entrepot = entrepot.read_bytes()
    avant_site = contenu(site)
    avant_precedente = controle_secret.chemin_precedente(entrepot).read_bytes()
    assert any(nom.endswith(".html") for nom in avant_site)
    # A later extraction of one project; the publication layer built with thresholds of 1
    # (as a setting below the floors would): the gate, with the floors, must refuse it.
    projet = "solide_r"
    shutil.copytree(publie["exports"] / projet / EXTRACTION, publie["exports"] / projet / "2014-07-31")
    parametres = racine / "parametres.toml"
    parametres.write_text(f'[chemins]\nrapports_validation = "{racine / "rapports"}"\n'
                          f'quarantaine = "{racine / "quarantaine"}"\n', encoding="utf-8")
    environnement = {**os.environ, "CAPITALISATION_PARAMETRES": str(parametres),
                     "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    resultat = subprocess.run(
        [sys.executable, "-c", LANCEUR, "run", "--exports", str(publie["exports"]), "--warehouse", str(entrepot)],
        capture_output=True, text=True, env=environnement, cwd=config.RACINE, check=False)
    code, erreur = resultat.returncode, resultat.stderr
    assert code != 0
    assert "secret statistique" in erreur and "rien n'est publié" in erreur
    assert "Traceback" not in erreur
    # The cells are named (table, project, indicator), never their values.
    nommees = re.findall(r"pub_indicateurs_\w+ \(projet (\w+), [^)]*indicateur \w+\), [^:]+ :", erreur)
    assert "solide_r" in nommees, erreur[-3000:]
    assert entrepot.read_bytes() == avant_entrepot
    assert contenu(site) == avant_site
    assert controle_secret.chemin_precedente(entrepot).read_bytes() == avant_precedente
    restes = [p.name for p in entrepot.parent.iterdir() if "construction" in p.name]
    restes += [p.name for p in site.parent.iterdir() if "construction" in p.name]
    assert restes == []


def test_fiches_passe_par_la_porte(publie, monkeypatch):
    site = publie["site"]
    avant = contenu(site)
    refus = controle_secret.Audit(controle_secret.seuils_audit())
    refus.divulgations.append(controle_secret.Divulgation(
        "deduite", "pub_indicateurs_bailleur", "projet declic, bailleur batigere, indicateur adhesion", "k"))
    appels = []

    def audit_refuse(entrepot, dossiers=(), *args, **kwargs):
        appels.append([Path(d) for d in dossiers])
        return refus

    monkeypatch.setattr(controle_secret, "auditer", audit_refuse)
    with pytest.raises(controle_secret.SecretNonRespecte) as erreur:
        fiches.rendre_fiches(publie["entrepot"], site, formats_demandes="html", forcer=True)
    assert "projet declic, bailleur batigere, indicateur adhesion), k" in str(erreur.value)
    # The audit read the new site's build folder, not the published one.
    assert appels and all(site not in d.parents and d != site for d in appels[0])
    assert contenu(site) == avant
