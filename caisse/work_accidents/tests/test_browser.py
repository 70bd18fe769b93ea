"""End to end in a real browser: an accident du travail from its declaration to its decision.

Uses Debian's Chromium (never a downloaded browser); skipped with the reason when Chromium is
missing or Playwright cannot start it. Set ``CAISSE_SCREENSHOTS=/some/dir`` to keep screenshots.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from caisse.accounts.models import Role
from caisse.accounts.tests.factories import PASSWORD, UserFactory
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.work_accidents.enums import CaseStatus
from caisse.work_accidents.models import Case
from caisse.work_accidents.tests.factories import EmployerFactory

# pytest-django's live_server runs next to Playwright's sync API, which holds an event loop.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(settings: Any) -> Iterator[Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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
        browser.close()
        playwright.stop()


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("CAISSE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"atmp-{name}.png"), full_page=True)


def test_an_accident_from_declaration_to_recognition(page: Any, live_server: Any) -> None:
    try:
        _walk_through(page, live_server)
    finally:
        # Under Playwright's sync API the test body runs in its own context, so Django gives it its
        # own connection: close it, or PostgreSQL refuses to drop the test database at the end.
        connection.close()


def _walk_through(page: Any, live_server: Any) -> None:
    UserFactory(role=Role.GESTIONNAIRE_ATMP, username="nadia", first_name="Nadia", last_name="Ferhat")
    victim = BeneficiaryFactory(prenom="Inès", nom="DURAND")
    employer = EmployerFactory(raison_sociale="Boulangerie du Marché")

    page.goto(f"{live_server.url}/connexion/?next=/atmp/")
    page.get_by_label("Identifiant").fill("nadia")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Dossiers AT/MP à instruire"

    # The DAT of the employer, first with a mistake the form refuses in French.
    page.get_by_role("link", name="Enregistrer une déclaration").click()
    page.get_by_label("Accident du travail").check()
    page.get_by_label("Employeur", exact=True).check()
    page.get_by_label("NIR de la victime").fill(victim.nir)
    page.get_by_label("SIRET de l'employeur").fill(employer.siret)
    page.get_by_label("Date de l'accident ou de la première constatation médicale").fill("2026-06-05")
    page.get_by_label("Date de la déclaration").fill("2026-06-04")
    page.get_by_label("Date de réception par la caisse").fill("2026-06-08")
    page.get_by_role("button", name="Enregistrer la déclaration").click()
    page.wait_for_selector(".error-summary")
    assert "La déclaration ne peut pas précéder" in page.locator(".error-summary").inner_text()
    assert page.title().startswith("Erreur :")
    _shot(page, "declaration-erreur")
    page.get_by_label("Date de la déclaration").fill("2026-06-08")
    page.get_by_role("button", name="Enregistrer la déclaration").click()
    page.wait_for_selector("h1:has-text('Dossier AT/MP')")
    case = Case.objects.get()
    assert "Déclaration enregistrée" in page.locator(".messages").inner_text()

    # The certificat médical initial starts the 30 jours francs.
    page.get_by_role("link", name="Enregistrer le certificat médical initial").click()
    page.get_by_label("Date d'établissement du certificat médical initial").fill("2026-06-05")
    page.get_by_label("Date de réception par la caisse").fill("2026-06-12")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("h1:has-text('Dossier AT/MP')")
    assert "lundi 13/07/2026" in page.locator("#decision + p").inner_text()
    _shot(page, "dossier-instruction")

    # The decision.
    page.get_by_role("link", name="Statuer").click()
    page.get_by_label("Date").fill("2026-06-22")
    page.get_by_label("Reconnaître le caractère professionnel").check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_selector("h1:has-text('Dossier AT/MP')")
    case.refresh_from_db()
    assert case.status == CaseStatus.RECONNU
    timeline = page.locator("ol.timeline").inner_text()
    for step in ("Enregistrer la déclaration", "Enregistrer le certificat médical initial",
                 "Reconnaître le caractère professionnel"):
        assert step in timeline
    assert page.get_by_role("link", name="Courrier de décision — victime (PDF)").is_visible()
    _shot(page, "dossier-reconnu")
    page.get_by_role("link", name="Dossiers AT/MP").click()
    page.wait_for_selector("h1")
    _shot(page, "file")
