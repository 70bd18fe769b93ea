"""Who may work on AT/MP cases: the AT/MP team and the managers. One condition per line."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from caisse.accounts.models import Role
from caisse.beneficiaries.models import Beneficiary
from caisse.core.audit import record
from caisse.core.models import AuditAction
from caisse.rules import identifiers
from caisse.work_accidents.models import Case, Questionnaire

ATMP_ROLES = frozenset({Role.GESTIONNAIRE_ATMP, Role.MANAGER})


def can_handle_atmp(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if not user.is_active:
        return False
    return user.role in ATMP_ROLES


def require_atmp(user: Any) -> None:
    if not can_handle_atmp(user):
        raise PermissionDenied("Les dossiers AT/MP sont réservés au service AT/MP et aux managers.")


def get_case_for(user: Any, pk: int, *, purpose: str = "consultation du dossier AT/MP") -> Case:
    """Load a case for an agent of the AT/MP team, and record the read in the victim's history."""
    require_atmp(user)
    case = Case.objects.select_related("declaration__victim", "declaration__employer").filter(pk=pk).first()
    if case is None:
        raise PermissionDenied("Dossier AT/MP introuvable.")
    record(by=user, action=AuditAction.READ, summary=purpose, beneficiary=case.declaration.victim, obj=case)
    return case


def get_questionnaire_for(user: Any, case: Case, pk: int) -> Questionnaire:
    questionnaire = case.questionnaires.filter(pk=pk).first()
    if questionnaire is None:
        raise PermissionDenied("Questionnaire introuvable dans ce dossier.")
    return questionnaire


def find_victim_for(user: Any, nir: str) -> Beneficiary | None:
    """The victim of a new declaration, by NIR (the read is recorded)."""
    require_atmp(user)
    victim = Beneficiary.objects.filter(nir=identifiers.compact(nir)).first()
    if victim is not None:
        record(by=user, action=AuditAction.READ, summary="recherche de la victime d'une déclaration AT/MP",
               beneficiary=victim, obj=victim)
    return victim
