"""Render a Quarto document, with the quarto CLI or without it.

Without quarto, the document is executed the way Quarto's Jupyter engine executes it,
reduced to what the fiches and the site pages use:

* the YAML front matter is read; its `execute` options are the cells' defaults;
* the `{python}` cells run in order, in one namespace, with the document folder as the
  working directory; after the cell tagged `parameters`, a cell setting the values given
  is injected (what `quarto render -P name:value` does);
* cell options (`#| key: value` lines): `eval`, `echo`, `include`, `output` (true, false
  or `asis`), `warning`, `label`, `fig-cap`, `fig-alt`, `tags`;
* what a cell shows, in order: printed text (Markdown as is in an `asis` cell, a code
  block otherwise), `display(...)` calls, and the value of its last expression; a
  matplotlib Figure (shown, or left open in pyplot) is saved under
  `<stem>_files/figure-<format>/` and inserted as an image with its caption and alt text;
* inline `` `{python} expression` `` code is replaced by its value.

The Markdown that results is then converted by pandoc, from the same file for every
format: HTML (standalone, every resource embedded), DOCX, and Typst compiled to a PDF
with the `typst` package. With quarto, `quarto render` does all of it.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from capitalisation.erreurs import ErreurUtilisateur

FORMATS = ("html", "pdf", "docx")
# The Quarto name of each output format (PDF goes through Typst).
FORMATS_QUARTO = {"html": "html", "pdf": "typst", "docx": "docx"}

_DEBUT_CELLULE = re.compile(r"^(?P<fence>`{3,})\s*\{python(?P<suite>[^}]*)\}\s*$")
_DEBUT_BLOC = re.compile(r"^(?P<fence>`{3,}|~{3,})")
_EN_LIGNE = re.compile(r"`\{python\}\s+([^`]+?)`")
# Quarto's `fig-alt` image attribute becomes the `alt` that pandoc writes.
FILTRE_ALT = """function Image(image)
  local alt = image.attributes["fig-alt"]
  if alt then
    image.attributes["fig-alt"] = nil
    image.attributes["alt"] = alt
  end
  return image
