"""Properties of the IJ engine over generated arrêts (hypothesis)."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from caisse.rules.allowances import compute_ij
from caisse.rules.allowances.limits import years_before
from caisse.rules.allowances.schema import frame_from_records
from caisse.rules.parameters import load_parameters

PARAMS = load_parameters()


@st.composite
def arrets(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.dates(dt.date(2023, 1, 1), dt.date(2026, 12, 31)))
    length = draw(st.integers(1, 400))
    risk = draw(st.sampled_from(["maladie", "maternite", "paternite", "atmp"]))
    current = start.year * 12 + start.month - 1
    salaries = [
        {"mois": f"{i // 12:04d}-{i % 12 + 1:02d}", "brut_cts": draw(st.integers(0, 2_000_000))}
        for i in range(current - 12, current + 1)
    ]
    return {
        "id": "X",
        "nir": draw(st.sampled_from([None, "185057800608436", "285057800608436"])),
        "risque": risk,
        "date_debut": start.isoformat(),
        "date_fin": (start + dt.timedelta(days=length - 1)).isoformat(),
        "salaires": salaries,
        "heures_travaillees_3_mois": draw(st.sampled_from([0, 100, 150, 455])),
        "ald": draw(st.booleans()),
        "prolongation": draw(st.booleans()),
        "enfants_a_charge": draw(st.integers(0, 4)),
        "naissance_multiple": draw(st.integers(1, 3)),
    }


def _cap(arret: dict[str, Any]) -> float:
    """The highest daily IJ the law allows for this arrêt, in cents."""
    start = dt.date.fromisoformat(arret["date_debut"])
    v = PARAMS.value
    if arret["risque"] == "maladie":
        month_before = start.replace(day=1) - dt.timedelta(days=1)
        cap = v("ij.maladie.coefficient_plafond_smic", start) * v("reference.smic_mensuel", month_before)
        return float(cap) * 3 / 91.25 * 0.5 + 0.5
    if arret["risque"] == "atmp":
        return float(v("atmp.ij.plafond_ratio_pass", start) * v("reference.pass", start)) * 0.8 + 0.5
    return float(v("reference.pmss", start)) * 3 / 91.25 * 0.79 + 0.5


@settings(max_examples=40, deadline=None)
@given(st.lists(arrets(), min_size=1, max_size=20))
def test_totals_caps_and_days(batch: list[dict[str, Any]]) -> None:
    for i, arret in enumerate(batch):
        arret["id"] = f"X{i}"
    rows = compute_ij(frame_from_records(batch), PARAMS).to_dicts()
    assert [r["id"] for r in rows] == [a["id"] for a in batch]
    for arret, row in zip(batch, rows, strict=True):
        periods = row["periodes"]
        days = [(p["fin"] - p["debut"]).days + 1 for p in periods]
        assert row["montant_total_cts"] == sum(
            d * p["ij_journaliere_cts"] for d, p in zip(days, periods, strict=True)
        )
        assert row["jours_indemnises"] == sum(days)
        assert all(p["ij_journaliere_cts"] <= _cap(arret) for p in periods)
        length = (
            dt.date.fromisoformat(arret["date_fin"]) - dt.date.fromisoformat(arret["date_debut"])
        ).days + 1
        assert row["jours_carence"] + row["jours_indemnises"] <= length
        if arret["risque"] != "maladie":
            assert row["jours_carence"] == 0
        if not row["eligible"]:
            assert row["montant_total_cts"] == 0 and periods == []


@settings(max_examples=40, deadline=None)
@given(arrets(), st.integers(0, 500_000))
def test_more_salary_never_lowers_the_ij(arret: dict[str, Any], raise_cts: int) -> None:
    arret = {**arret, "nir": None}  # two different people: no shared 360-IJ or ALD history
    richer = {
        **arret,
        "id": "Y",
        "salaires": [{**s, "brut_cts": s["brut_cts"] + raise_cts} for s in arret["salaires"]],
    }
    before, after = compute_ij(frame_from_records([arret, richer]), PARAMS).to_dicts()
    assert after["montant_total_cts"] >= before["montant_total_cts"]


@settings(max_examples=30, deadline=None)
@given(st.lists(arrets(), min_size=2, max_size=12))
def test_never_more_than_360_ij_over_3_years(batch: list[dict[str, Any]]) -> None:
    for i, arret in enumerate(batch):
        arret.update(
            id=f"X{i}", nir="185057800608436", risque="maladie", ald=False, heures_travaillees_3_mois=455
        )
    rows = compute_ij(frame_from_records(batch), PARAMS).to_dicts()
    paid = sorted(
        p["debut"] + dt.timedelta(days=n)
        for row in rows
        for p in row["periodes"]
        for n in range((p["fin"] - p["debut"]).days + 1)
    )
    for i, day in enumerate(paid):
        window_start = years_before(day, 3)  # the window is (window_start, day]
        assert i + 1 - bisect_right(paid, window_start) <= 360
