"""``caisse ij``: bad records never stop the batch, one output line per input line, in order."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
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
    # Lines are cut on "\n" only (str.splitlines also cuts on U+2028, valid inside a JSON string).
    return [json.loads(line) for line in target.read_text(encoding="utf-8").split("\n") if line]


def test_bad_records_get_an_error_code_and_keep_their_place(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),
        "{pas du json",
        json.dumps({**GOOD, "id": "R", "risque": "chomage"}),
        json.dumps({**GOOD, "id": "D", "date_debut": "2025-02-30"}),
        json.dumps({**GOOD, "id": "F", "date_fin": "2025-05-01"}),
        json.dumps({**GOOD, "id": "S", "salaires": [{"mois": "2025-13", "brut_cts": 1}]}),
        # Their sum would overflow 64 bits (it gave negative amounts): refused.
        json.dumps({**GOOD, "id": "X", "salaires": [{"mois": "2025-05", "brut_cts": 2**63 - 1}, {"mois": "2025-05", "brut_cts": 10}]}),
        json.dumps({**GOOD, "id": "T", "ald": "oui"}),
        json.dumps({**GOOD, "id": "P", "date_debut": "2005-01-03", "date_fin": "2005-01-10"}),
        json.dumps({**GOOD, "id": "OK2"}),
    ]
    rows = _run(tmp_path, lines)
    assert [r["id"] for r in rows] == ["OK", None, "R", "D", "F", "S", "X", "T", "P", "OK2"]
    assert [r["erreur"] for r in rows] == [
        None,
        "DONNEE_INVALIDE",
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


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_debut", "0000-06-02"),  # Polars reads year 0, which no Python date holds: crashed the batch
        ("date_debut", "-001-06-02"),
        ("date_debut", "0001-01-05"),  # no month before it for the R323-4 SMIC: crashed the batch
        ("date_debut", "2025-6-2"),  # contract dates are AAAA-MM-JJ, as in caisse liquider and caisse c2s
        ("date_debut", " 2025-06-02"),
        ("date_debut", "+2025-06-02"),
        ("date_fin", "2025-6-11"),
        ("date_accouchement", "0000-01-01"),
        ("date_premier_arret_ald", "0000-01-01"),
        ("risque", None),
    ],
)
def test_out_of_form_dates_are_bad_records_not_a_crash(tmp_path: Path, field: str, value: object) -> None:
    bad = {**GOOD, "id": "X", "risque": "maternite" if field == "date_accouchement" else "maladie", field: value}
    rows = _run(tmp_path, [json.dumps(GOOD), json.dumps(bad), json.dumps({**GOOD, "id": "OK2"})])
    assert [r["id"] for r in rows] == ["OK", "X", "OK2"]
    assert rows[1]["eligible"] is False and rows[1]["erreur"] in ("DONNEE_INVALIDE", "PARAMETRE_INDISPONIBLE")
    assert rows[1]["periodes"] == [] and rows[1]["montant_total_cts"] == 0 and rows[1]["motif"]
    assert rows[0]["montant_total_cts"] == rows[2]["montant_total_cts"] == 23016


def test_a_paid_period_beyond_year_9999_is_a_bad_record(tmp_path: Path) -> None:
    """Contract dates are AAAA-MM-JJ: a congé of December 9999 or a birth dated 9999 stretching the
    prénatal would end in year 10000 (written ``+10000-03-21``)."""
    maternity = {**GOOD, "risque": "maternite", "date_fin": None}
    rows = _run(
        tmp_path,
        [
            json.dumps({**maternity, "id": "A", "date_debut": "9999-12-01"}),
            json.dumps({**maternity, "id": "B", "date_accouchement": "9999-12-31"}),
            json.dumps({**GOOD, "id": "C", "risque": "atmp", "date_debut": "9999-12-01", "date_fin": "9999-12-31"}),
        ],
    )
    assert [(r["eligible"], r["erreur"]) for r in rows] == [
        (False, "DONNEE_INVALIDE"),
        (False, "DONNEE_INVALIDE"),
        (True, None),
    ]
    assert rows[0]["periodes"] == rows[1]["periodes"] == [] and "9999" in str(rows[0]["motif"])
    assert rows[2]["periodes"] == [
        {"debut": "9999-12-01", "fin": "9999-12-28", "ij_journaliere_cts": 3945},
        {"debut": "9999-12-29", "fin": "9999-12-31", "ij_journaliere_cts": 5260},
    ]


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


def test_each_id_comes_back_with_its_json_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        json.dumps({**GOOD, "id": 7}),
        json.dumps({**GOOD, "id": "7"}),
        json.dumps({**GOOD, "id": 123456789012345678901234567890}),
        json.dumps({**GOOD, "id": -3}),
        json.dumps({**GOOD, "id": None}),
        "{pas du json",
    ]
    rows = _run(tmp_path, lines)
    assert [r["id"] for r in rows] == [7, "7", 123456789012345678901234567890, -3, None, None]
    assert rows[0]["montant_total_cts"] == rows[1]["montant_total_cts"] == 23016
    run(tmp_path / "arrets.ndjson", "-")
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()][:4] == [
        7,
        "7",
        123456789012345678901234567890,
        -3,
    ]


def test_a_line_separator_in_a_value_does_not_cut_the_output(tmp_path: Path) -> None:
    rows = _run(tmp_path, [json.dumps({**GOOD, "id": "A\u2028B\u0085C"}), json.dumps({**GOOD, "id": 7}), json.dumps({**GOOD, "id": 8})])
    assert [r["id"] for r in rows] == ["A\u2028B\u0085C", 7, 8]


def test_integer_ids_stay_integers_through_parquet(tmp_path: Path) -> None:
    source = tmp_path / "arrets.ndjson"
    source.write_text(json.dumps({**GOOD, "id": 7}) + "\n" + json.dumps({**GOOD, "id": 8}) + "\n", encoding="utf-8")
    run(source, str(tmp_path / "ij.parquet"))
    out = pl.read_parquet(tmp_path / "ij.parquet")
    assert out.schema["id"] == pl.Int64 and out["id"].to_list() == [7, 8]
    run(tmp_path / "ij.parquet", str(tmp_path / "again.ndjson"))  # an integer id column read back
    again = (tmp_path / "again.ndjson").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in again] == [7, 8]
    # Mixed types cannot share a Parquet column: strings.
    source.write_text(json.dumps({**GOOD, "id": 7}) + "\n" + json.dumps({**GOOD, "id": "B"}) + "\n", encoding="utf-8")
    run(source, str(tmp_path / "mixed.parquet"))
    assert pl.read_parquet(tmp_path / "mixed.parquet")["id"].to_list() == ["7", "B"]


def test_a_byte_order_mark_does_not_spoil_the_first_arret(tmp_path: Path) -> None:
    # A bad second line sends the file to the line reader, which must skip the BOM as well.
    for lines in ([json.dumps(GOOD)], [json.dumps(GOOD), "{pas du json"]):
        source, target = tmp_path / "arrets.ndjson", tmp_path / "ij.ndjson"
        source.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"))
        run(source, str(target))
        first = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
        assert first["id"] == "OK" and first["erreur"] is None and first["montant_total_cts"] == 23016


def test_refused_maternity_names_the_12_month_condition(tmp_path: Path) -> None:
    arret = {**GOOD, "id": "M", "risque": "maternite", "date_fin": None, "heures_travaillees_3_mois": 100,
             "enfants_a_charge": 0, "naissance_multiple": 1}
    (row,) = _run(tmp_path, [json.dumps(arret)])
    assert row["eligible"] is False
    assert "sur les 12 mois avant le congé (minimum 24116,40 €)" in str(row["motif"])
