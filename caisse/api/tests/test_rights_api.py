"""The rights lookup API: JSON and FHIR, token authentication, French problems."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from caisse.accounts.models import ApiToken, Role
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.rights import services
from caisse.rights.models import ClosingReason, OpeningReason

pytestmark = pytest.mark.django_db


@pytest.fixture
def professional_token(make_user) -> str:  # type: ignore[no-untyped-def]
    """Dr Martin's practice software, with its API token."""
    _, token = ApiToken.issue(make_user(Role.PROFESSIONNEL, username="cabinet"), "logiciel du cabinet")
    return token


@pytest.fixture
def covered(gestionnaire):  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    services.open_rights(person, debut=dt.date(2020, 1, 1), motif=OpeningReason.RESIDENCE, by=gestionnaire)
    services.grant_c2s(person, debut=dt.date(2026, 1, 1), fin=dt.date(2026, 12, 31), participation_mensuelle_cts=0,
                       by=gestionnaire, today=dt.date(2026, 1, 1))
    return person


def _get(url: str, token: str | None = None) -> object:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().get(url, **headers)


def test_a_professional_reads_rights_on_a_date(professional_token: str, covered) -> None:  # type: ignore[no-untyped-def]
    response = _get(f"/api/v1/droits/{covered.nir}?date=2026-03-01", professional_token)
    assert response.status_code == 200  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["couvert"] and body["c2s"]["participation"] is False and body["tiers_payant_obligatoire"]
    assert covered.audit_events.filter(summary__contains="API").exists()


def test_rights_are_closed_before_their_start(professional_token: str, covered) -> None:  # type: ignore[no-untyped-def]
    body = _get(f"/api/v1/droits/{covered.nir}?date=2019-12-31", professional_token).json()  # type: ignore[attr-defined]
    assert body["couvert"] is False and body["droits_de_base"] is None


@pytest.mark.parametrize(("nir", "status", "title"), [
    ("187057503537479", 400, "NIR invalide"), ("187057503537478", 404, "Bénéficiaire inconnu")])
def test_errors_are_french_problem_documents(professional_token: str, nir: str, status: int, title: str) -> None:
    response = _get(f"/api/v1/droits/{nir}", professional_token)
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/problem+json"  # type: ignore[index]
    assert response.json()["title"] == title  # type: ignore[attr-defined]


def test_no_token_no_rights(covered) -> None:  # type: ignore[no-untyped-def]
    assert _get(f"/api/v1/droits/{covered.nir}").status_code == 401  # type: ignore[attr-defined]
    assert _get(f"/api/v1/droits/{covered.nir}", "faux-jeton").status_code == 401  # type: ignore[attr-defined]


def test_an_employer_cannot_read_rights(make_user, covered) -> None:  # type: ignore[no-untyped-def]
    _, token = ApiToken.issue(make_user(Role.EMPLOYEUR, username="rh"), "paie")
    assert _get(f"/api/v1/droits/{covered.nir}", token).status_code == 403  # type: ignore[attr-defined]


def test_fhir_coverage_bundle(professional_token: str, covered) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/fhir/Coverage?beneficiary:identifier=urn:oid:1.2.250.1.213.1.4.8|{covered.nir}&date=2026-03-01"
    bundle = _get(url, professional_token).json()  # type: ignore[attr-defined]
    assert bundle["resourceType"] == "Bundle" and bundle["total"] == 2
    codes = {e["resource"]["type"]["coding"][0]["code"] for e in bundle["entry"]}
    assert codes == {"AMO", "C2S"}


def test_the_openapi_document_lists_the_operations() -> None:
    doc = Client().get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/droits/{nir}" in doc["paths"]
    answered = doc["paths"]["/api/v1/liquidations"]["post"]["responses"]["200"]
    assert set(answered["headers"]) == {"X-Caisse-Lot", "Server-Timing"}


