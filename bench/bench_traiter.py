"""Benchmark of the persistent path on SQLite: ``recevoir`` then ``traiter`` a generated flow.

Generates (deterministically) a référentiel of N people and a flow of about L claim lines over
one year (:mod:`caisse.claims.tests.generate`), in a fresh SQLite database file, then times:

- the import of the référentiel (registry + nomenclature/compteurs extras), for information;
- ``receive_flow`` (``caisse recevoir``): feuilles per second;
- ``daily_run`` (``caisse traiter``): feuilles per second, chunks of ``--lot`` feuilles;
- the two exports.

    .venv/bin/python bench/bench_traiter.py [--personnes 20000] [--lignes 300000] [--lot 20000]

Nothing is written outside a temporary folder (``--garder DIR`` keeps the database and files).

Measured on 23 Nov 2026 (2 shared cores, SQLite in WAL mode, default sizes: 20 000 people,
187 429 feuilles, ~300 000 lines): recevoir 6 200 feuilles/s (30 s), traiter 2 170 feuilles/s
(86 s, lots of 20 000), export of the décomptes 14 s, SEPA file of 20 070 transfers 9 s, peak
memory 1.1 GiB. Under a heavily loaded machine (load 8 on 2 cores) the same run took 188 s and
286 s of wall time for 35 s and 88 s of CPU: compare the CPU times.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--personnes", type=int, default=20_000)
    parser.add_argument("--lignes", type=int, default=300_000)
    parser.add_argument("--lot", type=int, default=20_000, help="feuilles par lot du traitement quotidien")
    parser.add_argument("--garder", type=Path, default=None, help="dossier où garder la base et les fichiers")
    args = parser.parse_args()

    folder = args.garder or Path(tempfile.mkdtemp(prefix="bench_traiter_"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "caisse.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    os.environ["CAISSE_DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "caisse.config.settings"

    import django

    django.setup()
    from django.core.management import call_command

    from caisse.beneficiaries.exchange import import_referentiel
    from caisse.claims import services
    from caisse.claims.models import Feuille
    from caisse.claims.tests.generate import write_caisse

    call_command("migrate", verbosity=0, interactive=False)
    t0 = time.perf_counter()
    ref, flow = write_caisse(folder, args.personnes, args.lignes)
    n_feuilles = flow.read_text(encoding="utf-8").count("\n")
    print(f"génération : {args.personnes} personnes, {n_feuilles} feuilles, ~{args.lignes} lignes "
          f"({time.perf_counter() - t0:.1f} s, non compté)", file=sys.stderr)

    cpu: dict[str, float] = {}

    def timed(label: str, fn, *a, **kw):  # type: ignore[no-untyped-def]
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn(*a, **kw)
        cpu[label] = time.process_time() - start_cpu
        return result, time.perf_counter() - start

    _, t_import = timed("importer", import_referentiel, ref, quiet=True)
    _, t_extras = timed("extras", services.import_referentiel_extras, ref, quiet=True)
    report, t_recv = timed("recevoir", services.receive_flow, flow, quiet=True)
    run, t_run = timed("traiter", services.daily_run, None, chunk_size=args.lot, quiet=True)
    _, t_resend = timed("renvoi", services.receive_flow, flow, quiet=True)
    n_export, t_exp = timed("exporter", services.export_decomptes, str(folder / "decomptes.ndjson"), quiet=True)
    n_pay, t_pay = timed("paiements", services.export_payments, str(folder / "paiements.xml"), quiet=True)
    assert run is not None and n_export == Feuille.objects.count() + report.doublons
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def n(value: float) -> str:
        return f"{value:,.0f}".replace(",", " ")

    print(f"Base SQLite : {db} ; charge de la machine : {os.getloadavg()[0]:.1f} sur {os.cpu_count()} cœurs")
    print(f"importer  : {n(args.personnes)} personnes en {t_import + t_extras:.1f} s")
    print(f"recevoir  : {n(report.recues)} feuilles en {t_recv:.1f} s (CPU {cpu['recevoir']:.1f} s) "
          f"-> {n(report.recues / t_recv)} feuilles/s")
    print(f"traiter   : {n(run.nb_feuilles)} feuilles ({n(run.nb_liquidees)} liquidées, {n(run.nb_rejetees)} rejetées), "
          f"lots de {n(args.lot)}, en {t_run:.1f} s (CPU {cpu['traiter']:.1f} s) -> {n(run.nb_feuilles / t_run)} feuilles/s")
    print(f"renvoi    : même flux renvoyé, rien stocké, en {t_resend:.2f} s")
    print(f"exporter  : {n(n_export)} décomptes en {t_exp:.1f} s ; {n(n_pay)} virements SEPA en {t_pay:.1f} s")
    print(f"mémoire   : pic {n(peak)} Mio")


if __name__ == "__main__":
    main()
