"""Small simulated caisses shared by the simulation tests (generated once per session)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from caisse.simulation.generator import run


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 beneficiaries, NDJSON, seed 1, year 2025."""
    out = tmp_path_factory.mktemp("sim_small")
    run(200, 2025, 1, out, "ndjson")
    return out


@pytest.fixture(scope="session")
def small_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same caisse as :func:`small`, in Parquet."""
    out = tmp_path_factory.mktemp("sim_small_parquet")
    run(200, 2025, 1, out, "parquet")
    return out


@pytest.fixture(scope="session")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 000 beneficiaries (enough for every kind of bad record), NDJSON, seed 3."""
    out = tmp_path_factory.mktemp("sim_medium")
    run(2_000, 2025, 3, out, "ndjson")
    return out
