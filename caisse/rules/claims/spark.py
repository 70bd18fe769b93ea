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

Pipeline (:func:`liquidate_spark_frames`)
-----------------------------------------
1. The driver reads the input with the Polars readers (:func:`batch.read_feuilles`, NDJSON or
   Parquet) and the référentiel with :func:`load_referentiel`, so the parsing rules (invalid
   dates, repeated ids, line ranks) are exactly the single-machine ones; the engine frames and the
   person-level référentiel tables are staged as Parquet and read back by Spark.
2. Global pass for feuille ids (the one check that is not per person: the same feuille ``id`` may
   come under two ``nir``): a window over ``id`` ordered by (``date_reception``, ``id``,
   ``_pos``) gives each feuille the ``_pos`` of the first occurrence of its id (``_first_pos``).
3. Nesting: lines are grouped under their feuille, feuilles and the person's référentiel
   records (beneficiary, dated periods, cartes Vitale, médecins traitants, compteurs) under their
   ``nir``: one row per person. The rows are repartitioned by ``nir`` into N partitions.
4. ``mapInArrow``: each partition rebuilds Polars frames, a :class:`Referentiel` restricted to its
   persons (professionals and nomenclature come with the task closure, i.e. broadcast) and
   :class:`Counters` from the persons' compteurs. A feuille whose id's first occurrence is in
   another partition has its id put in ``Counters.seen_ids``, which the engine already rejects as
   ``DOUBLON`` (``_step_feuille_controls``); repeats within the partition are found by the
   engine itself (``_ordre > min(_ordre) over id``), so the rejection is the single-machine one
   without touching the engine. The partition returns one Arrow row per décompte with its lines
   nested (the columns of the Polars batch's Parquet output).
5. The décomptes and the exploded lines are written, in input order, as
   ``decomptes.parquet`` and ``lignes_decomptes.parquet`` (Spark writes each as a folder of part
   files; ``pl.read_parquet(folder / "*.parquet")`` reads them back).

Limits: step 1 runs on the driver (reading the input and the référentiel is Polars on one
machine; porting the readers to Spark is the next step for flows that do not fit one machine);
the professionals and the nomenclature are shipped whole to every task; one person's feuilles
must fit one task (they always do: a few hundred a year). Partition counts do not change the
results (tested).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from caisse.rules.claims import batch
from caisse.rules.claims.counters import Counters
from caisse.rules.claims.engine import liquidate
from caisse.rules.claims.legal import load
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
    from pyspark.sql import DataFrame, SparkSession

FAR_FUTURE = dt.date(2999, 12, 31)
PERSON_TABLES: dict[str, dict[str, pl.DataType]] = {
    "beneficiaires": BENEF_SCHEMA,
    "periods": PERIOD_SCHEMA,
    "cartes": CARD_SCHEMA,
    "medecins_traitants": MT_SCHEMA,
    "compteurs": COUNTER_SCHEMA,
}


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
        lignes = (
            feuilles.select(pl.col("lignes").explode()).drop_nulls().unnest("lignes").sort("_fpos", "_lpos")
        )
        here = feuilles.get_column("_pos").implode()
        elsewhere = feuilles.filter(~pl.col("_first_pos").is_in(here)).select(pl.col("id").cast(pl.String))
        counters = Counters.from_compteurs(ref.compteurs)
        counters.seen_ids = elsewhere.unique()
        d, lo, _ = liquidate(
            ref,
            feuilles.drop("lignes", "_first_pos", "nir_key", strict=False),
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


def _stage(frame: pl.DataFrame, path: Path) -> str:
    frame.write_parquet(path, compression="lz4")
    return str(path)


def _person_referentiel(spark: SparkSession, ref: Referentiel, staging: Path) -> DataFrame:
    """One row per nir with its référentiel records nested (arrays of structs)."""
    from pyspark.sql import functions as F

    tables = {
        "beneficiaires": ref.beneficiaires,
        "periods": ref.periods,
        "cartes": ref.cartes,
        "medecins_traitants": ref.medecins_traitants,
        "compteurs": ref.compteurs,
    }
    persons: DataFrame | None = None
    for name, frame in tables.items():
        frame = frame.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
        sdf = spark.read.parquet(_stage(frame, staging / f"ref_{name}.parquet"))
        cols = [F.col(c) for c in sdf.columns]
        grouped = sdf.groupBy(F.col("nir").alias("nir_key")).agg(F.collect_list(F.struct(*cols)).alias(name))
        persons = grouped if persons is None else persons.join(grouped, on="nir_key", how="full")
    assert persons is not None
    return persons


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
    """The liquidation as a Spark DataFrame: one row per décompte (the columns of the batch's
    ``decomptes.parquet``) with its lines nested in ``lignes`` (those of
    ``lignes_decomptes.parquet``). ``staging`` must outlive the returned DataFrame's use."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    if staging is None:
        staging = Path(tempfile.mkdtemp(prefix="caisse-spark-"))
    staging.mkdir(parents=True, exist_ok=True)
    partitions = partitions or spark.sparkContext.defaultParallelism

    f = spark.read.parquet(_stage(feuilles, staging / "feuilles.parquet"))
    lines = spark.read.parquet(_stage(lignes, staging / "lignes.parquet"))
    # Global pass: the first occurrence of each feuille id in the contract's order.
    order = Window.partitionBy("id").orderBy(
        F.coalesce(F.col("date_reception"), F.lit(FAR_FUTURE)),
        F.coalesce(F.col("id"), F.lit("")),
        F.col("_pos"),
    )
    f = f.withColumn("_first_pos", F.first("_pos").over(order))
    nested_lines = lines.groupBy(F.col("_fpos").alias("_pos")).agg(
        F.collect_list(F.struct(*[F.col(c) for c in lines.columns])).alias("lignes")
    )
    f = f.join(nested_lines, on="_pos", how="left")
    by_person = f.groupBy(F.col("nir").alias("nir_key")).agg(
        F.collect_list(F.struct(*[F.col(c) for c in f.columns])).alias("feuilles")
    )
    persons = by_person.join(_person_referentiel(spark, ref, staging), on="nir_key", how="left")
    persons = persons.repartition(partitions, "nir_key")

    target_arrow = _output_arrow_schema(ref, explanations)
    schema = from_arrow_schema(target_arrow)
    target = to_arrow_schema(schema, prefers_large_types=False)
    target_large = to_arrow_schema(schema, prefers_large_types=True)
    large = str(spark.conf.get("spark.sql.execution.arrow.useLargeVarTypes", "false")).lower() == "true"
    function = _partition_liquidator(
        ref.professionnels,
        ref.nomenclature,
        target_large if large else target,
        explanations,
        today,
    )
    return _map_in_arrow(persons, function, schema)


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


def split_output(result: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(décomptes, lines) in input order, from :func:`liquidate_spark_frames`'s result."""
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
    f, lines = batch.read_feuilles(Path(feuilles_path))
    staging = Path(tempfile.mkdtemp(prefix="caisse-spark-"))
    try:
        return to_polars(
            liquidate_spark_frames(spark, ref, f, lines, partitions, explanations, staging=staging)
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
    columns of the Polars batch's Parquet output."""
    from pyspark import StorageLevel

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ref = load_referentiel(Path(referentiel_dir))
    f, lines = batch.read_feuilles(Path(feuilles_path))
    staging = Path(tempfile.mkdtemp(prefix="caisse-spark-", dir=out_dir))
    try:
        result = liquidate_spark_frames(spark, ref, f, lines, partitions, explanations, staging=staging)
        result = result.persist(StorageLevel.MEMORY_AND_DISK)
        decomptes, lignes = split_output(result)
        decomptes.write.mode("overwrite").parquet(str(out_dir / "decomptes.parquet"))
        lignes.write.mode("overwrite").parquet(str(out_dir / "lignes_decomptes.parquet"))
        result.unpersist()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
