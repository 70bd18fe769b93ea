"""One end-to-end check in a real browser: sign in, search, open a beneficiary's file.

Uses Debian's Chromium (never a downloaded browser); skipped with the reason when Chromium is
missing or Playwright cannot start it. Set ``CAISSE_SCREENSHOTS=/some/dir`` to keep screenshots.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from caisse.accounts.tests.factories import PASSWORD
from caisse.web.tests.personas import fast_passwords, filled_file  # noqa: F401

# pytest-django's live_server runs next to Playwright's sync API, which holds an event loop.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CAISSE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def page() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium absent ({CHROMIUM}) : installez le paquet Debian « chromium ».")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"Playwright n'est pas installé ({exc}).")
    manager = sync_playwright()
    try:
        playwright = manager.start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    except Exception as exc:  # any start failure means: skip, with the reason
        try:
            manager.__exit__(None, None, None)
        finally:
            pytest.skip(f"Playwright ne peut pas démarrer Chromium : {exc}")
    try:
        yield browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    finally:
        # Under Playwright's sync API the test body gets its own connection: close it while the
        # browser still runs, or PostgreSQL refuses to drop the test database.
        from django.db import connections

        connections.close_all()
        browser.close()
        playwright.stop()


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("CAISSE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_agent_signs_in_searches_and_opens_a_file(page: Any, live_server: Any) -> None:
    f = filled_file()
    page.goto(f"{live_server.url}/connexion/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.get_by_label("Identifiant").fill("claire")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Bonjour Claire"
    _shot(page, "accueil-gestionnaire")

    page.get_by_label("Nom").fill("MARTIN")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="MARTIN Léa").click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Léa MARTIN"
    assert page.title().startswith("Dossier de Léa MARTIN")
    assert f.lea.nir_formate in page.locator(".lead").inner_text()
    assert "Remise, active" in page.locator("section:has(#cartes)").inner_text()
    _shot(page, "dossier")
