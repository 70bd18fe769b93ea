"""The online spaces of members, professionals and employers: texts for every audience, dates typed
JJ/MM/AAAA in every browser, personal pages never cached, no sideways scrolling on a phone."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import RequestFactory
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.accounts.tests.factories import UserFactory
from caisse.professionals.tests.factories import EmployerFactory, HealthProfessionalFactory
from caisse.web.forms import AccessibleForm, date_field
from caisse.web.tests.personas import fast_passwords, filled_file, user_for  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

CSS = Path(__file__).resolve().parents[1] / "static" / "web" / "caisse.css"


# --- Texts for every audience ---------------------------------------------------------------------


def test_sign_in_page_addresses_every_audience(client: Any) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    for audience in ("Agents de la caisse", "assurés", "professionnels de santé", "employeurs"):
        assert audience in html


def test_an_agent_refused_a_page_is_sent_to_their_manager(client: Any) -> None:
    client.force_login(UserFactory(role=Role.ACCUEIL))
    response = client.get(reverse("web:member_home"))
    assert response.status_code == 403
    assert "adressez-vous à votre responsable" in response.content.decode()


@pytest.mark.parametrize("role", [Role.ASSURE, Role.PROFESSIONNEL, Role.EMPLOYEUR])
def test_the_public_refused_a_page_is_sent_to_the_caisse_and_back_to_their_space(client: Any, role: str) -> None:
    extra: dict[str, Any] = {}
    if role == Role.PROFESSIONNEL:
        extra["professional"] = HealthProfessionalFactory()
    elif role == Role.EMPLOYEUR:
        extra["employer"] = EmployerFactory()
    client.force_login(user_for(role, **extra))
    response = client.get(reverse("beneficiaries:search"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "responsable" not in html
    assert "contactez votre caisse d'assurance maladie" in html
    assert f'<a href="{reverse("web:home")}">Revenir à mon espace</a>' in html


def test_a_refusal_without_an_account_offers_to_sign_in() -> None:
    from django.contrib.auth.models import AnonymousUser

    from caisse.web.views import permission_denied

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    html = permission_denied(request).content.decode()
    assert "responsable" not in html and reverse("accounts:login") in html


# --- Dates -------------------------------------------------------------------------------------------


class _DateForm(AccessibleForm):
    jour = date_field("Jour")
    depuis = date_field("Depuis", required=False, help_text="Premier jour couvert.")


def test_a_date_is_a_text_field_whose_hint_holds_in_every_browser() -> None:
    html = str(_DateForm()["jour"])
    assert 'type="text"' in html and 'type="date"' not in html
    assert 'inputmode="numeric"' in html
    assert "JJ/MM/AAAA" in _DateForm().fields["jour"].help_text
    # A hint written without the format gets it.
    assert _DateForm().fields["depuis"].help_text == "Premier jour couvert. Format : JJ/MM/AAAA."


@pytest.mark.parametrize("typed", ["05/03/2025", "5/3/2025", "05/03/25", "05.03.2025", "05-03-2025", "2025-03-05"])
def test_a_date_typed_jj_mm_aaaa_or_sent_iso_is_read_and_shown_back_jj_mm_aaaa(typed: str) -> None:
    form = _DateForm({"jour": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["jour"] == dt.date(2025, 3, 5)
    assert 'value="05/03/2025"' in str(form["jour"])


def test_an_unbound_date_is_shown_jj_mm_aaaa() -> None:
    assert 'value="05/03/2025"' in str(_DateForm(initial={"jour": dt.date(2025, 3, 5)})["jour"])


def test_a_wrong_date_is_shown_back_as_typed_with_the_expected_format() -> None:
    form = _DateForm({"jour": "31/02/2025"})
    assert not form.is_valid()
    assert 'value="31/02/2025"' in str(form["jour"])
    message = str(form.errors["jour"][0])
    assert message.startswith("Saisissez une date valide.") and "JJ/MM/AAAA" in message


# --- No cache for personal pages ------------------------------------------------------------------


def _not_stored(response: Any) -> bool:
    return "no-store" in response.get("Cache-Control", "") and response.get("Pragma") == "no-cache"


def test_pages_of_a_signed_in_person_are_never_stored(client: Any) -> None:
    f = filled_file()
    client.force_login(user_for(Role.ASSURE, beneficiary=f.lea))
    for url in (reverse("web:member_home"), reverse("rights:attestation", args=[f.lea.pk]),
                reverse("beneficiaries:search")):  # a page, a PDF (or its unavailable page), a refusal
        response = client.get(url)
        assert _not_stored(response), (url, response.status_code, response.get("Cache-Control"))
        assert "private" in response["Cache-Control"]


def test_the_sign_out_and_sign_in_responses_are_never_stored(client: Any) -> None:
    from caisse.accounts.tests.factories import PASSWORD

    user = UserFactory(role=Role.ACCUEIL)
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and _not_stored(response)
    assert _not_stored(client.post(reverse("accounts:logout")))


def test_anonymous_pages_and_static_files_stay_cacheable(client: Any) -> None:
    response = client.get("/page-inconnue/")  # the sign-in page is never cached anyway (Django's LoginView)
    assert response.status_code == 404 and "Cache-Control" not in response and "Pragma" not in response
    client.force_login(UserFactory(role=Role.ACCUEIL))
    response = client.get("/static/web/caisse.css")
    response.close()  # a file response: close the file
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_an_api_call_with_a_token_is_never_stored(client: Any) -> None:
    response = client.get("/api/openapi.json", HTTP_AUTHORIZATION="Bearer inconnu")
    assert _not_stored(response)


# --- Reflow (WCAG 1.4.10) --------------------------------------------------------------------------


def test_screen_reader_texts_stay_inside_the_scrolling_table_wrapper() -> None:
    """``.sr-only`` is absolutely positioned: without a positioned ``.table-wrap`` its containing
    block is the page, and a wide table's hidden link text widened the whole page on a phone."""
    css = CSS.read_text(encoding="utf-8")
    rule = re.search(r"\.table-wrap\s*\{([^}]*)\}", css)
    assert rule and "overflow-x: auto" in rule.group(1) and "position: relative" in rule.group(1)
    sr_only = re.search(r"\.sr-only\s*\{([^}]*)\}", css)
    assert sr_only and "clip-path: inset(50%)" in sr_only.group(1)
