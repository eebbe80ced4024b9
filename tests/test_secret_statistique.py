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


def construire_depuis(exports: Path, dossier: Path, variables: dict | None = None) -> Path:
    """The warehouse of `exports` in `dossier`, every delivery accepted."""
    chemin = dossier / "entrepot.duckdb"
    landing = pipeline.dossier_landing(chemin)
    bilans = pipeline.lire_livraisons(exports, landing, dossier / "rapports", dossier / "quarantaine")
    assert not [b.raisons for b in bilans if b.statut == "refusee"]
    pipeline.construire_entrepot(chemin, landing, variables=variables)
    return chemin


@pytest.fixture(scope="module")
def entrepot(tmp_path_factory) -> Path:
    dossier = tmp_path_factory.mktemp("secret")
    ecrire_livraisons(dossier / "exports")
    return construire_depuis(dossier / "exports", dossier, {"benchmark_surdispersion": True})


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
    assert verifiees >= 5


def test_choix_deterministe_de_la_case_secondaire(entrepot):
    """Logévie's 3 oriented households are secret (primary). In solide_r's sum of landlords a
    second landlord is hidden (for the public), and a landlord who knows its own households finds
    no other landlord's cell by subtraction: in every sum of landlords with a secret part, at least
    two parts unknown to each other landlord remain, or the total is hidden. Two builds choose the
    same cells."""
    cellules = {r["cellule_id"]: r for r in lignes(entrepot, "select * from int_secret_cellules")}
    assert cellules["orientes|bailleur|solide_r|logevie"]["motif"] == "primaire"
    parties = [c for c in cellules if c.startswith("orientes|bailleur|solide_r|")]
    cachees = {c for c in parties if cellules[c]["secrete"]}
    assert len(cachees) >= 2
    total = cellules["orientes|projet|solide_r|"]
    if not total["secrete"]:
        for bailleur in {c.rsplit("|", 1)[1] for c in parties}:
            autres = [c for c in cachees if not c.endswith("|" + bailleur)]
            assert len(autres) != 1, (bailleur, autres)
    equations = lignes(entrepot, "select * from int_secret_equations")
    occurrences = lignes(entrepot, "select * from int_secret_occurrences")
    import pandas as pd

    from capitalisation.publication import secret

    encore = secret.decider(pd.DataFrame(occurrences), pd.DataFrame(lignes(entrepot, "select * from int_secret_proportions")),
                            pd.DataFrame(equations), seuil_effectif=5)
    assert _secretes(encore) == {c for c, r in cellules.items() if r["secrete"]}


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
    assert any("pub_indicateurs_bailleur" in c and "solide_r" in c and "logevie" in c
               and ("se déduit" in c or "retrouvée" in c) for c in constats), constats[:5]


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


# --------------------------------------------------------------------------- the choice of cells, by value


def _systeme(cellules: dict[str, tuple[float, bool]], sommes: dict[str, list[tuple[str, str, int]]],
             publiques=(), confirmees=(), proportions=()):
    """Inputs of secret.decider: cells {id: (number, primary)}, sums {id: [(cell, role, rang)]}."""
    import pandas as pd

    from capitalisation.publication import secret

    occurrences = pd.DataFrame([
        {"table_publiee": "t", "ligne": c, "colonne": "n", "cellule_id": c, "mesure": c.split("|")[0],
         "niveau": c.split("|")[1], "projet_id": c.split("|")[2], "dimension": c.split("|")[3],
         "bailleur_id": "", "valeur": v, "primaire": p, "publique": c in publiques, "confirmee": c in confirmees}
        for c, (v, p) in cellules.items()])
    equations = pd.DataFrame(
        [{"equation_id": e, "cellule_id": c, "role": r, "implicite": c.startswith("complement"), "rang_choix": rang}
         for e, membres in sommes.items() for c, r, rang in membres],
        columns=["equation_id", "cellule_id", "role", "implicite", "rang_choix"])
    paires = pd.DataFrame(list(proportions), columns=["cellule_n", "cellule_k", "denominateur_insuffisant"])
    return secret, occurrences, paires, equations


