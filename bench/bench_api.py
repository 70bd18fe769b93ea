"""Real-time API latency: rights lookup and one-FSE liquidation at a fixed request rate.

Starts ``caisse serve`` on loopback against PostgreSQL (``--db``, default a scratch database on
the local server; falls back to a temporary SQLite file when PostgreSQL does not answer), loads
the contract's example référentiel, then sends requests at ``--rps`` for ``--seconds`` (after a
warm-up) and prints p50/p95/p99 per endpoint, the rate served and the errors.
Target (issue "Health costs"): p99 under 50 ms at 200 requests per second.

The load is open-loop: request *i* is due at ``start + i / rps`` whatever the answers before
it, half of them rights lookups, half liquidations (random people and feuilles of the example).
Latency runs from the instant the request was due, so a late client or a saturated server
counts in full (no coordinated omission). The generator is one asyncio thread with keep-alive
connections: it shares the machine's cores with the server and PostgreSQL, and its own CPU use
is printed with the machine's.

    .venv/bin/python bench/bench_api.py [--rps 200] [--seconds 20] [--db postgres://…]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "spec" / "examples" / "liquider"
CAISSE = str(ROOT / ".venv" / "bin" / "caisse")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
TARGET_MS = 50.0
TIMEOUT_S = 10.0


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
        "u,_=User.objects.get_or_create(username='bench-api', defaults={'role':'liquidateur'});"
        "print(ApiToken.issue(u,'bench')[1])"
    )
    out = subprocess.run([PYTHON, "-c", script], env=env, cwd=workdir, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def _cpu_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies of the whole machine, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0, 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    steal = fields[7] if len(fields) > 7 else 0
    return sum(fields[:8]) - idle - steal, steal, sum(fields[:8])


def _process_ticks(server_pid: int) -> tuple[int, int, int]:
    """CPU jiffies used so far by the server (master, web workers and liquidation process), by its
    liquidation process alone and by PostgreSQL's processes."""
    server = engine = postgres = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2:].split()
        pid, ppid, ticks = int(stat.parent.name), int(rest[1]), int(rest[11]) + int(rest[12])
        if pid == server_pid or ppid == server_pid:
            server += ticks
            with contextlib.suppress(OSError):
                if b"engine_process" in (stat.parent / "cmdline").read_bytes():
                    engine += ticks
        elif name.startswith("postgres"):
            postgres += ticks
    return server, engine, postgres


def _server_timing(header: str) -> dict[str, float]:
    """``{"attente": 3.1, "lot": 11.8}`` from ``attente;dur=3.1;desc="…", lot;dur=11.8;desc="…"``."""
    out: dict[str, float] = {}
    for metric in header.split(","):
        name, *params = (p.strip() for p in metric.split(";"))
        for param in params:
            if param.startswith("dur="):
                out[name] = float(param[4:])
    return out


class Client:
    """Minimal HTTP/1.1 keep-alive client over asyncio streams (one request per connection at a time)."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.batch_sizes: list[int] = []
        self.timings: list[dict[str, float]] = []  # the liquidations' Server-Timing: waiting, batch

    async def request(self, method: str, path: str, body: bytes = b"") -> int:
        """The status; a kept-alive connection the server closed meanwhile is retried once on a new one
        (as every HTTP client does; the API's two operations write nothing)."""
        if self.idle:
            try:
                return await self._send(self.idle.pop(), method, path, body)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                if getattr(exc, "partial", b""):
                    raise
        return await self._send(await asyncio.open_connection("127.0.0.1", self.port), method, path, body)

    async def _send(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], method: str, path: str,
                    body: bytes) -> int:
        reader, writer = conn
        try:
            head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            writer.write(head + body)
            raw = await reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            await reader.readexactly(int(headers.get("content-length", "0")))
            if "x-caisse-lot" in headers:
                self.batch_sizes.append(int(headers["x-caisse-lot"]))
                self.timings.append(_server_timing(headers.get("server-timing", "")))
        except BaseException:
            writer.close()
            raise
        if headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append(conn)
        return status


Result = tuple[dict[str, list[float]], dict[str, int], dict[str, int], float, list[float]]


