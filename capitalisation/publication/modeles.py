"""The page layouts of the published documents, beside each document to render.

* PDF: the Typst template `reports/modeles/fiche.typ` (a `conf` function that pandoc's
  Typst template imports when the front matter sets `format: typst: template:`).
* DOCX: a reference document generated here from pandoc's default one, its styles set to
  the programme's (fonts, colours, title block, A4 margins, a running header with the
  programme's identity and page numbers « n / total » in the footer): pandoc takes the
  styles, the page setup, the header and the footer of its `--reference-doc`.

`preparer(dossier)` writes both under `<dossier>/modeles/`, the paths the front matter of
`reports/fiche.qmd` names.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

from capitalisation import config
from capitalisation.publication.rendu import ErreurRendu, pandoc

DOSSIER = "modeles"
TYPST = "fiche.typ"
REFERENCE_DOCX = "reference.docx"
SOURCES = config.RACINE / "reports" / DOSSIER
PROGRAMME = "Programme «\u00a010\u202f000 logements HLM accompagnés\u00a0»"
ENTETE_DOCX = f"{PROGRAMME} — Fiches de capitalisation"
BLEU = "12455A"
POLICE = "Liberation Sans"


def _rgb(code: str):
    from docx.shared import RGBColor

    return RGBColor.from_string(code)


def _champ(paragraphe, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) at the end of a paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    champ = OxmlElement("w:fldSimple")
    champ.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    texte = OxmlElement("w:t")
    texte.text = "1"
    run.append(texte)
    champ.append(run)
    paragraphe._p.append(champ)


def reference_docx(cible: Path) -> Path:
    """The DOCX reference document of the fiches, from pandoc's default one."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    resultat = subprocess.run([pandoc(), "--print-default-data-file", "reference.docx"],
                              capture_output=True, check=False)
    if resultat.returncode != 0:
        raise ErreurRendu("pandoc n'a pas fourni son document de référence DOCX : "
                          + resultat.stderr.decode(errors="replace")[:500])
    document = docx.Document(io.BytesIO(resultat.stdout))
    styles = document.styles
    for nom in ("Normal", "Body Text", "First Paragraph", "Compact"):
        if nom in [s.name for s in styles]:
            police = styles[nom].font
            police.name, police.size = POLICE, Pt(10)
    tailles = {"Title": 20, "Subtitle": 12, "Heading 1": 15, "Heading 2": 13, "Heading 3": 11,
               "Heading 4": 10}
    for nom, taille in tailles.items():
        style = styles[nom]
        style.font.name, style.font.size, style.font.color.rgb = POLICE, Pt(taille), _rgb(BLEU)
        style.font.bold = nom != "Subtitle"
        style.paragraph_format.keep_with_next = True
    styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    for nom in ("Author", "Date"):
        styles[nom].font.name, styles[nom].font.size = POLICE, Pt(10)
        styles[nom].font.color.rgb = _rgb(BLEU)
        styles[nom].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    for nom in ("Table Caption", "Image Caption"):
        if nom in [s.name for s in styles]:
            styles[nom].font.name, styles[nom].font.size = POLICE, Pt(8.5)
            styles[nom].font.color.rgb = _rgb(BLEU)
            styles[nom].paragraph_format.keep_with_next = True
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin, section.bottom_margin = Cm(2.4), Cm(2)
    entete = section.header.paragraphs[0] if section.header.paragraphs else section.header.add_paragraph()
    entete.text = ENTETE_DOCX
    entete.style = styles["Header"] if "Header" in [s.name for s in styles] else None
    for run in entete.runs:
        run.font.size, run.font.color.rgb, run.font.name = Pt(8), _rgb(BLEU), POLICE
    pied = section.footer.paragraphs[0] if section.footer.paragraphs else section.footer.add_paragraph()
    pied.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    pied.add_run("Page ").font.size = Pt(8)
    _champ(pied, "PAGE")
    pied.add_run(" / ").font.size = Pt(8)
    _champ(pied, "NUMPAGES")
    cible = Path(cible)
    cible.parent.mkdir(parents=True, exist_ok=True)
    document.save(cible)
    return cible


def preparer(dossier: Path, sources: Path = SOURCES) -> Path:
    """`<dossier>/modeles/`: the Typst template (from `sources`) and the DOCX reference document."""
    cible = Path(dossier) / DOSSIER
    cible.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(sources) / TYPST, cible / TYPST)
    reference_docx(cible / REFERENCE_DOCX)
    return cible