def _secretes(table) -> set[str]:
    return set(table.loc[table["secrete"], "cellule_id"])


def test_initie_deux_bailleurs():
    """A two-landlord project: B has 3 households (secret), A 50. For the public, hiding A is
    enough; A knows its own 50 and would subtract it from the total: the total is hidden too."""
    secret, occ, paires, eq = _systeme(
        {"orientes|bailleur|p|a": (50, False), "orientes|bailleur|p|b": (3, True),
         "orientes|projet|p|": (53, False)},
        {"bailleur:p": [("orientes|projet|p|", "total", 1), ("orientes|bailleur|p|a", "partie", 0),
                        ("orientes|bailleur|p|b", "partie", 0)]})
    table = secret.decider(occ, paires, eq, seuil_effectif=5)
    assert _secretes(table) == {"orientes|bailleur|p|a", "orientes|bailleur|p|b", "orientes|projet|p|"}


def test_chiffre_publie_par_le_projet_jamais_choisi():
    """The project published its 30 households itself: hiding them protects nothing, another
    part of the sum is hidden instead (and the 30 stays visible)."""
    cellules = {"orientes|projet|p|": (30, False), "orientes|volet|p|maintien": (27, False),
                "orientes|volet|p|acces": (3, True)}
    sommes = {"volet:p": [("orientes|projet|p|", "total", 1), ("orientes|volet|p|maintien", "partie", 0),
                          ("orientes|volet|p|acces", "partie", 0)]}
    secret, occ, paires, eq = _systeme(cellules, sommes)
    assert "orientes|volet|p|maintien" in _secretes(secret.decider(occ, paires, eq, seuil_effectif=5))
    # With the parts published the other way round, the total would be the one hidden; a total
    # the project published itself is not: the other part is.
    cellules["orientes|volet|p|maintien"] = (27, False)
    sommes["volet:p"] = [("orientes|projet|p|", "total", 0), ("orientes|volet|p|maintien", "partie", 1),
                         ("orientes|volet|p|acces", "partie", 0)]
    secret, occ, paires, eq = _systeme(cellules, sommes, publiques={"orientes|projet|p|"})
    table = secret.decider(occ, paires, eq, seuil_effectif=5)
    assert "orientes|projet|p|" not in _secretes(table)
    assert "orientes|volet|p|maintien" in _secretes(table)
    assert bool(table.set_index("cellule_id").loc["orientes|projet|p|", "publique"])


def test_chiffre_confirme_cache_en_dernier():
    """100 oriented (« au moins 100 » published by the project, confirmed), 95 adhered: the 5 who
    did not adhere must not be given back; the 95 is hidden, not the headline."""
    secret, occ, paires, eq = _systeme(
        {"orientes|projet|p|": (100, False), "adherents|projet|p|": (95, False)},
        {"complement:c": [("orientes|projet|p|", "total", 0), ("adherents|projet|p|", "partie", 0),
                          ("complement|c", "partie", 0)]},
        confirmees={"orientes|projet|p|"})
    table = secret.decider(occ, paires, eq, seuil_effectif=5)
    assert _secretes(table) == {"adherents|projet|p|"}


def test_publication_precedente():
    """A cell hidden last time stays hidden: 100 hidden, then 101 published would pin it."""
    import pandas as pd

    secret, occ, paires, eq = _systeme(
        {"orientes|projet|p|": (101, False), "adherents|projet|p|": (60, False)}, {})
    precedentes = pd.DataFrame([{"cellule_id": "orientes|projet|p|", "valeur": 100.0, "secrete": True}])
    table = secret.decider(occ, paires, eq, seuil_effectif=5, precedentes=precedentes)
    assert table.set_index("cellule_id").loc["orientes|projet|p|", "motif"] == "precedent"
    assert _secretes(table) == {"orientes|projet|p|"}


