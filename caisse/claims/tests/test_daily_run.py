"""The daily run survives a failure at any point: rerun, it ends in the uninterrupted state."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from caisse.claims import services
from caisse.claims.models import (
    AnnualCounter,
    DailyCapConsumption,
    DailyRun,
    Debt,
    Feuille,
    FeuilleStatus,
    Payment,
    RunStatus,
    SeenAct,
)
from caisse.claims.tests.generate import write_caisse
from caisse.claims.tests.helpers import TODAY, import_folder, read_ndjson, snapshot
from caisse.rules.claims import batch

pytestmark = pytest.mark.django_db

CHUNK = 35


@pytest.fixture
def caisse(tmp_path: Path) -> tuple[Path, Path]:
    ref, flow = write_caisse(tmp_path, people=30, lines=450)
    import_folder(ref)
    services.receive_flow(flow, quiet=True)
    return ref, flow


def _reset() -> None:
    """Back to "everything received, nothing processed"."""
    Feuille.objects.update(statut=FeuilleStatus.RECUE, decompte=None, run=None, date_paiement=None, paiement=None)
    for model in (Payment, DailyRun, AnnualCounter, Debt, DailyCapConsumption, SeenAct):
        model.objects.all().delete()


class Boom(RuntimeError):
    pass


def _fail_on(monkeypatch: pytest.MonkeyPatch, name: str, call: int) -> None:
    original = getattr(services, name)
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call:
            raise Boom(f"panne simulée dans {name}")
        return original(*args, **kwargs)

    monkeypatch.setattr(services, name, failing)


@pytest.mark.parametrize(
    ("point", "call"),
    [
        ("liquidate", 4),  # between two chunks, after 3 commits
        ("_write_payments", 2),  # inside the transaction, nothing written yet
        ("_write_feuilles", 5),  # payments written, décomptes not
        ("_write_counters", 3),  # décomptes and payments written, counters not
        ("_commit_chunk", 7),
    ],
)
def test_a_run_interrupted_anywhere_then_rerun_ends_in_the_uninterrupted_state(
    caisse: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, point: str, call: int
) -> None:
    services.daily_run(None, today=TODAY, chunk_size=CHUNK, quiet=True)
    expected = snapshot()
    assert Feuille.objects.count() > 6 * CHUNK
    assert Payment.objects.exists() and Debt.objects.filter(dette_cts__gt=0).exists()
    assert DailyCapConsumption.objects.exists() and SeenAct.objects.exists()
    _reset()

    with monkeypatch.context() as patch:
        _fail_on(patch, point, call)
        with pytest.raises(Boom):
            services.daily_run(None, today=TODAY, chunk_size=CHUNK, quiet=True)
    run = DailyRun.objects.get()
    assert run.statut == RunStatus.EN_COURS and run.nb_lots == call - 1
    assert Feuille.objects.exclude(statut=FeuilleStatus.RECUE).count() == run.nb_feuilles == (call - 1) * CHUNK

    # Rerun the next day with another chunk size: the interrupted run is resumed with its own date.
    last = services.daily_run(None, today=TODAY + dt.timedelta(days=1), chunk_size=CHUNK + 7, quiet=True)
    assert last is not None and last.pk == run.pk and last.statut == RunStatus.TERMINE and last.nb_reprises == 1
    assert DailyRun.objects.count() == 1
    assert snapshot() == expected


def test_the_daily_run_equals_liquider_on_the_whole_flow(caisse: tuple[Path, Path], tmp_path: Path) -> None:
    ref, flow = caisse
    services.daily_run(None, today=TODAY, chunk_size=CHUNK, quiet=True)
    out = tmp_path / "liquider.ndjson"
    batch.run(ref, flow, str(out), "ndjson")
    expected = sorted(read_ndjson(out), key=lambda d: d["id"])
    exported = tmp_path / "export.ndjson"
    services.export_decomptes(str(exported), quiet=True)
    assert sorted(read_ndjson(exported), key=lambda d: d["id"]) == expected


def test_a_run_dated_before_the_flow_still_equals_liquider(caisse: tuple[Path, Path], tmp_path: Path) -> None:
    """Contract §7: the same amounts as ``caisse liquider``, whatever the run's date; care is in the
    future when it is after its feuille's reception, not after the run's date."""
    ref, flow = caisse
    first_reception = min(dt.date.fromisoformat(r["date_reception"]) for r in read_ndjson(flow))
    services.daily_run(None, today=first_reception - dt.timedelta(days=30), chunk_size=CHUNK, quiet=True)
    out = tmp_path / "liquider.ndjson"
    batch.run(ref, flow, str(out), "ndjson")
    exported = tmp_path / "export.ndjson"
    services.export_decomptes(str(exported), quiet=True)
    got = sorted(read_ndjson(exported), key=lambda d: d["id"])
    assert got == sorted(read_ndjson(out), key=lambda d: d["id"])
    assert not any("DATE_FUTURE" in d["rejets"] for d in got)


def test_a_limit_processes_only_what_was_received_until_then(caisse: tuple[Path, Path]) -> None:
    limit = dt.date(2025, 6, 30)
    run = services.daily_run(limit, today=TODAY, chunk_size=CHUNK, quiet=True)
    assert run is not None and run.jusqu_au == limit
    assert not Feuille.objects.filter(statut=FeuilleStatus.RECUE, date_reception__lte=limit).exists()
    assert not Feuille.objects.exclude(statut=FeuilleStatus.RECUE).filter(date_reception__gt=limit).exists()
    services.daily_run(None, today=TODAY + dt.timedelta(days=1), chunk_size=CHUNK, quiet=True)
    split = snapshot()
    _reset()
    services.daily_run(None, today=TODAY, chunk_size=CHUNK, quiet=True)
    whole = snapshot()
    # Same décomptes and counters; payments are dated by their run.
    assert [f[:3] for f in split["feuilles"]] == [f[:3] for f in whole["feuilles"]]
    assert {k: v for k, v in split.items() if k not in ("feuilles", "payments")} == {
        k: v for k, v in whole.items() if k not in ("feuilles", "payments")}
    assert sum(p[3] for p in split["payments"]) == sum(p[3] for p in whole["payments"])


def test_an_interrupted_run_is_finished_with_its_own_limit_before_a_new_one(
    caisse: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = dt.date(2025, 6, 30)
    with monkeypatch.context() as patch:
        _fail_on(patch, "_write_feuilles", 2)
        with pytest.raises(Boom):
            services.daily_run(limit, today=TODAY, chunk_size=CHUNK, quiet=True)
    services.daily_run(None, today=TODAY + dt.timedelta(days=1), chunk_size=CHUNK, quiet=True)
    first, second = DailyRun.objects.order_by("pk")
    assert (first.jusqu_au, first.date_traitement, first.nb_reprises) == (limit, TODAY, 1)
    assert (second.jusqu_au, second.date_traitement) == (None, TODAY + dt.timedelta(days=1))
    assert not Feuille.objects.filter(statut=FeuilleStatus.RECUE).exists()
    assert set(Feuille.objects.filter(run=first).values_list("date_reception", flat=True)) <= {
        d for d in Feuille.objects.values_list("date_reception", flat=True) if d <= limit}


def test_a_second_process_does_nothing_while_a_run_holds_the_lock(
    caisse: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import fcntl

    from django.db import connection

    if connection.vendor == "postgresql":
        import psycopg

        s = connection.settings_dict
        other = psycopg.connect(host=s["HOST"] or None, port=s["PORT"] or None, user=s["USER"], password=s["PASSWORD"] or None,
                                dbname=s["NAME"], autocommit=True)
        other.execute("SELECT pg_advisory_lock(%s)", [services.LOCK_KEY])

        def release() -> None:
            other.execute("SELECT pg_advisory_unlock(%s)", [services.LOCK_KEY])
            other.close()
    else:
        monkeypatch.setitem(connection.settings_dict, "NAME", str(tmp_path / "db.sqlite3"))
        monkeypatch.setattr(connection, "is_in_memory_db", lambda: False)
        handle = open(tmp_path / "db.sqlite3.traiter.lock", "a+b")  # noqa: SIM115
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        release = handle.close
    try:
        assert services.daily_run(None, today=TODAY, chunk_size=CHUNK) is None
        assert "déjà en cours dans un autre processus" in capsys.readouterr().err
        assert not DailyRun.objects.exists()
    finally:
        release()
    assert services.daily_run(None, today=TODAY, chunk_size=1000, quiet=True) is not None


def test_a_daily_cap_reached_across_chunks_and_runs_is_the_one_liquider_reaches(tmp_path: Path) -> None:
    """Six paramedical acts of one day (same person, same nurse), received on six days: the
    franchise's daily cap (4 €) stops it after four, whether the feuilles are liquidated in one
    batch (`caisse liquider`), in chunks of two, or one daily run per reception day. The stored
    daily consumption is the day's total; it held one chunk's increment."""
    ref = tmp_path / "referentiel"
    ref.mkdir()
    nir = "157026855117189"
    (ref / "beneficiaires.ndjson").write_text(
        f'{{"nir": "{nir}", "date_naissance": "1957-02-01", "sexe": "M", "droits": [{{"debut": "2015-01-01", "fin": null}}]}}\n',
        encoding="utf-8",
    )
    (ref / "professionnels.ndjson").write_text(
        '{"id": "INF1", "profession": "infirmier", "specialite": null, "secteur": 1, "optam": false, "conventionne": true}\n',
        encoding="utf-8",
    )
    codes = ["AMI", "AIS", "AMS", "AMK", "AMO", "AMY"]  # six different acts: no duplicate
    feuilles = [
        {"id": f"Y{n}", "type": "FSE", "date_reception": f"2025-02-{23 + n}", "nir": nir, "executant": "INF1",
         "prescripteur": None, "tiers_payant": False, "risque": "maladie", "parcours": "medecin_traitant",
         "en_rapport_ald": False, "carte_vitale": None,
         "lignes": [{"code": code, "date_soins": "2025-02-22", "quantite": 1, "coefficient": 1, "montant_facture_cts": 400}]}
        for n, code in enumerate(codes)
    ]
    flow = tmp_path / "feuilles.ndjson"
    flow.write_text("".join(json.dumps(f) + "\n" for f in feuilles), encoding="utf-8")
    batch.run(ref, flow, str(tmp_path / "liquider.ndjson"), "ndjson")
    expected = [d["lignes"][0]["franchise_cts"] for d in read_ndjson(tmp_path / "liquider.ndjson")]
    assert expected == [100, 100, 100, 100, 0, 0]

    import_folder(ref)
    services.receive_flow(flow, quiet=True)
    for day in range(23, 29):  # one run per reception day
        services.daily_run(dt.date(2025, 2, day), today=TODAY, quiet=True)
    got = {f.identifiant: f.decompte["lignes"][0]["franchise_cts"] for f in Feuille.objects.all()}
    assert [got[f"Y{n}"] for n in range(6)] == expected
    assert list(DailyCapConsumption.objects.values_list("cts", flat=True)) == [400]

    _reset()  # everything received again, nothing processed
    services.daily_run(None, today=TODAY, chunk_size=2, quiet=True)  # one run, chunks of two feuilles
    got = {f.identifiant: f.decompte["lignes"][0]["franchise_cts"] for f in Feuille.objects.all()}
    assert [got[f"Y{n}"] for n in range(6)] == expected
    assert list(DailyCapConsumption.objects.values_list("cts", flat=True)) == [400]
