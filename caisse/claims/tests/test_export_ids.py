"""``caisse exporter decomptes`` gives each ``id`` back with the JSON type it was received with, as
``caisse liquider`` does (contract §2: ``7`` stays ``7``, ``"7"`` stays ``"7"``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from caisse.claims import services
from caisse.claims.models import DuplicateReception, Feuille
from caisse.claims.tests.helpers import (
    EXAMPLE,
    NEEDS_EXAMPLE_DB,
    TODAY,
    import_folder,
    in_reception_order,
    read_ndjson,
    write_ndjson,
)
from caisse.rules.claims import batch

pytestmark = NEEDS_EXAMPLE_DB


def _flow(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Example feuilles, some with integer ids (and a repeated one, and an integer id as text)."""
    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")[:12]
    ids: list[Any] = [7, "8", 900000000000000000000, -3, "F-TEXT", 12, "7", 42, 0, "0042", 5, 7]
    records = [{**f, "id": ident} for f, ident in zip(feuilles, ids, strict=True)]
    return write_ndjson(tmp_path / "feuilles.ndjson", records), records


def test_integer_ids_come_back_as_integers_as_liquider_writes_them(tmp_path: Path) -> None:
    flow, records = _flow(tmp_path)
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(flow, quiet=True)
    # 7, "7" and 7 again are one id (as for liquider): one feuille, two duplicates, each record as received.
    duplicates = [r["id"] for r in DuplicateReception.objects.values_list("enregistrement", flat=True)]
    assert sorted(map(repr, duplicates)) in (["'7'", "7"], ["7", "7"])
    assert Feuille.objects.filter(identifiant="7").count() == 1
    assert Feuille.objects.get(identifiant="12").enregistrement["id"] == 12  # the received JSON, kept
    services.daily_run(None, today=TODAY, quiet=True)

    out = tmp_path / "export.ndjson"
    services.export_decomptes(str(out), quiet=True)
    got = read_ndjson(out)
    liquider = tmp_path / "liquider.ndjson"
    batch.run(EXAMPLE / "referentiel", flow, str(liquider), "ndjson")
    expected = in_reception_order(read_ndjson(liquider), records)
    assert got == expected
    assert [type(g["id"]) for g in got] == [type(e["id"]) for e in expected]  # 7 == 7.0 would hide a float
    by_text = {str(g["id"]): g["id"] for g in got if str(g["id"]) != "7"}
    assert by_text == {"8": "8", "900000000000000000000": 900000000000000000000, "-3": -3, "F-TEXT": "F-TEXT",
                       "12": 12, "42": 42, "0": 0, "0042": "0042", "5": 5}
    sevens = [(g["id"], g["rejets"] == ["DOUBLON"]) for g in got if str(g["id"]) == "7"]
    assert sorted(repr(i) for i, _ in sevens) == ["'7'", "7", "7"] and sum(not dup for _, dup in sevens) == 1
    # The same text as liquider's: the id as a JSON number, never a quoted one.
    assert '{"id":7,' in out.read_text().replace(" ", "") and '{"id":"8",' in out.read_text().replace(" ", "")


def test_a_parquet_flow_keeps_integer_ids_as_liquider_does(tmp_path: Path) -> None:
    import polars as pl

    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")[:4]
    folder = tmp_path / "pq"
    folder.mkdir()
    rows = [{**{k: v for k, v in f.items() if k != "lignes"}, "id": i + 1} for i, f in enumerate(feuilles)]
    pl.DataFrame(rows).write_parquet(folder / "feuilles.parquet")
    pl.DataFrame([{"feuille_id": i + 1, **line} for i, f in enumerate(feuilles) for line in f["lignes"]]).write_parquet(
        folder / "lignes.parquet")
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(folder, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    out = tmp_path / "export.ndjson"
    services.export_decomptes(str(out), quiet=True)
    liquider = tmp_path / "liquider.ndjson"
    batch.run(EXAMPLE / "referentiel", folder / "feuilles.parquet", str(liquider), "ndjson")
    got, expected = read_ndjson(out), read_ndjson(liquider)
    assert sorted(g["id"] for g in got) == sorted(e["id"] for e in expected) == [1, 2, 3, 4]


def test_integer_ids_are_processed_in_numeric_order_as_by_liquider(tmp_path: Path) -> None:
    """Feuille 9 (tiers payant) leaves a debt that feuille 10, received the same day, recovers:
    9 before 10, as ``caisse liquider`` orders integer ids, also in the daily run and the export."""
    from caisse.rules.claims.tests.test_integer_id_order import _two_feuilles

    records = _two_feuilles(10, 9)
    flow = write_ndjson(tmp_path / "feuilles.ndjson", records)
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(flow, quiet=True)
    assert sorted(Feuille.objects.values_list("identifiant", "identifiant_entier")) == [("10", 10), ("9", 9)]
    services.daily_run(None, today=TODAY, quiet=True)
    out = tmp_path / "export.ndjson"
    services.export_decomptes(str(out), quiet=True)
    liquider = tmp_path / "liquider.ndjson"
    batch.run(EXAMPLE / "referentiel", flow, str(liquider), "ndjson")
    got = read_ndjson(out)
    assert [g["id"] for g in got] == [9, 10]
    assert got == in_reception_order(read_ndjson(liquider), records)
    assert got[1]["dette_recuperee_cts"] == got[0]["dette_creee_cts"] > 0
