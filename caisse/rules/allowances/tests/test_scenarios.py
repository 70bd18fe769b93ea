"""Legal scenarios of ``scenarios/ij.yaml``, each citing its article."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from caisse.rules.allowances import compute_ij
from caisse.rules.allowances.schema import frame_from_records

SCENARIOS = yaml.safe_load((Path(__file__).parents[1] / "scenarios" / "ij.yaml").read_text(encoding="utf-8"))


def _iso(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def arret_from_scenario(raw: dict[str, Any], default_id: str) -> dict[str, Any]:
    """Expand the scenario shorthands into a contract §4 input line."""
    arret: dict[str, Any] = _iso(dict(raw))
    monthly = arret.pop("salaire_mensuel_cts", None)
    if monthly is not None:
        start = dt.date.fromisoformat(arret["date_debut"])
        current = start.year * 12 + start.month - 1
        arret["salaires"] = [
            {"mois": f"{i // 12:04d}-{i % 12 + 1:02d}", "brut_cts": monthly * (2 if i == current else 1)}
            for i in range(current - 12, current + 1)
        ]
    arret.setdefault("id", default_id)
    arret.setdefault("nir", None)
    arret.setdefault("heures_travaillees_3_mois", 455)
    arret.setdefault("ald", False)
    arret.setdefault("prolongation", False)
    return arret


def results(arrets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    frame = compute_ij(frame_from_records(arrets))
    rows = frame.to_dicts()
    for row in rows:
        row["periodes"] = _iso(row["periodes"])
    return rows


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["nom"] for s in SCENARIOS])
def test_scenario(scenario: dict[str, Any]) -> None:
    assert scenario.get("article"), "chaque scénario cite son article"
    if "arret" in scenario:
        arrets, expectations = [scenario["arret"]], [scenario["attendu"]]
    else:
        arrets, expectations = scenario["arrets"], scenario["attendus"]
    got = results([arret_from_scenario(a, f"S{i}") for i, a in enumerate(arrets)])
    for row, expected in zip(got, expectations, strict=True):
        assert row["erreur"] is None, row["motif"]
        for field, value in _iso(expected).items():
            assert row[field] == value, f"{row['id']} {field} : {row['motif']}"
