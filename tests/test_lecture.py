"""Reading deliveries: every form the data contract allows, and clear refusals."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from capitalisation import lecture
from capitalisation.erreurs import LivraisonIllisible

ENTETE_MENAGES = (
    "menage_id;projet_id;bailleur_id;cohorte;volet;date_orientation;date_debut_accompagnement;"
    "date_fin_accompagnement;motif_fin;composition;tranche_age;tranche_ressources;loyer_mensuel;"
    "taux_effort;departement;public_prioritaire;origine_orientation"
)
MENAGE_1 = "a1;declic;les_chalets;accompagne;maintien;15/01/2019;01/02/2019;;;isole;25_39;moins_1000;1 234,56;0,35;31;aucun;bailleur"
MENAGE_2 = "a2;declic;les_chalets;Temoin;ACCES;2019-01-20;;;;monoparental;40_59;1000_1500;450;;31;dalo;siao"
COMPTES = (
    "menage_id,projet_id,mois,quittance,aide_logement,paiement,regularisation,solde_fin_mois,plan_apurement\n"
    "a1,declic,2018-12,400.00,100,300,,0,non\n"
    "a1,declic,01/2019,400.10,100,250,-10.05,40.05,OUI\n"
    "a1,declic,2019-02,400.10,100,340.15,0,0,Vrai\n"
)


def ecrire(dossier: Path, nom: str, texte: str, encodage: str = "utf-8") -> None:
    dossier.mkdir(parents=True, exist_ok=True)
    (dossier / nom).write_bytes(texte.encode(encodage))


def livraison_type(exports: Path, projet: str = "declic", date: str = "2020-06-30", **remplacements) -> Path:
    dossier = exports / projet / date
    fichiers = {
        "menages.csv": (ENTETE_MENAGES.replace("menage_id", "Ménage_ID") + "\n" + MENAGE_1 + "\n" + MENAGE_2 + "\n", "cp1252"),
        "comptes_mensuels.csv": (COMPTES, "utf-8-sig"),
        "evenements.csv": ("menage_id;projet_id;date;type_evenement\na1;declic;2019-03-04;assignation\n", "utf-8"),
        "contacts.csv": ("menage_id;projet_id;date;type_contact;honore;intervenant\n", "utf-8"),
    }
    fichiers.update(remplacements)
    for nom, contenu in fichiers.items():
        if contenu is not None:
            texte, encodage = contenu
            ecrire(dossier, nom, texte, encodage)
    return dossier


def lire(exports: Path, landing: Path) -> lecture.LivraisonLue:
    (livraison,) = lecture.livraisons_en_usage(lecture.trouver_livraisons(exports))
    return lecture.lire_livraison(livraison, landing)


def table(landing: Path, nom: str) -> list[dict]:
    con = duckdb.connect()
    try:
        curseur = con.execute(
            f"select * from read_parquet('{landing}/{nom}/*.parquet') order by ligne_source"
        )
        noms = [d[0] for d in curseur.description]
        return [dict(zip(noms, ligne)) for ligne in curseur.fetchall()]
    finally:
        con.close()


def test_formats_francais_lus_et_types(tmp_path):
    livraison_type(tmp_path / "exports")
    lue = lire(tmp_path / "exports", tmp_path / "landing")
    assert {t: lue.tables[t].lignes for t in lue.tables} == {
        "menages": 2, "comptes_mensuels": 3, "evenements": 1, "contacts": 0,
    }
    assert lue.tables["menages"].encodage == "cp1252"
    assert lue.tables["menages"].separateur == ";"
    assert lue.tables["comptes_mensuels"].encodage == "utf-8-sig"
    menages = table(tmp_path / "landing", "menages")
    premier, second = menages
    assert premier["date_orientation"] == dt.date(2019, 1, 15)
    assert premier["loyer_mensuel"] == Decimal("1234.56")
    assert premier["taux_effort"] == pytest.approx(0.35)
    assert premier["date_fin_accompagnement"] is None
    assert second["cohorte"] == "temoin" and second["volet"] == "acces"
    assert second["date_orientation"] == dt.date(2019, 1, 20)
    assert premier["date_extraction"] == dt.date(2020, 6, 30)
    comptes = table(tmp_path / "landing", "comptes_mensuels")
    assert [c["mois"] for c in comptes] == [dt.date(2018, 12, 1), dt.date(2019, 1, 1), dt.date(2019, 2, 1)]
    assert [c["regularisation"] for c in comptes] == [Decimal("0"), Decimal("-10.05"), Decimal("0")]
    assert [c["plan_apurement"] for c in comptes] == [False, True, True]
    # line numbers of the delivered file, the header being line 1
    assert [c["ligne_source"] for c in comptes] == [2, 3, 4]
    assert sum(c["paiement"] for c in comptes) == Decimal("890.15")


def test_entetes_casse_et_accents(tmp_path):
    entete = ENTETE_MENAGES.replace("menage_id", "Ménage ID").replace("date_orientation", "DATE_ORIENTATION")
    livraison_type(
        tmp_path / "exports",
        **{"menages.csv": (entete + "\n" + MENAGE_1 + "\n", "cp1252")},
    )
    lue = lire(tmp_path / "exports", tmp_path / "landing")
    assert lue.tables["menages"].lignes == 1
    assert table(tmp_path / "landing", "menages")[0]["menage_id"] == "a1"


def test_milliers_avec_espace_insecable(tmp_path):
    ligne = MENAGE_1.replace("1 234,56", "1\u00a0234,56")
    livraison_type(tmp_path / "exports", **{"menages.csv": (ENTETE_MENAGES + "\n" + ligne + "\n", "utf-8")})
    lire(tmp_path / "exports", tmp_path / "landing")
    assert table(tmp_path / "landing", "menages")[0]["loyer_mensuel"] == Decimal("1234.56")


def test_classeur_xlsx(tmp_path):
    import xlsxwriter

    dossier = tmp_path / "exports" / "declic" / "2020-06-30"
    dossier.mkdir(parents=True)
    classeur = xlsxwriter.Workbook(str(dossier / "export.xlsx"))
    date = classeur.add_format({"num_format": "dd/mm/yyyy"})
    feuilles = {
        "menages": [ENTETE_MENAGES.split(";"), MENAGE_2.split(";")],
        "comptes_mensuels": [ligne.split(",") for ligne in COMPTES.strip().splitlines()[:2]],
        "evenements": [["menage_id", "projet_id", "date", "type_evenement"],
                       ["a2", "declic", dt.datetime(2019, 3, 4), "assignation"]],
        "contacts": [["menage_id", "projet_id", "date", "type_contact", "honore", "intervenant"]],
    }
    for nom, lignes in feuilles.items():
        feuille = classeur.add_worksheet(nom.capitalize())
        for i, ligne in enumerate(lignes):
            for j, valeur in enumerate(ligne):
                if isinstance(valeur, dt.datetime):
                    feuille.write_datetime(i, j, valeur, date)
                elif nom == "menages" and i > 0 and j == 12:
                    feuille.write_number(i, j, 450.1)
                else:
                    feuille.write(i, j, valeur)
    classeur.close()
    lue = lire(tmp_path / "exports", tmp_path / "landing")
    assert lue.tables["evenements"].fichier.endswith("export.xlsx:evenements")
    assert table(tmp_path / "landing", "evenements")[0]["date"] == dt.date(2019, 3, 4)
    assert table(tmp_path / "landing", "menages")[0]["loyer_mensuel"] == Decimal("450.10")


def test_la_plus_recente_extraction_est_en_usage(tmp_path):
    livraison_type(tmp_path / "exports", date="2019-06-30")
    livraison_type(tmp_path / "exports", date="2019-12-31")
    livraison_type(tmp_path / "exports", projet="solide_r", date="2014-01-31")
    livraisons = lecture.trouver_livraisons(tmp_path / "exports")
    assert len(livraisons) == 3
    en_usage = lecture.livraisons_en_usage(livraisons)
    assert [(lv.projet_id, lv.date_extraction.isoformat()) for lv in en_usage] == [
        ("declic", "2019-12-31"), ("solide_r", "2014-01-31"),
    ]


@pytest.mark.parametrize(
    ("remplacements", "attendu"),
    [
        ({"contacts.csv": None}, "fichiers manquant(e)s : contacts.csv"),
        ({"menages.csv": ("", "utf-8")}, "menages.csv : fichier vide"),
        ({"menages.csv": (ENTETE_MENAGES.replace(";taux_effort", "") + "\n", "utf-8")},
         "menages.csv : colonnes manquantes : taux_effort"),
        ({"menages.csv": (ENTETE_MENAGES + ";nom\n", "utf-8")}, "colonnes hors contrat : nom"),
        ({"menages.csv": (ENTETE_MENAGES + ";cohorte\n", "utf-8")}, "colonnes en double : cohorte"),
        ({"menages.csv": (ENTETE_MENAGES + "\n" + MENAGE_1.replace("15/01/2019", "31/02/2019") + "\n", "utf-8")},
         "colonne date_orientation : 1 ligne(s) (2) ne sont pas une date"),
        ({"comptes_mensuels.csv": (COMPTES.replace("400.10,100,250", "400.101,100,250"), "utf-8")},
         "colonne quittance : 1 ligne(s) (3) ne sont pas un montant"),
        ({"comptes_mensuels.csv": (COMPTES.replace(",OUI", ",peut-être"), "utf-8")},
         "colonne plan_apurement : 1 ligne(s) (3) ne sont pas oui/non"),
        ({"menages.csv": (ENTETE_MENAGES + "\n" + MENAGE_1 + ";en trop\n", "utf-8")},
         "structure CSV illisible à la ligne 2 : 18 champs au lieu de 17"),
        ({"menages.csv": ("\x00\x01\x02binaire", "latin-1")}, "fichier binaire"),
    ],
)
def test_livraison_illisible_message_clair(tmp_path, remplacements, attendu):
    livraison_type(tmp_path / "exports", **remplacements)
    with pytest.raises(LivraisonIllisible) as erreur:
        lire(tmp_path / "exports", tmp_path / "landing")
    assert attendu in str(erreur.value)
    assert "declic/2020-06-30" in str(erreur.value)
    # nothing of a failed delivery lands
    assert not list((tmp_path / "landing").rglob("*.parquet")) if (tmp_path / "landing").exists() else True


def test_dossier_mal_nomme(tmp_path):
    livraison_type(tmp_path / "exports", date="30-06-2020")
    with pytest.raises(LivraisonIllisible, match="AAAA-MM-JJ"):
        lecture.trouver_livraisons(tmp_path / "exports")


def test_numeros_de_ligne_fideles_sur_un_gros_fichier(tmp_path):
    """Parallel reading keeps each row's line number: here quittance equals the line number."""
    lignes = [COMPTES.splitlines()[0]] + [
        f"a1,declic,{2000 + (i // 12) % 50:04d}-{i % 12 + 1:02d},{i + 2}.00,0,0,0,0,non" for i in range(120_000)
    ]
    livraison_type(tmp_path / "exports", **{"comptes_mensuels.csv": ("\n".join(lignes) + "\n", "utf-8")})
    lire(tmp_path / "exports", tmp_path / "landing")
    con = duckdb.connect()
    (ecarts, total) = con.execute(
        f"select count(*) filter (where quittance != ligne_source), count(*) "
        f"from read_parquet('{tmp_path}/landing/comptes_mensuels/*.parquet')"
    ).fetchone()
    assert (ecarts, total) == (0, 120_000)


