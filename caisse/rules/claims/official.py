"""Nomenclature rows from the official files, in the contract's shape.

The medicines' rate is attached to the product, the presentation's CIP13 code (rules.md A.2):
:func:`read_bdpm_presentations` reads the presentations file of the *Base de données publique des
médicaments* (``CIS_CIP_bdpm.txt``, published by the ANSM, tab-separated, no header) into
nomenclature rows: the CIP13 as the code, the rate as the category (``medicament_100``,
``medicament_65``, ``medicament_30``, ``medicament_15``) and the medicine's price as the tariff,
in force from the date the caller gives (the file holds today's prices only, with no history).

Columns of ``CIS_CIP_bdpm.txt`` read here (1-based): 3 the presentation's label, 4 its
administrative status, 7 the CIP13, 9 the reimbursement rate (``65%``, ``65 %``…), 10 the
medicine's price in euros (``2,18``, ``1 150,40``, ``1,150,40``). Columns after 10 (total price
with the dispensing fees, the fees, the indications) are not read: the dispensing fees are
billed as their own lines. A presentation that is abrogated, not reimbursed (no rate, or a rate
that is none of the four) or without a price is left out and counted in the report.

:func:`nomenclature_records` writes any nomenclature frame back as the contract's NDJSON rows
(``{code, libelle, categorie, tarif_cts, debut, fin}``), the file ``caisse liquider`` reads in a
référentiel folder and ``caisse importer`` stores.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import polars as pl

from caisse.batch_io import UnreadableFile
from caisse.rules.claims.nomenclature import FAR_FUTURE, SCHEMA

RATE_CATEGORIES = {100: "medicament_100", 65: "medicament_65", 30: "medicament_30", 15: "medicament_15"}
_RATE = re.compile(r"(\d+)\s*%")
_SPACES = re.compile(r"[\s\u00a0\u202f]")
_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]*)?")


@dataclass
class BdpmReport:
    """What :func:`read_bdpm_presentations` kept and left out (reason → count)."""

    kept: int = 0
    left_out: Counter[str] = field(default_factory=Counter)


def parse_price_cts(raw: str) -> int | None:
    """A BDPM price in euros as cents: ``2,18`` → 218; thousands may be grouped by a space or a
    comma (``1 150,40``, ``1,150,40`` → 115040); the last comma is the decimal one. None when it
    is no price."""
    text = _SPACES.sub("", raw or "").replace(".", ",")
    if not text:
        return None
    if "," in text:
        whole, _, decimals = text.rpartition(",")
        text = whole.replace(",", "") + "." + decimals
    if not _AMOUNT.fullmatch(text):
        return None
    return int((Decimal(text) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_rate(raw: str) -> int | None:
    """The first percentage of a BDPM rate field (``65%``, ``65 %``, ``100 %;65 %``)."""
    match = _RATE.search(raw or "")
    return int(match.group(1)) if match else None


def _lines(path: Path) -> Iterator[str]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"Fichier illisible : {path} ({exc.strerror or exc}).") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # the older files are in Windows-1252
    for line in text.splitlines():
        if line.strip():
            yield line


def read_bdpm_presentations(path: Path, debut: dt.date) -> tuple[pl.DataFrame, BdpmReport]:
    """Nomenclature rows (:data:`~caisse.rules.claims.nomenclature.SCHEMA`) of the reimbursed
    presentations of ``CIS_CIP_bdpm.txt``, priced from ``debut``; and what was left out."""
    report = BdpmReport()
    rows: dict[str, dict[str, Any]] = {}
    for n, line in enumerate(_lines(path), start=1):
        fields = line.split("\t")
        if len(fields) < 10:
            if n == 1:
                raise UnreadableFile(
                    f"{path} : ce n'est pas le fichier des présentations de la base des médicaments "
                    "(CIS_CIP_bdpm.txt, au moins dix colonnes séparées par des tabulations)."
                )
            report.left_out["ligne incomplète"] += 1
            continue
        cip13 = fields[6].strip()
        if not (len(cip13) == 13 and cip13.isdigit()):
            report.left_out["code CIP13 invalide"] += 1
        elif "abrog" in fields[3].lower():
            report.left_out["présentation abrogée"] += 1
        elif (rate := parse_rate(fields[8])) not in RATE_CATEGORIES:
            report.left_out["non remboursable (taux absent ou inconnu)"] += 1
        elif (price := parse_price_cts(fields[9])) is None:
            report.left_out["sans prix"] += 1
        else:
            if cip13 in rows:
                report.left_out["code CIP13 répété (dernière ligne retenue)"] += 1
            rows[cip13] = {
                "code": cip13, "libelle": fields[2].strip()[:300], "categorie": RATE_CATEGORIES[rate],
                "tarif_cts": price, "debut": debut, "fin": FAR_FUTURE,
            }
    report.kept = len(rows)
    return pl.DataFrame(list(rows.values()), schema=SCHEMA).sort("code"), report


def nomenclature_records(nomenclature: pl.DataFrame) -> Iterator[dict[str, Any]]:
    """The contract's NDJSON rows of a nomenclature frame (an open end is written as null)."""
    for row in nomenclature.sort("code", "debut").iter_rows(named=True):
        yield {
            "code": row["code"],
            "libelle": row["libelle"],
            "categorie": row["categorie"],
            "tarif_cts": row["tarif_cts"],
            "debut": row["debut"].isoformat(),
            "fin": None if row["fin"] is None or row["fin"] >= FAR_FUTURE else row["fin"].isoformat(),
        }
