"""Reading the PDFs Caisse writes, for the tests: their objects once decompressed (WeasyPrint
packs them into Flate streams) and the marks of PDF/UA-1 (:mod:`caisse.core.pdf`)."""

from __future__ import annotations

import re
import zlib


def pdf_objects(pdf: bytes) -> bytes:
    """The file and every Flate stream it holds, decompressed, end to end."""
    chunks = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(chunks)


def assert_accessible_pdf(pdf: bytes) -> None:
    """A PDF/UA-1 document in French: tagged (structure tree, MarkInfo), language fr, title shown
    as the window title, PDF/UA identification in its XMP metadata."""
    objects = pdf_objects(pdf)
    assert pdf.startswith(b"%PDF")
    assert b"/StructTreeRoot" in objects and b"/MarkInfo" in objects, "PDF non balisé"
    assert re.search(rb"/Lang\s*\(fr\)", objects), "langue du document absente"
    assert b"/DisplayDocTitle true" in objects, "titre du document non affiché"
    assert b"pdfuaid:part" in objects, "identification PDF/UA absente"
    for kind in (rb"/H1", rb"/P\b"):
        assert re.search(rb"/S\s*" + kind, objects), f"balise {kind.decode()} absente"