# --------------------------------------------------------------------------- DuckDB's typed reader


def _contenu(parquet: Path) -> tuple[list, list]:
    con = duckdb.connect()
    try:
        schema = con.execute("describe select * from read_parquet(?)", [str(parquet)]).fetchall()
        lignes = con.execute("select * from read_parquet(?)", [str(parquet)]).fetchall()
    finally:
        con.close()
    return schema, lignes


def _lire_les_deux_chemins(monkeypatch, livraison, landing: Path) -> tuple[dict, dict, list[str]]:
    """Read a delivery by the typed path, then by the line-by-line one alone."""
    typees = []
    original = lecture._lecture_typee

    def espion(*args, **kwargs):
        lignes = original(*args, **kwargs)
        if lignes is not None:
            typees.append(args[2].name)
        return lignes

    monkeypatch.setattr(lecture, "_lecture_typee", espion)
    rapide = lecture.lire_livraison(livraison, landing / "rapide")
    monkeypatch.setattr(lecture, "_lecture_typee", lambda *args, **kwargs: None)
    lent = lecture.lire_livraison(livraison, landing / "lent")
    monkeypatch.setattr(lecture, "_lecture_typee", original)
    return rapide.tables, lent.tables, typees


def test_lecture_typee_meme_contenu_que_la_lecture_ligne_a_ligne(tmp_path, monkeypatch):
    from capitalisation.bench.generateur import generer

    jeu = generer(tmp_path / "exports", 1200)
    for livraison in lecture.trouver_livraisons(jeu.exports):
        rapide, lent, typees = _lire_les_deux_chemins(monkeypatch, livraison, tmp_path / livraison.projet_id)
        assert "comptes_mensuels.csv" in typees and "menages.csv" in typees  # French and ISO files alike
        assert set(rapide) == set(lent)
        for table in rapide:
            assert rapide[table].lignes == lent[table].lignes
            assert _contenu(rapide[table].parquet) == _contenu(lent[table].parquet), table