def test_total_a_100_pour_cent():
    """All 40 households of the project are in debt; a landlord's 7 (a proportion on fewer than 10
    households, its k hidden) would be pinned at 100 %: the total's k is hidden too."""
    cellules = {"n|projet|p|": (40, False), "k|projet|p|": (40, False),
                "n|bailleur|p|a": (33, False), "k|bailleur|p|a": (33, False),
                "n|bailleur|p|b": (7, False), "k|bailleur|p|b": (7, False)}
    sommes = {"bailleur:n": [("n|projet|p|", "total", 1), ("n|bailleur|p|a", "partie", 0),
                             ("n|bailleur|p|b", "partie", 0)],
              "bailleur:k": [("k|projet|p|", "total", 1), ("k|bailleur|p|a", "partie", 0),
                             ("k|bailleur|p|b", "partie", 0)]}
    proportions = [("n|projet|p|", "k|projet|p|", False), ("n|bailleur|p|a", "k|bailleur|p|a", False),
                   ("n|bailleur|p|b", "k|bailleur|p|b", True)]
    secret, occ, paires, eq = _systeme(cellules, sommes, proportions=proportions)
    table = secret.decider(occ, paires, eq, seuil_effectif=5)
    assert "k|projet|p|" in _secretes(table)


def test_intervalle_par_les_bornes():
    """Adhered households hidden (95) but two of their sub-populations published at 95 bound them
    from below, and the project's oriented (100) from above minus 0: the 5 non-adherents would be
    pinned to [5, 5] by linear programming although no sum has a single unknown cell."""
    cellules = {"orientes|projet|p|": (100, False), "adherents|projet|p|": (95, False),
                "dette.n|projet|p|": (95, False), "termines|projet|p|": (50, False),
                "en_cours|projet|p|": (45, False)}
    sommes = {"complement:c": [("orientes|projet|p|", "total", 0), ("adherents|projet|p|", "partie", 0),
                               ("complement|c", "partie", 0)],
              "reste:d": [("adherents|projet|p|", "total", 1), ("dette.n|projet|p|", "partie", 0),
                          ("complement|reste", "partie", 0)],
              "fin:a": [("adherents|projet|p|", "total", 1), ("termines|projet|p|", "partie", 0),
                        ("en_cours|projet|p|", "partie", 0)]}
    secret, occ, paires, eq = _systeme(cellules, sommes, confirmees={"orientes|projet|p|"})
    table = secret.decider(occ, paires, eq, seuil_effectif=5)
    assert "adherents|projet|p|" in _secretes(table) and len(_secretes(table)) >= 2
    intervalles = secret.intervalles(table, eq)
    bas, haut = intervalles["complement|c"]
    assert haut - bas >= 2 * secret.PROTECTION
    # With only the adhered households hidden, the linear programme pins the complement.
    seule = table.copy()
    seule["secrete"] = seule["cellule_id"] == "adherents|projet|p|"
    assert secret.intervalles(seule, eq)["complement|c"] == pytest.approx((5.0, 5.0))


# --------------------------------------------------------------------------- comparison tables


