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
from caisse.claims.tests.test_views import referentiel  # noqa: F401
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
