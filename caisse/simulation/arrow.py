"""Fast construction of nested columns (lists of structs) through Arrow offsets."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import polars as pl
import pyarrow as pa

from caisse.simulation.dates import NONE

Column: TypeAlias = "np.ndarray | pl.Series | pa.Array"


def date_array(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Arrow date32 array from day numbers (null where invalid or the sentinel)."""
    arr = np.asarray(days, dtype=np.int64)
    mask = arr == NONE if valid is None else ~(valid & (arr != NONE))
    return pa.array(np.where(mask, 0, arr).astype(np.int32), type=pa.date32(), mask=mask)


def _arrow(col: Column) -> pa.Array:
    if isinstance(col, pa.Array):
        return col
    if isinstance(col, pl.Series):
        out = col.to_arrow()
        if pa.types.is_string_view(out.type) or pa.types.is_large_string(out.type):
            out = out.cast(pa.string())
        return out
    return pa.array(col)


def list_of_structs(n: int, items: list[tuple[np.ndarray, dict[str, Column]]]) -> pl.Series:
    """A ``list[struct]`` Series of length ``n``: entry ``r`` of person ``i`` exists where
    ``items[r][0][i]``; its fields are ``items[r][1][name][i]`` (full-length columns)."""
    keys: list[np.ndarray] = []
    pieces: dict[str, list[pa.Array]] = {name: [] for name in items[0][1]}
    counts = np.zeros(n, dtype=np.int64)
    for rank, (mask, fields) in enumerate(items):
        who = np.nonzero(mask)[0]
        keys.append(who * len(items) + rank)
        counts += mask.astype(np.int64)
        take = pa.array(who)
        for name, col in fields.items():
            pieces[name].append(_arrow(col).take(take))
    order = pa.array(np.argsort(np.concatenate(keys), kind="stable"))
    values = [pa.concat_arrays(parts).take(order) for parts in pieces.values()]
    struct = pa.StructArray.from_arrays(values, names=list(pieces))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), struct)
    return pl.from_arrow(lists)  # type: ignore[return-value]


def list_of_strings(n: int, items: list[tuple[np.ndarray, Column]]) -> pl.Series:
    """A ``list[str]`` Series built like :func:`list_of_structs`."""
    keys: list[np.ndarray] = []
    parts: list[pa.Array] = []
    counts = np.zeros(n, dtype=np.int64)
    for rank, (mask, col) in enumerate(items):
        who = np.nonzero(mask)[0]
        keys.append(who * len(items) + rank)
        counts += mask.astype(np.int64)
        parts.append(_arrow(col).take(pa.array(who)))
    order = pa.array(np.argsort(np.concatenate(keys), kind="stable"))
    values = pa.concat_arrays(parts).take(order)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pl.from_arrow(pa.ListArray.from_arrays(pa.array(offsets), values))  # type: ignore[return-value]
