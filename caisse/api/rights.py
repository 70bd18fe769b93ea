"""Rights lookup for professionals (like ADRi): a person's rights on a date, JSON or FHIR R4."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.coverage import Coverage

from caisse.accounts.models import Role
from caisse.accounts.perms import Capability, has
from caisse.api.auth import api_user_with, endpoint, problem, unauthenticated
from caisse.batch_io import iso_date
from caisse.beneficiaries.models import Beneficiary
from caisse.core.audit import _actor_label
from caisse.core.models import AuditAction, AuditEvent
from caisse.rights.services import PreparedInsert, PreparedQuery, RightsOnDay, rights_on
from caisse.rules import identifiers
from caisse.rules.parameters import ParameterError

NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"  # INS-NIR
JSON = {"ensure_ascii": False}
_PERSON = PreparedQuery(Beneficiary, lambda nir: Beneficiary.objects.filter(nir=nir).order_by("pk")[:1], nir="\x00nir")
READ_SUMMARY = "Consultation des droits par l'API"
# The audit line of a lookup, as ``core.audit.record`` writes it, in one INSERT compiled once: it
# travels in the round trip that reads the rights (on PostgreSQL, no rights without their line).
_AUDIT_READ = PreparedInsert(AuditEvent, lambda: AuditEvent(
    at=timezone.now(), actor_label="", action=AuditAction.READ, object_type=str(Beneficiary._meta.verbose_name),
    object_id="", summary=READ_SUMMARY, changes={}, medical=False))


def _may_look_up(user: Any) -> bool:
    return user.role == Role.PROFESSIONNEL or has(user, Capability.VIEW_FILE)


def _period(start: dt.date | None, end: dt.date | None) -> dict[str, str | None]:
    return {"debut": start.isoformat() if start else None, "fin": end.isoformat() if end else None}


def rights_document(rights: RightsOnDay) -> dict[str, Any]:
    person = rights.beneficiary
    base, c2s, ame = rights.droits_de_base, rights.c2s, rights.ame
    return {
        "nir": person.nir,
        "date": rights.when.isoformat(),
        "couvert": rights.couvert,
        "deces": person.date_deces.isoformat() if person.date_deces else None,
        "droits_de_base": _period(base.debut, base.fin) if base else None,
        "c2s": {**_period(c2s.debut, c2s.fin), "participation": c2s.participation} if c2s else None,
        "ame": _period(ame.debut, ame.fin) if ame else None,
        "exoneration_ald": rights.exoneration_ald,
        "maternite": rights.maternite is not None,
        "invalidite": rights.invalidite is not None,
        "medecin_traitant": rights.medecin_traitant.medecin.identifiant if rights.medecin_traitant else None,
        "carte_vitale": rights.carte.numero if rights.carte else None,
        "tiers_payant_obligatoire": bool(c2s or ame or rights.maternite or rights.exoneration_ald),
    }


def _lookup(request: HttpRequest, nir: str) -> tuple[RightsOnDay | None, JsonResponse | None]:
    """Two round trips on PostgreSQL: the caller and the person (shown only once the caller is
    allowed), then the audit line of the read with the rights (the line first: no rights without it)."""
    try:
        nir, bad_nir = identifiers.check_nir(nir), None
    except identifiers.InvalidIdentifier as exc:
        bad_nir = exc
    user, found = api_user_with(request, *([(_PERSON, {"nir": nir})] if bad_nir is None else []))
    if user is None:
        return None, unauthenticated(request)
    if not _may_look_up(user):
        return None, problem(403, "Accès refusé", "La consultation des droits est réservée aux professionnels et agents.")
    if bad_nir is not None:
        return None, problem(400, "NIR invalide", str(bad_nir))
    raw_date = request.GET.get("date")
    try:
        when = iso_date(raw_date) if raw_date else dt.date.today()
    except ValueError:
        return None, problem(400, "Date invalide", f"« {raw_date} » : format attendu AAAA-MM-JJ.")
    person = next(iter(found[0]), None)
    if person is None:
        return None, problem(404, "Bénéficiaire inconnu", "Aucun bénéficiaire de la caisse n'a ce NIR.")
    audit = {"at": timezone.now(), "actor_id": user.pk or None, "actor_label": _actor_label(user),
             "beneficiary_id": person.pk, "object_id": str(person.pk)}
    try:
        return rights_on(person, when, enfants=False, first=[(_AUDIT_READ, audit)]), None
    except ParameterError as exc:  # a date before the dated legal parameters the rights read
        return None, problem(422, "Date hors du champ des règles", f"{when.isoformat()} : {exc}")


@endpoint("GET")
def rights_lookup(request: HttpRequest, nir: str) -> JsonResponse:
    rights, error = _lookup(request, nir)
    if error is not None:
        return error
    assert rights is not None
    return JsonResponse(rights_document(rights), json_dumps_params=JSON)


def coverages(rights: RightsOnDay) -> list[Coverage]:
    person = rights.beneficiary
    beneficiary = {"identifier": {"system": NIR_SYSTEM, "value": person.nir}}
    payor = [{"display": "Caisse primaire d'assurance maladie"}]
    items = []
    if rights.droits_de_base:
        items.append(("AMO", "Assurance maladie obligatoire (PUMa)", rights.droits_de_base.debut,
                      rights.droits_de_base.fin))
    if rights.c2s:
        label = "Complémentaire santé solidaire" + (" avec participation" if rights.c2s.participation else "")
        items.append(("C2S", label, rights.c2s.debut, rights.c2s.fin))
    if rights.ame:
        items.append(("AME", "Aide médicale de l'État", rights.ame.debut, rights.ame.fin))
    return [
        Coverage.model_validate({
            "resourceType": "Coverage", "id": f"{person.nir}-{code.lower()}", "status": "active",
            "type": {"coding": [{"system": "urn:caisse:type-couverture", "code": code, "display": label}]},
            "beneficiary": beneficiary, "payor": payor,
            "period": {k: v for k, v in (("start", debut.isoformat() if debut else None),
                                          ("end", fin.isoformat() if fin else None)) if v},
        })
        for code, label, debut, fin in items
    ]


@endpoint("GET")
def fhir_coverage(request: HttpRequest) -> JsonResponse:
    identifier = request.GET.get("beneficiary:identifier") or request.GET.get("beneficiary.identifier") or ""
    if not identifier.strip():
        if api_user_with(request)[0] is None:
            return unauthenticated(request)
        return problem(400, "Paramètre manquant",
                       f"« beneficiary:identifier » est attendu : {NIR_SYSTEM}|<NIR> ou le NIR seul.")
    nir = identifier.split("|")[-1]
    rights, error = _lookup(request, nir)
    if error is not None and error.status_code == 404:  # a FHIR search that finds nothing: an empty searchset
        return _bundle([])
    if error is not None:
        return error
    assert rights is not None
    return _bundle(coverages(rights))


def _bundle(resources: list[Coverage]) -> JsonResponse:
    entries = [{"resource": c} for c in resources]
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                                    "entry": entries})
    return JsonResponse(bundle.model_dump(mode="json", exclude_none=True), content_type="application/fhir+json",
                        json_dumps_params=JSON)
