"""The attacker's audit (controle_secret) on hand-made publications.

Each test builds the household-level contributions of a tiny programme, aggregates them into
the true `fct_` tables, and publishes `pub_` tables from them with the cells it chooses
hidden: a leaky publication must be found (the cell recovered is named), a protected one
must not be flagged. Linear programming does the recovering (sums of landlords, volets and
départements, populations, proportions with their interval, the previous publication, the
landlord who knows its own households).
"""

from __future__ import annotations

import pandas as pd
import pytest

from capitalisation.publication import controle_secret as cs
from capitalisation.publication.controle_secret import Seuils, auditer_donnees, protegee

SEUILS = cs.seuils_audit(5, 10)
DIMS = ["projet_id", "bailleur_id", "volet", "departement"]
NIVEAUX = {
    "programme": [],
    "projet": ["projet_id"],
    "bailleur": ["projet_id", "bailleur_id"],
    "volet": ["projet_id", "volet"],
    "departement": ["projet_id", "departement"],
}


def menages(projet: str, bailleur: str, nombre: int, adheres: int | None = None, volet: str = "maintien",
            departement: str = "33", expulses: int = 0) -> list[dict]:
    """`nombre` households of a group: the first `adheres` adhered, the first `expulses` evicted."""
    adheres = nombre if adheres is None else adheres
    return [{"projet_id": projet, "bailleur_id": bailleur, "volet": volet, "departement": departement,
             "adhesion": i < adheres, "expulse": i < expulses} for i in range(nombre)]


def contributions(foyers: list[dict]) -> pd.DataFrame:
    lignes = []
    for i, f in enumerate(foyers):
        base = {c: f[c] for c in DIMS} | {"menage_id": f"m{i}", "nature": "proportion", "montant": None}
        lignes.append(base | {"indicateur": "adhesion", "n": 1, "k": int(f["adhesion"])})
        if f["adhesion"]:
            lignes.append(base | {"indicateur": "expulse", "n": 1, "k": int(f["expulse"])})
            lignes.append(base | {"indicateur": "maintien", "n": 1, "k": int(not f["expulse"])})
    return pd.DataFrame(lignes)


def publication(foyers: list[dict], cachees: dict[tuple, tuple[str, ...]] | None = None) -> dict[str, pd.DataFrame]:
    """True tables and published tables; `cachees` maps (level, key..., indicator) to the hidden columns."""
    cachees = cachees or {}
    contrib = contributions(foyers)
    donnees = {"int_indicateurs_contributions": contrib}
    for niveau, cles in NIVEAUX.items():
        groupes = contrib.groupby(cles + ["indicateur"]) if cles else contrib.groupby(["indicateur"])
        vraie = groupes.agg(n=("n", "sum"), k=("k", "sum")).reset_index()
        vraie["nature"] = "proportion"
        vraie["menages"] = vraie["n"]
        vraie["valeur"] = vraie["k"] / vraie["n"]
        publiee = vraie.copy().astype(object)
        publiee["valeur"] = None  # the tests publish n and k; proportions are added where asked
        publiee["cellules_secretes"] = ""
        for j, ligne in publiee.iterrows():
            cle = (niveau, *[ligne[c] for c in cles], ligne["indicateur"])
            for colonne in cachees.get(cle, ()):
                publiee.at[j, colonne] = None
        donnees[f"fct_indicateurs_{niveau}"] = vraie
        donnees[f"pub_indicateurs_{niveau}"] = publiee
    return donnees


def trouvees(donnees, **options) -> set[tuple[str, str, str]]:
    return {(d.table, d.position, d.mesure) for d in auditer_donnees(donnees, SEUILS, **options)}


def test_regle_de_protection():
    assert protegee(3, 0, 12, SEUILS)
    assert protegee(3, 0, 5, SEUILS)  # empty or small: the attacker cannot tell
    assert not protegee(3, 1, 5, SEUILS)  # inside [1, 5]: the attacker knows the group is small
    assert not protegee(3, 2, 12, SEUILS)  # the empty group is ruled out at ± 2
    assert not protegee(3, 0, 4, SEUILS)  # within + 1
    assert protegee(5, 3, 7, SEUILS)
    assert not protegee(5, 4, 9, SEUILS)
    # The floors of indicators.md hold whatever the settings say.
    assert cs.seuils_audit(0, -3) == Seuils(5, 10)
    assert cs.seuils_audit(7, 12) == Seuils(7, 12)


