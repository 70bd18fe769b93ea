"""``caisse ij``: bad records never stop the batch, one output line per input line, in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caisse.batch_io import UnreadableFile
from caisse.rules.allowances import compute_arret
from caisse.rules.allowances.batch import run

GOOD = {
    "id": "OK",
    "nir": None,
    "risque": "maladie",
    "date_debut": "2025-06-02",
    "date_fin": "2025-06-11",
    "salaires": [
        {"mois": "2025-03", "brut_cts": 200000},
        {"mois": "2025-04", "brut_cts": 200000},
        {"mois": "2025-05", "brut_cts": 200000},
    ],
    "heures_travaillees_3_mois": 455,
    "ald": False,
    "prolongation": False,
}


def _run(tmp_path: Path, lines: list[str]) -> list[dict[str, object]]:
    source, target = tmp_path / "arrets.ndjson", tmp_path / "ij.ndjson"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(source, str(target))
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]


def test_bad_records_get_an_error_code_and_keep_their_place(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),
        "{pas du json",
        json.dumps({**GOOD, "id": "R", "risque": "chomage"}),
        json.dumps({**GOOD, "id": "D", "date_debut": "2025-02-30"}),
        json.dumps({**GOOD, "id": "F", "date_fin": "2025-05-01"}),
        json.dumps({**GOOD, "id": "S", "salaires": [{"mois": "2025-13", "brut_cts": 1}]}),
        json.dumps({**GOOD, "id": "T", "ald": "oui"}),
        json.dumps({**GOOD, "id": "P", "date_debut": "2005-01-03", "date_fin": "2005-01-10"}),
        json.dumps({**GOOD, "id": "OK2"}),
    ]
    rows = _run(tmp_path, lines)
    assert [r["id"] for r in rows] == ["OK", None, "R", "D", "F", "S", "T", "P", "OK2"]
    assert [r["erreur"] for r in rows] == [
        None,
        "DONNEE_INVALIDE",
        "DONNEE_INVALIDE",
        "DONNEE_INVALIDE",
        "DONNEE_INVALIDE",
        "DONNEE_INVALIDE",
        "DONNEE_INVALIDE",
        "PARAMETRE_INDISPONIBLE",
        None,
    ]
    for row in rows[1:-1]:
        assert row["eligible"] is False and row["montant_total_cts"] == 0 and row["periodes"] == []
        assert isinstance(row["motif"], str) and row["motif"]
    assert rows[0]["montant_total_cts"] == rows[-1]["montant_total_cts"] == 23016


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        run(tmp_path / "absent.ndjson", str(tmp_path / "out.ndjson"))


def test_empty_file_gives_empty_output(tmp_path: Path) -> None:
    assert _run(tmp_path, []) == []


def test_single_arret_convenience() -> None:
    result = compute_arret(GOOD)
    assert result["jours_carence"] == 3
    assert result["periodes"] == [{"debut": "2025-06-05", "fin": "2025-06-11", "ij_journaliere_cts": 3288}]


def test_maternity_without_end_date_uses_the_legal_duration() -> None:
    result = compute_arret({**GOOD, "risque": "maternite", "date_fin": None, "enfants_a_charge": 0})
    assert result["jours_indemnises"] == 112
