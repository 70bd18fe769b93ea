"""Attestation de droits: an HTML template rendered to PDF by WeasyPrint.

It states the rights open on the day (base rights, C2S, AME, exoneration) and never a
diagnosis: an ALD shows as "exonération du ticket modérateur", nothing more. WeasyPrint needs
Pango; when it cannot load, :class:`AttestationUnavailable` carries a French message for a 503.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from caisse.core.pdf import PdfUnavailable, html_to_pdf, pdf_available
from caisse.rights.services import RightsOnDay

__all__ = ["AttestationUnavailable", "pdf_available", "render_attestation_html", "render_attestation_pdf"]

UNAVAILABLE_MESSAGE = (
    "La production des attestations en PDF est momentanément indisponible sur ce serveur "
    "(bibliothèque de mise en page absente). Réessayez plus tard ; en cas d'urgence, un agent d'accueil "
    "peut vous remettre une attestation papier."
)


AttestationUnavailable = PdfUnavailable


def render_attestation_html(rights: RightsOnDay) -> str:
    return render_to_string("rights/attestation.html", {"rights": rights, "b": rights.beneficiary})


def render_attestation_pdf(rights: RightsOnDay) -> bytes:
    return html_to_pdf(render_attestation_html(rights), UNAVAILABLE_MESSAGE)
