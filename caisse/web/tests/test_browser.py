"""One end-to-end check in a real browser: sign in, search, open a beneficiary's file.

Uses Debian's Chromium (never a downloaded browser); skipped with the reason when Chromium is
missing or Playwright cannot start it. Set ``CAISSE_SCREENSHOTS=/some/dir`` to keep screenshots.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from caisse.accounts.tests.factories import PASSWORD
from caisse.conftest import screenshot
from caisse.web.tests.personas import fast_passwords, filled_file  # noqa: F401

# pytest-django's live_server runs next to Playwright's sync API, which holds an event loop.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]


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
    screenshot(page, "accueil-gestionnaire")

    page.get_by_label("Nom").fill("MARTIN")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="MARTIN Léa").click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Léa MARTIN"
    assert page.title().startswith("Dossier de Léa MARTIN")
    assert f.lea.nir_formate in page.locator(".lead").inner_text()
    assert "Remise, active" in page.locator("section:has(#cartes)").inner_text()
    screenshot(page, "dossier")
