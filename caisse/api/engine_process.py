"""The liquidation process of ``caisse serve``: one process runs every micro-batch (ADR 0008).

The claims engine is made of many short Polars calls, each of which gives the GIL back and
takes it again. In a web worker, every request thread that runs Python takes the GIL for up to
the switch interval each time, and an engine call then lasts ten to twenty times as long. So
the web workers do not liquidate: they send the feuille over a Unix socket to this process,
whose only busy thread is the batch leader, and wait for the décompte. All the workers'
liquidations meet in one queue, which also makes the batches larger.

Each connection (one per web thread) is served by a thread that hands its feuilles to the
process's :class:`~caisse.api.claims.MicroBatcher`; the batches run in one thread, which reads
the database (one connection) and calls the engine. Nothing is written: a feuille sent twice gets the same answer.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Client, Connection, Listener
from typing import Any, NamedTuple, Protocol


class BatchInfo(NamedTuple):
    """How a feuille was liquidated: the feuilles of its engine call, the milliseconds it waited
    for its batch (window and batch in progress) and those its batch ran (database read and
    engine). The API sends them in ``X-Caisse-Lot`` and ``Server-Timing``."""

    size: int = 1
    waited_ms: float = 0.0
    ran_ms: float = 0.0


class _Batcher(Protocol):
    def submit_sized(self, feuille: dict[str, Any]) -> tuple[dict[str, Any], BatchInfo]: ...


def serve_connection(conn: Connection, batcher: _Batcher) -> None:
    """Answer one web thread's feuilles until it hangs up: ``("ok", décompte, (taille du lot,
    attente ms, lot ms))`` or ``("erreur", message, None)``."""
    with conn:
        while True:
            try:
                feuille = conn.recv()
            except (EOFError, OSError):
                return
            try:
                decompte, info = batcher.submit_sized(feuille)
                # A plain tuple: run as ``-m``, this module is ``__main__`` here, which the web side cannot unpickle.
                reply: tuple[str, Any, Any] = ("ok", decompte, tuple(info))
            except Exception as exc:  # the web worker turns it into an error response
                reply = ("erreur", f"{type(exc).__name__} : {exc}", None)
            try:
                conn.send(reply)
            except OSError:
                return


def serve_forever(listener: Listener, batcher: _Batcher) -> None:
    while True:
        try:
            conn = listener.accept()
        except OSError:  # a client that failed the handshake, or the listener closed
            if getattr(listener, "_listener", None) is None:
                return
            continue
        threading.Thread(target=serve_connection, args=(conn, batcher), daemon=True).start()


def _exit_with(parent: int) -> None:
    """Leave when ``caisse serve`` is gone, even killed without notice."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main(address: str) -> None:
    """Entry point of the process (``python -m caisse.api.engine_process SOCKET``, started by
    ``caisse serve`` before its web workers; the key comes in ``CAISSE_API_MOTEUR_CLE``)."""
    key = bytes.fromhex(os.environ.pop("CAISSE_API_MOTEUR_CLE"))
    os.environ.pop("CAISSE_API_MOTEUR", None)  # this process liquidates itself
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisse.config.settings")
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    import django

    django.setup()
    listener = Listener(address, family="AF_UNIX", authkey=key)
    serve_forever(listener, one_thread_batcher())


def one_thread_batcher() -> Any:
    """The process's batcher, whose batches all run in one thread (one database connection,
    whichever connection thread leads)."""
    from django.db import close_old_connections

    from caisse.api import claims

    pool = ThreadPoolExecutor(1, thread_name_prefix="liquidation")

    def work(feuilles: list[dict[str, Any]]) -> list[dict[str, Any]]:
        close_old_connections()  # a broken or too old connection is replaced
        return claims.liquidate_batch(feuilles)

    return claims.MicroBatcher(lambda feuilles: pool.submit(work, feuilles).result(),
                               window=claims.BATCHER.window, max_size=claims.BATCHER.max_size)


class EngineClient:
    """The web side: one connection per web thread, opened on first use, reopened once if broken."""

    def __init__(self, address: str, key: bytes) -> None:
        self.address, self.key = address, key
        self._local = threading.local()

    def _connection(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = Client(self.address, family="AF_UNIX", authkey=self.key)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def submit_sized(self, feuille: dict[str, Any]) -> tuple[dict[str, Any], BatchInfo]:
        """The décompte and its :class:`BatchInfo` (as the process's batcher gives them; the time
        spent on the socket is the web worker's own)."""
        for attempt in range(2):
            try:
                conn = self._connection()
                conn.send(feuille)
                status, payload, info = conn.recv()
                break
            except (OSError, EOFError):
                self._drop()
                if attempt:
                    raise
        if status != "ok":
            raise RuntimeError(payload)
        return payload, BatchInfo(*info)


if __name__ == "__main__":
    main(sys.argv[1])
