"""The one way to write to a person's file, and to record who read it.

Every domain service saves through :func:`save_to_file` (or calls :func:`record` in the same
transaction): the change and its audit line are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction

from caisse.core.models import AuditAction, AuditEvent

M = TypeVar("M", bound=models.Model)

SYSTEM_LABEL = "traitement automatique"


def _actor_label(actor: Any) -> str:
    if actor is None:
        return SYSTEM_LABEL
    name = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    return f"{name or actor.get_username()} ({actor.get_role_display()})" if hasattr(actor, "role") else str(actor)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def _snapshot(instance: models.Model) -> dict[str, Any]:
    return {
        f.attname: _plain(getattr(instance, f.attname))
        for f in instance._meta.concrete_fields
        if not f.primary_key
    }


def record(
    *,
    by: Any,
    action: str,
    summary: str,
    beneficiary: Any = None,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    medical: bool = False,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=by if getattr(by, "pk", None) else None,
        actor_label=_actor_label(by),
        action=action,
        beneficiary=beneficiary,
        object_type=obj._meta.verbose_name if obj is not None else "dossier",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        summary=summary[:300],
        changes=changes or {},
        medical=medical,
    )


@transaction.atomic
def save_to_file(
    instance: M,
    *,
    by: Any,
    summary: str,
    beneficiary: Any = None,
    action: str | None = None,
    medical: bool = False,
) -> M:
    """Validate and save ``instance``, and append who changed what to the file's history.

    ``full_clean`` runs the model's and the constraints' checks first, so that the user sees
    a French message rather than a database error.
    """
    before: dict[str, Any] = {}
    if instance.pk is not None:
        previous = type(instance)._default_manager.filter(pk=instance.pk).first()
        if previous is not None:
            before = _snapshot(previous)
    instance.full_clean()
    instance.save()
    after = _snapshot(instance)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v} if before else {}
    record(
        by=by,
        action=action or (AuditAction.UPDATE if before else AuditAction.CREATE),
        summary=summary,
        beneficiary=beneficiary,
        obj=instance,
        changes=changes if before else {k: v for k, v in after.items() if v not in (None, "")},
        medical=medical,
    )
    return instance
