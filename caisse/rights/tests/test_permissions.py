"""Which role opens the rights pages: protocol validation, residence controls, attestation."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.web.tests.personas import ALL_ROLES, fast_passwords, filled_file, user_for  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

R = Role
AGENTS = {R.ACCUEIL, R.GESTIONNAIRE_DROITS, R.LIQUIDATEUR, R.GESTIONNAIRE_IJ, R.GESTIONNAIRE_ATMP, R.ENQUETEUR,
          R.MEDECIN_CONSEIL, R.MANAGER, R.ADMIN}
VALIDATE_PROTOCOL = {R.MEDECIN_CONSEIL}
SUBMIT_PROTOCOL = {R.MEDECIN_CONSEIL}
RESIDENCE_CONTROLS = {R.GESTIONNAIRE_DROITS, R.ENQUETEUR}
MANAGE_RIGHTS = {R.GESTIONNAIRE_DROITS}
MANAGE_CARDS = {R.ACCUEIL, R.GESTIONNAIRE_DROITS}
ATTESTATION = AGENTS - {R.ADMIN}


@pytest.fixture
def file() -> Any:
    return filled_file()


def _status(client: Any, role: str, url: str, **user: Any) -> int:
    client.force_login(user_for(role, **user))
    return int(client.get(url).status_code)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_protocol_review_page(client: Any, role: str, file: Any) -> None:
    url = reverse("rights:review_protocol", args=[file.lea.pk, file.pending.pk])
    assert _status(client, role, url) == (200 if role in VALIDATE_PROTOCOL else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_protocol_queue_page(client: Any, role: str) -> None:
    assert _status(client, role, reverse("rights:protocol_queue")) == (200 if role in VALIDATE_PROTOCOL else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_protocol_submission_page(client: Any, role: str, file: Any) -> None:
    url = reverse("rights:submit_protocol", args=[file.lea.pk])
    assert _status(client, role, url) == (200 if role in SUBMIT_PROTOCOL else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_residence_controls_page(client: Any, role: str) -> None:
    assert _status(client, role, reverse("rights:residence_controls")) == (200 if role in RESIDENCE_CONTROLS else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_open_rights_page(client: Any, role: str, file: Any) -> None:
    url = reverse("rights:open_rights", args=[file.lea.pk])
    assert _status(client, role, url) == (200 if role in MANAGE_RIGHTS else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_card_opposition_page(client: Any, role: str, file: Any) -> None:
    url = reverse("rights:oppose_card", args=[file.lea.pk, file.card.pk])
    assert _status(client, role, url) == (200 if role in MANAGE_CARDS else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_attestation_of_someone_else(client: Any, role: str, file: Any, monkeypatch: Any) -> None:
    """An assuré here is a stranger to Léa: 403 like the other non-agents."""
    monkeypatch.setattr("caisse.rights.views.render_attestation_pdf", lambda rights: b"%PDF-1.7 test")
    url = reverse("rights:attestation", args=[file.lea.pk])
    assert _status(client, role, url) == (200 if role in ATTESTATION else 403)


@pytest.mark.parametrize("whose", ["own", "child"])
def test_attestation_of_the_member_and_their_child(client: Any, whose: str, file: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("caisse.rights.views.render_attestation_pdf", lambda rights: b"%PDF-1.7 test")
    person = file.lea if whose == "own" else file.hugo
    assert _status(client, R.ASSURE, reverse("rights:attestation", args=[person.pk]), beneficiary=file.lea) == 200


def test_member_of_the_child_cannot_see_the_parent(client: Any, file: Any) -> None:
    assert _status(client, R.ASSURE, reverse("rights:attestation", args=[file.lea.pk]), beneficiary=file.hugo) == 403


def test_validation_by_post_is_refused_to_a_gestionnaire(client: Any, file: Any) -> None:
    client.force_login(user_for(R.GESTIONNAIRE_DROITS))
    url = reverse("rights:review_protocol", args=[file.lea.pk, file.pending.pk])
    assert client.post(url, {"decision": "valider", "debut": "2026-01-01"}).status_code == 403
    file.pending.refresh_from_db()
    assert file.pending.statut_protocole == "transmis"


def test_anonymous_attestation_request_goes_to_sign_in(client: Any, file: Any) -> None:
    response = client.get(reverse("rights:attestation", args=[file.lea.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
