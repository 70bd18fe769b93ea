"""Screens that change rights. Each POST calls one service function; errors come back as form errors.

Sub-records (a period, a card, a protocol, a control) are always reached through the file
loaded by ``get_beneficiary_for``: the URL names the file, and the record must belong to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from caisse.accounts.models import Role
from caisse.accounts.perms import Capability, has
from caisse.beneficiaries.access import get_beneficiary_for
from caisse.beneficiaries.models import Beneficiary
from caisse.core.audit import record
from caisse.core.models import AuditAction
from caisse.rights import forms, services
from caisse.rights.attestation import AttestationUnavailable, render_attestation_pdf
from caisse.rights.models import ALDPeriod, ControlReason, ControlStatus, ProtocolStatus, ResidenceControl
from caisse.web.decorators import agent_required
from caisse.web.forms import AccessibleForm


def _file_url(beneficiary: Beneficiary, anchor: str = "") -> str:
    return reverse("beneficiaries:detail", args=[beneficiary.pk]) + (f"#{anchor}" if anchor else "")


def _form_page(
    request: HttpRequest, beneficiary: Beneficiary, form: AccessibleForm, *, title: str, submit: str,
    on_valid: Callable[[dict[str, Any]], str], anchor: str = "", intro: str = "",
) -> HttpResponse:
    """GET shows the form; a valid POST calls the service, whose ValidationError become form errors."""
    if request.method == "POST" and form.is_valid():
        try:
            message = on_valid(form.cleaned_data)
        except ValidationError as exc:
            form.add_validation_error(exc)
        else:
            messages.success(request, message)
            return redirect(_file_url(beneficiary, anchor))
    return render(request, "web/form_page.html", {
        "form": form, "beneficiary": beneficiary, "page_title": title, "submit": submit, "intro": intro,
        "cancel_url": _file_url(beneficiary, anchor),
    }, status=200)


# --- Base rights ---------------------------------------------------------------------------------


@agent_required(Capability.MANAGE_RIGHTS)
def open_rights(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="ouverture de droits")

    def save(data: dict[str, Any]) -> str:
        services.open_rights(beneficiary, debut=data["debut"], motif=data["motif"], by=request.user)
        return f"Droits ouverts au {data['debut']:%d/%m/%Y}."

    return _form_page(request, beneficiary, forms.OpenRightsForm(request.POST or None),
                      title="Ouvrir une période de droits", submit="Ouvrir les droits", on_valid=save,
                      anchor="droits-base")


@agent_required(Capability.MANAGE_RIGHTS)
def close_rights(request: HttpRequest, pk: int, period_pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="fermeture de droits")
    period = get_object_or_404(beneficiary.rights_periods, pk=period_pk, fin__isnull=True)

    def save(data: dict[str, Any]) -> str:
        services.close_rights(period, fin=data["fin"], motif=data["motif"], by=request.user)
        return f"Droits fermés au {data['fin']:%d/%m/%Y}."

    return _form_page(request, beneficiary, forms.CloseRightsForm(request.POST or None),
                      title="Fermer une période de droits", submit="Fermer les droits", on_valid=save,
                      anchor="droits-base", intro=f"Période ouverte le {period.debut:%d/%m/%Y} "
                                                  f"({period.get_motif_ouverture_display()}).")


# --- Médecin traitant, maternity ---------------------------------------------------------------------


@agent_required(Capability.DECLARE_MEDECIN_TRAITANT)
def medecin_traitant(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="déclaration de médecin traitant")

    def save(data: dict[str, Any]) -> str:
        services.declare_medecin_traitant(beneficiary, medecin=data["medecin"], debut=data["debut"],
                                          canal=data["canal"], by=request.user)
        return "Médecin traitant enregistré."

    return _form_page(request, beneficiary, forms.MedecinTraitantForm(request.POST or None),
                      title="Déclarer un médecin traitant", submit="Enregistrer la déclaration", on_valid=save,
                      anchor="medecin-traitant")


@agent_required(Capability.MANAGE_RIGHTS)
def pregnancy(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="déclaration de grossesse")

    def save(data: dict[str, Any]) -> str:
        services.declare_pregnancy(beneficiary, by=request.user, **data)
        return "Grossesse déclarée."

    return _form_page(request, beneficiary, forms.PregnancyForm(request.POST or None),
                      title="Déclarer une grossesse", submit="Déclarer la grossesse", on_valid=save, anchor="maternite")


@agent_required(Capability.MANAGE_RIGHTS)
def birth(request: HttpRequest, pk: int, maternity_pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="déclaration de naissance")
    period = get_object_or_404(beneficiary.maternity_periods, pk=maternity_pk)

    def save(data: dict[str, Any]) -> str:
        if data["date_accouchement"] < period.date_debut_grossesse:
            raise ValidationError({"date_accouchement": "L'accouchement ne peut précéder le début de grossesse."})
        services.record_birth(period, date_accouchement=data["date_accouchement"], by=request.user)
        return "Accouchement enregistré."

    return _form_page(request, beneficiary, forms.BirthForm(request.POST or None),
                      title="Enregistrer l'accouchement", submit="Enregistrer", on_valid=save, anchor="maternite")


# --- Carte Vitale -------------------------------------------------------------------------------------


@agent_required(Capability.MANAGE_CARDS)
def order_card(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="commande de carte Vitale")

    def save(data: dict[str, Any]) -> str:
        card = services.order_card(beneficiary, canal=data["canal"], when=dt.date.today(), by=request.user)
        return f"Carte Vitale n° {card.numero} commandée."

    return _form_page(request, beneficiary, forms.OrderCardForm(request.POST or None),
                      title="Commander une carte Vitale", submit="Commander", on_valid=save, anchor="cartes")


@agent_required(Capability.MANAGE_CARDS)
def oppose_card(request: HttpRequest, pk: int, card_pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="opposition de carte Vitale")
    card = get_object_or_404(beneficiary.cartes_vitale, pk=card_pk)

    def save(data: dict[str, Any]) -> str:
        new = services.oppose_card(card, motif=data["motif"], when=dt.date.today(), by=request.user,
                                   replace=data["remplacer"])
        return "Carte mise en opposition." + (f" Carte de remplacement n° {new.numero} commandée." if new else "")

    return _form_page(request, beneficiary, forms.OppositionForm(request.POST or None),
                      title="Déclarer la perte, le vol ou le défaut d'une carte Vitale", submit="Mettre en opposition",
                      on_valid=save, anchor="cartes", intro=f"Carte n° {card.numero} ({card.get_statut_display()}).")


@require_POST
@agent_required(Capability.MANAGE_CARDS)
def advance_card(request: HttpRequest, pk: int, card_pk: int, step: str) -> HttpResponse:
    if step not in ("produce", "deliver"):
        raise Http404("Étape inconnue.")
    beneficiary = get_beneficiary_for(request.user, pk, purpose="suivi de carte Vitale")
    card = get_object_or_404(beneficiary.cartes_vitale, pk=card_pk)
    try:
        services.advance_card(card, step=step, when=dt.date.today(), by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Carte n° {card.numero} : {card.get_statut_display().lower()}.")
    return redirect(_file_url(beneficiary, "cartes"))


# --- ALD ----------------------------------------------------------------------------------------------


@agent_required(Capability.VIEW_MEDICAL)
def submit_protocol(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="saisie d'un protocole de soins")

    def save(data: dict[str, Any]) -> str:
        services.submit_protocol(beneficiary, by=request.user, **data)
        return "Protocole de soins enregistré ; il attend l'avis du médecin-conseil."

    return _form_page(request, beneficiary, forms.ProtocolForm(request.POST or None),
                      title="Enregistrer un protocole de soins", submit="Enregistrer le protocole", on_valid=save,
                      anchor="ald")


@agent_required(Capability.VALIDATE_PROTOCOL)
def review_protocol(request: HttpRequest, pk: int, ald_pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="examen d'un protocole de soins")
    ald = get_object_or_404(beneficiary.ald_periods, pk=ald_pk)

    def save(data: dict[str, Any]) -> str:
        if data["decision"] == "valider":
            services.validate_protocol(ald, debut=data["debut"], fin=data["fin"], by=request.user)
            return "Protocole validé : l'exonération ALD est ouverte."
        services.refuse_protocol(ald, by=request.user)
        return "Protocole refusé."

    return _form_page(request, beneficiary, forms.ProtocolReviewForm(request.POST or None),
                      title="Examiner un protocole de soins", submit="Enregistrer l'avis", on_valid=save, anchor="ald",
                      intro=f"{ald.get_kind_display()} — {ald.affection}, protocole du {ald.date_protocole:%d/%m/%Y} "
                            f"({ald.get_statut_protocole_display()}).")


@agent_required(Capability.VALIDATE_PROTOCOL)
def protocol_queue(request: HttpRequest) -> HttpResponse:
    pending = (ALDPeriod.objects.filter(statut_protocole=ProtocolStatus.TRANSMIS)
               .select_related("beneficiary").order_by("date_protocole", "pk"))
    page = Paginator(pending, 50).get_page(request.GET.get("page"))
    return render(request, "rights/protocol_queue.html", {"page": page})


# --- Residence controls ---------------------------------------------------------------------------------


TARGETS_SHOWN = 50


@agent_required(Capability.RESIDENCE_CONTROLS)
def residence_controls(request: HttpRequest) -> HttpResponse:
    today = dt.date.today()
    targets = [
        {"label": ControlReason(reason).label, "count": people.count(), "people": people.order_by("nom", "pk")[:TARGETS_SHOWN]}
        for reason, people in services.residence_control_targets(today).items()
    ]
    open_controls = (ResidenceControl.objects.filter(statut=ControlStatus.OUVERT)
                     .select_related("beneficiary").order_by("ouvert_le", "pk"))
    page = Paginator(open_controls, 50).get_page(request.GET.get("page"))
    return render(request, "rights/residence_controls.html", {
        "targets": targets, "targets_total": sum(t["count"] for t in targets), "page": page, "today": today,
        "shown": TARGETS_SHOWN,
    })


@require_POST
@agent_required(Capability.RESIDENCE_CONTROLS)
def open_controls(request: HttpRequest) -> HttpResponse:
    opened = services.open_residence_controls(dt.date.today(), by=request.user)
    messages.success(request, f"{len(opened)} contrôle{'s' if len(opened) > 1 else ''} de résidence ouvert"
                              f"{'s' if len(opened) > 1 else ''}.")
    return redirect("rights:residence_controls")


@agent_required(Capability.RESIDENCE_CONTROLS)
def close_control(request: HttpRequest, pk: int, control_pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="clôture d'un contrôle de résidence")
    control = get_object_or_404(beneficiary.residence_controls, pk=control_pk)
    form = forms.CloseControlForm(request.POST or None, initial={"clos_le": dt.date.today()})

    def save(data: dict[str, Any]) -> str:
        if data["clos_le"] < control.ouvert_le:
            raise ValidationError({"clos_le": "La date de clôture précède l'ouverture du contrôle."})
        services.close_residence_control(control, outcome=data["outcome"], when=data["clos_le"], by=request.user,
                                         observations=data["observations"])
        return f"Contrôle clos : {ControlStatus(data['outcome']).label}."

    return _form_page(request, beneficiary, form, title="Clore un contrôle de résidence", submit="Clore le contrôle",
                      on_valid=save, anchor="controles",
                      intro=f"Contrôle ouvert le {control.ouvert_le:%d/%m/%Y} : {control.get_motif_display()}.")


# --- Attestation de droits --------------------------------------------------------------------------------


def attestation(request: HttpRequest, pk: int) -> HttpResponse:
    """The day's attestation, for agents with ISSUE_ATTESTATION and for the assuré (self and children)."""
    user: Any = request.user
    if not user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    if not (has(user, Capability.ISSUE_ATTESTATION) or user.role == Role.ASSURE):
        raise PermissionDenied("Votre rôle ne permet pas de délivrer une attestation de droits.")
    beneficiary = get_beneficiary_for(user, pk, purpose="attestation de droits")
    today = dt.date.today()
    try:
        pdf = render_attestation_pdf(services.rights_on(beneficiary, today))
    except AttestationUnavailable as exc:
        back = reverse("web:member_home") if user.role == Role.ASSURE else _file_url(beneficiary)
        return render(request, "web/unavailable.html", {"reason": str(exc), "back_url": back}, status=503)
    record(by=user, action=AuditAction.DOWNLOAD, summary=f"Attestation de droits au {today:%d/%m/%Y} téléchargée",
           beneficiary=beneficiary, obj=beneficiary)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="attestation-droits-{today:%Y%m%d}-{beneficiary.pk}.pdf"'
    return response