end
"""


# Added to every PDF's Typst preamble (after the document's own header-includes): a table
# that fits on a page is never split, so that its caption and header row never stay alone
# at the foot of a page; a longer one breaks, its header row repeated on each page.
GABARIT_TYPST = """// Tables: kept whole when they fit on a page (header rows stay with their rows).
#show figure.where(kind: table): it => layout(region => {
  let hauteur = measure(it, width: region.width).height
  block(breakable: hauteur > region.height, width: 100%, it)
})
"""


class ErreurRendu(ErreurUtilisateur):
    """A document that could not be rendered (a cell failed, pandoc or Typst refused it)."""


@dataclass
class Cellule:
    code: str
    options: dict
    ligne: int  # line of the opening fence in the .qmd (1-based)


@dataclass
class Document:
    chemin: Path
    entete: dict
    morceaux: list = field(default_factory=list)  # Markdown text (str) or Cellule

    @property
    def nom(self) -> str:
        return self.chemin.stem


# --------------------------------------------------------------------------- reading


def separer_entete(texte: str) -> tuple[dict, str, int]:
    """(front matter, body, number of lines before the body) of a .qmd text."""
    lignes = texte.splitlines(keepends=True)
    if not lignes or lignes[0].strip() != "---":
        return {}, texte, 0
    for i in range(1, len(lignes)):
        if lignes[i].strip() in ("---", "..."):
            entete = yaml.safe_load("".join(lignes[1:i])) or {}
            if not isinstance(entete, dict):
                raise ErreurRendu("l'en-tête YAML du document n'est pas un dictionnaire")
            return entete, "".join(lignes[i + 1:]), i + 1
    raise ErreurRendu("l'en-tête YAML du document n'est pas fermé par « --- »")


class _Dumper(yaml.SafeDumper):
    """YAML as a person writes it: texts of several lines as literal blocks (« | »)."""


def _texte_yaml(dumper: yaml.SafeDumper, texte: str):
    style = "|" if "\n" in texte else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", texte, style=style)


_Dumper.add_representer(str, _texte_yaml)


def ecrire_entete(entete: dict, corps: str) -> str:
    """A .qmd / Markdown text from its front matter and body."""
    yaml_texte = yaml.dump(entete, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{yaml_texte}---\n{corps}"


def _options(lignes: list[str]) -> tuple[dict, list[str]]:
    """The `#| key: value` options at the top of a cell, and the code after them."""
    options_lignes = []
    i = 0
    while i < len(lignes) and lignes[i].startswith("#|"):
        options_lignes.append(lignes[i][2:].removeprefix(" "))
        i += 1
    options = yaml.safe_load("".join(options_lignes)) if options_lignes else {}
    return options or {}, lignes[i:]


def lire_document(chemin: Path, texte: str | None = None) -> Document:
    """Split a .qmd into Markdown chunks and Python cells (other code blocks stay Markdown)."""
    chemin = Path(chemin)
    texte = chemin.read_text(encoding="utf-8") if texte is None else texte
    entete, corps, decalage = separer_entete(texte)
    document = Document(chemin, entete)
    lignes = corps.splitlines(keepends=True)
    markdown: list[str] = []
    i = 0
    while i < len(lignes):
        ligne = lignes[i]
        cellule = _DEBUT_CELLULE.match(ligne.rstrip("\n"))
        bloc = _DEBUT_BLOC.match(ligne)
        if cellule or bloc:
            fence = (cellule or bloc).group("fence")
            fin = i + 1
            while fin < len(lignes) and lignes[fin].rstrip() != fence:
                fin += 1
            if fin == len(lignes):
                raise ErreurRendu(f"bloc de code non fermé, ligne {i + 1 + decalage} de {chemin.name}")
            if cellule:
                if markdown:
                    document.morceaux.append("".join(markdown))
                    markdown = []
                options, code = _options(lignes[i + 1:fin])
                suite = cellule.group("suite").strip()
                if suite and "label" not in options and not suite.startswith(("#", ".")):
                    options["label"] = suite.split()[0].rstrip(",")
                document.morceaux.append(Cellule("".join(code), options, i + 1 + decalage))
            else:
                markdown.extend(lignes[i:fin + 1])
            i = fin + 1
            continue
        markdown.append(ligne)
        i += 1
    if markdown:
        document.morceaux.append("".join(markdown))
    return document


# --------------------------------------------------------------------------- execution


class _Sorties:
    """What the cells show, in order: ('texte', str), ('markdown', str), ('figure', Figure)."""

    def __init__(self):
        self.elements: list[tuple[str, object]] = []

    def texte(self, texte: str) -> None:
        if not texte:
            return
        if self.elements and self.elements[-1][0] == "texte":
            self.elements[-1] = ("texte", self.elements[-1][1] + texte)
        else:
            self.elements.append(("texte", texte))

    def afficher(self, objet) -> None:
        """What IPython's `display` would show, for the kinds of objects documents use."""
        if objet is None:
            return
        try:
            from matplotlib.figure import Figure
        except ImportError:  # pragma: no cover - matplotlib is a dependency
            Figure = ()
        if isinstance(objet, Figure):
            self.elements.append(("figure", objet))
        elif hasattr(objet, "_repr_markdown_"):
            self.elements.append(("markdown", objet._repr_markdown_()))
        elif _est_tableau(objet):
            self.elements.append(("markdown", tableau_markdown(objet)))
        else:
            self.texte(repr(objet) + "\n")


class _Flux(io.TextIOBase):
    def __init__(self, sorties: _Sorties):
        self.sorties = sorties

    def writable(self) -> bool:
        return True

    def write(self, texte: str) -> int:
        self.sorties.texte(texte)
        return len(texte)


def _est_tableau(objet) -> bool:
    return type(objet).__name__ == "DataFrame" and hasattr(objet, "to_dict")


def _cellule_md(valeur) -> str:
    return str(valeur).replace("|", "\\|").replace("\n", " ")


def tableau_markdown(table) -> str:
    """A pandas DataFrame as a pipe table (no index)."""
    colonnes = [str(c) for c in table.columns]
    lignes = ["| " + " | ".join(_cellule_md(c) for c in colonnes) + " |",
              "|" + "|".join("---" for _ in colonnes) + "|"]
    for ligne in table.itertuples(index=False):
        lignes.append("| " + " | ".join(_cellule_md(v) for v in ligne) + " |")
    return "\n".join(lignes) + "\n"