def test_bailleur_de_3_menages_retrouve_par_soustraction():
    foyers = menages("p", "a", 20) + menages("p", "b", 3)
    donnees = publication(foyers, {("bailleur", "p", "b", "adhesion"): ("n", "k", "menages")})
    cellule = ("pub_indicateurs_bailleur", "projet p, bailleur b, indicateur adhesion", "n")
    assert cellule in trouvees(donnees, initie=False)


def test_deux_cases_cachees_protegent_le_petit_bailleur():
    # b is small; c is large enough that b's cells can hide in the pair's totals.
    foyers = (menages("p", "a", 20, adheres=15, expulses=2) + menages("p", "b", 3, adheres=1)
              + menages("p", "c", 30, adheres=22, expulses=6))
    cachees = {("bailleur", "p", b, ind): ("n", "k", "menages") for b in ("b", "c")
               for ind in ("adhesion", "expulse", "maintien")}
    donnees = publication(foyers, cachees)
    assert not {t for t in trouvees(donnees, initie=False) if "bailleur b" in t[1] or "bailleur c" in t[1]}


def test_le_bailleur_initie_retire_ses_menages():
    # Two landlords, both rows hidden: the public cannot split 23, but b knows its own 20.
    foyers = menages("p", "a", 3, adheres=2) + menages("p", "b", 20, adheres=14, expulses=6)
    cachees = {("bailleur", "p", b, ind): ("n", "k", "menages") for b in ("a", "b")
               for ind in ("adhesion", "expulse", "maintien")}
    donnees = publication(foyers, cachees)
    assert not {t for t in trouvees(donnees, initie=False) if "bailleur a" in t[1]}
    audit = auditer_donnees(donnees, SEUILS, initie=True)
    initie = [d for d in audit if d.classe == "initie"]
    assert any("bailleur a" in d.position and d.vue == "b" for d in initie), initie


def test_departement_de_2_et_volet_de_1():
    foyers = (menages("p", "a", 30, departement="33") + menages("p", "a", 2, departement="47")
              + menages("p", "b", 1, volet="acces"))
    cachees = {("departement", "p", "47", ind): ("n", "k", "menages") for ind in ("adhesion", "expulse", "maintien")}
    cachees |= {("volet", "p", "acces", ind): ("n", "k", "menages") for ind in ("adhesion", "expulse", "maintien")}
    positions = {t[1] for t in trouvees(publication(foyers, cachees), initie=False)}
    assert "projet p, departement 47, indicateur adhesion" in positions
    assert "projet p, volet acces, indicateur adhesion" in positions


def test_complement_par_la_proportion_publiee():
    # 95 adhered of 100: k hidden, but the proportion (with its n) gives it back.
    foyers = menages("p", "a", 100, adheres=95)
    donnees = publication(foyers, {("projet", "p", "adhesion"): ("k",), ("programme", "adhesion"): ("k",)})
    for table in ("pub_indicateurs_projet", "pub_indicateurs_programme"):
        donnees[table].loc[donnees[table]["indicateur"] == "adhesion", "valeur"] = 0.95
    assert ("pub_indicateurs_projet", "projet p, indicateur adhesion", "n − k") in trouvees(donnees, initie=False)


def test_proportion_et_intervalle_de_wilson_donnent_n_et_k():
    # 8 of 9: n and k hidden, the proportion and its interval published.
    foyers = menages("p", "a", 9, adheres=8) + menages("p", "b", 40)
    donnees = publication(foyers, {("bailleur", "p", "a", "adhesion"): ("n", "k", "menages")})
    table = donnees["pub_indicateurs_bailleur"]
    ligne = (table["bailleur_id"] == "a") & (table["indicateur"] == "adhesion")
    bas, haut = cs.wilson(8, 9)
    table.loc[ligne, ["valeur", "ic_bas", "ic_haut"]] = [8 / 9, float(bas), float(haut)]
    # the project total is hidden too, so that only the interval can give the cell away
    for t in ("pub_indicateurs_projet", "pub_indicateurs_programme"):
        lignes = donnees[t]["indicateur"] == "adhesion"
        donnees[t].loc[lignes, ["n", "k", "menages"]] = None
    assert ("pub_indicateurs_bailleur", "projet p, bailleur a, indicateur adhesion", "n − k") in trouvees(
        donnees, initie=False)


def test_populations_fin_d_accompagnement():
    # Expulsions: 2 of 40 adhered; expulse.k hidden, maintien published: 40 − 38 = 2.
    foyers = menages("p", "a", 40, expulses=2)
    donnees = publication(foyers, {(n, *c, "expulse"): ("k",) for n, c in (("projet", ("p",)), ("programme", ()),
                                                                          ("bailleur", ("p", "a")),
                                                                          ("volet", ("p", "maintien")),
                                                                          ("departement", ("p", "33")))})
    assert ("pub_indicateurs_projet", "projet p, indicateur expulse", "k") in trouvees(donnees, initie=False)


