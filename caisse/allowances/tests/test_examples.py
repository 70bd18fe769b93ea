"""The contract's worked IJ examples through the persistent path give the amounts of ``caisse ij``."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from caisse.allowances import services
from caisse.allowances.models import DossierIJ
from caisse.allowances.tests.helpers import employer
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.rules.allowances import compute_arret

pytestmark = pytest.mark.django_db

EXAMPLES = Path("/work/shared/spec/examples")
LOCAL = Path(__file__).parent / "data"


def _load(name: str) -> list[dict[str, Any]]:
    for folder in (EXAMPLES, LOCAL):
        if (folder / name).is_file():
            return [json.loads(line) for line in (folder / name).read_text(encoding="utf-8").splitlines() if line]
    pytest.skip(f"{name} introuvable")


def _days(periods: list[dict[str, Any]]) -> dict[dt.date, int]:
    out = {}
    for p in periods:
        start, end = dt.date.fromisoformat(str(p["debut"])), dt.date.fromisoformat(str(p["fin"]))
        for i in range((end - start).days + 1):
            out[start + dt.timedelta(days=i)] = p["ij_journaliere_cts"]
    return out


def _through_the_database(record: dict[str, Any]) -> DossierIJ:
    start = dt.date.fromisoformat(record["date_debut"])
    person = BeneficiaryFactory(sexe="F" if record["risque"] == "maternite" else "M")
    arret, _ = services.recevoir_arret(
        identifiant_externe=record["id"], beneficiaire=person, risque=record["risque"], date_debut=start,
        date_fin=dt.date.fromisoformat(record["date_fin"]), date_reception=start,
        prolongation=bool(record.get("prolongation")), ald=bool(record.get("ald")),
        date_accouchement=dt.date.fromisoformat(record["date_accouchement"]) if record.get("date_accouchement") else None,
        enfants_a_charge=record.get("enfants_a_charge"), naissance_multiple=record.get("naissance_multiple"),
    )
    previous = f"{start.year - (start.month == 1):04d}-{(start.month - 2) % 12 + 1:02d}"
    hours = Decimal(str(record.get("heures_travaillees_3_mois") or 0))
    lines = [
        services.Salaire(s["mois"], s["brut_cts"], hours if s["mois"] == previous else Decimal(0))
        for s in record["salaires"] or []
    ]
    if not any(li.mois == previous for li in lines) and hours:
        lines.append(services.Salaire(previous, 0, hours))
    services.recevoir_attestation_salaire(arret=arret, employeur=employer(), date_reception=start, lignes=lines)
    return DossierIJ.objects.get(pk=arret.dossier_id)


def _ids() -> list[str]:
    folder = EXAMPLES if (EXAMPLES / "ij_arrets.ndjson").is_file() else LOCAL
    path = folder / "ij_arrets.ndjson"
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize("arret_id", _ids())
def test_the_persistent_path_gives_the_amounts_of_caisse_ij(arret_id: str) -> None:
    arrets = [r for r in _load("ij_arrets.ndjson") if r["id"] == arret_id]
    expected = {e["id"]: e for e in _load("ij_attendus.ndjson")}
    for record in arrets:
        dossier = _through_the_database(record)
        want = expected[record["id"]]
        periods = [
            {"debut": p.debut, "fin": p.fin, "ij_journaliere_cts": p.ij_journaliere_cts} for p in dossier.periodes.all()
        ]
        assert sum(p.montant_cts for p in dossier.periodes.all()) == want.get("montant_total_cts", 0), record["id"]
        assert _days(periods) == _days(want.get("periodes", [])), record["id"]
        assert dossier.jours_carence == want.get("jours_carence", 0), record["id"]
        if want["eligible"]:
            assert dossier.salaire_journalier_base_cts == want["salaire_journalier_base_cts"], record["id"]


def test_the_engine_alone_agrees_with_the_examples() -> None:
    """Guard: the examples and the engine agree, so a failure above is the persistent path's."""
    expected = {e["id"]: e for e in _load("ij_attendus.ndjson")}
    for record in _load("ij_arrets.ndjson"):
        assert compute_arret(record)["montant_total_cts"] == expected[record["id"]].get("montant_total_cts", 0)
