"""Streaming ``caisse liquider`` for large Parquet flows: partitioned by person, in three passes.

Why it is exact
---------------
Everything the engine carries from one feuille to the next is per person (``nir``) and consumed
in the contract's order (``date_reception``, ``id``): the annual and daily caps, the duplicate
acts, the assuré's debt (see :mod:`caisse.rules.claims.spark`, which partitions the same way).
Feuilles are spread over K buckets by a hash of their ``nir`` (a null ``nir`` goes to bucket 0),
so a person's feuilles are all in one bucket and each bucket, liquidated alone by the unchanged
engine with its persons' compteurs, gives exactly its rows of one run on the whole flow: the
engine's ranks (``_ordre``) are computed inside the bucket from (``date_reception``, ``id``,
``_pos``), a sub-sequence of the global order. The one check that is not per person, a feuille
id repeated under two persons, cannot happen: this path runs only when the ids are unique and
not null (checked on a 64-bit hash of the ids: distinct hashes mean distinct ids; any equal
pair, a repeat or a collision, sends the flow to the in-memory reader and its DOUBLON logic).

Passes (:func:`run`)
--------------------
1. Partition, in bounded memory: ``feuilles.parquet`` is streamed in batches
   (slices of ``BATCH_ROWS`` rows, several at once on a machine of many cores, see
   :func:`reader_threads`); each feuille gets its input position ``_pos`` and its
   bucket, goes through the in-memory reader's conversions (:func:`batch.feuille_frame`) and
   is spilled to its bucket's folder. Then ``lignes.parquet`` is streamed: each line keeps its
   file row ``_row``, goes through :func:`batch.ligne_frame`, finds its feuille's ``_pos`` and
   bucket by a binary search of its ``feuille_id``'s hash among the sorted hashes of the feuille
   ids (the line is checked against the feuille's real id in pass 2; a line naming no feuille is
   dropped, as the contract says) and is spilled to that bucket. The référentiel's person
   tables (every table with a ``nir``: beneficiaries, periods, cards, médecins traitants,
   compteurs) are split by the same hash; professionals and nomenclature are kept whole.
2. Liquidate, one bucket at a time (in ``workers`` processes): the bucket's feuilles and lines
   (ranked in their feuille by :func:`batch.rank_lines`, as the in-memory reader does), the
   référentiel restricted to its persons and :class:`Counters` from their compteurs go to
   :func:`engine.liquidate`; the décomptes and lines (the columns of :func:`batch.write_parquet`)
   are spilled per range of input positions.
3. Output in input order: for each range of positions, the buckets' parts are read, put in
   order (``feuille_position``, ``ligne``) and appended as row groups to ``decomptes.parquet``
   and ``lignes_decomptes.parquet``; ``explication`` stays dictionary-encoded.

The spill folder (``.liquider-*``, next to the output) is removed at the end, even on error.
The workers are spawned processes (no fork under Polars' thread pool): a script that calls
:func:`run` or :func:`batch.run` on a large flow must guard its entry point with
``if __name__ == "__main__":`` (the ``caisse`` command does).
Memory is bounded by one batch plus the hashes of the feuille ids in pass 1 (20 bytes a
feuille), by a bucket per worker in pass 2 and by a range of positions in pass 3.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Final, TypeVar

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from caisse.batch_io import UnreadableFile
from caisse.rules.claims import batch
from caisse.rules.claims.counters import Counters
from caisse.rules.claims.engine import FEUILLE_COLUMNS, LIGNE_COLUMNS, liquidate
from caisse.rules.claims.legal import load
from caisse.rules.claims.referentiel import Referentiel, load_referentiel

BUCKET_FEUILLES = 2_000_000
"""Feuilles per bucket at most (K = ceil(feuilles / bucket size), see :func:`bucket_feuilles`)."""
FEUILLES_IN_FLIGHT = 4_000_000
"""Feuilles liquidated at once by all the workers together (measured: two buckets of 2 million
feuilles peak at 8 GiB with the parent): more workers take smaller buckets, so that memory stays
under the 16 GiB the issue sets whatever the number of cores."""
MAX_WORKERS = 16
BATCH_ROWS = 4_000_000
"""Rows per streamed batch of the input files."""
RANGE_FEUILLES = 4_000_000
"""Input positions per range of the output pass."""
SPILL_COMPRESSION: Final = "uncompressed"
"""The spill files are read once, soon after: writing them plain is the cheapest."""
ID_SEED = 0x5EED
NIR_SEED = 0xCA155E

_T = TypeVar("_T")

last_timings: dict[str, float] = {}
"""Seconds of each pass of the latest :func:`run` (read by the benchmark)."""


def _progress(message: str) -> None:
    print(f"liquider : {message}", file=sys.stderr, flush=True)


def _spaced(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _parquet_file(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except FileNotFoundError:
        raise UnreadableFile(f"Fichier introuvable : {path}") from None
    except (OSError, pa.ArrowException) as exc:
        raise UnreadableFile(f"Fichier Parquet illisible : {path} ({type(exc).__name__}).") from None


def _read_slice(path: Path, offset: int, length: int) -> pl.DataFrame:
    """Rows ``offset`` to ``offset + length`` of a Parquet file (Polars' reader, which reads only
    the row groups of the slice: the same column types as ``pl.read_parquet``, which the
    in-memory path uses)."""
    try:
        return pl.scan_parquet(path).slice(offset, length).collect()
    except FileNotFoundError:
        raise UnreadableFile(f"Fichier introuvable : {path}") from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise UnreadableFile(f"Fichier Parquet illisible : {path} ({type(exc).__name__}).") from None


def reader_threads() -> int:
    """Batches of the input read and spilled at once in pass 1 (each of ``BATCH_ROWS`` divided
    by their number, so memory stays that of one batch): half the cores, at most 8; one on a
    small machine, where Polars' own threads already keep the cores busy (and where pass 3 does
    not prepare the next range ahead)."""
    return max(1, min(8, (os.cpu_count() or 1) // 2))


def _map_batches(path: Path, work: Callable[[int, int, pl.DataFrame], _T]) -> list[_T]:
    """``work(i, offset, rows)`` for each batch of about ``BATCH_ROWS`` rows of the file, several
    batches at once (:func:`reader_threads`; Polars and NumPy release the GIL); the results in
    file order."""
    total = int(_parquet_file(path).metadata.num_rows)
    threads = reader_threads()
    # Several batches at once share the rows in flight of one batch (memory as with one thread).
    rows = BATCH_ROWS if threads <= 1 else max(BATCH_ROWS // threads, min(BATCH_ROWS, 500_000))
    slices = [(i, offset, min(rows, total - offset)) for i, offset in enumerate(range(0, total, rows))]

    def one(item: tuple[int, int, int]) -> _T:
        i, offset, length = item
        return work(i, offset, _read_slice(path, offset, length))

    if threads <= 1 or len(slices) <= 1:
        return [one(item) for item in slices]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, slices))


def flow_size(flow: Path) -> int:
    """Number of feuilles of a Parquet flow (a folder or its feuilles file,
    :func:`batch.parquet_flow`), from the file's metadata only."""
    return int(_parquet_file(batch.parquet_flow(flow)[0]).metadata.num_rows)


