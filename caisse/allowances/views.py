"""Back-office of the IJ team: work queue, IJ file, paper arrêt, salary certificate, payment,
documents and first-payment delays.

Access: the IJ role (gestionnaire IJ) reads and acts; managers read (queue, files, delays,
documents). Every other role gets a 403. A person's file is loaded through
``beneficiaries.access`` (role check + read trace), never by the ORM directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from caisse.accounts.models import Role
from caisse.allowances import services
from caisse.allowances.documents import DocumentUnavailable, render_attestation_pdf, render_releve_pdf
from caisse.allowances.forms import (
    ArretPapierForm,
    AttestationSalaireForm,
    CapitalDecesForm,
    PaiementForm,
    PeriodeForm,
)
from caisse.allowances.models import (
    AttestationSalaire,
    DemandeCapitalDeces,
    DossierIJ,
    Piece,
    StatutDossier,
    StatutPeriode,
)
from caisse.beneficiaries.access import get_beneficiary_for, search_beneficiaries_for
from caisse.core.audit import record
from caisse.core.models import AuditAction
from caisse.professionals.models import Employer

View = Callable[..., HttpResponse]
READERS = frozenset({Role.GESTIONNAIRE_IJ, Role.MANAGER})
WRITERS = frozenset({Role.GESTIONNAIRE_IJ})


def ij_team(*, write: bool = False) -> Callable[[View], View]:
    """Signed in first (redirect), then the IJ role, or a manager for reading (403 otherwise)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            allowed = WRITERS if write else READERS
            if not user.is_active or user.role not in allowed:
                raise PermissionDenied(
                    "Cette action est réservée aux gestionnaires IJ."
                    if write else "Ces pages sont réservées aux gestionnaires IJ et aux managers."
                )
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def _dossier_for(request: HttpRequest, pk: int, purpose: str) -> DossierIJ:
    dossier = get_object_or_404(DossierIJ, pk=pk)
    dossier.beneficiaire = get_beneficiary_for(request.user, dossier.beneficiaire_id, purpose=purpose)
    return dossier


def _months_before(start: dt.date, count: int = 12) -> list[str]:
    index = start.year * 12 + start.month - 1
    return [f"{(index - k) // 12:04d}-{(index - k) % 12 + 1:02d}" for k in range(1, count + 1)]


# --- Work queue ---------------------------------------------------------------------------------------


@ij_team()
def queue(request: HttpRequest) -> HttpResponse:
    etat = request.GET.get("etat", StatutDossier.ATTENTE_PIECES)
    if etat not in (StatutDossier.ATTENTE_PIECES, StatutDossier.CALCULE, StatutDossier.EN_PAIEMENT):
        etat = StatutDossier.ATTENTE_PIECES
    items = services.file_attente(statut=etat)
    tabs = [(s, StatutDossier(s).label, DossierIJ.objects.filter(statut=s).count())
            for s in (StatutDossier.ATTENTE_PIECES, StatutDossier.CALCULE, StatutDossier.EN_PAIEMENT)]
    return render(request, "allowances/queue.html", {
        "items": items, "etat": etat, "cible": services.cible_moyenne_assure(dt.date.today()), "etat_label": StatutDossier(etat).label, "tabs": tabs,
        "can_write": request.user.role in WRITERS,  # type: ignore[union-attr]
    })


# --- The IJ file --------------------------------------------------------------------------------------


