"""Health costs back-office: paper feuilles capture, statements, NOEMIE-like returns, delays.

Liquidateurs capture paper feuilles and read statements; managers read everything (no capture).
A person's décomptes are reached through their file, loaded by ``get_beneficiary_for``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

import polars as pl
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from caisse.accounts.models import Role
from caisse.beneficiaries.access import (
    beneficiaries_by_nir_for,
    get_beneficiary_for,
    search_beneficiaries_for,
)
from caisse.claims import capture, documents
from caisse.claims import delays as delay_rules
from caisse.claims.documents import DocumentUnavailable, euros
from caisse.claims.forms import PaperFeuilleForm, PeriodForm, ReturnPeriodForm
from caisse.claims.models import DailyRun, Feuille, FeuilleStatus, RunStatus
from caisse.claims.services import (
    finished_runs,
    late_payment_penalties,
    payment_runs,
    processing_delays,
    stored_nomenclature,
)
from caisse.core.audit import record
from caisse.core.models import AuditAction
from caisse.rules.claims.controls import MESSAGES

View = Callable[..., HttpResponse]

READERS = frozenset({Role.LIQUIDATEUR, Role.MANAGER})
WRITERS = frozenset({Role.LIQUIDATEUR})


def claims_team(*, write: bool = False) -> Callable[[View], View]:
    """Signed in first (redirect), then a liquidateur, or a manager for reading (403 otherwise)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            if not user.is_active or user.role not in (WRITERS if write else READERS):
                raise PermissionDenied(
                    "La saisie des feuilles de soins est réservée aux liquidateurs." if write
                    else "Ces pages sont réservées aux liquidateurs et aux managers."
                )
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def _today() -> dt.date:
    return timezone.localdate()


# --- Paper feuilles: queue and capture ----------------------------------------------------------------


@claims_team()
def queue(request: HttpRequest) -> HttpResponse:
    today = _today()
    from caisse.professionals.models import HealthProfessional

    pending = list(capture.captured_pending())
    people = beneficiaries_by_nir_for(request.user, {f.nir for f in pending})
    names = {p.identifiant: f"{p.prenom} {p.nom}".strip() for p in
             HealthProfessional.objects.filter(identifiant__in={f.executant for f in pending})}
    items = [(f, people.get(f.nir), (today - f.date_reception).days if f.date_reception else None, names.get(f.executant))
             for f in pending]
    return render(request, "claims/queue.html", {
        "items": items, "can_write": request.user.role in WRITERS,  # type: ignore[union-attr]
    })


@claims_team()
def lookup(request: HttpRequest) -> HttpResponse:
    """The queue's two look-ups: a person's décomptes by NIR, a professional's return by id."""
    nir = "".join((request.GET.get("nir") or "").split())
    ps = "".join((request.GET.get("ps") or "").split())
    if nir:
        person = search_beneficiaries_for(request.user, nir=nir).first()
        if person is not None:
            return redirect("claims:beneficiary", person.pk)
        messages.error(request, "Aucun bénéficiaire n'est immatriculé avec ce NIR.")
    elif ps:
        if _known_professional(ps):
            return redirect("claims:professional", ps)
        messages.error(request, "Aucun professionnel de santé ni aucune feuille ne porte cet identifiant.")
    else:
        messages.error(request, "Saisissez un NIR ou un identifiant de professionnel.")
    return redirect("claims:queue")


def _known_professional(identifiant: str) -> bool:
    """Whether the professional's return page has something to show (as its view decides)."""
    from caisse.claims.models import PayeeKind, Payment
    from caisse.professionals.models import HealthProfessional

    return (HealthProfessional.objects.filter(identifiant=identifiant).exists()
            or Feuille.objects.filter(executant=identifiant).exists()
            or Payment.objects.filter(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire=identifiant).exists())


@claims_team(write=True)
def capture_feuille(request: HttpRequest) -> HttpResponse:
    today = _today()
    form = PaperFeuilleForm(request.POST or None, nomenclature=stored_nomenclature(), today=today,
                            initial={"date_reception": today, "risque": "maladie", "parcours": "medecin_traitant"})
    if request.method == "POST" and form.is_valid():
        if not search_beneficiaries_for(request.user, nir=form.cleaned_data["nir"]).exists():
            form.add_error("nir", "Aucun bénéficiaire n'est immatriculé avec ce NIR.")
        else:
            stored = capture.capture_feuille(form.paper_feuille(), by=request.user, today=today)
            messages.success(request, f"La feuille de soins papier {stored.identifiant} est enregistrée : "
                                      "elle sera liquidée au prochain traitement quotidien.")
            return redirect("claims:queue")
    return render(request, "claims/capture.html", {"form": form, "page_title": "Saisir une feuille de soins papier"},
                  status=400 if form.is_bound and form.errors else 200)


