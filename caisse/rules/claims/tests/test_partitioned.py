"""The streaming runner partitioned by person gives exactly the in-memory path's output."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

from caisse.batch_io import UnreadableFile
from caisse.rules.claims import batch, engine, frames, partitioned
from caisse.rules.claims.referentiel import load_referentiel
from caisse.rules.claims.tests.test_examples import EXAMPLE, _to_parquet

BENCH = Path(__file__).resolve().parents[4] / "bench" / "bench_liquider.py"
OUTPUTS = ("decomptes.parquet", "lignes_decomptes.parquet")


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_liquider", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_liquider", module)
    spec.loader.exec_module(module)
    return module


def _example_unique_ids(folder: Path) -> Path:
    """The contract's example as Parquet, its one repeated id renamed (ids unique)."""
    _to_parquet(folder)
    f = pl.read_parquet(folder / "feuilles.parquet")
    second = pl.col("id").is_duplicated() & (pl.int_range(pl.len()).over("id") == 1)
    f.with_columns(pl.when(second).then(pl.col("id") + "bis").otherwise("id").alias("id")).write_parquet(
        folder / "feuilles.parquet"
    )
    return EXAMPLE / "referentiel"


def _in_memory(ref: Path, folder: Path, out: Path) -> None:
    assert partitioned.flow_size(folder) <= batch.CHUNK_FEUILLES
    batch.run(ref, folder / "feuilles.parquet", str(out), "parquet")


def _assert_same(expected: Path, got: Path) -> None:
    for name in OUTPUTS:
        a, b = pl.read_parquet(expected / name), pl.read_parquet(got / name)
        assert a.schema == b.schema, name
        assert a.height == b.height, name
        assert a.equals(b), name
    assert not list(got.glob(".liquider-*"))


@pytest.mark.parametrize(("buckets", "range_feuilles"), [(1, 1000), (3, 50), (4, 7), (7, 64)])
def test_example_same_output_as_in_memory(tmp_path: Path, buckets: int, range_feuilles: int) -> None:
    ref = _example_unique_ids(tmp_path)
    _in_memory(ref, tmp_path, tmp_path / "memoire")
    out = tmp_path / "partitionne"
    assert partitioned.run(ref, tmp_path, str(out), buckets=buckets, workers=1, range_feuilles=range_feuilles)
    _assert_same(tmp_path / "memoire", out)


def test_integer_ids_same_output_as_in_memory(tmp_path: Path) -> None:
    """Integer ids, numbered so that their numeric order is not their text order (99 before 100):
    each bucket ranks its feuilles as the whole flow does."""
    ref = _example_unique_ids(tmp_path)
    f = pl.read_parquet(tmp_path / "feuilles.parquet")
    lines = pl.read_parquet(tmp_path / "lignes.parquet")
    number = dict(zip(f.get_column("id").to_list(), range(f.height + 90, 90, -1), strict=True))
    f.with_columns(pl.col("id").replace_strict(number, return_dtype=pl.Int64)).write_parquet(tmp_path / "feuilles.parquet")
    lines.with_columns(pl.col("feuille_id").replace_strict(number, default=None, return_dtype=pl.Int64)).write_parquet(
        tmp_path / "lignes.parquet")
    _in_memory(ref, tmp_path, tmp_path / "memoire")
    out = tmp_path / "partitionne"
    assert partitioned.run(ref, tmp_path, str(out), buckets=3, workers=1, range_feuilles=50)
    _assert_same(tmp_path / "memoire", out)


def test_feuilles_file_of_another_name(tmp_path: Path) -> None:
    """The flow named by its feuilles file, whatever its name (batch.parquet_flow)."""
    ref = _example_unique_ids(tmp_path)
    _in_memory(ref, tmp_path, tmp_path / "memoire")
    (tmp_path / "feuilles.parquet").rename(tmp_path / "mars_feuilles.parquet")
    (tmp_path / "lignes.parquet").rename(tmp_path / "mars_lignes.parquet")
    out = tmp_path / "partitionne"
    flow = tmp_path / "mars_feuilles.parquet"
    assert partitioned.flow_size(flow) == 199
    assert partitioned.run(ref, flow, str(out), buckets=3, workers=1, range_feuilles=50)
    _assert_same(tmp_path / "memoire", out)


