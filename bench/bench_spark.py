"""Benchmark of the Spark runner (:mod:`caisse.rules.claims.spark`) against the Polars batch.

Generates a simulated flow (``caisse.simulation.generator.run(N, 2025, 7, dir, "parquet")``),
then liquidates it (Parquet in, Parquet out, French explanations included) twice:

- Polars, one process (``batch.liquidate_in_chunks`` + ``batch.write_parquet``);
- Spark on ``local[CORES]`` (``spark.liquidate_spark``), the SparkSession being started before
  the clock (its start-up is printed apart).

Prints the claim lines per second of each. Spark on two local cores is slower than Polars (the
nesting, the shuffle by person and the Arrow round trips cost more than they save on one
machine): the runner exists to spread a flow over several machines, not to beat Polars here.

    .venv/bin/python bench/bench_spark.py --beneficiaires 20000 [--cores 2] [--partitions 8] [--runs 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from caisse.rules.claims import batch
from caisse.rules.claims import spark as spark_runner
from caisse.rules.claims.referentiel import load_referentiel
from caisse.simulation import generator


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaires", type=int, default=20_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        generator.run(args.beneficiaires, 2025, 7, root / "flux", "parquet")
        ref_dir, feuilles = root / "flux" / "referentiel", root / "flux" / "feuilles.parquet"
        if not feuilles.exists():
            feuilles = sorted((root / "flux").rglob("feuilles.parquet"))[0]
        print(f"generation: {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        ref = load_referentiel(ref_dir)
        f, lines = batch.read_feuilles(feuilles)
        d, lo, _ = batch.liquidate_in_chunks(ref, f, lines, carry=False)
        batch.write_parquet(str(root / "polars"), d, lo)
        polars_s = time.perf_counter() - started
        n_lines = lines.height
        print(f"flow: {_n(f.height)} feuilles, {_n(n_lines)} lines")
        print(f"polars (1 process): {polars_s:.1f} s, {_n(n_lines / polars_s)} lines/s")

        started = time.perf_counter()
        session = spark_runner.local_session(partitions=args.partitions, cores=args.cores, app="bench-spark")
        session.sparkContext.setLogLevel("ERROR")
        print(f"spark session start: {time.perf_counter() - started:.1f} s")
        for run in range(1, args.runs + 1):  # the first run also warms the JVM up
            started = time.perf_counter()
            spark_runner.liquidate_spark(
                session, ref_dir, feuilles, root / "spark", partitions=args.partitions
            )
            spark_s = time.perf_counter() - started
            print(
                f"spark local[{args.cores}], {args.partitions} partitions, run {run}: {spark_s:.1f} s, "
                f"{_n(n_lines / spark_s)} lines/s"
            )
        written = pl.read_parquet(root / "spark" / "lignes_decomptes.parquet" / "*.parquet")
        same = written.height == lo.height
        print(
            f"spark lines written: {_n(written.height)} (Polars: {_n(lo.height)}) {'ok' if same else 'DIFFERENT'}"
        )
        session.stop()


if __name__ == "__main__":
    main()
