"""Statistical secrecy end to end, on small deliveries built so that naive publication leaks.

Two projects in the contract's format:

* solide_r: Logévie has 3 households (a small count), Clairsienne 15 oriented of whom 13
  adhered (2 non-adherents, given back by 15 − 13), Domofrance 12 of whom 4 in the volet
  accès, Batigère 11;
* declic: Batigère 20 (so Batigère's total across projects, 31, minus 20 would give its 11
  in solide_r back), all ended; Les Chalets 25, of whom 3 still accompanied (the project's
  45 accompanied minus its 42 ended would give them back).

Whatever is published (the warehouse's pub_ tables, the benchmark's CSV and XLSX exports),
no secret cell can be recovered: checked by hand on the sums and by the independent scan
`controle_secret.controler`, which must also catch the leak when the secondary suppression
is undone.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pytest

from capitalisation import pipeline
from capitalisation.publication import benchmark, controle_secret

ENTETE_MENAGES = (
    "menage_id,projet_id,bailleur_id,cohorte,volet,date_orientation,date_debut_accompagnement,"
    "date_fin_accompagnement,motif_fin,composition,tranche_age,tranche_ressources,loyer_mensuel,"
    "taux_effort,departement,public_prioritaire,origine_orientation"
)
ENTETE_COMPTES = "menage_id,projet_id,mois,quittance,aide_logement,paiement,regularisation,solde_fin_mois,plan_apurement"

# (project, landlord, households, of which adhered, of which volet accès, of which still running)
GROUPES = (
    ("solide_r", "logevie", 3, 3, 0, 3),
    ("solide_r", "clairsienne", 15, 13, 0, 13),
    ("solide_r", "domofrance", 12, 12, 4, 12),
    ("solide_r", "batigere", 11, 11, 0, 11),
    ("declic", "batigere", 20, 20, 0, 0),
    ("declic", "les_chalets", 25, 25, 0, 3),
)
EXTRACTION = "2014-06-30"
# One office meeting in `modulo` is missed: landlords differ, so the proportions of honoured
# rendez-vous are overdispersed (the warehouse is built with the overdispersion option on).
MODULOS = {"logevie": 2, "clairsienne": 3, "domofrance": 9, "batigere": 4, "les_chalets": 1}


def _mois(debut: dt.date, nombre: int) -> list[str]:
    mois = []
    annee, m = debut.year, debut.month
    for _ in range(nombre):
        mois.append(f"{annee:04d}-{m:02d}")
        annee, m = (annee + 1, 1) if m == 12 else (annee, m + 1)
    return mois


def ecrire_livraisons(exports: Path) -> None:
    """The deliveries, one folder per project, UTF-8 CSV as the contract allows."""
    lignes: dict[str, dict[str, list[str]]] = {}
    for projet, bailleur, total, adheres, acces, en_cours in GROUPES:
        tables = lignes.setdefault(projet, {"menages": [], "comptes": [], "contacts": []})
        for i in range(total):
            menage = f"{projet[:3]}{bailleur[:3]}{i:03d}"
            adhere = i < adheres
            volet = "acces" if i < acces else "maintien"
            fin = "" if (not adhere or i < en_cours) else "2014-01-31"
            motif = "objectifs_atteints" if fin else ""
            debut = "2013-03-10" if adhere else ""
            tables["menages"].append(
                f"{menage},{projet},{bailleur},accompagne,{volet},2013-03-01,{debut},{fin},{motif},"
                "isole,40_59,moins_1000,400.00,0.30,33,aucun,bailleur")
            for mois in _mois(dt.date(2012, 8, 1), 23):
                tables["comptes"].append(f"{menage},{projet},{mois},400.00,100.00,300.00,0.00,0.00,false")
            if adhere:
                tables["contacts"].append(f"{menage},{projet},2013-04-02,visite_domicile,true,travailleur_social")
                honore = str(i % MODULOS[bailleur] > 0).lower()
                tables["contacts"].append(f"{menage},{projet},2013-05-02,rdv_bureau,{honore},cesf")
    for projet, tables in lignes.items():
        dossier = exports / projet / EXTRACTION
        dossier.mkdir(parents=True)
        (dossier / "menages.csv").write_text(ENTETE_MENAGES + "\n" + "\n".join(tables["menages"]) + "\n",
                                             encoding="utf-8")
        (dossier / "comptes_mensuels.csv").write_text(
            ENTETE_COMPTES + "\n" + "\n".join(tables["comptes"]) + "\n", encoding="utf-8")
        (dossier / "evenements.csv").write_text("menage_id,projet_id,date,type_evenement\n", encoding="utf-8")
        (dossier / "contacts.csv").write_text(
            "menage_id,projet_id,date,type_contact,honore,intervenant\n" + "\n".join(tables["contacts"]) + "\n",
            encoding="utf-8")


@pytest.fixture(scope="module")
def entrepot(tmp_path_factory) -> Path:
    dossier = tmp_path_factory.mktemp("secret")
    exports = dossier / "exports"
    ecrire_livraisons(exports)
    chemin = dossier / "entrepot.duckdb"
    landing = pipeline.dossier_landing(chemin)
    bilans = pipeline.lire_livraisons(exports, landing, dossier / "rapports", dossier / "quarantaine")
    assert not [b.raisons for b in bilans if b.statut == "refusee"]
    pipeline.construire_entrepot(chemin, landing, variables={"benchmark_surdispersion": True})
    return chemin


@pytest.fixture(scope="module")
def exports_benchmark(entrepot, tmp_path_factory) -> Path:
    sortie = tmp_path_factory.mktemp("benchmark")
    benchmark.exporter(benchmark.lire_vue(entrepot), sortie)
    return sortie


def lignes(entrepot: Path, requete: str) -> list[dict]:
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        return con.execute(requete).fetchdf().to_dict("records")
    finally:
        con.close()


def secrete(ligne: dict, colonne: str) -> bool:
    return colonne in ligne["cellules_secretes"].split(",")


def test_les_donnees_fuiraient_sans_secret(entrepot):
    """The case is what it claims: the true counts hold the small cells."""
    vraies = {(r["projet_id"], r["bailleur_id"]): (r["n"], r["k"]) for r in lignes(
        entrepot, "select * from fct_indicateurs_bailleur where indicateur = 'adhesion'")}
    assert vraies[("solide_r", "logevie")] == (3, 3)
    assert vraies[("solide_r", "clairsienne")] == (15, 13)
    effectifs = {r["projet_id"]: r for r in lignes(entrepot, "select * from fct_effectifs_projet")}
    assert effectifs["declic"]["menages_en_cours"] == 3
    assert effectifs["declic"]["menages_termines"] == 42
    assert effectifs["solide_r"]["volet_acces"] == 4


def test_secret_primaire(entrepot):
    bailleurs = {(r["projet_id"], r["bailleur_id"], r["indicateur"]): r for r in lignes(
        entrepot, "select * from pub_indicateurs_bailleur")}
    logevie = bailleurs[("solide_r", "logevie", "adhesion")]
    assert logevie["n"] is None or logevie["n"] != logevie["n"]
    assert secrete(logevie, "n") and secrete(logevie, "valeur") and secrete(logevie, "menages")
    # 13 adhered out of 15: the 2 who did not adhere must not be given back by n − k.
    clairsienne = bailleurs[("solide_r", "clairsienne", "adhesion")]
    assert secrete(clairsienne, "n") or secrete(clairsienne, "k")
    effectifs = {r["projet_id"]: r for r in lignes(entrepot, "select * from pub_effectifs_projet")}
    assert secrete(effectifs["solide_r"], "volet_acces")


def test_cases_secretes_nulles_jamais_zero(entrepot):
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_name like 'pub_%'").fetchall()]
        assert {"pub_benchmark_bailleur", "pub_benchmark_projet_bailleur", "pub_effectifs_projet"} <= set(tables)
        verifiees = 0
        for table in tables:
            for ligne in con.execute(f"select * from {table}").fetchdf().to_dict("records"):
                for colonne in filter(None, ligne["cellules_secretes"].split(",")):
                    valeur = ligne[colonne]
                    assert valeur is None or valeur != valeur, (table, colonne, valeur)
                    verifiees += 1
        assert verifiees > 50
    finally:
        con.close()


def _inconnue(valeur) -> bool:
    return valeur is None or valeur != valeur


def test_aucune_somme_ne_redonne_une_case_secrete(entrepot):
    """By hand, on the sums a reader sees: landlords to their project, a landlord's projects to
    the landlord, ended and running to adhered, the two volets to the oriented households."""
    projets = {(r["projet_id"], r["indicateur"]): r for r in lignes(entrepot, "select * from pub_indicateurs_projet")}
    bailleurs = lignes(entrepot, "select * from pub_indicateurs_bailleur")
    verifiees = 0
    for (projet, indicateur), total in projets.items():
        parties = [r for r in bailleurs if r["projet_id"] == projet and r["indicateur"] == indicateur]
        for colonne in ("n", "k"):
            if _inconnue(total[colonne]):
                continue
            cachees = [r["bailleur_id"] for r in parties if _inconnue(r[colonne])]
            assert len(cachees) != 1, (projet, indicateur, colonne, cachees)
            verifiees += 1
    # Batigère across its two projects.
    par_bailleur = {(r["bailleur_id"], r["indicateur"]): r for r in lignes(
        entrepot, "select * from pub_benchmark_bailleur")}
    par_projet = lignes(entrepot, "select * from pub_benchmark_projet_bailleur where bailleur_id = 'batigere'")
    for (bailleur, indicateur), total in par_bailleur.items():
        if bailleur != "batigere":
            continue
        parties = [r for r in par_projet if r["indicateur"] == indicateur]
        assert len(parties) == 2
        for colonne in ("n", "k"):
            if not _inconnue(total[colonne]):
                assert sum(_inconnue(r[colonne]) for r in parties) != 1, (indicateur, colonne)
                verifiees += 1
    effectifs = {r["projet_id"]: r for r in lignes(entrepot, "select * from pub_effectifs_projet")}
    declic = effectifs["declic"]
    # 3 still accompanied, 42 ended, 45 accompanied: hiding the 3 alone is not enough.
    assert _inconnue(declic["menages_en_cours"])
    assert sum(_inconnue(declic[c]) for c in ("menages_accompagnes", "menages_termines", "menages_en_cours")) >= 2
    solide = effectifs["solide_r"]
    assert sum(_inconnue(solide[c]) for c in ("menages_orientes", "volet_maintien", "volet_acces")) >= 2
    assert verifiees > 20


def test_choix_deterministe_de_la_case_secondaire(entrepot):
    """Logévie's 3 oriented households are secret. In solide_r's sum of landlords the second
    cell hidden is the smallest non-zero other part (Batigère, 11, before Domofrance's 12);
    Batigère's total across its projects (31) stays published, so its 20 in declic is hidden
    in turn (31 − 20 would give the 11), then Les Chalets' 25 (45 − 20 − 25 = 0 otherwise).
    In the programme's sum of landlords, the second cell is Domofrance's 12 (the smallest after
    Logévie's 3), and so its only project's cell too."""
    cellules = {r["cellule_id"]: r for r in lignes(entrepot, "select * from int_secret_cellules")}

    def etat(cellule: str) -> tuple:
        ligne = cellules[cellule]
        return (ligne["motif"], None if _inconnue(ligne["tour_secret"]) else int(ligne["tour_secret"]))

    assert etat("orientes|bailleur|solide_r|logevie") == ("primaire", 0)
    assert etat("orientes|bailleur|solide_r|batigere") == ("secondaire", 1)
    assert etat("orientes|bailleur|declic|batigere") == ("secondaire", 2)
    assert etat("orientes|bailleur|declic|les_chalets") == ("secondaire", 3)
    assert not cellules["orientes|bailleur_programme||batigere"]["secrete"]
    assert etat("orientes|bailleur_programme||domofrance") == ("secondaire", 1)
    assert etat("orientes|bailleur|solide_r|domofrance") == ("secondaire", 2)
    publiees = {(r["projet_id"], r["bailleur_id"]): r["n"] for r in lignes(
        entrepot, "select * from pub_indicateurs_bailleur where indicateur = 'adhesion'")}
    assert _inconnue(publiees[("solide_r", "batigere")]) and _inconnue(publiees[("declic", "batigere")])
    total = lignes(entrepot, "select n from pub_benchmark_bailleur where bailleur_id = 'batigere' "
                             "and indicateur = 'adhesion'")
    assert total == [{"n": 31}]


def test_controle_independant_sans_constat(entrepot, exports_benchmark):
    constats = controle_secret.controler(entrepot, [exports_benchmark])
    assert constats == []


def test_controle_trouve_la_fuite_si_le_secret_secondaire_est_defait(entrepot, tmp_path):
    """Put the secondary cells of pub_indicateurs_bailleur back: the scan must see that the
    primary ones can then be recovered by subtraction."""
    copie = tmp_path / "fuite.duckdb"
    shutil.copy(entrepot, copie)
    con = duckdb.connect(str(copie))
    try:
        con.execute("""
            create or replace table pub_indicateurs_bailleur as
            select
                publiee.projet_id, publiee.bailleur_id, publiee.indicateur, publiee.nature,
                case when vraie.n <= 5 then null else vraie.n end as n,
                publiee.k, publiee.valeur, publiee.ic_bas, publiee.ic_haut, publiee.moyenne_eur,
                publiee.mediane_eur, publiee.total_eur,
                case when vraie.n <= 5 then null else vraie.menages end as menages,
                case when vraie.n <= 5 then 'n,menages' else '' end as cellules_secretes
            from pub_indicateurs_bailleur as publiee
            inner join fct_indicateurs_bailleur as vraie
                using (projet_id, bailleur_id, indicateur)
        """)
    finally:
        con.close()
    constats = controle_secret.controler(copie, [])
    assert any("pub_indicateurs_bailleur (projet_id solide_r, bailleur_id logevie" in c
               and "se déduit" in c for c in constats), constats[:5]


def _lire_csv(chemin: Path) -> list[dict]:
    with open(chemin, encoding="utf-8-sig", newline="") as flux:
        return list(csv.DictReader(flux, delimiter=";"))


def test_exports_montrent_s_et_rien_de_deductible(entrepot, exports_benchmark):
    programme = exports_benchmark / "programme"
    lignes_csv = _lire_csv(programme / "benchmark_bailleurs.csv")
    publiees = {(r["bailleur_id"], r["indicateur"]): r for r in lignes(entrepot, "select * from pub_benchmark_bailleur")}
    vues = 0
    for ligne in lignes_csv:
        if ligne["Code bailleur"] == "":
            assert ligne["Bailleur"] == benchmark.PROGRAMME
            continue
        publiee = publiees[(ligne["Code bailleur"], ligne["Code indicateur"])]
        for colonne, nom in (("n", "Dénominateur (n)"), ("k", "Numérateur (k)"), ("proportion", "Proportion (%)")):
            if secrete(publiee, colonne):
                assert ligne[nom] == "s", (ligne, colonne)
                vues += 1
            else:
                assert ligne[nom] not in ("s", "")
    assert vues > 10
    # The same cells in the workbook: « s » as text, never 0, never a formula.
    classeur = openpyxl.load_workbook(programme / "benchmark.xlsx")
    feuille = classeur["Bailleurs"]
    entete = [c.value for c in feuille[1]]
    i_code, i_ind, i_n = (entete.index(c) for c in ("Code bailleur", "Code indicateur", "Dénominateur (n)"))
    for rangee in feuille.iter_rows(min_row=2):
        if rangee[i_code].value is None:
            continue
        publiee = publiees[(rangee[i_code].value, rangee[i_ind].value)]
        if secrete(publiee, "n"):
            assert rangee[i_n].value == "s" and rangee[i_n].data_type == "s"
        for case in rangee:
            assert case.data_type != "f"


def test_option_surdispersion(entrepot):
    """Built with `benchmark_surdispersion` true: φ widens the limits when it exceeds 1, in the
    internal mart (φ over every landlord) and in the published one (φ over the published
    landlords only, so that no secret proportion feeds a published limit)."""
    for table in ("fct_benchmark_bailleur", "pub_benchmark_bailleur"):
        rdv = [r for r in lignes(entrepot, f"select * from {table} where indicateur = 'rdv_honores'")
               if not _inconnue(r["limite_95_haut"])]
        assert rdv
        for ligne in rdv:
            phi = ligne["surdispersion_estimee"]
            assert phi > 1 and ligne["surdispersion_appliquee"] == phi, table
            p0, n = ligne["moyenne_programme"], ligne["n"]
            attendu = min(1.0, p0 + 1.959963984540054 * (phi * p0 * (1 - p0) / n) ** 0.5)
            assert abs(ligne["limite_95_haut"] - attendu) < 1e-9
    publiees = [r for r in lignes(entrepot, "select * from pub_benchmark_bailleur where indicateur = 'rdv_honores'")
                if not _inconnue(r["z_score"])]
    z = sorted(r["z_score"] for r in publiees)
    bas, haut = np.quantile(z, 0.1), np.quantile(z, 0.9)
    assert abs(publiees[0]["surdispersion_estimee"] - float(np.mean(np.clip(z, bas, haut) ** 2))) < 1e-9
