"""Deliveries built to break the validator: personal data as a header, a cell of a million
characters, a row of a hundred fields. Each is refused quickly, with a French message that
names the file, the column and the row, and never repeats what it refuses."""

from __future__ import annotations

import html
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from capitalisation import lecture
from capitalisation.validation import donnees_personnelles as dp
from capitalisation.validation import rapport, valider_livraison

from .corpus import cas as corpus

CLI = Path(sys.executable).with_name("capitalisation")
COURRIEL_ENTETE = "marcel.zorglub@exemple.fr"
NOM_TELEPHONE = "Dupont Marcel 06 12 34 56 78"
SECONDES_MAX = 10


def _ecrire_menages(dossier: Path, entetes_en_plus: list[str]) -> Path:
    dossier = corpus.ecrire_livraison(dossier, corpus.base())
    lignes = (dossier / "menages.csv").read_text(encoding="utf-8").splitlines()
    lignes[0] += "".join(f";{e}" for e in entetes_en_plus)
    lignes[1:] = [ligne + ";" * len(entetes_en_plus) for ligne in lignes[1:]]
    (dossier / "menages.csv").write_text("\n".join(lignes) + "\n", encoding="utf-8")
    return dossier


def _textes_interdits(valeur: str) -> list[str]:
    return [valeur, lecture.normaliser_nom(valeur), valeur.replace(" ", "")]


@pytest.mark.parametrize("entete", [COURRIEL_ENTETE, NOM_TELEPHONE])
def test_un_en_tete_donnee_personnelle_est_cite_par_sa_position(entete, tmp_path):
    dossier = _ecrire_menages(tmp_path / "exports" / corpus.PROJET / corpus.EXTRACTION.isoformat(), [entete])
    livraison = lecture.Livraison(corpus.PROJET, corpus.EXTRACTION, dossier)
    resultat = valider_livraison(livraison, tmp_path / "travail")
    assert not resultat.acceptee
    (hors_contrat,) = [e for e in resultat.echecs if e.code == "lecture"]
    position = len(corpus.COLONNES["menages"]) + 1
    assert hors_contrat.colonne == f"colonne n° {position}"
    assert hors_contrat.fichier == "menages.csv"
    rapport.ecrire_rapport(tmp_path / "rapport", resultat)
    textes = [json.dumps([e.en_dict() for e in resultat.echecs], ensure_ascii=False)]
    textes += [html.unescape(p.read_text(encoding="utf-8")) for p in (tmp_path / "rapport").iterdir()]
    for texte in textes:
        assert f"colonne n° {position}" in texte
        for interdit in _textes_interdits(entete):
            assert interdit.lower() not in texte.lower(), interdit


def test_le_terminal_ne_montre_pas_l_en_tete(tmp_path):
    dossier = _ecrire_menages(tmp_path / "exports" / corpus.PROJET / corpus.EXTRACTION.isoformat(),
                              ["nom", COURRIEL_ENTETE, NOM_TELEPHONE])
    execution = subprocess.run(
        [str(CLI), "valider", str(dossier), "--rapports", str(tmp_path / "rapports")],
        capture_output=True, text=True, timeout=300, env={"COLUMNS": "200", **_env()},
    )
    assert execution.returncode == 1
    sorties = execution.stdout + execution.stderr
    assert "Traceback" not in sorties
    assert "colonne n° 19" in sorties and "colonne n° 20" in sorties
    assert "nom" in sorties  # a harmless header out of the contract is still named
    for entete in (COURRIEL_ENTETE, NOM_TELEPHONE):
        for interdit in _textes_interdits(entete):
            assert interdit.lower() not in sorties.lower(), interdit


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "COLUMNS"}


def test_un_en_tete_anodin_garde_son_nom():
    assert lecture.nom_citable("Nom", 3) == "nom"
    assert lecture.nom_citable("", 4) == "colonne n° 4"
    assert lecture.nom_citable(NOM_TELEPHONE, 5) == "colonne n° 5"
    assert dp.en_tete_suspect("tel 0612345678")


