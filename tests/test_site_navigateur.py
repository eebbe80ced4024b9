"""The published site in a real browser: headless Chromium (Debian's), driven by selenium.

The site of the demo warehouse (built once per session by test_fiches.site_de_demonstration)
is served over HTTP on 127.0.0.1; every page is loaded, must log no console error, and
every link and image must resolve. A screenshot of each page is kept in tests/artefacts/.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .test_fiches import ARTEFACTS, site_de_demonstration

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARGUMENTS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
    reason="Chromium absent (/usr/bin/chromium, /usr/bin/chromedriver) : l'intégration continue "
           "l'installe avec .ci/paquets-systeme",
)


class _Silencieux(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def serveur(tmp_path_factory):
    _, sortie, _ = site_de_demonstration(tmp_path_factory)
    gestionnaire = functools.partial(_Silencieux, directory=str(sortie))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), gestionnaire)
    fil = threading.Thread(target=httpd.serve_forever, daemon=True)
    fil.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", sortie
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def navigateur():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profil = tempfile.mkdtemp(prefix="chromium-profil-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (*ARGUMENTS, f"--user-data-dir={profil}", "--window-size=1280,1600"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    pilote = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield pilote
    finally:
        pilote.quit()
        shutil.rmtree(profil, ignore_errors=True)


def _statut(url: str) -> int:
    requete = urllib.request.Request(url, method="GET")
    try:
        with urllib.request.urlopen(requete, timeout=10) as reponse:
            return reponse.status
    except urllib.error.HTTPError as erreur:
        return erreur.code


def test_chaque_page_se_charge_sans_erreur_et_chaque_lien_aboutit(serveur, navigateur):
    racine, sortie = serveur
    pages = ["index.html", "programme.html", *sorted(
        str(p.relative_to(sortie)) for p in (sortie / "fiches").glob("*.html"))]
    if (sortie / "benchmark.html").exists():
        pages.append("benchmark.html")
    ARTEFACTS.mkdir(exist_ok=True)
    vus: set[str] = set()
    for page in pages:
        navigateur.get(racine + page)
        assert navigateur.execute_script("return document.documentElement.lang") == "fr", page
        erreurs = [e for e in navigateur.get_log("browser") if e.get("level") == "SEVERE"]
        assert not erreurs, (page, erreurs)
        images = navigateur.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])")
        assert all(charge for _, charge in images), (page, images)
        assert all(alt.strip() for alt, _ in images), page
        liens = navigateur.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        for lien in liens:
            adresse = urllib.parse.urldefrag(lien).url
            if adresse.startswith(racine) and adresse not in vus:
                vus.add(adresse)
                assert _statut(adresse) == 200, (page, lien)
        hauteur = navigateur.execute_script("return document.body.scrollHeight")
        navigateur.set_window_size(1280, min(max(hauteur, 800), 4000))
        nom = page.replace("/", "-").removesuffix(".html")
        assert navigateur.save_screenshot(str(ARTEFACTS / f"navigateur-{nom}.png"))
    # Every fiche is reachable from the index, and the index from every fiche.
    navigateur.get(racine + "index.html")
    depuis_index = set(navigateur.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"))
    for page in pages[2:]:
        if page.startswith("fiches/"):
            assert page in depuis_index, page
    assert racine + "index.html" in vus
