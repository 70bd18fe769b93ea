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
    """The in-memory result as ``caisse liquider --format parquet`` writes it (ids in the input's type)."""
    ref = load_referentiel(ref_dir)
    f, lines, integer_ids = batch.read_flow(feuilles)
    d, lo, _ = batch.liquidate_in_chunks(
        ref, f, lines, explanations=explanations, carry=False
    )
    parquet = batch.parquet_id_dtype(feuilles) if batch.is_parquet_flow(feuilles) else None
    id_dtype = batch.output_id_dtype(f, integer_ids, parquet)
    return batch._decomptes_table(d, id_dtype), batch._lignes_table(lo, id_dtype)


def _assert_same(expected: tuple[pl.DataFrame, pl.DataFrame], got: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    for want, have in zip(expected, got, strict=True):
        assert have.columns == want.columns
        assert have.height == want.height
        for column in ("id", "feuille_id"):  # the ids come back in the input's type
            if column in want.columns:
                assert have.schema[column] == want.schema[column] or (
                    want.schema[column] == pl.UInt64() and isinstance(have.schema[column], pl.Decimal)
                ), (column, have.schema[column], want.schema[column])
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


def _awkward_parquet_flow(folder: Path) -> Path:
    """The partitioned runner's generated flow (caps reached, debts, duplicate acts, unknown
    codes, invalid care dates, orphan lines, lines shuffled out of feuille order, a null and an
    unknown NIR) plus what only the in-memory reader accepts: invalid reception dates, feuille
    ids repeated under the same or another person (before and after the original), whose lines
    split evenly between the occurrences or not, null feuille ids and lines with a null
    ``feuille_id``."""
    from caisse.rules.claims.tests.test_partitioned import _generated_flow

    ref = _generated_flow(folder)
    f = pl.read_parquet(folder / "feuilles.parquet")
    lines = pl.read_parquet(folder / "lignes.parquet")
    nirs = f.get_column("nir").drop_nulls().unique(maintain_order=True)
    # Repeated ids: 40 feuilles sent again under their id, half under another person; the copies
    # of the first 20 are received the day before (the original becomes the DOUBLON). The copies
    # of even rank get as many lines again (the lines then split into one block per occurrence).
    originals = f.slice(500, 40).with_row_index("_k")
    copies = originals.with_columns(
        pl.when(pl.col("_k") % 2 == 0).then(pl.lit(nirs[0])).otherwise("nir").alias("nir"),
        pl.when(pl.col("_k") < 20)
        .then(pl.col("date_reception") - pl.duration(days=1))
        .otherwise(pl.col("date_reception") + pl.duration(days=3))
        .alias("date_reception"),
    )
    even = copies.filter(pl.col("_k") % 2 == 0).select(pl.col("id").alias("feuille_id"))
    copy_lines = lines.join(even, on="feuille_id").with_columns(pl.col("montant_facture_cts") + 100)
    null_ids = pl.concat([f.slice(900, 1), f.slice(2900, 1)]).with_columns(
        pl.lit(None, dtype=pl.String).alias("id")
    )
    f = pl.concat([f, copies.drop("_k"), null_ids], how="vertical_relaxed")
    null_lines = lines.head(5).with_columns(pl.lit(None, dtype=pl.String).alias("feuille_id"))
    lines = pl.concat([lines, copy_lines, null_lines]).sample(fraction=1.0, shuffle=True, seed=11)
    # Reception dates as text, some not dates.
    f = f.with_columns(pl.col("date_reception").cast(pl.String)).with_columns(
        pl.when(pl.int_range(pl.len()) % 4001 == 7)
        .then(pl.lit("2025-02-30"))
        .when(pl.int_range(pl.len()) == 12)
        .then(pl.lit("pas une date"))
        .otherwise("date_reception")
        .alias("date_reception")
    )
    f.write_parquet(folder / "feuilles.parquet", row_group_size=2_000)
    lines.write_parquet(folder / "lignes.parquet", row_group_size=3_000)
    return ref


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("awkward")
    return _awkward_parquet_flow(folder), folder


@pytest.fixture()
def small_splits(spark: Any) -> Iterator[None]:
    """Input files cut into many splits (several tasks read each file)."""
    key = "spark.sql.files.maxPartitionBytes"
    saved = spark.conf.get(key)
    spark.conf.set(key, "65536")
    yield
    spark.conf.set(key, saved)


def test_parquet_read_by_spark_gives_the_in_memory_frames(
    spark: Any, awkward: tuple[Path, Path], small_splits: None
) -> None:
    """Input positions, conversions and the attachment of lines to feuilles, computed by Spark's
    tasks, are the in-memory reader's."""
    _, folder = awkward
    want_f, want_l = batch.read_parquet_feuilles(folder)
    for name in ("feuilles.parquet", "lignes.parquet"):
        assert spark.read.parquet(str(folder / name)).rdd.getNumPartitions() > 2
    f, lines = spark_runner.read_parquet_spark(spark, folder)
    got_f = pl.from_arrow(f.drop("nir_key").toArrow())
    got_l = pl.from_arrow(lines.toArrow())
    assert isinstance(got_f, pl.DataFrame) and isinstance(got_l, pl.DataFrame)
    got_f = got_f.sort("_pos").select(want_f.columns)
    assert got_f.equals(want_f.cast(got_f.schema))
    n_feuilles = pl.read_parquet(folder / "feuilles.parquet").height
    assert got_f.get_column("_pos").to_list() == list(range(n_feuilles))
    ranked = batch.rank_lines(got_l.drop("nir_key"))
    assert ranked.equals(want_l.select(ranked.columns).cast(ranked.schema))
    # Each line travels with its feuille's person.
    nir_of = got_f.select(pl.col("_pos").alias("_fpos"), pl.col("nir").fill_null("").alias("nir_key"))
    assert got_l.select("_fpos", "nir_key").join(nir_of, on=["_fpos", "nir_key"]).height == got_l.height
    # The flow holds what it must: repeats, blocks, orphans, lines out of order.
    raw_f = pl.read_parquet(folder / "feuilles.parquet")
    assert raw_f.get_column("id").drop_nulls().is_duplicated().sum() >= 80
    repeated_first = want_f.filter(pl.col("id").is_duplicated() & pl.col("id").is_not_null())
    owners = want_l.filter(pl.col("_fpos").is_in(repeated_first.get_column("_pos").implode()))
    assert owners.get_column("_fpos").n_unique() > repeated_first.get_column("id").n_unique()  # blocks
    assert want_l.height < pl.read_parquet(folder / "lignes.parquet").height  # orphans, null ids


def test_generated_parquet_flow_identical_to_polars(
    spark: Any, awkward: tuple[Path, Path], small_splits: None, tmp_path: Path
) -> None:
    """The liquidation of the awkward flow, read by Spark, is the in-memory path's; a folder of
    part files reads as the file it was cut from."""
    ref_dir, folder = awkward
    expected = _polars(ref_dir, folder / "feuilles.parquet", explanations=True)
    rejets = set(expected[0].get_column("rejets").explode().drop_nulls().to_list())
    assert {"DOUBLON", "DONNEE_INVALIDE", "BENEFICIAIRE_INCONNU"} <= rejets
    got = spark_runner.liquidate_spark_polars(spark, ref_dir, folder / "feuilles.parquet", partitions=3)
    _assert_same(expected, got)

    parts = tmp_path / "parts"
    for name, sizes in (("feuilles.parquet", (0.1, 0.6)), ("lignes.parquet", (0.5, 0.55))):
        table = pl.read_parquet(folder / name)
        cuts = [0, int(table.height * sizes[0]), int(table.height * sizes[1]), table.height]
        (parts / name).mkdir(parents=True)
        for k in range(3):  # the largest part is not the first (Spark sorts its splits by size)
            table.slice(cuts[k], cuts[k + 1] - cuts[k]).write_parquet(parts / name / f"part-{k}.parquet")
    got = spark_runner.liquidate_spark_polars(spark, ref_dir, parts, partitions=5, explanations=True)
    _assert_same(expected, got)


def test_unreadable_parquet_input(spark: Any, tmp_path: Path) -> None:
    """A missing file or a missing id column: the in-memory reader's one-line error."""
    from caisse.batch_io import UnreadableFile

    with pytest.raises(UnreadableFile, match="introuvable"):
        spark_runner.read_parquet_spark(spark, tmp_path)
    pl.DataFrame({"id": ["F1"], "nir": ["1"]}).write_parquet(tmp_path / "feuilles.parquet")
    pl.DataFrame({"code": ["G"]}).write_parquet(tmp_path / "lignes.parquet")
    with pytest.raises(UnreadableFile, match="feuille_id"):
        spark_runner.read_parquet_spark(spark, tmp_path)


@pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")
def test_parquet_column_types_as_the_in_memory_reader(spark: Any, tmp_path: Path) -> None:
    """Integer ids, absent optional columns (defaults), an all-null column, feuilles without
    lines, then no lines at all: read by Spark as by the in-memory reader."""
    records = [
        json.loads(line) for line in (EXAMPLE / "feuilles.ndjson").read_text().splitlines() if line.strip()
    ][:40]
    number = {r["id"]: 1000 + k for k, r in enumerate(records)}
    f = pl.DataFrame([{k: v for k, v in r.items() if k != "lignes"} for r in records]).with_columns(
        pl.col("id").replace_strict(number, return_dtype=pl.Int64),
        pl.lit(None).alias("prescripteur"),
    )
    lines = pl.DataFrame(
        [{"feuille_id": number[r["id"]], **line} for r in records[3:] for line in r["lignes"]]
    )
    f.drop("risque", "parcours").write_parquet(tmp_path / "feuilles.parquet")
    lines.write_parquet(tmp_path / "lignes.parquet")
    ref = EXAMPLE / "referentiel"
    expected = _polars(ref, tmp_path / "feuilles.parquet", explanations=False)
    assert expected[0].get_column("id").dtype == pl.Int64 and expected[1].height > 0  # as caisse liquider writes them
    got = spark_runner.liquidate_spark_polars(spark, ref, tmp_path, partitions=2, explanations=False)
    _assert_same(expected, got)
    lines.clear().write_parquet(tmp_path / "lignes.parquet")
    expected = _polars(ref, tmp_path / "feuilles.parquet", explanations=False)
    got = spark_runner.liquidate_spark_polars(spark, ref, tmp_path, partitions=2, explanations=False)
    _assert_same(expected, got)


@pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")
def test_integer_ids_in_numeric_order_as_in_memory(spark: Any, tmp_path: Path) -> None:
    """An integer id column is processed in numeric order (9 before 10) in Spark's groups too;
    a repeated integer id keeps its first occurrence in that order."""
    from caisse.rules.claims.tests.test_integer_id_order import _two_feuilles

    feuilles = [*_two_feuilles(10, 9), *_two_feuilles(110, 19)]
    feuilles[2] = {**feuilles[2], "id": 9}  # 9 again, same day: the first 9 (input position 1) stays
    pl.DataFrame([{k: v for k, v in f.items() if k != "lignes"} for f in feuilles]).write_parquet(
        tmp_path / "feuilles.parquet")
    pl.DataFrame([{"feuille_id": f["id"], **line} for f in feuilles for line in f["lignes"]]).write_parquet(
        tmp_path / "lignes.parquet")
    ref = EXAMPLE / "referentiel"
    expected = _polars(ref, tmp_path / "feuilles.parquet", explanations=True)
    decomptes = expected[0].select("id", "dette_creee_cts", "dette_recuperee_cts", "rejets").rows()
    assert decomptes[0][2] == decomptes[1][1] > 0  # 10 recovers what 9 left
    got = spark_runner.liquidate_spark_polars(spark, ref, tmp_path, partitions=2, explanations=True)
    _assert_same(expected, got)
