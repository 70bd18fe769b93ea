"""HTML to PDF with WeasyPrint, for every document Caisse hands out.

WeasyPrint needs Pango. When it cannot load, :class:`PdfUnavailable` carries a French message and
the views answer 503; :func:`pdf_available` lets the tests skip with the reason.
"""

from __future__ import annotations

from functools import cache
from typing import Any

UNAVAILABLE_MESSAGE = (
    "La production des documents en PDF est momentanément indisponible sur ce serveur "
    "(bibliothèque de mise en page absente). Réessayez plus tard."
)


class PdfUnavailable(RuntimeError):
    pass


@cache
def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(UNAVAILABLE_MESSAGE) from exc
    return weasyprint


def pdf_available() -> tuple[bool, str]:
    """Whether WeasyPrint loads here, and why not."""
    try:
        _weasyprint()
    except PdfUnavailable as exc:
        return False, f"WeasyPrint ne se charge pas : {exc.__cause__}"
    return True, ""


def html_to_pdf(html: str, unavailable_message: str = UNAVAILABLE_MESSAGE) -> bytes:
    try:
        weasyprint = _weasyprint()
    except PdfUnavailable as exc:
        raise PdfUnavailable(unavailable_message) from exc.__cause__
    return bytes(weasyprint.HTML(string=html).write_pdf())
