"""Benchmark of ``caisse liquider`` on the contract's default format, NDJSON in and out.

A simulated caisse (``caisse simuler``: référentiel and a year of feuilles, NDJSON) of N
beneficiaries (20 000 by default: 0,5 M feuilles, a 0,2 GB file) is liquidated end to end by the
batch runner, as ``caisse liquider --format ndjson`` does. Prints the feuilles and claim lines
per second, the seconds spent reading (référentiel and flow), liquidating and writing, the size of the output (the
French explanations make it about four times the input) and the peak memory of the process.

    .venv/bin/python bench/bench_liquider_ndjson.py --beneficiaires 20000
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

from caisse.rules.claims import batch
from caisse.rules.claims.referentiel import load_referentiel
from caisse.simulation.generator import run as simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaires", type=int, default=20_000)
    args, _ = parser.parse_known_args()  # `make bench` passes the same options to every benchmark
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        simulate(args.beneficiaires, 2025, 1, folder)
        flow = folder / "feuilles.ndjson"
        # The steps of batch.run for a flow that fits in memory, timed one by one.
        started = time.perf_counter()
        ref = load_referentiel(folder / "referentiel")
        f, lines_in, integer_ids = batch.read_flow(flow)
        read_s = time.perf_counter() - started
        decomptes, out_lines, _ = batch.liquidate_in_chunks(ref, f, lines_in, carry=False)
        liquidate_s = time.perf_counter() - started - read_s
        batch.write_ndjson_decomptes(str(folder / "decomptes.ndjson"), decomptes, out_lines, integer_ids)
        elapsed = time.perf_counter() - started
        timings = {"lecture": read_s, "ecriture": elapsed - read_s - liquidate_s}
        feuilles = sum(1 for _ in flow.open(encoding="utf-8"))
        lines = sum(len(json.loads(x)["lignes"]) for x in flow.open(encoding="utf-8"))
        print(
            json.dumps(
                {
                    "beneficiaires": args.beneficiaires,
                    "coeurs": os.cpu_count(),
                    "feuilles": feuilles,
                    "lignes": lines,
                    "secondes": round(elapsed, 2),
                    "feuilles_par_seconde": round(feuilles / elapsed),
                    "lignes_par_seconde": round(lines / elapsed),
                    "lecture_secondes": round(timings["lecture"], 2),
                    "ecriture_secondes": round(timings["ecriture"], 2),
                    "liquidation_secondes": round(liquidate_s, 2),
                    "entree_mio": round(flow.stat().st_size / 2**20),
                    "sortie_mio": round((folder / "decomptes.ndjson").stat().st_size / 2**20),
                    "memoire_max_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                },
                ensure_ascii=False,
            )
        )
        print("(NDJSON de bout en bout ; le débit du moteur seul est celui de bench_liquider.py, en Parquet)", file=sys.stderr)


if __name__ == "__main__":
    main()