def test_example_in_worker_processes(tmp_path: Path) -> None:
    ref = _example_unique_ids(tmp_path)
    _in_memory(ref, tmp_path, tmp_path / "memoire")
    out = tmp_path / "partitionne"
    assert partitioned.run(ref, tmp_path, str(out), buckets=3, workers=2, range_feuilles=80)
    _assert_same(tmp_path / "memoire", out)


def _generated_flow(folder: Path) -> Path:
    """The bench's flow for 2 000 persons, plus the cases the partitioning must keep exact."""
    bench = _bench()
    bench.generate(folder, 2_000, seed=7)
    f = pl.read_parquet(folder / "feuilles.parquet")
    lines = pl.read_parquet(folder / "lignes.parquet")
    nirs = f.get_column("nir").unique(maintain_order=True)
    heavy = nirs.head(5)
    # Persons with many feuilles (caps reached): 300 consultations each in the year.
    n_heavy = 300 * heavy.len()
    extra = pl.DataFrame(
        {
            "id": [f"H{i:06d}" for i in range(n_heavy)],
            "nir": heavy.gather([i % heavy.len() for i in range(n_heavy)]),
            "date_reception": pl.date_range(pl.date(2025, 1, 2), pl.date(2025, 12, 30), eager=True)
            .sample(n_heavy, with_replacement=True, seed=1)
            .sort(),
        }
    ).with_columns(
        pl.lit("FSE").alias("type"),
        pl.lit("PS0000004").alias("executant"),
        pl.lit(None, dtype=pl.String).alias("prescripteur"),
        (pl.int_range(pl.len()) % 2 == 0).alias("tiers_payant"),
        pl.lit("maladie").alias("risque"),
        pl.lit("medecin_traitant").alias("parcours"),
        pl.lit(False).alias("en_rapport_ald"),
        pl.lit(None, dtype=pl.String).alias("carte_vitale"),
    )
    extra_lines = extra.select(
        pl.col("id").alias("feuille_id"),
        pl.lit("G").alias("code"),
        (pl.col("date_reception") - pl.duration(days=1)).alias("date_soins"),
        pl.lit(1, dtype=pl.Int64).alias("quantite"),
        pl.lit(1.0).alias("coefficient"),
        pl.lit(3000, dtype=pl.Int64).alias("montant_facture_cts"),
    )
    # Duplicate acts: 200 feuilles sent again under new ids; a null and an unknown NIR.
    copies = f.slice(1000, 200)
    copy_lines = lines.join(copies.select(pl.col("id").alias("feuille_id")), on="feuille_id")
    copies = copies.with_columns(("D" + pl.col("id")).alias("id"))
    copy_lines = copy_lines.with_columns(("D" + pl.col("feuille_id")).alias("feuille_id"))
    f = pl.concat([f, extra.select(f.columns), copies], how="vertical_relaxed").with_columns(
        pl.when(pl.int_range(pl.len()) == 17).then(None).otherwise("nir").alias("nir")
    ).with_columns(pl.when(pl.int_range(pl.len()) == 18).then(pl.lit("101017500000125")).otherwise("nir").alias("nir"))
    lines = pl.concat([lines, extra_lines, copy_lines], how="vertical_relaxed")
    # Rejected lines (unknown code, invalid date), orphan lines, lines not in feuille order.
    lines = lines.with_columns(
        pl.when(pl.int_range(pl.len()) % 997 == 5).then(pl.lit("XXXX")).otherwise("code").alias("code"),
        pl.col("date_soins").cast(pl.String),
    ).with_columns(
        pl.when(pl.int_range(pl.len()) % 1499 == 3).then(pl.lit("2025-02-30")).otherwise("date_soins").alias("date_soins")
    )
    orphans = lines.head(50).with_columns(("ORPHELINE" + pl.col("feuille_id")).alias("feuille_id"))
    lines = pl.concat([lines, orphans]).sample(fraction=1.0, shuffle=True, seed=3)
    f.write_parquet(folder / "feuilles.parquet")
    lines.write_parquet(folder / "lignes.parquet", row_group_size=10_000)
    return folder / "referentiel"


