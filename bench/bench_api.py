"""Real-time API latency: rights lookup and one-FSE liquidation at a fixed request rate.

Starts ``caisse serve`` on loopback against PostgreSQL (``--db``, default the local test server;
falls back to a temporary SQLite file when PostgreSQL does not answer), loads the contract's
example référentiel, then sends requests at ``--rps`` for ``--seconds`` and prints p50/p99.
Target (issue "Health costs"): p99 under 50 ms at 200 requests per second.

    .venv/bin/python bench/bench_api.py [--rps 200] [--seconds 20] [--db postgres://…]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "spec" / "examples" / "liquider"
CAISSE = str(ROOT / ".venv" / "bin" / "caisse")
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def _postgres_answers(url: str) -> bool:
    try:
        import psycopg

        psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=3).close()
    except Exception:
        return False
    return True


def _prepare(env: dict[str, str], workdir: Path) -> str:
    subprocess.run([CAISSE, "importer", "--referentiel", str(EXAMPLES / "referentiel")], env=env, cwd=workdir,
                   check=True, capture_output=True)
    script = (
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','caisse.config.settings');"
        "import django; django.setup();"
        "from caisse.accounts.models import ApiToken, User;"
        "u,_=User.objects.get_or_create(username='bench-api', defaults={'role':'professionnel'});"
        "print(ApiToken.issue(u,'bench')[1])"
    )
    out = subprocess.run([PYTHON, "-c", script], env=env, cwd=workdir, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rps", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/caisse_bench_api")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    env = dict(os.environ, CAISSE_DEBUG="0", CAISSE_SECRET_KEY="bench-only", CAISSE_WORKERS="4",
               CAISSE_THREADS="4")
    admin = args.db.rsplit("/", 1)[0] + "/postgres"
    if _postgres_answers(admin):
        import psycopg

        with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            name = args.db.rsplit("/", 1)[1]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["CAISSE_DATABASE_URL"] = args.db
        backend = "PostgreSQL"
    else:
        backend = "SQLite (PostgreSQL ne répond pas)"
    token = _prepare(env, workdir)
    server = subprocess.Popen([CAISSE, "serve", "--port", str(args.port)], env=env, cwd=workdir,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request("GET", "/api/openapi.json")
                break
            except OSError:
                time.sleep(0.2)
        people = [json.loads(line)["nir"] for line in (EXAMPLES / "referentiel" / "beneficiaires.ndjson").open()]
        feuilles = [line for line in (EXAMPLES / "feuilles.ndjson").open()]
        latencies: dict[str, list[float]] = {"droits": [], "liquidation": []}
        errors = 0
        lock = threading.Lock()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def worker(stop: float, interval: float, seed: int) -> None:
            nonlocal errors
            rnd = random.Random(seed)
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
            next_at = time.perf_counter()
            while next_at < stop:
                time.sleep(max(0.0, next_at - time.perf_counter()))
                kind = "droits" if rnd.random() < 0.5 else "liquidation"
                start = time.perf_counter()
                try:
                    if kind == "droits":
                        conn.request("GET", f"/api/v1/droits/{rnd.choice(people)}?date=2025-06-01", headers=headers)
                    else:
                        conn.request("POST", "/api/v1/liquidations", body=rnd.choice(feuilles), headers=headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status == 200
                except OSError:
                    ok = False
                    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    latencies[kind].append(elapsed)
                    errors += not ok
                next_at += interval

        # Warm-up, then the measured run: 20 clients share the rate.
        clients = 20
        stop = time.perf_counter() + 3
        warm = [threading.Thread(target=worker, args=(stop, clients / args.rps, i)) for i in range(clients)]
        for t in warm:
            t.start()
        for t in warm:
            t.join()
        latencies = {"droits": [], "liquidation": []}
        errors = 0
        stop = time.perf_counter() + args.seconds
        threads = [threading.Thread(target=worker, args=(stop, clients / args.rps, 100 + i)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=20)
    total = sum(len(v) for v in latencies.values())
    print(f"API temps réel — {backend}, {args.rps} requêtes/s visées pendant {args.seconds} s : "
          f"{total / args.seconds:.0f} requêtes/s servies, {errors} erreur(s)")
    for kind, values in latencies.items():
        if values:
            values.sort()
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
            print(f"  {kind:<12} n={len(values):>6}  p50={statistics.median(values):6.1f} ms  p99={p99:6.1f} ms"
                  f"  {'OK' if p99 < 50 else 'au-dessus de la cible de 50 ms'}")
    sys.exit(0)


if __name__ == "__main__":
    main()
