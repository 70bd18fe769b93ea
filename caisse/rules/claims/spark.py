"""Spark runner of the claims liquidation: the same engine, partitioned by person.

Why by person
-------------
Everything the engine carries from one feuille to the next is per person (``nir``) and consumed
in the contract's order (``date_reception``, ``id``): the annual caps, the daily caps, the
duplicate acts, the assuré's debt. Two persons never influence each other, so a flow can be cut
into groups of persons, each liquidated by the unchanged single-machine engine
(:func:`caisse.rules.claims.engine.liquidate`), and the union of the outputs is the result of
one run. The engine's own ranks (``_ordre``) are computed inside each group from
``(date_reception, id, _pos)``: the group's order is a sub-sequence of the global order, which
is all a person's counters need.

Pipeline (:func:`liquidate_spark`, :func:`liquidate_spark_dataframes`)
----------------------------------------------------------------------
1. Reading (:func:`read_input`). A Parquet flow (``feuilles.parquet`` + ``lignes.parquet``,
   files or folders of part files) is read by Spark's tasks (:func:`read_parquet_spark`); the
   driver only reads the files' schemas. Each row's input position is computed where it is
   read: its row index in its file (Spark's ``_metadata.row_index``, exact whatever the splits)
   plus the rows of the files before it (files in path order, as Polars reads a folder): a
   feuille's ``_pos`` and a line's ``_row`` are thus their row numbers in the input, as
   ``with_row_index`` gives them to the in-memory reader (:func:`batch.read_parquet_feuilles`).
   The raw rows then go, by Arrow batches (``mapInArrow``), through that reader's own per-row
   conversions, :func:`batch.feuille_frame` and :func:`batch.ligne_frame` (invalid dates,
   defaults, ids as text): the parsing rules stay in ``batch.py``. Lines attach to feuilles by a
   join on the id, with the in-memory reader's rule for repeated ids (the lines of an id
   repeated k times that split evenly go block by block, in file order, to its occurrences in
   input order; otherwise all to the first occurrence); a line whose ``feuille_id`` names no
   feuille is dropped (contract §2). Each line carries its feuille's ``_pos`` (``_fpos``) and
   person. An NDJSON flow keeps the driver path: :func:`batch.read_feuilles` reads it on the
   driver and the engine frames are staged as Parquet for Spark (:func:`stage_frames`): its
   positions count the non-blank lines of a text file that Spark splits at byte offsets (its
   text source has no row index), and the in-memory reader's refusal of a file that is not
   UTF-8 would have to be reproduced; large flows come as Parquet (as for
   :mod:`caisse.rules.claims.partitioned`).
2. Global pass for feuille ids (the one check that is not per person: the same feuille ``id`` may
   come under two ``nir``): a window over ``id`` ordered by (``date_reception``, ``id``,
   ``_pos``) gives each feuille the ``_pos`` of the first occurrence of its id (``_first_pos``).
3. Nesting, in one shuffle: feuilles, lines and the person's référentiel records (beneficiary,
   dated periods, cartes Vitale, médecins traitants, compteurs) are rows of one union, each kind
   in its own struct column, repartitioned by person (``nir``; a null NIR goes with the empty
   one) into N partitions and gathered: one row per person with feuilles, no join (the
   référentiel's persons without feuilles are dropped). The référentiel is still read on the
   driver (:func:`load_referentiel`) and its person tables staged as Parquet.
4. ``mapInArrow``: each partition rebuilds Polars frames, ranks each feuille's lines in file
   order with the in-memory reader's :func:`batch.rank_lines` (``_lpos``: a line's rank among
   its feuille's lines by ``_row``, all of which are in the partition), builds a
   :class:`Referentiel` restricted to its persons (professionals and nomenclature come with the
   task closure, i.e. broadcast) and :class:`Counters` from the persons' compteurs. A feuille
   whose id's first occurrence is in another partition has its id put in
   ``Counters.seen_ids``, which the engine already rejects as ``DOUBLON``
   (``_step_feuille_controls``); repeats within the partition are found by the engine itself
   (``_ordre > min(_ordre) over id``), so the rejection is the single-machine one without
   touching the engine. The partition returns one Arrow row per décompte with its lines nested
   (the columns of the Polars batch's Parquet output).
5. The décomptes and the exploded lines are written, in input order, as
   ``decomptes.parquet`` and ``lignes_decomptes.parquet`` (Spark writes each as a folder of part
   files; ``pl.read_parquet(folder / "*.parquet")`` reads them back).

What the driver still does: it reads the référentiel (``load_referentiel``, one machine) and
stages its person tables; it lists the input files (and, for a folder of parts, receives one row
count per file); it reads an NDJSON flow whole. It never holds a Parquet flow. Other limits: the
professionals and the nomenclature are shipped whole to every task; one person's feuilles must
fit one task (they always do: a few hundred a year); Spark may broadcast (through the driver)
the ids' occurrences joined to the lines when it finds them small
(``spark.sql.autoBroadcastJoinThreshold``, 10 MB by default). Partition counts and input splits
do not change the results (tested).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import polars as pl
import pyarrow as pa

from caisse.batch_io import UnreadableFile
from caisse.rules.claims import batch
from caisse.rules.claims.counters import Counters
from caisse.rules.claims.engine import FEUILLE_COLUMNS, LIGNE_COLUMNS, liquidate
from caisse.rules.claims.legal import load
from caisse.rules.claims.nomenclature import FAR_FUTURE
from caisse.rules.claims.referentiel import (
    BENEF_SCHEMA,
    CARD_SCHEMA,
    COUNTER_SCHEMA,
    MT_SCHEMA,
    PERIOD_SCHEMA,
    Referentiel,
    load_referentiel,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

PERSON_TABLES: dict[str, dict[str, pl.DataType]] = {
    "beneficiaires": BENEF_SCHEMA,
    "periods": PERIOD_SCHEMA,
    "cartes": CARD_SCHEMA,
    "medecins_traitants": MT_SCHEMA,
    "compteurs": COUNTER_SCHEMA,
}

RAW_FEUILLE_FIELDS = tuple(c for c in FEUILLE_COLUMNS if c not in ("_pos", "_invalide", "_id_entier"))
"""The columns of ``feuilles.parquet`` that :func:`batch.feuille_frame` reads (the others are
not shipped to the tasks)."""
RAW_LIGNE_FIELDS = ("feuille_id", "code", "date_soins", "quantite", "coefficient", "montant_facture_cts")
"""The columns of ``lignes.parquet`` that :func:`batch.ligne_frame` and the engine read."""
LINE_FIELDS: dict[str, pl.DataType] = {c: t for c, t in LIGNE_COLUMNS.items() if c not in ("_fpos", "_lpos")}
READ_LINE_SCHEMA: dict[str, pl.DataType] = {"feuille_id": pl.String(), "_row": pl.Int64(), **LINE_FIELDS}
"""A line of ``lignes.parquet`` after :func:`batch.ligne_frame`, with its file row ``_row``."""
NESTED_LINE_SCHEMA: dict[str, pl.DataType] = {"_fpos": pl.Int64(), "_row": pl.Int64(), **LINE_FIELDS}
"""A line nested under its person: its feuille's ``_pos`` and its file row (ranked in the task)."""
ID_SCHEMA: dict[str, pl.DataType] = {
    "_pos": pl.Int64(), "id": pl.String(), "nir": pl.String(), "date_reception": pl.Date()
}
"""A feuille's position, id, person and reception date: what the lines need to find their
feuille (among the occurrences of a repeated id, the one processed first)."""


