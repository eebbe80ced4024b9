"""The comparison's words in the fiche: small-sample methods, intervals not reported, E-values."""

from __future__ import annotations

import pandas as pd

from capitalisation.evaluation import moteur
from capitalisation.publication.donnees_fiche import Fiche


def _fiche(comparaisons: pd.DataFrame, equilibre: pd.DataFrame | None = None,
           figures=None) -> Fiche:
    vide = pd.DataFrame()
    return Fiche(figures=figures or "figures", projet_id="p", projet={}, narratif={}, effectifs=None, indicateurs=vide,
                 reconciliation=vide, couts=None, comparaisons=comparaisons,
                 equilibre=equilibre if equilibre is not None else vide, trajectoires=vide,
                 survie=vide)


def _comparaisons() -> pd.DataFrame:
    lignes = [
        moteur._ligne("p", "loyer_a_jour", 12, "rapport_risques", n_t=40, k_t=20, n_c=40, k_c=10,
                      p_t=0.5, p_c=0.25, estimation=2.0, ic_bas=1.1, ic_haut=3.6, p_valeur=0.02),
        moteur._ligne("p", "loyer_a_jour", 12, "logit_effet_marginal", n_t=40, k_t=20, n_c=40,
                      k_c=10, estimation=0.2, avertissements=[("intervalle_non_applicable", "x")]),
    ]
    lignes[0]["e_valeur"], lignes[0]["e_valeur_ic"], lignes[0]["p_holm"] = 3.41, 1.43, 0.04
    df = moteur.tableau_estimations(lignes)
    df["cellules_secretes"] = ""
    return df


def test_robustesse_en_mots():
    texte = _fiche(_comparaisons())._robustesse()
    assert "randomisation" in texte and "bootstrap sauvage par bailleur" in texte
    assert "Sans intervalle" in texte and "logit effet marginal" in texte
    assert "E-valeur 3,41" in texte and "1,43" in texte
    assert "Holm" in texte


def test_chevauchement_en_mots(tmp_path):
    equilibre = pd.DataFrame([
        {"projet_id": "p", "covariable": "score_propension", "niveau": "", "smd_avant": 1.234,
         "smd_apres": 0.321, "cellules_secretes": ""},
        {"projet_id": "p", "covariable": "volet", "niveau": "acces", "smd_avant": 0.5,
         "smd_apres": 0.05, "cellules_secretes": ""},
    ])
    fiche = _fiche(_comparaisons(), equilibre, tmp_path / "figures")
    texte = fiche._equilibre()
    assert "score de propension" in texte and "1,23" in texte and "0,32" in texte
    assert "Sur 1 caractéristiques comparées" in texte
