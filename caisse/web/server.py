"""Serve Caisse with gunicorn (threads per worker), static files by WhiteNoise."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication


class _Application(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from caisse.config.wsgi import application

        return application


def serve(host: str, port: int) -> None:
    """One web process per core, threads in each (gthread), and one liquidation process where the
    API's micro-batches run (ADR 0008). Polars uses one thread per process unless told otherwise:
    the real-time batches are small, and its pool costs more than it saves there."""
    cores = multiprocessing.cpu_count()
    workers = int(os.environ.get("CAISSE_WORKERS", cores))
    threads = int(os.environ.get("CAISSE_THREADS", 16))  # each thread holds a database connection
    os.environ.setdefault("POLARS_MAX_THREADS", "1")  # read by Polars at import, in each worker
    # Liquidations never take every thread: a quarter (4 at least) stays for the other requests, which
    # are short (a rights lookup holds a thread a few milliseconds, a liquidation a batch cycle or two:
    # measured at 200 requests/s, 12 of 16 threads for liquidations leave the lookups' p99 unchanged
    # where 8 of 16 refused one liquidation in seven).
    os.environ.setdefault("CAISSE_API_LIQUIDATIONS_MAX", str(max(1, threads - max(4, threads // 4))))
    private = Path(tempfile.mkdtemp(prefix="caisse-serve-"))  # 0700: the socket and the lock
    # Should the liquidation process fail, the workers' own batches take turns (one engine at a time).
    os.environ.setdefault("CAISSE_API_VERROU_MOTEUR", str(private / "moteur.lock"))
    engine = _start_engine(private / "moteur.sock")
    print(f"Caisse sert sur http://{host}:{port}/ ({workers} processus × {threads} fils, "
          f"{'un processus de liquidation' if 'CAISSE_API_MOTEUR' in os.environ else 'liquidation dans chacun'})"
          " — Ctrl+C pour arrêter.", file=sys.stderr)
    try:
        _run({
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "timeout": 120,
            "keepalive": 5,
            "backlog": 2048,
        })
    finally:
        engine.terminate()


def _run(options: dict[str, Any]) -> None:
    _Application(options).run()


def _start_engine(socket: Path) -> subprocess.Popen[bytes]:
    """The liquidation process (ADR 0008): every micro-batch of the API runs there, away from the
    web threads' GIL. The workers find it through two environment variables."""
    key = secrets.token_bytes(32).hex()
    engine = subprocess.Popen([sys.executable, "-m", "caisse.api.engine_process", str(socket)],
                              env=dict(os.environ, CAISSE_API_MOTEUR_CLE=key))
    for _ in range(600):  # its Django set-up takes a few seconds
        if socket.exists() or engine.poll() is not None:
            break
        time.sleep(0.05)
    if socket.exists():
        os.environ["CAISSE_API_MOTEUR"], os.environ["CAISSE_API_MOTEUR_CLE"] = str(socket), key
    else:
        print("Processus de liquidation indisponible : les processus web liquident eux-mêmes.", file=sys.stderr)
    return engine