def local_session(partitions: int = 4, cores: int = 2, app: str = "caisse-liquider") -> SparkSession:
    """A local SparkSession for tests and the bench (``local[cores]``, no UI)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


def _typed(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with exactly ``schema``'s columns: cast as the engine casts its inputs
    (``strict=False``, a bad value becomes null), a missing column as nulls. The engine does the
    same cast again (:func:`engine._conform`), so casting in the reading task changes nothing."""
    return frame.select(
        pl.col(c).cast(t, strict=False) if c in frame.columns else pl.lit(None, dtype=t).alias(c)
        for c, t in schema.items()
    )


def _arrow_schemas(spark: SparkSession, schema: pa.Schema) -> tuple[Any, pa.Schema]:
    """(Spark StructType, the Arrow schema a ``mapInArrow`` function must yield) for an Arrow
    schema (strings as Spark's Arrow exchange expects them: large or not, per its setting)."""
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    struct = from_arrow_schema(schema)
    large = str(spark.conf.get("spark.sql.execution.arrow.useLargeVarTypes", "false")).lower() == "true"
    return struct, to_arrow_schema(struct, prefers_large_types=large)


def _polars_schema(schema: dict[str, pl.DataType]) -> pa.Schema:
    return pl.DataFrame(schema=schema).to_arrow().schema


