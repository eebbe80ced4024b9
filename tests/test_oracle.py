"""The oracle against hand-computed backtests (tests/backtests/<cas>/).

Each case holds one or more deliveries (exports/<projet_id>/<YYYY-MM-DD>/*.csv) and the
expected indicators worked out by hand: attendu_menages.csv (descriptive frame),
attendu_projet.csv (project aggregates) and, for some, attendu_cohorte.csv (cohort frame,
one block per horizon). An empty cell means null. README.md of each case gives the
arithmetic.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

try:
    from tests import oracle
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import oracle

BACKTESTS = Path(__file__).parent / "backtests"
CAS = sorted(p for p in BACKTESTS.iterdir() if (p / "exports").is_dir())
CAS_PROJET = [p for p in CAS if (p / "attendu_projet.csv").exists()]
CAS_COHORTE = [p for p in CAS if (p / "attendu_cohorte.csv").exists()]

BOOLEENS = oracle.BOOLEENS
ENTIERS = oracle.ENTIERS
MONTANTS = {"dette_entree", "dette_sortie", "gain_energie_eur"}
DATES = {"date_resultat", "mois_resultat"}


def _attendu(chemin: Path) -> list[dict]:
    with chemin.open(encoding="utf-8", newline="") as fichier:
        lignes = list(csv.DictReader(fichier))
    typees = []
    for ligne in lignes:
        typee = {}
        for colonne, texte in ligne.items():
            texte = texte.strip()
            if texte == "":
                typee[colonne] = None
            elif colonne in BOOLEENS:
                assert texte in ("true", "false"), (chemin, colonne, texte)
                typee[colonne] = texte == "true"
            elif colonne in ENTIERS:
                typee[colonne] = int(texte)
            elif colonne in MONTANTS:
                typee[colonne] = Decimal(texte)
            elif colonne in DATES:
                typee[colonne] = dt.date.fromisoformat(texte)
            else:
                typee[colonne] = texte
        typees.append(typee)
    return typees


def _par_menage(cadre: pd.DataFrame) -> dict[tuple[str, str], dict]:
    lignes = cadre.astype(object).to_dict("records")
    return {(ligne["projet_id"], ligne["menage_id"]): ligne for ligne in lignes}


def _ecarts(attendus: list[dict], obtenus: dict[tuple[str, str], dict]) -> list[str]:
    ecarts = []
    cles = {(ligne["projet_id"], ligne["menage_id"]) for ligne in attendus}
    if cles != set(obtenus):
        ecarts.append(f"households: expected {sorted(cles)}, got {sorted(obtenus)}")
    for attendu in attendus:
        obtenu = obtenus.get((attendu["projet_id"], attendu["menage_id"]))
        if obtenu is None:
            continue
        for colonne, valeur in attendu.items():
            reel = obtenu[colonne]
            if valeur is None:
                ok = oracle._manquant(reel)
            elif colonne in MONTANTS:
                ok = isinstance(reel, Decimal) and reel == valeur
            else:
                ok = not oracle._manquant(reel) and reel == valeur
            if not ok:
                ecarts.append(
                    f"{attendu['menage_id']}.{colonne}: expected {valeur!r}, got {reel!r}"
                )
    return ecarts


def _lire(cas: Path):
    return oracle.lire_exports_csv(cas / "exports")


@pytest.fixture(scope="module", params=CAS, ids=[p.name for p in CAS])
def cas(request) -> Path:
    return request.param


def test_at_least_eight_cases():
    assert len(CAS) >= 8
    assert all((p / "attendu_menages.csv").exists() and (p / "README.md").exists() for p in CAS)
    assert CAS_COHORTE


def test_menages(cas):
    tables, dates = _lire(cas)
    obtenu = oracle.indicateurs_menage(tables, dates)
    assert list(obtenu.columns) == oracle.COLONNES_MENAGE
    assert _ecarts(_attendu(cas / "attendu_menages.csv"), _par_menage(obtenu)) == []


@pytest.mark.parametrize("cas", CAS_PROJET, ids=[p.name for p in CAS_PROJET])
def test_projet(cas):
    chemin = cas / "attendu_projet.csv"
    tables, dates = _lire(cas)
    obtenu = oracle.indicateurs_projet(oracle.indicateurs_menage(tables, dates))
    assert list(obtenu.columns) == oracle.COLONNES_PROJET
    with chemin.open(encoding="utf-8", newline="") as fichier:
        attendus = list(csv.DictReader(fichier))
    assert len(obtenu) == len(attendus)
    lignes = {
        (ligne["projet_id"], ligne["indicateur"]): ligne for ligne in obtenu.to_dict("records")
    }
    for attendu in attendus:
        ligne = lignes[(attendu["projet_id"], attendu["indicateur"])]
        cle = (attendu["projet_id"], attendu["indicateur"])
        assert ligne["n"] == int(attendu["n"]), cle
        if attendu["k"] == "":
            assert oracle._manquant(ligne["k"]), cle
        else:
            assert ligne["k"] == int(attendu["k"]), cle
        for colonne, tolerance in (("valeur", 5e-7), ("ic_bas", 5e-5), ("ic_haut", 5e-5)):
            if attendu[colonne] == "":
                assert math.isnan(ligne[colonne]), (cle, colonne)
            else:
                assert ligne[colonne] == pytest.approx(float(attendu[colonne]), abs=tolerance), (
                    cle,
                    colonne,
                )


@pytest.mark.parametrize("cas", CAS_COHORTE, ids=[p.name for p in CAS_COHORTE])
def test_cohorte(cas):
    chemin = cas / "attendu_cohorte.csv"
    tables, dates = _lire(cas)
    attendus = _attendu(chemin)
    for horizon in sorted({ligne["horizon_mois"] for ligne in attendus}):
        obtenu = oracle.indicateurs_cohorte(tables, dates, horizon_mois=horizon)
        assert list(obtenu.columns) == oracle.COLONNES_COHORTE
        du_bloc = [ligne for ligne in attendus if ligne["horizon_mois"] == horizon]
        assert _ecarts(du_bloc, _par_menage(obtenu)) == [], f"H={horizon}"


# --------------------------------------------------------------------------- fixtures


def test_deliveries_satisfy_the_account_identity_exactly(cas):
    for dossier in sorted((cas / "exports").glob("*/*")):
        tables, _ = oracle.lire_livraison_csv(dossier)
        comptes = tables["comptes_mensuels"]
        for _, compte in comptes.groupby(["projet_id", "menage_id"]):
            compte = compte.sort_values("mois").to_dict("records")
            for avant, mois in itertools.pairwise(compte):
                if oracle._mois(mois["mois"]) != oracle._mois(avant["mois"]) + 1:
                    continue  # a gap: no consecutive pair
                attendu = (
                    avant["solde_fin_mois"]
                    + mois["quittance"]
                    - mois["aide_logement"]
                    - mois["paiement"]
                    + mois["regularisation"]
                )
                assert mois["solde_fin_mois"] == attendu, (dossier, mois)


def test_deliveries_respect_the_date_order(cas):
    for dossier in sorted((cas / "exports").glob("*/*")):
        tables, extraction = oracle.lire_livraison_csv(dossier)
        for menage in tables["menages"].to_dict("records"):
            dates = [
                menage["date_orientation"],
                menage["date_debut_accompagnement"],
                menage["date_fin_accompagnement"],
                extraction,
            ]
            connues = [d for d in dates if d is not None]
            assert connues == sorted(connues), (dossier, menage["menage_id"])
            if menage["date_debut_accompagnement"] is None:
                assert menage["date_fin_accompagnement"] is None


def test_cent_amounts_where_float_arithmetic_fails():
    """Case 07 holds months where paiement + aide_logement == quittance exactly in
    decimal but not in binary floating point; the oracle must still say up to date."""
    tables, _ = _lire(BACKTESTS / "07_centimes_loyer_a_jour")
    comptes = tables["comptes_mensuels"].to_dict("records")
    pieges = [
        c
        for c in comptes
        if c["paiement"] + c["aide_logement"] == c["quittance"]
        and float(c["paiement"]) + float(c["aide_logement"]) < float(c["quittance"])
    ]
    assert {c["menage_id"].split("_")[0] for c in pieges} >= {"aa", "ab", "ac"}


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("k", "n", "bas", "haut"),
    [
        (81, 263, 0.2552885198782742, 0.36620957698280004),
        (0, 10, 0.0, 0.27753279986288926),
        (10, 10, 0.7224672001371107, 1.0),
        (1, 2, 0.09453120573423074, 0.9054687942657693),
        (28, 28, 0.8793566952341542, 1.0),
        (93, 100, 0.862504852609265, 0.9656807389327274),
    ],
)
def test_wilson_known_values(k, n, bas, haut):
    assert oracle.wilson(k, n) == pytest.approx((bas, haut), abs=1e-7)


def test_wilson_matches_the_textbook_form():
    z = oracle.Z95
    for n in (1, 2, 5, 13, 50, 263, 1000):
        for k in range(0, n + 1, max(1, n // 7)):
            p = k / n
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            demi = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
            assert oracle.wilson(k, n) == pytest.approx((centre - demi, centre + demi), abs=1e-12)


def test_wilson_matches_statsmodels():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    for k, n in ((0, 1), (3, 7), (81, 263), (123, 160), (1, 1000)):
        attendu = proportion.proportion_confint(k, n, alpha=0.05, method="wilson")
        assert oracle.wilson(k, n) == pytest.approx(attendu, abs=1e-12)


def test_wilson_empty_denominator():
    bas, haut = oracle.wilson(0, 0)
    assert math.isnan(bas) and math.isnan(haut)


@pytest.mark.parametrize(
    ("debut", "fin", "mois"),
    [
        ("2019-01-15", "2019-03-14", 1),
        ("2019-01-15", "2019-03-15", 2),
        ("2019-01-15", "2019-01-15", 0),
        ("2019-01-31", "2019-02-27", 0),
        ("2019-01-31", "2019-02-28", 1),
        ("2020-01-31", "2020-02-28", 0),
        ("2020-01-31", "2020-02-29", 1),
        ("2019-08-31", "2019-11-29", 2),
        ("2019-08-31", "2019-11-30", 3),
        ("2019-02-28", "2019-03-27", 0),
        ("2019-02-28", "2019-03-28", 1),
        ("2018-12-20", "2020-01-19", 12),
        ("2018-12-20", "2020-01-20", 13),
    ],
)
def test_mois_entiers(debut, fin, mois):
    assert oracle.mois_entiers(dt.date.fromisoformat(debut), dt.date.fromisoformat(fin)) == mois


# --------------------------------------------------------------------------- inputs


def _en_timestamps(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The same tables with pandas datetime64 dates, as a Parquet reader may give them."""
    copie = {}
    for nom, cadre in tables.items():
        cadre = cadre.copy()
        for colonne in cadre.columns:
            if colonne in oracle._DATES | oracle._MOIS:
                cadre[colonne] = pd.to_datetime(cadre[colonne])
        copie[nom] = cadre
    return copie


