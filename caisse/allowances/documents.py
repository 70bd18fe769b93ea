"""The assuré's relevé d'indemnités journalières and the attestation of IJ paid over a period.

HTML templates rendered to PDF by WeasyPrint. Neither document names a diagnosis: an arrêt shows
its risk and dates only. When WeasyPrint cannot load (no Pango), :class:`DocumentUnavailable`
carries a French message for a 503.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.template.loader import render_to_string

from caisse.allowances.models import DossierIJ, StatutPeriode
from caisse.allowances.services import ij_payees
from caisse.beneficiaries.models import Beneficiary
from caisse.core.pdf import PdfUnavailable, html_to_pdf, pdf_available

DocumentUnavailable = PdfUnavailable
_pdf = html_to_pdf
__all__ = ["DocumentUnavailable", "pdf_available"]


def releve_context(dossier: DossierIJ, today: dt.date | None = None) -> dict[str, Any]:
    periods = list(dossier.periodes.select_related("paiement", "employeur").order_by("debut"))
    paid = [p for p in periods if p.statut == StatutPeriode.PAYEE]
    return {
        "dossier": dossier,
        "b": dossier.beneficiaire,
        "arrets": list(dossier.arrets.order_by("date_debut")),
        "periodes": paid,
        "a_payer": [p for p in periods if p.statut == StatutPeriode.CALCULEE],
        "total_cts": sum(p.montant_cts for p in paid),
        "jours": sum(p.jours for p in paid),
        "today": today or dt.date.today(),
    }


def render_releve_html(dossier: DossierIJ, today: dt.date | None = None) -> str:
    return render_to_string("allowances/releve.html", releve_context(dossier, today))


def render_releve_pdf(dossier: DossierIJ, today: dt.date | None = None) -> bytes:
    return _pdf(render_releve_html(dossier, today))


def attestation_context(beneficiaire: Beneficiary, du: dt.date, au: dt.date, today: dt.date | None = None) -> dict[str, Any]:
    periods = ij_payees(beneficiaire, du, au)
    return {
        "b": beneficiaire, "du": du, "au": au, "periodes": periods,
        "total_cts": sum(p.montant_cts for p in periods), "jours": sum(p.jours for p in periods),
        "today": today or dt.date.today(),
    }


def render_attestation_html(beneficiaire: Beneficiary, du: dt.date, au: dt.date, today: dt.date | None = None) -> str:
    return render_to_string("allowances/attestation_ij.html", attestation_context(beneficiaire, du, au, today))


def render_attestation_pdf(beneficiaire: Beneficiary, du: dt.date, au: dt.date, today: dt.date | None = None) -> bytes:
    return _pdf(render_attestation_html(beneficiaire, du, au, today))
