"""The caps give the same amounts *and texts* whether a person's day is liquidated in one batch
or across batches with carried counters (the persistent daily run cuts its flow into batches):
the daily consumption carried is the one before the annual cap, as within a batch."""

from __future__ import annotations

from typing import Any

import pytest

from caisse.rules.claims import batch, frames, records
from caisse.rules.claims.nomenclature import load_nomenclature
from caisse.rules.claims.referentiel import Referentiel
from caisse.rules.claims.tests.test_scenarios import PROFESSIONNELS, with_key

NIR = with_key("2800175000002")
# 48,50 € of franchises already counted this year (annual cap 50 €, CSS D160-9).
REF = Referentiel.from_records(
    [{"nir": NIR, "date_naissance": "1980-01-01", "sexe": "F", "droits": [{"debut": "2015-01-01", "fin": None}]}],
    PROFESSIONNELS,
    load_nomenclature(),
    [{"nir": NIR, "annee": 2025, "participation_forfaitaire_cts": 0, "franchises_cts": 4850, "dette_cts": 0}],
)
AMI = {"code": "AMI", "date_soins": "2025-06-10", "quantite": 1, "coefficient": 1, "montant_facture_cts": 315}


def _feuille(ident: str, received: str, code: str, lines: int) -> dict[str, Any]:
    return {
        "id": ident, "type": "FSE", "date_reception": received, "nir": NIR, "executant": "INF1",
        "tiers_payant": False, "lignes": [{**AMI, "code": code}] * lines,
    }


@pytest.mark.parametrize("small_rows", [frames.SMALL_ROWS, 0], ids=["petits lots", "grands lots"])
def test_annual_cap_reached_mid_day_same_texts_in_one_or_several_batches(
    small_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(frames, "SMALL_ROWS", small_rows)  # 0: the large batches' path
    # Same nurse, same day: franchise 1 € per act, daily cap 4 € per professional, 1,50 € left
    # of the annual cap. The first feuille's acts consume 3 € of the day before the annual cap
    # (1,50 € after it); on the second, the daily cap stops the second act, the annual cap the first.
    # Other acts on the second feuille (the same act again would be a DOUBLON).
    feuilles = [_feuille("A", "2025-06-12", "AMI", 3), _feuille("B", "2025-06-13", "AIS", 2)]
    f, lines = records.frames_from_records(feuilles)
    whole = records.records_from_frames(*batch.liquidate_in_chunks(REF, f, lines)[:2])
    split = records.records_from_frames(*batch.liquidate_in_chunks(REF, f, lines, chunk_feuilles=1)[:2])
    assert [line["franchise_cts"] for d in whole for line in d["lignes"]] == [100, 50, 0, 0, 0]
    assert split == whole
