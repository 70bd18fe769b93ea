"""The contract's field conversions, as column expressions: what the Parquet reader
(:mod:`caisse.rules.claims.batch`) and the fast NDJSON reader (:mod:`caisse.rules.claims.ndjson`)
do to a column of the input, with the flag of the values they could not read (the record is then
rejected as DONNEE_INVALIDE, the batch goes on)."""

from __future__ import annotations

import polars as pl

from caisse.batch_io import contract_date


def date_column(df: pl.DataFrame, name: str) -> tuple[pl.Expr, pl.Expr]:
    """(the column as Date, a flag for values present but not a valid date)."""
    if name not in df.columns:
        return pl.lit(None, dtype=pl.Date()), pl.lit(False)
    col = pl.col(name)
    if df.schema[name] == pl.Date():
        return col, pl.lit(False)
    if df.schema[name] == pl.Datetime() or isinstance(df.schema[name], pl.Datetime):
        return col.dt.date(), pl.lit(False)
    if _nested(df.schema[name]):
        return _unreadable(col, pl.Date())
    parsed = contract_date(col.cast(pl.String))  # exactly YYYY-MM-DD, as the NDJSON reader
    return parsed, col.is_not_null() & parsed.is_null()


def _unreadable(col: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """A column whose type cannot hold the field (a list, a structure): every value present is bad."""
    return pl.lit(None, dtype=dtype), col.is_not_null()


def _nested(dtype: pl.DataType) -> bool:
    return dtype.is_nested() or dtype in (pl.Binary(), pl.Object(), pl.Null())


def text_column(df: pl.DataFrame, name: str) -> tuple[pl.Expr, pl.Expr]:
    """(the column as text, a flag for values that cannot be text: a list, a structure)."""
    col = pl.col(name)
    dtype = df.schema[name]
    if dtype == pl.String():
        return col, pl.lit(False)
    if _nested(dtype) and dtype != pl.Null():
        return _unreadable(col, pl.String())
    return col.cast(pl.String), pl.lit(False)


def boolean_column(df: pl.DataFrame, name: str) -> tuple[pl.Expr, pl.Expr]:
    """(the column as Boolean, a flag for values present but not a boolean). A Parquet column is
    typed as a whole: a column of integers holds 1/0, a column of text « true »/« false » (any
    case); any other value is bad."""
    col = pl.col(name)
    dtype = df.schema[name]
    if dtype == pl.Boolean():
        return col, pl.lit(False)
    if dtype.is_integer():
        value = pl.when(col == 1).then(pl.lit(True)).when(col == 0).then(pl.lit(False))
    elif dtype == pl.String():
        text = col.str.strip_chars().str.to_lowercase()
        value = pl.when(text == "true").then(pl.lit(True)).when(text == "false").then(pl.lit(False))
    else:
        return _unreadable(col, pl.Boolean())
    return value, col.is_not_null() & value.is_null()


def integer_column(df: pl.DataFrame, name: str) -> tuple[pl.Expr, pl.Expr]:
    """(the column as Int64, a flag for values present but not an integer in Int64's range): a
    float is taken only when its value is integral (2999.5 is a bad value, not 2999), a text
    (a Parquet column of text) only when it reads as an integer."""
    col = pl.col(name)
    dtype = df.schema[name]
    if dtype == pl.Int64():
        return col, pl.lit(False)
    if _nested(dtype):
        return _unreadable(col, pl.Int64())
    if dtype.is_float():
        whole = col.is_finite() & (col == col.floor())
        value = pl.when(whole).then(col).cast(pl.Int64, strict=False)
    elif dtype.is_numeric():
        value = col.cast(pl.Int64, strict=False)
    else:
        value = col.cast(pl.String).str.strip_chars().cast(pl.Int64, strict=False)
    return value, col.is_not_null() & value.is_null()


def number_column(df: pl.DataFrame, name: str) -> tuple[pl.Expr, pl.Expr]:
    """(the column as Float64, a flag for values present but not a finite number)."""
    col = pl.col(name)
    dtype = df.schema[name]
    if _nested(dtype):
        return _unreadable(col, pl.Float64())
    if dtype.is_numeric():
        value = col.cast(pl.Float64)
    else:
        value = col.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    value = pl.when(value.is_finite()).then(value)
    return value, col.is_not_null() & value.is_null()


def line_fields(lines: pl.DataFrame) -> list[pl.Expr]:
    """A line's fields converted (``code``, ``date_soins``, ``quantite``, ``montant_facture_cts``,
    ``coefficient``, those present) and ``_invalide``, the line holding a value that could not be
    read."""
    soins, bad = date_column(lines, "date_soins")
    converted = [soins.alias("date_soins")]
    if "code" in lines.columns:
        code, bad_code = text_column(lines, "code")
        converted.append(code.alias("code"))
        bad = bad | bad_code
    for name, read in (("quantite", integer_column), ("montant_facture_cts", integer_column), ("coefficient", number_column)):
        if name in lines.columns:
            value, bad_value = read(lines, name)
            converted.append(value.alias(name))
            bad = bad | bad_value
    return [*converted, bad.alias("_invalide")]

