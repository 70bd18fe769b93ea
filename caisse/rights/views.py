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
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from caisse.accounts.models import Role
from caisse.accounts.perms import Capability, has
from caisse.beneficiaries.access import get_beneficiary_for, search_beneficiaries_for
from caisse.beneficiaries.models import Beneficiary
from caisse.core.audit import record
from caisse.core.models import AuditAction
from caisse.rights import forms, services
from caisse.rights.attestation import AttestationUnavailable, render_attestation_pdf
from caisse.rights.models import (
    ALDPeriod,
    C2SAttribution,
    C2SDecision,
    C2SStatus,
    CardStatus,
    ControlReason,
    ControlStatus,
    ProtocolStatus,
    ResidenceControl,
)
from caisse.rights.requests import submit_ame_request, submit_c2s_request
from caisse.rules.c2s.engine import euros, resource_window
from caisse.rules.c2s.engine import participations as member_participations
from caisse.rules.c2s.models import C2SRequest as PureC2SRequest
from caisse.rules.c2s.models import Member
from caisse.rules.parameters import load_parameters
from caisse.web.decorators import agent_required
from caisse.web.forms import AccessibleForm


def _file_url(beneficiary: Beneficiary, anchor: str = "") -> str:
    return reverse("beneficiaries:detail", args=[beneficiary.pk]) + (f"#{anchor}" if anchor else "")