def _batch_converter(
    convert: Callable[[pl.DataFrame], pl.DataFrame], schema: dict[str, pl.DataType], target: pa.Schema
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The ``mapInArrow`` function of a reading task: each Arrow batch of raw rows through the
    in-memory reader's conversion ``convert`` (row by row, so batch boundaries do not matter),
    then the engine's types."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for raw in batches:
            if raw.num_rows == 0:
                continue
            frame = pl.from_arrow(raw)
            assert isinstance(frame, pl.DataFrame)
            yield from _typed(convert(frame), schema).to_arrow().cast(target).to_batches()

    return run


def _map_in_arrow(df: DataFrame, function: Any, schema: Any) -> DataFrame:
    """``df.mapInArrow(function, schema)``. PySpark's public method insists on pandas being
    installed although an Arrow map never uses it (the check is in ``pandas_udf``); without
    pandas the same plan is built through the UDF constructor that ``mapInArrow`` does after its check."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        from pyspark.sql import DataFrame as SparkDataFrame
        from pyspark.sql.udf import _create_udf
        from pyspark.util import PythonEvalType

        udf = _create_udf(function, schema, PythonEvalType.SQL_MAP_ARROW_ITER_UDF)
        column = udf(*[df[c] for c in df.columns])
        return SparkDataFrame(df._jdf.mapInArrow(column._jc, False, None), df.sparkSession)
    return df.mapInArrow(function, schema)


def _convert(
    spark: SparkSession,
    raw: DataFrame,
    fields: tuple[str, ...],
    position: Column,
    convert: Callable[[pl.DataFrame], pl.DataFrame],
    schema: dict[str, pl.DataType],
) -> DataFrame:
    """``raw``'s columns among ``fields`` with the input position, through ``convert`` in the
    reading tasks (:func:`_batch_converter`): ``schema``'s columns."""
    from pyspark.sql import functions as F

    struct, target = _arrow_schemas(spark, _polars_schema(schema))
    raw = raw.select(*[F.col(f"`{c}`") for c in raw.columns if c in fields], position)
    return _map_in_arrow(raw, _batch_converter(convert, schema, target), struct)


def _read_spark_parquet(spark: SparkSession, path: Path) -> DataFrame:
    """``spark.read.parquet``, with the in-memory reader's one-line errors."""
    from pyspark.errors import AnalysisException

    try:
        return spark.read.parquet(str(path))
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc):
            raise UnreadableFile(f"Fichier introuvable : {path}") from None
        raise UnreadableFile(f"Fichier Parquet illisible : {path} ({type(exc).__name__}).") from None
    except Exception as exc:  # noqa: BLE001 - Py4J wraps the JVM's errors: any is "unreadable"
        raise UnreadableFile(f"Fichier Parquet illisible : {path} ({type(exc).__name__}).") from None


