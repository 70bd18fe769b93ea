"""``caisse traiter`` really killed (SIGKILL) in the middle of a run, then run again, ends in the
state of an uninterrupted run. Runs the real command in subprocesses on SQLite files of its own."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from caisse.claims.tests.generate import write_caisse

ROOT = Path(__file__).resolve().parents[3]

SETUP = """
import django, sys
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from caisse.beneficiaries.exchange import import_referentiel
from caisse.claims.services import import_referentiel_extras, receive_flow
import_referentiel(sys.argv[1], quiet=True)
import_referentiel_extras(sys.argv[1], quiet=True)
receive_flow(sys.argv[2], quiet=True)
"""


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(CAISSE_DATABASE_URL=f"sqlite:///{db}", DJANGO_SETTINGS_MODULE="caisse.config.settings",
               CAISSE_TRAITER_LOT="100", PYTHONWARNINGS="ignore")
    return env


def _traiter(db: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as err:
        return subprocess.Popen([sys.executable, "-m", "caisse.cli", "traiter"], cwd=ROOT, env=_env(db),
                                stdout=subprocess.DEVNULL, stderr=err)


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _state(db: Path) -> dict[str, Any]:
    feuilles = _query(db, """
        SELECT f.identifiant, f.statut, f.decompte, f.date_paiement, p.identifiant_beneficiaire
        FROM claims_feuille f LEFT JOIN claims_payment p ON p.id = f.paiement_id ORDER BY f.identifiant""")
    return {
        "feuilles": [(i, s, json.loads(d) if d else None, dp, p) for i, s, d, dp, p in feuilles],
        "annual": _query(db, "SELECT nir, annee, participation_forfaitaire_cts, franchises_cts FROM claims_annualcounter ORDER BY 1, 2"),
        "debt": _query(db, "SELECT nir, dette_cts FROM claims_debt ORDER BY 1"),
        "daily": _query(db, "SELECT nir, cle, date_soins, kind, cts FROM claims_dailycapconsumption ORDER BY 1, 2, 3, 4"),
        "acts": _query(db, "SELECT nir, executant, code, date_soins FROM claims_seenact ORDER BY 1, 2, 3, 4"),
        "payments": _query(db, """SELECT type_beneficiaire, identifiant_beneficiaire, date_paiement, montant_cts,
                                  nb_feuilles, iban FROM claims_payment ORDER BY 1, 2, 3"""),
        "runs": _query(db, "SELECT statut, date_traitement, nb_feuilles, nb_liquidees, nb_rejetees FROM claims_dailyrun"),
    }


@pytest.mark.slow
def test_traiter_killed_with_sigkill_then_rerun_ends_in_the_uninterrupted_state(tmp_path: Path) -> None:
    ref, flow = write_caisse(tmp_path, people=100, lines=1800, seed=11)
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    subprocess.run([sys.executable, "-c", SETUP, str(ref), str(flow)], cwd=ROOT, env=_env(a), check=True,
                   capture_output=True)
    src, dst = sqlite3.connect(a), sqlite3.connect(b)
    src.backup(dst)
    src.close()
    dst.close()
    total = _query(a, "SELECT count(*) FROM claims_feuille")[0][0]
    assert total > 8 * 100

    uninterrupted = _traiter(a, tmp_path / "a.log")
    assert uninterrupted.wait(timeout=300) == 0, (tmp_path / "a.log").read_text()

    killed = _traiter(b, tmp_path / "b.log")
    deadline = time.monotonic() + 240
    lots = 0
    while time.monotonic() < deadline and killed.poll() is None:
        try:
            lots = _query(b, "SELECT coalesce(max(nb_lots), 0) FROM claims_dailyrun")[0][0]
        except sqlite3.OperationalError:  # table being created, or locked
            lots = 0
        if lots >= 3:
            killed.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL, "le traitement s'est terminé avant d'être interrompu"
    half = _query(b, "SELECT statut, nb_feuilles FROM claims_dailyrun")
    assert half[0][0] == "en_cours" and 0 < half[0][1] < total
    assert _query(b, "SELECT count(*) FROM claims_feuille WHERE statut <> 'recue'")[0][0] == half[0][1]

    rerun = _traiter(b, tmp_path / "c.log")
    assert rerun.wait(timeout=300) == 0, (tmp_path / "c.log").read_text()
    assert "reprise du traitement interrompu" in (tmp_path / "c.log").read_text()
    assert _state(b) == _state(a)
