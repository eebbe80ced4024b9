"""Quarto pre-render step (reports/_quarto.yml): one fiche document per project.

Writes fiches/<projet_id>.qmd from fiche.qmd for every project of the warehouse's
catalogue (its title, date and parameters filled in), so that `quarto render reports`
renders the same fiches as `capitalisation fiches`.
"""

from pathlib import Path

from capitalisation.publication.site import main

main(["--sources", str(Path(__file__).resolve().parent)])
