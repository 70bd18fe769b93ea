"""The attestation de droits: a real PDF with the person's name, no diagnosis, and a trace."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.core.models import AuditAction, AuditEvent
from caisse.core.tests.pdfs import assert_accessible_pdf, pdf_objects
from caisse.rights import services
from caisse.rights.attestation import (
    UNAVAILABLE_MESSAGE,
    AttestationUnavailable,
    pdf_available,
    render_attestation_html,
)
from caisse.web.tests.personas import DIAGNOSIS, fast_passwords, filled_file, user_for  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

PDF_OK, PDF_WHY = pdf_available()
needs_pdf = pytest.mark.skipif(not PDF_OK, reason=PDF_WHY or "WeasyPrint indisponible")


def _pdf_titles(pdf: bytes) -> str:
    """Every /Title of the PDF (document information and outline), from its compressed object streams."""
    chunks = [pdf_objects(pdf)]
    titles = []
    for chunk in chunks:
        for found in re.finditer(rb"/Title\s*<([0-9a-fA-F]+)>", chunk):
            titles.append(bytes.fromhex(found.group(1).decode()).decode("utf-16"))
        for found in re.finditer(rb"/Title\s*\((.*?)\)", chunk):
            titles.append(found.group(1).decode("latin-1"))
    return " | ".join(titles)


def test_attestation_html_states_rights_without_diagnosis() -> None:
    f = filled_file()
    html = render_attestation_html(services.rights_on(f.lea, dt.date.today()))
    assert "MARTIN Léa" in html and f.lea.nir_formate in html
    assert "Droits ouverts du 01/01/2016" in html
    assert "Sans participation financière" in html
    assert "affection de longue durée" in html
    assert DIAGNOSIS not in html and "ALD 30" not in html
    assert "Hugo" in html


@needs_pdf
def test_agent_downloads_a_pdf_with_the_name_and_it_is_traced(client: Any) -> None:
    f = filled_file()
    client.force_login(f.claire)
    response = client.get(reverse("rights:attestation", args=[f.lea.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="attestation-droits-')
    assert response.content.startswith(b"%PDF")
    assert "Léa MARTIN" in _pdf_titles(response.content)
    assert_accessible_pdf(response.content)
    assert AuditEvent.objects.filter(beneficiary=f.lea, action=AuditAction.DOWNLOAD, actor=f.claire).count() == 1


@needs_pdf
def test_member_downloads_their_childs_attestation(client: Any) -> None:
    f = filled_file()
    member = user_for(Role.ASSURE, beneficiary=f.lea)
    client.force_login(member)
    response = client.get(reverse("rights:attestation", args=[f.hugo.pk]))
    assert response.content.startswith(b"%PDF")
    assert "Hugo MARTIN" in _pdf_titles(response.content)
    assert AuditEvent.objects.filter(beneficiary=f.hugo, action=AuditAction.DOWNLOAD, actor=member).exists()


def test_missing_pango_gives_a_clear_french_503(client: Any, monkeypatch: Any) -> None:
    def unavailable(rights: Any) -> bytes:
        raise AttestationUnavailable(UNAVAILABLE_MESSAGE)

    monkeypatch.setattr("caisse.rights.views.render_attestation_pdf", unavailable)
    f = filled_file()
    client.force_login(f.claire)
    response = client.get(reverse("rights:attestation", args=[f.lea.pk]))
    assert response.status_code == 503
    assert "momentanément indisponible" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.DOWNLOAD).exists()
