"""The deadlines of a case as it stands: which are still pending, and the nearest one.

The computation itself is the pure engine ``caisse.rules.atmp.deadlines``; this module reads
the case, picks the deadlines that still wait for something, and stores the nearest one on the
case (``prochaine_echeance``) so that the work queue sorts in the database.
"""

from __future__ import annotations

import datetime as dt

from caisse.rules.atmp.deadlines import (
    Deadline,
    DeadlineCode,
    ProcedureRules,
    case_deadlines,
    decision_deadline,
)
from caisse.rules.parameters import load_parameters
from caisse.work_accidents.enums import CaseStatus
from caisse.work_accidents.models import Case


def rules_for(case: Case) -> ProcedureRules:
    """Durations in force on the declaration date (décret 2019-356: AT/MP declared from 1 Dec 2019)."""
    return ProcedureRules.at(load_parameters(), case.declaration.date_declaration)


def all_deadlines(case: Case) -> list[Deadline]:
    return case_deadlines(case.facts(), rules_for(case))


def current_decision_deadline(case: Case) -> Deadline | None:
    return decision_deadline(case.facts(), rules_for(case))


def _pending(case: Case, deadline: Deadline, today: dt.date) -> bool:
    if not case.is_open or case.pk is None:
        return False
    code = deadline.code
    if code in (DeadlineCode.DECLARATION_EMPLOYEUR, DeadlineCode.DECLARATION_VICTIME):
        return False  # the declaration is there
    if code == DeadlineCode.RESERVES:
        # The employer's own deadline: once past, nothing is awaited any more.
        return not deadline.is_past(today) and not case.reserves.exists() and case.status in (
            CaseStatus.DECLARE, CaseStatus.INSTRUCTION)
    if code == DeadlineCode.QUESTIONNAIRES:
        return case.status == CaseStatus.ENQUETE and case.questionnaires.filter(date_retour__isnull=True).exists()
    if code == DeadlineCode.MISE_A_DISPOSITION:
        return not case.consultations.exists()
    if code == DeadlineCode.OBSERVATIONS:
        return case.status == CaseStatus.CONSULTATION
    if code in (DeadlineCode.CRRMP_COMPLEMENTS, DeadlineCode.CRRMP_OBSERVATIONS):
        return case.status == CaseStatus.CRRMP
    return True  # the decision


def pending_deadlines(case: Case, today: dt.date) -> list[Deadline]:
    return [d for d in all_deadlines(case) if _pending(case, d, today)]


def refresh(case: Case, today: dt.date) -> None:
    """Set the stored deadline fields of ``case`` (the caller saves it)."""
    rules = rules_for(case)
    decision = decision_deadline(case.facts(), rules)
    case.date_limite_decision = decision.due if decision and case.is_open else None
    pending = pending_deadlines(case, today)
    if pending:
        nearest = min(pending, key=lambda d: d.due)
        case.prochaine_echeance = nearest.due
        case.prochaine_echeance_libelle = nearest.label
        case.alerte = any(d.days_left(today) <= rules.alert_days for d in pending)
    else:
        case.prochaine_echeance = None
        case.prochaine_echeance_libelle = ""
        case.alerte = False