def test_publication_precedente_meme_extraction(tmp_path):
    foyers = menages("p", "a", 20) + menages("p", "b", 3)
    avant = publication(foyers)  # published in full last time (e.g. with lower thresholds)
    precedente = {"tables": {t: cs._lignes(df) for t, df in avant.items() if t.startswith("pub_")}}
    effectifs = pd.DataFrame([{"projet_id": "p", "date_extraction": "2020-06-30", "menages_orientes": 23}])
    precedente["tables"]["pub_effectifs_projet"] = cs._lignes(effectifs)
    cachees = {("bailleur", "p", b, ind): ("n", "k", "menages") for b in ("a", "b")
               for ind in ("adhesion", "expulse", "maintien")}
    maintenant = publication(foyers, cachees)
    maintenant["fct_effectifs_projet"] = effectifs
    cellule = ("pub_indicateurs_bailleur", "projet p, bailleur b, indicateur adhesion", "n")
    assert cellule not in trouvees(maintenant, initie=False)
    # What the previous publication gave by itself is known already: this one adds nothing to it
    # (the gate judges what a publication adds; see test_un_menage_de_plus_rend_le_total_publie).
    audit = auditer_donnees(maintenant, SEUILS, precedente, initie=False)
    assert not any((d.table, d.position, d.mesure) == cellule for d in audit)
    # Without the previous publication in what the attacker knew before, the same rows pin it.
    modele = cs.Modele(maintenant, SEUILS)
    modele.divulgations_directes = []
    modele.ajouter_indicateurs()
    with modele.s.origine("precedente"):
        modele.ajouter_precedente(precedente)
    modele.s.preparer()
    epinglees = cs._rompues(modele.s, SEUILS, modele.sensibles, None, [0])
    assert any((modele.sensibles[j].table, modele.sensibles[j].position, modele.sensibles[j].mesure) == cellule
               for j in epinglees)


def test_un_menage_de_plus_rend_le_total_publie():
    # Last time: a 97 published, b 3 hidden, total 100 hidden. Now: one more household in a,
    # total 101 published, a and b hidden: a ≥ 97 gives b ≤ 4.
    avant = publication(menages("p", "a", 97) + menages("p", "b", 3),
                        {(n, *c, ind): ("n", "k", "menages") for n, c in (("projet", ("p",)), ("programme", ()),
                                                                         ("bailleur", ("p", "b")),
                                                                         ("volet", ("p", "maintien")),
                                                                         ("departement", ("p", "33")))
                         for ind in ("adhesion", "expulse", "maintien")})
    precedente = {"tables": {t: cs._lignes(df) for t, df in avant.items() if t.startswith("pub_")}}
    precedente["tables"]["pub_effectifs_projet"] = [{"projet_id": "p", "date_extraction": "2020-06-30"}]
    maintenant = publication(menages("p", "a", 98) + menages("p", "b", 3),
                             {("bailleur", "p", b, ind): ("n", "k", "menages") for b in ("a", "b")
                              for ind in ("adhesion", "expulse", "maintien")})
    maintenant["fct_effectifs_projet"] = pd.DataFrame([{"projet_id": "p", "date_extraction": "2020-12-31"}])
    cellule = ("pub_indicateurs_bailleur", "projet p, bailleur b, indicateur adhesion", "n")
    assert cellule not in trouvees(maintenant, initie=False)
    assert cellule in trouvees(maintenant, initie=False, precedente=precedente)


def test_chiffre_publie_par_le_projet_confirme():
    # The project says « 3 evictions »; the fiche says « confirmé » beside the hidden cell.
    foyers = menages("p", "a", 40, expulses=3) + menages("p", "b", 40)
    donnees = publication(foyers, {(n, *c, ind): ("k",) for n, c in (("projet", ("p",)), ("programme", ()),
                                                                     ("bailleur", ("p", "a")), ("bailleur", ("p", "b")),
                                                                     ("volet", ("p", "maintien")),
                                                                     ("departement", ("p", "33")))
                                   for ind in ("expulse", "maintien")})
    cellule = ("pub_indicateurs_projet", "projet p, indicateur expulse", "k")
    assert cellule not in trouvees(donnees, initie=False)
    donnees["pub_reconciliation"] = pd.DataFrame([{
        "projet_id": "p", "indicateur": "expulse", "type_valeur": "effectif", "comparaison": "egal",
        "valeur_publiee": 3.0, "valeur_recalculee": None, "n": None, "k": None, "ecart": None,
        "statut": "confirme", "cellules_secretes": "valeur_recalculee,k,ecart"}])
    assert cellule in trouvees(donnees, initie=False)