async def _load(client: Client, rps: int, seconds: float, people: list[str], feuilles: list[bytes],
                seed: int, share: float = 0.5) -> Result:
    """Latencies of the 200 answers by kind, errors by kind and by cause, the duration, and how late
    the generator itself started each request (its own lag, already counted in the latencies)."""
    rnd = random.Random(seed)
    latencies: dict[str, list[float]] = {"droits": [], "liquidation": []}
    errors: dict[str, int] = {"droits": 0, "liquidation": 0}
    causes: dict[str, int] = {}
    lags: list[float] = []
    loop = asyncio.get_running_loop()

    async def one(due: float, kind: str) -> None:
        lags.append((loop.time() - due) * 1000)
        try:
            if kind == "droits":
                path = f"/api/v1/droits/{rnd.choice(people)}?date=2025-06-01"
                status = await asyncio.wait_for(client.request("GET", path), TIMEOUT_S)
            else:
                status = await asyncio.wait_for(client.request("POST", "/api/v1/liquidations", rnd.choice(feuilles)),
                                                TIMEOUT_S)
            ok = status == 200
            cause = f"HTTP {status}"
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                IndexError) as exc:
            ok, cause = False, type(exc).__name__
        if not ok:
            causes[cause] = causes.get(cause, 0) + 1
        if ok:  # the percentiles are those of the answers; errors are counted apart
            latencies[kind].append((loop.time() - due) * 1000)
        errors[kind] += not ok

    start = loop.time() + 0.05
    total = int(rps * seconds)
    tasks = []
    for i in range(total):
        due = start + i / rps
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, "droits" if rnd.random() < share else "liquidation")))
    await asyncio.gather(*tasks)
    return latencies, errors, causes, loop.time() - start, lags


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rps", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--part-droits", type=float, default=0.5,
                        help="part des consultations de droits (le reste : liquidations)")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/caisse_bench_api")
    args, _ = parser.parse_known_args()  # make bench passes its own options to every bench

    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    env = dict(os.environ, CAISSE_DEBUG="0", CAISSE_SECRET_KEY="bench-only")
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
    log = (workdir / "serve.log").open("w")
    server = subprocess.Popen([CAISSE, "serve", "--port", str(args.port)], env=env, cwd=workdir, stderr=log)
    try:
        for _ in range(150):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request("GET", "/api/openapi.json")
                break
            except OSError:
                time.sleep(0.2)
        people = [json.loads(line)["nir"] for line in (EXAMPLES / "referentiel" / "beneficiaires.ndjson").open()]
        feuilles = [line.strip().encode() for line in (EXAMPLES / "feuilles.ndjson").open() if line.strip()]
        client = Client(args.port, token)

        async def run() -> Result:
            # Cold processes first answer slowly (imports, first compilations): a few calls at a
            # gentle pace, then the warm-up at the full rate, then the measure.
            await _load(client, 20, 2, people, feuilles, seed=0)
            await _load(client, args.rps, args.warmup, people, feuilles, seed=1, share=args.part_droits)
            marks.append((os.getloadavg()[0], _cpu_ticks(), resource.getrusage(resource.RUSAGE_SELF),
                          _process_ticks(server.pid)))
            return await _load(client, args.rps, args.seconds, people, feuilles, seed=2, share=args.part_droits)

        marks: list[tuple[float, tuple[int, int, int], resource.struct_rusage, tuple[int, int, int]]] = []
        latencies, errors, causes, elapsed, lags = asyncio.run(run())
        sizes = client.batch_sizes[-len(latencies["liquidation"]):] if latencies["liquidation"] else []
        timings = client.timings[-len(latencies["liquidation"]):] if latencies["liquidation"] else []
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        busy1, steal1, total1 = _cpu_ticks()
        load_after = os.getloadavg()
        load_before, (busy0, steal0, total0), self0, (server0, engine0, pg0) = marks[0]
        server1, engine1, pg1 = _process_ticks(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    banner = next((line for line in (workdir / "serve.log").read_text().splitlines() if "sert sur" in line), "")
    cores = os.cpu_count() or 1
    ticks = max(1, total1 - total0)
    hz = os.sysconf("SC_CLK_TCK")
    generator = 100 * (self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime) / elapsed
    others = (100 * cores * (busy1 - busy0) / ticks - 100 * (server1 - server0) / hz / elapsed
              - 100 * (pg1 - pg0) / hz / elapsed - generator)
    done = sum(len(v) for v in latencies.values())
    sent = max(1, len(lags))
    lags.sort()
    print(f"API temps réel — {backend}, charge en boucle ouverte : {args.rps} requêtes/s visées pendant "
          f"{args.seconds} s (après {args.warmup} s de chauffe) ; {done / elapsed:.0f} réponses 200 par seconde, "
          f"{sum(errors.values())} erreur(s)"
          + (f" ({', '.join(f'{k} : {v}' for k, v in sorted(causes.items()))})" if causes else ""))
    if banner:
        print(f"  serveur : caisse serve, {banner.split('(')[-1].split(')')[0]} (CAISSE_WORKERS, CAISSE_THREADS)")
    print(f"  machine : {cores} cœurs partagés par le serveur, PostgreSQL et le générateur (asyncio, 1 fil) ; "
          f"CPU occupé {100 * cores * (busy1 - busy0) / ticks:.0f} % sur {100 * cores} %, "
          f"volé par l'hyperviseur {100 * cores * (steal1 - steal0) / ticks:.0f} % ; serveur "
          f"{100 * (server1 - server0) / hz / elapsed:.0f} % (dont processus de liquidation "
          f"{100 * (engine1 - engine0) / hz / elapsed:.0f} %), PostgreSQL {100 * (pg1 - pg0) / hz / elapsed:.0f} %, générateur "
          f"{generator:.0f} %, autres processus {others:.0f} % ; "
          f"charge moyenne (1 min) {load_before:.2f} → {load_after[0]:.2f}")
    web = (server1 - server0) - (engine1 - engine0)
    calls = sum(1 / s for s in sizes)  # engine calls of the answered liquidations
    print(f"  CPU par requête envoyée : processus web {1000 * web / hz / sent:.2f} ms, PostgreSQL "
          f"{1000 * (pg1 - pg0) / hz / sent:.2f} ms, générateur {10 * generator * elapsed / sent:.2f} ms ; "
          f"processus de liquidation {1000 * (engine1 - engine0) / hz / max(1, len(sizes)):.1f} ms par liquidation"
          + (f" ({1000 * (engine1 - engine0) / hz / calls:.1f} ms par appel du moteur)" if calls else "")
          + f" ; retard d'envoi du générateur p99 {_pct(lags, 0.99):.1f} ms, max {lags[-1]:.1f} ms "
          "(compté dans les latences)")
    print("  latence des réponses 200, comptée depuis l'instant prévu de chaque requête"
          + (f" ; liquidations par appel du moteur : {sum(sizes) / len(sizes):.1f} en moyenne (vu par feuille), "
             f"{max(sizes)} au plus" if sizes else ""))
    if timings:  # where a liquidation's time goes, from the server's own clock
        waited = sorted(t.get("attente", 0.0) for t in timings)
        ran = sorted(t.get("lot", 0.0) for t in timings)
        rest = sorted(v - t.get("attente", 0.0) - t.get("lot", 0.0) for v, t in zip(
            latencies["liquidation"], timings, strict=True))
        print("  liquidation, d'après Server-Timing : attente du lot (fenêtre, lot en cours) p50/p99 "
              f"{_pct(waited, 0.5):.1f} / {_pct(waited, 0.99):.1f} ms ; lot (lecture de la base et moteur) "
              f"{_pct(ran, 0.5):.1f} / {_pct(ran, 0.99):.1f} ms ; reste (client, HTTP, processus web, socket) "
              f"{_pct(rest, 0.5):.1f} / {_pct(rest, 0.99):.1f} ms")
    for kind, values in latencies.items():
        if not values:
            print(f"  {kind:<12} aucune réponse 200, erreurs={errors[kind]}")
            continue
        values.sort()
        p99 = _pct(values, 0.99)
        print(f"  {kind:<12} réponses={len(values):>5}  p50={_pct(values, 0.50):7.1f} ms  p95={_pct(values, 0.95):7.1f} ms"
              f"  p99={p99:7.1f} ms  max={values[-1]:7.1f} ms  erreurs={errors[kind]}"
              f"  {'OK' if p99 < TARGET_MS and not errors[kind] else f'cible non tenue (p99 < {TARGET_MS:.0f} ms, sans erreur)'}")
    sys.exit(0)


if __name__ == "__main__":
    main()
