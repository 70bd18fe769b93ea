"""Dated legal parameters as vectorised Polars expressions.

Every amount, rate, cap and delay of the engine comes from the YAML parameters under
``caisse/rules/parameters/sante/`` (see :mod:`caisse.rules.parameters`). A parameter has a few
dated breakpoints. On the lines, :class:`LineParameters` reads every parameter by one gather
per (category, period of the date of care) (ADR 0009); :func:`at` turns a parameter into a
``when(date >= start) ... otherwise`` chain over any other date column. There is never an
``if`` on a date in the engine: a rule change is a new dated value in YAML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from caisse.rules.parameters import Parameter, Parameters, load_parameters

PREFIX = "sante."


def at(param: Parameter, date: pl.Expr, dtype: pl.DataType | None = None) -> pl.Expr:
    """The value of a scalar parameter in force on ``date`` (null before its first value)."""
    expr: pl.Expr = pl.lit(None, dtype=dtype)
    for start, value in param.breakpoints():
        expr = pl.when(date >= pl.lit(start)).then(pl.lit(value, dtype=dtype)).otherwise(expr)
    return expr


@dataclass(frozen=True)
class SanteParameters:
    """The parameters the claims engine reads, resolved once per run."""

    tree: Parameters

    def p(self, name: str) -> Parameter:
        return self.tree.parameter(PREFIX + name)

    def value(self, name: str, when: dt.date) -> Any:
        return self.p(name).at(when)


def load(overlays: Mapping[str, Mapping[dt.date, Any]] | None = None) -> SanteParameters:
    return SanteParameters(load_parameters(overlays))


# --------------------------------------------------------------------------------------------
# Per-line look-ups by one gather: the parameters' dates cut time into periods where every
# value is constant; a line's period index (one binary search on its date of care) and its
# category index then address precomputed arrays. Same values as :func:`at`,
# at a fraction of the cost on millions of lines.
# --------------------------------------------------------------------------------------------

PERIOD = "_periode"  # index of the period of the date of care (0: before every parameter)
CATEGORY_PERIOD = "_cat_periode"  # category index × number of periods + period index


def _value_on(param: Parameter, when: dt.date) -> Any:
    """The value in force on ``when`` or None (no value yet, or a null value)."""
    value: Any = None
    for start, v in param.breakpoints():
        if start <= when:
            value = v
    return value


class LineParameters:
    """The claims parameters as arrays indexed by period, or by (category, period)."""

    def __init__(self, params: SanteParameters, categories: list[str]) -> None:
        self.params = params
        self.categories = list(categories)
        starts = sorted({start for p in params.tree if p.name.startswith(PREFIX) for start, _ in p.breakpoints()})
        self.starts = starts
        self.periods = len(starts) + 1
        # The date each period starts on (None for the period before every parameter).
        self._on: list[dt.date | None] = [None, *starts]
        # Built expressions, by method and arguments: the arrays are computed once per table
        # (the real-time path calls the engine for one feuille at a time).
        self._memo: dict[tuple[Any, ...], pl.Expr] = {}

    def _cached(self, key: tuple[Any, ...], build: Any) -> pl.Expr:
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = build()
        return found

    def category_index(self, categorie: pl.Expr) -> pl.Expr:
        """Index of the category (an unknown or null category gets the last index)."""
        mapping = {c: i for i, c in enumerate(self.categories)}
        return categorie.replace_strict(mapping, default=len(self.categories), return_dtype=pl.Int64)

    def keys(self, date: pl.Expr, category: pl.Expr) -> list[pl.Expr]:
        """The two index columns (``_periode``, ``_cat_periode``) from a date and a category index."""
        # Polars' own index type: a gather by an Int64 column converts and bounds-checks it
        # again for every parameter read.
        index = pl.get_index_type()
        period = pl.lit(pl.Series(self.starts, dtype=pl.Date())).search_sorted(date, side="right").cast(index)
        period = pl.when(date.is_null()).then(pl.lit(0, dtype=index)).otherwise(period)
        return [period.alias(PERIOD), (category.cast(index) * self.periods + period).alias(CATEGORY_PERIOD)]

    def _gather(self, values: list[Any], key: str, dtype: pl.DataType) -> pl.Expr:
        return pl.lit(pl.Series(values, dtype=dtype)).gather(pl.col(key))

    def scalar(self, name: str, dtype: pl.DataType) -> pl.Expr:
        """A date-only parameter on the line's date (null before its first value)."""
        param = self.params.p(name)
        return self._cached(
            ("scalar", name, dtype),
            lambda: self._gather([None if d is None else _value_on(param, d) for d in self._on], PERIOD, dtype),
        )

    def by_category(self, value: Any, dtype: pl.DataType) -> pl.Expr:
        """``value(category, date)`` for the line's category and date (``date`` None before
        every parameter; an unknown category is passed as None)."""
        values = [
            value(cat, d)
            for cat in [*self.categories, None]
            for d in self._on
        ]
        return self._gather(values, CATEGORY_PERIOD, dtype)

    def in_set(self, name: str) -> pl.Expr:
        """True when the category is a true entry of a bool-mapping parameter on the date."""
        param = self.params.p(name)

        def value(cat: str | None, d: dt.date | None) -> bool:
            if cat is None or d is None:
                return False
            return bool((_value_on(param, d) or {}).get(cat, False))

        return self._cached(("in_set", name), lambda: self.by_category(value, pl.Boolean()))

    def mapped(self, name: str, default: Any, dtype: pl.DataType) -> pl.Expr:
        """The entry of the category in a mapping parameter on the date (``default`` if absent)."""
        param = self.params.p(name)

        def value(cat: str | None, d: dt.date | None) -> Any:
            if cat is None or d is None:
                return default
            return (_value_on(param, d) or {}).get(cat, default)

        return self._cached(("mapped", name, default, dtype), lambda: self.by_category(value, dtype))

    def taux(self) -> pl.Expr:
        """Base rate of the category (``sante.taux.<categorie>``) on the date."""

        def value(cat: str | None, d: dt.date | None) -> int | None:
            name = f"{PREFIX}taux.{cat}"
            if cat is None or d is None or name not in self.params.tree:
                return None
            v = _value_on(self.params.tree.parameter(name), d)
            return None if v is None else int(v)

        return self._cached(("taux",), lambda: self.by_category(value, pl.Int64()))

    def franchise(self, field: str, default: Any, dtype: pl.DataType) -> pl.Expr:
        """A franchise parameter keyed by the franchise kind of the category
        (``franchise.categories`` gives the kind, then ``franchise.<field>`` its value)."""
        kinds = self.params.p("franchise.categories")
        param = self.params.p(f"franchise.{field}")

        def value(cat: str | None, d: dt.date | None) -> Any:
            if cat is None or d is None:
                return default
            kind = (_value_on(kinds, d) or {}).get(cat)
            return (_value_on(param, d) or {}).get(kind if kind is not None else "", default)

        return self._cached(("franchise", field, default, dtype), lambda: self.by_category(value, dtype))

    def is_category(self, name: str) -> pl.Expr:
        """True for the lines of one category (compared by index)."""
        if name not in self.categories:
            return pl.lit(False)
        return pl.col("_cat") == self.categories.index(name)


_TABLES: dict[tuple[int, tuple[str, ...]], tuple[Parameters, LineParameters]] = {}


def line_parameters(params: SanteParameters, categories: pl.Series) -> LineParameters:
    """The :class:`LineParameters` of a parameter tree and a nomenclature's categories, built
    once per (tree, categories) and reused (the real-time path calls the engine per feuille)."""
    cats = tuple(sorted(str(c) for c in categories.drop_nulls().unique()))
    key = (id(params.tree), cats)
    found = _TABLES.get(key)
    if found is None or found[0] is not params.tree:
        if len(_TABLES) > 16:
            _TABLES.clear()
        found = (params.tree, LineParameters(params, list(cats)))
        _TABLES[key] = found
    return found[1]