@pytest.mark.parametrize(
    ("cellule", "attendu"),
    [("358,401", "quittance : 1 ligne(s) (3)"), ("12,0004", "quittance : 1 ligne(s) (3)"),
     ("1 234,50", None), ("12.5", None)],
    ids=["troisieme_decimale", "quatrieme_decimale", "milliers", "point_dans_un_fichier_virgule"],
)
def test_lecture_typee_ne_laisse_rien_passer(tmp_path, cellule, attendu, monkeypatch):
    """A cell DuckDB would round or reject sends the file to the line-by-line path."""
    entete = "menage_id;projet_id;mois;quittance;aide_logement;paiement;regularisation;solde_fin_mois;plan_apurement"
    texte = (f"{entete}\na1;declic;2019-01;400,00;100;300;0;0;non\n"
             f"a1;declic;2019-02;{cellule};100;300;0;0;non\n")
    ecrire(tmp_path, "comptes_mensuels.csv", texte)
    con = duckdb.connect()
    parquet = tmp_path / "landing" / "x.parquet"
    try:
        assert lecture._lecture_typee(
            con, lecture.contrat.COMPTES_MENSUELS, tmp_path / "comptes_mensuels.csv", ";",
            {n: i for i, n in enumerate(entete.split(";"))}, 9, dt.date(2020, 6, 30), parquet) is None
        assert not parquet.exists()
        if attendu:
            with pytest.raises(LivraisonIllisible, match=re.escape(attendu)):
                lecture.lire_table(con, lecture.contrat.COMPTES_MENSUELS, tmp_path / "comptes_mensuels.csv",
                                   "comptes_mensuels.csv", dt.date(2020, 6, 30), parquet, tmp_path)
        else:
            lue = lecture.lire_table(con, lecture.contrat.COMPTES_MENSUELS, tmp_path / "comptes_mensuels.csv",
                                     "comptes_mensuels.csv", dt.date(2020, 6, 30), parquet, tmp_path)
            assert lue.lignes == 2
    finally:
        con.close()