def bucket_of(nir: pl.Expr, buckets: int) -> pl.Expr:
    """The bucket of a person (a stable hash of the NIR within one process; null: bucket 0)."""
    return (
        pl.when(nir.is_null()).then(pl.lit(0, dtype=pl.UInt64)).otherwise(nir.hash(NIR_SEED) % buckets)
    ).cast(pl.Int32)


def _typed(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The engine's types (the engine casts the same way, so this changes nothing but makes
    every spilled part share one schema)."""
    return frame.cast({c: schema[c] for c in frame.columns if c in schema}, strict=False)


@dataclasses.dataclass
class _IdIndex:
    """The feuille ids' hashes, sorted, with each feuille's position and bucket."""

    hashes: np.ndarray[Any, np.dtype[np.uint64]]
    positions: np.ndarray[Any, np.dtype[np.int64]]
    buckets: np.ndarray[Any, np.dtype[np.int32]]

    def lookup(self, feuille_id: pl.Series) -> pl.DataFrame:
        """(_fpos, _bucket, _found) for each line's feuille_id (found: the hash is a feuille's)."""
        hashed = feuille_id.hash(ID_SEED)
        h = hashed.to_numpy()
        if self.hashes.size == 0:
            idx = np.zeros(h.size, dtype=np.int64)
            found = np.zeros(h.size, dtype=bool)
        else:
            # Sorted needles keep the binary searches in cache.
            order = hashed.arg_sort().to_numpy()
            idx = np.empty(h.size, dtype=np.int64)
            idx[order] = np.searchsorted(self.hashes, h[order])
            np.minimum(idx, self.hashes.size - 1, out=idx)
            found = (self.hashes[idx] == h) & feuille_id.is_not_null().to_numpy()
        return pl.DataFrame(
            {
                "_fpos": self.positions[idx] if self.hashes.size else idx,
                "_bucket": self.buckets[idx] if self.hashes.size else idx.astype(np.int32),
                "_found": found,
            }
        )


def _spill_feuilles(flow: Path, tmp: Path, buckets: int) -> tuple[int, _IdIndex] | None:
    """Pass 1a; ``None`` when an id is null or repeated (the in-memory path decides)."""
    path, lignes_path = batch.parquet_flow(flow)
    batch._check_id_columns(
        path.parent,
        _parquet_file(path).schema_arrow.names,
        _parquet_file(lignes_path).schema_arrow.names,
    )

    def spill(i: int, offset: int, raw: pl.DataFrame) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
        f = _typed(batch.feuille_frame(raw.with_row_index("_pos", offset=offset)), FEUILLE_COLUMNS)
        ids = f.get_column("id")
        if ids.null_count():
            return None
        f = f.with_columns(bucket_of(pl.col("nir"), buckets).alias("_bucket"))
        for (b,), part in f.partition_by("_bucket", as_dict=True, include_key=False).items():
            part.write_parquet(tmp / f"f{b}" / f"{i:06d}.parquet", compression=SPILL_COMPRESSION, statistics=False)
        return ids.hash(ID_SEED).to_numpy(), f.get_column("_bucket").to_numpy()

    spilled = _map_batches(path, spill)
    if any(part is None for part in spilled):
        return None
    hashes = [part[0] for part in spilled if part is not None]
    buckets_of = [part[1] for part in spilled if part is not None]
    offset = sum(h.size for h in hashes)
    all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    index = (
        pl.DataFrame(
            {
                "h": all_hashes,
                "p": np.arange(all_hashes.size, dtype=np.int64),
                "b": np.concatenate(buckets_of) if buckets_of else np.zeros(0, dtype=np.int32),
            }
        )
        .sort("h")
    )
    sorted_hashes = index.get_column("h").to_numpy()
    if sorted_hashes.size > 1 and bool(np.any(sorted_hashes[1:] == sorted_hashes[:-1])):
        return None
    return offset, _IdIndex(
        sorted_hashes, index.get_column("p").to_numpy(), index.get_column("b").to_numpy().astype(np.int32)
    )


def _spill_lignes(flow: Path, tmp: Path, index: _IdIndex) -> int:
    """Pass 1b: each line to its feuille's bucket, with ``_fpos`` and its file row ``_row``."""
    path = batch.parquet_flow(flow)[1]
    keep = [*LIGNE_COLUMNS, "feuille_id", "_row", "_bucket"]

    def spill(i: int, offset: int, raw: pl.DataFrame) -> int:
        lines = batch.ligne_frame(raw.with_row_index("_row", offset=offset))
        lines = pl.concat([lines, index.lookup(lines.get_column("feuille_id"))], how="horizontal")
        lines = _typed(lines.filter("_found").select(c for c in keep if c in lines.columns), LIGNE_COLUMNS)
        lines = lines.with_columns(pl.col("_row").cast(pl.Int64))
        for (b,), part in lines.partition_by("_bucket", as_dict=True, include_key=False).items():
            part.write_parquet(tmp / f"l{b}" / f"{i:06d}.parquet", compression=SPILL_COMPRESSION, statistics=False)
        return lines.height

    return sum(_map_batches(path, spill))


