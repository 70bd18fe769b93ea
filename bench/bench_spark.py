"""Benchmark of the Spark runner (:mod:`caisse.rules.claims.spark`) against the Polars batch.

Generates a simulated flow (``caisse.simulation.generator.run(N, 2025, 7, dir, "parquet")``, in
a child process so that this process starts small), then liquidates it (Parquet in, Parquet
out, French explanations included):

- Spark on ``local[CORES]`` (``spark.liquidate_spark``: the Parquet input is read by Spark's
  tasks), the SparkSession being started before the clock (its start-up is printed apart);
- Polars, one process (``batch.liquidate_in_chunks`` + ``batch.write_parquet``).

Prints the claim lines per second of each and, for each Spark run, the peak growth of this
process's resident memory (the Python driver; the JVM is apart): what the driver holds of the
flow. Spark on two local cores is slower than Polars (the nesting, the shuffles and the Arrow
round trips cost more than they save on one machine): the runner exists to spread a flow over
several machines, not to beat Polars here.

    .venv/bin/python bench/bench_spark.py --beneficiaires 20000 [--cores 2] [--partitions 8] [--runs 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import polars as pl

from caisse.rules.claims import batch
from caisse.rules.claims import spark as spark_runner
from caisse.rules.claims.referentiel import load_referentiel


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def _rss_mib() -> float:
    """This process's resident memory (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _PeakRss:
    """Samples the resident memory every 20 ms while the block runs: peak minus start."""

    def __enter__(self) -> _PeakRss:
        self.start = self.peak = _rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())

    @property
    def growth(self) -> float:
        return self.peak - self.start


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
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from caisse.simulation import generator; "
                "generator.run(int(sys.argv[1]), 2025, 7, Path(sys.argv[2]), 'parquet')",
                str(args.beneficiaires),
                str(root / "flux"),
            ],
            check=True,
        )
        ref_dir, feuilles = root / "flux" / "referentiel", root / "flux" / "feuilles.parquet"
        if not feuilles.exists():
            feuilles = sorted((root / "flux").rglob("feuilles.parquet"))[0]
        print(f"generation: {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        session = spark_runner.local_session(partitions=args.partitions, cores=args.cores, app="bench-spark")
        session.sparkContext.setLogLevel("ERROR")
        print(f"spark session start: {time.perf_counter() - started:.1f} s")
        timings = []
        for _ in range(args.runs):  # the first run also warms the JVM up
            started = time.perf_counter()
            with _PeakRss() as rss:
                spark_runner.liquidate_spark(
                    session, ref_dir, feuilles, root / "spark", partitions=args.partitions
                )
            timings.append((time.perf_counter() - started, rss.growth))
        written = pl.read_parquet(root / "spark" / "lignes_decomptes.parquet" / "*.parquet")
        session.stop()

        started = time.perf_counter()
        ref = load_referentiel(ref_dir)
        f, lines = batch.read_feuilles(feuilles)
        d, lo, _ = batch.liquidate_in_chunks(ref, f, lines, carry=False)
        batch.write_parquet(str(root / "polars"), d, lo)
        polars_s = time.perf_counter() - started
        n_lines = lines.height
        print(f"flow: {_n(f.height)} feuilles, {_n(n_lines)} lines")
        print(f"polars (1 process): {polars_s:.1f} s, {_n(n_lines / polars_s)} lines/s")
        for run, (spark_s, growth) in enumerate(timings, start=1):
            print(
                f"spark local[{args.cores}], {args.partitions} partitions, run {run}: {spark_s:.1f} s, "
                f"{_n(n_lines / spark_s)} lines/s, driver (Python) memory +{growth:.0f} MiB"
            )
        same = written.height == lo.height
        verdict = "ok" if same else "DIFFERENT"
        print(f"spark lines written: {_n(written.height)} (Polars: {_n(lo.height)}) {verdict}")


if __name__ == "__main__":
    main()