@pytest.mark.parametrize(
    "mois",
    ["2019-02", "02/2019", "2/2019", "2019-2", " 2019-02", "2019-02 ", "2019-13", "13/2019", "2019-02-01",
     "02/2019/1", "févr. 2019", ""],
)
def test_mois_type_par_duckdb_comme_par_la_lecture_ligne_a_ligne(tmp_path, mois, monkeypatch):
    """A file with months and no date has its months typed by DuckDB itself: whatever it
    accepts holds what the line-by-line path writes; whatever it doubts goes that path."""
    entete = "menage_id;projet_id;mois;quittance;aide_logement;paiement;regularisation;solde_fin_mois;plan_apurement"
    format_iso = "-" in mois
    autre = "2019-01" if format_iso else "01/2019"
    ecrire(tmp_path, "comptes_mensuels.csv", f"{entete}\na1;declic;{autre};400,00;100;300;0;0;non\n"
                                             f"a1;declic;{mois};400,00;100;300;0;0;non\n")
    position = {n: i for i, n in enumerate(entete.split(";"))}
    con = duckdb.connect()
    try:
        rapide = lecture._lecture_typee(con, lecture.contrat.COMPTES_MENSUELS, tmp_path / "comptes_mensuels.csv",
                                        ";", position, 9, dt.date(2020, 6, 30), tmp_path / "rapide.parquet")
        try:
            lent = lecture._lecture_ligne_a_ligne(
                con, lecture.contrat.COMPTES_MENSUELS, tmp_path / "comptes_mensuels.csv", ";", "comptes_mensuels.csv",
                dt.date(2020, 6, 30), tmp_path / "lent.parquet", position, entete.split(";"))
        except LivraisonIllisible:
            lent = None
    finally:
        con.close()
    if lent is None:  # refused by the slow path: the typed path must not have accepted it
        assert rapide is None
    elif rapide is not None:
        assert _contenu(tmp_path / "rapide.parquet") == _contenu(tmp_path / "lent.parquet")
    if mois in ("2019-02", "02/2019"):
        assert rapide == 2  # the ordinary months stay on the typed path


