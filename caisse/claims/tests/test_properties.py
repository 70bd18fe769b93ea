"""Property: however the flow is split into receptions and runs, whatever the chunk size and
wherever a run fails, the persistent path gives the amounts of ``caisse liquider``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caisse.claims import services
from caisse.claims.models import (
    AnnualCounter,
    DailyCapConsumption,
    DailyRun,
    Debt,
    DuplicateReception,
    Feuille,
    FlowReception,
    Payment,
    SeenAct,
)
from caisse.claims.tests.helpers import (
    EXAMPLE,
    NEEDS_EXAMPLE_DB,
    TODAY,
    differences,
    import_folder,
    in_reception_order,
    read_ndjson,
    write_ndjson,
)

pytestmark = NEEDS_EXAMPLE_DB

FEUILLES = read_ndjson(EXAMPLE / "feuilles.ndjson") if EXAMPLE.exists() else []
EXPECTED = (
    in_reception_order(read_ndjson(EXAMPLE / "decomptes_attendus.ndjson"), FEUILLES) if EXAMPLE.exists() else []
)


def _wipe() -> None:
    Feuille.objects.update(statut="recue", decompte=None, run=None, date_paiement=None, paiement=None)
    for model in (DuplicateReception, Feuille, Payment, DailyRun, FlowReception, AnnualCounter, Debt,
                  DailyCapConsumption, SeenAct):
        model.objects.all().delete()


class Boom(RuntimeError):
    pass


@pytest.fixture
def referentiel(db: None) -> None:
    import_folder(EXAMPLE / "referentiel")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cuts=st.lists(st.integers(1, len(FEUILLES) - 1), max_size=3, unique=True),
    chunk=st.integers(30, 200),
    fail_after=st.none() | st.integers(1, 4),
)
def test_any_split_chunking_and_failure_gives_the_liquider_amounts(
    referentiel: None, tmp_path_factory: pytest.TempPathFactory, cuts: list[int], chunk: int, fail_after: int | None
) -> None:
    _wipe()
    folder = tmp_path_factory.mktemp("flows")
    ordered = sorted(FEUILLES, key=lambda f: (f["date_reception"], f["id"]))
    bounds = [0, *sorted(cuts), len(ordered)]
    original = services._commit_chunk
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == fail_after:
            raise Boom("panne simulée")
        return original(*args, **kwargs)

    with mock.patch.object(services, "_commit_chunk", flaky):
        for day, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False)):
            part = ordered[start:end]
            services.receive_flow(write_ndjson(Path(folder) / f"flux{day}.ndjson", part), quiet=True)
            limit = dt.date.fromisoformat(part[-1]["date_reception"])
            try:
                services.daily_run(limit, today=TODAY + dt.timedelta(days=day), chunk_size=chunk, quiet=True)
            except Boom:
                services.daily_run(limit, today=TODAY + dt.timedelta(days=day), chunk_size=chunk, quiet=True)
    out = Path(folder) / "export.ndjson"
    services.export_decomptes(str(out), quiet=True)
    assert differences(EXPECTED, read_ndjson(out)) == []
    assert sum(Payment.objects.values_list("montant_cts", flat=True)) == sum(
        e["paiement_ps_cts"] + e["paiement_assure_cts"] for e in EXPECTED)
