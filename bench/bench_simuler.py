"""Benchmark of ``caisse simuler``: a whole caisse of N beneficiaries and a year of flows.

Runs the generator in-process (:func:`caisse.simulation.generator.run`) into a temporary
folder and prints the wall time, the rows written per second (every table: référentiel, feuilles,
lignes, arrêts, declarations, C2S requests, contacts) the CPU time and the peak memory of the
process (``resource.getrusage``, maximum resident set size), and the machine's load average
before and after (other processes on a shared machine slow the wall time down).

    .venv/bin/python bench/bench_simuler.py [--beneficiaires 1000000] [--format parquet] [--garder DIR]

The target is 1 000 000 beneficiaries in Parquet in under 5 minutes and 8 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from caisse.simulation.generator import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaires", type=int, default=1_000_000)
    parser.add_argument("--annee", type=int, default=2025)
    parser.add_argument("--graine", type=int, default=2025)
    parser.add_argument("--format", choices=["ndjson", "parquet"], default="parquet")
    parser.add_argument("--garder", type=Path, default=None, help="dossier de sortie à conserver")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_simuler_") as tmp:
        out = args.garder or Path(tmp)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        counts = run(args.beneficiaires, args.annee, args.graine, out, args.format)
        wall = time.perf_counter() - started
        lignes = (
            pl.scan_parquet(out / "lignes.parquet").select(pl.len()).collect().item()
            if args.format == "parquet"
            else 0
        )
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss * 1024  # kilobytes on Linux
    rows = sum(counts.values())  # every table once (lignes included in Parquet mode)
    report = {
        "beneficiaires": args.beneficiaires,
        "format": args.format,
        "feuilles": counts["feuilles"],
        "lignes": lignes or None,
        "lignes_ecrites_toutes_tables": rows,
        "temps_s": round(wall, 1),
        "lignes_par_seconde": round(rows / wall),
        "feuilles_par_seconde": round(counts["feuilles"] / wall),
        "temps_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "memoire_max_gio": round(peak / 2**30, 2),
        "charge_machine_avant_apres": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "coeurs": os.cpu_count(),
        "taille_sortie_mio": round(size / 2**20, 1),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
