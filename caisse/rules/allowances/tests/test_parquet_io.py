"""``caisse ij`` reads Parquet as well as NDJSON, with the same results."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from caisse.rules.allowances.batch import run
from caisse.rules.allowances.schema import read_arrets

DATA = Path(__file__).parent / "data"


def test_parquet_input_gives_the_same_output_as_ndjson(tmp_path: Path) -> None:
    source = next(DATA.glob("ij_arrets*.ndjson"))
    read_arrets(source).drop("erreur", "motif_erreur").write_parquet(tmp_path / "arrets.parquet")
    run(source, str(tmp_path / "from_ndjson.ndjson"))
    run(tmp_path / "arrets.parquet", str(tmp_path / "from_parquet.ndjson"))
    assert (tmp_path / "from_parquet.ndjson").read_text() == (tmp_path / "from_ndjson.ndjson").read_text()


def test_parquet_output_keeps_the_periods_nested(tmp_path: Path) -> None:
    source = next(DATA.glob("ij_arrets*.ndjson"))
    run(source, str(tmp_path / "out.parquet"))
    out = pl.read_parquet(tmp_path / "out.parquet")
    assert out.height == len(source.read_text().splitlines())
    assert isinstance(out.schema["periodes"], pl.List)