# --- A beneficiary's décomptes and statements --------------------------------------------------------------


def processed_rows(feuilles: list[Feuille]) -> list[dict[str, Any]]:
    """Each processed feuille with its statement and the statement's amounts in euros."""
    rows = []
    for f in feuilles:
        s = documents.statement(f)
        rows.append({"f": f, "s": s, **s.money()})
    return rows


@claims_team()
def beneficiary(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_beneficiary_for(request.user, pk, purpose="consultation des décomptes de frais de santé")
    rows = processed_rows(documents.processed_for_nir(person.nir))
    dates = sorted({r["f"].date_paiement for r in rows if r["f"].date_paiement}, reverse=True)
    pending = Feuille.objects.filter(nir=person.nir, statut=FeuilleStatus.RECUE).count()
    return render(request, "claims/beneficiary.html", {
        "beneficiary": person, "rows": rows, "dates": dates, "pending": pending,
    })


@claims_team()
def statement_pdf(request: HttpRequest, pk: int, date: str) -> HttpResponse:
    person = get_beneficiary_for(request.user, pk, purpose="décompte de remboursement de frais de santé")
    return statement_download(
        request, person, date, back_url=reverse("claims:beneficiary", args=[person.pk]),
        summary="Décompte de remboursement de frais de santé du {:%d/%m/%Y}", filename=f"decompte-{person.pk}-{{:%Y%m%d}}.pdf",
    )


def statement_download(request: HttpRequest, person: Any, date: str, *, back_url: str, summary: str,
                       filename: str, viewer_nir: str | None = None) -> HttpResponse:
    """The statement (décompte) of a person's payment of ``date`` (AAAA-MM-JJ) as a PDF download,
    recorded in the person's file (``summary`` and ``filename`` are formatted with the date);
    404 for no payment that day, 503 with a French page when PDFs cannot be made here. Read by an
    assuré (``viewer_nir``), it never shows another account holder's transfer
    (:func:`documents.statement_context`)."""
    try:
        paid = dt.date.fromisoformat(date)
    except ValueError:
        raise Http404("Date de paiement invalide.") from None
    if not Feuille.objects.filter(nir=person.nir, statut=FeuilleStatus.LIQUIDEE, date_paiement=paid).exists():
        raise Http404("Aucun remboursement à cette date.")
    try:
        pdf = documents.render_statement_pdf(person, paid, viewer_nir=viewer_nir)
    except DocumentUnavailable as exc:
        return render(request, "web/unavailable.html", {"reason": str(exc), "back_url": back_url}, status=503)
    record(by=request.user, action=AuditAction.DOWNLOAD, beneficiary=person, obj=person, summary=summary.format(paid))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename.format(paid)}"'
    return response


# --- One feuille: what was received, how it was liquidated, how it was paid ---------------------------------

_LINE_AMOUNTS = (
    ("base_remboursement_cts", "Base"), ("montant_amo_cts", "Part AMO"),
    ("participation_forfaitaire_cts", "Participation forfaitaire"), ("franchise_cts", "Franchise"),
    ("forfait_actes_lourds_cts", "Forfait actes lourds"), ("forfait_journalier_cts", "Forfait journalier"),
    ("depassement_cts", "Dépassement"), ("montant_rembourse_cts", "Remboursé"),
)
_FEUILLE_AMOUNTS = (
    ("montant_rembourse_cts", "Remboursé par l'assurance maladie"), ("part_c2s_cts", "Part complémentaire santé solidaire"),
    ("paiement_ps_cts", "Payé au professionnel"), ("paiement_assure_cts", "Payé à l'assuré"),
    ("dette_creee_cts", "Dette créée (participations non déduites)"), ("dette_recuperee_cts", "Dette récupérée sur ce remboursement"),
)


def _french_date(value: Any) -> str:
    """``2025-01-31`` -> ``31/01/2025`` (anything else as received: the record may hold a bad date)."""
    try:
        return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value) if value not in (None, "") else "—"


