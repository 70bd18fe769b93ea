"""Benchmark of ``caisse liquider``: a year of claims for N beneficiaries, end to end in Parquet.

Generates (deterministically, with numpy and Polars, in slices: memory stays a few integer
arrays per feuille) a référentiel of N beneficiaries and their feuilles for one year (about 17
feuilles and 28 claim lines per person per year), writes ``feuilles.parquet`` and
``lignes.parquet`` (in a child process, not counted), then runs the batch runner
(:func:`caisse.rules.claims.batch.run`) with ``--format parquet`` and prints the throughput in
claim lines per second, the seconds of each pass of the partitioned runner (flows of more than
``batch.CHUNK_FEUILLES`` feuilles, :mod:`caisse.rules.claims.partitioned`), the peak memory of the
process (``resource.getrusage``) and of the process with its workers (sampled from /proc), the
CPU time split into user and system time, what a GiB of fresh memory costs on the machine at the
time (:func:`first_touch_seconds_per_gib`: on a virtual machine it makes most of the system time)
and the load average of the machine before and after.

    .venv/bin/python bench/bench_liquider.py --beneficiaires 100000 [--chunk 500000]

Paris' size (opt-in, several minutes, ~5 GiB of temporary files):

    .venv/bin/python bench/bench_liquider.py --grand      # 2 200 000 beneficiaries

``--chunk`` sets ``batch.CHUNK_FEUILLES``: flows up to that size are liquidated in memory (in
chunks of that many feuilles), larger ones by the partitioned runner.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from caisse.rules.claims import batch, partitioned

GRAND = 2_200_000

# (code, profession of the executant, weight in the flow)
CODES = [
    ("G", "medecin", 20),
    ("C", "medecin", 3),
    ("CS", "medecin", 6),
    ("APC", "medecin", 1),
    ("DEQP003", "medecin", 2),
    ("HHFA016", "medecin", 0.2),
    ("ZBQK002", "medecin", 3),
    ("SF", "sage_femme", 1),
    ("HBJD001", "chirurgien_dentiste", 3),
    ("AMI", "infirmier", 8),
    ("AMS", "masseur_kinesitherapeute", 6),
    ("1104", "laboratoire", 6),
    ("B", "laboratoire", 4),
    ("PH7", "pharmacien", 22),
    ("PH4", "pharmacien", 5),
    ("PH2", "pharmacien", 2),
    ("PH1", "pharmacien", 1),
    ("TAX", "transporteur", 2),
    ("2203240", "fournisseur_lpp", 1),
    ("1188214", "fournisseur_lpp", 2),
]
PROFESSIONS = sorted({p for _, p, _ in CODES})


def _nir_keys(numbers: np.ndarray) -> np.ndarray:
    return 97 - numbers % 97


SLICE = 2_000_000
"""Rows generated and written at once (the files are written slice by slice)."""

_STATUS_JSON = [
    # (droits, ame, ald, c2s, invalidite, maternite) by status class, as JSON fragments.
    '"droits":[],"ame":[{"debut":"2024-06-01","fin":"2026-05-31"}],"ald":[],"c2s":[],"invalidite":[]',
    '"droits":[{"debut":"2015-01-01","fin":null}],"ame":[],"ald":[{"debut":"2020-01-01","fin":null}],'
    '"c2s":[],"invalidite":[]',
    '"droits":[{"debut":"2015-01-01","fin":null}],"ame":[],"ald":[],'
    '"c2s":[{"debut":"2025-01-01","fin":"2025-12-31","participation":false}],"invalidite":[]',
    '"droits":[{"debut":"2015-01-01","fin":null}],"ame":[],"ald":[],"c2s":[],'
    '"invalidite":[{"debut":"2022-01-01","fin":null}]',
    '"droits":[{"debut":"2015-01-01","fin":null}],"ame":[],"ald":[],"c2s":[],"invalidite":[]',
]
_MATERNITE = '"maternite":[{"debut_6e_mois":"2025-04-01","date_accouchement":"2025-07-10"}]'


def _write_beneficiaires(path: Path, rng: np.random.Generator, n: int) -> pl.Series:
    """Write ``beneficiaires.ndjson`` slice by slice (JSON lines built by Polars); return the NIRs."""
    sexe = rng.integers(1, 3, n)
    year = rng.integers(1930, 2025, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    commune = rng.integers(1, 999, n)
    order = np.arange(n) % 999 + 1
    base = (
        sexe * 10**12 + (year % 100) * 10**10 + month * 10**8 + 75 * 10**6 + commune * 10**3 + order
    ).astype(np.int64)
    status = rng.random(n)
    # 0: AME without droits, 1: ALD, 2: C2S, 3: invalidité, 4: droits only (+ maternité).
    kind = np.select(
        [status < 0.01, status < 0.12, status < 0.18, status < 0.20], [0, 1, 2, 3], default=4
    )
    maternity = (status >= 0.20) & (status < 0.21) & (sexe == 2)
    nirs = pl.select(
        pl.concat_str(
            pl.Series(base).cast(pl.String).str.zfill(13), pl.Series(_nir_keys(base)).cast(pl.String).str.zfill(2)
        )
    ).to_series().alias("nir")
    with open(path, "w", encoding="utf-8") as out:
        for lo in range(0, n, SLICE):
            hi = min(lo + SLICE, n)
            frame = pl.DataFrame(
                {
                    "nir": nirs.slice(lo, hi - lo),
                    "y": year[lo:hi],
                    "m": month[lo:hi],
                    "d": day[lo:hi],
                    "sexe": np.where(sexe[lo:hi] == 1, "M", "F"),
                    "statut": np.array(_STATUS_JSON)[kind[lo:hi]],
                    "maternite": np.where(maternity[lo:hi], _MATERNITE, '"maternite":[]'),
                    "i": np.arange(lo, hi),
                }
            )
            text = frame.select(
                pl.concat_str(
                    pl.lit('{"nir":"'),
                    "nir",
                    pl.lit('","date_naissance":"'),
                    pl.col("y").cast(pl.String).str.zfill(4),
                    pl.lit("-"),
                    pl.col("m").cast(pl.String).str.zfill(2),
                    pl.lit("-"),
                    pl.col("d").cast(pl.String).str.zfill(2),
                    pl.lit('","sexe":"'),
                    "sexe",
                    pl.lit('",'),
                    "statut",
                    pl.lit(","),
                    "maternite",
                    pl.lit(',"medecin_traitant":[],"cartes_vitale":[{"numero":"CV'),
                    pl.col("i").cast(pl.String).str.zfill(8),
                    pl.lit('","opposition":null}],"deces":null}'),
                )
            ).to_series()
            out.write("\n".join(text.to_list()))
            out.write("\n")
    return nirs


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    return pl.select(pl.lit(prefix) + pl.Series(numbers).cast(pl.String).str.zfill(width)).to_series()


def generate(folder: Path, n: int, seed: int = 2025) -> tuple[int, int]:
    """Write the référentiel and the Parquet flow; return (feuilles, lines). Memory: a few
    integer arrays per feuille, the files are written in slices of ``SLICE`` rows."""
    rng = np.random.default_rng(seed)
    ref = folder / "referentiel"
    ref.mkdir(parents=True, exist_ok=True)
    nirs = _write_beneficiaires(ref / "beneficiaires.ndjson", rng, n)
    n_ps = max(len(PROFESSIONS) * 10, n // 20)
    ps_prof = np.array(PROFESSIONS)[np.arange(n_ps) % len(PROFESSIONS)]
    with open(ref / "professionnels.ndjson", "w", encoding="utf-8") as out:
        for i in range(n_ps):
            out.write(
                json.dumps(
                    {
                        "id": f"PS{i:07d}",
                        "profession": str(ps_prof[i]),
                        "specialite": None,
                        "secteur": 1,
                        "optam": False,
                        "conventionne": True,
                    }
                )
                + "\n"
            )
    # Feuilles: ~17 per person per year, 1 to 3 lines each (~25 lines per person per year).
    per_person = rng.poisson(17, n)
    n_f = int(per_person.sum())
    person = np.repeat(np.arange(n, dtype=np.int32), per_person)
    care_day = rng.integers(0, 365, n_f, dtype=np.int16)
    weights = np.array([w for _, _, w in CODES], dtype=float)
    code_idx = rng.choice(len(CODES), n_f, p=weights / weights.sum()).astype(np.int8)
    prof_of_code = np.array([PROFESSIONS.index(p) for _, p, _ in CODES])
    ps_idx = (
        rng.integers(0, n_ps // len(PROFESSIONS), n_f, dtype=np.int32) * len(PROFESSIONS) + prof_of_code[code_idx]
    ).astype(np.int32)
    n_lines = rng.choice(np.array([1, 1, 1, 2, 2, 3], dtype=np.int8), n_f)
    reception_day = care_day + rng.integers(0, 12, n_f, dtype=np.int16)
    # A reception flow is in reception order: sort the feuilles by reception day.
    order = np.argsort(reception_day, kind="stable")
    person, care_day, code_idx, ps_idx, n_lines, reception_day = (
        a[order] for a in (person, care_day, code_idx, ps_idx, n_lines, reception_day)
    )
    del order
    start = np.datetime64("2025-01-01")
    # Lines of a feuille share the executant's profession: pick codes of the same profession.
    same_prof_codes = {p: [i for i, (_, q, _) in enumerate(CODES) if q == p] for p in PROFESSIONS}
    alt = np.array([rng.choice(same_prof_codes[PROFESSIONS[p]]) for p in range(len(PROFESSIONS))])
    code_names = np.array([c for c, _, _ in CODES])
    f_writer: pq.ParquetWriter | None = None
    l_writer: pq.ParquetWriter | None = None
    n_l = 0
    try:
        for lo in range(0, n_f, SLICE):
            hi = min(lo + SLICE, n_f)
            size = hi - lo
            ids = _ids("F", np.arange(lo, hi), 9)
            f = pl.DataFrame(
                {
                    "id": ids,
                    "type": np.where(rng.random(size) < 0.9, "FSE", "FSP"),
                    "date_reception": start + reception_day[lo:hi].astype("timedelta64[D]"),
                    "nir": nirs.gather(person[lo:hi]),
                    "executant": _ids("PS", ps_idx[lo:hi], 7),
                    "prescripteur": pl.Series([None] * size, dtype=pl.String),
                    "tiers_payant": rng.random(size) < 0.6,
                    "risque": np.where(rng.random(size) < 0.03, "atmp", "maladie"),
                    "parcours": np.where(rng.random(size) < 0.05, "hors_parcours", "medecin_traitant"),
                    "en_rapport_ald": rng.random(size) < 0.15,
                    "carte_vitale": pl.Series([None] * size, dtype=pl.String),
                }
            ).with_columns(pl.col("date_reception").cast(pl.Date))
            table = f.to_arrow()
            f_writer = f_writer or pq.ParquetWriter(folder / "feuilles.parquet", table.schema)
            f_writer.write_table(table)
            line_f = np.repeat(np.arange(size), n_lines[lo:hi])
            size_l = line_f.size
            n_l += size_l
            codes_f = code_idx[lo:hi]
            prof_line = prof_of_code[codes_f][line_f]
            line_code = np.where(rng.random(size_l) < 0.7, codes_f[line_f], alt[prof_line])
            codes = code_names[line_code]
            coef = np.where(
                codes == "AMS", 7.5, np.where(codes == "AMI", 2.0, np.where(codes == "B", 40.0, 1.0))
            )
            lines = pl.DataFrame(
                {
                    "feuille_id": ids.gather(line_f),
                    "code": codes,
                    "date_soins": start + care_day[lo:hi][line_f].astype("timedelta64[D]"),
                    "quantite": rng.choice([1, 1, 1, 2], size_l),
                    "coefficient": coef,
                    "montant_facture_cts": rng.integers(0, 20000, size_l),
                }
            ).with_columns(pl.col("date_soins").cast(pl.Date))
            table = lines.to_arrow()
            l_writer = l_writer or pq.ParquetWriter(folder / "lignes.parquet", table.schema)
            l_writer.write_table(table)
    finally:
        for writer in (f_writer, l_writer):
            if writer is not None:
                writer.close()
    return n_f, n_l


def _tree_rss_kib(root: int) -> int:
    """Resident memory of a process and all its descendants (from /proc), in KiB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        for line in status.splitlines():
            if line.startswith("PPid:"):
                parents[pid] = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss[pid] = int(line.split()[1])
    total = 0
    for pid, kib in rss.items():
        p = pid
        while p and p != root:
            p = parents.get(p, 0)
        if p == root:
            total += kib
    return total


