"""Shared helpers of the persistent-path tests: the contract's example, snapshots of the state."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from caisse.beneficiaries.exchange import import_referentiel
from caisse.claims import services
from caisse.claims.models import AnnualCounter, DailyCapConsumption, Debt, Feuille, Payment, SeenAct

EXAMPLE = Path(__file__).resolve().parents[4] / "shared" / "spec" / "examples" / "liquider"
if not EXAMPLE.exists():  # the shared folder sits next to the repository
    EXAMPLE = Path("/work/shared/spec/examples/liquider")

TODAY = dt.date(2026, 11, 22)

NEEDS_EXAMPLE_DB = [
    pytest.mark.django_db,
    pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available"),
]
"""The marks of a test module on the database that replays the contract's example."""

FEUILLE_FIELDS = (
    "statut", "rejets", "destinataire", "paiement_ps_cts", "paiement_assure_cts",
    "part_c2s_cts", "dette_creee_cts", "dette_recuperee_cts",
)
LINE_FIELDS = (
    "base_remboursement_cts", "taux", "montant_amo_cts", "participation_forfaitaire_cts", "franchise_cts",
    "depassement_cts", "montant_rembourse_cts", "rejets",
)


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_ndjson(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def differences(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    """Field by field, matched by id (order and repeated ids included)."""
    diffs = []
    if [e["id"] for e in expected] != [g["id"] for g in got]:
        diffs.append("ids ou ordre différents")
    for e, g in zip(expected, got, strict=False):
        for k in FEUILLE_FIELDS:
            if e.get(k) != g.get(k):
                diffs.append(f"{e['id']} {k}: attendu {e.get(k)!r}, obtenu {g.get(k)!r}")
        if len(e["lignes"]) != len(g["lignes"]):
            diffs.append(f"{e['id']}: {len(e['lignes'])} lignes attendues, {len(g['lignes'])} obtenues")
            continue
        for i, (el, gl) in enumerate(zip(e["lignes"], g["lignes"], strict=True)):
            for k in LINE_FIELDS:
                if el.get(k) != gl.get(k):
                    diffs.append(f"{e['id']} ligne {i} {k}: attendu {el.get(k)!r}, obtenu {gl.get(k)!r}")
    return diffs


def in_reception_order(rows: list[dict[str, Any]], feuilles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``caisse liquider``'s output (input order) put in the contract's order (date_reception, id):
    on a day, the ids given as integers first, as numbers, then the others as text."""
    def integer(ident: Any) -> tuple[int, int]:
        return (0, ident) if type(ident) is int and -(1 << 63) <= ident < (1 << 63) else (1, 0)

    keys = [(f.get("date_reception") or "9999", integer(f.get("id")), "" if f.get("id") is None else str(f["id"]), i)
            for i, f in enumerate(feuilles)]
    return [rows[i] for *_, i in sorted(keys)]


def import_folder(folder: Path) -> None:
    import_referentiel(folder, today=TODAY, quiet=True)
    services.import_referentiel_extras(folder, quiet=True)


def snapshot() -> dict[str, Any]:
    """The state a daily run produces, without database ids."""
    return {
        "feuilles": sorted(
            Feuille.objects.values_list("identifiant", "statut", "decompte", "date_paiement",
                                        "paiement__identifiant_beneficiaire", "paiement__date_paiement"),
            key=lambda r: (r[0] or ""),
        ),
        "annual": sorted(AnnualCounter.objects.values_list("nir", "annee", "participation_forfaitaire_cts", "franchises_cts")),
        "debt": sorted(Debt.objects.values_list("nir", "dette_cts")),
        "daily": sorted(DailyCapConsumption.objects.values_list("nir", "cle", "date_soins", "kind", "cts")),
        "acts": sorted(SeenAct.objects.values_list("nir", "executant", "code", "date_soins")),
        "payments": sorted(Payment.objects.values_list("type_beneficiaire", "identifiant_beneficiaire", "date_paiement",
                                                       "montant_cts", "nb_feuilles", "iban")),
    }