def _feuille_lines(f: Feuille) -> list[dict[str, Any]]:
    """The received lines side by side with their liquidation (same rank), amounts in euros, each
    code with its label in the nomenclature."""
    received = [line if isinstance(line, dict) else {} for line in (f.enregistrement or {}).get("lignes") or []]
    liquidated = (f.decompte or {}).get("lignes") or []
    codes = {str(line.get("code")) for line in received if line.get("code")}
    nomenclature = stored_nomenclature().filter(pl.col("code").is_in(sorted(codes)))
    labels = dict(zip(nomenclature.get_column("code").to_list(), nomenclature.get_column("libelle").to_list(), strict=True))
    rows = []
    for rank in range(max(len(received), len(liquidated))):
        got = received[rank] if rank < len(received) else {}
        out = liquidated[rank] if rank < len(liquidated) else {}
        rows.append({
            "rang": rank + 1, "code": got.get("code") or out.get("code"), "libelle": labels.get(str(got.get("code"))),
            "date_soins": _french_date(got.get("date_soins")),
            "quantite": got.get("quantite", 1), "coefficient": got.get("coefficient", 1),
            "facture": euros(got["montant_facture_cts"]) if isinstance(got.get("montant_facture_cts"), int) else "—",
            "taux": out.get("taux"), "amounts": [euros(out[k]) if k in out else "—" for k, _ in _LINE_AMOUNTS],
            "rejets": [(code, MESSAGES.get(code, code)) for code in out.get("rejets") or []],
            "explication": out.get("explication"), "invalide": rank in (f.lignes_invalides or []),
        })
    return rows


RISQUES = {"maladie": "Maladie", "maternite": "Maternité", "atmp": "Accident du travail ou maladie professionnelle"}
PARCOURS = {
    "medecin_traitant": "Médecin traitant", "oriente": "Orienté par le médecin traitant", "hors_parcours": "Hors parcours",
    "urgence": "Urgence", "acces_direct_specifique": "Accès direct spécifique", "remplacant": "Remplaçant du médecin traitant",
    "hors_residence": "Hors résidence habituelle",
}


@claims_team()
def feuille(request: HttpRequest, pk: int) -> HttpResponse:
    """One feuille de soins: the record received, each line's liquidation and the payment. Reading
    it opens the person's file: recorded in it (access functions)."""
    from caisse.professionals.models import HealthProfessional

    f = Feuille.objects.select_related("reception", "run", "paiement").filter(pk=pk).first()
    if f is None:
        raise Http404("Feuille de soins introuvable.")
    known = beneficiaries_by_nir_for(request.user, {f.nir}).get(f.nir) if f.nir else None
    person = get_beneficiary_for(request.user, known.pk, purpose=f"consultation de la feuille de soins {f.identifiant}") \
        if known is not None else None
    record_in = f.enregistrement or {}
    decompte = f.decompte or {}
    return render(request, "claims/feuille.html", {
        "f": f, "person": person, "record": record_in, "decompte": decompte,
        "executant": HealthProfessional.objects.filter(identifiant=f.executant).first(),
        "prescripteur": record_in.get("prescripteur"),
        "risque": RISQUES.get(str(record_in.get("risque") or "maladie"), record_in.get("risque")),
        "parcours": PARCOURS.get(str(record_in.get("parcours") or "medecin_traitant"), record_in.get("parcours")),
        "lines": _feuille_lines(f), "line_headers": [label for _, label in _LINE_AMOUNTS],
        "amounts": [(label, euros(decompte[k])) for k, label in _FEUILLE_AMOUNTS if k in decompte],
        "rejets": [(code, MESSAGES.get(code, code)) for code in decompte.get("rejets") or []],
    })


@claims_team()
def feuille_lookup(request: HttpRequest) -> HttpResponse:
    """The queue's look-up of a feuille by its identifier."""
    ident = (request.GET.get("feuille") or "").strip()
    found = Feuille.objects.filter(identifiant=ident).first() if ident else None
    if found is not None:
        return redirect("claims:feuille", found.pk)
    messages.error(request, "Aucune feuille de soins reçue ne porte cet identifiant." if ident
                   else "Saisissez l'identifiant d'une feuille de soins.")
    return redirect("claims:queue")


# --- Payments: each daily run's transfers and its SEPA file ---------------------------------------------------