@pytest.fixture(scope="module")
def entrepot_evaluation(entrepot, tmp_path_factory) -> Path:
    """The warehouse with planted comparison results (as the evaluation engine writes them), its
    publication layer built again over them."""
    import pandas as pd

    from capitalisation import config
    from capitalisation import entrepot as dbt_entrepot
    from capitalisation.evaluation import entrepot as evaluation

    dossier = tmp_path_factory.mktemp("evaluation")
    # Built under another name, then moved (dbt keeps its connection to the file it built).
    copie = dossier / "construction.duckdb"
    shutil.copy(entrepot, copie)
    base = {"projet_id": "solide_r", "horizon_mois": 12}
    comparaisons = pd.DataFrame([
        # 1 control with the event and 16 without, out of 17.
        {**base, "resultat": "dette_resorbee", "methode": "ipw_att", "n_traites": 44, "k_traites": 19,
         "n_temoins": 17, "k_temoins": 1, "p_traites": 19 / 44, "p_temoins": 1 / 17, "estimation": 0.37,
         "ic_bas": 0.1, "ic_haut": 0.6, "p_valeur": 0.01, "ess": 17.0,
         "avertissements": "secret_statistique: témoins : 1 avec l'événement et 16 sans, sur 17 | "
                           "taille_effective_faible: taille effective des témoins pondérés 17,0 pour 17 témoins"},
        {**base, "resultat": "maintien", "methode": "ipw_att", "n_traites": 44, "k_traites": 30,
         "n_temoins": 17, "k_temoins": 10, "p_traites": 30 / 44, "p_temoins": 10 / 17, "estimation": 0.1,
         "ic_bas": -0.1, "ic_haut": 0.3, "p_valeur": 0.4, "ess": 12.3, "avertissements": ""},
    ])
    equilibre = pd.DataFrame([
        # A level of exactly 5 control households: secret (1 to seuil_effectif).
        {"projet_id": "solide_r", "covariable": "composition", "niveau": "isole", "n_traites": 44,
         "n_temoins": 17, "k_traites": 20, "k_temoins": 5, "moyenne_traites": 20 / 44, "moyenne_temoins": 5 / 17,
         "moyenne_ponderee_temoins": 0.4, "smd_avant": 0.33, "smd_apres": 0.05, "ratio_variance_avant": 1.1,
         "ratio_variance_apres": 1.0, "ks_avant": 0.16, "ks_apres": 0.02, "desequilibre_avant": True,
         "desequilibre_apres": False},
        {"projet_id": "solide_r", "covariable": "composition", "niveau": "couple", "n_traites": 44,
         "n_temoins": 17, "k_traites": 24, "k_temoins": 12, "moyenne_traites": 24 / 44,
         "moyenne_temoins": 12 / 17, "moyenne_ponderee_temoins": 0.6, "smd_avant": -0.33, "smd_apres": -0.05,
         "ratio_variance_avant": 1.1, "ratio_variance_apres": 1.0, "ks_avant": 0.16, "ks_apres": 0.02,
         "desequilibre_avant": True, "desequilibre_apres": False},
    ])
    survie = pd.DataFrame([
        # 2 events in the index month among 40: a first point at 0.95 would give them back.
        {"projet_id": "solide_r", "evenement": "expulsion", "cohorte": "accompagne", "temps": t, "survie": s,
         "ic_bas": s - 0.05, "ic_haut": min(1.0, s + 0.05), "n_risque": n}
        for t, s, n in ((0.0, 0.95, 40), (1.0, 0.95, 38), (2.0, 0.95 * 31 / 38, 38), (3.0, 0.95 * 31 / 38, 30))])
    trajectoires = pd.DataFrame([
        {"projet_id": "solide_r", "cohorte": "accompagne", "mois_relatif": m, "n": n, "moyenne": 100.0,
         "ic_bas": 90.0, "ic_haut": 110.0} for m, n in ((0, 44), (1, 43), (2, 41), (3, 8))])
    con = duckdb.connect(str(copie))
    try:
        for nom, table in (("fct_comparaisons", comparaisons), ("fct_equilibre", equilibre),
                           ("fct_survie", survie), ("fct_trajectoires", trajectoires)):
            # the columns the engine writes and this case leaves empty
            evaluation._ecrire(con, nom, table.reindex(columns=list(evaluation.SCHEMAS[nom])))
    finally:
        con.close()
    resultat = dbt_entrepot.construire(
        copie, pipeline.dossier_landing(entrepot), dossier / "travail", selection=dbt_entrepot.PUBLICATION,
        variables=config.variables_dbt())
    assert resultat.succes, resultat.echecs
    pipeline.finaliser(copie)
    publie = dossier / "entrepot.duckdb"
    copie.replace(publie)
    return publie