def test_dates_as_pandas_timestamps_give_the_same_result(cas):
    tables, dates = _lire(cas)
    attendu = oracle.indicateurs_menage(tables, dates)
    obtenu = oracle.indicateurs_menage(
        _en_timestamps(tables), {p: pd.Timestamp(d) for p, d in dates.items()}
    )
    pd.testing.assert_frame_equal(obtenu, attendu)


def test_missing_energy_table():
    tables, dates = _lire(BACKTESTS / "01_descriptif_zero_expulsion")
    sans = {nom: cadre for nom, cadre in tables.items() if nom != "consommations"}
    cadre = oracle.indicateurs_menage(sans, dates)
    assert cadre["gain_energie_eur"].isna().all()


def test_newest_delivery_supersedes_the_older_one():
    tables, dates = _lire(BACKTESTS / "09_livraisons_successives")
    assert dates == {"declic": dt.date(2020, 1, 15), "zero_expulsion": dt.date(2020, 3, 2)}
    assert not tables["menages"]["menage_id"].str.startswith("db_").any()


def _ecrire_landing(racine: Path, dossier_exports: Path) -> None:
    """Write every delivery of an exports folder as landing Parquet files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def type_arrow(colonne: str):
        if colonne in oracle._DATES | oracle._MOIS | {"date_extraction"}:
            return pa.date32()
        if colonne in oracle._MONTANTS:
            return pa.decimal128(14, 2)
        if colonne in oracle._NOMBRES:
            return pa.float64()
        if colonne in oracle._BOOLEENS_CSV:
            return pa.bool_()
        return pa.string()

    for dossier in sorted(dossier_exports.glob("*/*")):
        tables, extraction = oracle.lire_livraison_csv(dossier)
        for nom, cadre in tables.items():
            if not len(cadre):
                continue
            cadre = cadre.copy()
            cadre["date_extraction"] = extraction
            cadre["ligne_source"] = range(1, len(cadre) + 1)
            schema = pa.schema(
                [(c, type_arrow(c)) for c in cadre.columns if c != "ligne_source"]
                + [("ligne_source", pa.int64())]
            )
            colonnes = {
                c: [None if v is None else v.quantize(Decimal("0.01")) for v in cadre[c]]
                if c in oracle._MONTANTS
                else list(cadre[c])
                for c in schema.names
            }
            chemin = racine / "landing" / nom / f"{dossier.parent.name}__{dossier.name}.parquet"
            chemin.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table(colonnes, schema=schema), chemin)


@pytest.mark.parametrize(
    "nom", ["09_livraisons_successives", "06_energie", "03_expulsion_compte_interrompu"]
)
def test_lire_landing_gives_the_same_indicators(tmp_path, nom):
    cas = BACKTESTS / nom
    _ecrire_landing(tmp_path, cas / "exports")
    tables_csv, dates_csv = _lire(cas)
    tables, dates = oracle.lire_landing(tmp_path)
    assert dates == dates_csv
    pd.testing.assert_frame_equal(
        oracle.indicateurs_menage(tables, dates), oracle.indicateurs_menage(tables_csv, dates_csv)
    )
    assert (
        _ecarts(
            _attendu(cas / "attendu_menages.csv"),
            _par_menage(oracle.indicateurs_menage(tables, dates)),
        )
        == []
    )
