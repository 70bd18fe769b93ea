"""The simulated flows are accepted as is by the contract's engines (§2, §3, §4)."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from caisse.simulation.tests.conftest import read_ndjson


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


needs_claims = pytest.mark.skipif(
    _missing("caisse.rules.claims.batch"), reason="claims engine (caisse.rules.claims.batch) not available"
)


@needs_claims
def test_liquider_rejects_only_the_deliberate_records(medium: Path, tmp_path: Path) -> None:
    from caisse.rules.claims.batch import run

    out = tmp_path / "decomptes.ndjson"
    run(medium / "referentiel", medium / "feuilles.ndjson", str(out), "ndjson")
    decomptes = read_ndjson(out)
    feuilles = read_ndjson(medium / "feuilles.ndjson")
    assert [r["id"] for r in decomptes] == [f["id"] for f in feuilles]
    expected = {r["id"]: r["anomalie"] for r in read_ndjson(medium / "anomalies.ndjson")}
    found: dict[str, set[str]] = {}
    for r in decomptes:
        codes = set(r["rejets"]) | {c for line in r.get("lignes", []) for c in line["rejets"]}
        if codes:
            found.setdefault(r["id"], set()).update(codes)
    unexpected = {i: c for i, c in found.items() if i not in expected}
    assert unexpected == {}
    invalid = {i for i, c in found.items() if "DONNEE_INVALIDE" in c}
    assert invalid == {i for i, k in expected.items() if k == "DONNEE_INVALIDE"}
    missed = Counter(k for i, k in expected.items() if k not in found.get(i, set()))
    assert missed == Counter()


@needs_claims
def test_liquider_reads_the_parquet_pair(small_parquet: Path, tmp_path: Path) -> None:
    from caisse.rules.claims.batch import run

    out = tmp_path / "decomptes.parquet"
    run(small_parquet / "referentiel", small_parquet / "feuilles.parquet", str(out), "parquet")
    decomptes = pl.read_parquet(out)
    assert decomptes.height == pl.read_parquet(small_parquet / "feuilles.parquet").height
    rejected = set(decomptes.filter(pl.col("rejets").list.len() > 0)["id"].to_list())
    expected = {r["id"] for r in read_ndjson(small_parquet / "anomalies.ndjson")}
    assert rejected <= expected


@pytest.mark.skipif(_missing("caisse.rules.allowances.batch"), reason="IJ engine not available")
def test_ij_computes_every_arret(small: Path, tmp_path: Path) -> None:
    from caisse.rules.allowances.batch import run

    out = tmp_path / "ij.ndjson"
    run(small / "arrets.ndjson", str(out))
    results = read_ndjson(out)
    arrets = read_ndjson(small / "arrets.ndjson")
    assert [r["id"] for r in results] == [a["id"] for a in arrets]
    assert sum(r["eligible"] for r in results) >= 0.9 * len(results)


@pytest.mark.skipif(_missing("caisse.rules.c2s.batch"), reason="C2S engine not available")
def test_c2s_decides_every_request(medium: Path, tmp_path: Path) -> None:
    from caisse.rules.c2s.batch import run

    out = tmp_path / "c2s.ndjson"
    run(medium / "demandes_c2s.ndjson", str(out))
    decisions = read_ndjson(out)
    assert len(decisions) == len(read_ndjson(medium / "demandes_c2s.ndjson"))
    kinds = Counter(r["decision"] for r in decisions)
    assert set(kinds) == {"c2s_gratuite", "c2s_participation", "refus"}  # no invalid request
    assert kinds["c2s_gratuite"] and kinds["c2s_participation"] and kinds["refus"]
