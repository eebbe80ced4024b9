"""The comparison engine on the demo warehouse: Habitat Réuni's control panel.

The demo generator draws, for every accompanied household of Habitat Réuni, both
potential paths (accompanied and managed as usual) from the same random numbers, and
records the true effect on the accompanied (ATT) at each horizon in its truth file. The
landlords chose their control panel among households they judged less fragile, so the
raw difference is biased; the adjusted estimates must recover the effect the generator
put in, within their 95 % intervals.

The truth's population is the one of the warehouse's comparison: the accompanied
households whose extraction month reaches m0 + H (`effets_horizon` keeps the same ones),
each outcome among the households where it is known in both paths (for loyer_a_jour, the
warehouse keeps those where it is known in the observed path: 81 households against 67,
a contrast that differs from the truth by less than a point).

These are the figures of the demo's seed. Habitat Réuni's households come from 6
landlords: the weighted estimates' intervals come from the wild cluster bootstrap, and
the logit's marginal effect has none (or no estimate at all where its 15 parameters
separate the few households in debt): the rows say so.
"""

from __future__ import annotations

import math
import shutil

import duckdb
import pytest

from capitalisation import pipeline
from capitalisation.demo import generer_demo

PROJET = "habitat_reuni"
HORIZON = 12


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    dossier = tmp_path_factory.mktemp("demo_evaluation")
    exports = dossier / "exports"
    verite = generer_demo(exports)
    for autre in exports.iterdir():             # only the project with a control panel
        if autre.is_dir() and autre.name != PROJET:
            shutil.rmtree(autre)
    fichier = dossier / "entrepot.duckdb"
    landing = pipeline.dossier_landing(fichier)
    bilans = pipeline.lire_livraisons(exports, landing, rapports=dossier / "rapports",
                                      quarantaine=dossier / "quarantaine")
    assert [b.statut for b in bilans] == ["lue"], [b.raisons for b in bilans]
    pipeline.construire_entrepot(fichier, landing, variables={"horizon_mois": HORIZON})
    con = duckdb.connect(str(fichier), read_only=True)
    comparaisons = con.execute(
        "select * from main.fct_comparaisons where projet_id = ? and horizon_mois = ?",
        [PROJET, HORIZON]).df()
    equilibre = con.execute("select * from main.fct_equilibre where projet_id = ?",
                            [PROJET]).df()
    con.close()
    effets = verite["effets"][PROJET]["par_horizon"][str(HORIZON)]
    return comparaisons.set_index(["resultat", "methode"]), equilibre, effets


def _vrai(effets, resultat: str) -> float:
    return effets["resultats"]["dette_sortie_eur" if resultat == "dette_sortie" else resultat]["att"]


def test_meme_population_que_la_verite(demo):
    comparaisons, _, effets = demo
    ligne = comparaisons.loc[("maintien", "difference_brute")]
    assert (ligne["n_traites"], ligne["n_temoins"]) == (effets["n_accompagne"], effets["n_temoin"])
    for resultat, cle in (("dette_resorbee", "dette_resorbee"), ("dette_reduite", "dette_reduite"),
                          ("dette_sortie", "dette_sortie_eur"), ("expulse", "expulse")):
        assert comparaisons.loc[(resultat, "ipw_att"), "n_traites"] == effets["resultats"][cle]["n"]


@pytest.mark.parametrize("resultat,methode", [
    (r, "ipw_att") for r in ("loyer_a_jour", "dette_resorbee", "dette_reduite")
] + [("dette_sortie", "ols_ajuste"), ("dette_sortie", "ipw_att")])
def test_intervalles_ajustes_contiennent_l_effet_vrai(demo, resultat, methode):
    comparaisons, _, effets = demo
    ligne = comparaisons.loc[(resultat, methode)]
    vrai = _vrai(effets, resultat)
    assert ligne["ic_bas"] <= vrai <= ligne["ic_haut"], (ligne["estimation"], vrai)


@pytest.mark.parametrize("resultat", ["loyer_a_jour", "dette_resorbee", "dette_reduite"])
def test_logit_sans_intervalle_avec_six_bailleurs(demo, resultat):
    comparaisons, _, _ = demo
    ligne = comparaisons.loc[(resultat, "logit_effet_marginal")]
    assert math.isnan(ligne["ic_bas"])
    codes = ligne["codes_avertissement"].split(",")
    assert "intervalle_non_applicable" in codes or "separation" in codes


def test_biais_de_selection_de_la_difference_brute(demo):
    """The control panel is less fragile: it does better without accompaniment than the
    accompanied households would have, so the raw difference understates the effect."""
    comparaisons, _, effets = demo
    brute = comparaisons.loc[("dette_sortie", "difference_moyennes")]
    vrai = _vrai(effets, "dette_sortie")
    assert brute["estimation"] > vrai + 300                     # less debt reduction shown
    assert not brute["ic_bas"] <= vrai <= brute["ic_haut"]      # and the truth is excluded
    for resultat in ("loyer_a_jour", "dette_reduite"):
        assert comparaisons.loc[(resultat, "difference_brute"), "estimation"] < (
            _vrai(effets, resultat) - 0.1)
    # Weighting the controls towards the accompanied moves them towards the truth (among the
    # 61 households in debt at entry, dette_reduite's 15-parameter weights barely move it:
    # its interval still holds the truth, see above).
    for resultat in ("loyer_a_jour", "dette_sortie"):
        brute = comparaisons.loc[(resultat, "difference_brute" if resultat != "dette_sortie"
                                  else "difference_moyennes"), "estimation"]
        ipw = comparaisons.loc[(resultat, "ipw_att"), "estimation"]
        vrai = _vrai(effets, resultat)
        assert abs(ipw - vrai) < abs(brute - vrai)


def test_toutes_les_covariables_et_taille_effective(demo):
    comparaisons, equilibre, _ = demo
    ipw = comparaisons.loc[("dette_sortie", "ipw_att")]
    assert ipw["n_temoins"] == 32
    # Every covariate of the warehouse enters the propensity model; the row says it is a
    # heavy model for 32 controls instead of dropping the main confounders.
    assert ipw["covariables_utilisees"].split(", ")[:2] == ["dette_entree_mois_loyer",
                                                            "en_procedure_index"]
    assert "peu_d_evenements_par_parametre" in ipw["codes_avertissement"]
    assert ipw["ess"] > 5
    # The landlords' selection is visible at baseline: entry debt, before weighting.
    dette = equilibre[equilibre["covariable"] == "dette_entree_mois_loyer"].iloc[0]
    assert dette["smd_avant"] > 0.2 and abs(dette["smd_apres"]) < abs(dette["smd_avant"])


def test_puissance(demo):
    comparaisons, _, _ = demo
    mdd = comparaisons.loc[("loyer_a_jour", "puissance_mdd")]
    taille = comparaisons.loc[("loyer_a_jour", "puissance_taille")]
    # The study cannot detect 15 points: it would need more households than it has.
    assert mdd["estimation"] > 0.15
    assert taille["estimation"] > max(mdd["n_traites"], mdd["n_temoins"])
    assert abs(taille["p_traites"] - taille["p_temoins"]) == pytest.approx(0.15)
    dette = comparaisons.loc[("dette_sortie", "puissance_taille")]
    assert dette["estimation"] > 0 and dette["p_traites"] < dette["p_temoins"]
