"""The online spaces of health costs.

- The assuré's reimbursements (``/mon-espace/remboursements/``): the payments with their statement
  (décompte) in PDF, and the feuilles processed or waiting; their own file, and the files of the
  minor children attached to them (whose reimbursements are paid to their ouvrant droit), each
  labelled with the child's name.
- The health professional's space (``/en-ligne/professionnel/``): a patient's rights on the day of
  care (as ADRi in the practice's software; the real-time API gives the same to software), and
  the caisse's return on their feuilles, payments and rejections (NOEMIE-like).

Persons are read through the access functions (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from caisse.beneficiaries.access import (
    AccessDenied,
    get_beneficiary_for,
    minor_children_ids,
    patient_for_rights_lookup,
)
from caisse.claims import documents
from caisse.claims.models import Feuille, FeuilleStatus, PayeeKind
from caisse.claims.views import processed_rows, statement_download
from caisse.core.money import euros
from caisse.web.decorators import member_required, professional_required


def _compte(f: Feuille, me: Any) -> str:
    """Where the assuré's part of a feuille was paid, as the member reads it ("" for their own
    feuille paid on their own account, the usual case)."""
    p = f.paiement
    if p is None or p.type_beneficiaire != PayeeKind.ASSURE:
        return ""
    if p.identifiant_beneficiaire == me.nir:
        return "" if f.nir == me.nir else "sur mon compte"
    if p.identifiant_beneficiaire == f.nir:
        return "sur le compte de l'enfant"
    return "sur un autre compte"


@member_required
def my_reimbursements(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    me = get_beneficiary_for(user, user.beneficiary_id, purpose="espace en ligne : mes remboursements de soins")
    children = [
        get_beneficiary_for(user, pk, purpose="espace en ligne : remboursements de soins consultés par le parent")
        for pk in minor_children_ids(me)
    ]
    groups = []
    payments: dict[tuple[dt.date, int], dict[str, Any]] = {}
    pending = []
    for rank, person in enumerate([me, *children]):
        feuilles = list(
            Feuille.objects.filter(nir=person.nir).exclude(statut=FeuilleStatus.RECUE)
            .select_related("run", "paiement").order_by("-date_reception", "identifiant")
        )
        rows = processed_rows(feuilles)
        for row in rows:
            f, s = row["f"], row["s"]
            row["compte"] = _compte(f, me) if s.paiement_assure_cts else ""
            if f.date_paiement is not None and f.statut == FeuilleStatus.LIQUIDEE:
                paid = payments.setdefault((f.date_paiement, rank), {
                    "date": f.date_paiement, "person": person, "self": rank == 0,
                    "nb": 0, "mine": 0, "other": 0, "ps": 0, "retenu": 0})
                paid["nb"] += 1
                paid["mine" if row["compte"] in ("", "sur mon compte") else "other"] += s.paiement_assure_cts
                paid["ps"] += s.paiement_ps_cts
                paid["retenu"] += s.dette_recuperee_cts
        groups.append({"person": person, "self": rank == 0, "rows": rows, "id": f"feuilles-{rank}"})
        waiting = Feuille.objects.filter(nir=person.nir, statut=FeuilleStatus.RECUE).count()
        if waiting:
            pending.append({"person": person, "self": rank == 0, "nb": waiting})
    by_date = []
    for (_, _rank), p in sorted(payments.items(), key=lambda kv: (-kv[0][0].toordinal(), kv[0][1])):
        url = reverse("mes_soins:decompte", args=[p["date"].isoformat()])
        by_date.append({
            **p, "assure": euros(p["mine"]), "autre": euros(p["other"]) if p["other"] else "",
            "ps": euros(p["ps"]), "retenu": euros(p["retenu"]),
            "url": url if p["self"] else f"{url}?enfant={p['person'].pk}",
        })
    return render(request, "claims/my_reimbursements.html", {
        "me": me, "children": children, "payments": by_date, "groups": groups,
        "pending": pending, "pending_total": sum(p["nb"] for p in pending),
        "dette_recuperee_note": documents.DETTE_RECUPEREE_NOTE, "dette_creee_note": documents.DETTE_CREEE_NOTE,
    })


@member_required
def my_statement_pdf(request: HttpRequest, date: str) -> HttpResponse:
    """The statement of a payment date: the member's own, or with ``?enfant=<id>`` that of a minor
    child attached to them (anyone else: 403, as for every file the member may not see)."""
    user: Any = request.user
    me = get_beneficiary_for(user, user.beneficiary_id, purpose="espace en ligne : décompte de remboursement")
    child = request.GET.get("enfant")
    if child is None:
        person, summary = me, "Décompte de remboursement du {:%d/%m/%Y} téléchargé dans l'espace en ligne"
        filename = "mon-decompte-{:%Y%m%d}.pdf"
    else:
        try:
            pk = int(child)
        except ValueError:
            raise Http404("Enfant inconnu.") from None
        if pk not in minor_children_ids(me):
            raise AccessDenied("Vous n'avez pas accès à ce dossier.")
        person = get_beneficiary_for(user, pk, purpose="espace en ligne : décompte de remboursement d'un enfant rattaché")
        summary = "Décompte de remboursement du {:%d/%m/%Y} téléchargé par un parent dans l'espace en ligne"
        filename = f"decompte-enfant-{person.pk}-{{:%Y%m%d}}.pdf"
    return statement_download(request, person, date, back_url=reverse("mes_soins:remboursements"), summary=summary,
                              filename=filename, viewer_nir=me.nir)


@professional_required
def professional_home(request: HttpRequest) -> HttpResponse:
    from caisse.claims.forms import PatientRightsForm, ReturnPeriodForm
    from caisse.rights.services import rights_on

    user: Any = request.user
    form = PatientRightsForm(request.GET if "nir" in request.GET or "date" in request.GET else None)
    period = ReturnPeriodForm.bound_to(request.GET)
    patient = rights = when = None
    looked_up = False
    if form.is_bound and form.is_valid():
        looked_up = True
        when = form.cleaned_data.get("date") or dt.date.today()
        patient = patient_for_rights_lookup(user, form.cleaned_data["nir"])
        if patient is not None:
            rights = rights_on(patient, when, enfants=False)
    identifiant = user.professional.identifiant
    return render(request, "claims/professional_home.html", {
        "form": form, "looked_up": looked_up, "patient": patient, "rights": rights,
        "when": when, "future": when is not None and when > dt.date.today(),
        "identifiant": identifiant, "period": period, **documents.professional_return(identifiant, *period.period()),
    }, status=400 if form.errors or period.errors else 200)
