"""Real-time sized batches (each person and each id at most once, as the API forms them, and
batches that repeat them) give the large-batch paths' output, with counters carried from the
feuilles before them: décomptes, lines and the counters after the batch."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

from caisse.rules.claims import engine, frames, records
from caisse.rules.claims.counters import Counters
from caisse.rules.claims.referentiel import load_referentiel
from caisse.rules.claims.tests.test_examples import EXAMPLE

pytestmark = pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")


def _independent(feuilles: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Batches of a few feuilles, no two of the same person or with the same id (first come,
    first placed), as the API's micro-batches."""
    batches: list[tuple[set[str], list[dict[str, Any]]]] = []
    for feuille in feuilles:
        keys = {f"nir:{feuille.get('nir')}", f"id:{feuille.get('id')}"}
        for used, members in batches:
            if used.isdisjoint(keys) and len(members) < 6:
                used.update(keys)
                members.append(feuille)
                break
        else:
            batches.append((keys, [feuille]))
    return [members for _, members in batches]


def _both_ways(monkeypatch: pytest.MonkeyPatch, ref: Any, batch: list[dict[str, Any]],
               counters: Counters) -> tuple[tuple[pl.DataFrame, pl.DataFrame, Counters], ...]:
    f, lines = records.frames_from_records(batch)
    out = []
    for small_rows in (0, 10**12):  # the large paths, then the small ones
        monkeypatch.setattr(frames, "SMALL_ROWS", small_rows)
        out.append(engine.liquidate(ref, f, lines, counters))
    return out[0], out[1]


def _same_counters(big: Counters, small: Counters) -> None:
    """The same rows (the counters' tables come from groupings: their order is not kept)."""
    for name in ("annual", "debt", "daily", "seen_ids", "seen_acts"):
        expected, got = getattr(big, name), getattr(small, name)
        assert got.sort(got.columns).equals(expected.sort(expected.columns)), name


def test_real_time_batches_same_output_as_large_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = load_referentiel(EXAMPLE / "referentiel")
    feuilles = [json.loads(line) for line in (EXAMPLE / "feuilles.ndjson").read_text().splitlines() if line.strip()]
    # The first half liquidated once: its counters (caps consumed, debts, acts and ids seen) are
    # carried into every batch of the second half.
    f, lines = records.frames_from_records(feuilles[:100])
    _, _, counters = engine.liquidate(ref, f, lines)
    assert counters.debt.height and counters.seen_acts.height and counters.annual.height
    rest = feuilles[100:]
    batches = _independent(rest)
    assert max(len(b) for b in batches) > 2
    # Also batches that repeat a person and an id (the windows' paths), and the same feuilles
    # without counters.
    batches += [rest[:12], [rest[0], rest[0]]]
    for batch in batches:
        for carried in (counters, Counters()):
            (big_d, big_l, big_c), (small_d, small_l, small_c) = _both_ways(monkeypatch, ref, batch, carried)
            assert small_d.equals(big_d), (batch, small_d, big_d)
            assert small_l.equals(big_l), batch
            _same_counters(big_c, small_c)
            assert records.records_from_frames(small_d, small_l) == records.records_from_frames(big_d, big_l)


def test_empty_frame_is_a_fresh_frame_of_the_schema() -> None:
    schema = {"nir": pl.String(), "jour": pl.Date(), "codes": pl.List(pl.String())}
    first = frames.empty(schema)
    assert first.equals(pl.DataFrame(schema=schema)) and first.schema == pl.Schema(schema)
    first.insert_column(0, pl.Series("x", [], dtype=pl.Int64))  # changing one copy leaves the next alone
    assert frames.empty(schema).columns == ["nir", "jour", "codes"]
