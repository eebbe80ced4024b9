"""The scan of published outputs (controle_secret) on hand-made inputs: texts, tables, workbooks."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from capitalisation.publication import controle_secret
from capitalisation.publication.controle_secret import (
    Seuils,
    controler_tableau,
    controler_texte_brut,
)

SEUILS = Seuils(effectif=5, denominateur=10)


def test_texte_petits_effectifs():
    assert controler_texte_brut("fiche", "Le projet a suivi 3 ménages en 2019.", SEUILS)
    assert controler_texte_brut("fiche", "dont 5 foyers relogés", SEUILS)
    assert not controler_texte_brut("fiche", "Le projet a suivi 12 ménages.", SEUILS)
    assert not controler_texte_brut("fiche", "Aucun (0 ménage) n'a été expulsé.", SEUILS)
    assert not controler_texte_brut("fiche", "le programme 10 000 logements HLM accompagnés", SEUILS)


def test_texte_k_sur_n():
    # Small k, small complement, small denominator.
    assert controler_texte_brut("page", "93 % (2 sur 17 ; IC 95 %)", SEUILS)
    assert controler_texte_brut("page", "96 % (118 sur 123)", SEUILS)
    assert controler_texte_brut("page", "8 / 9 ménages à jour", SEUILS)
    assert controler_texte_brut("page", "75 % sur 8 ménages", SEUILS)
    # Safe figures, with French thousands separators.
    assert not controler_texte_brut("page", "93 % (114 sur 123 ; IC 95 % : 87 % – 96 %)", SEUILS)
    assert not controler_texte_brut("page", "82 % (1\u202f136 / 1\u202f390)", SEUILS)
    # A document's page numbering is not a proportion; a small k/n right after it still is.
    assert not controler_texte_brut("fiche.pdf", "Page 3 / 5 | Programme", SEUILS)
    assert controler_texte_brut("fiche.pdf", "Page 3 : 2 / 17 ménages", SEUILS)
    # Fractions and dates without spaces are not counts.
    assert not controler_texte_brut("page", "deux tiers (2/3) ; le 12/2019", SEUILS)
    # Rendez-vous are not households.
    assert not controler_texte_brut("page", "Rendez-vous honorés : 37 sur 40", SEUILS)


def test_tableau_structure_et_soustraction():
    entete = ["Bailleur", "Code indicateur", "Dénominateur (n)", "Numérateur (k)", "Proportion (%)"]
    une_case = [
        entete,
        ["A", "maintien", "20", "18", "90,0"],
        ["B", "maintien", "s", "s", "s"],
        ["C", "maintien", "30", "29", "96,7"],
        ["Ensemble du programme", "maintien", "57", "52", "91,2"],
    ]
    constats = controler_tableau("export.csv", une_case, SEUILS)
    assert any("se déduit par soustraction" in c and "ligne 3" in c for c in constats), constats
    deux_cases = [entete, ["A", "maintien", "s", "s", "s"], ["B", "maintien", "s", "s", "s"],
                  ["C", "maintien", "30", "22", "73,3"], ["Ensemble du programme", "maintien", "57", "45", "78,9"]]
    assert not controler_tableau("export.csv", deux_cases, SEUILS)
    petits = [entete, ["A", "maintien", "12", "3", "25,0"], ["B", "maintien", "8", "7", "87,5"],
              ["C", "maintien", "40", "37", "92,5"]]
    constats = controler_tableau("export.csv", petits, SEUILS)
    assert any("Numérateur (k) = 3" in c for c in constats)
    assert any("proportion publiée sur 8" in c for c in constats)
    assert any("Dénominateur (n) − Numérateur (k) = 3" in c for c in constats)


def test_xlsx_formule_et_petite_case(tmp_path: Path):
    chemin = tmp_path / "export.xlsx"
    classeur = xlsxwriter.Workbook(str(chemin))
    feuille = classeur.add_worksheet("Bailleurs")
    for j, titre in enumerate(["Bailleur", "Ménages"]):
        feuille.write_string(0, j, titre)
    feuille.write_string(1, 0, "A")
    feuille.write_number(1, 1, 4)
    feuille.write_formula(2, 1, "=1+1")
    classeur.close()
    constats = controle_secret.controler(None, [tmp_path])
    assert any("formule dans un export" in c for c in constats)
    assert any("Ménages = 4" in c for c in constats)


def test_page_html_et_tableaux(tmp_path: Path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "fiche.html").write_text(
        "<html><body><p>Seuls 2 ménages ont été relogés.</p>"
        "<table><tr><th>Bailleur</th><th>Ménages</th></tr><tr><td>A</td><td>3</td></tr></table>"
        "<script>var x = '4 ménages';</script></body></html>", encoding="utf-8")
    constats = controle_secret.controler(None, [tmp_path / "site"])
    assert any("2 ménages" in c for c in constats)
    assert any("Ménages = 3" in c for c in constats)
    assert not any("4 ménages" in c for c in constats)  # script text is not shown
