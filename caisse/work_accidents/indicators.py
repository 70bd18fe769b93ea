"""Indicators as the caisses publish them in their annual reports.

- Recognition rate by type (accident du travail, accident de trajet, maladie professionnelle):
  cases recognised (explicitly or implicitly) / cases decided, by month of the decision.
- Instruction delay (calendar days, receipt of the declaration → decision): mean and 9th
  decile. The percentile method is UNCONFIRMED (rules.md F.6): nearest rank by default,
  linear interpolation on request.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from caisse.work_accidents.enums import RECOGNISED_STATUSES, CaseKind
from caisse.work_accidents.models import Case

PUBLISHED_KINDS = (CaseKind.AT, CaseKind.TRAJET, CaseKind.MP)


def ninth_decile(values: list[int], *, method: str = "nearest_rank") -> Decimal | None:
    if not values:
        return None
    ordered = sorted(values)
    if method == "nearest_rank":
        return Decimal(ordered[math.ceil(0.9 * len(ordered)) - 1])
    if method == "interpolation":
        position = Decimal("0.9") * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    raise ValueError(f"Méthode de calcul du 9e décile inconnue : « {method} ».")


@dataclass(frozen=True)
class MonthRow:
    month: dt.date  # first day of the month
    kind: str
    decided: int
    recognised: int
    implicit: int
    mean_days: Decimal | None
    d9_days: Decimal | None

    @property
    def kind_label(self) -> str:
        return str(CaseKind(self.kind).label)

    @property
    def rate(self) -> Decimal | None:
        if not self.decided:
            return None
        return (Decimal(100 * self.recognised) / self.decided).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def monthly(start: dt.date, end: dt.date, *, method: str = "nearest_rank") -> list[MonthRow]:
    """One row per month of decision and published type, from ``start`` to ``end`` included."""
    groups: dict[tuple[dt.date, str], list[Case]] = defaultdict(list)
    cases = Case.objects.decided().filter(
        date_decision__gte=start, date_decision__lte=end, declaration__kind__in=PUBLISHED_KINDS,
    ).select_related("declaration")
    for case in cases:
        assert case.date_decision is not None
        groups[(case.date_decision.replace(day=1), case.declaration.kind)].append(case)
    rows = []
    for (month, kind), items in sorted(groups.items(), key=lambda g: (g[0][0], PUBLISHED_KINDS.index(g[0][1]))):
        delays = [d for c in items if (d := c.instruction_days()) is not None]
        mean = (Decimal(sum(delays)) / len(delays)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        rows.append(MonthRow(
            month=month, kind=kind, decided=len(items),
            recognised=sum(1 for c in items if c.status in RECOGNISED_STATUSES),
            implicit=sum(1 for c in items if c.status == "reconnu_implicite"),
            mean_days=mean, d9_days=ninth_decile(delays, method=method),
        ))
    return rows
