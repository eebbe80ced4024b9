"""A million-row delivery, generated at test time, validated in bounded memory.

`capitalisation valider` runs as a subprocess on 40 000 households and 1 000 000 account
months with three faults planted at the very end (past the first chunk): it must name
each one by its row, and its peak memory must stay far below what holding the file in
pandas at once would take.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from .corpus import cas as corpus

CLI = Path(sys.executable).with_name("capitalisation")
MENAGES = 40_000
MOIS = 25  # 2018-06 … 2020-06
MEMOIRE_MAXIMALE_MO = 1_500


def generer(dossier: Path) -> Path:
    dossier.mkdir(parents=True)
    con = duckdb.connect()
    try:
        con.execute(
            f"""
            copy (
                select
                    case when i = {MENAGES - 1} then '{corpus.COURRIEL}'
                        else 'm' || lpad(i::varchar, 6, '0') end as menage_id,
                    'declic' as projet_id, 'les_chalets' as bailleur_id,
                    case when i % 2 = 0 then 'accompagne' else 'temoin' end as cohorte,
                    'maintien' as volet, '2018-12-15' as date_orientation,
                    case when i % 2 = 0 then '2019-01-10' else '' end as date_debut_accompagnement,
                    '' as date_fin_accompagnement, '' as motif_fin, 'isole' as composition,
                    '40_59' as tranche_age, 'moins_1000' as tranche_ressources,
                    '450,00' as loyer_mensuel, '0,3' as taux_effort, '31' as departement,
                    'aucun' as public_prioritaire, 'bailleur' as origine_orientation
                from range({MENAGES}) as menages(i)
            ) to '{dossier / "menages.csv"}' (header, delimiter ';')
            """
        )
        con.execute(
            f"""
            copy (
                select
                    'm' || lpad(i::varchar, 6, '0') as menage_id, 'declic' as projet_id,
                    strftime(date '2018-06-01' + to_months(k::integer), '%Y-%m') as mois,
                    '450.00' as quittance, '100.00' as aide_logement,
                    case when i = {MENAGES - 2} and k = {MOIS - 1} then '-5.00' else '350.00' end as paiement,
                    '0.00' as regularisation, '0.00' as solde_fin_mois, 'non' as plan_apurement
                from range({MENAGES}) as menages(i), range({MOIS}) as mois(k)
                order by i, k
            ) to '{dossier / "comptes_mensuels.csv"}' (header, delimiter ';')
            """
        )
    finally:
        con.close()
    (dossier / "evenements.csv").write_text("menage_id;projet_id;date;type_evenement\n", encoding="utf-8")
    (dossier / "contacts.csv").write_text(
        "menage_id;projet_id;date;type_contact;honore;intervenant\n", encoding="utf-8"
    )
    return dossier


@pytest.mark.lent
def test_un_million_de_lignes_en_memoire_bornee(tmp_path):
    dossier = generer(tmp_path / "exports" / "declic" / "2020-06-30")
    ligne_fautive = (MENAGES - 2) * MOIS + MOIS + 1  # header = line 1
    assert ligne_fautive == MENAGES * MOIS - MOIS + 1
    debut = time.monotonic()
    processus = subprocess.Popen(
        [str(CLI), "valider", str(dossier), "--rapports", str(tmp_path / "rapports")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    sortie, erreurs = processus.communicate(timeout=300)
    duree = time.monotonic() - debut
    memoire_mo = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert processus.returncode == 1, erreurs[-2000:]
    assert "Traceback" not in erreurs
    rapport = json.loads((tmp_path / "rapports" / "declic" / "2020-06-30" / "rapport.json").read_text())
    lignes = {f["fichier"]: f["lignes"] for f in rapport["fichiers"]}
    assert lignes["comptes_mensuels.csv"] == MENAGES * MOIS == 1_000_000
    echecs = {(e["regle"], e["fichier"], e["colonne"]): e for e in rapport["echecs"]}
    negatif = echecs[("montant_negatif", "comptes_mensuels.csv", "paiement")]
    assert (negatif["lignes"], negatif["premieres_lignes"]) == (1, [ligne_fautive])
    identite = echecs[("identite_compte", "comptes_mensuels.csv", "solde_fin_mois")]
    assert identite["premieres_lignes"] == [ligne_fautive]
    courriel = echecs[("dp_courriel", "menages.csv", "menage_id")]
    assert courriel["premieres_lignes"] == [MENAGES + 1]
    orphelins = echecs[("menage_orphelin", "comptes_mensuels.csv", "menage_id")]
    assert orphelins["lignes"] == MOIS
    assert corpus.COURRIEL not in sortie + erreurs
    assert memoire_mo < MEMOIRE_MAXIMALE_MO, f"{memoire_mo:.0f} Mo"
    assert duree < 120, f"{duree:.0f} s"