@ij_team()
def dossier(request: HttpRequest, pk: int) -> HttpResponse:
    d = _dossier_for(request, pk, "consultation du dossier d'indemnités journalières")
    periods = list(d.periodes.select_related("paiement", "employeur", "arret").order_by("debut"))
    return render(request, "allowances/dossier.html", {
        "d": d, "beneficiary": d.beneficiaire,
        "arrets": list(d.arrets.select_related("employeur", "prescripteur").order_by("date_debut")),
        "attestations": [
            (a, list(a.lignes.order_by("-mois")))
            for a in AttestationSalaire.objects.filter(arret__dossier=d)
            .select_related("employeur", "arret").order_by("date_reception")
        ],
        "periodes": periods,
        "a_payer_cts": sum(p.montant_cts for p in periods if p.statut == StatutPeriode.CALCULEE),
        "paye_cts": sum(p.montant_cts for p in periods if p.statut == StatutPeriode.PAYEE),
        "paiements": list(d.paiements.select_related("employeur").order_by("date_paiement", "debut")),
        "pieces": [Piece(p).label for p in d.pieces_manquantes],
        "can_write": request.user.role in WRITERS,  # type: ignore[union-attr]
        "pay_form": PaiementForm(initial={"jusqu_au": dt.date.today(), "date_paiement": dt.date.today()}),
    })


def _form_page(request: HttpRequest, form: Any, *, title: str, submit: str, cancel_url: str,
               beneficiary: Any = None, intro: str = "") -> HttpResponse:
    return render(request, "web/form_page.html", {
        "form": form, "page_title": title, "submit": submit, "cancel_url": cancel_url,
        "beneficiary": beneficiary, "intro": intro,
    }, status=400 if form.is_bound and form.errors else 200)


