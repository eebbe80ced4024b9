"""`capitalisation preparer`: a made-up landlord's extract becomes a delivery that passes
validation, carries no personal value, and gives the indicators computed from the source.

The extract (tests/exemple_bailleur.py, committed under capitalisation/preparation/exemple/)
holds names, addresses, telephone numbers, tenant numbers, birth dates and resources in its
own column names and codes; the mapping is the template of `--modele`, filled in.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import math
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from capitalisation import contrat, lecture
from capitalisation.preparation import (
    CorrespondanceInvalide,
    PreparationRefusee,
    ecrire_modele,
    lire_correspondance,
    preparer,
)
from capitalisation.validation import valider_livraison

from . import exemple_bailleur, oracle
from .test_entrepot import construire, lignes

EXEMPLE = Path(__file__).resolve().parent.parent / "capitalisation" / "preparation" / "exemple"
SOURCES = ("locataires.csv", "comptes.csv", "procedures.csv", "suivi_social.xlsx")
PROJET, EXTRACTION = "zero_expulsion", dt.date(2020, 6, 30)


def capitalisation(*args: str, cwd: Path | None = None, env: dict | None = None
                   ) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "160", **(env or {})}
    return subprocess.run([sys.executable, "-m", "capitalisation.cli", *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def extraction(dossier: Path, colonnes: dict | None = None, codes: dict | None = None) -> Path:
    """The made-up extract copied into `dossier`, with a mapping written from the template."""
    dossier.mkdir(parents=True, exist_ok=True)
    for nom in SOURCES:
        shutil.copy(EXEMPLE / nom, dossier / nom)
    texte = exemple_bailleur.remplir(
        ecrire_modele(),
        colonnes if colonnes is not None else exemple_bailleur.COLONNES,
        codes if codes is not None else exemple_bailleur.CODES,
    )
    (dossier / "correspondance.toml").write_text(texte, encoding="utf-8")
    return dossier / "correspondance.toml"


def lancer(dossier: Path, sortie: Path, *options: str) -> subprocess.CompletedProcess:
    return capitalisation("preparer", *SOURCES, "--correspondance", "correspondance.toml",
                          "--sortie", str(sortie), *options, cwd=dossier)


# --------------------------------------------------------------------------- the source, by hand


def _csv(nom: str) -> list[dict]:
    brut = (EXEMPLE / nom).read_bytes()
    texte = brut.decode("utf-8-sig") if brut.startswith(b"\xef\xbb\xbf") else brut.decode("cp1252")
    return list(csv.DictReader(texte.splitlines(), delimiter=";"))


def _jour(texte: str) -> dt.date | None:
    return dt.datetime.strptime(texte, "%d/%m/%Y").date() if texte else None


def _euros(texte: str) -> Decimal | None:
    return Decimal(texte.replace("\u00a0", "").replace(" ", "").replace(",", ".")) if texte else None


def _age(naissance: dt.date, jour: dt.date) -> int:
    return jour.year - naissance.year - ((jour.month, jour.day) < (naissance.month, naissance.day))


def _tranche_age(age: int) -> str:
    return "moins_25" if age < 25 else "25_39" if age < 40 else "40_59" if age < 60 else "60_plus"


def _tranche_ressources(montant: Decimal) -> str:
    return "moins_1000" if montant < 1000 else "1000_1500" if montant < 1500 else "1500_plus"


# The codes as the data officer reads them off the extract (every value, written out here).
_COHORTES = {"ZEX": "accompagne", "Panel témoin": "temoin"}
_VOLETS = {"Maintien": "maintien", "Accès": "acces"}
_MOTIFS = {"": None, "Objectifs atteints": "objectifs_atteints", "Abandon": "abandon",
           "Relogé": "relogement", "Départ": "depart_volontaire"}
_COMPOSITIONS = {"Personne seule": "isole", "Couple sans enfant": "couple_sans_enfant",
                 "Couple avec enfant(s)": "couple_avec_enfants", "Famille monoparentale": "monoparental"}
_PUBLICS = {"DALO": "dalo", "PDALHPD": "pdalhpd", "Sans": "aucun",
            "Sortie d'hébergement": "sortie_hebergement", "Violences conjugales": "violences"}
_ORIGINES = {"Gestion locative": "bailleur", "SIAO": "siao", "CCAS": "ccas",
             "Service social départemental": "service_social", "Association": "association"}
_CONTACTS = {"Visite à domicile": "visite_domicile", "RDV au bureau": "rdv_bureau",
             "Entretien téléphonique": "telephone", "Bilan": "bilan",
             "Démarche accompagnée": "accompagnement_demarche"}
_INTERVENANTS = {"TS": "travailleur_social", "CESF": "cesf", "Psychologue": "psychologue"}


def tables_source() -> dict[str, pd.DataFrame]:
    """The contract's tables computed straight from the extract, tenant number as menage_id."""
    menages = [{
        "menage_id": r["N° locataire"], "projet_id": PROJET, "bailleur_id": "batigere",
        "cohorte": _COHORTES[r["Dispositif"]], "volet": _VOLETS[r["Type de suivi"]],
        "date_orientation": _jour(r["Date orientation"]),
        "date_debut_accompagnement": _jour(r["Début accompagnement"]),
        "date_fin_accompagnement": _jour(r["Fin accompagnement"]),
        "motif_fin": _MOTIFS[r["Motif sortie"]], "composition": _COMPOSITIONS[r["Situation familiale"]],
        "tranche_age": _tranche_age(_age(_jour(r["Né(e) le"]), _jour(r["Date orientation"]))),
        "tranche_ressources": _tranche_ressources(_euros(r["Ressources mensuelles"])),
        "loyer_mensuel": _euros(r["Loyer + charges"]), "departement": r["Dépt"],
        "public_prioritaire": _PUBLICS[r["Public"]], "origine_orientation": _ORIGINES[r["Orienté par"]],
    } for r in _csv("locataires.csv")]
    comptes = [{
        "menage_id": r["Compte"], "projet_id": PROJET,
        "mois": dt.date(int(r["Période"][3:]), int(r["Période"][:2]), 1),
        "quittance": _euros(r["Quittancé"]), "aide_logement": _euros(r["APL"]),
        "paiement": _euros(r["Réglé"]), "regularisation": _euros(r["Régul."]) or Decimal(0),
        "solde_fin_mois": _euros(r["Solde fin de mois"]), "plan_apurement": r["Plan"] == "X",
    } for r in _csv("comptes.csv")]
    etapes = {"Cdt de payer le": "commandement_payer", "Assignation le": "assignation",
              "Jugement le": "jugement_resiliation", "Expulsion le": "expulsion_realisee"}
    evenements = [
        {"menage_id": r["N° locataire"], "projet_id": PROJET, "date": _jour(r[colonne]),
         "type_evenement": code}
        for colonne, code in etapes.items() for r in _csv("procedures.csv") if r[colonne]
    ]
    classeur = openpyxl.load_workbook(EXEMPLE / "suivi_social.xlsx", read_only=True)
    rangees = list(classeur["Rendez-vous"].iter_rows(values_only=True))
    classeur.close()
    contacts = [{
        "menage_id": numero, "projet_id": PROJET, "date": jour.date(), "type_contact": _CONTACTS[type_],
        "honore": present == "Oui", "intervenant": _INTERVENANTS[intervenant],
    } for numero, _, jour, type_, present, intervenant in rangees[1:]]
    return {"menages": pd.DataFrame(menages), "comptes_mensuels": pd.DataFrame(comptes),
            "evenements": pd.DataFrame(evenements), "contacts": pd.DataFrame(contacts),
            "consommations": pd.DataFrame()}