def _executer_code(code: str, espace: dict, nom: str, sorties: _Sorties):
    """Run a cell; returns the value of its last expression (as IPython does)."""
    arbre = ast.parse(code, filename=nom, mode="exec")
    derniere = None
    if arbre.body and isinstance(arbre.body[-1], ast.Expr):
        derniere = ast.Expression(arbre.body.pop().value)
    with contextlib.redirect_stdout(_Flux(sorties)), contextlib.redirect_stderr(io.StringIO()):
        exec(compile(arbre, nom, "exec"), espace)  # noqa: S102 - running the cells is the point
        if derniere is not None:
            return eval(compile(derniere, nom, "eval"), espace)
    return None


def _figures_pyplot() -> list:
    """Figures left open in pyplot (the inline backend shows and closes them)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    figures = [pyplot.figure(num) for num in pyplot.get_fignums()]
    pyplot.close("all")
    return figures


def _attribut(texte: str) -> str:
    return str(texte).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _en_ligne(markdown: str, espace: dict, document: Document) -> str:
    def remplacer(m: re.Match) -> str:
        try:
            return str(eval(m.group(1), espace))
        except Exception as exc:
            raise ErreurRendu(f"{document.chemin.name} : code en ligne « {m.group(1)} » : "
                              f"{type(exc).__name__} : {exc}") from exc

    return _EN_LIGNE.sub(remplacer, markdown)


def executer_document(document: Document, params: dict | None = None,
                      format_figures: str = "html") -> str:
    """Execute the document's cells; returns its Markdown (front matter included).

    Figures are written under `<stem>_files/figure-<format_figures>/` beside the document,
    so that two documents never share a figure folder.
    """
    params = dict(params or {})
    dossier = document.chemin.parent.resolve()
    figures = Path(f"{document.nom}_files") / f"figure-{format_figures}"
    defauts = dict(document.entete.get("execute") or {})
    espace: dict = {"__name__": "__main__", "__file__": str(document.chemin.resolve())}
    espace["display"] = None  # replaced per cell, below
    morceaux: list[str] = []
    parametres_injectes = False
    compteur_figures = 0
    precedent = Path.cwd()
    os.chdir(dossier)
    try:
        for numero, morceau in enumerate(document.morceaux, start=1):
            if isinstance(morceau, str):
                morceaux.append(_en_ligne(morceau, espace, document))
                continue
            options = {**defauts, **morceau.options}
            if options.get("eval", True) is False:
                if options.get("echo") is True:
                    morceaux.append(f"\n```python\n{morceau.code}```\n")
                continue
            sorties = _Sorties()
            espace["display"] = lambda *objets, _s=sorties: [_s.afficher(o) for o in objets] and None
            nom = f"<{document.chemin.name}, cellule ligne {morceau.ligne}>"
            try:
                with warnings.catch_warnings():
                    if options.get("warning", True) is False:
                        warnings.simplefilter("ignore")
                    valeur = _executer_code(morceau.code, espace, nom, sorties)
                    if "parameters" in (options.get("tags") or []) and not parametres_injectes:
                        injection = "".join(f"{cle} = {valeur!r}\n" for cle, valeur in params.items())
                        _executer_code(injection, espace, "<paramètres>", sorties)
                        parametres_injectes = True
            except Exception as exc:
                raise ErreurRendu(
                    f"{document.chemin.name}, cellule de la ligne {morceau.ligne} : "
                    f"{type(exc).__name__} : {exc}"
                ) from exc
            sorties.afficher(valeur)
            for figure in _figures_pyplot():
                sorties.afficher(figure)
            if options.get("include", True) is False or options.get("output", True) is False:
                continue
            asis = options.get("output") == "asis"
            bloc: list[str] = []
            if options.get("echo") is True:
                bloc.append(f"```python\n{morceau.code}```\n")
            rang_figure = 0
            for genre, contenu in sorties.elements:
                if genre == "texte":
                    bloc.append(contenu if asis else f"```\n{contenu.rstrip()}\n```\n")
                elif genre == "markdown":
                    bloc.append(contenu)
                else:
                    compteur_figures += 1
                    rang_figure += 1
                    etiquette = options.get("label") or f"cellule-{numero}"
                    if rang_figure > 1:
                        etiquette = f"{etiquette}-{rang_figure}"
                    fichier = figures / f"{etiquette}.png"
                    (dossier / fichier).parent.mkdir(parents=True, exist_ok=True)
                    contenu.savefig(dossier / fichier, dpi=150)
                    legende = str(options.get("fig-cap") or "")
                    alt = str(options.get("fig-alt") or legende or "Graphique")
                    bloc.append(f'![{legende}]({fichier.as_posix()}){{fig-alt="{_attribut(alt)}"}}\n')
            if bloc:
                morceaux.append("\n" + "\n".join(b if b.endswith("\n") else b + "\n" for b in bloc) + "\n")
    finally:
        os.chdir(precedent)
    return ecrire_entete(document.entete, "".join(morceaux))


# --------------------------------------------------------------------------- conversion


def pandoc() -> str:
    """The pandoc executable: the one of pypandoc-binary, else the system's."""
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        chemin = shutil.which("pandoc")
        if not chemin:
            raise ErreurRendu("pandoc est introuvable (installer pypandoc-binary)") from None
        return chemin


