"""Serve Caisse with gunicorn (threads per worker), static files by WhiteNoise."""

from __future__ import annotations

import multiprocessing
import os
import sys
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
    workers = int(os.environ.get("CAISSE_WORKERS", 2 * multiprocessing.cpu_count() + 1))
    print(f"Caisse sert sur http://{host}:{port}/ ({workers} processus) — Ctrl+C pour arrêter.", file=sys.stderr)
    _Application({
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": int(os.environ.get("CAISSE_THREADS", 4)),
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 120,
        "keepalive": 5,
    }).run()
