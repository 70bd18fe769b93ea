"""The only way views and APIs load a person's file: checks the role and records the read.

Zulip's lesson: a few carefully tested access functions mediate all access to sensitive
records; views never call ``Beneficiary.objects.get`` themselves (a consistency test checks it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models

from caisse.accounts.models import Role
from caisse.accounts.perms import Capability, has
from caisse.beneficiaries.models import Beneficiary, ParentLink
from caisse.core.audit import record
from caisse.core.models import AuditAction


class AccessDenied(PermissionDenied):
    pass


AGE_MAJORITE = 18
"""A child's file is no longer open to the parent from this age (Code civil art. 414): an adult
manages their own file, even while still attached to the parent."""


def minor_on(birth: dt.date | None, day: dt.date) -> bool:
    """Whether a person born on ``birth`` is under :data:`AGE_MAJORITE` on ``day``."""
    if birth is None:
        return False
    age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    return age < AGE_MAJORITE


def member_can_see(user: Any, beneficiary: Beneficiary) -> bool:
    """An assuré sees their own file and the files of the minor children attached to them."""
    if user.role != Role.ASSURE or user.beneficiary_id is None:
        return False
    if beneficiary.pk == user.beneficiary_id:
        return True
    today = dt.date.today()
    if not minor_on(beneficiary.date_naissance, today):
        return False
    return ParentLink.objects.filter(_running_on(today), child=beneficiary, parent_id=user.beneficiary_id).exists()


def _running_on(day: dt.date) -> models.Q:
    """A parent link in force on ``day``."""
    return models.Q(debut__lte=day) & (models.Q(fin__isnull=True) | models.Q(fin__gte=day))


def minor_children_ids(parent: Beneficiary, today: dt.date | None = None) -> list[int]:
    """The minor children attached to ``parent`` today (a link in force and under 18 today, what
    :func:`member_can_see` requires), oldest first."""
    today = today or dt.date.today()
    links = (
        ParentLink.objects.filter(_running_on(today), parent_id=parent.pk)
        .order_by("child__date_naissance", "child_id")
        .values_list("child_id", "child__date_naissance")
    )
    seen: list[int] = []
    for pk, birth in links:
        if pk not in seen and minor_on(birth, today):
            seen.append(pk)
    return seen


def get_beneficiary_for(user: Any, pk: int, *, purpose: str = "consultation du dossier") -> Beneficiary:
    beneficiary = Beneficiary.objects.filter(pk=pk).first()
    if beneficiary is None:
        raise AccessDenied("Dossier introuvable.")
    if not (has(user, Capability.VIEW_FILE) or member_can_see(user, beneficiary)):
        raise AccessDenied("Vous n'avez pas accès à ce dossier.")
    record(by=user, action=AuditAction.READ, summary=purpose, beneficiary=beneficiary, obj=beneficiary)
    return beneficiary


def search_beneficiaries_for(user: Any, **criteria: Any) -> models.QuerySet[Beneficiary]:
    if not has(user, Capability.SEARCH):
        raise AccessDenied("La recherche de bénéficiaires est réservée aux agents.")
    return Beneficiary.objects.search(**criteria)


def beneficiaries_by_nir_for(user: Any, nirs: set[str]) -> dict[str, Beneficiary]:
    """The persons a work list names (a queue shows who each item is about), by NIR; same rule as
    a search (agents only), nothing recorded: a list shows names, no file is opened."""
    if not has(user, Capability.SEARCH):
        raise AccessDenied("La recherche de bénéficiaires est réservée aux agents.")
    return {b.nir: b for b in Beneficiary.objects.filter(nir__in=nirs)}


def patient_for_rights_lookup(user: Any, nir: str) -> Beneficiary | None:
    """A health professional checks a patient's rights before care (as ADRi does in the practice's
    software): the person by NIR, or None; each read is recorded in the person's file."""
    refused = "La consultation des droits d'un patient est réservée aux professionnels de santé."
    if user.role != Role.PROFESSIONNEL:
        raise AccessDenied(refused)
    if not user.is_active:
        raise AccessDenied(refused)
    if user.professional_id is None:  # an account not tied to its professional
        raise AccessDenied(refused)
    beneficiary = Beneficiary.objects.filter(nir=nir).first()
    if beneficiary is not None:
        record(by=user, action=AuditAction.READ, summary="consultation des droits par un professionnel de santé",
               beneficiary=beneficiary, obj=beneficiary)
    return beneficiary


def can_see_ald_periods(user: Any, beneficiary: Beneficiary) -> bool:
    return has(user, Capability.VIEW_ALD_PERIODS) or member_can_see(user, beneficiary)


def can_see_medical(user: Any, beneficiary: Beneficiary) -> bool:
    return has(user, Capability.VIEW_MEDICAL) or member_can_see(user, beneficiary)