def _options_format(entete: dict, format_: str) -> dict:
    formats = entete.get("format") or {}
    options = formats.get(FORMATS_QUARTO[format_]) if isinstance(formats, dict) else None
    return dict(options) if isinstance(options, dict) else {}


def mourir_avec_le_parent() -> None:
    """In a child program (pandoc, quarto): killed by the kernel when its parent dies."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_ENFANT = {"preexec_fn": mourir_avec_le_parent} if sys.platform.startswith("linux") else {}


def _lancer_pandoc(arguments: list[str], dossier: Path, quoi: str) -> None:
    resultat = subprocess.run([pandoc(), *arguments], cwd=dossier, capture_output=True,
                              text=True, check=False, **_ENFANT)
    if resultat.returncode != 0:
        raise ErreurRendu(f"pandoc a refusé {quoi} : {resultat.stderr.strip()[:2000]}")


def convertir(markdown: Path, format_: str, sortie: Path, entete: dict,
              avant_corps: Path | None = None) -> Path:
    """Convert an executed Markdown file to html, docx or pdf (pandoc, then Typst for PDF)."""
    markdown, sortie = Path(markdown).resolve(), Path(sortie).resolve()
    dossier = markdown.parent
    options = _options_format(entete, format_)
    metadonnees = {k: v for k, v in options.items()
                   if k not in ("toc", "toc-depth", "css", "embed-resources", "reference-doc",
                                "include-before-body")}
    if format_ == "pdf":  # the document's own preamble first, then the common rules
        metadonnees["header-includes"] = [*_liste(metadonnees.get("header-includes")),
                                          f"```{{=typst}}\n{GABARIT_TYPST}```\n"]
    fichier_meta = dossier / f".{markdown.stem}.{format_}.meta.yml"
    fichier_meta.write_text(yaml.safe_dump(metadonnees, allow_unicode=True), encoding="utf-8")
    filtre = dossier / ".alt_figures.lua"
    filtre.write_text(FILTRE_ALT, encoding="utf-8")
    arguments = [markdown.name, "--from", "markdown", f"--metadata-file={fichier_meta.name}",
                 f"--resource-path={dossier}", "--lua-filter", filtre.name]
    if options.get("toc"):
        arguments += ["--toc", f"--toc-depth={options.get('toc-depth', 2)}"]
    try:
        if format_ == "html":
            arguments += ["--to", "html5", "--standalone", "--embed-resources"]
            for css in _liste(options.get("css")):
                arguments += ["--css", css]
            avant = avant_corps or options.get("include-before-body")
            for fichier in _liste(avant):
                arguments += ["--include-before-body", str(fichier)]
            _lancer_pandoc(arguments + ["-o", str(sortie)], dossier, f"{markdown.name} (HTML)")
        elif format_ == "docx":
            arguments += ["--to", "docx"]
            if options.get("reference-doc"):
                arguments += ["--reference-doc", str(options["reference-doc"])]
            _lancer_pandoc(arguments + ["-o", str(sortie)], dossier, f"{markdown.name} (DOCX)")
        elif format_ == "pdf":
            typ = dossier / f"{markdown.stem}.typ"
            papier = str(options.get("papersize", "a4"))
            arguments += ["--to", "typst", "--standalone", "-V", f"papersize={papier}"]
            _lancer_pandoc(arguments + ["-o", str(typ)], dossier, f"{markdown.name} (Typst)")
            compiler_typst(typ, sortie)
        else:
            raise ErreurRendu(f"format inconnu : {format_} (attendu : {', '.join(FORMATS)})")
    finally:
        fichier_meta.unlink(missing_ok=True)
        filtre.unlink(missing_ok=True)
    return sortie


def _liste(valeur) -> list:
    if not valeur:
        return []
    return list(valeur) if isinstance(valeur, (list, tuple)) else [valeur]


def compiler_typst(typ: Path, pdf: Path) -> None:
    import typst

    polices = [p for p in ("/usr/share/fonts", "/usr/local/share/fonts") if Path(p).is_dir()]
    try:
        typst.compile(str(typ), output=str(pdf), root=str(typ.parent), font_paths=polices)
    except Exception as exc:  # typst raises its own error types
        raise ErreurRendu(f"Typst n'a pas pu composer {typ.name} : {exc}") from exc


# --------------------------------------------------------------------------- quarto


def quarto_disponible() -> bool:
    """quarto on the PATH, with a Jupyter kernel for Python (else the internal engine).

    CAPITALISATION_MOTEUR=interne forces the internal engine; =quarto forces quarto.
    """
    choix = os.environ.get("CAPITALISATION_MOTEUR", "").strip().lower()
    if choix == "interne":
        return False
    if not shutil.which("quarto"):
        if choix == "quarto":
            raise ErreurUtilisateur("CAPITALISATION_MOTEUR=quarto, mais quarto est introuvable.")
        return False
    if choix == "quarto":
        return True
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("ipykernel", "nbclient", "nbformat"))


def rendre_avec_quarto(document: Path, formats: list[str], params: dict,
                       avant_corps: Path | None = None) -> dict[str, Path]:
    """`quarto render` of one document, in its own folder, for each format."""
    document = Path(document).resolve()
    environnement = {**os.environ, "QUARTO_PYTHON": sys.executable}
    fichiers = {}
    for format_ in formats:
        commande = ["quarto", "render", document.name, "--to", FORMATS_QUARTO[format_]]
        for cle, valeur in params.items():
            commande += ["-P", f"{cle}:{valeur}"]
        if format_ == "html" and avant_corps:
            commande += ["-M", f"include-before-body:{avant_corps}"]
        resultat = subprocess.run(commande, cwd=document.parent, capture_output=True, text=True,
                                  env=environnement, check=False, **_ENFANT)
        sortie = document.with_suffix("." + format_)
        if resultat.returncode != 0 or not sortie.exists():
            raise ErreurRendu(f"quarto n'a pas pu rendre {document.name} en {format_} : "
                              f"{resultat.stderr.strip()[-2000:]}")
        fichiers[format_] = sortie
    return fichiers


# --------------------------------------------------------------------------- one document


def rendre_document(document: Path, formats: list[str], params: dict | None = None,
                    avant_corps: Path | None = None, quarto: bool | None = None) -> dict[str, Path]:
    """Render a .qmd beside itself in each format; returns {format: file}.

    With quarto (when available, or when `quarto` is true) the document is executed by
    Quarto for each format; otherwise it is executed once here and converted by pandoc.
    """
    document = Path(document).resolve()
    params = dict(params or {})
    if quarto is None:
        quarto = quarto_disponible()
    if quarto:
        return rendre_avec_quarto(document, formats, params, avant_corps)
    doc = lire_document(document)
    markdown = document.with_suffix(".md")
    markdown.write_text(executer_document(doc, params), encoding="utf-8")
    fichiers = {}
    for format_ in formats:
        sortie = document.with_suffix("." + format_)
        convertir(markdown, format_, sortie, doc.entete, avant_corps=avant_corps)
        fichiers[format_] = sortie
    return fichiers
