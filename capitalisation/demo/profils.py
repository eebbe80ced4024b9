"""Household profiles: composition, age, resources, rent, housing benefit, effort rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capitalisation import contrat

COMPOSITIONS = {
    "maintien": {"isole": 0.35, "monoparental": 0.3, "couple_avec_enfants": 0.2,
                 "couple_sans_enfant": 0.1, "autre": 0.05},
    "acces": {"isole": 0.45, "monoparental": 0.3, "couple_avec_enfants": 0.12,
              "couple_sans_enfant": 0.08, "autre": 0.05},
}
AGES = {"moins_25": 0.1, "25_39": 0.38, "40_59": 0.4, "60_plus": 0.12}
RESSOURCES = {"moins_1000": 0.5, "1000_1500": 0.35, "1500_plus": 0.15}
PUBLICS = {
    "maintien": {"aucun": 0.75, "pdalhpd": 0.2, "dalo": 0.05},
    "acces": {"dalo": 0.25, "pdalhpd": 0.3, "sortie_hebergement": 0.3, "violences": 0.1,
              "aucun": 0.05},
}
ORIGINES = {
    "maintien": {"bailleur": 0.7, "service_social": 0.15, "ccas": 0.1, "autre": 0.05},
    "acces": {"siao": 0.45, "service_social": 0.2, "association": 0.2, "bailleur": 0.1,
              "ccas": 0.05},
}
# Monthly resources (euros, housing benefit excluded) drawn within each band.
BORNES_RESSOURCES = {"moins_1000": (550, 999), "1000_1500": (1000, 1499), "1500_plus": (1500, 2600)}
# Share of the rent covered by housing benefit, by band, and probability of receiving it.
AIDE = {
    "moins_1000": (0.85, 0.3, 0.6),
    "1000_1500": (0.6, 0.15, 0.45),
    "1500_plus": (0.2, 0.05, 0.2),
}

assert set(AGES) == set(contrat.TRANCHES_AGE)
assert set(RESSOURCES) == set(contrat.TRANCHES_RESSOURCES)


def choisir(rng: np.random.Generator, poids: dict[str, float]) -> str:
    codes = list(poids)
    p = np.array([poids[c] for c in codes], dtype=float)
    return codes[int(rng.choice(len(codes), p=p / p.sum()))]


@dataclass
class Profil:
    composition: str
    tranche_age: str
    tranche_ressources: str
    ressources: int  # euros a month
    loyer: int  # cents
    aide: int  # cents
    taux_effort: float | None
    public_prioritaire: str
    origine_orientation: str


def tirer_profil(
    rng: np.random.Generator,
    volet: str,
    *,
    compositions: dict[str, float] | None = None,
    ressources: dict[str, float] | None = None,
    publics: dict[str, float] | None = None,
    origines: dict[str, float] | None = None,
    loyer: tuple[int, int] = (300, 650),
    p_effort_manquant: float = 0.08,
) -> Profil:
    composition = choisir(rng, compositions or COMPOSITIONS[volet])
    tranche_age = choisir(rng, AGES)
    tranche = choisir(rng, ressources or RESSOURCES)
    bas, haut = BORNES_RESSOURCES[tranche]
    montant_ressources = int(rng.integers(bas, haut + 1))
    loyer_cts = int(rng.integers(loyer[0] * 100, loyer[1] * 100 + 1))
    p_aide, part_min, part_max = AIDE[tranche]
    aide = 0
    if rng.random() < p_aide:
        aide = round(loyer_cts * rng.uniform(part_min, part_max))
    effort = (loyer_cts - aide) / 100 / montant_ressources
    taux = None if rng.random() < p_effort_manquant else round(float(np.clip(effort, 0.1, 0.6)), 3)
    return Profil(
        composition=composition,
        tranche_age=tranche_age,
        tranche_ressources=tranche,
        ressources=montant_ressources,
        loyer=loyer_cts,
        aide=aide,
        taux_effort=taux,
        public_prioritaire=choisir(rng, publics or PUBLICS[volet]),
        origine_orientation=choisir(rng, origines or ORIGINES[volet]),
    )
