"""The contract's worked example: ij_arrets.ndjson → ij_attendus.ndjson, 40/40."""

from __future__ import annotations

import json
from pathlib import Path

from caisse.rules.allowances.batch import run

# Copies of shared/spec/examples/ij_*.ndjson (the contract's worked example).
EXAMPLES = Path(__file__).parent / "data"


def test_reproduces_every_expected_result(tmp_path: Path) -> None:
    out = tmp_path / "ij.ndjson"
    run(EXAMPLES / "ij_arrets.ndjson", str(out))
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected_text = (EXAMPLES / "ij_attendus.ndjson").read_text(encoding="utf-8")
    expected = [json.loads(line) for line in expected_text.splitlines()]
    assert len(got) == len(expected) == 40
    mismatches = [
        (e["id"], field, g.get(field), value)
        for g, e in zip(got, expected, strict=True)
        for field, value in e.items()
        if g.get(field) != value
    ]
    assert mismatches == []
    assert all(g["motif"] and g["erreur"] is None for g in got)