@ij_team(write=True)
def arret_papier(request: HttpRequest) -> HttpResponse:
    form = ArretPapierForm(request.POST or None, initial={"volet_complet": True, "date_reception": dt.date.today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = search_beneficiaries_for(request.user, nir=data["nir"]).first()
        employer = Employer.objects.filter(siret=data["siret"]).first() if data["siret"] else None
        if person is None:
            form.add_error("nir", "Aucun assuré n'est immatriculé avec ce NIR.")
        elif data["siret"] and employer is None:
            form.add_error("siret", "Aucun employeur connu avec ce SIRET.")
        else:
            try:
                arret, created = services.recevoir_arret(
                    identifiant_externe=data["identifiant"], beneficiaire=person, risque=data["risque"],
                    date_debut=data["date_debut"], date_fin=data["date_fin"], date_reception=data["date_reception"],
                    canal=ArretPapierForm.canal, prolongation=data["prolongation"], employeur=employer,
                    ald=data["ald"], volet_complet=data["volet_complet"],
                    date_accouchement=data["date_accouchement"], enfants_a_charge=data["enfants_a_charge"],
                    naissance_multiple=data["naissance_multiple"], by=request.user,
                )
            except ValidationError as exc:
                form.add_validation_error(exc)
            else:
                if created:
                    messages.success(request, "L'avis d'arrêt est enregistré.")
                else:
                    messages.info(request, "Cet avis d'arrêt avait déjà été reçu : rien n'a été modifié.")
                return redirect("allowances:dossier", arret.dossier_id)
    return _form_page(request, form, title="Saisir un avis d'arrêt papier", submit="Enregistrer l'arrêt",
                      cancel_url=reverse("allowances:queue"))


@ij_team(write=True)
def attestation_salaire(request: HttpRequest, pk: int) -> HttpResponse:
    d = _dossier_for(request, pk, "saisie d'une attestation de salaire")
    head = d.arrets.filter(arret_initial__isnull=True).order_by("date_debut").first() or d.arrets.first()
    if head is None:
        raise PermissionDenied("Ce dossier ne comporte aucun arrêt.")
    form = AttestationSalaireForm(request.POST or None, months=_months_before(head.date_debut),
                                  initial={"date_reception": dt.date.today(),
                                           "siret": head.employeur.siret if head.employeur else ""})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        employer = Employer.objects.filter(siret=data["siret"]).first()
        if employer is None:
            form.add_error("siret", "Aucun employeur connu avec ce SIRET.")
        else:
            try:
                _, created = services.recevoir_attestation_salaire(
                    arret=head, employeur=employer, date_reception=data["date_reception"],
                    lignes=[services.Salaire(m, b, h) for m, b, h in form.lines()],
                    subrogation=data["subrogation"], subrogation_debut=data["subrogation_debut"],
                    subrogation_fin=data["subrogation_fin"],
                    salaire_maintenu_journalier_cts=(
                        int(data["salaire_maintenu"] * 100) if data["salaire_maintenu"] is not None else None
                    ),
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_validation_error(exc)
            else:
                messages.success(request, "L'attestation de salaire est enregistrée." if created
                                 else "Cette attestation était déjà enregistrée : rien n'a changé.")
                return redirect("allowances:dossier", d.pk)
    return _form_page(
        request, form, title="Saisir l'attestation de salaire", submit="Enregistrer l'attestation",
        cancel_url=reverse("allowances:dossier", args=[d.pk]), beneficiary=d.beneficiaire,
        intro=f"Salaires des 12 mois civils précédant l'arrêt du {head.date_debut:%d/%m/%Y}, en euros.",
    )


@require_POST
@ij_team(write=True)
def calculer(request: HttpRequest, pk: int) -> HttpResponse:
    d = _dossier_for(request, pk, "calcul du dossier d'indemnités journalières")
    d = services.actualiser_dossier(d, by=request.user)
    if d.statut == StatutDossier.ATTENTE_PIECES:
        messages.error(request, "Le dossier n'est pas complet : " + ", ".join(Piece(p).label for p in d.pieces_manquantes) + ".")
    else:
        messages.success(request, "Les indemnités journalières ont été recalculées.")
    return redirect("allowances:dossier", d.pk)


@ij_team(write=True)
def payer(request: HttpRequest, pk: int) -> HttpResponse:
    d = _dossier_for(request, pk, "paiement des indemnités journalières")
    form = PaiementForm(request.POST or None, initial={"jusqu_au": dt.date.today(), "date_paiement": dt.date.today()})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                payments = services.payer(jusqu_au=form.cleaned_data["jusqu_au"],
                                          date_paiement=form.cleaned_data["date_paiement"], dossier=d, by=request.user)
        except ValidationError as exc:
            form.add_validation_error(exc)
        else:
            if payments:
                messages.success(request, f"{len(payments)} paiement(s) émis.")
            else:
                messages.info(request, "Aucun jour à payer jusqu'à cette date : rien n'a été payé.")
            return redirect("allowances:dossier", d.pk)
    return _form_page(request, form, title="Payer les indemnités journalières", submit="Payer",
                      cancel_url=reverse("allowances:dossier", args=[d.pk]), beneficiary=d.beneficiaire)


# --- Documents -------------------------------------------------------------------------------------------


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@ij_team()
def releve(request: HttpRequest, pk: int) -> HttpResponse:
    d = _dossier_for(request, pk, "relevé d'indemnités journalières")
    try:
        pdf = render_releve_pdf(d)
    except DocumentUnavailable as exc:
        return render(request, "web/unavailable.html", {
            "reason": str(exc), "back_url": reverse("allowances:dossier", args=[d.pk])}, status=503)
    record(by=request.user, action=AuditAction.DOWNLOAD, summary="Relevé d'indemnités journalières",
           beneficiary=d.beneficiaire, obj=d)
    return _pdf_response(pdf, f"releve-ij-{d.pk}.pdf")


@ij_team()
def attestation(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_beneficiary_for(request.user, pk, purpose="attestation d'indemnités journalières")
    form = PeriodeForm(request.GET or None)
    if request.GET and form.is_valid():
        du, au = form.cleaned_data["du"], form.cleaned_data["au"]
        try:
            pdf = render_attestation_pdf(beneficiary, du, au)
        except DocumentUnavailable as exc:
            return render(request, "web/unavailable.html", {"reason": str(exc), "back_url": request.path}, status=503)
        record(by=request.user, action=AuditAction.DOWNLOAD, beneficiary=beneficiary, obj=beneficiary,
               summary=f"Attestation d'IJ payées du {du:%d/%m/%Y} au {au:%d/%m/%Y}")
        return _pdf_response(pdf, f"attestation-ij-{beneficiary.pk}-{du:%Y%m%d}-{au:%Y%m%d}.pdf")
    return render(request, "allowances/attestation_form.html", {
        "form": form, "beneficiary": beneficiary, "page_title": "Attestation d'indemnités journalières payées",
    }, status=400 if request.GET and form.errors else 200)


# --- Delays -----------------------------------------------------------------------------------------------


@ij_team()
def delais(request: HttpRequest) -> HttpResponse:
    today = dt.date.today()
    default_start = dt.date(today.year, 1, 1)
    form = PeriodeForm(request.GET or None, initial={"du": default_start, "au": today})
    du, au = default_start, today
    if request.GET and form.is_valid():
        du, au = form.cleaned_data["du"], form.cleaned_data["au"]
    lines = services.delais_premier_paiement(du, au) if not (request.GET and form.errors) else []
    return render(request, "allowances/delais.html", {
        "form": form, "lines": lines, "du": du, "au": au,
        "point_depart": services.point_depart(au),
    }, status=400 if request.GET and form.errors else 200)



# --- Capital décès ------------------------------------------------------------------------------------------


@ij_team()
def capital_deces_list(request: HttpRequest) -> HttpResponse:
    claims = DemandeCapitalDeces.objects.select_related("defunt").order_by("-date_demande", "-pk")[:200]
    return render(request, "allowances/capital_deces_list.html", {
        "claims": claims, "can_write": request.user.role in WRITERS,  # type: ignore[union-attr]
    })


@ij_team(write=True)
def capital_deces_new(request: HttpRequest) -> HttpResponse:
    form = CapitalDecesForm(request.POST or None, initial={"date_demande": dt.date.today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        defunt = search_beneficiaries_for(request.user, nir=data["nir"]).first()
        if defunt is None:
            form.add_error("nir", "Aucun assuré n'est immatriculé avec ce NIR.")
        elif data["date_deces"] is None and defunt.date_deces is None:
            form.add_error("date_deces", "Le décès n'est pas enregistré au dossier : indiquez sa date.")
        else:
            try:
                demande = services.deposer_capital_deces(
                    defunt=defunt, date_demande=data["date_demande"], condition_activite=data["condition_activite"],
                    ayants_droit=form.ayants_droit(), date_deces=data["date_deces"], by=request.user,
                )
            except ValidationError as exc:
                form.add_validation_error(exc)
            else:
                messages.success(request, "La demande de capital décès est enregistrée.")
                return redirect("allowances:capital_deces", demande.pk)
    return _form_page(request, form, title="Enregistrer une demande de capital décès", submit="Enregistrer la demande",
                      cancel_url=reverse("allowances:capital_deces_list"))


@ij_team()
def capital_deces(request: HttpRequest, pk: int) -> HttpResponse:
    demande = get_object_or_404(DemandeCapitalDeces, pk=pk)
    demande.defunt = get_beneficiary_for(request.user, demande.defunt_id, purpose="consultation d'une demande de capital décès")
    return render(request, "allowances/capital_deces.html", {
        "demande": demande, "beneficiary": demande.defunt, "ayants_droit": list(demande.ayants_droit.all()),
        "can_write": request.user.role in WRITERS,  # type: ignore[union-attr]
    })


@require_POST
@ij_team(write=True)
def capital_deces_decider(request: HttpRequest, pk: int) -> HttpResponse:
    demande = get_object_or_404(DemandeCapitalDeces, pk=pk)
    demande.defunt = get_beneficiary_for(request.user, demande.defunt_id, purpose="décision de capital décès")
    demande = services.decider_capital_deces(demande, by=request.user)
    messages.success(request, f"Décision : {demande.get_statut_display().lower()}.")
    return redirect("allowances:capital_deces", demande.pk)