def test_un_format_au_dela_de_l_echantillon_passe_par_la_lecture_ligne_a_ligne(tmp_path, monkeypatch):
    """Formats are guessed from the first rows only: a month written otherwise further down,
    or a decimal comma, is rejected by DuckDB and the file read line by line, same content."""
    entete = "menage_id;projet_id;mois;quittance;aide_logement;paiement;regularisation;solde_fin_mois;plan_apurement"
    lignes = [f"a{i};declic;2019-01;400.00;100;300;0;0;non" for i in range(lecture.ECHANTILLON_FORMATS + 5)]
    lignes += ["b1;declic;02/2019;400.00;100;300;0;0;non", "b2;declic;2019-02;400,50;100;300;0;0;non"]
    ecrire(tmp_path / "exports" / "declic" / "2020-06-30", "comptes_mensuels.csv", entete + "\n" + "\n".join(lignes) + "\n")
    for nom in ("menages", "evenements", "contacts"):
        ecrire(tmp_path / "exports" / "declic" / "2020-06-30", f"{nom}.csv",
               ";".join(lecture.contrat.TABLES[nom].noms_colonnes) + "\n")
    (livraison,) = lecture.trouver_livraisons(tmp_path / "exports")
    rapide, lent, typees = _lire_les_deux_chemins(monkeypatch, livraison, tmp_path / "landing")
    assert "comptes_mensuels.csv" not in typees
    assert rapide["comptes_mensuels"].lignes == len(lignes)
    assert _contenu(rapide["comptes_mensuels"].parquet) == _contenu(lent["comptes_mensuels"].parquet)
    mois = {ligne[0]: (ligne[2], ligne[3]) for ligne in _contenu(rapide["comptes_mensuels"].parquet)[1]}
    assert mois["b1"] == (dt.date(2019, 2, 1), Decimal("400.00")) and mois["b2"][1] == Decimal("400.50")