@pytest.mark.parametrize("threads", [1, 3], ids=["un-fil", "trois-fils"])
def test_generated_flow_same_output_as_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    """Same output whether the input batches and output ranges are handled one at a time or
    several at once (a machine of many cores)."""
    ref = _generated_flow(tmp_path)
    _in_memory(ref, tmp_path, tmp_path / "memoire")
    monkeypatch.setattr(partitioned, "BATCH_ROWS", 7_000)
    monkeypatch.setattr(partitioned, "reader_threads", lambda: threads)
    out = tmp_path / "partitionne"
    assert partitioned.run(ref, tmp_path, str(out), buckets=5, workers=1, range_feuilles=9_000)
    _assert_same(tmp_path / "memoire", out)
    dec = pl.read_parquet(out / "decomptes.parquet")
    lig = pl.read_parquet(out / "lignes_decomptes.parquet")
    # The fixture holds what the partitioning must keep exact.
    assert dec.filter(pl.col("dette_creee_cts") > 0).height and dec.filter(pl.col("dette_recuperee_cts") > 0).height
    rejets = set(lig.get_column("rejets").explode().drop_nulls().to_list())
    assert {"DOUBLON", "CODE_INCONNU"} <= rejets
    assert {"DONNEE_INVALIDE", "BENEFICIAIRE_INCONNU"} <= set(dec.get_column("rejets").explode().drop_nulls().to_list())
    heavy = dec.filter(pl.col("id").str.starts_with("H")).get_column("feuille_position")
    pf = lig.filter(pl.col("feuille_position").is_in(heavy.implode())).get_column("participation_forfaitaire_cts")
    assert (pf > 0).any() and (pf == 0).any()  # the annual cap of the participation forfaitaire
    assert lig.height < pl.read_parquet(tmp_path / "lignes.parquet").height  # orphans dropped


def test_hook_in_batch_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = _example_unique_ids(tmp_path)
    _in_memory(ref, tmp_path, tmp_path / "memoire")
    calls: list[Path] = []
    original = partitioned.run

    def spy(*args: object, **kwargs: object) -> bool:
        calls.append(Path(str(args[1])))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(partitioned, "run", spy)
    monkeypatch.setattr(batch, "CHUNK_FEUILLES", 50)
    batch.run(ref, tmp_path / "feuilles.parquet", str(tmp_path / "sortie" / "decomptes.parquet"), "parquet")
    assert calls == [tmp_path / "feuilles.parquet"]  # the flow as named (its feuilles file, batch.parquet_flow)
    _assert_same(tmp_path / "memoire", tmp_path / "sortie")


def test_repeated_ids_fall_back_to_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _to_parquet(tmp_path)  # the example repeats one feuille id
    ref = EXAMPLE / "referentiel"
    _in_memory(ref, tmp_path, tmp_path / "memoire")
    assert not partitioned.run(ref, tmp_path, str(tmp_path / "direct"), buckets=3, workers=1)
    assert not (tmp_path / "direct" / "decomptes.parquet").exists()
    monkeypatch.setattr(batch, "CHUNK_FEUILLES", 50)
    batch.run(ref, tmp_path, str(tmp_path / "sortie"), "parquet")
    _assert_same(tmp_path / "memoire", tmp_path / "sortie")
    assert not list((tmp_path / "direct").glob(".liquider-*"))


def test_spill_folder_removed_on_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = _example_unique_ids(tmp_path)

    def fail(job: object) -> tuple[int, int, float]:
        raise RuntimeError("panne")

    monkeypatch.setattr(partitioned, "_liquidate_bucket", fail)
    with pytest.raises(RuntimeError):
        partitioned.run(ref, tmp_path, str(tmp_path / "sortie"), buckets=2, workers=1)
    assert not list((tmp_path / "sortie").glob(".liquider-*"))


def test_unreadable_lines_file(tmp_path: Path) -> None:
    ref = _example_unique_ids(tmp_path)
    (tmp_path / "lignes.parquet").write_bytes(b"pas du parquet")
    with pytest.raises(UnreadableFile, match="illisible"):
        partitioned.run(ref, tmp_path, str(tmp_path / "sortie"), buckets=2, workers=1)
    assert not list((tmp_path / "sortie").glob(".liquider-*"))


