"""Edges of ``caisse c2s``: resources at the ceilings (L861-1), the DOM ceiling (D861-1), and the
reading of dates and months (contract conventions: ``AAAA-MM-JJ``, ``AAAA-MM``)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caisse.rules.c2s import AMERequest, Member, MonthlyResource, c2s_ceiling, decide_ame
from caisse.rules.c2s.batch import decide_record, run
from caisse.rules.c2s.engine import dom_ceiling, resource_window
from caisse.rules.c2s.tests.test_batch_and_ame import GOOD
from caisse.rules.parameters import load_parameters

PARAMS = load_parameters()
WHEN = dt.date(2025, 6, 10)


def _yearly(total_cts: int, when: dt.date = WHEN) -> list[dict[str, Any]]:
    first, _ = resource_window(when, PARAMS)
    year, month = int(first[:4]), int(first[5:7])
    months = [f"{year + (month - 1 + i) // 12:04d}-{(month - 1 + i) % 12 + 1:02d}" for i in range(12)]
    share, rest = divmod(total_cts, 12)
    return [{"mois": m, "montant_cts": share + (rest if i == 0 else 0)} for i, m in enumerate(months)]


# --- L861-1: « inférieures à un plafond » (1°), « comprises entre » P et 1,35 P (2°) -------------


@pytest.mark.parametrize("zone", ["metropole", "dom"])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7])
def test_decision_around_both_ceilings(zone: str, size: int) -> None:
    members = [{"date_naissance": "1990-05-01", "role": "demandeur"}] * size
    free = c2s_ceiling(size, zone, WHEN, False, PARAMS)
    paying = c2s_ceiling(size, zone, WHEN, True, PARAMS)

    def decision(total: int) -> str:
        record = {**GOOD, "zone": zone, "membres": members, "ressources": _yearly(total)}
        out = decide_record(record, PARAMS)
        assert out["ressources_retenues_cts"] == total, out["motif"]
        return str(out["decision"])

    assert decision(free - 1) == "c2s_gratuite"
    assert decision(free) == "c2s_participation"  # equal is not « inférieures »
    assert decision(paying) == "c2s_participation"  # « comprises entre » includes 1,35 P
    assert decision(paying + 1) == "refus"


def test_motifs_say_below_and_between() -> None:
    free = decide_record({**GOOD, "ressources": _yearly(1_033_899)}, PARAMS)["motif"]
    equal = decide_record({**GOOD, "ressources": _yearly(1_033_900)}, PARAMS)["motif"]
    assert "inférieures au plafond sans participation de 10 339,00 €" in free and "égales" not in free
    assert "comprises entre le plafond sans participation de 10 339,00 €" in equal
    assert "plafond avec participation de 13 957,00 €" in equal


def test_ame_keeps_resources_equal_to_the_ceiling() -> None:
    """CASF L251-1: ressources qui « ne dépassent pas » le plafond (rules.md D.3: ≤)."""
    months = [f"2024-{m:02d}" for m in range(5, 13)] + [f"2025-{m:02d}" for m in range(1, 5)]
    ceiling = c2s_ceiling(1, "metropole", WHEN, False, PARAMS)
    for total, eligible in ((ceiling, True), (ceiling + 1, False)):
        resources = tuple(
            MonthlyResource(m, total // 12 + (total % 12 if i == 0 else 0)) for i, m in enumerate(months)
        )
        request = AMERequest(
            WHEN,
            "metropole",
            (Member(dt.date(1990, 1, 1)),),
            resources,
            date_debut_residence=dt.date(2020, 1, 1),
        )
        assert decide_ame(request, PARAMS).eligible is eligible


# --- D861-1: DOM ceiling = métropole + 11,3 %, rounded to the nearest euro ---------------------


@pytest.mark.parametrize("with_participation", [False, True])
def test_dom_derivation_reproduces_the_published_2024_dom_table(with_participation: bool) -> None:
    """rules.md D.2 gives the 2024 DOM table and "+11,3 %" only: the derivation used where no DOM
    table is in force must give back the published values (truncating would not)."""
    when = dt.date(2024, 6, 1)
    suffix = "avec_participation" if with_participation else "sans_participation"
    published = PARAMS.parameter(f"c2s.plafond_dom_{suffix}").at(when)
    truncated_misses = 0
    for size in (1, 2, 3, 4):
        metropole = c2s_ceiling(size, "metropole", when, with_participation, PARAMS)
        assert dom_ceiling(metropole, when, PARAMS) == published[str(size)], size  # cents
        truncated = int((Decimal(metropole) * Decimal("1.113") / 100).quantize(Decimal(1), ROUND_FLOOR)) * 100
        truncated_misses += truncated != published[str(size)]
    assert truncated_misses == 2


def test_dom_ceilings_in_2025_are_derived_and_rounded() -> None:
    assert [c2s_ceiling(n, "dom", WHEN, False, PARAMS) for n in (1, 2, 3, 4)] == [
        1_150_700,  # 10 339 × 1,113 = 11 507,307
        1_726_000,  # 15 508 × 1,113 = 17 260,404
        2_071_200,  # 18 609 × 1,113 = 20 711,817 (tronqué : 20 711)
        2_416_400,  # 21 711 × 1,113 = 24 164,343
    ]
    assert c2s_ceiling(3, "dom", WHEN, True, PARAMS) == 2_796_200  # 25 123 × 1,113 = 27 961,899


# --- Dates and months: AAAA-MM-JJ / AAAA-MM, never a crash ------------------------------------

GOOD_DATES = ["2025-06-10", "2024-02-29", "2025-12-31", "2025-01-01"]
BAD_DATES = [
    "2025-02-29",
    "2025-13-01",
    "2025-00-10",
    "2025-06-31",
    "0000-01-01",  # not a calendar day
    "20250610",
    "2025-W24-2",
    "2025-161",  # other ISO 8601 forms (Python's fromisoformat takes two)
    "2025-6-10",
    "2025-06-1",
    "+2025-06-10",
    " 2025-06-10",
    "2025-06-10 ",
    "2025-06-10\n",
    "2025-06-10T00:00:00",
    "2025-06-10Z",
    "10/06/2025",
    "2025/06/10",
    "２０２５-06-10",
    "2025-06",
    "",
]
GOOD_MONTHS = ["2024-05", "2024-12", "2025-01"]
BAD_MONTHS = [
    "2024-5",
    "2024-13",
    "2024-00",
    "202405",
    "2024-05-01",
    "2024/05",
    " 2024-05",
    "2024-05\n",
    "２０２４-05",
    "05-2024",
    "",
]


@pytest.mark.parametrize("value", GOOD_DATES)
def test_contract_dates_are_read(value: str) -> None:
    out = decide_record({**GOOD, "date_demande": value, "membres": [{"date_naissance": value}]}, PARAMS)
    assert out.get("erreur") is None, out["motif"]


@pytest.mark.parametrize("value", BAD_DATES)
@pytest.mark.parametrize("field", ["date_demande", "date_naissance"])
def test_other_date_spellings_are_a_donnee_invalide_naming_the_field(field: str, value: str) -> None:
    record = (
        {**GOOD, "date_demande": value}
        if field == "date_demande"
        else {**GOOD, "membres": [{"date_naissance": value, "role": "demandeur"}]}
    )
    out = decide_record(record, PARAMS)
    assert out["erreur"] == "DONNEE_INVALIDE" and out["decision"] is None
    assert field in out["motif"] and "AAAA-MM-JJ" in out["motif"]


@pytest.mark.parametrize("value", GOOD_MONTHS)
def test_contract_months_are_read(value: str) -> None:
    out = decide_record({**GOOD, "ressources": [{"mois": value, "montant_cts": 100}]}, PARAMS)
    assert out.get("erreur") is None, out["motif"]


@pytest.mark.parametrize("value", BAD_MONTHS)
def test_other_month_spellings_are_a_donnee_invalide(value: str) -> None:
    out = decide_record({**GOOD, "ressources": [{"mois": value, "montant_cts": 100}]}, PARAMS)
    assert out["erreur"] == "DONNEE_INVALIDE" and "AAAA-MM" in out["motif"]


def test_bad_dates_keep_their_place_in_the_batch(tmp_path: Path) -> None:
    lines = [
        GOOD,
        {**GOOD, "id": "D", "date_demande": "20250610"},
        {**GOOD, "id": "M", "ressources": [{"mois": "2024-05-01", "montant_cts": 1}]},
        {**GOOD, "id": "OK2"},
    ]
    source, target = tmp_path / "demandes.ndjson", tmp_path / "decisions.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    run(source, str(target))
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r.get("erreur")) for r in rows] == [
        ("OK", None),
        ("D", "DONNEE_INVALIDE"),
        ("M", "DONNEE_INVALIDE"),
        ("OK2", None),
    ]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.dates().map(dt.date.isoformat)
    | st.sampled_from(["2025-06", "2025-06-10", "dom"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["id", "date_demande", "zone", "membres", "ressources", "logement", "rsa"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=4), st.sampled_from(FIELDS), JSON)
def test_no_value_crashes_the_decision(overrides: dict[str, Any], field: str, value: Any) -> None:
    record = {**GOOD, **overrides, field: value}
    members = record.get("membres")
    if isinstance(members, list) and members and isinstance(members[0], dict):
        record["membres"] = [{**members[0], "date_naissance": value}]  # dates inside the members too
    out = decide_record(record, PARAMS)
    assert out["motif"] and (out.get("erreur") is None) == (out["decision"] is not None)
    json.dumps(out)