def test_a_lookup_is_a_few_precompiled_queries_and_one_audit_insert(  # type: ignore[no-untyped-def]
        professional_token: str, covered, django_assert_max_num_queries) -> None:
    _get(f"/api/v1/droits/{covered.nir}?date=2026-03-01", professional_token)  # compiles once
    with django_assert_max_num_queries(12) as queries:
        body = _get(f"/api/v1/droits/{covered.nir}?date=2026-03-01", professional_token).json()  # type: ignore[attr-defined]
    assert body["droits_de_base"] == {"debut": "2020-01-01", "fin": None}
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1 and "core_auditevent" in writes[0]
    if connection.vendor == "postgresql":  # token and person, then the audit line with every kind of right
        assert len(queries.captured_queries) == 2
        assert queries.captured_queries[1]["sql"].lstrip().startswith("INSERT INTO \"core_auditevent\"")


def test_the_lookup_writes_the_audit_line_record_writes(professional_token: str, covered, make_user) -> None:  # type: ignore[no-untyped-def]
    from caisse.core.audit import record
    from caisse.core.models import AuditAction, AuditEvent

    columns = [f.attname for f in AuditEvent._meta.concrete_fields if f.attname not in ("id", "at")]
    for token in (professional_token, ApiToken.issue(make_user(Role.GESTIONNAIRE_DROITS, username="agent"), "x")[1]):
        before = timezone.now()
        assert _get(f"/api/v1/droits/{covered.nir}?date=2026-03-01", token).status_code == 200  # type: ignore[attr-defined]
        line = AuditEvent.objects.order_by("-id").first()
        assert line is not None and before <= line.at <= timezone.now()
        user = ApiToken.objects.get(digest=ApiToken.hash(token)).user
        reference = record(by=user, action=AuditAction.READ, summary="Consultation des droits par l'API",
                           beneficiary=covered, obj=covered)
        reference.refresh_from_db()
        assert {c: getattr(line, c) for c in columns} == {c: getattr(reference, c) for c in columns}


def test_no_rights_are_read_when_the_audit_line_cannot_be_written(covered) -> None:  # type: ignore[no-untyped-def]
    from django.db import DataError, transaction

    from caisse.api.rights import _AUDIT_READ
    from caisse.core.models import AuditEvent

    if connection.vendor != "postgresql":
        pytest.skip("SQLite ne borne pas la longueur des textes")
    lines = AuditEvent.objects.count()
    with pytest.raises(DataError), transaction.atomic():  # objet trop long : l'INSERT échoue, la lecture aussi
        services.rights_on(covered, dt.date(2026, 3, 1), enfants=False, first=[(_AUDIT_READ, {
            "at": timezone.now(), "actor_label": "x", "beneficiary_id": covered.pk, "object_id": "9" * 100})])
    assert AuditEvent.objects.count() == lines


