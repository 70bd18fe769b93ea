"""The simulated caisse reproduces the calibrated ratios (N = 20 000, tolerances below)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from caisse.simulation import calibration as cal
from caisse.simulation.claims import kind_shares
from caisse.simulation.generator import run

N = 20_000


@pytest.fixture(scope="module")
def caisse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim_calibration")
    run(N, 2025, 11, out, "parquet")
    return out


def test_kind_shares_sum_to_one() -> None:
    shares = kind_shares()
    assert abs(shares.sum() - 1) < 1e-9
    assert shares.max() == shares[0]  # pharmacy first, as in the Paris spending


@pytest.mark.slow
def test_ratios_match_the_seeds(caisse: Path) -> None:
    benef = pl.read_parquet(caisse / "referentiel" / "beneficiaires.parquet")
    feuilles = pl.read_parquet(caisse / "feuilles.parquet").unique("id", keep="first", maintain_order=True)
    arrets = pl.read_parquet(caisse / "arrets.parquet")
    contacts = pl.read_parquet(caisse / "contacts.parquet").filter(pl.col("public") == "assure")

    per_person = feuilles.height / N
    assert per_person == pytest.approx(cal.FEUILLES_PAR_BENEFICIAIRE, rel=0.08)
    assert (feuilles["type"] == "FSP").mean() == pytest.approx(cal.PART_FSP, abs=0.01)
    assert feuilles["tiers_payant"].mean() == pytest.approx(cal.PART_TIERS_PAYANT, abs=0.04)

    ald = (benef["ald"].list.len() > 0).mean()
    assert 0.17 <= ald <= 0.21
    c2s = (benef["c2s"].list.len() > 0).mean()
    assert c2s == pytest.approx(cal.PART_C2S_GRATUITE + cal.PART_C2S_PARTICIPATION, abs=0.02)
    ame = (benef["ame"].list.len() > 0).mean()
    assert ame == pytest.approx(cal.PART_AME, abs=0.01)
    assert (benef["droits"].list.len() == 0).sum() == (benef["ame"].list.len() > 0).sum()

    year = 2025
    ages = year - benef["date_naissance"].dt.year()
    assert 0.15 <= (ages < 18).mean() <= 0.22
    assert 0.13 <= (ages >= 65).mean() <= 0.21

    assert arrets.height / N == pytest.approx(cal.TAUX_ARRETS, rel=0.15)
    mean_days = (
        arrets.filter(pl.col("risque") == "maladie")
        .select((pl.col("date_fin").str.to_date() - pl.col("date_debut").str.to_date()).dt.total_days() + 1)
        .to_series()
        .mean()
    )
    assert mean_days == pytest.approx(cal.JOURS_PAR_ARRET, rel=0.2)
    expected_contacts = cal.TAUX_APPELS + cal.TAUX_COURRIELS + cal.TAUX_VISITES
    assert contacts.height / N == pytest.approx(expected_contacts, rel=0.1)