def _form_page(
    request: HttpRequest, beneficiary: Beneficiary, form: AccessibleForm, *, title: str, submit: str,
    on_valid: Callable[[dict[str, Any]], str], anchor: str = "", intro: str = "", back_url: str = "",
    template: str = "web/form_page.html", extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """GET shows the form; a valid POST calls the service, whose ValidationError become form errors.

    After success the agent goes back to ``back_url``, by default the file at ``anchor``.
    """
    back = back_url or _file_url(beneficiary, anchor)
    if request.method == "POST" and form.is_valid():
        try:
            message = on_valid(form.cleaned_data)
        except ValidationError as exc:
            form.add_validation_error(exc)
        else:
            messages.success(request, message)
            return redirect(back)
    return render(request, template, {
        "form": form, "beneficiary": beneficiary, "page_title": title, "submit": submit, "intro": intro,
        "cancel_url": back, **(extra or {}),
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


# --- C2S and AME requests --------------------------------------------------------------------------


def _attached_children(beneficiary: Beneficiary, when: dt.date) -> list[Beneficiary]:
    """The living children attached to this person on ``when``: pre-filled members of the household."""
    links = (beneficiary.child_links.filter(debut__lte=when).filter(Q(fin__isnull=True) | Q(fin__gte=when))
             .filter(child__date_deces__isnull=True).select_related("child").order_by("child__date_naissance"))
    return [link.child for link in links]


def _household_page(request: HttpRequest, beneficiary: Beneficiary, form: forms.HouseholdResourcesForm, *,
                    title: str, submit: str, kind: str) -> HttpResponse:
    return render(request, "rights/household_request.html", {
        "form": form, "beneficiary": beneficiary, "page_title": title, "submit": submit, "kind": kind,
        "window": f"{forms.of_month(form.first_month)} à {forms.month_name(form.last_month)}",
        "cancel_url": _file_url(beneficiary, "c2s-ame"),
    })


def _alive(beneficiary: Beneficiary) -> None:
    if beneficiary.date_deces is not None:
        raise ValidationError(f"Cette personne est décédée le {beneficiary.date_deces:%d/%m/%Y}.")


@agent_required(Capability.MANAGE_RIGHTS)
def c2s_request(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="demande de C2S")
    today = dt.date.today()
    current = beneficiary.c2s_attributions.exclude(statut=C2SStatus.FERMEE).filter(fin__gte=today).order_by("-fin").first()
    form = forms.C2SRequestForm(request.POST or None, beneficiary=beneficiary, today=today,
                                children=_attached_children(beneficiary, today),
                                initial={"renouvellement": current is not None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _alive(beneficiary)
            c2s = submit_c2s_request(
                beneficiary, date_demande=data["date_demande"], membres=form.members(), ressources=form.resources(),
                by=request.user, zone=data["zone"], logement=data["logement"], rsa=data["rsa"],
                renouvellement=data["renouvellement"])
        except ValidationError as exc:
            form.add_validation_error(exc)
        else:
            messages.success(request, f"Demande de C2S enregistrée : {c2s.get_decision_display().lower()}.")
            return redirect("rights:c2s_result", pk=beneficiary.pk, request_pk=c2s.pk)
    title = "Renouveler la complémentaire santé solidaire" if current else "Demande de complémentaire santé solidaire"
    return _household_page(request, beneficiary, form, title=title, submit="Enregistrer et décider", kind="c2s")


@agent_required(Capability.VIEW_FILE)
def c2s_result(request: HttpRequest, pk: int, request_pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="consultation d'une décision de C2S")
    c2s = get_object_or_404(beneficiary.c2s_requests, pk=request_pk)
    stored = c2s.membres or []
    if c2s.decision == C2SDecision.PARTICIPATION:
        # The record keeps the total; each member's share is recomputed by the same pure engine.
        pure = PureC2SRequest(id=c2s.pk, date_demande=c2s.date_demande, zone=c2s.zone, logement=c2s.logement,
                              rsa=c2s.rsa, ressources=(),
                              membres=tuple(Member(dt.date.fromisoformat(m["date_naissance"]), m["role"]) for m in stored))
        amounts: list[int | None] = list(member_participations(pure))
    elif c2s.decision == C2SDecision.GRATUITE:
        amounts = [0] * len(stored)
    else:
        amounts = [None] * len(stored)
    granted = {a.beneficiary.nir: a for a in c2s.attributions.select_related("beneficiary")}
    roles = dict(forms.MEMBER_ROLES) | {"demandeur": "Demandeur"}
    members = [{
        "role": roles.get(m["role"], m["role"]), "date_naissance": dt.date.fromisoformat(m["date_naissance"]),
        "attribution": granted.get(m.get("nir") or ""), "participation": euros(amount) if amount is not None else "—",
    } for m, amount in zip(stored, amounts, strict=True)]
    first, last = resource_window(c2s.date_demande)
    return render(request, "rights/c2s_result.html", {
        "beneficiary": beneficiary, "c2s": c2s, "members": members, "page_title": "Décision sur la demande de C2S",
        "plafond": euros(c2s.plafond_cts) if c2s.plafond_cts is not None else "—",
        "ressources_retenues": euros(c2s.ressources_retenues_cts) if c2s.ressources_retenues_cts is not None else "—",
        "participation": euros(c2s.participation_mensuelle_cts),
        "window": f"{forms.of_month(first)} à {forms.month_name(last)}",
        "resources": [{"mois": forms.month_name(r["mois"]), "montant": euros(int(r["montant_cts"]))}
                      for r in c2s.ressources or []],
    })


@agent_required(Capability.MANAGE_RIGHTS)
def ame_request(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="demande d'AME")
    today = dt.date.today()
    form = forms.AMERequestForm(request.POST or None, beneficiary=beneficiary, today=today,
                                children=_attached_children(beneficiary, today))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _alive(beneficiary)
            ame = submit_ame_request(
                beneficiary, date_demande=data["date_demande"], membres=form.members(), ressources=form.resources(),
                by=request.user, residence_depuis=data["residence_depuis"],
                depot_en_personne=data["depot_en_personne"], zone=data["zone"], logement=data["logement"])
        except ValidationError as exc:
            form.add_validation_error(exc)
        else:
            messages.success(request, f"Demande d'AME enregistrée : {ame.get_statut_display().lower()}.")
            return redirect("rights:ame_result", pk=beneficiary.pk, ame_pk=ame.pk)
    return _household_page(request, beneficiary, form, title="Demande d'aide médicale de l'État",
                           submit="Enregistrer et décider", kind="ame")


@agent_required(Capability.VIEW_FILE)
def ame_result(request: HttpRequest, pk: int, ame_pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="consultation d'une décision d'AME")
    ame = get_object_or_404(beneficiary.ame_attributions, pk=ame_pk)
    return render(request, "rights/ame_result.html", {
        "beneficiary": beneficiary, "ame": ame, "page_title": "Décision sur la demande d'AME",
        "ressources": euros(ame.ressources_annuelles_cts),
    })


# --- C2S participation ------------------------------------------------------------------------------


@agent_required(Capability.MANAGE_RIGHTS)
def c2s_dues(request: HttpRequest, pk: int, attribution_pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="suivi de la participation C2S")
    attribution = get_object_or_404(beneficiary.c2s_attributions, pk=attribution_pk, participation=True)
    today = dt.date.today()
    dues = [{"due": d, "montant": euros(d.montant_cts), "echue": d.mois < today.replace(day=1)}
            for d in attribution.dues.all()]
    return render(request, "rights/c2s_dues.html", {
        "beneficiary": beneficiary, "attribution": attribution, "dues": dues, "today": today,
        "page_title": "Échéances de participation C2S", "montant": euros(attribution.participation_mensuelle_cts),
        "unpaid": sum(1 for d in dues if d["echue"] and d["due"].payee_le is None),
    })


@agent_required(Capability.MANAGE_RIGHTS)
def pay_due(request: HttpRequest, pk: int, attribution_pk: int, due_pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="paiement d'une participation C2S")
    attribution = get_object_or_404(beneficiary.c2s_attributions, pk=attribution_pk)
    due = get_object_or_404(attribution.dues, pk=due_pk)
    form = forms.ParticipationPaymentForm(request.POST or None, initial={"payee_le": dt.date.today()})

    def save(data: dict[str, Any]) -> str:
        if due.payee_le is not None:
            raise ValidationError(f"Cette échéance est déjà payée (le {due.payee_le:%d/%m/%Y}).")
        was_suspended = attribution.statut == C2SStatus.SUSPENDUE
        services.record_participation_payment(due, paid_on=data["payee_le"], by=request.user)
        attribution.refresh_from_db()
        restored = " La C2S est rétablie." if was_suspended and attribution.statut == C2SStatus.OUVERTE else ""
        return f"Participation {forms.of_month(due.mois.strftime('%Y-%m'))} payée.{restored}"

    return _form_page(request, beneficiary, form, title="Enregistrer le paiement d'une participation C2S",
                      submit="Enregistrer le paiement", on_valid=save,
                      back_url=reverse("rights:c2s_dues", args=[beneficiary.pk, attribution.pk]),
                      intro=f"Échéance {forms.of_month(due.mois.strftime('%Y-%m'))} : {euros(due.montant_cts)}.")


@agent_required(Capability.MANAGE_RIGHTS)
def c2s_suspensions(request: HttpRequest) -> HttpResponse:
    today = dt.date.today()
    suspended = (C2SAttribution.objects.filter(statut=C2SStatus.SUSPENDUE).select_related("beneficiary")
                 .order_by("beneficiary__nom", "pk"))
    page = Paginator(suspended, 50).get_page(request.GET.get("page"))
    return render(request, "rights/c2s_suspensions.html", {
        "page": page, "today": today,
        "limit": int(load_parameters().value("droits.c2s.echeances_impayees_avant_suspension", today)),
    })


@require_POST
@agent_required(Capability.MANAGE_RIGHTS)
def run_c2s_suspensions(request: HttpRequest) -> HttpResponse:
    suspended = services.suspend_c2s_for_unpaid(dt.date.today(), by=request.user)
    n = len(suspended)
    if n:
        messages.success(request, f"{n} C2S suspendue{'s' if n > 1 else ''} pour participation impayée.")
    else:
        messages.info(request, "Aucune C2S à suspendre aujourd'hui.")
    return redirect("rights:c2s_suspensions")


# --- Death, invalidity, family --------------------------------------------------------------------------


@agent_required(Capability.MANAGE_RIGHTS)
def declare_death(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="déclaration de décès")
    today = dt.date.today()

    def save(data: dict[str, Any]) -> str:
        if data["date_deces"] < beneficiary.date_naissance:
            raise ValidationError({"date_deces": "La date de décès précède la date de naissance."})
        services.declare_death(beneficiary, date_deces=data["date_deces"], by=request.user)
        return f"Décès enregistré au {data['date_deces']:%d/%m/%Y} ; les droits sont fermés."

    closing = {
        "rights": beneficiary.rights_periods.filter(Q(fin__isnull=True) | Q(fin__gte=today)),
        "c2s": beneficiary.c2s_attributions.exclude(statut=C2SStatus.FERMEE),
        "medecins": beneficiary.medecin_traitant_declarations.filter(fin__isnull=True).select_related("medecin"),
        "cards": beneficiary.cartes_vitale.filter(statut__in=[CardStatus.ACTIVE, CardStatus.COMMANDEE,
                                                              CardStatus.EN_PRODUCTION]),
    }
    return _form_page(request, beneficiary, forms.DeathForm(request.POST or None), title="Déclarer un décès",
                      submit="Enregistrer le décès", on_valid=save, anchor="identite", template="rights/death.html",
                      extra={"closing": closing})


@agent_required(Capability.MANAGE_RIGHTS)
def open_invalidity(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="ouverture d'une pension d'invalidité")

    def save(data: dict[str, Any]) -> str:
        _alive(beneficiary)
        period = services.open_invalidity(beneficiary, categorie=data["categorie"], debut=data["debut"],
                                          by=request.user)
        return f"Pension d'invalidité de {period.get_categorie_display()} ouverte au {data['debut']:%d/%m/%Y}."

    return _form_page(request, beneficiary, forms.InvalidityForm(request.POST or None),
                      title="Ouvrir une période d'invalidité", submit="Ouvrir la période", on_valid=save,
                      anchor="maternite")


@agent_required(Capability.MANAGE_RIGHTS)
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="rattachement d'un enfant")

    def save(data: dict[str, Any]) -> str:
        found = search_beneficiaries_for(request.user, nir=data["nir"]).filter(nir=data["nir"]).first()
        if found is None:
            raise ValidationError({"nir": "Aucun bénéficiaire n'a ce NIR."})
        if found.pk == beneficiary.pk:
            raise ValidationError({"nir": "Une personne ne peut être rattachée à elle-même."})
        other = get_beneficiary_for(request.user, found.pk, purpose="rattachement d'un enfant")
        child, parent = (other, beneficiary) if data["lien"] == "enfant" else (beneficiary, other)
        if child.date_naissance <= parent.date_naissance:
            raise ValidationError({"lien": f"{child.prenom} {child.nom_affiche} est né{_e(child)} avant "
                                           f"{parent.prenom} {parent.nom_affiche} : vérifiez le sens du lien."})
        if data["debut"] < child.date_naissance:
            raise ValidationError({"debut": "Le rattachement ne peut commencer avant la naissance de l'enfant."})
        services.attach_child(child, parent, debut=data["debut"], by=request.user)
        return (f"{child.prenom} {child.nom_affiche} est rattaché{_e(child)} à {parent.prenom} {parent.nom_affiche} "
                f"depuis le {data['debut']:%d/%m/%Y}.")

    return _form_page(request, beneficiary, forms.AttachForm(request.POST or None),
                      title="Rattacher un enfant ou un parent", submit="Rattacher", on_valid=save, anchor="famille")


def _e(person: Beneficiary) -> str:
    return "e" if person.sexe == "F" else ""
