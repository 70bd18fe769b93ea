"""Column-wise helpers shared by the engine's steps."""

from __future__ import annotations

import polars as pl


def attach(df: pl.DataFrame, small: pl.DataFrame, key: str) -> pl.DataFrame:
    """Add the columns of ``small`` (unique on ``key``) to ``df`` without copying ``df``'s own
    columns: only the key is joined, the result is stacked beside the existing columns."""
    res = df.select(key).join(small, on=key, how="left", maintain_order="left").drop(key)
    return df.hstack(res)


def attach_rows(df: pl.DataFrame, small: pl.DataFrame, key: str) -> pl.DataFrame:
    """:func:`attach` where ``key`` is ``df``'s row number (``_lid``): the values of ``small``
    are scattered to their rows (no hash join); rows absent from ``small`` get nulls."""
    rows = small.get_column(key)
    columns = []
    for name in small.columns:
        if name == key:
            continue
        values = small.get_column(name)
        columns.append(pl.repeat(None, df.height, dtype=values.dtype, eager=True).alias(name).scatter(rows, values))
    return df.hstack(columns)
