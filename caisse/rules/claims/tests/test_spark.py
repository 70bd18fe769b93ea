"""The Spark runner (local[2]) gives exactly the Polars batch's output."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from caisse.rules.claims import batch
from caisse.rules.claims.referentiel import load_referentiel

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed")

from caisse.rules.claims import spark as spark_runner  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[4] / "shared" / "spec" / "examples" / "liquider"
if not EXAMPLE.exists():  # the shared folder sits next to the repository
    EXAMPLE = Path("/work/shared/spec/examples/liquider")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("Java is not available: Spark cannot start")
    try:
        session = spark_runner.local_session(partitions=4, cores=2, app="caisse-test-spark")
        session.sparkContext.setLogLevel("ERROR")
    except Exception as exc:  # noqa: BLE001 - any start failure means: no Spark here
        pytest.skip(f"Spark could not start: {type(exc).__name__}: {exc}")
    yield session
    session.stop()


def _polars(ref_dir: Path, feuilles: Path, explanations: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    ref = load_referentiel(ref_dir)
    f, lines = batch.read_feuilles(feuilles)
    d, lo, _ = batch.liquidate_in_chunks(
        ref, f, lines, explanations=explanations, carry=False
    )
    return batch._decomptes_table(d), batch._lignes_table(lo)


def _assert_same(expected: tuple[pl.DataFrame, pl.DataFrame], got: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    for want, have in zip(expected, got, strict=True):
        assert have.columns == want.columns
        assert have.height == want.height
        for column in want.columns:
            assert have.get_column(column).to_list() == want.get_column(column).to_list(), column


def _example_with_cross_person_duplicates(folder: Path) -> Path:
    """The contract example plus repeated feuille ids under other persons: one copy received
    before the original (the original becomes the DOUBLON), one after (the copy is)."""
    records = [
        json.loads(line) for line in (EXAMPLE / "feuilles.ndjson").read_text().splitlines() if line.strip()
    ]
    nirs = sorted({r["nir"] for r in records if isinstance(r.get("nir"), str)})
    extra = []
    for k, original in enumerate(records[:12]):
        copy = dict(original)
        copy["nir"] = (
            nirs[(nirs.index(original["nir"]) + 7 * (k + 1)) % len(nirs)]
            if original.get("nir") in nirs
            else nirs[k]
        )
        copy["date_reception"] = "2025-01-02" if k % 2 == 0 else "2026-12-30"
        extra.append(copy)
    path = folder / "feuilles.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in records + extra))
    return path


@pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")
def test_contract_example_identical_to_polars(spark: Any) -> None:
    ref_dir, feuilles = EXAMPLE / "referentiel", EXAMPLE / "feuilles.ndjson"
    expected = _polars(ref_dir, feuilles, explanations=True)
    got = spark_runner.liquidate_spark_polars(spark, ref_dir, feuilles, partitions=3, explanations=True)
    _assert_same(expected, got)
    assert got[0].get_column("statut").n_unique() > 1  # the example has rejections


@pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")
def test_same_id_under_two_persons_is_a_doublon_as_on_one_machine(spark: Any, tmp_path: Path) -> None:
    feuilles = _example_with_cross_person_duplicates(tmp_path)
    expected = _polars(EXAMPLE / "referentiel", feuilles, explanations=False)
    assert expected[0].filter(pl.col("rejets").list.contains("DOUBLON")).height >= 12
    for partitions in (1, 4):
        got = spark_runner.liquidate_spark_polars(
            spark, EXAMPLE / "referentiel", feuilles, partitions=partitions, explanations=False
        )
        _assert_same(expected, got)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from caisse.simulation import generator

    out = tmp_path_factory.mktemp("flux")
    generator.run(2000, 2025, 7, out, "parquet")
    return out


def _simulated_inputs(folder: Path) -> tuple[Path, Path]:
    ref = folder / "referentiel"
    feuilles = folder / "feuilles.parquet"
    if not feuilles.exists():
        candidates = sorted(folder.rglob("feuilles.parquet"))
        assert candidates, f"no feuilles.parquet under {folder}"
        feuilles = candidates[0]
    return ref, feuilles


def test_simulated_flow_identical_and_partition_count_free(
    spark: Any, simulated: Path, tmp_path: Path
) -> None:
    ref_dir, feuilles = _simulated_inputs(simulated)
    expected = _polars(ref_dir, feuilles, explanations=True)
    assert expected[1].height > 10_000
    got = spark_runner.liquidate_spark_polars(spark, ref_dir, feuilles, partitions=4, explanations=True)
    _assert_same(expected, got)
    # Another partition count, through the Parquet writer of the Spark runner.
    out = tmp_path / "out"
    spark_runner.liquidate_spark(spark, ref_dir, feuilles, out, partitions=7, explanations=True)
    written = (
        pl.read_parquet(out / "decomptes.parquet" / "*.parquet").sort("feuille_position"),
        pl.read_parquet(out / "lignes_decomptes.parquet" / "*.parquet").sort("feuille_position", "ligne"),
    )
    _assert_same(expected, written)