def test_the_precompiled_rights_equal_the_orm_on_every_day(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    services.open_rights(person, debut=dt.date(2020, 1, 1), motif=OpeningReason.RESIDENCE, by=gestionnaire)
    services.close_rights(person.rights_periods.get(), fin=dt.date(2024, 6, 30), motif=ClosingReason.MUTATION, by=gestionnaire)
    services.open_rights(person, debut=dt.date(2024, 9, 1), motif=OpeningReason.RESIDENCE, by=gestionnaire)
    for day in (dt.date(2019, 12, 31), dt.date(2020, 1, 1), dt.date(2024, 6, 30), dt.date(2024, 7, 1),
                dt.date(2024, 9, 1), dt.date(2030, 1, 1)):
        expected = person.rights_periods.open_on(day).first()
        assert services.rights_on(person, day, enfants=False).droits_de_base == expected, day


def test_an_unknown_or_revoked_token_is_told_apart_from_no_token(professional_token: str, covered) -> None:  # type: ignore[no-untyped-def]
    response = _get(f"/api/v1/droits/{covered.nir}", "faux-jeton")
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response.json()["title"] == "Jeton invalide"  # type: ignore[attr-defined]
    assert 'error="invalid_token"' in response["WWW-Authenticate"]  # type: ignore[index]
    ApiToken.objects.update(revoked_at=timezone.now())
    assert _get(f"/api/v1/droits/{covered.nir}", professional_token).json()["title"] == "Jeton invalide"  # type: ignore[attr-defined]


def test_the_bearer_scheme_is_case_insensitive(professional_token: str, covered) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(f"/api/v1/droits/{covered.nir}?date=2026-03-01",
                            HTTP_AUTHORIZATION=f"bearer {professional_token}")
    assert response.status_code == 200


@pytest.mark.parametrize(("date", "status"), [("20260301", 400), ("2026-W09-7", 400), ("2026-02-30", 400),
                                              ("0001-01-01", 422), ("1900-01-01", 422)])
def test_a_bad_or_too_old_date_is_a_french_problem_never_a_500(  # type: ignore[no-untyped-def]
        professional_token: str, covered, date: str, status: int) -> None:
    response = _get(f"/api/v1/droits/{covered.nir}?date={date}", professional_token)
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/problem+json"  # type: ignore[index]
    assert response.json()["detail"]  # type: ignore[attr-defined]


def test_other_methods_and_addresses_are_problem_documents(professional_token: str, covered) -> None:  # type: ignore[no-untyped-def]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {professional_token}"}
    client = Client(enforce_csrf_checks=True)
    for response in (client.post(f"/api/v1/droits/{covered.nir}", **headers),
                     client.delete("/api/fhir/Coverage", **headers),
                     client.post("/api/openapi.json"),
                     client.get("/api/v1/liquidations", **headers)):
        assert response.status_code == 405
        assert response["Content-Type"] == "application/problem+json" and response["Allow"]
        assert response.json()["title"] == "Méthode non autorisée"
    for url in ("/api/v1/inconnu", f"/api/v1/droits/{covered.nir}/", "/api/"):
        response = client.get(url, **headers)
        assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


def test_fhir_without_the_beneficiary_identifier(professional_token: str) -> None:
    response = _get("/api/fhir/Coverage", professional_token)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "beneficiary:identifier" in response.json()["detail"]  # type: ignore[attr-defined]
    assert _get("/api/fhir/Coverage").status_code == 401  # type: ignore[attr-defined]


def test_after_the_death_no_card_nor_treating_doctor_is_given(professional_token: str, covered, gestionnaire) -> None:  # type: ignore[no-untyped-def]
    """Rights on a date after the death: none open, and no valid carte Vitale nor médecin traitant
    (the API gave the card of a deceased person)."""
    from caisse.rights.models import CardStatus, CarteVitale

    CarteVitale.objects.create(beneficiary=covered, numero="CV0000999999", statut=CardStatus.ACTIVE,
                               date_commande=dt.date(2020, 1, 1))
    before = _get(f"/api/v1/droits/{covered.nir}?date=2026-03-01", professional_token).json()  # type: ignore[attr-defined]
    assert before["carte_vitale"] == "CV0000999999"
    services.declare_death(covered, date_deces=dt.date(2026, 3, 10), by=gestionnaire)
    after = _get(f"/api/v1/droits/{covered.nir}?date=2026-03-20", professional_token).json()  # type: ignore[attr-defined]
    assert after["deces"] == "2026-03-10" and after["couvert"] is False
    assert after["carte_vitale"] is None and after["medecin_traitant"] is None


def test_a_fhir_search_for_an_unknown_nir_is_an_empty_bundle(professional_token: str) -> None:
    """FHIR search semantics: no match is a searchset Bundle with no entry (200), not an error."""
    response = _get("/api/fhir/Coverage?beneficiary:identifier=urn:oid:1.2.250.1.213.1.4.8|187057503537478",
                    professional_token)
    assert response.status_code == 200  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["resourceType"] == "Bundle" and body["type"] == "searchset" and body["total"] == 0
    assert "entry" not in body or body["entry"] == []