@claims_team()
def payments(request: HttpRequest) -> HttpResponse:
    from django.core.paginator import Paginator

    page = Paginator(finished_runs(), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    rows = payment_runs(list(page.object_list))
    for r in rows:
        r["montant_ps"] = euros(r["montant_ps_cts"])
        r["montant_assures"] = euros(r["montant_assures_cts"])
        r["total"] = euros(r["montant_ps_cts"] + r["montant_assures_cts"])
    return render(request, "claims/payments.html", {"rows": rows, "page": page})


RUNS_PER_PAGE = 30
"""Daily runs per page of the payments page (newest first, older ones on the next pages)."""


@claims_team()
def payments_sepa(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run's transfers as a SEPA credit-transfer file (pain.001.001.03), audited."""
    from caisse.claims import sepa

    run = DailyRun.objects.filter(pk=run_id, statut=RunStatus.TERMINE).first()
    if run is None:
        raise Http404("Traitement quotidien introuvable ou pas encore terminé.")
    batch = list(run.paiements.order_by("type_beneficiaire", "identifiant_beneficiaire", "pk"))
    try:
        xml, skipped = sepa.credit_transfer(batch)
    except sepa.NothingToTransfer as exc:  # no valid pain.001 without a transfer: none is offered
        messages.error(request, f"Traitement du {run.date_traitement:%d/%m/%Y} : {exc}")
        return redirect("claims:payments")
    record(by=request.user, action=AuditAction.DOWNLOAD, obj=run,
           summary=f"Fichier de virements SEPA du traitement du {run.date_traitement:%d/%m/%Y} "
                   f"({len(batch) - len(skipped)} virement(s), {len(skipped)} sans IBAN valide)")
    response = HttpResponse(xml, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="virements-{run.date_traitement:%Y%m%d}-{run.pk}.xml"'
    return response


@claims_team()
def payments_without_iban(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run's transfers that no SEPA file can carry (no valid IBAN on file): who, how much, to be
    paid otherwise once the account is known."""
    from caisse.claims.models import PayeeKind

    run = DailyRun.objects.filter(pk=run_id, statut=RunStatus.TERMINE).first()
    if run is None:
        raise Http404("Traitement quotidien introuvable ou pas encore terminé.")
    blocked = list(run.paiements.filter(iban_valide=False).order_by("type_beneficiaire", "identifiant_beneficiaire"))
    people = beneficiaries_by_nir_for(request.user, {p.identifiant_beneficiaire for p in blocked
                                                     if p.type_beneficiaire == PayeeKind.ASSURE})
    rows = [{"p": p, "montant": euros(p.montant_cts), "person": people.get(p.identifiant_beneficiaire)} for p in blocked]
    return render(request, "claims/payments_without_iban.html", {
        "run": run, "rows": rows, "total": euros(sum(p.montant_cts for p in blocked)),
    })


# --- A professional's return (NOEMIE-like) ----------------------------------------------------------------


@claims_team()
def professional(request: HttpRequest, identifiant: str) -> HttpResponse:
    period = ReturnPeriodForm.bound_to(request.GET)
    du, au = period.period()
    if not documents.professional_known(identifiant):
        raise Http404("Professionnel inconnu.")
    back = documents.professional_return(identifiant, du, au)
    return render(request, "claims/professional.html", {
        "identifiant": identifiant, "agent": True, "period": period, **back,
    }, status=400 if period.errors else 200)


# --- Processing delays ----------------------------------------------------------------------------------------


@claims_team()
def delays(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    du = au = None
    if request.GET and form.is_valid():
        du, au = form.cleaned_data.get("du"), form.cleaned_data.get("au")
    invalid = bool(request.GET) and bool(form.errors)
    rows = [] if invalid else processing_delays(du, au)
    for r in rows:
        r["d9_affiche"] = documents._num(r["d9_jours"])
        r["moyenne_affiche"] = documents._num(r["delai_moyen_jours"])
        r["mois_affiche"] = documents.month_label(r["mois"])
    # Late payments to professionals under tiers payant (CSS art. D161-13-4).
    penalties = None if invalid else late_payment_penalties(du, au)
    semesters = delay_rules.penalties_by_semester(penalties) if penalties is not None else []
    owed = delay_rules.penalties_by_professional(penalties, limit=PENALTY_ROWS) if penalties is not None else []
    for r in [*semesters, *owed]:
        r["penalites"] = euros(r["penalites_cts"])
        r["semestre_paiement_affiche"] = documents.semester_label(r["semestre_paiement"])
        r["semestre_versement_affiche"] = documents.semester_label(r["semestre_versement"])
    return render(request, "claims/delays.html", {
        "form": form, "rows": rows,
        "chart": documents.delays_chart_svg(rows) if rows else "",
        "summary": documents.delays_summary(rows) if rows else "",
        "semesters": semesters, "owed": owed, "penalty_rows": PENALTY_ROWS,
    }, status=400 if invalid else 200)


PENALTY_ROWS = 10
"""Professionals listed per semester on the delays page (the largest penalties)."""

