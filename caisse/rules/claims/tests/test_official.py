"""The official medicines file (ANSM's CIS_CIP_bdpm.txt) read into the dated nomenclature, and
the priced presentations liquidated at their own rate (CSS art. R160-5, rules.md A.2)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caisse.batch_io import UnreadableFile
from caisse.rules.claims.engine import liquidate_records
from caisse.rules.claims.nomenclature import load_nomenclature, read_nomenclature
from caisse.rules.claims.official import (
    nomenclature_records,
    parse_price_cts,
    parse_rate,
    read_bdpm_presentations,
)
from caisse.rules.claims.referentiel import Referentiel
from caisse.rules.claims.tests.test_scenarios import PROFESSIONNELS, with_key

EFFECTIVE = dt.date(2026, 12, 1)
NBSP = "\u00a0"


def _row(cis: str, label: str, status: str, cip13: str, rate: str, price: str, *rest: str) -> str:
    """One presentation as the ANSM writes it: CIS, CIP7, label, status, marketing state, date,
    CIP13, approval for hospitals, rate, price, then total price, fees, indications."""
    return "\t".join([cis, cip13[5:12], label, status, "Déclaration de commercialisation", "16/03/2011",
                      cip13, "oui", rate, price, *rest])


BDPM_LINES = [
    _row("60002283", "plaquette(s) thermoformée(s) de 8 comprimé(s)", "Présentation active", "3400936030497",
         "65%", "1,78", "2,80", "1,02", ""),
    _row("60004487", "1 flacon(s) de 20 ml", "Présentation active", "3400930000011", f"100{NBSP}%", "1 150,40",
         "1 151,42", "1,02", ""),
    _row("60004932", "boîte de 1 stylo prérempli", "Présentation active", "3400930000028", "30 %", "1,150,40"),
    _row("60005123", "tube de 30 g", "Présentation active", "3400930000035", "15%", "3,05"),
    _row("60007777", "ancienne boîte de 30", "Présentation abrogée", "3400930000042", "65%", "4,20"),
    _row("60008888", "non remboursable", "Présentation active", "3400930000059", "", ""),
    _row("60009999", "homéopathie", "Présentation active", "3400930000066", "0%", "2,00"),
    _row("60001111", "code tronqué", "Présentation active", "34009300", "65%", "2,00"),
    _row("60002283", "plaquette(s) thermoformée(s) de 16 comprimé(s)", "Présentation active", "3400936030497",
         "65%", "2,18"),
    "60003333\t3000000\tligne coupée",
]


@pytest.fixture
def bdpm(tmp_path: Path) -> Path:
    path = tmp_path / "CIS_CIP_bdpm.txt"
    path.write_bytes(("\r\n".join(BDPM_LINES) + "\r\n").encode("cp1252"))  # the older files' encoding
    return path


def test_reimbursed_presentations_become_dated_codes_with_their_rate_and_price(bdpm: Path) -> None:
    rows, report = read_bdpm_presentations(bdpm, EFFECTIVE)
    got = {r["code"]: (r["categorie"], r["tarif_cts"], r["libelle"]) for r in rows.iter_rows(named=True)}
    assert got == {
        # A repeated CIP13: the last line is kept (and counted).
        "3400936030497": ("medicament_65", 218, "plaquette(s) thermoformée(s) de 16 comprimé(s)"),
        "3400930000011": ("medicament_100", 115040, "1 flacon(s) de 20 ml"),
        "3400930000028": ("medicament_30", 115040, "boîte de 1 stylo prérempli"),
        "3400930000035": ("medicament_15", 305, "tube de 30 g"),
    }
    assert set(rows.get_column("debut")) == {EFFECTIVE}
    assert report.kept == 4
    assert report.left_out == {
        "présentation abrogée": 1,
        "non remboursable (taux absent ou inconnu)": 2,
        "code CIP13 invalide": 1,
        "code CIP13 répété (dernière ligne retenue)": 1,
        "ligne incomplète": 1,
    }


def test_a_file_that_is_not_the_presentations_file_is_refused_in_french(tmp_path: Path) -> None:
    other = tmp_path / "CIS_bdpm.txt"
    other.write_text("60002283\tDOLIPRANE 1000 mg, comprimé\tcomprimé\torale\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="présentations de la base des médicaments"):
        read_bdpm_presentations(other, EFFECTIVE)
    with pytest.raises(UnreadableFile, match="Fichier illisible"):
        read_bdpm_presentations(tmp_path / "absent.txt", EFFECTIVE)


@given(st.integers(0, 10**9))
def test_prices_in_every_written_form_read_back_to_the_cent(cents: int) -> None:
    euros, rest = divmod(cents, 100)
    grouped = f"{euros:,}"  # 1,150
    for text in (f"{euros},{rest:02d}", f"{grouped.replace(',', ' ')},{rest:02d}",
                 f"{grouped},{rest:02d}", f"{grouped.replace(',', NBSP)},{rest:02d}", f"{euros}.{rest:02d}"):
        assert parse_price_cts(text) == cents, text


@given(st.text(max_size=12))
def test_price_parser_never_fails_and_never_invents_a_negative(text: str) -> None:
    value = parse_price_cts(text)
    assert value is None or value >= 0


def test_rates_are_read_with_or_without_a_space() -> None:
    assert [parse_rate(t) for t in ("65%", "65 %", f"100{NBSP}%", "100 %;65 %", "", "non")] == [65, 65, 100, 100, None, None]
    assert parse_price_cts("2,185") == 219  # half a cent rounds up


def test_written_ndjson_is_the_contract_nomenclature_and_liquidates_at_the_product_rate(bdpm: Path, tmp_path: Path) -> None:
    rows, _ = read_bdpm_presentations(bdpm, EFFECTIVE)
    path = tmp_path / "nomenclature.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in nomenclature_records(rows)), encoding="utf-8")
    assert read_nomenclature(path).equals(rows.sort("code", "debut"))
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["fin"] is None

    nomenclature = load_nomenclature(path)  # the shipped codes, extended by the file's
    nir = with_key("1800175000001")
    ref = Referentiel.from_records(
        [{"nir": nir, "date_naissance": "1980-01-01", "droits": [{"debut": "2015-01-01", "fin": None}]}],
        PROFESSIONNELS, nomenclature,
    )
    care = (EFFECTIVE + dt.timedelta(days=3)).isoformat()
    feuille = {
        "id": "F1", "type": "FSE", "date_reception": care, "nir": nir, "executant": "PHARMA1", "prescripteur": "MG1",
        "tiers_payant": True, "risque": "maladie", "parcours": "medecin_traitant", "en_rapport_ald": False,
        "carte_vitale": None,
        "lignes": [
            {"code": "3400936030497", "date_soins": care, "quantite": 2, "coefficient": 1, "montant_facture_cts": 436},
            {"code": "3400930000035", "date_soins": care, "quantite": 1, "coefficient": 1, "montant_facture_cts": 305},
            # Before the file's date the presentation has no tariff yet: unknown code.
            {"code": "3400930000011", "date_soins": (EFFECTIVE - dt.timedelta(days=1)).isoformat(), "quantite": 1,
             "coefficient": 1, "montant_facture_cts": 115040},
        ],
    }
    (decompte,), _ = liquidate_records(ref, [feuille])
    first, second, third = decompte["lignes"]
    assert (first["taux"], first["base_remboursement_cts"], first["montant_amo_cts"]) == (65, 436, 283)
    assert (second["taux"], second["base_remboursement_cts"]) == (15, 305)
    assert third["rejets"] == ["CODE_INCONNU"]
