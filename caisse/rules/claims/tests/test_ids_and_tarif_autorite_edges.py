"""Edge cases of the numeric order of integer ids and of the tarif d'autorité, found by a review:
each test names the path and the expected behaviour."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from caisse.rules.claims import batch
from caisse.rules.claims.engine import liquidate_records
from caisse.rules.claims.referentiel import Referentiel
from caisse.rules.claims.tests.test_examples import EXAMPLE
from caisse.rules.claims.tests.test_integer_id_order import _two_feuilles
from caisse.rules.claims.tests.test_scenarios import NOMENCLATURE, PROFESSIONNELS, _beneficiaire, _feuille

NEEDS_EXAMPLE = pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")


def _parquet_flow(folder: Path, feuilles: list[dict[str, Any]], id_dtype: pl.DataType) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        [{k: v for k, v in f.items() if k != "lignes"} for f in feuilles], schema_overrides={"id": id_dtype}
    ).write_parquet(folder / "feuilles.parquet")
    pl.DataFrame(
        [{"feuille_id": f["id"], **line} for f in feuilles for line in f["lignes"]],
        schema_overrides={"feuille_id": id_dtype},
    ).write_parquet(folder / "lignes.parquet")
    return folder / "feuilles.parquet"


# --- 3e127e7: integer ids in numeric order -----------------------------------------------------


@NEEDS_EXAMPLE
def test_uint64_parquet_ids_within_int64_in_numeric_order_beyond_as_text(tmp_path: Path) -> None:
    """An unsigned Parquet id column is ordered as numbers within Int64's range; ids beyond it
    (above 9 223 372 036 854 775 807, as JSON integers beyond it) are ordered as text, as the
    README says: 10000000000000000000 ("1...") comes before 9300000000000000000 ("9...")."""
    small, large = 9_300_000_000_000_000_000, 10_000_000_000_000_000_000
    source = _parquet_flow(tmp_path / "flux", _two_feuilles(large, small), pl.UInt64())
    out = tmp_path / "out.ndjson"
    batch.run(EXAMPLE / "referentiel", source, str(out), "ndjson")
    got = {d["id"]: d for d in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    # As text, the larger id (reimbursed) comes first: nothing to recover yet.
    assert got[small]["dette_creee_cts"] > 0 and got[large]["dette_recuperee_cts"] == 0
    source = _parquet_flow(tmp_path / "petits", _two_feuilles(10, 9), pl.UInt64())
    batch.run(EXAMPLE / "referentiel", source, str(out), "ndjson")
    got = {d["id"]: d for d in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert got[10]["dette_recuperee_cts"] == got[9]["dette_creee_cts"] > 0


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    from caisse.rules.claims import spark as spark_runner

    if shutil.which("java") is None:
        pytest.skip("Java is not available: Spark cannot start")
    try:
        session = spark_runner.local_session(partitions=2, cores=2, app="caisse-test-review")
        session.sparkContext.setLogLevel("ERROR")
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Spark could not start: {type(exc).__name__}: {exc}")
    yield session
    session.stop()


@NEEDS_EXAMPLE
def test_spark_uint64_ids_in_numeric_order_as_in_memory(spark: Any, tmp_path: Path) -> None:
    """Spark reads a UInt64 Parquet column as decimal(20,0): ``batch.feuille_frame`` then sees no
    integer column, gives no ``_id_entier``, and Spark's groups order "10" before "9", while the
    in-memory reader (UInt64 is an integer dtype) orders 9 before 10."""
    from caisse.rules.claims import spark as spark_runner
    from caisse.rules.claims.referentiel import load_referentiel

    folder = tmp_path / "flux"
    _parquet_flow(folder, _two_feuilles(10, 9), pl.UInt64())
    ref_dir = EXAMPLE / "referentiel"
    f, lines = batch.read_feuilles(folder / "feuilles.parquet")
    d, _, _ = batch.liquidate_in_chunks(load_referentiel(ref_dir), f, lines, explanations=False, carry=False)
    # Written back in the input's type, as caisse liquider writes them.
    expected = batch._decomptes_table(d, pl.UInt64()).select("id", "dette_creee_cts", "dette_recuperee_cts").rows()
    assert expected == [(10, 0, 100), (9, 100, 0)]  # in memory: 9 before 10
    got = spark_runner.liquidate_spark_polars(spark, ref_dir, folder, partitions=2, explanations=False)
    assert got[0].select("id", "dette_creee_cts", "dette_recuperee_cts").rows() == expected


# --- 03ce2c7: tarif d'autorité ----------------------------------------------------------------

NIR = "1800175000001"


def _ref(professionnels: list[dict[str, Any]]) -> Referentiel:
    return Referentiel.from_records([_beneficiaire({"nir": NIR})], PROFESSIONNELS + professionnels, NOMENCLATURE)


def test_tarif_autorite_explanation_gives_the_unit_amount_with_the_quantity() -> None:
    """The base sentence reads "<amount> pour G, quantité 2, coefficient 1", as the conventional
    one reads "G au tarif de <unit tariff>, quantité 2": the amount must be the tarif d'autorité of
    one consultation (0,61 €, the parameter), not the line's total (1,22 €), which the reader
    would multiply by the quantity again (and compare with the unit tarif conventionnel)."""
    ref = _ref([{"id": "MG3", "profession": "medecin", "specialite": "medecine_generale", "secteur": 3,
                 "conventionne": False}])
    feuille = _feuille({"id": "F1", "nir": NIR, "executant": "MG3",
                        "lignes": [{"code": "G", "date_soins": "2025-03-10", "quantite": 2, "montant_facture_cts": 10000}]})
    got, _ = liquidate_records(ref, [feuille])
    assert got[0]["lignes"][0]["base_remboursement_cts"] == 122  # 2 × 0,61 €
    assert "tarif d'autorité, 0,61 € pour G, quantité 2" in got[0]["explication"]



def test_forfait_actes_lourds_never_takes_the_whole_tarif_autorite_base() -> None:
    """The threshold of the forfait actes lourds is tested on the tarif d'autorité (``_act_tariff``
    with ``authority``) but the coefficient test is not: a K 60 (1,92 € × 60 = 115,20 €) by a
    non-conventionné surgeon has a base of 16 % = 18,43 €, reaches the coefficient threshold, and
    the forfait (capped at the base) replaces a ticket modérateur of 5,53 € by 18,43 €: the AMO
    pays 0, while the same act at coefficient 59 is paid 70 % (12,68 €). The forfait replaces the
    TM (rules.md A.1/A.6); it should not leave the AMO part below the rate's."""
    from caisse.rules.claims.tests.test_scenarios import _nomenclature

    nomenclature = _nomenclature([{"code": "K", "categorie": "acte_technique_medecin", "tarif_cts": 192,
                                   "debut": "2015-01-01"}])
    pros = [*PROFESSIONNELS, {"id": "CHIR3", "profession": "medecin", "specialite": "chirurgie", "secteur": 3,
                              "conventionne": False}]
    ref = Referentiel.from_records([_beneficiaire({"nir": NIR})], pros, nomenclature)
    feuille = _feuille({"id": "F1", "nir": NIR, "executant": "CHIR3", "lignes": [
        {"code": "K", "date_soins": "2025-03-10", "coefficient": 60, "montant_facture_cts": 20000}]})
    got, _ = liquidate_records(ref, [feuille])
    line = got[0]["lignes"][0]
    assert line["base_remboursement_cts"] == 1843  # 16 % of 115,20 €
    assert line["montant_amo_cts"] >= (line["base_remboursement_cts"] * 70 + 50) // 100


def test_a_null_conventionne_is_conventionne() -> None:
    """Only an explicit ``false`` makes a professional non-conventionné (a missing or null value is
    the usual case), in ``caisse liquider`` as in ``caisse importer`` (both read it through
    ``referentiel.conventionne_of``)."""
    ref = _ref([{"id": "MG9", "profession": "medecin", "specialite": "medecine_generale", "secteur": 1,
                 "conventionne": None}])
    feuille = _feuille({"id": "F1", "nir": NIR, "executant": "MG9", "lignes": [{"code": "G", "date_soins": "2025-03-10"}]})
    got, _ = liquidate_records(ref, [feuille])
    assert got[0]["lignes"][0]["base_remboursement_cts"] == 3000
