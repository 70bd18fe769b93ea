"""Search and the beneficiary's file. Thin views: every file is loaded with ``get_beneficiary_for``.

Who sees the file's history (decision, see also the tests in ``test_permissions.py``):

- roles with VIEW_AUDIT (enquêteur, manager, administrateur) see every line, reads and
  downloads included: checking who consulted a file is their job;
- agents who work the file (those who may change identity, rights, cards, protocols or lead
  residence controls) see the changes only, not who read the file;
- the others (liquidateur, gestionnaires IJ and AT/MP) see no history;
- in every case, lines about medical data appear only to those who may see medical data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from caisse.accounts.perms import Capability, has
from caisse.beneficiaries.access import (
    can_see_ald_periods,
    can_see_medical,
    get_beneficiary_for,
    search_beneficiaries_for,
)
from caisse.beneficiaries.forms import IdentityForm, SearchForm
from caisse.beneficiaries.models import Beneficiary, ParentLink
from caisse.core.models import AuditAction, AuditEvent
from caisse.rights import services
from caisse.web.decorators import agent_required

PAGE_SIZE = 20
HISTORY_SIZE = 50

WORKING_CAPABILITIES = (
    Capability.EDIT_IDENTITY, Capability.MANAGE_RIGHTS, Capability.MANAGE_CARDS, Capability.VALIDATE_PROTOCOL,
    Capability.RESIDENCE_CONTROLS,
)


@agent_required(Capability.SEARCH)
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    page = None
    querystring = ""
    if form.is_bound and form.is_valid():
        results = search_beneficiaries_for(request.user, **form.cleaned_data).order_by("nom", "prenom", "pk")
        page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
        params = request.GET.copy()
        params.pop("page", None)
        querystring = params.urlencode()
    return render(request, "beneficiaries/search.html", {"form": form, "page": page, "querystring": querystring})


def history_for(user: Any, beneficiary: Beneficiary) -> QuerySet[AuditEvent] | None:
    """The history lines this user may see, or None when the role sees no history."""
    if has(user, Capability.VIEW_AUDIT):
        events = beneficiary.audit_events.all()
    elif any(has(user, c) for c in WORKING_CAPABILITIES):
        events = beneficiary.audit_events.exclude(action__in=[AuditAction.READ, AuditAction.DOWNLOAD])
    else:
        return None
    if not can_see_medical(user, beneficiary):
        events = events.filter(medical=False)
    return events


@agent_required(Capability.VIEW_FILE)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    beneficiary = get_beneficiary_for(user, pk)
    today = dt.date.today()
    see_ald = can_see_ald_periods(user, beneficiary)
    see_medical = can_see_medical(user, beneficiary)
    ald = beneficiary.ald_periods.select_related("medecin")
    if see_medical:
        ald_rows = list(ald)
    elif see_ald:
        # The period of exoneration, never the affection nor the protocol.
        ald_rows = [a for a in ald if a.exonerante]
    else:
        ald_rows = []
    history = history_for(user, beneficiary)
    return render(request, "beneficiaries/detail.html", {
        "beneficiary": beneficiary,
        "today": today,
        "rights": services.rights_on(beneficiary, today),
        "children_links": ParentLink.objects.filter(parent=beneficiary).select_related("child"),
        "parent_links": ParentLink.objects.filter(child=beneficiary).select_related("parent"),
        "rights_periods": beneficiary.rights_periods.all(),
        "c2s": beneficiary.c2s_attributions.all(),
        "ame": beneficiary.ame_attributions.all(),
        "see_ald": see_ald, "hide_ald": not see_ald, "see_medical": see_medical, "ald_rows": ald_rows,
        "medecins_traitants": beneficiary.medecin_traitant_declarations.select_related("medecin"),
        "maternities": beneficiary.maternity_periods.all(),
        "invalidities": beneficiary.invalidity_periods.all(),
        "cards": beneficiary.cartes_vitale.all(),
        "controls": beneficiary.residence_controls.all(),
        "history": history[:HISTORY_SIZE] if history is not None else None,
        "history_total": history.count() if history is not None else 0,
        "history_size": HISTORY_SIZE,
        "history_with_reads": has(user, Capability.VIEW_AUDIT),
        "can": {
            "edit_identity": has(user, Capability.EDIT_IDENTITY),
            "manage_rights": has(user, Capability.MANAGE_RIGHTS),
            "manage_cards": has(user, Capability.MANAGE_CARDS),
            "medecin_traitant": has(user, Capability.DECLARE_MEDECIN_TRAITANT),
            "submit_protocol": has(user, Capability.VIEW_MEDICAL),
            "validate_protocol": has(user, Capability.VALIDATE_PROTOCOL),
            "residence_controls": has(user, Capability.RESIDENCE_CONTROLS),
            "attestation": has(user, Capability.ISSUE_ATTESTATION),
        },
    })


@agent_required(Capability.EDIT_IDENTITY)
def edit_identity(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="mise à jour de l'identité")
    form = IdentityForm(request.POST or None, instance=beneficiary)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_identity(beneficiary, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_validation_error(exc)
        else:
            messages.success(request, "L'identité et les coordonnées sont enregistrées.")
            return redirect("beneficiaries:detail", pk=beneficiary.pk)
    return render(request, "web/form_page.html", {
        "form": form, "beneficiary": beneficiary, "page_title": "Modifier l'identité et les coordonnées",
        "cancel_url": beneficiary_url(beneficiary),
    })


def beneficiary_url(beneficiary: Beneficiary) -> str:
    from django.urls import reverse

    return reverse("beneficiaries:detail", args=[beneficiary.pk])