def _row_number(raw: DataFrame) -> Column:
    """Each row's rank in the input, from 0, computed where the row is read: its row index in its
    Parquet file (Spark's ``_metadata.row_index``, exact whatever the splits of the file) plus the
    rows of the files before it. A folder of part files is read in the order of the files' paths,
    as :func:`polars.read_parquet` reads a folder; only then are the rows counted per file (one
    small aggregate; the driver receives one number per file)."""
    from pyspark.sql import functions as F

    index = F.col("_metadata.row_index")
    if len(raw.inputFiles()) <= 1:
        return index
    counts = raw.select(F.col("_metadata.file_path").alias("file")).groupBy("file").count().collect()
    offsets: list[Any] = []
    seen = 0
    for row in sorted(counts, key=lambda r: unquote(str(r["file"]))):
        offsets += [F.lit(row["file"]), F.lit(seen)]
        seen += int(row["count"])
    return index + F.element_at(F.create_map(*offsets), F.col("_metadata.file_path"))


def read_parquet_spark(spark: SparkSession, folder: Path) -> tuple[DataFrame, DataFrame]:
    """(feuilles, lines) read by Spark from a Parquet flow (a folder or its feuilles file,
    :func:`batch.parquet_flow`; files, or folders of part files), with the rules of
    :func:`batch.read_parquet_feuilles`:

    - feuilles: the engine's columns (:data:`engine.FEUILLE_COLUMNS`), ``_pos`` being the row's
      rank in the file (:func:`_row_number`), converted by :func:`batch.feuille_frame` in the
      reading tasks, plus ``nir_key`` (see :func:`_nir_key`);
    - lines: ``_fpos`` (the ``_pos`` of their feuille), ``_row`` (rank in the file, which orders
      the lines of a feuille), ``nir_key`` (their feuille's) and the line fields converted by
      :func:`batch.ligne_frame` in the reading tasks. A line attaches to the feuille of its
      ``feuille_id`` (one naming no feuille, or null, is dropped); for an id repeated k times,
      a line count that splits evenly is taken as k blocks in file order (the j-th block to the
      j-th occurrence), otherwise every line goes to the first occurrence.

    Nothing is read on the driver but the files' schemas (and, for folders, a row count per
    file). The lines are ranked in their feuille later, by :func:`batch.rank_lines`, in the task
    that holds the feuille's person."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    feuilles_path, lignes_path = batch.parquet_flow(folder)
    raw_f = _read_spark_parquet(spark, feuilles_path)
    raw_l = _read_spark_parquet(spark, lignes_path)
    batch._check_id_columns(feuilles_path.parent, raw_f.columns, raw_l.columns)

    position = _row_number(raw_f).alias("_pos")
    f = _convert(spark, raw_f, RAW_FEUILLE_FIELDS, position, batch.feuille_frame, FEUILLE_COLUMNS)
    f = f.withColumn("nir_key", _nir_key(F.col("nir")))
    # The ids and persons again, through the same conversion (three columns read twice: cheaper
    # than keeping the converted feuilles for a second use).
    keys = _convert(spark, raw_f, ("id", "nir", "date_reception"), position, batch.feuille_frame, ID_SCHEMA)
    row = _row_number(raw_l).alias("_row")
    lines = _convert(spark, raw_l, RAW_LIGNE_FIELDS, row, batch.ligne_frame, READ_LINE_SCHEMA)

    # Each id's occurrences (position and person), in input order (structs sort by ``_pos``),
    # then the in-memory reader's rule (batch.read_parquet_feuilles): the lines of an id repeated
    # k times go block by block (rank // (size // k)) when their count divides by k, else all to
    # the occurrence processed first (date_reception, then position).
    occurrence = F.struct("_pos", _nir_key(F.col("nir")).alias("nir_key"))
    reception = F.coalesce(F.col("date_reception"), F.lit(FAR_FUTURE))
    occurrences = (
        keys.where(F.col("id").isNotNull())
        .groupBy("id")
        .agg(
            F.array_sort(F.collect_list(occurrence)).alias("_occurrences"),
            F.min_by("_pos", F.struct(reception, F.col("_pos"))).alias("_premier"),
        )
    )
    lines = lines.join(occurrences, lines["feuille_id"] == occurrences["id"], "inner").drop("id")
    by_id = Window.partitionBy("feuille_id")
    lines = lines.select(
        "*",
        F.size("_occurrences").alias("_n_occ"),
        (F.row_number().over(by_id.orderBy("_row")) - 1).alias("_rank"),
        F.count(F.lit(1)).over(by_id).alias("_size"),
    )
    block = F.when(
        (F.col("_n_occ") > 1) & (F.col("_size") % F.col("_n_occ") == 0),
        F.expr("_rank div (_size div _n_occ)"),
    ).otherwise(F.array_position(F.col("_occurrences._pos"), F.col("_premier")) - 1)
    chosen = F.element_at(F.col("_occurrences"), block.cast("int") + 1)
    fields = [F.col(c) for c in READ_LINE_SCHEMA if c != "feuille_id"]
    return f, lines.select(chosen["_pos"].alias("_fpos"), chosen["nir_key"].alias("nir_key"), *fields)


def _nir_key(nir: Column) -> Column:
    """The key that groups a person's feuilles (a null NIR groups with the empty one: a group is
    only where feuilles are liquidated together, the engine still tells the persons apart)."""
    from pyspark.sql import functions as F

    return F.coalesce(nir, F.lit(""))


def _stage(frame: pl.DataFrame, path: Path) -> str:
    frame.write_parquet(path, compression="lz4")
    return str(path)


def stage_frames(
    spark: SparkSession, feuilles: pl.DataFrame, lignes: pl.DataFrame, staging: Path
) -> tuple[DataFrame, DataFrame]:
    """(feuilles, lines) as :func:`read_parquet_spark` gives them, from engine frames already in
    the driver's memory (the NDJSON input, read by :func:`batch.read_feuilles`), staged as
    Parquet in ``staging``."""
    from pyspark.sql import functions as F

    f = _typed(feuilles, FEUILLE_COLUMNS)
    keys = f.select(pl.col("_pos").alias("_fpos"), pl.col("nir").fill_null("").alias("nir_key"))
    lines = (
        _typed(lignes, LIGNE_COLUMNS)
        .sort("_fpos", "_lpos")
        .with_row_index("_row")
        .join(keys, on="_fpos", how="inner", maintain_order="left")
        .select("_fpos", "nir_key", *[c for c in READ_LINE_SCHEMA if c != "feuille_id"])
        .with_columns(pl.col("_row").cast(pl.Int64))
    )
    staged_f = spark.read.parquet(_stage(f, staging / "feuilles.parquet"))
    staged_l = spark.read.parquet(_stage(lines, staging / "lignes.parquet"))
    return staged_f.withColumn("nir_key", _nir_key(F.col("nir"))), staged_l


def _output_tables(decomptes: pl.DataFrame, lignes: pl.DataFrame) -> pl.DataFrame:
    """One row per décompte (the batch's Parquet columns) with its lines nested in ``lignes``."""
    # Spark's Arrow exchange takes plain strings, not dictionaries.
    d = batch._decomptes_table(decomptes).with_columns(pl.col("explication").cast(pl.String))
    lt = batch._lignes_table(lignes).with_columns(pl.col("explication").cast(pl.String))
    nested = lt.group_by("feuille_position").agg(pl.struct(lt.columns).alias("lignes"))
    out = d.join(nested, on="feuille_position", how="left")
    empty = pl.lit([], dtype=nested.schema["lignes"])
    return out.with_columns(pl.col("lignes").fill_null(empty))


def _output_arrow_schema(ref: Referentiel, explanations: bool) -> pa.Schema:
    empty_f = pl.DataFrame(schema={"_pos": pl.Int64(), "id": pl.String()})
    empty_l = pl.DataFrame(schema={"_fpos": pl.Int64(), "_lpos": pl.Int64()})
    d, lo, _ = liquidate(ref, empty_f, empty_l, None, None, load(), explanations, False)
    return _output_tables(d, lo).to_arrow().schema


def _partition_liquidator(
    professionnels: pl.DataFrame,
    nomenclature: pl.DataFrame,
    target: pa.Schema,
    explanations: bool,
    today: dt.date | None,
) -> Any:
    """The function run by ``mapInArrow`` on each partition (all its batches at once)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        received = list(batches)
        if not received or sum(b.num_rows for b in received) == 0:
            return
        persons = pl.from_arrow(pa.Table.from_batches(received))
        assert isinstance(persons, pl.DataFrame)
        tables: dict[str, pl.DataFrame] = {}
        for name, schema in PERSON_TABLES.items():
            rows = persons.select(pl.col(name).explode()).drop_nulls().unnest(name)
            if "_row" in rows.columns:
                rows = rows.sort("_row")
            tables[name] = rows.select(
                pl.col(c).cast(t) if c in rows.columns else pl.lit(None, dtype=t).alias(c)
                for c, t in schema.items()
            )
        ref = Referentiel(
            beneficiaires=tables["beneficiaires"].unique("nir", keep="first", maintain_order=True),
            periods=tables["periods"],
            cartes=tables["cartes"],
            medecins_traitants=tables["medecins_traitants"],
            professionnels=professionnels,
            nomenclature=nomenclature,
            compteurs=tables["compteurs"],
        )
        feuilles = persons.select(pl.col("feuilles").explode()).unnest("feuilles").sort("_pos")
        # Ranked in their feuille as the in-memory reader ranks them (file order).
        lignes = batch.rank_lines(persons.select(pl.col("lignes").explode()).drop_nulls().unnest("lignes"))
        here = feuilles.get_column("_pos").implode()
        elsewhere = feuilles.filter(~pl.col("_first_pos").is_in(here)).select(pl.col("id").cast(pl.String))
        counters = Counters.from_compteurs(ref.compteurs)
        counters.seen_ids = elsewhere.unique()
        d, lo, _ = liquidate(
            ref,
            feuilles.drop("_first_pos"),
            lignes,
            counters,
            today,
            load(),
            explanations,
            False,
        )
        table = _output_tables(d, lo).to_arrow().cast(target)
        yield from table.to_batches()

    return run


def _referentiel_rows(spark: SparkSession, ref: Referentiel, staging: Path) -> list[DataFrame]:
    """The référentiel's person tables, staged as Parquet in ``staging``: one row per record,
    ``(nir_key, <table>)`` with the record (and its row in the table, ``_row``) as a struct. A
    record without NIR belongs to no person."""
    from pyspark.sql import functions as F

    parts = []
    for name in PERSON_TABLES:
        frame = getattr(ref, name).with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
        sdf = spark.read.parquet(_stage(frame, staging / f"ref_{name}.parquet"))
        record = F.struct(*[F.col(c) for c in sdf.columns]).alias(name)
        parts.append(sdf.where(F.col("nir").isNotNull()).select(F.col("nir").alias("nir_key"), record))
    return parts


def liquidate_spark_dataframes(
    spark: SparkSession,
    ref: Referentiel,
    feuilles: DataFrame,
    lignes: DataFrame,
    partitions: int | None = None,
    explanations: bool = True,
    today: dt.date | None = None,
    staging: Path | None = None,
) -> DataFrame:
    """The liquidation of Spark (feuilles, lines) as :func:`read_parquet_spark` or
    :func:`stage_frames` give them: one row per décompte (the columns of the batch's
    ``decomptes.parquet``) with its lines nested in ``lignes`` (those of
    ``lignes_decomptes.parquet``). ``staging`` (the référentiel's person tables) must outlive
    the returned DataFrame's use."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if staging is None:
        staging = Path(tempfile.mkdtemp(prefix="caisse-spark-"))
    staging.mkdir(parents=True, exist_ok=True)
    partitions = partitions or spark.sparkContext.defaultParallelism

    # Global pass: the first occurrence of each feuille id in the contract's order.
    order = Window.partitionBy("id").orderBy(
        F.coalesce(F.col("date_reception"), F.lit(FAR_FUTURE)),
        F.col("_id_entier").asc_nulls_last(),  # an id given as an integer first (engine.processing_keys)
        F.coalesce(F.col("id"), F.lit("")),
        F.col("_pos"),
    )
    f = feuilles.withColumn("_first_pos", F.first("_pos").over(order))
    # Nesting by person in one shuffle: the feuilles, the lines and the référentiel records as
    # rows of one union (each kind in its own struct column, null elsewhere), repartitioned by
    # person and gathered (collect_list skips the nulls): no join, so nothing of it is broadcast.
    feuille = F.struct(*[F.col(c) for c in [*FEUILLE_COLUMNS, "_first_pos"]]).alias("feuilles")
    parts = [
        f.select("nir_key", feuille),
        lignes.select("nir_key", F.struct(*[F.col(c) for c in NESTED_LINE_SCHEMA]).alias("lignes")),
        *_referentiel_rows(spark, ref, staging),
    ]
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.unionByName(part, allowMissingColumns=True)
    persons = (
        rows.repartition(partitions, "nir_key")
        .groupBy("nir_key")
        .agg(*[F.collect_list(c).alias(c) for c in ("feuilles", "lignes", *PERSON_TABLES)])
        .where(F.size("feuilles") > 0)
    )

    schema, target = _arrow_schemas(spark, _output_arrow_schema(ref, explanations))
    function = _partition_liquidator(ref.professionnels, ref.nomenclature, target, explanations, today)
    return _map_in_arrow(persons, function, schema)


def read_input(
    spark: SparkSession, feuilles_path: Path, staging: Path
) -> tuple[DataFrame, DataFrame]:
    """(feuilles, lines) for :func:`liquidate_spark_dataframes` from the ``--feuilles``
    argument: a Parquet pair is read by Spark (:func:`read_parquet_spark`); an NDJSON file is
    read on the driver (:func:`batch.read_feuilles`) and staged in ``staging``."""
    f, lines, _ = read_input_with_id_type(spark, feuilles_path, staging)
    return f, lines


def read_input_with_id_type(
    spark: SparkSession, feuilles_path: Path, staging: Path
) -> tuple[DataFrame, DataFrame, pl.DataType | None]:
    """:func:`read_input` and the type the outputs give the ids back in, as ``caisse liquider``
    does (:func:`batch.parquet_id_dtype`, :func:`batch.output_id_dtype`): None for text."""
    p = Path(feuilles_path)
    if batch.is_parquet_flow(feuilles_path):
        return (*read_parquet_spark(spark, p), batch.parquet_id_dtype(p))
    f, lines, integer_ids = batch.read_flow(p)
    return (*stage_frames(spark, f, lines, staging), batch.output_id_dtype(f, integer_ids))


def typed_ids(decomptes: DataFrame, lignes: DataFrame, id_type: pl.DataType | None) -> tuple[DataFrame, DataFrame]:
    """The outputs' ``id`` / ``feuille_id`` in the input's integer type (the engine works on text
    ids): ``bigint`` for Int64, ``decimal(20,0)`` for UInt64, which Spark has not."""
    from pyspark.sql import functions as F

    if id_type is None:
        return decomptes, lignes
    spark_type = "bigint" if id_type == pl.Int64() else "decimal(20,0)"
    return (
        decomptes.withColumn("id", F.col("id").cast(spark_type)),
        lignes.withColumn("feuille_id", F.col("feuille_id").cast(spark_type)),
    )


def liquidate_spark_frames(
    spark: SparkSession,
    ref: Referentiel,
    feuilles: pl.DataFrame,
    lignes: pl.DataFrame,
    partitions: int | None = None,
    explanations: bool = True,
    today: dt.date | None = None,
    staging: Path | None = None,
) -> DataFrame:
    """:func:`liquidate_spark_dataframes` of engine frames held by the driver (staged as
    Parquet in ``staging``, which must outlive the returned DataFrame's use)."""
    if staging is None:
        staging = Path(tempfile.mkdtemp(prefix="caisse-spark-"))
    staging.mkdir(parents=True, exist_ok=True)
    f, lines = stage_frames(spark, feuilles, lignes, staging)
    return liquidate_spark_dataframes(spark, ref, f, lines, partitions, explanations, today, staging)


def split_output(result: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(décomptes, lines) in input order, from :func:`liquidate_spark_dataframes`'s result."""
    from pyspark.sql import functions as F

    decomptes = result.drop("lignes").orderBy("feuille_position")
    lignes = result.select(F.explode("lignes").alias("l")).select("l.*").orderBy("feuille_position", "ligne")
    return decomptes, lignes


def to_polars(result: DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(décomptes, lines) as Polars frames in input order (for the tests)."""
    from pyspark import StorageLevel

    result = result.persist(StorageLevel.MEMORY_AND_DISK)
    decomptes, lignes = split_output(result)
    d = pl.from_arrow(decomptes.toArrow())
    lo = pl.from_arrow(lignes.toArrow())
    result.unpersist()
    assert isinstance(d, pl.DataFrame) and isinstance(lo, pl.DataFrame)
    return d, lo


def liquidate_spark_polars(
    spark: SparkSession,
    referentiel_dir: Path,
    feuilles_path: Path,
    partitions: int | None = None,
    explanations: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The liquidation through Spark, returned as Polars (décomptes, lines) in input order."""
    ref = load_referentiel(Path(referentiel_dir))
    staging = Path(tempfile.mkdtemp(prefix="caisse-spark-"))
    try:
        f, lines, id_type = read_input_with_id_type(spark, Path(feuilles_path), staging)
        d, lo = to_polars(
            liquidate_spark_dataframes(spark, ref, f, lines, partitions, explanations, staging=staging)
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if id_type is None:
        return d, lo
    return d.with_columns(pl.col("id").cast(id_type)), lo.with_columns(pl.col("feuille_id").cast(id_type))


def liquidate_spark(
    spark: SparkSession,
    referentiel_dir: Path,
    feuilles_path: Path,
    out_dir: Path,
    partitions: int | None = None,
    explanations: bool = True,
) -> None:
    """``caisse liquider`` on Spark: writes ``out_dir/decomptes.parquet`` and
    ``out_dir/lignes_decomptes.parquet`` (Spark folders of part files, input order) with the
    columns of the Polars batch's Parquet output, the ids in the input's type (an unsigned 64-bit
    id column as ``decimal(20,0)``, Spark having no unsigned integers)."""
    from pyspark import StorageLevel

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ref = load_referentiel(Path(referentiel_dir))
    staging = Path(tempfile.mkdtemp(prefix="caisse-spark-", dir=out_dir))
    try:
        f, lines, id_type = read_input_with_id_type(spark, Path(feuilles_path), staging)
        result = liquidate_spark_dataframes(spark, ref, f, lines, partitions, explanations, staging=staging)
        result = result.persist(StorageLevel.MEMORY_AND_DISK)
        decomptes, lignes = typed_ids(*split_output(result), id_type)
        decomptes.write.mode("overwrite").parquet(str(out_dir / "decomptes.parquet"))
        lignes.write.mode("overwrite").parquet(str(out_dir / "lignes_decomptes.parquet"))
        result.unpersist()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
