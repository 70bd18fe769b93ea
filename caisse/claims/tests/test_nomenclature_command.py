"""``caisse nomenclature``: official files converted to the référentiel's dated nomenclature."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from caisse.cli import app
from caisse.rules.claims.tests.test_official import BDPM_LINES


@pytest.fixture
def bdpm(tmp_path: Path) -> Path:
    path = tmp_path / "CIS_CIP_bdpm.txt"
    path.write_bytes(("\r\n".join(BDPM_LINES) + "\r\n").encode("cp1252"))
    return path


def test_command_converts_the_official_files(bdpm: Path, tmp_path: Path) -> None:
    csv = tmp_path / "ngap.csv"
    csv.write_text("code;libelle;categorie;tarif_cts;debut;fin\nGX;Consultation test;consultation_medecin;3000;2026-01-01;\n",
                   encoding="utf-8")
    out = tmp_path / "ref" / "nomenclature.ndjson"
    result = CliRunner().invoke(app, ["nomenclature", "--bdpm", str(bdpm), "--csv", str(csv), "--date", "2026-12-01",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 présentation(s) remboursable(s) au 01/12/2026" in result.output
    assert "1 écartée(s) : présentation abrogée" in result.output
    codes = pl.read_ndjson(out).get_column("code").to_list()
    assert codes == ["3400930000011", "3400930000028", "3400930000035", "3400936030497", "GX"]

    refused = CliRunner().invoke(app, ["nomenclature", "--out", str(out)])
    assert refused.exit_code == 2 and "--bdpm ou --csv" in refused.output
    bad_date = CliRunner().invoke(app, ["nomenclature", "--bdpm", str(bdpm), "--date", "01/12/2026", "--out", str(out)])
    assert bad_date.exit_code == 2 and "Date d'effet invalide" in bad_date.output
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a;b\n1;2\n", encoding="utf-8")
    wrong = CliRunner().invoke(app, ["nomenclature", "--csv", str(bad_csv), "--out", str(out)])
    assert wrong.exit_code == 2 and "colonnes" in wrong.output