def _spill_referentiel(ref: Referentiel, tmp: Path, buckets: int) -> None:
    """The person tables split by bucket; the other fields (professionals, nomenclature) whole."""
    shared: dict[str, Any] = {}
    for field in dataclasses.fields(ref):
        value = getattr(ref, field.name)
        if not (isinstance(value, pl.DataFrame) and "nir" in value.columns):
            shared[field.name] = value
            continue
        parts = value.with_columns(bucket_of(pl.col("nir"), buckets).alias("_bucket")).partition_by(
            "_bucket", as_dict=True, include_key=False
        )
        for b in range(buckets):
            parts.get((b,), value.clear()).write_parquet(tmp / "ref" / f"{field.name}_{b}.parquet")
    with open(tmp / "ref" / "commun.pickle", "wb") as out:
        pickle.dump(shared, out)


def _read_parts(folder: Path) -> pl.DataFrame | None:
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    return pl.read_parquet(files) if files else None


@dataclasses.dataclass(frozen=True)
class _Job:
    tmp: str
    bucket: int
    range_feuilles: int


def _bucket_referentiel(tmp: Path, bucket: int) -> Referentiel:
    with open(tmp / "ref" / "commun.pickle", "rb") as src:
        values: dict[str, Any] = pickle.load(src)  # noqa: S301 (our own spill file)
    for field in dataclasses.fields(Referentiel):
        if field.name not in values:
            values[field.name] = pl.read_parquet(tmp / "ref" / f"{field.name}_{bucket}.parquet")
    return Referentiel(**values)


