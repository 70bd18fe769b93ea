"""Properties of the C2S decision (hypothesis): monotonic in resources, ceilings ordered."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from caisse.rules.c2s import C2SRequest, Member, MonthlyResource, c2s_ceiling, decide_c2s
from caisse.rules.parameters import load_parameters

PARAMS = load_parameters()
RANK = {"c2s_gratuite": 0, "c2s_participation": 1, "refus": 2}
DATES = st.dates(dt.date(2019, 11, 1), dt.date(2026, 12, 31))


def _request(when: dt.date, size: int, zone: str, yearly_cts: int) -> C2SRequest:
    current = when.year * 12 + when.month - 1
    months = [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(current - 13, current - 1)]
    members = tuple(Member(dt.date(1980, 1, 1) + dt.timedelta(days=400 * i)) for i in range(size))
    resources = tuple(MonthlyResource(m, yearly_cts // 12) for m in months)
    return C2SRequest("P", when, zone, members, resources)


@settings(max_examples=80, deadline=None)
@given(
    DATES,
    st.integers(1, 9),
    st.sampled_from(["metropole", "dom"]),
    st.integers(0, 6_000_000),
    st.integers(0, 3_000_000),
)
def test_decision_is_monotonic_in_resources(
    when: dt.date, size: int, zone: str, low: int, extra: int
) -> None:
    poorer = decide_c2s(_request(when, size, zone, low), PARAMS)
    richer = decide_c2s(_request(when, size, zone, low + extra), PARAMS)
    assert RANK[poorer.decision] <= RANK[richer.decision]
    for decision in (poorer, richer):
        assert decision.participation_mensuelle_cts == sum(decision.participations)
        assert len(decision.participations) == size
        assert (decision.participation_mensuelle_cts > 0) == (decision.decision == "c2s_participation")


@settings(max_examples=80, deadline=None)
@given(DATES, st.integers(1, 12), st.sampled_from(["metropole", "dom"]))
def test_ceilings_grow_with_the_household(when: dt.date, size: int, zone: str) -> None:
    free = c2s_ceiling(size, zone, when, False, PARAMS)
    assert free < c2s_ceiling(size, zone, when, True, PARAMS)
    assert free < c2s_ceiling(size + 1, zone, when, False, PARAMS)
    if zone == "dom":
        assert free > c2s_ceiling(size, "metropole", when, False, PARAMS)
