"""AT/MP deadlines: legal scenarios (YAML, each citing its article) and properties."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from caisse.rules.atmp.deadlines import (
    CaseFacts,
    CaseType,
    DeadlineCode,
    ProcedureRules,
    case_deadlines,
    decision_deadline,
    hours_excluding_sundays_and_holidays,
    implicit_recognition_due,
    jours_francs,
)
from caisse.rules.calendar import is_public_holiday, is_working_day
from caisse.rules.parameters import ParameterError, load_parameters

SCENARIOS = yaml.safe_load((Path(__file__).parent.parent / "scenarios" / "delais.yaml").read_text(encoding="utf-8"))
RULES = ProcedureRules.at(load_parameters(), dt.date(2026, 1, 1))


def _facts(data: dict[str, Any]) -> CaseFacts:
    return CaseFacts(
        case_type=CaseType(data["type"]),
        event_date=data["date_evenement"],
        declared_by_employer=data.get("declaration_employeur", True),
        declaration_date=data.get("date_declaration"),
        received_date=data.get("date_reception"),
        cmi_received=data.get("date_reception_cmi"),
        employer_copy_received=data.get("date_copie_employeur"),
        investigation=data.get("enquete", False),
        questionnaires_sent=data.get("questionnaires_envoyes"),
        consultation_opened=data.get("consultation_ouverte"),
        crrmp_referred=data.get("saisine_crrmp"),
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["nom"] for s in SCENARIOS])
def test_legal_scenario(scenario: dict[str, Any]) -> None:
    assert scenario["article"], "chaque scénario cite son article"
    if scenario["calcul"] == "jours_francs":
        due = jours_francs(scenario["depart"], scenario["jours"], extend=scenario.get("prorogation", True))
        assert due == scenario["attendu"]
    elif scenario["calcul"] == "heures":
        assert hours_excluding_sundays_and_holidays(scenario["depart"], scenario["heures"]) == scenario["attendu"]
    else:
        found = {d.code: d.due for d in case_deadlines(_facts(scenario["dossier"]), RULES)}
        for code, expected in scenario["attendu"].items():
            assert found[DeadlineCode(code)] == expected, code
        for code in scenario.get("absents", []):
            assert DeadlineCode(code) not in found


def test_calendar_knows_the_french_public_holidays() -> None:
    for day in (dt.date(2026, 5, 1), dt.date(2026, 7, 14), dt.date(2026, 4, 6), dt.date(2026, 12, 25),
                dt.date(2026, 11, 11), dt.date(2026, 5, 14)):
        assert is_public_holiday(day) and not is_working_day(day)
    assert is_working_day(dt.date(2026, 7, 15))
    assert not is_working_day(dt.date(2026, 7, 18))  # samedi


def test_procedure_before_the_2019_decree_is_a_french_error() -> None:
    with pytest.raises(ParameterError, match="n'a pas de valeur en vigueur"):
        ProcedureRules.at(load_parameters(), dt.date(2019, 11, 30))


def test_the_prolongation_is_a_dated_parameter() -> None:
    params = load_parameters({"atmp.procedure.prorogation_jour_non_ouvre": {dt.date(2027, 1, 1): False}})
    assert ProcedureRules.at(params, dt.date(2026, 12, 31)).extend_to_working_day
    assert not ProcedureRules.at(params, dt.date(2027, 1, 1)).extend_to_working_day


def test_investigation_extends_the_at_decision_deadline_and_implicit_recognition_follows_it() -> None:
    facts = CaseFacts(CaseType.AT, dt.date(2026, 6, 5), received_date=dt.date(2026, 6, 8),
                      cmi_received=dt.date(2026, 6, 12))
    short = decision_deadline(facts, RULES)
    assert short is not None and short.due == dt.date(2026, 7, 13) and short.article == "R441-7"
    assert not implicit_recognition_due(facts, RULES, dt.date(2026, 7, 13))
    assert implicit_recognition_due(facts, RULES, dt.date(2026, 7, 14))
    assert not implicit_recognition_due(replace(facts, investigation=True), RULES, dt.date(2026, 7, 14))


def test_no_decision_deadline_before_both_declaration_and_certificate_are_received() -> None:
    facts = CaseFacts(CaseType.AT, dt.date(2026, 6, 5), received_date=dt.date(2026, 6, 8))
    assert decision_deadline(facts, RULES) is None
    assert not implicit_recognition_due(facts, RULES, dt.date(2030, 1, 1))


def test_negative_or_partial_day_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="négatif"):
        jours_francs(dt.date(2026, 1, 1), -1)
    with pytest.raises(ValueError, match="multiple"):
        hours_excluding_sundays_and_holidays(dt.date(2026, 1, 1), 36)


# --- Properties --------------------------------------------------------------------------------------

days_2020_2035 = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))
delays = st.integers(min_value=0, max_value=400)


@settings(deadline=None, max_examples=300)
@given(start=days_2020_2035, n=delays)
def test_deadline_is_at_least_start_plus_n_and_at_most_a_few_days_later(start: dt.date, n: int) -> None:
    due = jours_francs(start, n)
    assert due >= start + dt.timedelta(days=n)
    assert (due - (start + dt.timedelta(days=n))).days <= 4  # longest run: Christmas-type week-ends
    assert jours_francs(start, n, extend=False) == start + dt.timedelta(days=n)


@settings(deadline=None, max_examples=300)
@given(start=days_2020_2035, n=delays)
def test_extended_deadline_never_lands_on_a_weekend_or_holiday(start: dt.date, n: int) -> None:
    due = jours_francs(start, n)
    assert due.weekday() < 5
    assert not is_public_holiday(due)


@settings(deadline=None, max_examples=300)
@given(a=days_2020_2035, b=days_2020_2035, n=delays, m=delays)
def test_deadline_is_monotonic_in_start_and_in_length(a: dt.date, b: dt.date, n: int, m: int) -> None:
    first, second = sorted((a, b))
    assert jours_francs(first, n) <= jours_francs(second, n)
    short, long_ = sorted((n, m))
    assert jours_francs(a, short) <= jours_francs(a, long_)


@settings(deadline=None, max_examples=200)
@given(start=days_2020_2035)
def test_48_hours_skip_sundays_and_holidays_only(start: dt.date) -> None:
    due = hours_excluding_sundays_and_holidays(start, 48)
    assert due >= start + dt.timedelta(days=2)
    assert due.weekday() != 6 and not is_public_holiday(due)
    counted = [start + dt.timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(1 for d in counted if d.weekday() != 6 and not is_public_holiday(d)) == 2
