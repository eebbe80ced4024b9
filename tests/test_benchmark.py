"""The landlords' benchmark on the demo deliveries: funnel-plot limits recomputed by hand and
with scipy, the overdispersion estimate, the landlord's anonymised view, the CLI, the
spreadsheet writers against formula injection, the figures and the site's page. (The
overdispersion option itself is tested in test_secret_statistique.py, whose warehouse is
built with it on.)"""

from __future__ import annotations

import json
import math
import re
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest
from rich.console import Console
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from capitalisation import cli, config, lecture, pipeline
from capitalisation.demo import generer_demo
from capitalisation.publication import benchmark, controle_secret, entonnoirs, tableurs

Z95, Z998 = norm.ppf(0.975), norm.ppf(0.999)


@pytest.fixture(scope="module")
def entrepot(tmp_path_factory) -> Path:
    """The demo warehouse. The deliveries are read straight into the landing area: their
    validation is tested elsewhere, and skipping it keeps this module fast."""
    dossier = tmp_path_factory.mktemp("demo")
    exports = dossier / "exports"
    generer_demo(exports, graine=config.GRAINE_DEMO)
    chemin = dossier / "entrepot.duckdb"
    landing = pipeline.dossier_landing(chemin)
    landing.mkdir(parents=True)
    lecture.ecrire_schemas_vides(landing)
    livraisons = lecture.livraisons_en_usage(lecture.trouver_livraisons(exports))
    assert len(livraisons) == 5
    for livraison in livraisons:
        lecture.lire_livraison(livraison, landing)
    pipeline.construire_entrepot(chemin, landing)
    return chemin


@pytest.fixture(scope="module")
def exports(entrepot, tmp_path_factory) -> Path:
    sortie = tmp_path_factory.mktemp("exports")
    benchmark.exporter(benchmark.lire_vue(entrepot), sortie)
    benchmark.exporter(benchmark.lire_vue(entrepot, "batigere", sel="sel-de-test"), sortie)
    return sortie


def table(entrepot: Path, requete: str) -> pd.DataFrame:
    con = duckdb.connect(str(entrepot), read_only=True)
    try:
        return con.execute(requete).fetchdf()
    finally:
        con.close()


def attendus_independants(entrepot: Path) -> pd.DataFrame:
    """Landlords across projects from fct_indicateurs_bailleur (not from the benchmark's own
    path), limits from scipy's normal quantiles, Wilson intervals from statsmodels."""
    codes = [code for code, _, _ in benchmark.INDICATEURS]
    par_projet = table(entrepot, "select * from fct_indicateurs_bailleur")
    par_projet = par_projet[par_projet["indicateur"].isin(codes)]
    attendu = par_projet.groupby(["bailleur_id", "indicateur"], as_index=False)[["n", "k"]].sum()
    programme = attendu.groupby("indicateur")[["n", "k"]].sum()
    attendu["p0"] = attendu["indicateur"].map(programme["k"] / programme["n"])
    attendu["p"] = attendu["k"] / attendu["n"]
    erreur = np.sqrt(attendu["p0"] * (1 - attendu["p0"]) / attendu["n"])
    for nom, z in (("95", Z95), ("998", Z998)):
        attendu[f"bas_{nom}"] = np.clip(attendu["p0"] - z * erreur, 0, 1)
        attendu[f"haut_{nom}"] = np.clip(attendu["p0"] + z * erreur, 0, 1)
        attendu[f"position_{nom}"] = np.where(
            attendu["p"] > attendu[f"haut_{nom}"], "au_dessus",
            np.where(attendu["p"] < attendu[f"bas_{nom}"], "en_dessous", "dans_les_limites"))
    attendu["z"] = (attendu["p"] - attendu["p0"]) / erreur
    bornes = [proportion_confint(k, n, alpha=0.05, method="wilson") for k, n in zip(attendu["k"], attendu["n"])]
    attendu["ic_bas"] = [b for b, _ in bornes]
    attendu["ic_haut"] = [h for _, h in bornes]
    return attendu


def test_limites_a_la_main():
    """p0 = 80 %, n = 25: the standard error is 0.08."""
    bas, haut = entonnoirs.limites(0.8, 25, entonnoirs.Z_95)
    assert math.isclose(bas, 0.8 - 1.959963984540054 * 0.08) and math.isclose(haut, 0.9567971187632043)
    bas, haut = entonnoirs.limites(0.8, 25, entonnoirs.Z_998)
    assert math.isclose(bas, 0.5527814154933750) and haut == 1.0  # 1.047 clipped
    bas, haut = entonnoirs.limites(0.8, 25, entonnoirs.Z_95, phi=4.0)
    assert math.isclose(0.8 - bas, 2 * 1.959963984540054 * 0.08) and haut == 1.0  # √φ = 2
    assert math.isclose(entonnoirs.Z_95, Z95) and math.isclose(entonnoirs.Z_998, Z998)


