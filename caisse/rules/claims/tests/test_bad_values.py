"""A bad value never stops a batch (contract, conventions): numbers beyond Int64, NaN and
infinities, non-integral counts, dates not written ``YYYY-MM-DD`` are DONNEE_INVALIDE lines,
with the same verdict whether the flow comes as NDJSON or as Parquet."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caisse.rules.claims import batch
from caisse.rules.claims.engine import liquidate_records
from caisse.rules.claims.nomenclature import load_nomenclature, merge_nomenclatures, read_nomenclature
from caisse.rules.claims.referentiel import Referentiel
from caisse.rules.claims.tests.test_scenarios import PROFESSIONNELS, with_key

NIR = with_key("1800175000001")
REF = Referentiel.from_records(
    [{"nir": NIR, "date_naissance": "1980-01-01", "sexe": "M", "droits": [{"debut": "2015-01-01", "fin": None}]}],
    PROFESSIONNELS,
    load_nomenclature(),
)
GOOD_LINE = {"code": "G", "date_soins": "2025-06-10", "quantite": 1, "coefficient": 1, "montant_facture_cts": 3000}


def _feuilles(bad_line: dict[str, Any]) -> list[dict[str, Any]]:
    common = {"type": "FSE", "date_reception": "2025-06-20", "nir": NIR, "executant": "MG1", "tiers_payant": False}
    return [
        {"id": "OK1", **common, "lignes": [GOOD_LINE]},
        {"id": "BAD1", **common, "lignes": [{**GOOD_LINE, "date_soins": "2025-06-11", **bad_line}]},
    ]


BAD_LINES = {
    "quantité au-delà d'Int64": {"quantite": 10**19},
    "quantité démesurée": {"quantite": 10**16},
    "quantité non entière": {"quantite": 1.5},
    "coefficient 1e300": {"coefficient": 1e300},
    "coefficient entier au-delà des flottants": {"coefficient": 10**400},
    "coefficient NaN": {"coefficient": math.nan},
    "coefficient infini": {"coefficient": math.inf},
    "montant au-delà d'Int64": {"montant_facture_cts": 10**19},
    "montant non entier": {"montant_facture_cts": 2999.5},
    "montant en flottant hors Int64": {"montant_facture_cts": 1e19},
    "date sans tirets": {"date_soins": "20250611"},
    "date sans zéros": {"date_soins": "2025-6-11"},
}


@pytest.mark.parametrize("bad_line", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_a_bad_value_is_a_rejected_line_not_a_stopped_batch(bad_line: dict[str, Any]) -> None:
    got, _ = liquidate_records(REF, _feuilles(bad_line))
    assert [(d["id"], d["statut"], d["rejets"]) for d in got] == [
        ("OK1", "liquidee", []),
        ("BAD1", "rejetee", ["DONNEE_INVALIDE"]),
    ]


def _referentiel_folder(tmp_path: Path) -> Path:
    """A référentiel folder with the person and the professionals of :data:`REF`."""
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    (ref_dir / "beneficiaires.ndjson").write_text(
        json.dumps({"nir": NIR, "date_naissance": "1980-01-01", "sexe": "M", "droits": [{"debut": "2015-01-01", "fin": None}]}) + "\n",
        encoding="utf-8",
    )
    (ref_dir / "professionnels.ndjson").write_text("".join(json.dumps(p) + "\n" for p in PROFESSIONNELS), encoding="utf-8")
    return ref_dir


def _parquet_flow(folder: Path, bad_line: dict[str, Any]) -> None:
    """The same feuilles as Parquet files, each column typed as a producer of such values would
    type it (a float column when a value is a float, text for the dates)."""
    feuilles = _feuilles(bad_line)
    pl.DataFrame([{k: v for k, v in f.items() if k != "lignes"} for f in feuilles]).write_parquet(folder / "feuilles.parquet")
    lines = [{"feuille_id": f["id"], **line} for f in feuilles for line in f["lignes"]]
    columns: dict[str, pl.Series] = {}
    for name in lines[0]:
        values = [line[name] for line in lines]
        if any(isinstance(v, int) and not -(1 << 63) <= v < 1 << 63 for v in values):
            columns[name] = pl.Series(name, [float(v) if abs(v) < 1e308 else math.inf for v in values])
        elif any(isinstance(v, float) for v in values):
            columns[name] = pl.Series(name, [float(v) for v in values])
        else:
            columns[name] = pl.Series(name, values)
    pl.DataFrame(columns).write_parquet(folder / "lignes.parquet")


@pytest.mark.parametrize("bad_line", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_parquet_gives_the_ndjson_verdict(tmp_path: Path, bad_line: dict[str, Any]) -> None:
    ref_dir = _referentiel_folder(tmp_path)
    _parquet_flow(tmp_path, bad_line)
    batch.run(ref_dir, tmp_path / "feuilles.parquet", str(tmp_path / "out"), "parquet")
    got = pl.read_parquet(tmp_path / "out" / "decomptes.parquet").select("id", "statut", "rejets").rows()
    assert got == [("OK1", "liquidee", []), ("BAD1", "rejetee", ["DONNEE_INVALIDE"])]


NUMBERS = st.one_of(
    st.integers(min_value=-(1 << 70), max_value=1 << 70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.text(max_size=4),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quantite=NUMBERS, coefficient=NUMBERS, montant=NUMBERS)
def test_any_number_gives_one_decompte_per_feuille(quantite: Any, coefficient: Any, montant: Any) -> None:
    bad_line = {"quantite": quantite, "coefficient": coefficient, "montant_facture_cts": montant}
    got, _ = liquidate_records(REF, _feuilles(bad_line))
    assert [d["id"] for d in got] == ["OK1", "BAD1"]
    assert got[0]["statut"] == "liquidee"
    assert all(isinstance(line["montant_rembourse_cts"], int) for d in got for line in d["lignes"])


def test_a_whole_number_tariff_written_as_a_float_is_read(tmp_path: Path) -> None:
    path = tmp_path / "nomenclature.ndjson"
    path.write_text(
        json.dumps({"code": "ZF", "libelle": "", "categorie": "consultation_medecin", "tarif_cts": 1234.0, "debut": "2020-01-01"}) + "\n"
        + json.dumps({"code": "ZH", "libelle": "", "categorie": "consultation_medecin", "tarif_cts": 12.5, "debut": "2020-01-01"}) + "\n",
        encoding="utf-8",
    )
    assert read_nomenclature(path).select("code", "tarif_cts").rows() == [("ZF", 1234)]


def test_a_referentiel_tariff_keeps_the_shipped_history_before_it() -> None:
    base = load_nomenclature()
    far = base.get_column("fin").max()
    extra = pl.DataFrame(
        {"code": ["G"], "libelle": ["Consultation"], "categorie": ["consultation_medecin"], "tarif_cts": [3300],
         "debut": [dt.date(2026, 1, 1)], "fin": [far]},
        schema=base.schema,
    )
    shipped = base.filter(pl.col("code") == "G").select("tarif_cts", "debut").rows()
    merged = merge_nomenclatures(base, extra).filter(pl.col("code") == "G").select("tarif_cts", "debut", "fin").rows()
    assert merged[-1] == (3300, dt.date(2026, 1, 1), far)
    assert [row[:2] for row in merged[:-1]] == [row for row in shipped if row[1] < dt.date(2026, 1, 1)]
    assert merged[-2][2] == dt.date(2025, 12, 31)  # the shipped tariff in force ends the day before
    assert merge_nomenclatures(base, extra).filter(pl.col("code") == "C").equals(base.filter(pl.col("code") == "C"))


def test_ids_come_back_with_their_json_type(tmp_path: Path) -> None:
    ref_dir = _referentiel_folder(tmp_path)
    feuilles = _feuilles({"date_soins": "2025-06-12"})
    feuilles[0]["id"], feuilles[1]["id"] = 7, "8"
    flow = tmp_path / "feuilles.ndjson"
    flow.write_text("".join(json.dumps(f) + "\n" for f in [*feuilles, {**feuilles[0], "id": True}]), encoding="utf-8")
    batch.run(ref_dir, flow, str(tmp_path / "out.ndjson"), "ndjson")
    got = [json.loads(line) for line in (tmp_path / "out.ndjson").read_text(encoding="utf-8").splitlines()]
    assert [(d["id"], d["statut"]) for d in got] == [(7, "liquidee"), ("8", "liquidee"), (None, "rejetee")]
