"""Each AT/MP invariant is enforced by the database itself (one test per named constraint)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from caisse.work_accidents.enums import CaseStatus
from caisse.work_accidents.models import Case, ConsultationPeriod, Questionnaire, Reservation
from caisse.work_accidents.tests.factories import CaseFactory, DeclarationFactory

pytestmark = pytest.mark.django_db

D = dt.date


def _raises(name: str, sqlite_unique: str = ""):  # type: ignore[no-untyped-def]
    """PostgreSQL names the violated constraint; SQLite names the columns of a unique index."""
    pattern = name if not sqlite_unique else f"{name}|UNIQUE constraint failed: {sqlite_unique}"
    return pytest.raises(IntegrityError, match=pattern)


def test_one_open_case_per_declaration() -> None:
    case = CaseFactory()
    with _raises("unique_case_open_per_declaration", "work_accidents_case.declaration_id"), transaction.atomic():
        CaseFactory(declaration=case.declaration)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.REFUSE, date_decision=D(2026, 7, 1), motif_decision="x")
    CaseFactory(declaration=case.declaration)  # a closed case does not block a new one


def test_a_decided_case_carries_its_decision_date() -> None:
    with _raises("check_case_decision_dated_when_decided"), transaction.atomic():
        CaseFactory(status=CaseStatus.RECONNU)
    with _raises("check_case_decision_dated_when_decided"), transaction.atomic():
        CaseFactory(status=CaseStatus.INSTRUCTION, date_decision=D(2026, 7, 1))
    CaseFactory(status=CaseStatus.RECONNU_IMPLICITE, date_decision=D(2026, 7, 1))


def test_a_refusal_is_reasoned() -> None:
    with _raises("check_case_refusal_reasoned"), transaction.atomic():
        CaseFactory(status=CaseStatus.REFUSE, date_decision=D(2026, 7, 1))


def test_crrmp_referral_and_investigation_are_dated() -> None:
    with _raises("check_case_crrmp_dated"), transaction.atomic():
        CaseFactory(status=CaseStatus.CRRMP)
    with _raises("check_case_investigation_dated"), transaction.atomic():
        CaseFactory(enquete=True)


@pytest.mark.parametrize(("fields", "name"), [
    ({"date_evenement": D(2026, 6, 9)}, "check_declaration_after_event"),
    ({"date_reception": D(2026, 6, 7)}, "check_declaration_received_after_declared"),
    ({"employer": None, "kind": "maladie_professionnelle"}, "check_declaration_employer_declares_with_employer"),
    ({"employer": None, "declarant": "victime"}, "check_declaration_accident_has_employer"),
])
def test_declaration_invariants(fields: dict[str, Any], name: str) -> None:
    with _raises(name), transaction.atomic():
        DeclarationFactory(**fields)


def test_reserves_questionnaires_and_consultations() -> None:
    case = CaseFactory()
    with _raises("check_reservation_reasoned"), transaction.atomic():
        Reservation.objects.create(case=case, date_reception=D(2026, 6, 10), motifs="")
    Reservation.objects.create(case=case, date_reception=D(2026, 6, 10), motifs="Pas de témoin")
    with _raises("unique_reservation_per_case", "work_accidents_reservation.case_id"), transaction.atomic():
        Reservation.objects.create(case=case, date_reception=D(2026, 6, 11), motifs="Encore")
    q = {"case": case, "destinataire": "employeur", "date_envoi": D(2026, 7, 1)}
    with _raises("check_questionnaire_deadline_after_sending"), transaction.atomic():
        Questionnaire.objects.create(**q, date_limite_retour=D(2026, 7, 1))
    with _raises("check_questionnaire_returned_after_sending"), transaction.atomic():
        Questionnaire.objects.create(**q, date_limite_retour=D(2026, 7, 21), date_retour=D(2026, 6, 30))
    Questionnaire.objects.create(**q, date_limite_retour=D(2026, 7, 21))
    with _raises("unique_questionnaire_per_recipient", "work_accidents_questionnaire.case_id"), transaction.atomic():
        Questionnaire.objects.create(**q, date_limite_retour=D(2026, 7, 21))
    with _raises("check_consultationperiod_order"), transaction.atomic():
        ConsultationPeriod.objects.create(case=case, debut=D(2026, 8, 14), fin_observations=D(2026, 8, 14))
