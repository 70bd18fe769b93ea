"""Contract §7: the persistent path gives the amounts of ``caisse liquider`` on the same files,
professionals' fields included (``secteur`` as text, read alike by both)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from caisse.rules.claims import batch
from caisse.rules.claims.tests.test_examples import EXAMPLE

NEEDS_EXAMPLE = pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")


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