def _liquidate_bucket(job: _Job) -> tuple[int, int, float]:
    """Pass 2 for one bucket: (feuilles, lines out, seconds)."""
    started = time.perf_counter()
    tmp = Path(job.tmp)
    f = _read_parts(tmp / f"f{job.bucket}")
    if f is None:
        return 0, 0, 0.0
    lines = _read_parts(tmp / f"l{job.bucket}")
    if lines is None:
        lines = pl.DataFrame(schema={**LIGNE_COLUMNS, "feuille_id": pl.String(), "_row": pl.Int64()}).drop("_lpos")
    # A line whose hash matched a feuille's but whose id differs names no feuille: dropped.
    ids = f.select(pl.col("_pos").alias("_fpos"), pl.col("id").alias("_id"))
    lines = lines.join(ids, on="_fpos", how="inner").filter(pl.col("feuille_id") == pl.col("_id"))
    lines = batch.rank_lines(lines)
    ref = _bucket_referentiel(tmp, job.bucket)
    decomptes, out_lines, _ = liquidate(
        ref, f, lines, Counters.from_compteurs(ref.compteurs), None, load(), True, False
    )
    dec = batch._decomptes_table(decomptes).with_columns(
        (pl.col("feuille_position") // job.range_feuilles).alias("_range")
    )
    lig = batch._lignes_table(out_lines).with_columns(
        (pl.col("feuille_position") // job.range_feuilles).alias("_range")
    )
    line_parts = lig.partition_by("_range", as_dict=True, include_key=False)
    for (r,), part in dec.partition_by("_range", as_dict=True, include_key=False).items():
        part.write_parquet(tmp / "out" / f"d{r}_{job.bucket}.parquet", compression=SPILL_COMPRESSION, statistics=False)
        line_parts.get((r,), lig.clear().drop("_range")).write_parquet(
            tmp / "out" / f"l{r}_{job.bucket}.parquet", compression="lz4", statistics=False
        )
    return f.height, out_lines.height, time.perf_counter() - started


def _liquidate_all(tmp: Path, buckets: int, workers: int, range_feuilles: int) -> int:
    jobs = [_Job(str(tmp), b, range_feuilles) for b in range(buckets)]
    out_lines = 0
    done = 0

    def report(feuilles: int, lines: int, seconds: float) -> None:
        nonlocal out_lines, done
        out_lines += lines
        done += 1
        _progress(f"paquet {done}/{buckets} : {_spaced(feuilles)} feuilles liquidées en {seconds:.1f} s")

    if workers <= 1 or buckets == 1:
        for job in jobs:
            report(*_liquidate_bucket(job))
        return out_lines
    with _WorkerThreads(workers), ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        futures: list[Future[tuple[int, int, float]]] = [pool.submit(_liquidate_bucket, job) for job in jobs]
        try:
            for future in as_completed(futures):
                report(*future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return out_lines


def _arrow(frame: pl.DataFrame) -> pa.Table:
    # One chunk per column: one dictionary per row group for ``explication``.
    return frame.rechunk().to_arrow()


def _write_file(tmp: Path, prefix: str, path: Path, ranges: int, id_dtype: pl.DataType | None = None) -> None:
    """One output file: the buckets' parts range by range, in input order, as row groups (ids in
    ``id_dtype``: the input's integer type, see :func:`batch.output_id_dtype`). The next range is
    read and put in order while one is written, on a machine of many cores (memory: a range more
    per file)."""
    id_column = "id" if prefix == "d" else "feuille_id"

    def prepared(r: int) -> pa.Table | None:
        files = sorted((tmp / "out").glob(f"{prefix}{r}_*.parquet"))
        if not files:
            return None
        # Each part is in (feuille_position, ligne) order and holds whole feuilles: a stable
        # sort on the position alone keeps the lines' order.
        part = pl.read_parquet(files).sort("feuille_position", maintain_order=True)
        return _arrow(part if id_dtype is None else part.with_columns(pl.col(id_column).cast(id_dtype)))

    def write(table: pa.Table | None, writer: pq.ParquetWriter | None) -> pq.ParquetWriter | None:
        if table is None:
            return writer
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="lz4", write_statistics=False)
        writer.write_table(table.cast(writer.schema))
        return writer

    writer: pq.ParquetWriter | None = None
    try:
        if reader_threads() <= 1:
            for r in range(ranges):
                writer = write(prepared(r), writer)
            return
        with ThreadPoolExecutor(max_workers=1) as pool:
            following = pool.submit(prepared, 0)
            for r in range(ranges):
                current = following.result()
                if r + 1 < ranges:
                    following = pool.submit(prepared, r + 1)
                writer = write(current, writer)
                del current
    finally:
        if writer is not None:
            writer.close()


def _write_output(tmp: Path, out: str, ranges: int, id_dtype: pl.DataType | None = None) -> None:
    """Pass 3: ``decomptes.parquet`` and ``lignes_decomptes.parquet`` written side by side
    (two threads: Polars and the Parquet writer release the GIL)."""
    dec_path, lig_path = batch._parquet_targets(out)
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [
            pool.submit(_write_file, tmp, "d", dec_path, ranges, id_dtype),
            pool.submit(_write_file, tmp, "l", lig_path, ranges, id_dtype),
        ]
        for job in jobs:
            job.result()


def default_workers() -> int:
    """Buckets liquidated at once: ``CAISSE_LIQUIDER_PROCESSUS`` if set, else one per core (at
    most ``MAX_WORKERS``); memory does not grow with it (:func:`bucket_feuilles`)."""
    wanted = os.environ.get("CAISSE_LIQUIDER_PROCESSUS")
    if wanted and wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def bucket_feuilles(workers: int) -> int:
    """Feuilles per bucket: ``BUCKET_FEUILLES``, smaller when more workers run at once."""
    return max(100_000, min(BUCKET_FEUILLES, FEUILLES_IN_FLIGHT // max(1, workers)))


class _WorkerThreads:
    """Polars' thread pool of each spawned worker sized to its share of the cores (Polars reads
    ``POLARS_MAX_THREADS`` at import, in the child): W workers × all the cores each would only
    oversubscribe the machine (measured on 16 cores: 16 workers of one thread liquidate the
    2.2 M beneficiaries in 25 s, of two threads in 29 s)."""

    def __init__(self, workers: int) -> None:
        self.threads = str(max(1, (os.cpu_count() or 1) // max(1, workers)))
        self.saved: str | None = None

    def __enter__(self) -> None:
        self.saved = os.environ.get("POLARS_MAX_THREADS")
        os.environ["POLARS_MAX_THREADS"] = self.threads

    def __exit__(self, *exc: object) -> None:
        if self.saved is None:
            os.environ.pop("POLARS_MAX_THREADS", None)
        else:
            os.environ["POLARS_MAX_THREADS"] = self.saved


def run(
    referentiel: Path,
    folder: Path,
    out: str,
    buckets: int | None = None,
    workers: int | None = None,
    range_feuilles: int = RANGE_FEUILLES,
) -> bool:
    """Liquidate ``folder``'s Parquet flow (a folder or its feuilles file,
    :func:`batch.parquet_flow`) into ``out`` (``--format parquet``) in three passes.

    Returns ``False``, having written nothing, when the flow's feuille ids are not all unique
    and not null: the caller then uses the in-memory path (:func:`batch.run`).
    """
    started = time.perf_counter()
    total = flow_size(folder)
    workers = workers or default_workers()
    buckets = buckets or max(1, math.ceil(total / bucket_feuilles(workers)))
    dec_path, _ = batch._parquet_targets(out)
    dec_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".liquider-", dir=dec_path.parent))
    try:
        for b in range(buckets):
            (tmp / f"f{b}").mkdir()
            (tmp / f"l{b}").mkdir()
        (tmp / "ref").mkdir()
        (tmp / "out").mkdir()
        spilled = _spill_feuilles(folder, tmp, buckets)
        if spilled is None:
            _progress("identifiants de feuilles répétés ou absents : lecture en mémoire")
            return False
        n_feuilles, index = spilled
        if n_feuilles == 0:
            return False
        n_lines = _spill_lignes(folder, tmp, index)
        del index
        ref = load_referentiel(referentiel)
        _spill_referentiel(ref, tmp, buckets)
        del ref
        pass1 = time.perf_counter() - started
        _progress(
            f"{_spaced(n_feuilles)} feuilles, {_spaced(n_lines)} lignes réparties en {buckets} paquets "
            f"en {pass1:.1f} s"
        )
        out_lines = _liquidate_all(tmp, buckets, workers, range_feuilles)
        pass2 = time.perf_counter() - started - pass1
        _progress(f"liquidation en {pass2:.1f} s ({workers} processus)")
        _write_output(tmp, out, max(1, math.ceil(n_feuilles / range_feuilles)), batch.parquet_id_dtype(folder))
        elapsed = time.perf_counter() - started
        _progress(f"écriture en {elapsed - pass1 - pass2:.1f} s ({_spaced(out_lines)} lignes de décompte)")
        last_timings.update(
            repartition=pass1, liquidation=pass2, ecriture=elapsed - pass1 - pass2, total=elapsed
        )
        _progress(f"total {elapsed:.1f} s ({_spaced(round(n_lines / max(elapsed, 1e-9)))} lignes/s)")
        return True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
