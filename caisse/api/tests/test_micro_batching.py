"""Micro-batched real-time liquidation: every answer equals the one-feuille answer (ADR 0008)."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from caisse.api.claims import MicroBatcher, independent_rounds, liquidate_batch, liquidate_one
from caisse.claims import services
from caisse.claims.models import AnnualCounter, Debt, SeenAct
from caisse.claims.tests.helpers import EXAMPLE, TODAY, import_folder, read_ndjson, write_ndjson


@pytest.mark.django_db
@pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")
def test_batched_answers_equal_one_feuille_answers(tmp_path: Path) -> None:
    """Counters, debts and acts seen come from a first daily run; the batches then hold people seen
    twice, the same feuille twice and a feuille already paid (a duplicate)."""
    feuilles = sorted(read_ndjson(EXAMPLE / "feuilles.ndjson"), key=lambda f: (f["date_reception"], f["id"]))
    half = len(feuilles) // 2
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(write_ndjson(tmp_path / "a.ndjson", feuilles[:half]), quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    assert AnnualCounter.objects.exists() and SeenAct.objects.exists() and Debt.objects.exists()

    asked = feuilles[half:half + 36] + [feuilles[half + 3], feuilles[half - 1], feuilles[0]]
    nirs = [f["nir"] for f in asked]
    assert len(set(nirs)) < len(nirs)  # same-person feuilles in one batch
    expected = [liquidate_one(f) for f in asked]
    assert liquidate_batch(asked) == expected
    for size in (2, 5, 13):
        got = [d for start in range(0, len(asked), size) for d in liquidate_batch(asked[start:start + size])]
        assert got == expected, size


def test_rounds_never_hold_two_feuilles_of_a_person_or_of_an_id() -> None:
    feuilles: list[dict[str, Any]] = [
        {"id": "a", "nir": "1"}, {"id": "b", "nir": "1"}, {"id": "a", "nir": "2"}, {"id": "c", "nir": "3"},
        {"id": "d", "nir": 4}, {"id": "e", "nir": "4"}, {"id": None, "nir": "5"}, {"nir": "6"},
    ]
    rounds = independent_rounds(feuilles)
    assert rounds == [[0, 3, 4, 6], [1, 2, 5, 7]]
    assert sorted(i for r in rounds for i in r) == list(range(len(feuilles)))


class _Recorder:
    """A stand-in engine: answers each feuille with its own id, slowly, and remembers the batches."""

    def __init__(self, delay: float = 0.02, fail_on: str | None = None) -> None:
        self.delay, self.fail_on = delay, fail_on
        self.batches: list[list[str]] = []
        self.lock = threading.Lock()

    def __call__(self, feuilles: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            self.batches.append([f["id"] for f in feuilles])
        time.sleep(self.delay)
        if any(f["id"] == self.fail_on for f in feuilles):
            raise ValueError(f"feuille {self.fail_on} illisible")
        return [{"id": f["id"], "n": len(feuilles)} for f in feuilles]


def _concurrently(batcher: Any, feuilles: list[dict[str, Any]]) -> list[Any]:
    out: list[Any] = [None] * len(feuilles)

    def call(i: int) -> None:
        try:
            out[i] = batcher.submit_sized(feuilles[i])[0]
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            out[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(feuilles))]
    for t in threads:
        t.start()
        time.sleep(0.001)
    for t in threads:
        t.join(10)
    return out


def test_concurrent_calls_share_engine_calls_and_keep_their_own_answers() -> None:
    run = _Recorder()
    batcher = MicroBatcher(run, window=0.005)
    feuilles = [{"id": f"f{i}", "nir": f"p{i % 7}"} for i in range(40)]
    out = _concurrently(batcher, feuilles)
    assert [o["id"] for o in out] == [f["id"] for f in feuilles]
    assert len(run.batches) < 20 and max(len(b) for b in run.batches) > 1
    assert batcher.items == 40 and batcher.batches == len(run.batches)
    person = {f["id"]: f["nir"] for f in feuilles}
    for batch in run.batches:  # never two feuilles of one person in one engine call
        assert len({person[i] for i in batch}) == len(batch)


def test_a_failing_batch_is_retried_feuille_by_feuille() -> None:
    run = _Recorder(fail_on="f3")
    batcher = MicroBatcher(run, window=0.01)
    out = _concurrently(batcher, [{"id": f"f{i}", "nir": f"p{i}"} for i in range(6)])
    assert isinstance(out[3], ValueError) and "f3" in str(out[3])
    assert [o["id"] for i, o in enumerate(out) if i != 3] == ["f0", "f1", "f2", "f4", "f5"]
    assert [b for b in run.batches if b == ["f3"]] == [["f3"]]


def test_a_lone_call_waits_only_the_window() -> None:
    batcher = MicroBatcher(_Recorder(delay=0), window=0.002)
    start = time.perf_counter()
    assert batcher.submit({"id": "x", "nir": "1"}) == {"id": "x", "n": 1}
    assert time.perf_counter() - start < 0.5
    assert not batcher._leading and not batcher._queue


def test_each_answer_says_its_batch_size_and_where_its_time_went() -> None:
    """The window and any batch in progress count as waiting; the batch's run (database and engine)
    as running: what the API sends in ``X-Caisse-Lot`` and ``Server-Timing``."""
    batcher = MicroBatcher(_Recorder(delay=0.02), window=0.01)
    answer, info = batcher.submit_sized({"id": "x", "nir": "1"})
    assert answer == {"id": "x", "n": 1} and info.size == 1
    assert info.waited_ms >= 9 and info.ran_ms >= 19
    failing = MicroBatcher(_Recorder(delay=0.01, fail_on="f1"), window=0.2)  # both in one batch
    infos: list[Any] = [None, None]

    def call(i: int) -> None:
        with contextlib.suppress(ValueError):
            infos[i] = failing.submit_sized({"id": f"f{i}", "nir": f"p{i}"})[1]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert infos[0].size == 1 and infos[0].ran_ms >= 9  # retried alone after its batch failed
    assert infos[0].waited_ms >= 205  # the window, then the failed batch


def test_through_a_file_gate_two_processes_batches_take_turns(tmp_path: Path) -> None:
    """Two batchers (as two server processes) with a gate on one file never compute at once."""
    from caisse.api.claims import FileGate

    running, most = [0], [0]
    lock = threading.Lock()

    def run(feuilles: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return [{"id": f["id"]} for f in feuilles]

    gates = [FileGate(str(tmp_path / "moteur.lock")) for _ in range(2)]
    batchers = [MicroBatcher(run, window=0.001, gate=lambda g=g: g) for g in gates]  # type: ignore[misc]
    out: list[Any] = []

    def both(i: int) -> None:
        out.append(_concurrently(batchers[i], [{"id": f"{i}-{k}", "nir": str(k)} for k in range(15)]))

    threads = [threading.Thread(target=both, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert most[0] == 1 and sorted(len(o) for o in out) == [15, 15]
    assert all(isinstance(d, dict) for o in out for d in o)


def test_web_threads_reach_the_liquidation_process_over_a_socket(tmp_path: Path) -> None:
    """The web side (EngineClient) and the liquidation process's side (serve_forever), with a
    stand-in engine: answers, errors and a broken connection reopened."""
    from multiprocessing.connection import Listener

    from caisse.api.engine_process import EngineClient, serve_forever

    run = _Recorder(delay=0.01, fail_on="bad")
    batcher = MicroBatcher(run, window=0.005)
    address, key = str(tmp_path / "moteur.sock"), b"k" * 32
    listener = Listener(address, family="AF_UNIX", authkey=key)
    threading.Thread(target=serve_forever, args=(listener, batcher), daemon=True).start()
    client = EngineClient(address, key)
    out = _concurrently(client, [{"id": f"f{i}", "nir": str(i)} for i in range(12)])
    assert [o["id"] for o in out] == [f"f{i}" for i in range(12)]
    assert max(len(b) for b in run.batches) > 1
    with pytest.raises(RuntimeError, match="illisible"):
        client.submit_sized({"id": "bad", "nir": "x"})
    client._local.conn.close()  # the process restarted, say: the next call reconnects
    assert client.submit_sized({"id": "again", "nir": "y"})[0]["id"] == "again"
    listener.close()
    with pytest.raises(OSError):
        EngineClient(address, key).submit_sized({"id": "z", "nir": "z"})