def test_more_workers_take_smaller_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays bounded whatever the cores: the feuilles in flight are shared by the workers."""
    assert partitioned.bucket_feuilles(2) == partitioned.BUCKET_FEUILLES
    assert partitioned.bucket_feuilles(16) * 16 <= partitioned.FEUILLES_IN_FLIGHT
    monkeypatch.setenv("CAISSE_LIQUIDER_PROCESSUS", "3")
    assert partitioned.default_workers() == 3
    monkeypatch.setenv("CAISSE_LIQUIDER_PROCESSUS", "zéro")
    assert 1 <= partitioned.default_workers() <= partitioned.MAX_WORKERS


def test_streaming_engine_same_output_as_in_memory_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chains of steps give the same lines on Polars' streaming engine (large batches) as on
    its in-memory engine (small ones): row order and values."""
    ref = _generated_flow(tmp_path)
    monkeypatch.setattr(engine, "STREAMING_ROWS", 10**12)
    _in_memory(ref, tmp_path, tmp_path / "memoire")
    monkeypatch.setattr(engine, "STREAMING_ROWS", 0)
    _in_memory(ref, tmp_path, tmp_path / "flux")
    _assert_same(tmp_path / "memoire", tmp_path / "flux")


def test_small_batch_paths_same_output_as_large_batch_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The paths with fewer Polars calls taken for a small (real-time) batch give the same output
    as the paths of a large one, on a flow with caps reached, debts, duplicates and rejections."""
    ref = _generated_flow(tmp_path)
    monkeypatch.setattr(frames, "SMALL_ROWS", 0)
    _in_memory(ref, tmp_path, tmp_path / "grand")
    monkeypatch.setattr(frames, "SMALL_ROWS", 10**12)
    _in_memory(ref, tmp_path, tmp_path / "petit")
    _assert_same(tmp_path / "grand", tmp_path / "petit")


@pytest.mark.parametrize("heavy", [True, False])
def test_small_chunks_with_carried_counters_same_output_as_one_large_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, heavy: bool
) -> None:
    """Real-time sized batches (small paths, counters carried from batch to batch) give the
    output of one large batch, cut into chunks of 150 feuilles: with the heavy consumers, whose
    annual caps bind mid-year, and without them (daily caps only)."""
    ref_folder = _generated_flow(tmp_path)
    f, lines = batch.read_feuilles(tmp_path / "feuilles.parquet")
    persons = f.get_column("nir").drop_nulls().unique(maintain_order=True)
    keep = pl.concat([persons.head(5), persons.slice(100, 150)] if heavy else [persons.slice(100, 300)]).implode()
    f = f.filter(pl.col("nir").is_in(keep) | pl.col("nir").is_null())
    lines = lines.filter(pl.col("_fpos").is_in(f.get_column("_pos").implode()))
    ref = load_referentiel(ref_folder)
    monkeypatch.setattr(frames, "SMALL_ROWS", 0)
    big_d, big_l, _ = batch.liquidate_in_chunks(ref, f, lines, carry=False, chunk_feuilles=10**9)
    monkeypatch.setattr(frames, "SMALL_ROWS", 10**12)
    small_d, small_l, _ = batch.liquidate_in_chunks(ref, f, lines, carry=False, chunk_feuilles=150)
    assert big_d.height > 2_000 and big_l.height > 3_000
    for table, (big, small) in ((batch._decomptes_table, (big_d, small_d)), (batch._lignes_table, (big_l, small_l))):
        expected, got = table(big), table(small)
        assert got.equals(expected), got.join(expected, on=got.columns, how="anti").head(5)


def test_integer_ids_as_in_memory(tmp_path: Path) -> None:
    """An integer id column comes back as integers from the partitioned runner too."""
    ref = _example_unique_ids(tmp_path)
    f = pl.read_parquet(tmp_path / "feuilles.parquet")
    numbers = f.select(pl.col("id"), (pl.int_range(pl.len()) * 7 + 5).alias("n"))
    f.join(numbers, on="id", maintain_order="left").with_columns(pl.col("n").alias("id")).drop("n").write_parquet(
        tmp_path / "feuilles.parquet")
    lines = pl.read_parquet(tmp_path / "lignes.parquet")
    lines.join(numbers.rename({"id": "feuille_id"}), on="feuille_id", how="left", maintain_order="left").with_columns(
        pl.col("n").alias("feuille_id")).drop("n").write_parquet(tmp_path / "lignes.parquet")
    _in_memory(ref, tmp_path, tmp_path / "memoire")
    out = tmp_path / "partitionne"
    assert partitioned.run(ref, tmp_path, str(out), buckets=3, workers=1, range_feuilles=50)
    _assert_same(tmp_path / "memoire", out)
    assert pl.read_parquet(out / "decomptes.parquet").schema["id"] == pl.Int64