def test_comparaisons_avertissements_sans_effectif(entrepot_evaluation):
    publiees = {r["resultat"]: r for r in lignes(entrepot_evaluation, "select * from pub_comparaisons")}
    resorbee = publiees["dette_resorbee"]
    assert not any(c.isdigit() for c in resorbee["avertissements"]), resorbee["avertissements"]
    assert "secret_statistique" in resorbee["avertissements"]
    assert "taille_effective_faible" in resorbee["avertissements"]
    # The effective size equals the 17 controls: hidden with the row's small count.
    assert _inconnue(resorbee["k_temoins"]) and _inconnue(resorbee["ess"]) and _inconnue(resorbee["estimation"])
    assert secrete(resorbee, "ess")
    maintien = publiees["maintien"]
    assert maintien["ess"] == 12 and maintien["k_temoins"] == 10


def test_equilibre_niveau_de_cinq_et_smd(entrepot_evaluation):
    niveaux = {r["niveau"]: r for r in lignes(entrepot_evaluation, "select * from pub_equilibre")}
    isole = niveaux["isole"]
    assert _inconnue(isole["k_temoins"])
    for colonne in ("moyenne_temoins", "smd_avant", "smd_apres", "ks_avant", "ratio_variance_avant"):
        assert _inconnue(isole[colonne]) and secrete(isole, colonne), colonne
    # 17 controls = 5 + 12: the other level is hidden too (or the cohort).
    couple = niveaux["couple"]
    assert _inconnue(couple["k_temoins"]) or _inconnue(couple["n_temoins"])


def test_survie_sans_premier_point_sous_un(entrepot_evaluation):
    points = lignes(entrepot_evaluation, "select * from pub_survie order by temps")
    assert points and all(p["survie"] == 1.0 or p["temps"] >= 2.0 for p in points)
    assert all(p["n_risque"] % 10 == 0 for p in points)
    # 2 events at 0 and 5 at 2: 7 in one step, published from the origin.
    assert [p["temps"] for p in points] == [2.0, 3.0]


def test_trajectoires_effectifs_arrondis(entrepot_evaluation):
    mois = {r["mois_relatif"]: r for r in lignes(entrepot_evaluation, "select * from pub_trajectoires")}
    assert [mois[m]["n"] for m in (0, 1, 2)] == [40, 40, 40]
    assert _inconnue(mois[3]["n"]) and _inconnue(mois[3]["moyenne"])


def test_reparation_par_programme_lineaire():
    """Two sums, each with two unknown cells or more once 4 and 5 are hidden for the 3: T = 3 + 4 + 5
    and U = 4 + 5 + 6 give 3 = T − U + 6, which no single sum nor the bounds show. The linear
    programme finds it, and one more cell of the sums is hidden."""
    cellules = {"a|projet|p|": (3, True), "b|projet|p|": (4, False), "c|projet|p|": (5, False),
                "d|projet|p|": (6, False), "t|projet|p|": (12, False), "u|projet|p|": (15, False)}
    sommes = {"t": [("t|projet|p|", "total", 1), ("a|projet|p|", "partie", 0), ("b|projet|p|", "partie", 0),
                    ("c|projet|p|", "partie", 0)],
              "u": [("u|projet|p|", "total", 1), ("b|projet|p|", "partie", 0), ("c|projet|p|", "partie", 0),
                    ("d|projet|p|", "partie", 0)]}
    secret, occ, paires, eq = _systeme(cellules, sommes)
    heuristique = secret.decider(occ, paires, eq, seuil_effectif=5, programme=False)
    assert _secretes(heuristique) == {"a|projet|p|", "b|projet|p|", "c|projet|p|"}
    assert secret.intervalles(heuristique, eq)["a|projet|p|"] == pytest.approx((3.0, 3.0))

    table = secret.decider(occ, paires, eq, seuil_effectif=5)
    # The cell chosen is in the small cell's own sum: its total.
    assert _secretes(table) == {"a|projet|p|", "b|projet|p|", "c|projet|p|", "t|projet|p|"}
    assert table.set_index("cellule_id").loc["t|projet|p|", "motif"] == "programme"
    bas, haut = secret.intervalles(table, eq)["a|projet|p|"]
    assert bas == pytest.approx(0.0) and haut >= 3 + secret.PROTECTION
    assert controle_secret.protegee(3, bas, haut, controle_secret.seuils_audit(5))