def _first_touch_probe(mib: int, out: Any) -> None:
    """Child of :func:`first_touch_seconds_per_gib`: allocates ``mib`` MiB twice, touching every
    page, and sends (first touch, second touch) in seconds."""
    import numpy as np

    timings = []
    for _ in range(2):
        started = time.perf_counter()
        block = np.ones(mib * 1024 * 1024 // 8)
        timings.append(time.perf_counter() - started)
        del block
    out.send(tuple(timings))


def first_touch_seconds_per_gib(mib: int = 256) -> tuple[float, float]:
    """What one GiB of memory costs the first time a fresh process touches it, and again once
    freed and reused (seconds per GiB, measured now in a child process).

    On a virtual machine whose host reclaims the guest's free memory (free page reporting),
    the first touch of a page makes the host back it: measured on the 2-core development
    machine at 1.3 to 3.2 s per GiB, against about 0.13 s per GiB for memory freed and reused
    within the process. The liquidation touches its peak memory once, so its system CPU time
    follows its peak memory times this figure: printed beside the run so that runs on machines
    in different states can be compared."""
    reader, writer = multiprocessing.get_context("spawn").Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(target=_first_touch_probe, args=(mib, writer))
    child.start()
    first, again = reader.recv()
    child.join()
    return first * 1024 / mib, again * 1024 / mib


class MemorySampler(threading.Thread):
    """Peak of the summed resident memory of this process and its workers (sampled)."""

    def __init__(self, period: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.period = period
        self.peak_kib = 0
        self.samples: list[tuple[float, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.period):
            kib = _tree_rss_kib(os.getpid())
            self.samples.append((time.perf_counter(), kib))
            self.peak_kib = max(self.peak_kib, kib)

    def peaks_by_pass(self, start: float, timings: dict[str, float]) -> dict[str, int]:
        """Peak MiB of each pass of the partitioned runner (passes timed from ``start``)."""
        peaks: dict[str, int] = {}
        lo = start
        for name in ("repartition", "liquidation", "ecriture"):
            if name not in timings:
                return peaks
            hi = lo + timings[name]
            peaks[name] = round(max((kib for t, kib in self.samples if lo <= t < hi), default=0) / 1024)
            lo = hi
        return peaks

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak_kib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaires", type=int, default=100_000)
    parser.add_argument(
        "--grand", action="store_true", help="Paris' size: 2 200 000 beneficiaries (minutes, ~10 GiB of disk)."
    )
    parser.add_argument("--chunk", type=int, default=batch.CHUNK_FEUILLES)
    parser.add_argument("--dossier", type=Path, default=None, help="Keep the generated files here (reused by a later run of the same size).")
    args = parser.parse_args()
    n = GRAND if args.grand else args.beneficiaires
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dossier or Path(tmp)
        t0 = time.perf_counter()
        stamp = folder / "generation.json"
        if not (args.dossier and stamp.exists() and json.loads(stamp.read_text()) == {"beneficiaires": n}):
            # Generated in a child process, so that the peak memory below is the liquidation's.
            child = multiprocessing.get_context("spawn").Process(target=generate, args=(folder, n))
            child.start()
            child.join()
            if child.exitcode != 0:
                raise SystemExit(f"génération en échec ({child.exitcode})")
            stamp.write_text(json.dumps({"beneficiaires": n}))
        n_f = pq.ParquetFile(folder / "feuilles.parquet").metadata.num_rows
        n_l = pq.ParquetFile(folder / "lignes.parquet").metadata.num_rows
        gen = time.perf_counter() - t0
        print(f"généré : {n} bénéficiaires, {n_f} feuilles, {n_l} lignes en {gen:.1f} s", file=sys.stderr)
        batch.CHUNK_FEUILLES = args.chunk
        touch_first, touch_again = first_touch_seconds_per_gib()
        partitioned.last_timings.clear()
        sampler = MemorySampler()
        sampler.start()
        t1 = time.perf_counter()
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the generator and the probe
        load0 = os.getloadavg()
        batch.run(folder / "referentiel", folder / "feuilles.parquet", str(folder / "sortie"), "parquet")
        elapsed = time.perf_counter() - t1
        load1 = os.getloadavg()
        tree_peak_kib = sampler.stop()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_kib = usage.ru_maxrss
        user = usage.ru_utime - cpu0.ru_utime + workers.ru_utime - children0.ru_utime
        system = usage.ru_stime - cpu0.ru_stime + workers.ru_stime - children0.ru_stime
        dec = pl.read_parquet(folder / "sortie" / "decomptes.parquet", columns=["statut"])
        print(
            json.dumps(
                {
                    "beneficiaires": n,
                    "coeurs": os.cpu_count(),
                    "feuilles": n_f,
                    "lignes": n_l,
                    "secondes": round(elapsed, 2),
                    "lignes_par_seconde": round(n_l / elapsed),
                    "passes_secondes": {k: round(v, 1) for k, v in partitioned.last_timings.items()},
                    "memoire_max_mib": round(peak_kib / 1024),
                    "memoire_max_processus_et_fils_mib": round(tree_peak_kib / 1024),
                    "memoire_max_par_passe_mib": sampler.peaks_by_pass(t1, partitioned.last_timings),
                    "cpu_secondes": round(user + system, 2),
                    "cpu_utilisateur_secondes": round(user, 2),
                    "cpu_systeme_secondes": round(system, 2),
                    "memoire_premier_contact_s_par_gio": round(touch_first, 2),
                    "memoire_reutilisee_s_par_gio": round(touch_again, 2),
                    "charge_machine_au_debut": round(load0[0], 2),
                    "charge_machine_a_la_fin": round(load1[0], 2),
                    "liquidees": int((dec.get_column("statut") == "liquidee").sum()),
                }
            )
        )


if __name__ == "__main__":
    main()
