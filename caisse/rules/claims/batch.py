"""``caisse liquider``: liquidate a file of feuilles against a référentiel, in memory.

Inputs (contract §2):

- NDJSON: ``--feuilles FILE`` with nested ``lignes`` (``-`` reads standard input);
- Parquet: when ``--feuilles`` ends in ``.parquet`` (or names a folder), the feuilles file (one
  row per feuille: the named file, or ``feuilles.parquet`` in the folder) and its lines file
  (``feuille_id`` + the line fields: ``lignes.parquet`` beside it, or the twin named with
  ``lignes`` for ``feuilles``, see :func:`parquet_flow`) are read. A line whose ``feuille_id``
  names no feuille is ignored. When an id is repeated k times, lines whose count divides by k are
  taken as k blocks in file order (the j-th block to the j-th occurrence); otherwise they all
  belong to the occurrence processed first (by ``date_reception``, then file order), the one
  liquidated, the others being rejected as ``DOUBLON``.

Outputs:

- ``--format ndjson`` (default): one décompte per line of ``--out`` (``-`` = standard output),
  its ``id`` with the JSON type of the input's (``7`` stays ``7``, ``"7"`` stays ``"7"``);
- ``--format parquet``: ``decomptes.parquet`` and ``lignes_decomptes.parquet``. When ``--out``
  ends in ``.parquet`` it is the décomptes file and the lines go next to it in
  ``lignes_decomptes.parquet``; otherwise ``--out`` is a folder that receives both files.
  In ``lignes_decomptes.parquet`` a line is keyed by ``feuille_id`` and ``ligne`` (its rank in
  the feuille, from 0) — prefer ``feuille_position`` (the feuille's rank in the input) when ids
  repeat. Each line carries its own ``explication``; a décompte's ``explication`` then holds
  only the feuille's sentences (rejection, debt, payment), not a copy of its lines'.

An NDJSON file is read by columns (:mod:`caisse.rules.claims.ndjson`: Polars' reader, the same
conversions as Parquet's) unless it holds something only the record reader judges exactly (a
value of another JSON type than its field's, a line that is not an object, a null where a
missing field takes a default): then it is read record by record, as standard input always is.
The NDJSON output is written by Polars too.

A Parquet flow of more than ``CHUNK_FEUILLES`` feuilles, output as Parquet, is streamed and
partitioned by person instead (:mod:`caisse.rules.claims.partitioned`, same output). Other large
flows are processed in chunks of feuilles taken in the contract's order (date_reception,
id) with carried :class:`~caisse.rules.claims.counters.Counters`, so the result does not depend on
the chunk size. When the flow is already in that order (a daily reception file is), each chunk's
output is written as soon as it is computed (streaming, memory bounded by a chunk plus the
counters); otherwise the chunks' outputs are gathered and put back in input order. Progress goes
to standard error, nothing else to standard output unless ``--out -``.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from caisse.batch_io import UnreadableFile, iter_ndjson, open_output, output
from caisse.rules.claims import ndjson, records
from caisse.rules.claims.conversions import boolean_column, date_column, line_fields, text_column
from caisse.rules.claims.counters import Counters
from caisse.rules.claims.engine import (
    FEUILLE_COLUMNS,
    LIGNE_COLUMNS,
    has_integer_ids,
    liquidate,
    processing_keys,
)
from caisse.rules.claims.legal import load
from caisse.rules.claims.nomenclature import FAR_FUTURE
from caisse.rules.claims.referentiel import Referentiel, check_referentiel, load_referentiel

CHUNK_FEUILLES = 2_000_000
PROGRESS_MIN = 200_000


def _progress(message: str) -> None:
    print(f"liquider : {message}", file=sys.stderr, flush=True)


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except FileNotFoundError:
        raise UnreadableFile(f"Fichier introuvable : {path}") from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise UnreadableFile(f"Fichier Parquet illisible : {path} ({type(exc).__name__}).") from None


def feuille_frame(f: pl.DataFrame) -> pl.DataFrame:
    """The contract's conversions of ``feuilles.parquet`` rows (with their ``_pos``): id as text
    (an integer column's value kept in ``_id_entier`` for the processing order), ``date_reception`` as a date (``_invalide`` where present but not a date), default
    ``risque`` and ``parcours``; only the engine's columns are kept."""
    reception, bad_reception = date_column(f, "date_reception")
    # Each field in the engine's type; a value the column's type cannot give (a text other than
    # « true »/« false » for a boolean, a list where a text is expected) makes a bad record, never
    # a failed batch.
    readers = {"tiers_payant": boolean_column, "en_rapport_ald": boolean_column}
    readers |= dict.fromkeys(("type", "nir", "executant", "prescripteur", "risque", "parcours", "carte_vitale"), text_column)
    converted, bad = [], bad_reception
    for name, read in readers.items():
        if name in f.columns:
            value, bad_value = read(f, name)
            converted.append(value.alias(name))
            bad = bad | bad_value
    # Ids ordered as numbers (engine.processing_keys): an integer column, or Spark's reading of an
    # unsigned 64-bit one (decimal(20, 0)); beyond Int64 they are ordered as text.
    id_type = f.schema.get("id", pl.String())
    integer = id_type.is_integer() or (isinstance(id_type, pl.Decimal) and id_type.scale == 0)
    identifier, bad_id = text_column(f, "id") if "id" in f.columns else (pl.lit(None, dtype=pl.String()), pl.lit(False))
    f = f.with_columns(
        pl.col("_pos").cast(pl.Int64),
        identifier.alias("id"),
        *([pl.col("id").cast(pl.Int64, strict=False).alias("_id_entier")] if integer else []),
        reception.alias("date_reception"),
        *converted,
        (bad | bad_id).alias("_invalide"),
    )
    if "risque" not in f.columns:
        f = f.with_columns(pl.lit("maladie").alias("risque"))
    if "parcours" not in f.columns:
        f = f.with_columns(pl.lit("medecin_traitant").alias("parcours"))
    return f.select(c for c in FEUILLE_COLUMNS if c in f.columns)


def ligne_frame(lines: pl.DataFrame) -> pl.DataFrame:
    """The contract's conversions of ``lignes.parquet`` rows (with their file row ``_row``):
    ``feuille_id`` as text, ``date_soins`` as a date (``_invalide`` where present but not a
    date), default ``coefficient`` and ``quantite``."""
    if "coefficient" not in lines.columns:
        lines = lines.with_columns(pl.lit(1.0).alias("coefficient"))
    if "quantite" not in lines.columns:
        lines = lines.with_columns(pl.lit(1, dtype=pl.Int64).alias("quantite"))
    return lines.with_columns(pl.col("feuille_id").cast(pl.String), *line_fields(lines))


def rank_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Lines with their feuille's ``_fpos`` and file row ``_row``: sorted by feuille, with
    ``_lpos`` (rank of the line in its feuille, in file order) and only the engine's columns."""
    # A sort on integers, no string window.
    lines = lines.sort("_fpos", "_row")
    start = pl.col("_fpos").ne_missing(pl.col("_fpos").shift(1)) | (pl.int_range(pl.len()) == 0)
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    lines = lines.with_columns(
        (index - pl.when(start).then(index).otherwise(None).forward_fill()).alias("_lpos")
    )
    return lines.select(c for c in LIGNE_COLUMNS if c in lines.columns)


def is_parquet_flow(path: str | Path) -> bool:
    """Whether ``--feuilles`` names a Parquet flow (a ``.parquet`` file or a folder), not NDJSON."""
    return str(path) != "-" and (Path(path).suffix == ".parquet" or Path(path).is_dir())


def parquet_flow(path: Path) -> tuple[Path, Path]:
    """The (feuilles, lignes) files of a Parquet flow named by ``--feuilles``: a folder holds
    ``feuilles.parquet`` and ``lignes.parquet``; a file is the feuilles file itself, its lines
    being the file of the same name with ``lignes`` for ``feuilles`` (``2026_feuilles.parquet``
    → ``2026_lignes.parquet``) when there is one, otherwise ``lignes.parquet`` beside it."""
    path = Path(path)
    if path.is_dir() and path.suffix != ".parquet":  # ``x.parquet/`` of part files is a file
        return path / "feuilles.parquet", path / "lignes.parquet"
    if "feuilles" in path.stem:
        twin = path.with_name(path.stem.replace("feuilles", "lignes") + path.suffix)
        if twin != path and twin.exists():
            return path, twin
    return path, path.with_name("lignes.parquet")


def _check_id_columns(folder: Path, f_columns: list[str], line_columns: list[str]) -> None:
    if "id" not in f_columns or "feuille_id" not in line_columns:
        raise UnreadableFile(f"{folder} : colonnes « id » ou « feuille_id » absentes des fichiers Parquet.")


def _grouped_lines(f: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame | None:
    """The lines ranked in their feuilles without a join, when the file is laid out the usual
    way: feuille ids strictly increasing (hence unique) and the lines grouped by feuille in the
    feuilles' order, every feuille with at least one line. None otherwise (the join decides)."""
    ids = f.get_column("id")
    if f.height == 0 or lines.height == 0 or ids.null_count() or lines.get_column("feuille_id").null_count():
        return None
    if not bool((ids.slice(1) > ids.slice(0, f.height - 1)).all()):
        return None
    # One run of equal ids per feuille: the run's index is the feuille's row, its first line the
    # feuille's first line (run ids on integers, no string aggregation).
    run = lines.get_column("feuille_id").rle_id()
    if int(run[-1]) + 1 != f.height:
        return None
    starts = run.ne_missing(run.shift(1)).fill_null(True).arg_true()
    if not bool((lines.get_column("feuille_id").gather(starts) == ids).all()):
        return None
    row = pl.int_range(lines.height, dtype=pl.Int64, eager=True)
    lines = lines.with_columns(
        f.get_column("_pos").cast(pl.Int64).gather(run).alias("_fpos"),
        (row - starts.cast(pl.Int64).gather(run)).alias("_lpos"),
    )
    return lines.select(c for c in LIGNE_COLUMNS if c in lines.columns)


def read_parquet_feuilles(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(feuilles, lignes) engine frames from a Parquet flow (a folder or its feuilles file, see
    :func:`parquet_flow`)."""
    feuilles_path, lignes_path = parquet_flow(path)
    # Side by side: Arrow's decoding releases the GIL.
    with ThreadPoolExecutor(2, thread_name_prefix="parquet") as pool:
        f_read = pool.submit(_read_parquet, feuilles_path)
        lines_read = pool.submit(_read_parquet, lignes_path)
        f, lines = f_read.result(), lines_read.result()
    _check_id_columns(feuilles_path.parent, f.columns, lines.columns)
    f = feuille_frame(f.with_row_index("_pos"))
    lines = ligne_frame(lines.with_row_index("_row"))
    grouped = _grouped_lines(f, lines)
    if grouped is not None:
        return f.rechunk(), grouped.rechunk()
    if f.get_column("id").n_unique() == f.height:
        lines = lines.join(
            f.select(pl.col("id").alias("feuille_id"), pl.col("_pos").alias("_fpos")), on="feuille_id", how="inner"
        )
    else:
        # A repeated id whose lines split evenly is taken as repeated blocks (k-th block -> k-th
        # occurrence); otherwise every line belongs to the occurrence processed first (contract
        # order: date_reception, then input position), the one that is liquidated — the others
        # are DOUBLON —, as when each NDJSON record carries its own lines.
        occurrences = f.select("id", "_pos", "date_reception").with_columns(
            pl.int_range(pl.len()).over("id").alias("_occ")
        )
        counts = occurrences.group_by("id").agg(
            pl.len().alias("_nb_occ"),
            pl.col("_occ").sort_by(pl.col("date_reception").fill_null(FAR_FUTURE), "_pos").first().alias("_premier"),
        )
        lines = lines.join(counts, left_on="feuille_id", right_on="id", how="inner").sort("_row")
        rank = pl.int_range(pl.len()).over("feuille_id")
        size = pl.len().over("feuille_id")
        lines = lines.with_columns(
            pl.when((pl.col("_nb_occ") > 1) & (size % pl.col("_nb_occ") == 0))
            .then(rank // (size // pl.col("_nb_occ")))
            .otherwise(pl.col("_premier"))
            .alias("_occ")
        )
        lines = lines.join(
            occurrences.rename({"_pos": "_fpos"}), left_on=["feuille_id", "_occ"], right_on=["id", "_occ"], how="inner"
        )
    return f.rechunk(), rank_lines(lines).rechunk()


def read_feuilles(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Engine frames from the ``--feuilles`` argument (NDJSON file or Parquet pair)."""
    f, lines, _ = read_flow(path)
    return f, lines


def parquet_id_dtype(path: Path) -> pl.DataType | None:
    """The integer type of a Parquet flow's ``id`` column (:func:`parquet_flow`), None when the
    ids are text (or the file cannot be read: the reader reports it). The engine works on text
    ids; the outputs give them back in this type."""
    try:
        field = pq.read_schema(parquet_flow(path)[0]).field("id")
    except (OSError, KeyError, pa.ArrowException):
        return None
    if pa.types.is_unsigned_integer(field.type):
        return pl.UInt64()
    return pl.Int64() if pa.types.is_integer(field.type) else None


def read_flow(path: Path) -> tuple[pl.DataFrame, pl.DataFrame, frozenset[int]]:
    """:func:`read_feuilles` and the positions of the NDJSON records whose ``id`` is a JSON
    integer: the engine works on text ids, the NDJSON output gives them back as integers (a
    Parquet flow's ids have one type, its column's: :func:`parquet_id_dtype`)."""
    p = Path(path)
    if is_parquet_flow(path):
        return (*read_parquet_feuilles(p), frozenset())
    if str(path) != "-" and p.is_file():
        fast = ndjson.read_frames(p)
        if fast is not None:
            return fast
    recs = list(iter_ndjson(path))
    integer_ids = frozenset(
        pos for pos, r in enumerate(recs) if isinstance(r, dict) and type(r.get("id")) is int  # not bool
    )
    return (*records.frames_from_records(recs), integer_ids)


def write_ndjson_decomptes(out: str, decomptes: pl.DataFrame, lignes: pl.DataFrame, integer_ids: frozenset[int]) -> None:
    """The décomptes as the contract's NDJSON records (``-``: standard output)."""
    with output(out) as handle:
        ndjson.write(handle, decomptes, lignes, integer_ids)


def processing_order(feuilles: pl.DataFrame) -> pl.Series:
    """The feuilles' ``_pos`` in the contract's processing order (date_reception, id)."""
    keys, nulls_last = processing_keys(has_integer_ids(feuilles))
    return feuilles.select(pl.col("_pos").sort_by(keys, nulls_last=nulls_last)).to_series()


def iter_chunks(
    ref: Referentiel,
    feuilles: pl.DataFrame,
    lignes: pl.DataFrame,
    counters: Counters | None = None,
    chunk_feuilles: int = CHUNK_FEUILLES,
    today: dt.date | None = None,
    explanations: bool = True,
    carry: bool = True,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, Counters]]:
    """Liquidate chunk by chunk in processing order, carrying the counters; yields each chunk's
    (décomptes, lines, counters after the chunk)."""
    params = load()
    counters = counters or Counters.from_compteurs(ref.compteurs)
    total = feuilles.height
    if total <= chunk_feuilles:
        yield liquidate(ref, feuilles, lignes, counters, today, params, explanations, carry)
        return
    positions = processing_order(feuilles)
    # A flow already in processing order, with its lines grouped in feuille order, is cut by
    # slicing (no scan of the whole flow per chunk).
    sliceable = positions.equals(feuilles.get_column("_pos")) and lignes.get_column("_fpos").is_sorted()
    fpos = lignes.get_column("_fpos")
    for start in range(0, total, chunk_feuilles):
        if sliceable:
            f = feuilles.slice(start, chunk_feuilles)
            first, last_pos = int(f.get_column("_pos").min()), int(f.get_column("_pos").max())  # type: ignore[arg-type]
            lo_i = int(fpos.search_sorted(first, side="left"))
            hi_i = int(fpos.search_sorted(last_pos, side="right"))
            lines = lignes.slice(lo_i, hi_i - lo_i)
        else:
            chunk = positions.slice(start, chunk_feuilles).implode()
            f = feuilles.filter(pl.col("_pos").is_in(chunk))
            lines = lignes.filter(pl.col("_fpos").is_in(chunk))
        last = start + chunk_feuilles >= total
        d, lo, counters = liquidate(
            ref, f, lines, counters, today, params, explanations, carry or not last
        )
        _progress(f"{min(start + chunk_feuilles, total):,} / {total:,} feuilles".replace(",", " "))
        yield d, lo, counters


def liquidate_in_chunks(
    ref: Referentiel,
    feuilles: pl.DataFrame,
    lignes: pl.DataFrame,
    counters: Counters | None = None,
    chunk_feuilles: int = CHUNK_FEUILLES,
    today: dt.date | None = None,
    explanations: bool = True,
    carry: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame, Counters]:
    """Liquidate in chunks of feuilles (contract order), carrying the counters between chunks;
    the outputs are gathered and put back in input order."""
    decomptes: list[pl.DataFrame] = []
    out_lines: list[pl.DataFrame] = []
    counters_out = counters or Counters.from_compteurs(ref.compteurs)
    for d, lo, after in iter_chunks(
        ref, feuilles, lignes, counters, chunk_feuilles, today, explanations, carry
    ):
        decomptes.append(d)
        out_lines.append(lo)
        counters_out = after
    if len(decomptes) == 1:
        return decomptes[0], out_lines[0], counters_out
    return (
        pl.concat(decomptes, how="diagonal_relaxed").sort("_pos"),
        pl.concat(out_lines, how="diagonal_relaxed").sort("_fpos", "_lpos"),
        counters_out,
    )


def _parquet_targets(out: str) -> tuple[Path, Path]:
    target = Path(out)
    if target.suffix == ".parquet":
        return target, target.with_name("lignes_decomptes.parquet")
    return target / "decomptes.parquet", target / "lignes_decomptes.parquet"


def output_id_dtype(f: pl.DataFrame, integer_ids: frozenset[int], parquet: pl.DataType | None = None) -> pl.DataType | None:
    """The type of ``id`` / ``feuille_id`` in a Parquet output: the input Parquet column's integer
    type, or Int64 when every id of an NDJSON flow was a JSON integer that fits; else None (text,
    as when the ids mix types)."""
    if parquet is not None:
        return parquet
    ids = f.get_column("id")
    if not integer_ids or len(integer_ids) != ids.len() - ids.null_count():
        return None
    fits = ids.cast(pl.Int64, strict=False).null_count() == ids.null_count()
    return pl.Int64() if fits else None


def _typed_id(column: str, id_dtype: pl.DataType | None) -> pl.Expr:
    return pl.col(column) if id_dtype is None else pl.col(column).cast(id_dtype)


def _decomptes_table(decomptes: pl.DataFrame, id_dtype: pl.DataType | None = None) -> pl.DataFrame:
    return decomptes.select(
        pl.col("_pos").alias("feuille_position"),
        _typed_id("id", id_dtype), "statut", "rejets", "destinataire", "montant_rembourse_cts", "paiement_ps_cts",
        "paiement_assure_cts", "part_c2s_cts", "dette_creee_cts", "dette_recuperee_cts",
        "forfait_journalier_cts", "explication",
    )


def _lignes_table(lignes: pl.DataFrame, id_dtype: pl.DataType | None = None) -> pl.DataFrame:
    return lignes.select(
        pl.col("_fpos").alias("feuille_position"),
        _typed_id("feuille_id", id_dtype),
        pl.col("_lpos").alias("ligne"),
        *records.LINE_FIELDS,
    )


def write_parquet(out: str, decomptes: pl.DataFrame, lignes: pl.DataFrame, id_dtype: pl.DataType | None = None) -> None:
    """``decomptes.parquet`` and ``lignes_decomptes.parquet`` (ids in ``id_dtype``, see
    :func:`output_id_dtype`)."""
    dec_path, lig_path = _parquet_targets(out)
    dec_path.parent.mkdir(parents=True, exist_ok=True)
    _decomptes_table(decomptes, id_dtype).write_parquet(dec_path, compression="lz4", statistics=False)
    _lignes_table(lignes, id_dtype).write_parquet(lig_path, compression="lz4", statistics=False)


class StreamWriter:
    """Writes the output chunk by chunk (the flow is already in processing order, so chunks
    come out in input order): memory stays bounded by one chunk."""

    def __init__(
        self, out: str, fmt: str, integer_ids: frozenset[int] = frozenset(), id_dtype: pl.DataType | None = None
    ) -> None:
        self.fmt = fmt
        self.integer_ids = integer_ids
        self.id_dtype = id_dtype
        self.out = out
        self._text: IO[str] | None = None
        self._writers: list[pq.ParquetWriter] = []
        if fmt == "parquet":
            self.paths = _parquet_targets(out)
            self.paths[0].parent.mkdir(parents=True, exist_ok=True)
        else:
            self._text = open_output(out)

    def write(self, decomptes: pl.DataFrame, lignes: pl.DataFrame) -> None:
        if self._text is not None:
            ndjson.write(self._text, decomptes, lignes, self.integer_ids)
            return
        tables = [
            _decomptes_table(decomptes, self.id_dtype).to_arrow(), _lignes_table(lignes, self.id_dtype).to_arrow()
        ]
        if not self._writers:
            self._writers = [
                pq.ParquetWriter(path, table.schema, compression="lz4")
                for path, table in zip(self.paths, tables, strict=True)
            ]
        for writer, table in zip(self._writers, tables, strict=True):
            writer.write_table(table.cast(writer.schema))

    def close(self) -> None:
        for writer in self._writers:
            writer.close()
        if self._text is not None and self._text is not sys.stdout:
            self._text.close()
        elif self._text is not None:
            self._text.flush()


def run(referentiel: Path, feuilles: Path, out: str, fmt: str) -> None:
    """Entry point of ``caisse liquider`` (see the module docstring)."""
    source = Path(feuilles)
    check_referentiel(referentiel)
    parquet_source = is_parquet_flow(feuilles)
    if fmt == "parquet" and parquet_source:
        # A large Parquet flow is streamed, partitioned by person (unless its ids repeat).
        from caisse.rules.claims import partitioned

        if partitioned.flow_size(source) > CHUNK_FEUILLES and partitioned.run(referentiel, source, out):
            return
    started = time.perf_counter()
    # Both readers spend their time in Arrow and Polars, which release the GIL: side by side. The
    # référentiel's error, if any, is reported first, as when they were read one after the other.
    with ThreadPoolExecutor(2, thread_name_prefix="lecture") as pool:
        ref_read = pool.submit(load_referentiel, referentiel)
        flow_read = pool.submit(read_flow, feuilles)
        ref = ref_read.result()
        f, lines, integer_ids = flow_read.result()
    big = f.height >= PROGRESS_MIN
    read_s = time.perf_counter() - started
    if big:
        _progress(f"{f.height:,} feuilles, {lines.height:,} lignes lues en {read_s:.1f} s".replace(",", " "))
    # Ids given back in the input's type: an integer Parquet column's, or JSON integers.
    parquet_ids = parquet_id_dtype(source) if parquet_source else None
    if parquet_ids is not None and fmt == "ndjson":
        integer_ids = frozenset(f.filter(pl.col("id").is_not_null()).get_column("_pos").to_list())
    id_dtype = output_id_dtype(f, integer_ids, parquet_ids) if fmt == "parquet" else None
    in_order = f.height > CHUNK_FEUILLES and processing_order(f).equals(
        pl.Series("_pos", range(f.height), dtype=pl.Int64)
    )
    if in_order:
        writer = StreamWriter(out, fmt, integer_ids, id_dtype)
        try:
            for d, lo, _ in iter_chunks(ref, f, lines, None, CHUNK_FEUILLES, None, True, False):
                writer.write(d, lo)
        finally:
            writer.close()
    else:
        decomptes, out_lines, _ = liquidate_in_chunks(ref, f, lines, carry=False)
        if big:
            _progress(f"liquidation en {time.perf_counter() - started - read_s:.1f} s")
        if fmt == "parquet":
            write_parquet(out, decomptes, out_lines, id_dtype)
        else:
            write_ndjson_decomptes(out, decomptes, out_lines, integer_ids)
    if big:
        elapsed = time.perf_counter() - started
        _progress(f"total {elapsed:.1f} s ({lines.height / max(elapsed, 1e-9):,.0f} lignes/s)".replace(",", " "))
