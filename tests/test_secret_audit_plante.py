"""Planted deliveries: the small groups an attacker goes after, in the contract's format.

* habitat_reuni: Habitat du Nord 40 households, Toit et Joie 3 (a landlord of 3 in a
  multi-landlord project), Essonne Habitat 9 of which 8 adhered (8/9); a département of 2,
  a volet of 1; every accompaniment ended but 2 (ended = accompanied − 2); 4 control
  households; one eviction (a single event in the survival curve);
* zero_expulsion: 100 oriented, 95 adhered (95/100); 30 in procedure of which 28 evictions
  avoided, the figure the project published itself (a confirmed figure equal to a hidden cell);
  a second extraction adds one household (a hidden 100 becomes a published 101);
* declic: two landlords, Les Chalets 20 and Batigère 4 (the insider subtracts its own).

`ecrire_livraisons` writes them; the test builds the warehouse, undoes the suppression of
the small landlord in a copy of it and checks that the audit finds the leak, which it must
not find where nothing was undone beyond what the publication layer chose.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from capitalisation.publication import controle_secret
from tests.test_secret_statistique import ENTETE_COMPTES, ENTETE_MENAGES, _mois, construire_depuis

EXTRACTION = "2016-12-31"
SECONDE_EXTRACTION = "2017-06-30"


def _groupe(projet, bailleur, nombre, adheres=None, en_cours=0, departement="59", volet="maintien",
            cohorte="accompagne", procedures=0, expulses=0, debut=0) -> list[dict]:
    adheres = nombre if adheres is None else adheres
    return [{"projet": projet, "bailleur": bailleur, "numero": debut + i, "adhere": cohorte == "accompagne" and i < adheres,
             "en_cours": i < en_cours, "departement": departement, "volet": volet, "cohorte": cohorte,
             "procedure": i < procedures, "expulse": i < expulses} for i in range(nombre)]


def menages_plantes(seconde: bool = False) -> list[dict]:
    m = []
    m += _groupe("habitat_reuni", "habitat_du_nord", 36, adheres=36, en_cours=2, procedures=3, expulses=1)
    m += _groupe("habitat_reuni", "habitat_du_nord", 2, departement="75", debut=36)
    m += _groupe("habitat_reuni", "habitat_du_nord", 1, volet="acces", debut=38)
    m += _groupe("habitat_reuni", "habitat_du_nord", 1, debut=39)
    m += _groupe("habitat_reuni", "toit_et_joie", 3)
    m += _groupe("habitat_reuni", "essonne_habitat", 9, adheres=8)
    m += _groupe("habitat_reuni", "habitat_du_nord", 4, cohorte="temoin", debut=40)
    m += _groupe("zero_expulsion", "presence_habitat", 101 if seconde else 100, adheres=96 if seconde else 95,
                 procedures=30, expulses=2, departement="67")
    m += _groupe("declic", "les_chalets", 20, adheres=18, departement="31")
    m += _groupe("declic", "batigere", 4, adheres=3, departement="31")
    return m


def ecrire_livraisons(exports: Path, seconde: bool = False) -> None:
    extraction = SECONDE_EXTRACTION if seconde else EXTRACTION
    tables: dict[str, dict[str, list[str]]] = {}
    for f in menages_plantes(seconde):
        t = tables.setdefault(f["projet"], {"menages": [], "comptes": [], "contacts": [], "evenements": []})
        menage = f"{f['projet'][:3]}{f['bailleur'][:4]}{f['cohorte'][0]}{f['numero']:03d}"
        debut = "2015-03-10" if f["adhere"] else ""
        fin = "" if (not f["adhere"] or f["en_cours"]) else "2016-06-30"
        motif = "objectifs_atteints" if fin else ""
        t["menages"].append(
            f"{menage},{f['projet']},{f['bailleur']},{f['cohorte']},{f['volet']},2015-03-01,{debut},{fin},{motif},"
            f"isole,40_59,moins_1000,400.00,0.30,{f['departement']},aucun,bailleur")
        dette = 800 if f["numero"] % 2 == 0 else 0
        for mois in _mois(dt.date(2014, 8, 1), 29):
            t["comptes"].append(f"{menage},{f['projet']},{mois},400.00,100.00,300.00,0.00,{dette}.00,false")
        if f["adhere"]:
            t["contacts"].append(f"{menage},{f['projet']},2015-04-02,visite_domicile,true,travailleur_social")
        if f["procedure"]:
            t["evenements"].append(f"{menage},{f['projet']},2015-09-15,assignation")
        if f["expulse"]:
            t["evenements"].append(f"{menage},{f['projet']},2016-02-15,expulsion_realisee")
    for projet, t in tables.items():
        dossier = exports / projet / extraction
        dossier.mkdir(parents=True)
        (dossier / "menages.csv").write_text(ENTETE_MENAGES + "\n" + "\n".join(t["menages"]) + "\n", encoding="utf-8")
        (dossier / "comptes_mensuels.csv").write_text(ENTETE_COMPTES + "\n" + "\n".join(t["comptes"]) + "\n",
                                                     encoding="utf-8")
        (dossier / "evenements.csv").write_text(
            "menage_id,projet_id,date,type_evenement\n" + "".join(e + "\n" for e in t["evenements"]), encoding="utf-8")
        (dossier / "contacts.csv").write_text(
            "menage_id,projet_id,date,type_contact,honore,intervenant\n" + "\n".join(t["contacts"]) + "\n",
            encoding="utf-8")


@pytest.fixture(scope="module")
def entrepot(tmp_path_factory) -> Path:
    dossier = tmp_path_factory.mktemp("plante")
    ecrire_livraisons(dossier / "exports")
    return construire_depuis(dossier / "exports", dossier)


def _cellules(audit) -> set[tuple[str, str, str]]:
    return {(d.table, d.position, d.mesure) for d in audit.divulgations}


def test_l_audit_trouve_le_petit_bailleur_quand_son_secret_est_defait(entrepot, tmp_path):
    base = _cellules(controle_secret.auditer(entrepot, precedente=None, initie=False))
    copie = tmp_path / "fuite.duckdb"
    shutil.copyfile(entrepot, copie)
    con = duckdb.connect(str(copie))
    try:
        # Toit et Joie's 3 households published in one view only: its benchmark row.
        con.execute("""
            update pub_benchmark_projet_bailleur p set n = f.n, menages = f.menages, cellules_secretes = ''
            from fct_benchmark_projet_bailleur f
            where p.projet_id = f.projet_id and p.bailleur_id = f.bailleur_id and p.indicateur = f.indicateur
              and p.bailleur_id = 'toit_et_joie' and p.indicateur = 'adhesion'""")
    finally:
        con.close()
    fuite = _cellules(controle_secret.auditer(copie, precedente=None, initie=False))
    cellule = ("pub_indicateurs_bailleur", "projet habitat_reuni, bailleur toit_et_joie, indicateur adhesion", "n")
    assert cellule in fuite
    assert cellule in base or fuite - base  # the leak is new, or was already reported


def test_rien_n_est_retrouve_des_livraisons_plantees(entrepot):
    """The attacker (public and each landlord) recovers nothing from what is published; the
    figure the project published itself and the data confirm shows, « confirmé »."""
    audit = controle_secret.auditer(entrepot, precedente=None)
    assert audit.reussi, audit.messages()[:10]
    assert audit.cases_sensibles > 100 and audit.programmes_lineaires > 0
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        (publiee, recalculee, statut), = con.execute(
            "select valeur_publiee, valeur_recalculee, statut from pub_reconciliation "
            "where projet_id = 'zero_expulsion' and indicateur = 'expulsion_evitee'").fetchall()
        # an indicator of the accompaniment without households still has its row, secret
        vides = con.execute(
            "select count(*) from pub_indicateurs_bailleur where projet_id = 'declic' "
            "and indicateur = 'expulsion_evitee' and n is null").fetchone()[0]
    finally:
        con.close()
    assert (publiee, recalculee, statut) == (28.0, 28.0, "confirme")
    assert vides == 2


def test_la_publication_precedente_et_un_menage_de_plus(entrepot, tmp_path):
    precedente = controle_secret.instantane(entrepot)
    assert precedente["tables"]["pub_indicateurs_projet"]
    dossier = tmp_path / "seconde"
    ecrire_livraisons(dossier / "exports", seconde=True)
    chemin = construire_depuis(dossier / "exports", dossier)
    seule = controle_secret.auditer(chemin, initie=False)
    avec = controle_secret.auditer(chemin, precedente=precedente, initie=False)
    # The previous publication can only add to what the attacker recovers; here, nothing.
    assert _cellules(seule) <= _cellules(avec)
    assert avec.reussi, avec.messages()[:10]
