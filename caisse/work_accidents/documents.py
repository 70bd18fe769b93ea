"""Letters each party receives, as HTML templates rendered to PDF by WeasyPrint.

- The questionnaire letter (to the employer or to the victim): return deadline in jours francs.
- The decision letter (to the victim, to the employer): recognised, refused (with the reason)
  or implicitly recognised, and how to contest (CRA within 2 months).

The employer's letters never show medical data (lesions of the certificate).
WeasyPrint needs Pango; when it cannot load, :class:`DocumentUnavailable` carries a French
message and the view answers 503.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from caisse.core.pdf import PdfUnavailable, html_to_pdf, pdf_available
from caisse.work_accidents.enums import Recipient
from caisse.work_accidents.models import Case, Questionnaire

UNAVAILABLE_MESSAGE = (
    "La production des courriers en PDF est momentanément indisponible sur ce serveur (bibliothèque de mise en "
    "page absente). Réessayez plus tard."
)
DocumentUnavailable = PdfUnavailable
__all__ = ["DocumentUnavailable", "pdf_available"]


def _context(case: Case, recipient: str) -> dict[str, Any]:
    declaration = case.declaration
    return {
        "case": case, "declaration": declaration, "victim": declaration.victim, "employer": declaration.employer,
        "recipient": recipient, "to_employer": recipient == Recipient.EMPLOYEUR, "today": timezone.localdate(),
    }


def decision_letter_html(case: Case, recipient: Recipient) -> str:
    return render_to_string("work_accidents/letters/decision.html", _context(case, recipient))


def questionnaire_letter_html(questionnaire: Questionnaire) -> str:
    context = _context(questionnaire.case, questionnaire.destinataire)
    context["questionnaire"] = questionnaire
    return render_to_string("work_accidents/letters/questionnaire.html", context)


def decision_letter_pdf(case: Case, recipient: Recipient) -> bytes:
    return html_to_pdf(decision_letter_html(case, recipient), UNAVAILABLE_MESSAGE)


def questionnaire_letter_pdf(questionnaire: Questionnaire) -> bytes:
    return html_to_pdf(questionnaire_letter_html(questionnaire), UNAVAILABLE_MESSAGE)
