"""Column-wise helpers shared by the engine's steps."""

from __future__ import annotations

from typing import Any, Literal

import polars as pl

SMALL_ROWS = 5_000
"""Below this many rows a frame is small (a real-time batch of a few feuilles): each Polars call
costs more than the data it moves, so the engine takes the paths with fewer calls (same results:
a test runs a flow both ways)."""


def is_small(rows: int) -> bool:
    return rows < SMALL_ROWS


_EMPTY: dict[tuple[tuple[str, pl.DataType], ...], pl.DataFrame] = {}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame of ``schema`` without rows. Building one from a schema costs about 100 µs (the types
    are read one by one), as much as a real-time call's query; a copy of one built before, under
    1 µs (a real-time call builds several: counters, cards, treating doctors of a few persons)."""
    key = tuple(schema.items())
    frame = _EMPTY.get(key)
    if frame is None:
        frame = _EMPTY[key] = pl.DataFrame(schema=schema)
    return frame.clear()


def frame(rows: list[Any], schema: dict[str, pl.DataType], orient: Literal["row"] | None = None) -> pl.DataFrame:
    """``rows`` (dicts, or tuples with ``orient="row"``) as a frame of ``schema``; none: a copy of an
    empty one (:func:`empty`)."""
    return pl.DataFrame(rows, schema=schema, orient=orient) if rows else empty(schema)


def drop(df: pl.DataFrame, *names: str) -> pl.DataFrame:
    """``df`` without the columns ``names`` (absent ones ignored), by projecting the kept
    columns: ``DataFrame.drop`` plans a query whose cost grows with the columns kept (about 60 µs
    on the engine's 50-column lines, paid at every step of a real-time call); a projection by
    names costs a few µs and copies no data either."""
    gone = set(names)
    return df[[c for c in df.columns if c not in gone]]


def collect(lf: pl.LazyFrame, rows: int) -> pl.DataFrame:
    """A lazy query over ``rows`` lines: on a small batch the in-memory engine is named and the
    plan run as written (choosing an engine or optimising the plan costs a real-time call more
    than running it), else Polars chooses and optimises."""
    return lf.collect(engine="in-memory", optimizations=pl.QueryOptFlags.none()) if is_small(rows) else lf.collect()


def contiguous_start(column: pl.Series) -> int | None:
    """The first value when ``column`` is ``start, start + 1, ...`` (a row number), else None."""
    if column.len() == 0 or not column.dtype.is_integer():
        return None
    if is_small(column.len()):  # a few values: read them rather than plan a query
        values = column.to_list()
        start = values[0]
        return int(start) if start is not None and values == list(range(start, start + len(values))) else None
    c = pl.col(column.name)
    first, steps_of_one = column.to_frame().select(
        c.first(), ((c.diff().slice(1) == 1).all() & (c.null_count() == 0)).alias("ok")
    ).row(0)
    return int(first) if steps_of_one else None


def attach(df: pl.DataFrame, small: pl.DataFrame, key: str) -> pl.DataFrame:
    """Add the columns of ``small`` (unique on ``key``) to ``df`` without copying ``df``'s own
    columns; rows of ``df`` absent from ``small`` get nulls. When ``df[key]`` numbers the rows
    (``start, start + 1, ...``) the values are scattered to their rows, otherwise only the key
    is joined and the result stacked beside the existing columns."""
    if small.height == 0:
        return _nulls(df, small, key)
    start = None if is_small(df.height) else contiguous_start(df.get_column(key))
    if start is None:
        res = drop(df.select(key).join(small, on=key, how="left", maintain_order="left"), key)
        return df.hstack(res)
    rows = small.get_column(key).cast(pl.Int64) - start
    inside = (rows >= 0) & (rows < df.height)
    if not bool(inside.all()):
        small, rows = small.filter(inside), rows.filter(inside)
    return _scatter(df, small, key, rows)


def attach_rows(df: pl.DataFrame, small: pl.DataFrame, key: str) -> pl.DataFrame:
    """:func:`attach` where ``key`` is ``df``'s row number (``_lid``): the values of ``small``
    are scattered to their rows (no hash join); rows absent from ``small`` get nulls."""
    if small.height == 0:
        return _nulls(df, small, key)
    if is_small(df.height):
        return df.hstack(drop(df.select(key).join(small, on=key, how="left", maintain_order="left"), key).get_columns())
    if small.height == df.height and contiguous_start(small.get_column(key)) == 0:  # every row, in order
        return df.hstack(drop(small, key).get_columns())
    return _scatter(df, small, key, small.get_column(key))


def _nulls(df: pl.DataFrame, small: pl.DataFrame, key: str) -> pl.DataFrame:
    """``small``'s columns, all null, beside ``df``'s (nothing to attach: no join, no scatter)."""
    return df.with_columns(pl.lit(None, dtype=dtype).alias(name) for name, dtype in small.schema.items() if name != key)


def _scatter(df: pl.DataFrame, small: pl.DataFrame, key: str, rows: pl.Series) -> pl.DataFrame:
    """``small``'s columns placed at ``rows`` of a frame of ``df``'s height: one scatter of the
    row numbers, then a gather per column (works for every dtype, lists included)."""
    small = small.rechunk()  # gathers from one contiguous chunk (a concatenation is slow to gather from)
    rows = rows.rechunk()
    # In Polars' index type: each column's gather would otherwise convert and bounds-check it.
    index = pl.repeat(None, df.height, dtype=pl.get_index_type(), eager=True).scatter(
        rows, pl.int_range(small.height, dtype=pl.get_index_type(), eager=True)
    )
    return df.hstack(drop(small, key).select(pl.all().gather(index)).get_columns())


def sort_key(df: pl.DataFrame, columns: list[str]) -> pl.Expr | None:
    """:func:`packed_key` for a large frame; None for a small one, where measuring the ranges
    costs more than sorting on several columns (the callers then do)."""
    return None if is_small(df.height) else packed_key(df, columns)


def packed_key(df: pl.DataFrame, columns: list[str]) -> pl.Expr | None:
    """One exact Int64 key for non-null integer ``columns`` (in that sort order), each shifted
    by its minimum and given just the bits its range needs; None when they need more than 62
    bits together (then sort on the columns themselves)."""
    if df.height == 0:
        return None
    bounds = df.select(
        *(pl.col(c).min().alias(f"{c}_min") for c in columns), *(pl.col(c).max().alias(f"{c}_max") for c in columns)
    ).row(0, named=True)
    widths = []
    for c in columns:
        low, high = bounds[f"{c}_min"], bounds[f"{c}_max"]
        if low is None or high is None:
            return None
        widths.append(int(high - low).bit_length())
    if sum(widths) > 62:
        return None
    key: pl.Expr = pl.lit(0, dtype=pl.Int64)
    shift = sum(widths)
    for c, width in zip(columns, widths, strict=True):
        shift -= width
        key = key + ((pl.col(c).cast(pl.Int64) - int(bounds[f"{c}_min"])) * (1 << shift))
    return key
