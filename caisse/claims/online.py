"""The online spaces of health costs.

- The assuré's reimbursements (``/mon-espace/remboursements/``): the payments with their statement
  (décompte) in PDF, and the feuilles processed or waiting; only their own file.
- The health professional's space (``/en-ligne/professionnel/``): a patient's rights on the day of
  care (as ADRi in the practice's software; the real-time API gives the same to software), and
  the caisse's return on their feuilles, payments and rejections (NOEMIE-like).

Persons are read through the access functions (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from caisse.beneficiaries.access import get_beneficiary_for, patient_for_rights_lookup
from caisse.claims import documents
from caisse.claims.models import Feuille, FeuilleStatus
from caisse.claims.views import processed_rows, statement_download
from caisse.core.money import euros
from caisse.web.decorators import member_required, professional_required


@member_required
def my_reimbursements(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    me = get_beneficiary_for(user, user.beneficiary_id, purpose="espace en ligne : mes remboursements de soins")
    rows = processed_rows(documents.processed_for_nir(me.nir))
    payments: dict[dt.date, dict[str, int]] = {}
    for row in rows:
        f, s = row["f"], row["s"]
        if f.date_paiement is not None and f.statut == FeuilleStatus.LIQUIDEE:
            paid = payments.setdefault(f.date_paiement, {"nb": 0, "assure": 0, "ps": 0})
            paid["nb"] += 1
            paid["assure"] += s.paiement_assure_cts
            paid["ps"] += s.paiement_ps_cts
    by_date = [
        {"date": d, "nb": p["nb"], "assure": euros(p["assure"]), "ps": euros(p["ps"])}
        for d, p in sorted(payments.items(), reverse=True)
    ]
    pending = Feuille.objects.filter(nir=me.nir, statut=FeuilleStatus.RECUE).count()
    return render(request, "claims/my_reimbursements.html", {
        "me": me, "payments": by_date, "rows": rows, "pending": pending,
    })


@member_required
def my_statement_pdf(request: HttpRequest, date: str) -> HttpResponse:
    user: Any = request.user
    me = get_beneficiary_for(user, user.beneficiary_id, purpose="espace en ligne : décompte de remboursement")
    return statement_download(
        request, me, date, back_url=reverse("mes_soins:remboursements"),
        summary="Décompte de remboursement du {:%d/%m/%Y} téléchargé dans l'espace en ligne",
        filename="mon-decompte-{:%Y%m%d}.pdf",
    )


@professional_required
def professional_home(request: HttpRequest) -> HttpResponse:
    from caisse.claims.forms import PatientRightsForm
    from caisse.rights.services import rights_on

    user: Any = request.user
    form = PatientRightsForm(request.GET or None)
    patient = rights = when = None
    looked_up = False
    if request.GET and form.is_valid():
        looked_up = True
        when = form.cleaned_data.get("date") or dt.date.today()
        patient = patient_for_rights_lookup(user, form.cleaned_data["nir"])
        if patient is not None:
            rights = rights_on(patient, when, enfants=False)
    identifiant = user.professional.identifiant
    return render(request, "claims/professional_home.html", {
        "form": form, "looked_up": looked_up, "patient": patient, "rights": rights,
        "when": when,
        "identifiant": identifiant, **documents.professional_return(identifiant),
    }, status=400 if request.GET and form.errors else 200)