def test_benchmark_bailleur_recalcule_independamment(entrepot):
    obtenu = table(entrepot, "select * from fct_benchmark_bailleur")
    attendu = attendus_independants(entrepot)
    fusion = obtenu.merge(attendu, on=["bailleur_id", "indicateur"], suffixes=("", "_attendu"))
    assert len(fusion) == len(obtenu) == len(attendu) == 15 * 8
    assert (fusion["n"] == fusion["n_attendu"]).all() and (fusion["k"] == fusion["k_attendu"]).all()
    for colonne, attendue in (("proportion", "p"), ("moyenne_programme", "p0"), ("z_score", "z"),
                              ("ic_bas", "ic_bas_attendu"), ("ic_haut", "ic_haut_attendu"),
                              ("limite_95_bas", "bas_95"), ("limite_95_haut", "haut_95"),
                              ("limite_998_bas", "bas_998"), ("limite_998_haut", "haut_998")):
        ecarts = (fusion[colonne] - fusion[attendue]).abs()
        assert ecarts.max() < 1e-9, (colonne, fusion.loc[ecarts.idxmax()].to_dict())
    assert (fusion["position_95"] == fusion["position_95_attendu"]).all()
    assert (fusion["position_998"] == fusion["position_998_attendu"]).all()
    # The demo has landlords outside the limits on both sides.
    assert set(fusion["position_95"]) == {"au_dessus", "dans_les_limites", "en_dessous"}
    # The programme average is the programme's pooled proportion.
    programme = table(entrepot, "select indicateur, valeur from fct_indicateurs_programme")
    moyennes = dict(zip(programme["indicateur"], programme["valeur"], strict=True))
    assert all(math.isclose(p0, moyennes[i]) for i, p0 in zip(fusion["indicateur"], fusion["p0"]))
    # Overdispersion: winsorised (10 % at each end) mean of z², numpy's linear quantiles.
    for indicateur, groupe in fusion.groupby("indicateur"):
        z = groupe["z"].to_numpy()
        bas, haut = np.quantile(z, 0.1), np.quantile(z, 0.9)
        assert math.isclose(groupe["surdispersion_estimee"].iloc[0], np.mean(np.clip(z, bas, haut) ** 2),
                            rel_tol=1e-9), indicateur
    assert (fusion["surdispersion_appliquee"] == 1.0).all()  # option off by default


def test_benchmark_projet_bailleur_et_courbes_des_figures(entrepot):
    obtenu = table(entrepot, "select * from fct_benchmark_projet_bailleur")
    source = table(entrepot, "select * from fct_indicateurs_bailleur")
    fusion = obtenu.merge(source, on=["projet_id", "bailleur_id", "indicateur"], suffixes=("", "_source"))
    assert len(fusion) == len(obtenu) and (fusion["n"] == fusion["n_source"]).all()
    assert ((fusion["proportion"] - fusion["valeur"]).abs() < 1e-12).all()
    # The curves drawn by the figures go through the warehouse's limits at each n.
    for _, ligne in obtenu.iterrows():
        bas, haut = entonnoirs.limites(ligne["moyenne_programme"], ligne["n"], entonnoirs.Z_998)
        assert math.isclose(bas, ligne["limite_998_bas"], abs_tol=1e-12)
        assert math.isclose(haut, ligne["limite_998_haut"], abs_tol=1e-12)


def test_publication_du_benchmark_sans_petite_case(entrepot, exports):
    assert controle_secret.controler(entrepot, [exports]) == []
    publie = table(entrepot, "select * from pub_benchmark_bailleur")
    vrai = table(entrepot, "select * from fct_benchmark_bailleur")
    fusion = publie.merge(vrai, on=["bailleur_id", "indicateur"], suffixes=("", "_vrai"))
    petites = fusion[(fusion["n_vrai"] < config.SEUIL_DENOMINATEUR) & (fusion["indicateur"] != "rdv_honores")]
    assert not petites.empty and petites["proportion"].isna().all()
    assert petites["position_95"].isna().all()


