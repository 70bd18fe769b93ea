"""Dated legal parameters as vectorised Polars expressions.

Every amount, rate, cap and delay of the engine comes from the YAML parameters under
``caisse/rules/parameters/sante/`` (see :mod:`caisse.rules.parameters`). A parameter has a few
dated breakpoints; :func:`at` turns it into a ``when(date >= start) ... otherwise`` chain over
the date-of-care column, which is exact and costs a handful of comparisons per row. There is
never an ``if`` on a date in the engine: a rule change is a new dated value in YAML.
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


def at_map(
    param: Parameter, date: pl.Expr, key: pl.Expr, default: Any, dtype: pl.DataType
) -> pl.Expr:
    """The entry ``key`` of a mapping-valued parameter in force on ``date`` (``default`` if absent)."""
    expr: pl.Expr = pl.lit(default, dtype=dtype)
    for start, value in param.breakpoints():
        mapping: Mapping[str, Any] = value or {}
        looked_up = key.replace_strict(dict(mapping), default=pl.lit(default, dtype=dtype), return_dtype=dtype)
        expr = pl.when(date >= pl.lit(start)).then(looked_up).otherwise(expr)
    return expr


def in_set(param: Parameter, date: pl.Expr, key: pl.Expr) -> pl.Expr:
    """True when ``key`` is a true entry of a bool-mapping parameter on ``date``."""
    return at_map(param, date, key, False, pl.Boolean())


@dataclass(frozen=True)
class SanteParameters:
    """The parameters the claims engine reads, resolved once per run."""

    tree: Parameters

    def p(self, name: str) -> Parameter:
        return self.tree.parameter(PREFIX + name)

    def taux_categorie(self, date: pl.Expr, categorie: pl.Expr) -> pl.Expr:
        """Base rate (percent) of the category on the date of care."""
        expr: pl.Expr = pl.lit(None, dtype=pl.Int64())
        for param in self.tree:
            if param.name.startswith(PREFIX + "taux.") and param.name.count(".") == 2:
                cat = param.name.rsplit(".", 1)[1]
                expr = pl.when(categorie == cat).then(at(param, date, pl.Int64())).otherwise(expr)
        return expr

    def value(self, name: str, when: dt.date) -> Any:
        return self.p(name).at(when)


def load(overlays: Mapping[str, Mapping[dt.date, Any]] | None = None) -> SanteParameters:
    return SanteParameters(load_parameters(overlays))
