"""Contract §2: feuilles are processed in the order (``date_reception``, ``id``). Ids given as
integers (JSON integers, an integer Parquet column) compare as numbers, 9 before 10, as integers
do; text ids compare as text, "10" before "9". The order decides who pays the debt: a feuille
under tiers payant leaves the assuré a debt (participation forfaitaire), recovered on the
assuré's next reimbursement *in that order*."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from caisse.rules.claims import batch
from caisse.rules.claims.tests.test_examples import EXAMPLE

pytestmark = pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")


def _two_feuilles(first_id: Any, second_id: Any) -> list[dict[str, Any]]:
    """One person, one day of reception: the first record (id ``first_id``) reimburses the assuré,
    the second (``second_id``) is under tiers payant and leaves a debt."""
    # F000003 of the worked example: a nursing act under tiers payant, 1 € of franchise left as a debt.
    base = json.loads((EXAMPLE / "feuilles.ndjson").read_text(encoding="utf-8").splitlines()[3])
    line = base["lignes"][0]
    assert base["id"] == "F000003" and line["date_soins"] == "2025-10-11"
    reimbursed = {**base, "id": first_id, "tiers_payant": False, "lignes": [{**line, "date_soins": "2025-10-12"}]}
    debt = {**base, "id": second_id, "tiers_payant": True, "lignes": [line]}
    return [reimbursed, debt]


def _liquider(tmp_path: Path, feuilles: list[dict[str, Any]], parquet: bool) -> dict[Any, dict[str, Any]]:
    if parquet:
        pl.DataFrame([{k: v for k, v in f.items() if k != "lignes"} for f in feuilles]).write_parquet(
            tmp_path / "feuilles.parquet")
        pl.DataFrame([{"feuille_id": f["id"], **line} for f in feuilles for line in f["lignes"]]).write_parquet(
            tmp_path / "lignes.parquet")
        source = tmp_path / "feuilles.parquet"
    else:
        source = tmp_path / "feuilles.ndjson"
        source.write_text("".join(json.dumps(f) + "\n" for f in feuilles), encoding="utf-8")
    out = tmp_path / "out.ndjson"
    batch.run(EXAMPLE / "referentiel", source, str(out), "ndjson")
    return {d["id"]: d for d in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


@pytest.mark.parametrize("parquet", [False, True], ids=["ndjson", "parquet"])
def test_integer_ids_are_processed_in_numeric_order(tmp_path: Path, parquet: bool) -> None:
    got = _liquider(tmp_path, _two_feuilles(10, 9), parquet)
    # 9 before 10: feuille 9 leaves the debt, feuille 10 (after it) recovers it.
    assert got[9]["dette_creee_cts"] > 0
    assert got[10]["dette_recuperee_cts"] == got[9]["dette_creee_cts"]


@pytest.mark.parametrize("parquet", [False, True], ids=["ndjson", "parquet"])
def test_text_ids_are_processed_in_text_order(tmp_path: Path, parquet: bool) -> None:
    got = _liquider(tmp_path, _two_feuilles("10", "9"), parquet)
    # "10" before "9": nothing to recover yet on "10".
    assert got["9"]["dette_creee_cts"] > 0
    assert got["10"]["dette_recuperee_cts"] == 0


def test_integer_ids_come_before_text_ids_of_the_same_day(tmp_path: Path) -> None:
    got = _liquider(tmp_path, _two_feuilles("A", 99), parquet=False)
    assert got["A"]["dette_recuperee_cts"] == got[99]["dette_creee_cts"] > 0


def test_chunks_follow_the_numeric_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flow liquidated in chunks of one feuille (counters carried) gives the same décomptes."""
    feuilles = _two_feuilles(10, 9)
    whole = _liquider(tmp_path, feuilles, parquet=False)
    monkeypatch.setattr(batch, "CHUNK_FEUILLES", 1)
    assert _liquider(tmp_path, feuilles, parquet=False) == whole


def test_an_id_given_as_integer_and_as_text_is_one_id_kept_in_processing_order(tmp_path: Path) -> None:
    """``7`` and ``"7"`` are one id (a repeat is a DOUBLON); the integer one comes first on the day."""
    reimbursed, debt = _two_feuilles("7", 7)
    got = [json.loads(line) for line in _liquider_lines(tmp_path, [reimbursed, debt])]
    assert [(g["id"], g["rejets"]) for g in got] == [("7", ["DOUBLON"]), (7, [])]


def _liquider_lines(tmp_path: Path, feuilles: list[dict[str, Any]]) -> list[str]:
    source = tmp_path / "feuilles.ndjson"
    source.write_text("".join(json.dumps(f) + "\n" for f in feuilles), encoding="utf-8")
    out = tmp_path / "out.ndjson"
    batch.run(EXAMPLE / "referentiel", source, str(out), "ndjson")
    return out.read_text(encoding="utf-8").splitlines()
