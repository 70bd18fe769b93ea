"""End to end in a real browser: an accident du travail from its declaration to its decision.

Uses Debian's Chromium (never a downloaded browser); skipped with the reason when Chromium is
missing or Playwright cannot start it. Set ``CAISSE_SCREENSHOTS=/some/dir`` to keep screenshots.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.db import connection

from caisse.accounts.models import Role
from caisse.accounts.tests.factories import PASSWORD, UserFactory
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.conftest import screenshot
from caisse.work_accidents.enums import CaseStatus
from caisse.work_accidents.models import Case
from caisse.work_accidents.tests.factories import EmployerFactory

# pytest-django's live_server runs next to Playwright's sync API, which holds an event loop.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
    screenshot(page, "atmp-declaration-erreur")
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
    screenshot(page, "atmp-dossier-instruction")

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
    screenshot(page, "atmp-dossier-reconnu")
    page.get_by_role("link", name="Dossiers AT/MP").click()
    page.wait_for_selector("h1")
    screenshot(page, "atmp-file")
