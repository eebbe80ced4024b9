"""The suites compiled to DuckDB SQL against Great Expectations, the reference engine.

Both engines judge every delivery of the bad-delivery corpus, and deliveries where random
cells were replaced by values chosen to break row rules (empty, negative, out of the
lists, too old, after the extraction, over-long...): verdicts, counts and line numbers
must be identical. A suite holding an expectation the compiler does not know is refused
when the suites are loaded, never skipped.
"""

from __future__ import annotations

import json
import random
import shutil

import pytest

from capitalisation import lecture
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.validation import compilateur, regles, valider_livraison

from .corpus import cas as corpus


def _resume(resultat) -> list[tuple]:
    return [
        (e.fichier, e.colonne, e.code, e.severite, e.lignes, tuple(e.premieres_lignes), e.libelle)
        for e in resultat.echecs
    ]


def _deux_moteurs(dossier, tmp_path, projet=corpus.PROJET):
    livraison = lecture.Livraison(projet, corpus.EXTRACTION, dossier)
    reference = valider_livraison(livraison, tmp_path / "ge", moteur="ge")
    compile_ = valider_livraison(livraison, tmp_path / "sql", moteur="sql")
    return reference, compile_


@pytest.mark.parametrize("cas", corpus.CAS, ids=[c.nom for c in corpus.CAS])
def test_meme_verdict_sur_le_corpus(cas, tmp_path):
    dossier = cas.ecrire(tmp_path / "exports" / cas.projet / corpus.EXTRACTION.isoformat())
    reference, compile_ = _deux_moteurs(dossier, tmp_path, cas.projet)
    assert reference.statut == compile_.statut
    assert _resume(reference) == _resume(compile_)
    assert reference.regles_verifiees == compile_.regles_verifiees


# Values that break (or test the edges of) the row rules of the suites.
VALEURS = [
    "", "-1.00", "0", "0.00", "100000.00", "100000.01", "-100000.01", "1.5", "1.51", "-0.01",
    "1989-12-31", "1990-01-01", "2020-06-30", "2020-07-01", "2030-01-01", "1989-12", "2020-07",
    "inconnu", "temoin", "accompagne", "abandon", "2a", "2A", "96", "971", "977", "x" * 1001,
    "autre_projet", "les_chalets", "declic", "oui", "non",
]


@pytest.mark.parametrize("graine", range(12))
def test_meme_verdict_sur_des_cellules_cassees(graine, tmp_path):
    tirage = random.Random(graine)
    donnees = corpus.base()
    for _ in range(12):
        table = tirage.choice(sorted(donnees))
        ligne = tirage.choice(donnees[table])
        colonne = tirage.choice(sorted(ligne))
        ligne[colonne] = tirage.choice(VALEURS)
    dossier = corpus.ecrire_livraison(tmp_path / "exports" / corpus.PROJET / corpus.EXTRACTION.isoformat(),
                                      donnees)
    reference, compile_ = _deux_moteurs(dossier, tmp_path)
    assert _resume(reference) == _resume(compile_)
    assert reference.statut == compile_.statut


def test_une_regle_ligne_a_ligne_est_comptee_et_situee(tmp_path):
    """Counts and the ten first line numbers, in file order, from the compiled SQL."""
    donnees = corpus.base()
    for ligne in donnees["comptes_mensuels"][3:60:4]:
        ligne["aide_logement"] = "-2.00"
    dossier = corpus.ecrire_livraison(tmp_path / "exports" / corpus.PROJET / corpus.EXTRACTION.isoformat(),
                                      donnees)
    livraison = lecture.Livraison(corpus.PROJET, corpus.EXTRACTION, dossier)
    resultat = valider_livraison(livraison, tmp_path / "sql", moteur="sql")
    (negatif,) = [e for e in resultat.echecs if e.code == "montant_negatif"]
    assert negatif.colonne == "aide_logement"
    assert negatif.lignes == len(range(3, 60, 4))
    assert negatif.premieres_lignes == [i + 2 for i in range(3, 60, 4)][:10]


def _suite_modifiee(tmp_path, attente: dict):
    dossier = tmp_path / "suites"
    shutil.copytree(regles.DOSSIER_SUITES, dossier)
    chemin = dossier / "menages.json"
    suite = json.loads(chemin.read_text(encoding="utf-8"))
    suite["expectations"].append(attente)
    chemin.write_text(json.dumps(suite), encoding="utf-8")
    return dossier


@pytest.mark.parametrize(
    "attente",
    [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "menage_id"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "volet", "value_set": ["x"],
                                                                 "mostly": 0.9}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "loyer_mensuel"},
         "meta": {"execution": "duckdb"}},
    ],
    ids=["type_inconnu", "mostly", "execution_sans_moteur"],
)
def test_une_attente_inconnue_est_refusee_au_chargement(tmp_path, attente):
    attente = {**attente, "meta": {"code": "x", "libelle": "x", "severite": "erreur",
                                   **attente.get("meta", {})}}
    with pytest.raises(ErreurUtilisateur, match="attente n° .* ne démarre pas"):
        regles.charger_suites(_suite_modifiee(tmp_path, attente))


def test_les_suites_livrees_se_compilent_entierement():
    suites = regles.charger_suites()
    lignes = [r for suite in suites.values() for r in suite if r.execution == "ge"]
    assert len(lignes) > 90
    for regle in lignes:
        table, condition = compilateur.compiler(regle, {"projet_livraison": ["declic"],
                                                        "projets_catalogue": ["declic"],
                                                        "bailleurs_catalogue": ["les_chalets"]})
        assert condition.strip()
