"""Processing delays of feuilles de soins (rules.md F.6), a pure calculation (no Django).

``délai = date de mise en paiement − date de réception par la caisse``, in calendar days, over
the items paid in the month, per flow type (FSE, FSP): the mean and the 9th decile (D9), against
the dated targets ``sante.delais.*`` looked up on the first day of the month:

- FSE: cible D9 ≤ 7 days (COG 2006-2009);
- FSP: cible 20 days, socle 30 days at D9 (UNCONFIRMED, configurable by local values).

The percentile method is the parameter ``sante.delais.methode_decile``: ``rang`` (nearest
rank: the smallest delay such that 90 % of the items are at or below it) or ``interpolation``
(linear, as numpy's default).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from caisse.rules.parameters import Parameters, load_parameters

TYPES = ("FSE", "FSP")
PARAMS = "sante.delais."


def decile_9(values: list[int], method: str = "rang") -> float:
    """The 9th decile of non-empty ``values``."""
    ordered = sorted(values)
    n = len(ordered)
    if method == "interpolation":
        h = (n - 1) * 0.9
        low = math.floor(h)
        high = min(low + 1, n - 1)
        return ordered[low] + (h - low) * (ordered[high] - ordered[low])
    rank = max(1, math.ceil(0.9 * n - 1e-9))
    return float(ordered[rank - 1])


def _target(params: Parameters, name: str, when: dt.date) -> int | None:
    full = PARAMS + name
    if full not in params or not params.parameter(full).defined_at(when):
        return None
    value = params.value(full, when)
    return int(value)


def delay_table(
    items: Iterable[tuple[str, dt.date, dt.date]], params: Parameters | None = None
) -> list[dict[str, Any]]:
    """One row per (month of payment, type): ``mois``, ``type``, ``nb``, ``delai_moyen_jours``,
    ``d9_jours``, ``cible_d9_jours``, ``socle_d9_jours``, ``cible_atteinte``, ``socle_respecte``
    (``None`` where the type has no such target). Items of another type are ignored."""
    params = params or load_parameters()
    groups: dict[tuple[str, str], list[int]] = {}
    for kind, received, paid in items:
        if kind not in TYPES or received is None or paid is None:
            continue
        groups.setdefault((f"{paid:%Y-%m}", kind), []).append((paid - received).days)
    rows = []
    for (month, kind), values in sorted(groups.items()):
        first_day = dt.date.fromisoformat(f"{month}-01")
        method = params.value(PARAMS + "methode_decile", first_day) if PARAMS + "methode_decile" in params else "rang"
        d9 = decile_9(values, str(method))
        cible = _target(params, f"{kind.lower()}_d9_cible", first_day)
        socle = _target(params, f"{kind.lower()}_d9_socle", first_day)
        rows.append({
            "mois": month,
            "type": kind,
            "nb": len(values),
            "delai_moyen_jours": round(sum(values) / len(values), 2),
            "d9_jours": d9,
            "cible_d9_jours": cible,
            "socle_d9_jours": socle,
            "cible_atteinte": None if cible is None else d9 <= cible,
            "socle_respecte": None if socle is None else d9 <= socle,
        })
    return rows