@pytest.mark.parametrize(
    ("table", "colonne", "valeur", "code"),
    [
        ("menages", "menage_id", "x" * 1_000_000, "champ_trop_long"),
        ("menages", "menage_id", "1" + " " * 999_998 + "z", "champ_trop_long"),
        ("menages", "loyer_mensuel", "1" * 1_000_000, "champ_trop_long"),
        ("contacts", "intervenant", "a" * 600_000 + f" {corpus.COURRIEL} " + "b" * 400_000, "dp_courriel"),
    ],
    ids=["lettres", "espaces", "chiffres", "courriel_cache"],
)
def test_une_cellule_d_un_million_de_caracteres(table, colonne, valeur, code, tmp_path):
    donnees = corpus.base()
    donnees[table][2][colonne] = valeur
    dossier = corpus.ecrire_livraison(tmp_path / "exports" / corpus.PROJET / corpus.EXTRACTION.isoformat(), donnees)
    livraison = lecture.Livraison(corpus.PROJET, corpus.EXTRACTION, dossier)
    debut = time.perf_counter()
    resultat = valider_livraison(livraison, tmp_path / "travail")
    duree = time.perf_counter() - debut
    assert duree < SECONDES_MAX, duree
    assert not resultat.acceptee
    (echec,) = [e for e in resultat.echecs if e.code == code]
    assert (echec.fichier, echec.colonne, echec.premieres_lignes) == (f"{table}.csv", colonne, [4])


def test_detecteurs_lineaires_sur_une_longue_cellule():
    assert dp.natures_cellule("x" * 1_000_000) == ["long"]
    assert dp.natures_cellule("y" * 5000 + " 12 rue des Lilas") == ["long", "adresse"]


def test_une_ligne_de_cent_champs(tmp_path):
    donnees = corpus.base()
    dossier = corpus.ecrire_livraison(tmp_path / "exports" / corpus.PROJET / corpus.EXTRACTION.isoformat(), donnees)
    lignes = (dossier / "menages.csv").read_text(encoding="utf-8").splitlines()
    lignes[3] += ";x" * (100 - len(corpus.COLONNES["menages"]))
    (dossier / "menages.csv").write_text("\n".join(lignes) + "\n", encoding="utf-8")
    livraison = lecture.Livraison(corpus.PROJET, corpus.EXTRACTION, dossier)
    debut = time.perf_counter()
    resultat = valider_livraison(livraison, tmp_path / "travail")
    assert time.perf_counter() - debut < SECONDES_MAX
    (echec,) = [e for e in resultat.echecs if e.code == "lecture"]
    assert echec.fichier == "menages.csv" and echec.premieres_lignes == [4]
    assert "100 champs au lieu de 17" in echec.detail


def test_recherche_par_ligne_puis_par_cellule_ne_perd_rien():
    """The raw-file search tries a whole row first: it finds what a search cell by cell finds."""
    import random

    tirage = random.Random(7)
    valeurs = ["a1", "", "=SOMME(A1)", "-x", "@a", corpus.COURRIEL, corpus.TELEPHONE, "12 rue des Lilas",
               "12", "rue", "06", "12 34 56 78", "2019-01-01", "né le 12/04/1958", "x" * 1001, "+33", "1,5"]
    lignes = [["c1", "c2", "c3", "c4"]] + [[tirage.choice(valeurs) for _ in range(4)] for _ in range(400)]
    obtenus = {(c.nature, c.colonne): (c.lignes, c.premieres) for c in dp.scanner_lignes(iter(lignes), None)}
    attendus = dp.Constats()
    for numero, ligne in enumerate(lignes[1:], start=2):
        for position, cellule in enumerate(ligne):
            for nature in dp.natures_cellule(cellule):
                attendus.ajouter(nature, lignes[0][position], numero)
    assert obtenus == {(c.nature, c.colonne): (c.lignes, c.premieres) for c in attendus}
    assert len(obtenus) >= 8
