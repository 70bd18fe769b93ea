"""Which role opens which page (200 or 403) and which role sees which part of the file.

One test per role and page, so that a change to ``accounts/perms.py`` shows here at once.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.web.tests.personas import ALL_ROLES, DIAGNOSIS, fast_passwords, filled_file, user_for  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

R = Role
AGENTS = {R.ACCUEIL, R.GESTIONNAIRE_DROITS, R.LIQUIDATEUR, R.GESTIONNAIRE_IJ, R.GESTIONNAIRE_ATMP, R.ENQUETEUR,
          R.MEDECIN_CONSEIL, R.MANAGER, R.ADMIN}

SEARCH = AGENTS
FILE = AGENTS
EDIT_IDENTITY = {R.ACCUEIL, R.GESTIONNAIRE_DROITS}
ALD_PERIODS = {R.GESTIONNAIRE_DROITS, R.LIQUIDATEUR, R.GESTIONNAIRE_IJ, R.MEDECIN_CONSEIL}
MEDICAL = {R.MEDECIN_CONSEIL}
HISTORY = {R.ACCUEIL, R.GESTIONNAIRE_DROITS, R.ENQUETEUR, R.MEDECIN_CONSEIL, R.MANAGER, R.ADMIN}
HISTORY_WITH_READS = {R.ENQUETEUR, R.MANAGER, R.ADMIN}


@pytest.fixture
def file() -> Any:
    return filled_file()


def _get(client: Any, role: str, url: str) -> Any:
    client.force_login(user_for(role))
    return client.get(url)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_search_page(client: Any, role: str) -> None:
    response = _get(client, role, reverse("beneficiaries:search") + "?nom=mar")
    assert response.status_code == (200 if role in SEARCH else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_file_page(client: Any, role: str, file: Any) -> None:
    response = _get(client, role, reverse("beneficiaries:detail", args=[file.lea.pk]))
    assert response.status_code == (200 if role in FILE else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_identity_form(client: Any, role: str, file: Any) -> None:
    response = _get(client, role, reverse("beneficiaries:edit_identity", args=[file.lea.pk]))
    assert response.status_code == (200 if role in EDIT_IDENTITY else 403)


@pytest.mark.parametrize("role", sorted(AGENTS))
def test_medical_data_on_the_file(client: Any, role: str, file: Any) -> None:
    html = _get(client, role, reverse("beneficiaries:detail", args=[file.lea.pk])).content.decode()
    assert ("Exonération ALD du 01/03/2025" in html) == (role in ALD_PERIODS)
    assert (DIAGNOSIS in html) == (role in MEDICAL)


@pytest.mark.parametrize("role", sorted(AGENTS))
def test_history_on_the_file(client: Any, role: str, file: Any) -> None:
    html = _get(client, role, reverse("beneficiaries:detail", args=[file.lea.pk])).content.decode()
    assert ("Historique du dossier" in html) == (role in HISTORY)
    assert ("consultation du dossier" in html) == (role in HISTORY_WITH_READS)
    assert ("Protocole de soins validé" in html) == (role in MEDICAL)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_a_professional_tied_to_its_record_looks_up_a_patients_rights(role: str, file: Any) -> None:
    from caisse.beneficiaries.access import AccessDenied, patient_for_rights_lookup
    from caisse.core.models import AuditAction, AuditEvent

    user = user_for(role)
    if role != R.PROFESSIONNEL:
        with pytest.raises(AccessDenied):
            patient_for_rights_lookup(user, file.lea.nir)
        return
    with pytest.raises(AccessDenied):  # not tied to a professional
        patient_for_rights_lookup(user, file.lea.nir)
    user.professional = file.doctor
    user.is_active = False
    with pytest.raises(AccessDenied):
        patient_for_rights_lookup(user, file.lea.nir)
    user.is_active = True
    assert patient_for_rights_lookup(user, file.lea.nir) == file.lea
    assert AuditEvent.objects.filter(beneficiary=file.lea, action=AuditAction.READ,
                                     summary__contains="professionnel de santé").count() == 1
