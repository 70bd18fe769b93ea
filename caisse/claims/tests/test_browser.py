"""End to end in a real browser: a liquidateur captures a paper feuille, then opens a statement.

Uses Debian's Chromium (never a downloaded browser); skipped with the reason when Chromium is
missing or Playwright cannot start it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from caisse.accounts.models import Role
from caisse.accounts.tests.factories import PASSWORD
from caisse.claims import services
from caisse.claims.models import Feuille, FeuilleStatus
from caisse.claims.tests.test_views import liquidated, referentiel  # noqa: F401
from caisse.conftest import screenshot

# pytest-django's live_server runs next to Playwright's sync API, which holds an event loop.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.urls("caisse.claims.tests.test_views")]


def test_liquidateur_captures_a_paper_feuille_then_opens_the_statement(
    page: Any, live_server: Any, make_user: Any, referentiel: dict[str, Any],  # noqa: F811
) -> None:
    make_user(Role.LIQUIDATEUR, username="paul", first_name="Paul")
    today = timezone.localdate()
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill("paul")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Frais de santé").click()
    page.get_by_role("link", name="Saisir une feuille de soins papier").click()
    assert page.locator("h1").inner_text() == "Saisir une feuille de soins papier"

    # A first try with a wrong NIR key: the error summary says so, in French.
    page.get_by_label("NIR du bénéficiaire des soins").fill(referentiel["nir"][:-2] + "00")
    page.get_by_label("Professionnel exécutant").fill(referentiel["ps"])
    page.get_by_label("Reçue par la caisse le").fill((today - dt.timedelta(days=2)).isoformat())
    page.get_by_label("Ligne 1 : code de l'acte").fill("G")
    page.get_by_label("Ligne 1 : date des soins").fill((today - dt.timedelta(days=5)).isoformat())
    page.get_by_label("Ligne 1 : montant facturé (€)").fill("30,00")
    page.get_by_role("button", name="Enregistrer la feuille").click()
    summary = page.locator(".error-summary")
    assert "clé du NIR" in summary.inner_text()
    assert page.title().startswith("Erreur : ")
    screenshot(page, "saisie-erreur")

    page.get_by_label("NIR du bénéficiaire des soins").fill(referentiel["nir"])
    page.get_by_role("button", name="Enregistrer la feuille").click()
    ident = f"FSP-{today:%Y%m%d}-1"
    assert ident in page.locator(".messages").inner_text()
    assert ident in page.locator("table").inner_text()
    screenshot(page, "file-papier")

    services.daily_run(today=today, quiet=True)
    assert Feuille.objects.get(identifiant=ident).statut == FeuilleStatus.LIQUIDEE

    page.goto(f"{live_server.url}/frais-de-sante/beneficiaires/{referentiel['person'].pk}/")
    assert ident in page.locator("table").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Décompte du {today:%d/%m/%Y} (PDF)").click()
    path = download.value.path()
    assert Path(path).read_bytes().startswith(b"%PDF")
    if os.environ.get("CAISSE_SCREENSHOTS"):
        download.value.save_as(str(Path(os.environ["CAISSE_SCREENSHOTS"]) / "decompte.pdf"))
        from caisse.claims.documents import render_statement_html

        (Path(os.environ["CAISSE_SCREENSHOTS"]) / "decompte.html").write_text(
            render_statement_html(referentiel["person"], today), encoding="utf-8")
    screenshot(page, "decomptes")

    page.get_by_role("link", name="Frais de santé").click()
    page.get_by_role("link", name="Délais de traitement").click()
    assert "FSP" in page.locator("table").inner_text()
    assert page.locator("figure svg").count() == 1
    screenshot(page, "delais")


def _sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_online_spaces_the_assure_downloads_a_statement_the_professional_checks_rights(
    page: Any, live_server: Any, make_user: Any, liquidated: dict[str, Any],  # noqa: F811
) -> None:
    from caisse.professionals.models import HealthProfessional

    person, paid = liquidated["person"], liquidated["feuille"].date_paiement
    make_user(Role.ASSURE, username="garance", beneficiary=person)
    _sign_in(page, live_server, "garance")
    page.get_by_role("link", name="Mes remboursements de soins").click()
    assert page.locator("h1").inner_text() == "Mes remboursements de soins"
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Décompte du {paid:%d/%m/%Y} (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    screenshot(page, "mes-remboursements")
    page.get_by_role("button", name="Se déconnecter").click()

    make_user(Role.PROFESSIONNEL, username="bernard",
              professional=HealthProfessional.objects.get(identifiant=liquidated["ps"]))
    _sign_in(page, live_server, "bernard")
    assert page.locator("h1").inner_text() == "Mon espace professionnel"
    page.get_by_label("Numéro de sécurité sociale du patient").fill(person.nir)
    page.get_by_role("button", name="Consulter les droits").click()
    assert "Ouverts" in page.locator("dl.facts").inner_text()
    # The caisse's return on the professional's feuilles (this one was paid to the assuré).
    assert page.get_by_role("heading", name="Paiements reçus").is_visible()
    assert page.get_by_role("heading", name="Feuilles rejetées").is_visible()
    screenshot(page, "espace-professionnel")
