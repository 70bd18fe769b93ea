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


def test_the_online_spaces_never_scroll_sideways_on_a_phone(page: Any, live_server: Any) -> None:
    """WCAG 1.4.10 (reflow): on a 360 px wide phone, no page of the member's, the professional's or
    the employer's space is wider than the screen; a wide table scrolls inside its wrapper (its
    hidden link texts, ``.sr-only``, once escaped it and made ``/mon-espace/`` 613 px wide)."""
    from caisse.accounts.models import Role
    from caisse.professionals.tests.factories import EmployerFactory, HealthProfessionalFactory
    from caisse.web.tests.personas import user_for

    f = filled_file()
    accounts = {
        "lea": user_for(Role.ASSURE, beneficiary=f.lea, username="lea"),
        "cabinet": user_for(Role.PROFESSIONNEL, professional=HealthProfessionalFactory(),
                            username="cabinet"),
        "entreprise": user_for(Role.EMPLOYEUR, employer=EmployerFactory(), username="entreprise"),
    }
    page.set_viewport_size({"width": 360, "height": 740})
    too_wide = []
    for username in accounts:
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/connexion/")
        page.get_by_label("Identifiant").fill(username)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_selector("h1")
        paths = page.eval_on_selector_all(".main-nav a", "links => links.map(a => a.getAttribute('href'))")
        paths += page.eval_on_selector_all("main a[href*='/perte-vol/']", "links => links.map(a => a.getAttribute('href'))")
        assert paths, f"{username} : aucun lien de menu"
        for path in dict.fromkeys(paths):
            page.goto(f"{live_server.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 360:
                too_wide.append(f"{username} {path} : {width} px")
        screenshot(page, f"telephone-{username}")
    assert not too_wide, too_wide
