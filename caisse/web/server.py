"""Serve Caisse with gunicorn (threads per worker), static files by WhiteNoise."""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
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
    """One process per core, threads in each (gthread): the API's micro-batches (ADR 0008) gather
    the concurrent liquidations of a process, and Polars releases the GIL while it computes, so
    the other threads keep serving. Polars uses one thread per process unless told otherwise:
    the real-time batches are small, and its pool costs more than it saves there."""
    cores = multiprocessing.cpu_count()
    workers = int(os.environ.get("CAISSE_WORKERS", cores))
    threads = int(os.environ.get("CAISSE_THREADS", 32))
    os.environ.setdefault("POLARS_MAX_THREADS", "1")  # read by Polars at import, in each worker
    # Liquidations never take more than half the threads: the others stay for the other requests.
    os.environ.setdefault("CAISSE_API_LIQUIDATIONS_MAX", str(max(1, threads // 2)))
    # The processes' liquidation batches take turns (ADR 0008): one engine computing at a time.
    if workers > 1 and "CAISSE_API_VERROU_MOTEUR" not in os.environ:
        os.environ["CAISSE_API_VERROU_MOTEUR"] = str(Path(tempfile.mkdtemp(prefix="caisse-serve-")) / "moteur.lock")
    print(f"Caisse sert sur http://{host}:{port}/ ({workers} processus × {threads} fils) — Ctrl+C pour arrêter.",
          file=sys.stderr)
    _Application({
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
    }).run()
