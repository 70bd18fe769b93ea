"""Indicators as published: recognition rate by type, instruction delays (mean, 9th decile)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from caisse.work_accidents.enums import CaseKind, CaseStatus
from caisse.work_accidents.indicators import monthly, ninth_decile
from caisse.work_accidents.tests.factories import CaseFactory, DeclarationFactory

D = dt.date


def test_ninth_decile_nearest_rank_and_interpolation() -> None:
    values = list(range(1, 11))  # 1..10
    assert ninth_decile(values) == Decimal(9)
    assert ninth_decile(values, method="interpolation") == Decimal("9.1")
    assert ninth_decile([]) is None
    with pytest.raises(ValueError, match="inconnue"):
        ninth_decile(values, method="autre")


@pytest.mark.django_db
def test_monthly_rates_and_delays_by_type() -> None:
    def decided(kind: str, status: str, received: dt.date, decided_on: dt.date) -> None:
        declaration = DeclarationFactory(kind=kind, date_evenement=received, date_declaration=received,
                                         date_reception=received)
        CaseFactory(declaration=declaration, status=status, date_decision=decided_on,
                    motif_decision="Motif" if status == CaseStatus.REFUSE else "")

    decided(CaseKind.AT, CaseStatus.RECONNU, D(2026, 5, 4), D(2026, 6, 3))  # 30 days
    decided(CaseKind.AT, CaseStatus.RECONNU_IMPLICITE, D(2026, 5, 1), D(2026, 6, 10))  # 40 days
    decided(CaseKind.AT, CaseStatus.REFUSE, D(2026, 5, 20), D(2026, 6, 9))  # 20 days
    decided(CaseKind.AT, CaseStatus.RECONNU, D(2026, 6, 1), D(2026, 7, 1))  # July
    decided(CaseKind.TRAJET, CaseStatus.RECONNU, D(2026, 6, 1), D(2026, 6, 11))
    decided(CaseKind.RECHUTE, CaseStatus.RECONNU, D(2026, 6, 1), D(2026, 6, 11))  # not published
    CaseFactory()  # open: not counted
    rows = monthly(D(2026, 6, 1), D(2026, 6, 30))
    assert [(r.kind, r.decided) for r in rows] == [(CaseKind.AT, 3), (CaseKind.TRAJET, 1)]
    at = rows[0]
    assert at.recognised == 2 and at.implicit == 1 and at.rate == Decimal("66.7")
    assert at.mean_days == Decimal("30.0") and at.d9_days == Decimal(40)