def valeurs_personnelles() -> set[str]:
    """Every name, address, telephone, tenant number, birth date and resource amount planted."""
    valeurs: set[str] = set()
    for r in _csv("locataires.csv"):
        valeurs |= {r["N° locataire"], r["Nom"], r["Prénom"], r["Adresse"], r["Commune"],
                    r["Téléphone"], r["Téléphone"].replace(" ", ""), r["Né(e) le"],
                    _jour(r["Né(e) le"]).isoformat(), r["Ressources mensuelles"],
                    f"{_euros(r['Ressources mensuelles']):.2f}"}
        valeurs |= set(re.findall(r"0\d(?: \d\d){4}", r["Observations"]))
    for r in _csv("procedures.csv"):
        valeurs |= {r["N° locataire"], r["Nom"]}
    classeur = openpyxl.load_workbook(EXEMPLE / "suivi_social.xlsx", read_only=True)
    for numero, personne, *_ in list(classeur["Rendez-vous"].iter_rows(values_only=True))[1:]:
        valeurs |= {numero, personne}
    classeur.close()
    return {v for v in valeurs if v}


def pseudonyme(cle: Path, numero: str) -> str:
    """The HMAC-SHA-256 of a tenant number, computed here from the key file alone."""
    secret = bytes.fromhex("".join(r for r in cle.read_text().splitlines() if not r.startswith("#")))
    return hmac.new(secret, numero.upper().encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def preparee(tmp_path_factory):
    dossier = tmp_path_factory.mktemp("bailleur")
    extraction(dossier / "extraction")
    sortie, cle = dossier / "livraisons", dossier / "extraction" / "cle_pseudonymisation.txt"
    resultat = lancer(dossier / "extraction", sortie)
    return dossier, sortie, cle, resultat


def test_la_livraison_preparee_passe_valider(preparee, tmp_path):
    _, sortie, cle, resultat = preparee
    assert resultat.returncode == 0, resultat.stderr
    livraison = sortie / PROJET / EXTRACTION.isoformat()
    assert sorted(p.name for p in livraison.iterdir()) == sorted(
        f"{t}.csv" for t in ("menages", "comptes_mensuels", "evenements", "contacts")
    )
    valider = capitalisation("valider", str(livraison), "--rapports", str(tmp_path / "rapports"))
    assert valider.returncode == 0, valider.stdout + valider.stderr
    assert "1 livraison(s) acceptée(s), 0 refusée(s)" in valider.stdout
    # every column of the contract, nothing else, in the contract's order
    for table in ("menages", "comptes_mensuels", "evenements", "contacts"):
        entete = (livraison / f"{table}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert entete.split(",") == contrat.TABLES[table].noms_colonnes


def test_aucune_valeur_personnelle_dans_les_sorties(preparee):
    dossier, sortie, cle, resultat = preparee
    plantees = valeurs_personnelles()
    assert len(plantees) > 150  # names, addresses, numbers… of 32 households
    secret = "".join(r for r in cle.read_text().splitlines() if not r.startswith("#"))
    textes = {"sortie standard": resultat.stdout, "erreur standard": resultat.stderr}
    fichiers = [p for p in sortie.rglob("*") if p.is_file()]
    assert fichiers
    for fichier in fichiers:
        textes[str(fichier)] = fichier.read_text(encoding="utf-8")
    fuites = [(ou, v) for ou, texte in textes.items() for v in plantees
              if v.lower() in texte.lower()]
    assert not fuites, fuites[:10]
    assert not [ou for ou, texte in textes.items() if secret in texte]
    # the columns that were dropped are not in the delivery, not even their names
    for nom in ("Nom", "Prénom", "Adresse", "Téléphone", "Observations", "Né(e) le",
                "Ressources mensuelles", "N° locataire"):
        assert not [f for f in fichiers if nom.lower() in f.read_text(encoding="utf-8").lower()]


def test_la_cle_reste_chez_le_bailleur(preparee):
    dossier, sortie, cle, resultat = preparee
    assert cle.is_file() and not cle.resolve().is_relative_to(sortie.resolve())
    assert stat.S_IMODE(cle.stat().st_mode) == 0o600
    texte = cle.read_text(encoding="utf-8")
    assert "CONSERVEZ CE FICHIER" in texte and "suivi des ménages dans le temps sera rompu" in texte
    assert "Clé de pseudonymisation créée" in resultat.stderr
    assert "rompu" in resultat.stderr


def test_menage_id_est_le_hmac_du_numero_et_relie_les_tables(preparee):
    _, sortie, cle, _ = preparee
    livraison = sortie / PROJET / EXTRACTION.isoformat()
    source = tables_source()
    attendus = {pseudonyme(cle, n): n for n in source["menages"]["menage_id"]}
    livrees = {t: pd.read_csv(livraison / f"{t}.csv", dtype=str, keep_default_na=False)
               for t in ("menages", "comptes_mensuels", "evenements", "contacts")}
    assert sorted(livrees["menages"]["menage_id"]) == sorted(attendus)
    for table in ("comptes_mensuels", "evenements", "contacts"):
        # the same household, cited by another file, gets the same pseudonym
        obtenus = livrees[table]["menage_id"].map(attendus).value_counts().to_dict()
        assert obtenus == source[table]["menage_id"].value_counts().to_dict(), table


def test_tranches_et_montants_exacts(preparee):
    _, sortie, cle, _ = preparee
    livraison = sortie / PROJET / EXTRACTION.isoformat()
    menages = pd.read_csv(livraison / "menages.csv", dtype=str, keep_default_na=False)
    par_numero = {n: pseudonyme(cle, n) for n in tables_source()["menages"]["menage_id"]}
    obtenus = menages.set_index("menage_id")
    for r in _csv("locataires.csv"):
        ligne = obtenus.loc[par_numero[r["N° locataire"]]]
        age = _age(_jour(r["Né(e) le"]), _jour(r["Date orientation"]))
        assert ligne["tranche_age"] == _tranche_age(age), r["N° locataire"]
        assert ligne["tranche_ressources"] == _tranche_ressources(_euros(r["Ressources mensuelles"]))
        assert Decimal(ligne["loyer_mensuel"]) == _euros(r["Loyer + charges"])
    # the planted edge cases: 25 on the day, one day short of 40, 1 000 €, 1 499,99 €, 1 500 €
    premiers = [obtenus.loc[par_numero[r["N° locataire"]]] for r in _csv("locataires.csv")[:5]]
    assert [p["tranche_age"] for p in premiers[:2]] == ["25_39", "25_39"]
    assert [p["tranche_ressources"] for p in premiers[2:5]] == ["1000_1500", "1000_1500", "1500_plus"]
    comptes = pd.read_csv(livraison / "comptes_mensuels.csv", dtype=str, keep_default_na=False)
    for colonne, source in (("solde_fin_mois", "Solde fin de mois"), ("paiement", "Réglé")):
        assert sum(Decimal(v) for v in comptes[colonne]) == sum(
            _euros(r[source]) for r in _csv("comptes.csv"))


def test_indicateurs_egaux_a_ceux_calcules_sur_la_source(preparee, tmp_path):
    _, sortie, cle, _ = preparee
    entrepot = construire(sortie, tmp_path)
    source = tables_source()
    attendus = oracle.indicateurs_menage(source, {PROJET: EXTRACTION})
    numeros = {pseudonyme(cle, n): n for n in source["menages"]["menage_id"]}
    obtenus = {numeros[r["menage_id"]]: r for r in lignes(entrepot, "select * from fct_indicateurs_menage")}
    assert sorted(obtenus) == sorted(attendus["menage_id"])
    ecarts = []
    for attendu in attendus.to_dict("records"):
        for colonne in oracle.COLONNES_MENAGE:
            if colonne == "menage_id" or colonne not in obtenus[attendu["menage_id"]]:
                continue
            a, o = attendu[colonne], obtenus[attendu["menage_id"]][colonne]
            a = None if a is None or a is pd.NA or (isinstance(a, float) and math.isnan(a)) else a
            if o != a and not (o is not None and a is not None and o == type(o)(a)):
                ecarts.append(f"{attendu['menage_id']} {colonne}: entrepôt {o!r}, source {a!r}")
    assert not ecarts, "\n".join(ecarts[:30])
    projet = {r["indicateur"]: r for r in lignes(entrepot, "select * from fct_indicateurs_projet")}
    calcules = oracle.indicateurs_projet(attendus).to_dict("records")
    for c in calcules:
        if c["n"] == 0 and c["indicateur"] not in projet:  # no energy readings in this extract
            continue
        o = projet[c["indicateur"]]
        assert (o["n"], o["k"]) == (c["n"], None if pd.isna(c["k"]) else c["k"]), c["indicateur"]
        if c["n"]:
            assert math.isclose(float(o["valeur"]), c["valeur"], abs_tol=1e-9), c["indicateur"]
    assert projet["adhesion"]["n"] > 15 and projet["loyer_a_jour"]["n"] > 5


# --------------------------------------------------------------------------- the mapping


def test_modele_couvre_le_contrat_et_se_refuse_tel_quel(tmp_path):
    resultat = capitalisation("preparer", "--modele")
    assert resultat.returncode == 0, resultat.stderr
    modele = resultat.stdout
    assert modele == ecrire_modele()
    donnees = tomllib.loads(modele)
    for table in contrat.TABLES.values():
        assert set(donnees[table.nom]["colonnes"]) == set(table.noms_colonnes) - {"projet_id"}
        for colonne in table.colonnes:
            for code in colonne.codes:
                assert code in modele
    for code, _, _ in contrat.BORNES_TRANCHES_AGE + contrat.BORNES_TRANCHES_RESSOURCES:
        assert f"#     {code} : " in modele
    # the template as is: refused, with what is missing
    (tmp_path / "modele.toml").write_text(modele, encoding="utf-8")
    (tmp_path / "x.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    refus = capitalisation("preparer", "x.csv", "--correspondance", "modele.toml",
                           "--sortie", "livraisons", cwd=tmp_path)
    assert refus.returncode == 4 and "Traceback" not in refus.stderr
    for manque in ("projet_id", "date_extraction", "[menages] source", "[comptes_mensuels] source"):
        assert manque in refus.stderr
    assert not (tmp_path / "livraisons").exists() and not (tmp_path / "cle_pseudonymisation.txt").exists()
    # --modele FICHIER writes the file, never over another one
    assert capitalisation("preparer", "--modele", "m.toml", cwd=tmp_path).returncode == 0
    assert (tmp_path / "m.toml").read_text(encoding="utf-8") == modele
    assert capitalisation("preparer", "--modele", "m.toml", cwd=tmp_path).returncode != 0


def test_l_exemple_est_le_modele_rempli():
    """The example of the guide is the template filled in as the tests fill it."""
    attendu = tomllib.loads(exemple_bailleur.remplir(ecrire_modele()))
    assert tomllib.loads((EXEMPLE / "correspondance.toml").read_text(encoding="utf-8")) == attendu


def test_colonne_obligatoire_sans_correspondance_refusee(tmp_path):
    colonnes = {k: v for k, v in exemple_bailleur.COLONNES.items()
                if k not in {("menages.colonnes", "cohorte"), ("comptes_mensuels.colonnes", "solde_fin_mois"),
                             ("menages.colonnes", "tranche_age")}}
    extraction(tmp_path, colonnes=colonnes)
    resultat = lancer(tmp_path, tmp_path / "livraisons")
    assert resultat.returncode == 4, resultat.stderr
    assert "Traceback" not in resultat.stderr
    for manque in ("[menages] colonnes.cohorte", "[comptes_mensuels] colonnes.solde_fin_mois",
                   "[menages] colonnes.tranche_age"):
        assert f"{manque} : colonne obligatoire sans correspondance" in resultat.stderr
    assert not (tmp_path / "livraisons").exists()
    assert not (tmp_path / "cle_pseudonymisation.txt").exists()


def test_code_inconnu_de_la_correspondance_refuse(tmp_path):
    codes = {**exemple_bailleur.CODES, "menages.codes.public_prioritaire": {"Sans": "sans_objet"}}
    extraction(tmp_path, codes=codes)
    resultat = lancer(tmp_path, tmp_path / "livraisons")
    assert resultat.returncode == 4 and "Traceback" not in resultat.stderr
    assert "codes.public_prioritaire : « Sans » = « sans_objet » : code inconnu du contrat" in resultat.stderr


def test_valeur_de_l_extraction_sans_code_refusee(tmp_path):
    codes = {k: v for k, v in exemple_bailleur.CODES.items() if k != "menages.codes.cohorte"}
    codes["menages.codes.cohorte"] = {"ZEX": "accompagne"}  # « Panel témoin » forgotten
    extraction(tmp_path, codes=codes)
    resultat = lancer(tmp_path, tmp_path / "livraisons")
    assert resultat.returncode == 5 and "Traceback" not in resultat.stderr
    lignes_temoins = [n for n, r in enumerate(_csv("locataires.csv"), start=2) if r["Dispositif"] == "Panel témoin"]
    attendu = (f"locataires.csv, colonne « Dispositif » (→ menages.cohorte) : 1 valeur(s) sans code du "
               f"contrat — {len(lignes_temoins)} ligne(s) ({', '.join(map(str, lignes_temoins))})")
    assert attendu in resultat.stderr
    assert '"Panel témoin" = ""' in resultat.stderr  # the line to add, ready to fill
    assert not (tmp_path / "livraisons").exists()


def test_donnees_personnelles_dans_une_colonne_de_texte_refusees(tmp_path):
    colonnes = {**exemple_bailleur.COLONNES,
                ("menages.colonnes", "bailleur_id"): '{ colonne = "Observations", defaut = "batigere" }'}
    extraction(tmp_path, colonnes=colonnes)
    sortie = tmp_path / "livraisons"
    ancienne = sortie / PROJET / "2019-12-31"  # an earlier delivery stays as it was
    ancienne.mkdir(parents=True)
    (ancienne / "menages.csv").write_text("intacte\n", encoding="utf-8")
    resultat = lancer(tmp_path, sortie)
    assert resultat.returncode == 5 and "Traceback" not in resultat.stderr
    notes = [n for n, r in enumerate(_csv("locataires.csv"), start=2) if r["Observations"]]
    assert notes
    attendu = (f"locataires.csv, colonne « Observations » (→ menages.bailleur_id) : numéro de téléphone "
               f"[dp_telephone] — {len(notes)} ligne(s) ({', '.join(map(str, notes))})")
    assert attendu in resultat.stderr
    sorties = resultat.stdout + resultat.stderr
    assert not [v for v in valeurs_personnelles() if v in sorties]
    assert sorted(p.relative_to(sortie) for p in sortie.rglob("*")) == [
        Path(PROJET), Path(PROJET, "2019-12-31"), Path(PROJET, "2019-12-31", "menages.csv")]
    assert (ancienne / "menages.csv").read_text(encoding="utf-8") == "intacte\n"
    assert not (tmp_path / "cle_pseudonymisation.txt").exists()


def test_tous_les_problemes_de_la_correspondance_d_un_coup(tmp_path):
    colonnes = {**exemple_bailleur.COLONNES,
                ("menages.colonnes", "menage_id"): '"N° locataire"',
                ("menages.colonnes", "volet"): '{ valeur = "maintien_renforce" }',
                ("comptes_mensuels.colonnes", "plan_apurement"): '{ colonne = "Plan", defaut = "peut-être" }',
                ("contacts.colonnes", "date"): '{ date_naissance = "Date du RDV" }'}
    chemin = extraction(tmp_path, colonnes=colonnes)
    chemin.write_text(chemin.read_text(encoding="utf-8") + '\n[menages_bis]\nsource = "x.csv"\n'
                      + '\n[contacts.colonnes.lieu]\ncolonne = "Lieu"\n', encoding="utf-8")
    with pytest.raises(CorrespondanceInvalide) as refus:
        lire_correspondance(chemin)
    message = str(refus.value)
    for attendu in (
        "sections hors contrat : [menages_bis]",
        "[menages] colonnes.menage_id : l'identifiant du ménage doit être pseudonymisé",
        "[menages] colonnes.volet : code inconnu du contrat (codes : maintien, acces)",
        "[comptes_mensuels] colonnes.plan_apurement : oui ou non attendu",
        "[contacts] colonnes.date : date_naissance ne sert qu'à calculer tranche_age",
        "[contacts] colonnes.lieu : colonne hors contrat",
    ):
        assert attendu in message
    assert "colonne obligatoire sans correspondance" not in message  # each problem said once
    assert refus.value.code_sortie == 4


def test_le_numero_de_locataire_n_est_jamais_livre_en_clair(tmp_path):
    colonnes = {**exemple_bailleur.COLONNES, ("menages.colonnes", "departement"): '"N° locataire"'}
    chemin = extraction(tmp_path, colonnes=colonnes)
    with pytest.raises(CorrespondanceInvalide, match="« N° locataire » sert de pseudonyme"):
        lire_correspondance(chemin)


def test_cellule_illisible_citee_par_fichier_colonne_et_ligne(tmp_path):
    extraction(tmp_path)
    chemin = tmp_path / "comptes.csv"
    lignes_ = chemin.read_bytes().decode("cp1252").split("\r\n")
    champs = lignes_[5].split(";")
    champs[2] = "cinq cents"  # Quittancé, on the file's line 6
    lignes_[5] = ";".join(champs)
    lignes_.insert(2, "")  # a blank line before it: now on line 7, as an office tool shows it
    chemin.write_bytes("\r\n".join(lignes_).encode("cp1252"))
    with pytest.raises(PreparationRefusee) as refus:
        preparer([tmp_path / s for s in SOURCES], tmp_path / "correspondance.toml", tmp_path / "r")
    assert ("comptes.csv, colonne « Quittancé » (→ comptes_mensuels.quittance) : 1 ligne(s) (7) ne sont "
            "pas un montant en euros") in str(refus.value)
    assert "cinq cents" not in str(refus.value)
    assert not (tmp_path / "r").exists()


def test_champ_en_trop_cite_sa_ligne_sans_sa_valeur(tmp_path):
    extraction(tmp_path)
    chemin = tmp_path / "locataires.csv"
    lignes_ = chemin.read_bytes().decode("cp1252").split("\r\n")
    lignes_[3] += ";12 rue Imaginaire"
    chemin.write_bytes("\r\n".join(lignes_).encode("cp1252"))
    resultat = lancer(tmp_path, tmp_path / "livraisons")
    assert resultat.returncode == 3 and "Traceback" not in resultat.stderr
    assert "locataires.csv : ligne 4 : 21 champs au lieu de 20" in resultat.stderr
    assert "Imaginaire" not in resultat.stderr


def test_extraction_de_tout_le_parc_menages_hors_projet(tmp_path):
    """An account extract of the whole stock: refused as is, prepared with ignorer_hors_menages."""
    extraction(tmp_path)
    chemin = tmp_path / "comptes.csv"
    texte = chemin.read_bytes().decode("cp1252")
    autres = ["L999001;01/2020;400,00;0,00;400,00;;0,00;", "L999001;02/2020;400,00;0,00;0,00;;400,00;"]
    chemin.write_bytes((texte + "\r\n".join(autres) + "\r\n").encode("cp1252"))
    premieres = len(texte.split("\r\n")[:-1]) + 1  # the line of the first added row
    resultat = lancer(tmp_path, tmp_path / "livraisons")
    assert resultat.returncode == 5, resultat.stderr
    assert (f"comptes.csv, pseudonyme de « Compte » (→ comptes_mensuels.menage_id) : ménage absent de la table "
            f"menages [menage_orphelin] — 2 ligne(s) ({premieres}, {premieres + 1})") in resultat.stderr
    assert "L999001" not in resultat.stderr
    correspondance = tmp_path / "correspondance.toml"
    texte = correspondance.read_text(encoding="utf-8")
    debut = texte.index("[comptes_mensuels]")
    fin = texte.index("ignorer_hors_menages = false", debut)
    correspondance.write_text(texte[:fin] + "ignorer_hors_menages = true" +
                              texte[fin + len("ignorer_hors_menages = false"):], encoding="utf-8")
    resultat = lancer(tmp_path, tmp_path / "livraisons")
    assert resultat.returncode == 0, resultat.stderr
    assert f"comptes_mensuels.csv : {len(tables_source()['comptes_mensuels'])} ligne(s), 2 ligne(s) de la " \
           "source écartée(s)" in resultat.stdout


def test_ressources_de_plusieurs_colonnes_et_mois_ecrits_en_date(tmp_path):
    """Resources summed over columns (an empty cell counts 0), exactly; a month given as a date."""
    colonnes = {**exemple_bailleur.COLONNES, ("menages.colonnes", "tranche_ressources"):
                '{ ressources = ["Ressources mensuelles", "Prestations"] }'}
    correspondance = extraction(tmp_path, colonnes=colonnes)
    locataires = _csv("locataires.csv")
    prestations = ["" if i % 3 else f"{i * 17},5{i % 10}" for i in range(len(locataires))]
    with open(tmp_path / "locataires.csv", "w", encoding="cp1252", newline="") as flux:
        ecrivain = csv.DictWriter(flux, fieldnames=[*locataires[0], "Prestations"], delimiter=";")
        ecrivain.writeheader()
        ecrivain.writerows({**r, "Prestations": p} for r, p in zip(locataires, prestations))
    comptes = (tmp_path / "comptes.csv").read_bytes().decode("cp1252")
    comptes = re.sub(r";(\d\d)/(\d{4});", r";01/\1/\2;", comptes)  # 03/2019 → 01/03/2019
    (tmp_path / "comptes.csv").write_bytes(comptes.encode("cp1252"))
    cle = tmp_path / "cle.txt"
    resultat = preparer([tmp_path / s for s in SOURCES], correspondance, tmp_path / "l", cle=cle)
    menages = pd.read_csv(resultat.dossier / "menages.csv", dtype=str).set_index("menage_id")
    changees = 0
    for r, p in zip(locataires, prestations):
        total = _euros(r["Ressources mensuelles"]) + (_euros(p) or Decimal(0))
        attendue = _tranche_ressources(total)
        assert menages.loc[pseudonyme(cle, r["N° locataire"]), "tranche_ressources"] == attendue
        changees += attendue != _tranche_ressources(_euros(r["Ressources mensuelles"]))
    assert changees  # the second column moved some households up a band
    mois = pd.read_csv(resultat.dossier / "comptes_mensuels.csv", dtype=str)["mois"]
    attendus = [f"{r['Période'][3:]}-{r['Période'][:2]}" for r in _csv("comptes.csv")]
    assert list(mois) == attendus


# --------------------------------------------------------------------------- determinism


def test_meme_cle_memes_identifiants_autre_cle_identifiants_sans_lien(tmp_path):
    correspondance = extraction(tmp_path / "extraction")
    fichiers = [tmp_path / "extraction" / s for s in SOURCES]
    cle = tmp_path / "secret" / "cle.txt"
    premiere = preparer(fichiers, correspondance, tmp_path / "a", cle=cle)
    contenu_cle = cle.read_bytes()
    seconde = preparer(fichiers, correspondance, tmp_path / "b", cle=cle)
    assert cle.read_bytes() == contenu_cle  # an existing key is reused, never replaced
    (tmp_path / "extraction" / "notes.txt").write_text("Mme Dupont, 3 rue des Lilas\n", encoding="utf-8")
    autre = preparer([*fichiers, tmp_path / "extraction" / "notes.txt"], correspondance, tmp_path / "c",
                     cle=tmp_path / "autre.txt")
    assert autre.inutilises == ["notes.txt"]
    assert sorted(p.name for p in autre.dossier.iterdir()) == sorted(p.name for p in premiere.dossier.iterdir())
    for table in ("menages", "comptes_mensuels", "evenements", "contacts"):
        a = (premiere.dossier / f"{table}.csv").read_bytes()
        assert a == (seconde.dossier / f"{table}.csv").read_bytes(), table
    ids = lambda p: set(pd.read_csv(p.dossier / "menages.csv", dtype=str)["menage_id"])  # noqa: E731
    assert len(ids(premiere)) == 32 and not ids(premiere) & ids(autre)
    # apart from the pseudonyms, the same delivery
    cadre = lambda p: pd.read_csv(p.dossier / "comptes_mensuels.csv", dtype=str).drop(columns="menage_id")  # noqa: E731
    pd.testing.assert_frame_equal(cadre(premiere), cadre(autre))
    # a delivery already prepared is never overwritten without --remplacer
    with pytest.raises(Exception, match="existe déjà"):
        preparer(fichiers, correspondance, tmp_path / "a", cle=cle)
    refaite = preparer(fichiers, correspondance, tmp_path / "a", cle=cle, remplacer=True)
    assert (refaite.dossier / "menages.csv").read_bytes() == (seconde.dossier / "menages.csv").read_bytes()
    assert sorted(p.name for p in (tmp_path / "a" / PROJET).iterdir()) == [EXTRACTION.isoformat()]


def test_cle_dans_le_dossier_des_livraisons_refusee(tmp_path):
    correspondance = extraction(tmp_path)
    with pytest.raises(Exception, match="jamais être envoyée"):
        preparer([tmp_path / s for s in SOURCES], correspondance, tmp_path / "r",
                 cle=tmp_path / "r" / "cle.txt")
    assert not (tmp_path / "r").exists()


def test_la_livraison_est_celle_que_lit_le_lecteur(preparee, tmp_path):
    """The reader types the delivered files back to the source's values (dates, amounts, booleans)."""
    _, sortie, _, _ = preparee
    livraison = lecture.Livraison(PROJET, EXTRACTION, sortie / PROJET / EXTRACTION.isoformat())
    resultat = valider_livraison(livraison, tmp_path, sortie)
    assert resultat.acceptee and not resultat.avertissements, resultat.raisons()
    source = tables_source()
    assert resultat.lignes_par_table() == {t: len(source[t]) for t in
                                           ("menages", "comptes_mensuels", "evenements", "contacts")}


def test_les_commandes_du_guide_fonctionnent_telles_qu_ecrites(tmp_path):
    """Every command of the README's guide, run in a copy of the example folder."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    guide = readme.split("## Préparer une livraison", 1)[1].split("\n## ", 1)[0]
    commandes = [bloc.replace("\\\n", " ").strip()
                 for bloc in re.findall(r"```sh\n(.*?)```", guide, flags=re.S)]
    assert commandes[0] == "cd capitalisation/preparation/exemple"
    dossier = tmp_path / "exemple"
    shutil.copytree(EXEMPLE, dossier, ignore=shutil.ignore_patterns("cle_*", "livraisons", "ma_*"))
    # the settings as they are, the validation reports aside (not into the project's warehouse/)
    parametres = Path(__file__).resolve().parent.parent / "parametres.toml"
    texte = parametres.read_text(encoding="utf-8")
    texte = re.sub(r'(?m)^rapports_validation = .*$',
                   f"rapports_validation = {str(tmp_path / 'rapports')!r}".replace("'", '"'), texte)
    (tmp_path / "parametres.toml").write_text(texte, encoding="utf-8")
    env = {"CAPITALISATION_PARAMETRES": str(tmp_path / "parametres.toml")}
    executees = 0
    for commande in commandes[1:]:
        for ligne in commande.splitlines():
            programme, *arguments = ligne.split()
            assert programme == "../../../.venv/bin/capitalisation"
            resultat = capitalisation(*arguments, cwd=dossier, env=env)
            assert resultat.returncode == 0, (ligne, resultat.stderr)
            executees += 1
    assert executees == 3
    assert (dossier / "ma_correspondance.toml").read_text(encoding="utf-8") == ecrire_modele()
    assert (dossier / "livraisons" / PROJET / EXTRACTION.isoformat() / "menages.csv").is_file()
    assert (dossier / "cle_pseudonymisation.txt").is_file()
    assert (tmp_path / "rapports" / PROJET / EXTRACTION.isoformat() / "rapport.json").is_file()