def test_entrepot_precedent_par_variable_dbt(tmp_path, monkeypatch):
    """The previous publication's decisions come from the dbt var `entrepot_precedent`, which the
    pipeline sets to the warehouse being replaced; no environment variable is read."""
    import importlib.util

    from capitalisation import config

    spec = importlib.util.spec_from_file_location(
        "int_secret_cellules", config.DBT_PROJET / "models" / "publication" / "secret" / "int_secret_cellules.py")
    modele = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modele)
    precedent = tmp_path / "entrepot.duckdb"
    con = duckdb.connect(str(precedent))
    con.execute("create table int_secret_cellules as select 'orientes|projet|p|' as cellule_id, "
                "100.0 as valeur, true as secrete")
    con.close()
    monkeypatch.setenv("CAPITALISATION_ENTREPOT", str(tmp_path / ".autre.duckdb.construction"))
    lues = modele.precedentes(str(precedent))
    assert lues.to_dict("records") == [{"cellule_id": "orientes|projet|p|", "valeur": 100.0, "secrete": True}]
    assert modele.precedentes("") is None
    assert modele.precedentes(str(tmp_path / "absent.duckdb")) is None

    appels = []
    monkeypatch.setattr(pipeline, "_dbt", lambda fichier, landing, variables, titre, **options:
                        appels.append((variables, options)))
    monkeypatch.setattr(pipeline, "etapes_apres_dbt", lambda *a: None)
    monkeypatch.setattr(pipeline, "finaliser", lambda fichier: fichier.write_bytes(b""))
    # A warehouse that was never published through the gate (no cells kept beside it) is no
    # previous publication: the choice would trust cells the gate does not know.
    pipeline.construire_entrepot(precedent, tmp_path / "landing", remplacer=False)
    controle_secret.chemin_precedente(precedent).write_text("{}", encoding="utf-8")
    pipeline.construire_entrepot(precedent, tmp_path / "landing", remplacer=False)
    publication = [v for v, options in appels if options.get("selection")]
    assert [v["entrepot_precedent"] for v in publication] == ["", str(precedent)]
    assert all("entrepot_precedent" not in v for v, options in appels if not options.get("selection"))


def test_reconstruction_garde_les_cases_masquees(entrepot, tmp_path):
    """Built again with the dbt var `entrepot_precedent` naming the publication in place, every cell
    it hid stays hidden, as « precedent » when no other rule hides it first."""
    from capitalisation import config
    from capitalisation import entrepot as dbt_entrepot

    copie = tmp_path / ".entrepot.duckdb.construction"
    shutil.copy(entrepot, copie)
    resultat = dbt_entrepot.construire(
        copie, pipeline.dossier_landing(entrepot), tmp_path / "travail", selection="int_secret_cellules",
        variables={**config.variables_dbt(), "entrepot_precedent": str(entrepot)})
    assert resultat.succes, resultat.echecs
    pipeline.finaliser(copie)
    lue = tmp_path / "lue.duckdb"
    shutil.copy(copie, lue)
    avant = {r["cellule_id"] for r in lignes(entrepot, "select cellule_id from int_secret_cellules where secrete")}
    apres = {r["cellule_id"]: r["motif"] for r in lignes(lue, "select cellule_id, motif from int_secret_cellules "
                                                             "where secrete")}
    assert set(apres) == avant
    assert "precedent" in set(apres.values())
