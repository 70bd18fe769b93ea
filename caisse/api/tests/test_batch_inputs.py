"""What a micro-batch reads, by queries compiled once (ADR 0008), equals what the ORM reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from caisse.beneficiaries.exchange import beneficiary_records, beneficiary_records_orm
from caisse.beneficiaries.models import Beneficiary
from caisse.claims import services
from caisse.claims.models import AnnualCounter, Debt, SeenAct
from caisse.claims.tests.helpers import EXAMPLE, TODAY, import_folder, read_ndjson, write_ndjson
from caisse.professionals.models import HealthProfessional
from caisse.rights.models import RightsPeriod
from caisse.rights.services import PreparedRows, run_together

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")]


@pytest.fixture
def processed(tmp_path: Path) -> list[str]:
    """The example référentiel, then a first daily run (counters, debts, acts seen); the NIRs."""
    import_folder(EXAMPLE / "referentiel")
    feuilles = sorted(read_ndjson(EXAMPLE / "feuilles.ndjson"), key=lambda f: (f["date_reception"], f["id"]))
    services.receive_flow(write_ndjson(tmp_path / "a.ndjson", feuilles[: len(feuilles) // 2]), quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    assert AnnualCounter.objects.exists() and SeenAct.objects.exists() and Debt.objects.exists()
    return sorted(Beneficiary.objects.values_list("nir", flat=True))


def _samples(nirs: list[str]) -> list[list[str]]:
    unknown = "299999999999999"
    return [nirs, nirs[:1], nirs[3:9], [nirs[5], nirs[5], unknown, ""], [unknown], []]


def test_compiled_records_equal_the_orm_records(processed: list[str]) -> None:
    for nirs in _samples(processed):
        assert beneficiary_records(nirs) == beneficiary_records_orm(nirs), nirs
    assert any(r["c2s"] for r in beneficiary_records(processed))  # booleans and dates went through the converters


def test_one_read_of_a_batch_equals_the_separate_reads(processed: list[str]) -> None:
    executants = sorted(HealthProfessional.objects.values_list("identifiant", flat=True))
    for nirs, ids in zip(_samples(processed), [executants, executants[:1], executants[2:7], ["?", ""], [], []],
                         strict=True):
        got = services.batch_inputs(nirs, ids)
        assert got.beneficiaires == beneficiary_records(nirs)
        assert got.professionnels == services.professional_records(ids)
        expected = services.load_counters(nirs)
        for name in ("annual", "debt", "daily", "seen_ids", "seen_acts"):
            assert_frame_equal(getattr(got.counters, name), getattr(expected, name))
        assert got.nomenclature_version == services.nomenclature_version()
        nomenclature = services.stored_nomenclature()
        mine, reference = got.referentiel(nomenclature), services.referentiel_for(nirs, ids, nomenclature)
        for name in ("beneficiaires", "periods", "cartes", "medecins_traitants", "professionnels"):
            assert_frame_equal(getattr(mine, name), getattr(reference, name))


def test_an_in_list_of_any_length_and_dates_as_the_orm_gives_them(processed: list[str]) -> None:
    query = PreparedRows(RightsPeriod, lambda pks, day: RightsPeriod.objects.filter(
        beneficiary_id__in=pks, debut__lte=day).order_by("pk").values_list("pk", "debut", "fin"),
        pks=[-1], day=dt.date(1111, 11, 11))
    pks = sorted(Beneficiary.objects.values_list("pk", flat=True))
    for some in (pks, pks[:1], pks[4:11], []):
        for day in (dt.date(2020, 1, 1), dt.date(2026, 1, 1)):
            expected = list(RightsPeriod.objects.filter(beneficiary_id__in=some, debut__lte=day)
                            .order_by("pk").values_list("pk", "debut", "fin"))
            assert query.run(pks=some, day=day) == expected
            twice = run_together([(query, {"pks": some, "day": day}), (query, {"pks": some[:2], "day": day})])
            assert twice[0] == expected