def test_vue_bailleur_anonymisee(entrepot, exports):
    vue = benchmark.lire_vue(entrepot, "  Batigere ", sel="sel-de-test")
    assert vue.lecteur == "batigere" and vue.libelles["batigere"] == "Batigère"
    autres = {code: libelle for code, libelle in vue.libelles.items() if code != "batigere"}
    assert len(autres) == 14
    assert sorted(autres.values()) == sorted(f"Bailleur {chr(ord('A') + i)}" for i in range(14))
    # Letters follow a salted hash: not the alphabetical order of codes, and another salt
    # gives another order.
    alphabetique = {code: f"Bailleur {chr(ord('A') + i)}" for i, code in enumerate(sorted(autres))}
    assert autres != alphabetique
    assert benchmark.pseudonymes(list(vue.libelles), "batigere", "autre-sel") != autres
    assert benchmark.pseudonymes(list(vue.libelles), "batigere", "sel-de-test") == autres
    assert set(vue.projets["bailleur_id"]) == {"batigere"}
    assert "projets" not in vue.bailleurs.columns
    # No other landlord's code or name anywhere in the landlord's export.
    catalogue = table(entrepot, "select bailleur_id, nom from bailleurs")
    interdits = [t for code, nom in zip(catalogue["bailleur_id"], catalogue["nom"], strict=True)
                 if code != "batigere" for t in (code, nom)]
    textes = []
    for fichier in (exports / "bailleur-batigere").iterdir():
        if fichier.suffix == ".xlsx":
            with zipfile.ZipFile(fichier) as archive:
                textes += [archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml")]
        else:
            textes.append(fichier.read_bytes().decode("utf-8", errors="ignore"))
    tout = "\n".join(textes)
    assert "Batigère" in tout and "Bailleur A" in tout
    trouves = [t for t in interdits if re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", tout)]
    assert trouves == []
    manifeste = json.loads((exports / "bailleur-batigere" / "benchmark.json").read_text(encoding="utf-8"))
    assert manifeste["vue"] == "bailleur" and manifeste["lecteur"] == "Batigère"
    assert "sel-de-test" not in tout  # the salt is never written


def test_vue_programme(entrepot, exports):
    vue = benchmark.lire_vue(entrepot)
    catalogue = table(entrepot, "select bailleur_id, nom from bailleurs")
    assert vue.libelles == dict(zip(catalogue["bailleur_id"], catalogue["nom"], strict=True))
    assert len(vue.projets) == len(table(entrepot, "select * from pub_benchmark_projet_bailleur"))
    console = Console(record=True, width=200)
    benchmark.afficher(vue, console=console)
    texte = console.export_text()
    assert "Ensemble du programme" in texte and "Pierres et Lumières" in texte
    fichiers = {f.name for f in (exports / "programme").iterdir()}
    assert {"benchmark_bailleurs.csv", "benchmark_projets_bailleurs.csv", "benchmark.xlsx", "benchmark.json"} <= fichiers
    assert {f"entonnoir_{code}.{ext}" for code, _, _ in benchmark.INDICATEURS for ext in ("png", "svg")} <= fichiers
    brut = (exports / "programme" / "benchmark_bailleurs.csv").read_bytes()
    assert brut.startswith(b"\xef\xbb\xbf") and b";" in brut.splitlines()[0]
    assert re.search(rb";\d+,\d;", brut)  # decimal comma


def test_figures_et_texte_alternatif(exports):
    manifeste = json.loads((exports / "bailleur-batigere" / "benchmark.json").read_text(encoding="utf-8"))
    adhesion = next(f for f in manifeste["figures"] if f["indicateur"] == "adhesion")
    assert adhesion["titre"] == "Adhésion à l'accompagnement"
    assert "Moyenne du programme" in adhesion["texte_alternatif"] or "Aucun point publiable" in adhesion["texte_alternatif"]
    # the landlord's own point is named in the text of every funnel where it is published
    avec_point = [f for f in manifeste["figures"] if "Aucun point publiable" not in f["texte_alternatif"]]
    assert avec_point and all("Moyenne du programme" in f["texte_alternatif"] for f in avec_point)
    assert any("Batigère" in f["texte_alternatif"] for f in avec_point)
    assert "limites de contrôle à 95 %" in adhesion["legende"]
    figure = avec_point[0]
    svg = (exports / "bailleur-batigere" / f"entonnoir_{figure['indicateur']}.svg").read_text(encoding="utf-8")
    assert figure["titre"] in svg
    png = (exports / "bailleur-batigere" / "entonnoir_adhesion.png").read_bytes()
    assert png.startswith(b"\x89PNG") and "Diagramme en entonnoir".encode("latin-1", "ignore") in png


def test_page_du_site(exports, monkeypatch):
    monkeypatch.chdir(exports)
    page = benchmark.page_benchmark(exports / "programme")
    assert "## Diagrammes en entonnoir" in page
    assert "![" in page and "(programme/entonnoir_adhesion.png){fig-alt=" in page
    assert "| Pierres et Lumières |" in page and "(programme/benchmark.xlsx)" in page
    assert "Aucun benchmark" in benchmark.page_benchmark(exports / "absent")


def test_cli(entrepot, tmp_path, capsys):
    code = cli.main(["benchmark", "--bailleur", "inconnu", "--warehouse", str(entrepot), "--sortie", str(tmp_path)])
    erreur = capsys.readouterr().err
    assert code == 1 and "bailleur inconnu : « inconnu »" in erreur and "Traceback" not in erreur
    code = cli.main(["benchmark", "--warehouse", str(tmp_path / "absent.duckdb"), "--sortie", str(tmp_path)])
    assert code == 1 and "entrepôt introuvable" in capsys.readouterr().err
    code = cli.main(["benchmark", "--bailleur", "erigere", "--warehouse", str(entrepot), "--sortie", str(tmp_path)])
    sortie = capsys.readouterr()
    assert code == 0 and "Erigère" in sortie.out
    assert (tmp_path / "bailleur-erigere" / "benchmark.xlsx").exists()


HOSTILES = ["=HYPERLINK(\"http://exemple.invalid\",\"clic\")", "+1+1", "-2+3", "@SUM(A1:A2)",
            "\t=1+1", "\r=1+1", "\n=1+1", "=cmd|' /C calc'!A0"]


def test_csv_neutralise_les_formules(tmp_path):
    chemin = tmp_path / "hostile.csv"
    tableau = tableurs.Tableau("Essai", ["Texte", "Nombre"],
                               [[texte, -1.5] for texte in HOSTILES] + [["normal", 1705.25], [None, 0.1]])
    tableurs.ecrire_csv(chemin, tableau)
    brut = chemin.read_bytes()
    assert brut.startswith(b"\xef\xbb\xbf")
    import csv

    with open(chemin, encoding="utf-8-sig", newline="") as flux:
        lignes = list(csv.reader(flux, delimiter=";"))
    assert lignes[0] == ["Texte", "Nombre"]
    for ligne, texte in zip(lignes[1:], HOSTILES, strict=False):
        assert ligne[0] == "'" + texte, ligne
        assert ligne[1] == "-1,5"  # a number stays a number, with a decimal comma
    assert lignes[-2] == ["normal", "1705,25"] and lignes[-1] == ["", "0,1"]


def test_xlsx_sans_formule(tmp_path):
    chemin = tmp_path / "hostile.xlsx"
    tableau = tableurs.Tableau("Feuille [1]: essai/hostile?", ["Texte", "Nombre"],
                               [[texte, 2] for texte in HOSTILES] + [["s", None]], formats={"Nombre": "0.0"})
    tableurs.ecrire_xlsx(chemin, [tableau])
    with zipfile.ZipFile(chemin) as archive:
        feuilles = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert feuilles and not any("<f>" in f or "<f " in f for f in feuilles)
    classeur = openpyxl.load_workbook(chemin)
    feuille = classeur.worksheets[0]
    assert feuille.title == "Feuille _1__ essai_hostile_"
    valeurs = [(c.value, c.data_type) for c in feuille["A"][1:]]
    # The text as written (openpyxl shows a carriage return as its XML escape _x000D_).
    assert [v for v, _ in valeurs] == [t.replace("\r", "_x000D_") for t in HOSTILES] + ["s"]
    assert all(t == "s" for _, t in valeurs)
    assert feuille["B2"].value == 2 and feuille["B2"].data_type == "n"


def test_vue_publique_sans_nom_ni_code(entrepot, tmp_path, monkeypatch):
    """The public site's benchmark designates every landlord by a letter: a page naming them
    beside the figures a landlord's view gives under letters would give the names back."""
    vue = benchmark.lire_vue(entrepot, public=True, sel="sel-public")
    assert vue.public and vue.lecteur is None
    assert sorted(vue.libelles.values()) == sorted(f"Bailleur {chr(ord('A') + i)}" for i in range(15))
    dossier = benchmark.exporter(vue, tmp_path / "public")
    catalogue = table(entrepot, "select bailleur_id, nom from bailleurs")
    interdits = [t for code, nom in zip(catalogue["bailleur_id"], catalogue["nom"], strict=True)
                 for t in (code, nom)]
    textes = [f.read_bytes().decode("utf-8", errors="ignore") for f in Path(dossier).iterdir()
              if f.suffix in (".csv", ".json", ".svg")]
    monkeypatch.chdir(tmp_path)
    textes.append(benchmark.page_benchmark(dossier))
    tout = "\n".join(textes)
    assert "Bailleur A" in tout and "désignés par une lettre" in tout
    assert [t for t in interdits if re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", tout)] == []
    assert json.loads((Path(dossier) / "benchmark.json").read_text(encoding="utf-8"))["public"] is True


def test_page_arrondit_une_seule_fois():
    """4 036 / 4 955 = 81,45 %: the page shows 81 %, as every other output, not the export's
    81,5 % rounded again to 82 %."""
    ligne = {"Proportion (%)": "81,5", "Numérateur (k)": "4\u00a0036", "Dénominateur (n)": "4\u00a0955"}
    assert benchmark._case_page(ligne).startswith("81\u00a0%")
    assert benchmark._case_page({**ligne, "Numérateur (k)": "s"}) == "s"
