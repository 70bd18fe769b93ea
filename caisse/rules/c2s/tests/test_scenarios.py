"""Legal scenarios of ``scenarios/c2s.yaml``, each citing its article."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from caisse.rules.c2s.batch import decide_record
from caisse.rules.parameters import load_parameters

SCENARIOS = yaml.safe_load((Path(__file__).parents[1] / "scenarios" / "c2s.yaml").read_text(encoding="utf-8"))


def _iso(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def request_from_scenario(raw: dict[str, Any]) -> dict[str, Any]:
    """Expand the scenario shorthands into a contract §3 input line."""
    request: dict[str, Any] = _iso(dict(raw))
    when = dt.date.fromisoformat(request["date_demande"])
    members = []
    for member in request.pop("membres"):
        birth, role = member.split()
        members.append({"date_naissance": birth, "role": role})
    request["membres"] = members
    total = request.pop("ressources_annuelles_cts", None)
    if total is not None:
        current = when.year * 12 + when.month - 1
        months = [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(current - 13, current - 1)]
        share, rest = divmod(total, 12)
        request["ressources"] = [
            {"mois": m, "montant_cts": share + (rest if i == 0 else 0)} for i, m in enumerate(months)
        ]
    request.setdefault("id", "S")
    request.setdefault("zone", "metropole")
    request.setdefault("logement", "locataire")
    request.setdefault("rsa", False)
    return request


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["nom"] for s in SCENARIOS])
def test_scenario(scenario: dict[str, Any]) -> None:
    assert scenario.get("article"), "chaque scénario cite son article"
    decision = decide_record(request_from_scenario(scenario["demande"]), load_parameters())
    assert "erreur" not in decision, decision["motif"]
    for field, expected in _iso(scenario["attendu"]).items():
        assert decision[field] == expected, f"{field} : {decision['motif']}"