def _lignes_non_vides_naif(chemin: Path) -> int:
    with open(chemin, "rb") as flux:
        return sum(1 for ligne in flux if ligne.strip(b" \t\r\n\xef\xbb\xbf"))


@pytest.mark.parametrize("taille_bloc", [7, 64, 1 << 20])
def test_un_seul_passage_pour_empreinte_encodage_et_lignes(tmp_path, monkeypatch, taille_bloc):
    import hashlib

    monkeypatch.setattr(lecture, "TAILLE_BLOC", taille_bloc)
    textes = {
        "ordinaire.csv": ("a;b\n1;2\n3;4\n", "utf-8"),
        "blancs.csv": ("\ufeffa;b\r\n\r\n1;2\r\n   \r\n\t\n3;é\r\n\n\n4;5", "utf-8"),
        "windows.csv": ("a;b\n1;é\n\n2;€ \n", "cp1252"),
        "sans_fin.csv": ("a;b\n" + "x;y\n" * 50 + "z;w", "utf-8"),
    }
    attendus = {"ordinaire.csv": "utf-8", "blancs.csv": "utf-8", "windows.csv": "cp1252", "sans_fin.csv": "utf-8"}
    for nom, (texte, encodage) in textes.items():
        chemin = tmp_path / nom
        chemin.write_bytes(texte.encode(encodage))
        examen = lecture.examiner_fichier(chemin)
        assert examen.sha256 == hashlib.sha256(chemin.read_bytes()).hexdigest()
        assert examen.lignes_non_vides == _lignes_non_vides_naif(chemin), nom
        assert examen.encodage == lecture.detecter_encodage(chemin) == attendus[nom] or (
            nom == "blancs.csv" and examen.encodage == "utf-8-sig" == lecture.detecter_encodage(chemin))
    (tmp_path / "binaire.csv").write_bytes(b"a;b\n\x00\x01")
    assert lecture.examiner_fichier(tmp_path / "binaire.csv").refus == "binaire"
    (tmp_path / "utf16.csv").write_bytes("a;b\n".encode("utf-16"))
    assert lecture.examiner_fichier(tmp_path / "utf16.csv").refus == "utf16"


def test_lecture_typee_un_rejet_ne_compte_que_pour_son_fichier(tmp_path):
    """DuckDB adds to its rejects table at every read: a file with a rejected cell must not
    send the next files read on the same connection to the line-by-line path."""
    entete = "menage_id;projet_id;mois;quittance;aide_logement;paiement;regularisation;solde_fin_mois;plan_apurement"
    position = {n: i for i, n in enumerate(entete.split(";"))}
    ecrire(tmp_path / "a", "comptes_mensuels.csv", f"{entete}\na1;declic;2019-01;abc;100;300;0;0;non\n")
    ecrire(tmp_path / "b", "comptes_mensuels.csv", f"{entete}\na1;declic;2019-01;400;100;300;0;0;non\n"
                                                   f"a1;declic;2019-02;400;100;300;0;0;non\n")
    con = duckdb.connect()
    try:
        lire = lambda dossier: lecture._lecture_typee(  # noqa: E731
            con, lecture.contrat.COMPTES_MENSUELS, dossier / "comptes_mensuels.csv", ";", position, 9,
            dt.date(2020, 6, 30), dossier / "x.parquet")
        assert lire(tmp_path / "a") is None
        assert lire(tmp_path / "b") == 2
        assert _contenu(tmp_path / "b" / "x.parquet")[1][1][-2:] == (3, 0)  # ligne_source, anomalies_lecture
    finally:
        con.close()
