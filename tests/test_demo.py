"""The demo deliveries: format of the contract, determinism, and calibration on the figures
the projects published.

The files are read back here by a small reader of their own (French formats, cp1252,
workbook) so that every figure is checked from what was written, not from the generator's
memory.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
import json
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from capitalisation import contrat
from capitalisation.demo import FICHIER_VERITE, generer_demo

GRAINE = 20200601

BAILLEURS = {
    "trait_social": {"batigere_idf", "erigere"},
    "habitat_reuni": {"habitat_62_59", "habitat_du_nord", "toit_et_joie", "essonne_habitat",
                      "logis_transports", "pierres_et_lumieres"},
    "zero_expulsion": {"batigere", "presence_habitat"},
    "declic": {"les_chalets"},
    "solide_r": {"domofrance", "clairsienne", "foyer_de_la_gironde", "logevie"},
}
DEPARTEMENTS = {
    "trait_social": {"78", "95", "93", "91", "94"},
    "habitat_reuni": {"62", "59", "80", "75", "91", "92", "93", "94", "78", "45"},
    "zero_expulsion": {"57", "54", "68", "67"},
    "declic": {"31"},
    "solide_r": {"33"},
}
EXTRACTIONS = {
    "trait_social": ["2016-12-31"],
    "habitat_reuni": ["2016-12-31"],
    "zero_expulsion": ["2019-06-30", "2019-12-31"],
    "declic": ["2020-06-30"],
    "solide_r": ["2014-06-30"],
}


# --------------------------------------------------------------------------- a small reader


def _nom(entete: str) -> str:
    texte = unicodedata.normalize("NFKD", entete.replace("\ufeff", "").strip())
    return "".join(c for c in texte if not unicodedata.combining(c)).lower()


def _mois(valeur) -> int:
    texte = str(valeur)
    if "/" in texte:
        mois, annee = texte.split("/")
    else:
        annee, mois = texte.split("-")[:2]
    return int(annee) * 12 + int(mois) - 1


def _date(valeur) -> dt.date:
    if isinstance(valeur, dt.datetime):
        return valeur.date()
    if isinstance(valeur, dt.date):
        return valeur
    texte = str(valeur)
    if "/" in texte:
        return dt.datetime.strptime(texte, "%d/%m/%Y").date()
    return dt.date.fromisoformat(texte)


def _centimes(valeur) -> int:
    if isinstance(valeur, (int, float)):
        return round(valeur * 100)
    texte = re.sub(r"[\s\u00a0]", "", str(valeur)).replace(",", ".")
    assert re.fullmatch(r"-?\d+\.\d{2}", texte), valeur
    return int(Decimal(texte) * 100)


def _convertir(valeur, colonne: contrat.Colonne):
    if valeur is None or (isinstance(valeur, float) and pd.isna(valeur)) or valeur == "":
        return None
    if colonne.type == contrat.DATE:
        return _date(valeur)
    if colonne.type == contrat.MOIS:
        return _mois(valeur)
    if colonne.type == contrat.MONTANT:
        return _centimes(valeur)
    if colonne.type == contrat.NOMBRE:
        return float(str(valeur).replace(",", ".")) if isinstance(valeur, str) else float(valeur)
    if colonne.type == contrat.BOOLEEN:
        texte = str(valeur).lower()
        assert texte in contrat.BOOLEENS_VRAIS | contrat.BOOLEENS_FAUX, valeur
        return texte in contrat.BOOLEENS_VRAIS
    return str(valeur)


def _texte_csv(chemin: Path) -> str:
    brut = chemin.read_bytes()
    if brut.startswith(b"\xef\xbb\xbf"):
        return brut[3:].decode("utf-8")
    try:
        return brut.decode("utf-8")
    except UnicodeDecodeError:
        return brut.decode("cp1252")


@functools.lru_cache(maxsize=64)
def lire(livraison: Path, table: str) -> pd.DataFrame:
    """A table of a delivery as Python values of the contract's types (read once; do not
    modify the frame returned)."""
    spec = contrat.TABLES[table]
    classeur = livraison / contrat.CLASSEUR
    if classeur.exists():
        brut = pd.read_excel(classeur, sheet_name=table, engine="calamine", dtype=object)
    else:
        texte = _texte_csv(livraison / f"{table}.csv")
        entete = texte.split("\n", 1)[0]
        separateur = ";" if entete.count(";") > entete.count(",") else ","
        brut = pd.read_csv(io.StringIO(texte), sep=separateur, dtype=str, keep_default_na=False)
    brut.columns = [_nom(c) for c in brut.columns]
    assert list(brut.columns) == spec.noms_colonnes, (livraison, table, list(brut.columns))
    donnees = {
        c.nom: [_convertir(v, c) for v in brut[c.nom].tolist()] for c in spec.colonnes
    }
    return pd.DataFrame(donnees, columns=spec.noms_colonnes, dtype=object)


def livraison(dossier: Path, projet: str, date: str | None = None) -> Path:
    return dossier / projet / (date or EXTRACTIONS[projet][-1])


# --------------------------------------------------------------------------- indicators


def indicateurs(menage: dict, comptes: pd.DataFrame, evenements: pd.DataFrame,
                mo: int, date_resultat: dt.date) -> dict:
    """indicators.md for one household: entry and exit debt, rent up to date, procedure."""
    soldes = {r.mois: r for r in comptes.itertuples()}
    m0 = _mois_date(menage["date_orientation"])
    avant = soldes.get(m0 - 1) or soldes.get(m0)
    dette_entree = avant.solde_fin_mois if avant is not None else None
    observes = [m for m in soldes if m0 <= m <= mo]
    dette_sortie = soldes[max(observes)].solde_fin_mois if observes else None
    a_jour = None
    if mo in soldes and soldes[mo].solde_fin_mois <= 0:
        a_jour = True
    elif all(m in soldes for m in (mo - 2, mo - 1, mo)):
        a_jour = all(soldes[m].paiement + soldes[m].aide_logement >= soldes[m].quittance
                     for m in (mo - 2, mo - 1, mo))
    types = set(evenements.loc[evenements["date"] <= date_resultat, "type_evenement"])
    en_procedure = bool(types & set(contrat.ETAPES_PROCEDURE[1:]))
    expulse = "expulsion_realisee" in types
    depart = "depart_volontaire" in types
    return {
        "dette_entree": dette_entree,
        "dette_sortie": dette_sortie,
        "loyer_a_jour": a_jour,
        "en_procedure": en_procedure,
        "expulse": expulse,
        "expulsion_evitee": en_procedure and not expulse and not depart,
    }


def _mois_date(date: dt.date) -> int:
    return date.year * 12 + date.month - 1


def _fin_de_mois(mois: int) -> dt.date:
    annee, rang = divmod(mois + 1, 12)
    return dt.date(annee, rang + 1, 1) - dt.timedelta(days=1)


def indicateurs_projet(dossier: Path, projet: str, horizon: int | None = None) -> pd.DataFrame:
    """Per-household indicators, descriptive (horizon None) or at m0 + horizon."""
    chemin = livraison(dossier, projet)
    extraction = dt.date.fromisoformat(chemin.name)
    menages = lire(chemin, "menages")
    comptes = lire(chemin, "comptes_mensuels")
    evenements = lire(chemin, "evenements")
    par_menage_c = dict(tuple(comptes.groupby("menage_id")))
    par_menage_e = dict(tuple(evenements.groupby("menage_id")))
    vide = evenements.iloc[0:0]
    lignes = []
    for m in menages.to_dict("records"):
        if horizon is None:
            date_resultat = m["date_fin_accompagnement"] or extraction
            mo = _mois_date(date_resultat)
        else:
            mo = _mois_date(m["date_orientation"]) + horizon
            if mo > _mois_date(extraction):
                continue
            date_resultat = _fin_de_mois(mo)
        valeurs = indicateurs(m, par_menage_c.get(m["menage_id"], comptes.iloc[0:0]),
                              par_menage_e.get(m["menage_id"], vide), mo, date_resultat)
        lignes.append({**m, **valeurs})
    return pd.DataFrame(lignes)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    dossier = tmp_path_factory.mktemp("exports")
    # a previous demo with another seed: the generator replaces its own deliveries
    generer_demo(dossier, GRAINE + 1)
    verite = generer_demo(dossier, GRAINE)
    return dossier, verite


def _fichiers(dossier: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(dossier)): p.read_bytes()
        for p in sorted(dossier.rglob("*"))
        if p.is_file() and p.relative_to(dossier).parts[0] in (*EXTRACTIONS, FICHIER_VERITE)
    }


# --------------------------------------------------------------------------- shape


def test_dossiers_et_fichiers(demo):
    dossier, verite = demo
    assert set(verite["projets"]) == set(EXTRACTIONS)
    assert json.loads((dossier / FICHIER_VERITE).read_text(encoding="utf-8")) == verite
    assert sorted(p.name for p in dossier.iterdir() if not p.name.startswith(".")) == sorted(
        [*EXTRACTIONS, FICHIER_VERITE])
    for projet, dates in EXTRACTIONS.items():
        assert sorted(p.name for p in (dossier / projet).iterdir()) == dates
        for date in dates:
            noms = sorted(p.name for p in livraison(dossier, projet, date).iterdir())
            if projet == "solide_r":
                assert noms == [contrat.CLASSEUR]
            elif projet == "trait_social":
                assert noms == sorted(f"{t}.csv" for t in contrat.TABLES)
            else:
                assert noms == sorted(f"{t}.csv" for t in contrat.TABLES if t != "consommations")


def test_determinisme(demo, tmp_path):
    dossier, verite = demo
    meme = tmp_path / "meme"
    assert generer_demo(meme, GRAINE) == verite
    assert _fichiers(meme) == _fichiers(dossier)
    autre = tmp_path / "autre"
    generer_demo(autre, GRAINE + 1)
    fichiers_autres = _fichiers(autre)
    for nom, contenu in _fichiers(dossier).items():
        if nom in fichiers_autres:
            assert fichiers_autres[nom] != contenu, nom


def test_encodages_et_formats(demo):
    dossier, _ = demo
    ze = (livraison(dossier, "zero_expulsion") / "menages.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        ze.decode("utf-8")
    entete = ze.decode("cp1252").split("\r\n", 1)[0]
    assert entete.startswith("Ménage_ID;Projet_ID;") and "Département" in entete
    comptes = (livraison(dossier, "zero_expulsion") / "comptes_mensuels.csv").read_bytes()
    assert re.search(rb";-?\d{1,3}\xa0\d{3},\d{2};", comptes)  # 1 234,56 with a no-break space
    assert re.search(rb";\d{2}/\d{4};", comptes)
    declic = (livraison(dossier, "declic") / "menages.csv").read_bytes()
    assert declic.startswith(b"\xef\xbb\xbfmenage_id;")
    assert re.search(rb";\d{2}/\d{2}/\d{4};", declic)
    comptes_declic = (livraison(dossier, "declic") / "comptes_mensuels.csv").read_bytes()
    assert re.search(rb";(VRAI|FAUX)\r\n", comptes_declic)
    hr = (livraison(dossier, "habitat_reuni") / "comptes_mensuels.csv").read_bytes()
    hr.decode("utf-8")
    assert hr.startswith(b"menage_id,projet_id,mois,") and re.search(rb",\d{4}-\d{2},", hr)
    ts = (livraison(dossier, "trait_social") / "consommations.csv").read_text("utf-8")
    assert re.search(r",\d{2}/\d{4},(electricite|gaz|eau),", ts)
    classeur = livraison(dossier, "solide_r") / contrat.CLASSEUR
    feuilles = pd.read_excel(classeur, sheet_name=None, engine="calamine")
    assert sorted(feuilles) == sorted(t for t in contrat.TABLES if t != "consommations")
    dates = pd.read_excel(classeur, sheet_name="menages", engine="calamine", dtype=object)
    assert all(isinstance(v, dt.datetime) for v in dates["date_orientation"])


def test_codes_du_contrat(demo):
    dossier, _ = demo
    manquants = 0  # effort rates left empty
    for projet, dates in EXTRACTIONS.items():
        for date in dates:
            chemin = livraison(dossier, projet, date)
            tables = ["menages", "comptes_mensuels", "evenements", "contacts"]
            if projet == "trait_social":
                tables.append("consommations")
            menages = None
            for table in tables:
                df = lire(chemin, table)
                assert (df["projet_id"] == projet).all()
                for colonne in contrat.TABLES[table].colonnes:
                    valeurs = [v for v in df[colonne.nom] if v is not None]
                    if not colonne.nullable:
                        assert len(valeurs) == len(df), (projet, table, colonne.nom)
                    if colonne.codes:
                        assert set(valeurs) <= set(colonne.codes), (projet, table, colonne.nom)
                if table == "menages":
                    menages = df
                    assert df["menage_id"].is_unique
                    assert all(re.fullmatch(r"[0-9a-f]{16}", v) for v in df["menage_id"])
                    assert set(df["bailleur_id"]) <= BAILLEURS[projet]
                    assert set(df["departement"]) <= DEPARTEMENTS[projet]
                    assert all(300_00 <= v <= 700_00 for v in df["loyer_mensuel"])
                    effort = [v for v in df["taux_effort"] if v is not None]
                    assert all(0.1 <= v <= 0.6 for v in effort)
                    manquants += len(df) - len(effort)
                else:
                    assert set(df["menage_id"]) <= set(menages["menage_id"])
    assert manquants > 0


# --------------------------------------------------------------------------- invariants


def _verifier_livraison(chemin: Path) -> None:
    extraction = dt.date.fromisoformat(chemin.name)
    m_extraction = _mois_date(extraction)
    menages = lire(chemin, "menages").set_index("menage_id")
    comptes = lire(chemin, "comptes_mensuels")
    evenements = lire(chemin, "evenements")
    contacts = lire(chemin, "contacts")
    for m in menages.itertuples():
        assert m.date_orientation <= extraction
        if m.date_debut_accompagnement is not None:
            assert m.cohorte == "accompagne"
            assert m.date_orientation <= m.date_debut_accompagnement <= extraction
        if m.date_fin_accompagnement is not None:
            assert m.date_debut_accompagnement <= m.date_fin_accompagnement <= extraction
        assert (m.motif_fin is None) == (m.date_fin_accompagnement is None)
    assert (evenements["date"] <= extraction).all() and (contacts["date"] <= extraction).all()
    # contacts only for adhered accompanied households, within their accompaniment
    for c in contacts.itertuples():
        m = menages.loc[c.menage_id]
        assert m.cohorte == "accompagne" and m.date_debut_accompagnement is not None
        assert m.date_debut_accompagnement <= c.date <= (m.date_fin_accompagnement or extraction)
    ev = {k: g for k, g in evenements.groupby("menage_id")}
    for menage_id, compte in comptes.groupby("menage_id"):
        compte = compte.sort_values("mois")
        mois = compte["mois"].tolist()
        assert mois == list(range(mois[0], mois[0] + len(mois))), menage_id  # no gap, no double
        m = menages.loc[menage_id]
        m0 = _mois_date(m.date_orientation)
        assert m0 - 6 <= mois[0] <= m0
        if m.volet == "maintien":
            assert mois[0] == m0 - 6
        # the rent-account identity, to the cent
        lignes = compte.to_dict("records")
        for avant, apres in itertools.pairwise(lignes):
            assert apres["solde_fin_mois"] == (
                avant["solde_fin_mois"] + apres["quittance"] - apres["aide_logement"]
                - apres["paiement"] + apres["regularisation"]
            ), (menage_id, apres["mois"])
        assert all(r["quittance"] >= 0 and r["aide_logement"] >= 0 and r["paiement"] >= 0
                   for r in lignes)
        evts = ev.get(menage_id, evenements.iloc[0:0]).sort_values("date")
        # procedure steps in legal order, with increasing dates
        etapes = [(r.date, r.type_evenement) for r in evts.itertuples()
                  if r.type_evenement in contrat.ETAPES_PROCEDURE]
        rangs = [contrat.ETAPES_PROCEDURE.index(t) for _, t in etapes]
        assert rangs == list(range(len(rangs))), (menage_id, etapes)
        assert all(a[0] < b[0] for a, b in itertools.pairwise(etapes)), (menage_id, etapes)
        arrets = [r.date for r in evts.itertuples()
                  if r.type_evenement in ("expulsion_realisee", "depart_volontaire")]
        if arrets:  # the account stops the month the household left
            assert mois[-1] == _mois_date(min(arrets)), menage_id
        else:
            assert mois[-1] == m_extraction, menage_id
        if m.volet == "acces" and mois[0] >= m0:
            entree = evts.loc[evts["type_evenement"] == "entree_logement", "date"].tolist()
            assert len(entree) == 1 and entree[0] >= m.date_orientation
            assert _mois_date(entree[0]) == mois[0]


@pytest.mark.parametrize("projet", sorted(EXTRACTIONS))
def test_invariants(demo, projet):
    dossier, _ = demo
    for date in EXTRACTIONS[projet]:
        _verifier_livraison(livraison(dossier, projet, date))


# --------------------------------------------------------------------------- calibration


def test_zero_expulsion(demo):
    dossier, verite = demo
    ind = indicateurs_projet(dossier, "zero_expulsion")
    assert len(ind) == 160
    adheres = ind[ind["date_debut_accompagnement"].notna()]
    assert len(adheres) == 123
    assert set(ind["volet"]) == {"acces", "maintien"}
    a_jour = adheres["loyer_a_jour"].dropna()
    assert 0.88 <= a_jour.mean() <= 0.97
    evitees = int(adheres["expulsion_evitee"].sum())
    assert 24 <= evitees <= 32
    attendu = verite["projets"]["zero_expulsion"]["indicateurs"]
    assert (int(a_jour.sum()), len(a_jour)) == (attendu["loyer_a_jour"]["k"],
                                                attendu["loyer_a_jour"]["n"])
    assert evitees == attendu["expulsion_evitee"]["k"]
    ancienne = lire(livraison(dossier, "zero_expulsion", "2019-06-30"), "menages")
    assert 0 < len(ancienne) < 160
    assert set(ancienne["menage_id"]) <= set(ind["menage_id"])
    assert max(lire(livraison(dossier, "zero_expulsion", "2019-06-30"),
                    "comptes_mensuels")["mois"]) == 2019 * 12 + 5


def test_declic(demo):
    dossier, _ = demo
    chemin = livraison(dossier, "declic")
    menages = lire(chemin, "menages")
    evenements = lire(chemin, "evenements")
    assert len(menages) == 67 and (menages["cohorte"] == "accompagne").all()
    en_cours = (menages["date_debut_accompagnement"].notna()
                & menages["date_fin_accompagnement"].isna())
    assert en_cours.sum() == 13
    adhesion = menages["date_debut_accompagnement"].notna().mean()
    assert 0.6 <= adhesion <= 0.73
    assert ((menages["motif_fin"] == "objectifs_atteints") | en_cours).sum() == round(adhesion * 67)
    reloges = evenements.loc[evenements["type_evenement"].isin(["relogement", "mutation"]),
                             "menage_id"].nunique()
    assert 0.25 <= reloges / 67 <= 0.4
    assert "expulsion_realisee" not in set(evenements["type_evenement"])
    ind = indicateurs_projet(dossier, "declic")
    assert ind["en_procedure"].sum() >= 5
    assert ind["expulsion_evitee"].sum() == ind["en_procedure"].sum()


def test_solide_r(demo):
    dossier, _ = demo
    ind = indicateurs_projet(dossier, "solide_r")
    assert len(ind) == 30
    assert (ind["volet"] == "maintien").sum() == 20 and (ind["volet"] == "acces").sum() == 10
    assert set(ind["tranche_ressources"]) <= {"moins_1000", "1000_1500"}
    assert (ind["dette_entree"] > 0).all()
    assert 0.57 <= (ind["dette_sortie"] < ind["dette_entree"]).mean() <= 0.77
    assert 0.17 <= (ind["dette_sortie"] <= 0).mean() <= 0.37
    contacts = lire(livraison(dossier, "solide_r"), "contacts")
    visites = contacts[contacts["type_contact"] == "visite_domicile"]
    assert len(visites) > 400
    assert 0.70 <= visites["honore"].mean() <= 0.82
    durees = {
        (f.year - d.year) * 12 + f.month - d.month
        for d, f in zip(ind["date_debut_accompagnement"], ind["date_fin_accompagnement"])
        if f is not None
    }
    assert durees <= {6, 12}


def _smd(a: pd.Series, b: pd.Series) -> float:
    a, b = a.astype(float), b.astype(float)
    ecart = ((a.var() + b.var()) / 2) ** 0.5
    return abs(a.mean() - b.mean()) / ecart


def test_habitat_reuni(demo):
    dossier, verite = demo
    chemin = livraison(dossier, "habitat_reuni")
    menages = lire(chemin, "menages")
    acc = menages[menages["cohorte"] == "accompagne"]
    tem = menages[menages["cohorte"] == "temoin"]
    assert len(acc) == 100 and (acc["volet"] == "maintien").sum() == 50
    assert len(tem) >= 25
    accompagnement = ["date_debut_accompagnement", "date_fin_accompagnement", "motif_fin"]
    assert tem[accompagnement].isna().all().all()
    contacts = lire(chemin, "contacts")
    assert not set(contacts["menage_id"]) & set(tem["menage_id"])
    # the landlord's control panel differs at baseline
    ind = indicateurs_projet(dossier, "habitat_reuni", horizon=12)
    evenements = lire(chemin, "evenements").merge(menages[["menage_id", "date_orientation"]])
    index = set(evenements.loc[
        evenements["type_evenement"].isin(contrat.ETAPES_PROCEDURE[1:])
        & (evenements["date"] <= evenements["date_orientation"]), "menage_id"])
    ind["en_procedure_index"] = ind["menage_id"].isin(index)
    ind["dette_entree_eur"] = ind["dette_entree"].fillna(0) / 100
    groupes = [ind[ind["cohorte"] == c] for c in ("accompagne", "temoin")]
    assert max(_smd(g1, g2) for g1, g2 in [
        (groupes[0]["dette_entree_eur"], groupes[1]["dette_entree_eur"]),
        (groupes[0]["en_procedure_index"], groupes[1]["en_procedure_index"]),
    ]) > 0.2
    # the truth: a visible effect, and observed proportions that the files reproduce
    effets = verite["effets"]["habitat_reuni"]["par_horizon"]["12"]
    assert effets["resultats"]["loyer_a_jour"]["att"] >= 0.15
    assert effets["resultats"]["expulse"]["att"] < 0
    assert effets["resultats"]["dette_sortie_eur"]["att"] < 0
    for cohorte, groupe in zip(("accompagne", "temoin"), groupes):
        a_jour = groupe["loyer_a_jour"].dropna()
        attendu = effets["resultats"]["loyer_a_jour"]["observe"][cohorte]
        assert round(a_jour.mean(), 4) == attendu
    assert effets["n_accompagne"] == len(groupes[0]) and effets["n_temoin"] == len(groupes[1])


def test_trait_social(demo):
    dossier, verite = demo
    chemin = livraison(dossier, "trait_social")
    menages = lire(chemin, "menages").set_index("menage_id")
    conso = lire(chemin, "consommations")
    assert set(conso["fluide"]) == {"electricite", "gaz", "eau"}
    assert (conso["quantite"] >= 0).all() and (conso["montant"] >= 0).all()
    gains = []
    for menage_id, releves in conso.groupby("menage_id"):
        debut = menages.loc[menage_id, "date_debut_accompagnement"]
        assert debut is not None and releves["mois"].min() == _mois_date(debut)
        facture = releves.groupby("mois")["montant"].sum().sort_index()
        if len(facture) >= 6:
            gains.append((facture.iloc[:3].sum() - facture.iloc[-3:].sum()) / 3 / 100)
    assert len(gains) >= 75
    moyenne = sum(gains) / len(gains)
    assert 3 <= moyenne <= 20
    attendu = verite["effets"]["trait_social"]["gain_energie_eur"]
    assert attendu["n"] == len(gains) and abs(attendu["moyenne"] - moyenne) < 0.01
    assert verite["effets"]["trait_social"]["economie_mensuelle_vraie_eur"]["moyenne"] > 0
