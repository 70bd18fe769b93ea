"""Reading arrêts (contract §4 input) into a typed Polars frame.

The fast path lets Arrow's multi-threaded JSON reader parse the NDJSON file against
:data:`RAW_SCHEMA` (about twice as fast as Polars' reader on these nested records). A file it
refuses (a line that is not JSON, a field of the wrong type) is read again line by line: each
field of the wrong type becomes null and the line is marked with ``erreur`` / ``motif_erreur``,
so that one bad record never stops the batch and keeps its place.

The engine works on string ids; every reader adds ``_id_entier`` (true where the input ``id`` was
a JSON integer, or the Parquet ``id`` column an integer column) so that the output gives each id
back with its own type (:func:`caisse.rules.allowances.batch.write_output`). Arrow's reader
refuses a number in the string ``id`` column: a file with integer ids takes the line reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from caisse.batch_io import contract_date, iter_ndjson

SALARY = pl.Struct({"mois": pl.String, "brut_cts": pl.Int64})

RAW_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "nir": pl.String(),
    "risque": pl.String(),
    "date_debut": pl.String(),
    "date_fin": pl.String(),
    "salaires": pl.List(SALARY),
    "heures_travaillees_3_mois": pl.Float64(),
    "ald": pl.Boolean(),
    "prolongation": pl.Boolean(),
    "date_accouchement": pl.String(),
    "enfants_a_charge": pl.Int64(),
    "naissance_multiple": pl.Int64(),
    # Extension (not in the contract): start of the current 3-year ALD period, known from history.
    "date_premier_arret_ald": pl.String(),
}

DATE_FIELDS = ("date_debut", "date_fin", "date_accouchement", "date_premier_arret_ald")
# Columns every reader adds to RAW_SCHEMA: the read error of the line, and whether its id was an integer.
EXTRA_SCHEMA: dict[str, pl.DataType] = {"erreur": pl.String(), "motif_erreur": pl.String(), "_id_entier": pl.Boolean()}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clean_salaries(raw: Any) -> tuple[list[dict[str, Any]] | None, bool]:
    if raw is None:
        return None, True
    if not isinstance(raw, list):
        return None, False
    clean = []
    for item in raw:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("mois"), str)
            or not _is_int(item.get("brut_cts"))
        ):
            return None, False
        clean.append({"mois": item["mois"], "brut_cts": item["brut_cts"]})
    return clean, True


def _clean_record(record: dict[str, Any] | None) -> dict[str, Any]:
    """A line with each field of the expected type or null, and the read error if any."""
    row: dict[str, Any] = dict.fromkeys(RAW_SCHEMA)
    row["erreur"] = row["motif_erreur"] = None
    row["_id_entier"] = record is not None and _is_int(record.get("id"))
    if record is None:
        row["erreur"], row["motif_erreur"] = "DONNEE_INVALIDE", "Ligne illisible : un objet JSON est attendu."
        return row
    bad: list[str] = []
    for name, dtype in RAW_SCHEMA.items():
        value = record.get(name)
        if value is None:
            continue
        if name == "salaires":
            row[name], ok = _clean_salaries(value)
        elif name == "id":
            ok = isinstance(value, str | int) and not isinstance(value, bool)
            row[name] = str(value) if ok else None
        elif dtype == pl.Boolean():
            ok = isinstance(value, bool)
            row[name] = value if ok else None
        elif dtype == pl.Int64():
            ok = _is_int(value)
            row[name] = value if ok else None
        elif dtype == pl.Float64():
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            row[name] = float(value) if ok else None
        else:
            ok = isinstance(value, str)
            row[name] = value if ok else None
        if not ok:
            bad.append(name)
    if bad:
        row["erreur"] = "DONNEE_INVALIDE"
        row["motif_erreur"] = f"Champ(s) de type incorrect : {', '.join(bad)}."
    return row


def frame_from_records(records: Iterable[dict[str, Any] | None]) -> pl.DataFrame:
    """The raw frame from already-parsed lines (``None`` for a line that is not a JSON object)."""
    rows = [_clean_record(r) for r in records]
    schema = {**RAW_SCHEMA, **EXTRA_SCHEMA}
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _arrow_schema() -> pa.Schema:
    empty = pl.DataFrame(schema=RAW_SCHEMA).to_arrow()
    # Polars exports large_string / large_list; the JSON reader wants the plain types.
    fields = []
    for name, dtype in RAW_SCHEMA.items():
        if dtype == pl.String():
            fields.append(pa.field(name, pa.string()))
        elif name == "salaires":
            fields.append(
                pa.field(name, pa.list_(pa.struct([("mois", pa.string()), ("brut_cts", pa.int64())])))
            )
        else:
            fields.append(empty.schema.field(name))
    return pa.schema(fields)


def _no_read_error() -> list[pl.Expr]:
    return [pl.lit(None, pl.String).alias("erreur"), pl.lit(None, pl.String).alias("motif_erreur")]


def read_parquet_arrets(path: Path) -> pl.DataFrame:
    """Arrêts in Parquet (same field names as the NDJSON, contract conventions): columns are cast
    to the expected types; a column that cannot be cast makes every row of the file invalid."""
    frame = pl.read_parquet(path)
    integer_ids = "id" in frame.columns and frame.schema["id"].is_integer()
    columns = []
    for name, dtype in RAW_SCHEMA.items():
        if name not in frame.columns:
            columns.append(pl.lit(None, dtype).alias(name))
        elif frame.schema[name] == pl.Date and dtype == pl.String():
            columns.append(pl.col(name).dt.strftime("%Y-%m-%d").alias(name))
        else:
            columns.append(pl.col(name).cast(dtype, strict=False).alias(name))
    return frame.select(columns).with_columns(
        *_no_read_error(), _id_entier=pl.col("id").is_not_null() & pl.lit(integer_ids)
    )


def read_arrets(path: str | Path) -> pl.DataFrame:
    """The raw frame of a file of arrêts: Parquet (``.parquet``), or NDJSON (fast path, then
    line-by-line on a bad file)."""
    if str(path) != "-" and Path(path).suffix == ".parquet":
        return read_parquet_arrets(Path(path))
    if str(path) != "-" and Path(path).is_file() and Path(path).stat().st_size > 0:
        options = pa_json.ParseOptions(explicit_schema=_arrow_schema(), unexpected_field_behavior="ignore")
        try:
            table = pa_json.read_json(
                path, parse_options=options, read_options=pa_json.ReadOptions(block_size=16 << 20)
            )
        except (pa.ArrowException, ValueError):  # malformed line or field: the tolerant reader
            pass
        else:
            frame = pl.DataFrame(pl.from_arrow(table))
            return frame.with_columns(*_no_read_error(), _id_entier=pl.lit(False))
    return frame_from_records(iter_ndjson(path))


def typed(raw: pl.DataFrame) -> pl.DataFrame:
    """Dates parsed (null when unreadable), missing optional columns added, row number ``_row``."""
    frame = raw
    for name, dtype in RAW_SCHEMA.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    for name, dtype in EXTRA_SCHEMA.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    conversions = []
    for name in DATE_FIELDS:
        column = pl.col(name)
        if frame.schema[name] == pl.String:
            parsed = contract_date(column)
        else:  # a Parquet date column: Polars dates go beyond Python's (year 0 and before)
            parsed = column.cast(pl.Date)
            parsed = pl.when(parsed.dt.year() >= 1).then(parsed)
        conversions.append(parsed.alias(name))
        conversions.append((column.is_not_null() & parsed.is_null()).alias(f"_bad_{name}"))
    return frame.with_columns(conversions).with_row_index("_row")
