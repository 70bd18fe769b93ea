"""Day-number helpers: dates are int64 days since 1970-01-01 on the hot path."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

EPOCH = dt.date(1970, 1, 1)
NONE = np.iinfo(np.int32).max  # "no date" sentinel in int arrays


def day(value: dt.date) -> int:
    return (value - EPOCH).days


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """Same day of month ``months`` later (clipped to the month's end)."""
    d = days.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = (d - m.astype("datetime64[D]")).astype(np.int64)
    target = m + months
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    out = target.astype("datetime64[D]") + np.minimum(dom, length - 1)
    return out.astype(np.int64)


def add_years(days: np.ndarray, years: int) -> np.ndarray:
    return add_months(days, 12 * years)


def as_date(days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """A polars Date Series (null where ``valid`` is False or the value is the sentinel)."""
    arr = np.asarray(days, dtype=np.int64)
    mask = arr != NONE if valid is None else (valid & (arr != NONE))
    s = pl.Series(np.where(mask, arr, 0).astype(np.int32)).cast(pl.Date)
    return pl.select(pl.when(pl.Series(mask)).then(s)).to_series()


def month_of(days: np.ndarray) -> np.ndarray:
    """Month index (0-11) of day numbers."""
    return (days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)) % 12


def year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
