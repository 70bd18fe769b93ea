"""Back-office screens of the AT/MP team: work queue, case page, steps, letters, indicators.

Views stay thin: check the role, load through ``perms.get_case_for`` (the read is recorded),
parse a form, call one service, and turn a domain error into a French message on the form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from caisse.core.audit import record
from caisse.core.models import AuditAction
from caisse.work_accidents import documents, forms, indicators, schedule, services, workflow
from caisse.work_accidents.enums import CaseKind, CaseStatus, Recipient, TransitionName
from caisse.work_accidents.models import Case
from caisse.work_accidents.perms import get_case_for, get_questionnaire_for, require_atmp

View = Callable[..., HttpResponse]


def atmp_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_atmp(request.user)
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _case_url(case: Case) -> str:
    return reverse("work_accidents:case", args=[case.pk])


# --- Work queue --------------------------------------------------------------------------------------


@atmp_required
def queue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    cases = Case.objects.work_queue()
    kind = request.GET.get("nature", "")
    if kind in CaseKind.values:
        cases = cases.filter(declaration__kind=kind)
    only_flagged = request.GET.get("signales") == "1"
    if only_flagged:
        cases = cases.filter(alerte=True)
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    rows = []
    for c in page:
        days_left = (c.prochaine_echeance - today).days if c.prochaine_echeance else None
        rows.append({"case": c, "days_left": days_left,
                     "overdue": -days_left if days_left is not None and days_left < 0 else 0})
    return render(request, "work_accidents/queue.html", {
        "page": page, "rows": rows, "kinds": CaseKind.choices, "kind": kind, "only_flagged": only_flagged,
        "today": today, "flagged_count": Case.objects.open().filter(alerte=True).count(),
    })


# --- Case page -------------------------------------------------------------------------------------------


@atmp_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk)
    today = timezone.localdate()
    pending = {d.code for d in schedule.pending_deadlines(case, today)}
    alert_days = schedule.rules_for(case).alert_days
    deadlines = [{"d": d, "pending": d.code in pending, "days_left": d.days_left(today), "past": d.is_past(today),
                  "near": d.is_near(today, alert_days)} for d in schedule.all_deadlines(case)]
    # Steps the state allows; their guards (deadlines, order) answer on the form, since an agent may
    # record today a step taken on an earlier date.
    actions = []
    for name, url_name, shown in (
        (TransitionName.OUVRIR_ENQUETE, "open_investigation", True),
        (TransitionName.ENVOYER_QUESTIONNAIRES, "send_questionnaires", not case.questionnaires.exists()),
        (TransitionName.OUVRIR_CONSULTATION, "open_consultation", True),
        (TransitionName.SAISIR_CRRMP, "refer_crrmp", case.is_mp),
    ):
        if shown and case.status in workflow.TRANSITIONS[name].sources:
            actions.append({"label": name.label, "url": reverse(f"work_accidents:{url_name}", args=[case.pk])})
    declaration = case.declaration
    return render(request, "work_accidents/case.html", {
        "case": case, "declaration": declaration, "victim": declaration.victim,
        "certificate": getattr(declaration, "certificat", None), "deadlines": deadlines, "actions": actions,
        "can_record_cmi": case.status == CaseStatus.DECLARE,
        "can_record_reserves": case.status in workflow.TRANSITIONS[TransitionName.RECEVOIR_RESERVES].sources
        and not case.is_mp and not case.reserves.exists(),
        "needs_copy_date": declaration.declarant == "victime" and declaration.date_copie_employeur is None
        and case.is_open,
        "can_decide": case.status in workflow.TRANSITIONS[TransitionName.RECONNAITRE].sources,
        "investigation_required": case.reserves.exists() and not case.enquete and case.is_open,
        "reserves": case.reserves.all(), "questionnaires": case.questionnaires.all(),
        "consultations": case.consultations.order_by("debut"),
        "timeline": case.transitions.select_related("by").order_by("at", "id"),
        "today": today, "recipients": Recipient.choices,
    })


# --- Steps ----------------------------------------------------------------------------------------------------


def _step(
    request: HttpRequest, case: Case, form_class: type[forms.AccessibleForm], *, title: str,
    run: Callable[[dict[str, Any]], Any], done: str, intro: str = "", submit: str = "Enregistrer",
    initial: dict[str, Any] | None = None,
) -> HttpResponse:
    form = form_class(request.POST or None, initial=initial or {"when": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            run(form.cleaned_data)
        except ValidationError as exc:
            form.add_validation_error(exc)
        else:
            messages.success(request, done)
            return redirect(_case_url(case))
    return render(request, "work_accidents/step.html", {
        "case": case, "form": form, "page_title": title, "intro": intro, "submit": submit,
        "cancel_url": _case_url(case), "victim": case.declaration.victim,
    })


@atmp_required
@require_http_methods(["GET", "POST"])
def declare(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = forms.DeclarationForm(request.POST or None, user=request.user,
                                 initial={"date_reception": today, "kind": CaseKind.AT, "declarant": "employeur"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.declare(
                by=request.user, kind=data["kind"], declarant=data["declarant"], victim=data["victim"],
                employer=data.get("employer"), date_evenement=data["date_evenement"],
                date_declaration=data["date_declaration"], date_reception=data["date_reception"],
                channel=data["channel"], date_copie_employeur=data.get("date_copie_employeur"),
                circonstances=data.get("circonstances", ""), rechute_de=data.get("rechute_de"),
            )
        except ValidationError as exc:
            form.add_validation_error(exc)
        else:
            messages.success(request, f"Déclaration enregistrée : dossier n° {case.pk} ouvert.")
            return redirect(_case_url(case))
    return render(request, "work_accidents/step.html", {
        "form": form, "page_title": "Enregistrer une déclaration AT/MP", "submit": "Enregistrer la déclaration",
        "cancel_url": reverse("work_accidents:queue"),
        "intro": "Déclaration d'accident du travail (DAT, e-DAT), de trajet, de maladie professionnelle ou de rechute.",
    })


@atmp_required
@require_http_methods(["GET", "POST"])
def record_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk)
    return _step(
        request, case, forms.CertificateForm, title="Enregistrer le certificat médical initial",
        initial={"date_reception": timezone.localdate()},
        intro="Avec la déclaration, le certificat fait courir le délai de décision de la caisse.",
        run=lambda d: services.record_initial_certificate(
            case, by=request.user, date_etablissement=d["date_etablissement"], date_reception=d["date_reception"],
            lesions=d.get("lesions", ""), arret_jusqu_au=d.get("arret_jusqu_au"),
        ),
        done="Certificat médical initial enregistré : le délai de décision court.",
    )


@atmp_required
@require_http_methods(["GET", "POST"])
def record_employer_copy(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk)
    return _step(
        request, case, forms.EmployerCopyForm, title="Réception du double par l'employeur",
        initial={"date_copie_employeur": timezone.localdate()},
        run=lambda d: services.record_employer_copy(case, by=request.user,
                                                    date_copie_employeur=d["date_copie_employeur"]),
        done="Date de réception du double enregistrée.",
    )


@atmp_required
@require_http_methods(["GET", "POST"])
def record_reserves(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk)
    return _step(
        request, case, forms.ReservesForm, title="Enregistrer les réserves motivées de l'employeur",
        initial={"date_reception": timezone.localdate()},
        intro="Recevables dans les 10 jours francs de la déclaration (art. R441-6) ; elles rendent l'enquête "
        "obligatoire.",
        run=lambda d: services.record_reserves(case, by=request.user, date_reception=d["date_reception"],
                                               motifs=d["motifs"]),
        done="Réserves enregistrées : ouvrez l'enquête avant de statuer.",
    )


@atmp_required
@require_http_methods(["GET", "POST"])
def open_investigation(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk)
    return _step(
        request, case, forms.StepForm, title="Ouvrir une enquête", submit="Ouvrir l'enquête",
        intro="Pour un accident, le délai de décision passe à 90 jours francs (art. R441-8).",
        run=lambda d: services.open_investigation(case, by=request.user, when=d["when"], reason=d.get("reason", "")),
        done="Enquête ouverte.",
    )


@atmp_required
@require_http_methods(["GET", "POST"])
def send_questionnaires(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk)
    return _step(
        request, case, forms.DatedForm, title="Envoyer les questionnaires", submit="Envoyer les questionnaires",
        intro="Un questionnaire à l'employeur et un à la victime, à retourner sous 20 jours francs (accident) ou "
        "30 jours francs (maladie professionnelle).",
        run=lambda d: services.send_questionnaires(case, by=request.user, when=d["when"]),
        done="Questionnaires envoyés : les courriers sont disponibles sur la page du dossier.",
    )


@atmp_required
@require_http_methods(["GET", "POST"])
def questionnaire_return(request: HttpRequest, pk: int, questionnaire_pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk)
    questionnaire = get_questionnaire_for(request.user, case, questionnaire_pk)
    return _step(
        request, case, forms.QuestionnaireReturnForm,
        title=f"Retour du questionnaire ({questionnaire.get_destinataire_display().lower()})",
        initial={"date_retour": timezone.localdate()},
        run=lambda d: services.record_questionnaire_return(questionnaire, by=request.user, date_retour=d["date_retour"]),
        done="Retour du questionnaire enregistré.",
    )


@atmp_required
@require_http_methods(["GET", "POST"])
def open_consultation(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk)
    return _step(
        request, case, forms.DatedForm, title="Mettre le dossier à disposition des parties",
        submit="Ouvrir la consultation",
        intro="Les parties disposent de 10 jours francs pour consulter le dossier et formuler des observations.",
        run=lambda d: services.open_consultation(case, by=request.user, when=d["when"]),
        done="Dossier mis à disposition des parties.",
    )


@atmp_required
@require_http_methods(["GET", "POST"])
def refer_crrmp(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk)
    return _step(
        request, case, forms.CrrmpForm, title="Saisir le CRRMP", submit="Saisir le CRRMP",
        intro="La caisse dispose de 120 jours francs supplémentaires à compter de la saisine (art. R461-10).",
        run=lambda d: services.refer_to_crrmp(case, by=request.user, when=d["when"], reason=d["reason"]),
        done="CRRMP saisi.",
    )


@atmp_required
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk)
    return _step(
        request, case, forms.DecisionForm, title="Statuer sur le caractère professionnel", submit="Enregistrer la décision",
        run=lambda d: services.decide(case, by=request.user, when=d["when"], recognised=d["decision"] == "reconnu",
                                      motif=d.get("reason", "")),
        done="Décision enregistrée : le courrier de notification est disponible.",
    )


# --- Letters (PDF) -----------------------------------------------------------------------------------------------


def _pdf(request: HttpRequest, case: Case, render_pdf: Callable[[], bytes], filename: str, summary: str) -> HttpResponse:
    try:
        pdf = render_pdf()
    except documents.DocumentUnavailable as exc:
        return render(request, "web/unavailable.html", {"reason": str(exc), "back_url": _case_url(case)}, status=503)
    record(by=request.user, action=AuditAction.DOWNLOAD, summary=summary, beneficiary=case.declaration.victim, obj=case)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@atmp_required
def decision_letter(request: HttpRequest, pk: int, recipient: str) -> HttpResponse:
    case = get_case_for(request.user, pk, purpose="courrier de décision AT/MP")
    if recipient not in Recipient.values or case.is_open:
        messages.error(request, "Le courrier de décision n'existe qu'une fois la décision prise.")
        return redirect(_case_url(case))
    return _pdf(request, case, lambda: documents.decision_letter_pdf(case, Recipient(recipient)),
                f"decision-atmp-{case.pk}-{recipient}.pdf", f"Courrier de décision ({recipient}) téléchargé")


@atmp_required
def questionnaire_letter(request: HttpRequest, pk: int, questionnaire_pk: int) -> HttpResponse:
    case = get_case_for(request.user, pk, purpose="courrier de questionnaire AT/MP")
    questionnaire = get_questionnaire_for(request.user, case, questionnaire_pk)
    return _pdf(request, case, lambda: documents.questionnaire_letter_pdf(questionnaire),
                f"questionnaire-atmp-{case.pk}-{questionnaire.destinataire}.pdf",
                f"Courrier de questionnaire ({questionnaire.destinataire}) téléchargé")


# --- Indicators ---------------------------------------------------------------------------------------------------


@atmp_required
def indicators_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = forms.IndicatorsForm(request.GET or None, initial={"year": today.year})
    year = form.cleaned_data["year"] if form.is_bound and form.is_valid() else today.year
    rows = indicators.monthly(dt.date(year, 1, 1), dt.date(year, 12, 31))
    return render(request, "work_accidents/indicators.html", {"form": form, "rows": rows, "year": year})
