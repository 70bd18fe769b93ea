"""Contract records (dicts, as read from NDJSON) <-> the engine's Polars frames.

Reading never fails on a bad record: a field of the wrong type or a malformed date becomes null
and the record is flagged ``_invalide``, so that the engine rejects it with
``DONNEE_INVALIDE`` while keeping exactly one output record per input record.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from caisse.rules.claims import explain
from caisse.rules.claims.engine import FEUILLE_COLUMNS, LIGNE_COLUMNS

_STR_FIELDS = ("id", "type", "nir", "executant", "prescripteur", "risque", "parcours", "carte_vitale")


def _date(raw: Any) -> tuple[dt.date | None, bool]:
    """(date, ok). A missing value is (None, True) — required-ness is checked by the engine.
    Only the contract's ``YYYY-MM-DD`` is a date (Python also reads ``20250604`` or week dates;
    the Parquet reader does not, and both readers must agree)."""
    if raw is None:
        return None, True
    if not isinstance(raw, str) or len(raw) != 10 or raw[4] != "-" or raw[7] != "-":
        return None, False
    try:
        return dt.date.fromisoformat(raw), True
    except ValueError:
        return None, False


_INT64 = (-(1 << 63), (1 << 63) - 1)


def integer_id(value: Any) -> int | None:
    """A feuille id given as an integer, within Int64 (``_id_entier``: such ids are ordered as
    numbers, engine.processing_keys); None for any other id."""
    return value if type(value) is int and _INT64[0] <= value <= _INT64[1] else None


def _int(raw: Any) -> tuple[int | None, bool]:
    """(integer, ok): an integer, or a float with an integral value, within Int64 (a larger
    number is a bad value of this record, not a reason to stop the batch)."""
    if raw is None:
        return None, True
    if isinstance(raw, bool):
        return None, False
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int) and _INT64[0] <= raw <= _INT64[1]:
        return raw, True
    return None, False


def _float(raw: Any) -> tuple[float | None, bool]:
    """(number, ok): a finite number (JSON's ``NaN`` and ``Infinity``, which Python reads, are
    bad values)."""
    if raw is None:
        return None, True
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None, False
    try:
        value = float(raw)
    except OverflowError:
        return None, False
    return (value, True) if math.isfinite(value) else (None, False)


def frames_from_records(records: Sequence[dict[str, Any] | None]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(feuilles, lignes) frames for :func:`caisse.rules.claims.engine.liquidate`."""
    fcols: dict[str, list[Any]] = {name: [] for name in FEUILLE_COLUMNS}
    lcols: dict[str, list[Any]] = {name: [] for name in LIGNE_COLUMNS}
    for pos, rec in enumerate(records):
        bad = not isinstance(rec, dict)
        r: dict[str, Any] = rec if isinstance(rec, dict) else {}
        fcols["_pos"].append(pos)
        for name in _STR_FIELDS:
            value = r.get(name)
            if value is not None and not isinstance(value, str):
                value = str(value) if isinstance(value, int) and not isinstance(value, bool) else None
                bad = bad or value is None
            fcols[name].append(value)
        ident = r.get("id")  # an integer id is ordered as a number (engine.processing_keys)
        fcols["_id_entier"].append(integer_id(ident))
        reception, ok = _date(r.get("date_reception"))
        bad = bad or not ok
        fcols["date_reception"].append(reception)
        for name in ("tiers_payant", "en_rapport_ald"):
            value = r.get(name)
            if value is not None and not isinstance(value, bool):
                value, bad = None, True
            fcols[name].append(value)
        if fcols["risque"][-1] is None and "risque" not in r:
            fcols["risque"][-1] = "maladie"
        if fcols["parcours"][-1] is None and "parcours" not in r:
            fcols["parcours"][-1] = "medecin_traitant"
        lignes = r.get("lignes")
        if not isinstance(lignes, list):
            bad = bad or lignes is not None
            lignes = []
        for lpos, line in enumerate(lignes):
            lbad = not isinstance(line, dict)
            ln: dict[str, Any] = line if isinstance(line, dict) else {}
            code = ln.get("code")
            if code is not None and not isinstance(code, str):
                code, lbad = None, True
            soins, ok = _date(ln.get("date_soins"))
            quantite, okq = _int(ln.get("quantite", 1))
            coef, okc = _float(ln.get("coefficient", 1))
            lbad = lbad or not okc or coef is None
            facture, okf = _int(ln.get("montant_facture_cts"))
            lcols["_fpos"].append(pos)
            lcols["_lpos"].append(lpos)
            lcols["code"].append(code)
            lcols["date_soins"].append(soins)
            lcols["quantite"].append(quantite)
            lcols["coefficient"].append(coef)
            lcols["montant_facture_cts"].append(facture)
            lcols["_invalide"].append(lbad or not (ok and okq and okf))
        fcols["_invalide"].append(bad)
    return pl.DataFrame(fcols, schema=FEUILLE_COLUMNS), pl.DataFrame(lcols, schema=LIGNE_COLUMNS)


LINE_FIELDS = (
    "code",
    "base_remboursement_cts",
    "taux",
    "montant_amo_cts",
    "participation_forfaitaire_cts",
    "franchise_cts",
    "forfait_actes_lourds_cts",
    "forfait_journalier_cts",
    "depassement_cts",
    "montant_rembourse_cts",
    "part_c2s_cts",
    "rejets",
    "explication",
)
FEUILLE_FIELDS = (
    "id",
    "statut",
    "rejets",
    "destinataire",
    "montant_rembourse_cts",
    "paiement_ps_cts",
    "paiement_assure_cts",
    "part_c2s_cts",
    "dette_creee_cts",
    "dette_recuperee_cts",
    "forfait_journalier_cts",
)


def records_from_frames(decomptes: pl.DataFrame, lignes: pl.DataFrame) -> list[dict[str, Any]]:
    """Contract §2 output records, in input order (``destinataire`` is left out of a feuille
    rejected as a whole: nobody is paid and no line was examined). The décompte's
    ``explication`` is its lines' sentences followed by its own (:func:`explain.compose`)."""
    by_feuille: dict[int, list[dict[str, Any]]] = {}
    for row in lignes[["_fpos", "_lpos", *LINE_FIELDS]].iter_rows(named=True):
        by_feuille.setdefault(row.pop("_fpos"), []).append(row)
    out: list[dict[str, Any]] = []
    for row in decomptes[["_pos", *FEUILLE_FIELDS, "explication"]].iter_rows(named=True):
        pos = row.pop("_pos")
        if row["destinataire"] is None:
            del row["destinataire"]
        own = row.pop("explication")
        lines = by_feuille.get(pos, [])
        texts = [(line.pop("_lpos"), line["code"], line["explication"]) for line in lines]
        row["lignes"] = lines
        row["explication"] = explain.compose(own, texts) if own is not None else None
        out.append(row)
    return out