def test_courbe_de_survie_et_trajectoires():
    donnees = {
        "pub_survie": pd.DataFrame([
            {"projet_id": "p", "evenement": "expulsion", "cohorte": "accompagne", "temps": 0.0,
             "survie": 39 / 40, "n_risque": 40},
            {"projet_id": "p", "evenement": "expulsion", "cohorte": "accompagne", "temps": 12.0,
             "survie": 39 / 40, "n_risque": 30}]),
        "fct_survie": pd.DataFrame([
            {"projet_id": "p", "evenement": "expulsion", "cohorte": "accompagne", "temps": 0.0,
             "survie": 39 / 40, "n_risque": 40},
            {"projet_id": "p", "evenement": "expulsion", "cohorte": "accompagne", "temps": 12.0,
             "survie": 39 / 40, "n_risque": 30}]),
        "pub_trajectoires": pd.DataFrame([{"projet_id": "p", "cohorte": "temoin", "mois_relatif": m, "n": n,
                                           "moyenne": 100.0} for m, n in ((0, 40), (1, 37), (2, 37))]),
        "fct_trajectoires": pd.DataFrame([{"projet_id": "p", "cohorte": "temoin", "mois_relatif": m, "n": n}
                                          for m, n in ((0, 40), (1, 37), (2, 37))]),
    }
    classes = {(d.classe, d.table) for d in cs._courbes(donnees, SEUILS)}
    assert ("evenements", "pub_survie") in classes  # one eviction in the index month
    assert ("departs", "pub_trajectoires") in classes  # 3 households left between months 0 and 1
    # Rounded to 10 households, the differences no longer pin anything.
    for table in ("pub_trajectoires",):
        donnees[table]["n"] = [40, 40, 40]
    assert ("departs", "pub_trajectoires") not in {(d.classe, d.table) for d in cs._courbes(donnees, SEUILS)}


def test_texte_d_avertissement_qui_cite_un_effectif():
    modele_donnees = publication(menages("p", "a", 40))
    modele_donnees["pub_comparaisons"] = pd.DataFrame([{
        "projet_id": "p", "resultat": "expulse", "horizon_mois": 12, "methode": "difference_brute",
        "n_traites": 40, "k_traites": None, "n_temoins": 17, "k_temoins": None, "p_traites": None,
        "p_temoins": None, "estimation": None, "ess": None,
        "avertissements": "evenements_rares: 1 avec l'événement et 16 sans, sur 17",
        "cellules_secretes": "k_traites,k_temoins"}])
    modele_donnees["fct_comparaisons"] = pd.DataFrame([{
        "projet_id": "p", "resultat": "expulse", "horizon_mois": 12, "methode": "difference_brute",
        "n_traites": 40, "k_traites": 2, "n_temoins": 17, "k_temoins": 1}])
    audit = auditer_donnees(modele_donnees, SEUILS, initie=False)
    assert any(d.table == "pub_comparaisons" and d.mesure == "k_temoins" for d in audit), audit


def test_message_sans_valeur_de_case_cachee():
    foyers = menages("p", "a", 20) + menages("p", "b", 3)
    donnees = publication(foyers, {("bailleur", "p", "b", "adhesion"): ("n", "k", "menages")})
    messages = [d.texte(SEUILS) for d in auditer_donnees(donnees, SEUILS, initie=False)]
    assert messages
    cible = next(m for m in messages if "bailleur b, indicateur adhesion), n :" in m)
    assert cible.startswith("pub_indicateurs_bailleur (projet p, bailleur b, indicateur adhesion), n : ")
    assert "3" not in cible.replace("de 1 à 5", "")


@pytest.mark.parametrize("seuil", [0, 3])
def test_un_reglage_abaisse_ne_passe_pas(seuil):
    foyers = menages("p", "a", 20) + menages("p", "b", 3)
    donnees = publication(foyers)  # everything published, as a lowered setting would
    audit = cs.Audit(cs.seuils_audit(seuil, seuil))
    audit.divulgations = auditer_donnees(donnees, cs.seuils_audit(seuil, seuil), initie=False)
    assert ("pub_indicateurs_bailleur", "projet p, bailleur b, indicateur adhesion", "n") in {
        (d.table, d.position, d.mesure) for d in audit.divulgations}
