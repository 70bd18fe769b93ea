"""``caisse c2s`` on bad records, and the AME decision (CASF L251-1, L252-3)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from caisse.rules.c2s import AMERequest, Member, MonthlyResource, decide_ame
from caisse.rules.c2s.batch import run

GOOD = {
    "id": "OK",
    "date_demande": "2025-06-10",
    "zone": "metropole",
    "membres": [{"date_naissance": "1990-05-01", "role": "demandeur"}],
    "ressources": [{"mois": "2024-05", "montant_cts": 50000}],
    "logement": "locataire",
    "rsa": False,
}


def test_bad_records_get_an_error_code_and_keep_their_place(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),
        "[1, 2]",
        json.dumps({**GOOD, "id": "Z", "zone": "mars"}),
        json.dumps({**GOOD, "id": "M", "membres": []}),
        json.dumps({**GOOD, "id": "R", "ressources": [{"mois": "2024-5", "montant_cts": 1}]}),
        json.dumps({**GOOD, "id": "N", "ressources": [{"mois": "2024-05", "montant_cts": -1}]}),
        json.dumps({**GOOD, "id": "P", "date_demande": "2015-06-10"}),
        json.dumps({**GOOD, "id": "OK2"}),
    ]
    source, target = tmp_path / "demandes.ndjson", tmp_path / "decisions.ndjson"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(source, str(target))
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["OK", None, "Z", "M", "R", "N", "P", "OK2"]
    assert [r.get("erreur") for r in rows] == [
        None,
        "DONNEE_INVALIDE",
        "DONNEE_INVALIDE",
        "DONNEE_INVALIDE",
        "DONNEE_INVALIDE",
        "DONNEE_INVALIDE",
        "PARAMETRE_INDISPONIBLE",
        None,
    ]
    assert rows[0]["decision"] == "c2s_gratuite" and rows[0]["ressources_retenues_cts"] == 50000
    assert all(r["motif"] for r in rows)


def _ame(start_residence: dt.date | None, yearly_cts: int, births: list[dt.date]) -> AMERequest:
    months = [f"2024-{m:02d}" for m in range(5, 13)] + [f"2025-{m:02d}" for m in range(1, 5)]
    return AMERequest(
        date_demande=dt.date(2025, 6, 10),
        zone="metropole",
        membres=tuple(Member(b) for b in births),
        ressources=tuple(MonthlyResource(m, yearly_cts // 12) for m in months),
        date_debut_residence=start_residence,
    )


def test_ame_granted_for_one_year_under_the_ceiling_after_3_months() -> None:
    decision = decide_ame(_ame(dt.date(2025, 1, 2), 1_000_000, [dt.date(1990, 1, 1)]))
    assert decision.eligible and decision.plafond_cts == 1_033_900
    assert (decision.debut, decision.fin) == (dt.date(2025, 6, 10), dt.date(2026, 6, 9))


def test_ame_refused_above_the_c2s_free_ceiling() -> None:
    decision = decide_ame(_ame(dt.date(2020, 1, 1), 1_040_000, [dt.date(1990, 1, 1)]))
    assert not decision.eligible and decision.fin is None


def test_ame_refused_without_3_months_of_residence() -> None:
    decision = decide_ame(_ame(dt.date(2025, 3, 10), 500_000, [dt.date(1990, 1, 1)]))
    assert not decision.eligible


def test_ame_minors_need_neither_residence_nor_resources() -> None:
    decision = decide_ame(_ame(None, 5_000_000, [dt.date(1990, 1, 1), dt.date(2015, 3, 3)]))
    assert decision.eligible and decision.membres_eligibles == (False, True)


def _decide(tmp_path: Path, records: list[dict[str, Any]], bom: bool = False) -> list[dict[str, Any]]:
    source, target = tmp_path / "demandes.ndjson", tmp_path / "decisions.ndjson"
    text = "".join(json.dumps(r) + "\n" for r in records)
    source.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    run(source, str(target))
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]


def test_null_or_empty_optional_fields_take_their_default_like_absent_ones(tmp_path: Path) -> None:
    member = {"date_naissance": "1990-05-01"}
    absent: dict[str, Any] = {"id": "A", "date_demande": "2025-06-10", "membres": [member]}
    nulls = {**absent, "id": "N", "zone": None, "logement": None, "rsa": None, "ressources": None,
             "membres": [{**member, "role": None}]}
    empty = {**absent, "id": "E", "zone": "", "logement": "", "rsa": "", "ressources": "",
             "membres": [{**member, "role": ""}]}
    explicit = {**absent, "id": "X", "zone": "metropole", "logement": "locataire", "rsa": False, "ressources": [],
                "membres": [{**member, "role": "demandeur"}]}
    rows = _decide(tmp_path, [absent, nulls, empty, explicit])
    assert all(r.get("erreur") is None for r in rows), [r["motif"] for r in rows]
    decisions = [{k: v for k, v in r.items() if k != "id"} for r in rows]
    assert decisions == [decisions[-1]] * 4
    # Required fields stay required when null.
    required = _decide(tmp_path, [{**absent, "date_demande": None}, {**absent, "membres": [{"date_naissance": None}]},
                                  {**absent, "id": None}, {**absent, "zone": "mars"}])
    assert [r["erreur"] for r in required] == ["DONNEE_INVALIDE"] * 4


def test_integer_id_is_echoed_as_an_integer(tmp_path: Path) -> None:
    rows = _decide(tmp_path, [{**GOOD, "id": 7}, {**GOOD, "id": "7"}])
    assert [r["id"] for r in rows] == [7, "7"]


def test_a_byte_order_mark_does_not_spoil_the_first_request(tmp_path: Path) -> None:
    rows = _decide(tmp_path, [GOOD, {**GOOD, "id": "OK2"}], bom=True)
    assert [r["id"] for r in rows] == ["OK", "OK2"]
    assert rows[0].get("erreur") is None and rows[0]["decision"] == "c2s_gratuite"


def test_a_line_that_is_not_utf8_is_a_bad_record_and_the_batch_goes_on(tmp_path: Path) -> None:
    src = tmp_path / "demandes.ndjson"
    good = json.dumps(GOOD).encode("utf-8")
    src.write_bytes(good + b'\n{"id": "X\xff"}\n' + good + b"\n")
    out = tmp_path / "out.ndjson"
    run(src, str(out))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("erreur") for r in rows] == [None, "DONNEE_INVALIDE", None]


def test_an_unreadable_file_leaves_the_output_as_it_was(tmp_path: Path) -> None:
    import pytest

    from caisse.batch_io import UnreadableFile

    out = tmp_path / "out.ndjson"
    out.write_text("résultats précédents\n", encoding="utf-8")
    with pytest.raises(UnreadableFile):
        run(tmp_path / "absent.ndjson", str(out))
    assert out.read_text(encoding="utf-8") == "résultats précédents\n"
