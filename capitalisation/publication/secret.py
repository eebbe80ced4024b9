"""Statistical secrecy (indicators.md, « Disclosure »): the primary rules, in one place.

No count of households from 1 to the threshold (default 5) and no proportion whose
denominator is under the threshold (default 10) is ever published. Suppressed cells read
« s » (secret statistique), never 0.
"""

from __future__ import annotations

from capitalisation import config

SECRET = "s"


def effectif_secret(k: int | None, seuil: int | None = None) -> bool:
    """A count of households that must not be published."""
    seuil = config.SEUIL_EFFECTIF if seuil is None else seuil
    return k is not None and 1 <= int(k) <= seuil


def proportion_secrete(n: int | None, seuil: int | None = None) -> bool:
    """A proportion whose denominator is too small to be published."""
    seuil = config.SEUIL_DENOMINATEUR if seuil is None else seuil
    return n is None or int(n) < seuil
