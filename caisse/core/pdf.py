"""HTML to PDF with WeasyPrint, for every document Caisse hands out.

Every PDF is written as PDF/UA-1 (ISO 14289, accessibility; RGAA asks that documents handed out be
accessible): tagged structure (headings, paragraphs, tables with their header cells) that a screen
reader follows, the language of the page's ``<html lang>``, the ``<title>`` shown as the window
title, fonts embedded. A template therefore gives ``lang="fr"``, a ``<title>``, real headings and
``<th scope>`` headers, and an ``alt`` to any image.

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


PDF_VARIANT = "pdf/ua-1"


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
    return bytes(weasyprint.HTML(string=html).write_pdf(pdf_variant=PDF_VARIANT))
