"""Attestation de droits: an HTML template rendered to PDF by WeasyPrint.

It states the rights open on the day (base rights, C2S, AME, exoneration) and never a
diagnosis: an ALD shows as "exonération du ticket modérateur", nothing more. WeasyPrint needs
Pango; when it cannot load, :class:`AttestationUnavailable` carries a French message for a 503.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.template.loader import render_to_string

from caisse.rights.services import RightsOnDay

UNAVAILABLE_MESSAGE = (
    "La production des attestations en PDF est momentanément indisponible sur ce serveur "
    "(bibliothèque de mise en page absente). Réessayez plus tard ; en cas d'urgence, un agent d'accueil "
    "peut vous remettre une attestation papier."
)


class AttestationUnavailable(RuntimeError):
    pass


@cache
def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        raise AttestationUnavailable(UNAVAILABLE_MESSAGE) from exc
    return weasyprint


def pdf_available() -> tuple[bool, str]:
    """Whether WeasyPrint loads here, and why not (used by the tests to skip with a reason)."""
    try:
        _weasyprint()
    except AttestationUnavailable as exc:
        return False, f"WeasyPrint ne se charge pas : {exc.__cause__}"
    return True, ""


def render_attestation_html(rights: RightsOnDay) -> str:
    return render_to_string("rights/attestation.html", {"rights": rights, "b": rights.beneficiary})


def render_attestation_pdf(rights: RightsOnDay) -> bytes:
    weasyprint = _weasyprint()
    html = render_attestation_html(rights)
    return bytes(weasyprint.HTML(string=html).write_pdf())
