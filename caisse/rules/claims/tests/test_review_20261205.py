"""Review of 3e127e7 (integer ids in numeric order) and 03ce2c7 (tarif d'autorité): failing
cases found by the review (each test names the path and the expected behaviour)."""

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
def test_uint64_parquet_ids_beyond_int64_are_processed_in_numeric_order(tmp_path: Path) -> None:
    """An integer (UInt64) Parquet id column is ordered as numbers (README: "an integer Parquet
    column ... as numbers"), but ids above Int64's range get a null ``_id_entier``
    (``batch.feuille_frame`` casts with strict=False) and fall back to text order:
    10000000000000000000 ("1...") is processed before 9300000000000000000 ("9...")."""
    small, large = 9_300_000_000_000_000_000, 10_000_000_000_000_000_000
    source = _parquet_flow(tmp_path / "flux", _two_feuilles(large, small), pl.UInt64())
    out = tmp_path / "out.ndjson"
    batch.run(EXAMPLE / "referentiel", source, str(out), "ndjson")
    got = {d["id"]: d for d in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    # small < large as numbers: the smaller id (tiers payant) leaves the debt, the larger recovers it.
    assert got[small]["dette_creee_cts"] > 0
    assert got[large]["dette_recuperee_cts"] == got[small]["dette_creee_cts"]


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
    expected = batch._decomptes_table(d).select("id", "dette_creee_cts", "dette_recuperee_cts").rows()
    assert expected == [("10", 0, 100), ("9", 100, 0)]  # in memory: 9 before 10
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


@NEEDS_EXAMPLE
@pytest.mark.django_db
def test_secteur_given_as_text_same_amounts_in_daily_run_as_liquider(tmp_path: Path) -> None:
    """Contract §7: the persistent path gives the amounts of ``caisse liquider`` on the same files.
    A professional ``"secteur": "3"`` (text) is secteur 3 for ``importer`` (``int(...)``), hence
    paid on the tarif d'autorité in the daily run, but ``Referentiel.from_records`` drops a
    non-integer secteur (None): ``caisse liquider`` pays the tarif conventionnel."""
    from caisse.claims import services
    from caisse.claims.tests.helpers import TODAY, import_folder, read_ndjson, write_ndjson

    ref = tmp_path / "referentiel"
    shutil.copytree(EXAMPLE / "referentiel", ref)
    pros = read_ndjson(ref / "professionnels.ndjson")
    pros = [{**p, "secteur": "3"} if p["id"] == "10000000000" else p for p in pros]
    write_ndjson(ref / "professionnels.ndjson", pros)
    feuilles = [f for f in read_ndjson(EXAMPLE / "feuilles.ndjson") if f.get("executant") == "10000000000"]
    assert feuilles
    flow = write_ndjson(tmp_path / "feuilles.ndjson", feuilles)

    liquider = tmp_path / "liquider.ndjson"
    batch.run(ref, flow, str(liquider), "ndjson")
    import_folder(ref)
    services.receive_flow(flow, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    out = tmp_path / "export.ndjson"
    services.export_decomptes(str(out), quiet=True)

    def bases(rows: list[dict[str, Any]]) -> dict[Any, list[int]]:
        return {r["id"]: [line["base_remboursement_cts"] for line in r["lignes"]] for r in rows}

    assert bases(read_ndjson(out)) == bases(read_ndjson(liquider))
