"""Property tests of the identifier checks (NIR/NIA with 2A/2B, IBAN, SIRET, RPPS)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schwifty import IBAN
from stdnum import luhn

from caisse.rules import identifiers
from caisse.rules.identifiers import InvalidIdentifier

departements = st.one_of(
    st.integers(1, 95).filter(lambda d: d != 20).map(lambda d: f"{d:02d}"),
    st.sampled_from(["2A", "2B", "99"]),
)


@st.composite
def nir_bodies(draw: st.DrawFn) -> str:
    sex = draw(st.sampled_from("1278"))
    year = draw(st.integers(0, 99))
    month = draw(st.integers(1, 12))
    dept = draw(departements)
    commune = draw(st.integers(1, 999))
    order = draw(st.integers(1, 999))
    return f"{sex}{year:02d}{month:02d}{dept}{commune:03d}{order:03d}"


@given(nir_bodies())
def test_a_nir_with_its_computed_key_is_valid(body: str) -> None:
    nir = body + identifiers.nir_key(body)
    assert identifiers.check_nir(nir) == nir


@given(nir_bodies(), st.integers(0, 12), st.integers(1, 9))
def test_changing_one_digit_breaks_the_key(body: str, position: int, delta: int) -> None:
    nir = body + identifiers.nir_key(body)
    if not nir[position].isdigit():
        return
    changed = nir[:position] + str((int(nir[position]) + delta) % 10) + nir[position + 1:]
    assert not identifiers.is_valid_nir(changed)


def test_corsica_uses_19_and_18_in_the_key() -> None:
    # rules.md E.1: "2A" is replaced by 19 and "2B" by 18 before the modulo.
    assert identifiers.nir_key("288122A015257") == f"{97 - int('2881219015257') % 97:02d}"
    assert identifiers.nir_key("288122B015257") == f"{97 - int('2881218015257') % 97:02d}"
    assert identifiers.is_valid_nir("288122A01525789")


def test_the_rules_md_worked_example() -> None:
    # 2 62 08 75 032 039 → 2620875032039 mod 97 = 20 → key 77.
    assert identifiers.nir_key("2620875032039") == "77"


@pytest.mark.parametrize(
    ("value", "message"),
    [("12345", "15 caractères"), ("987057503537478", "mal formé"), ("187057503537479", "clé")],
)
def test_bad_nirs_get_a_french_reason(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        identifiers.check_nir(value)


def test_nir_must_agree_with_sex_and_birth() -> None:
    assert identifiers.nir_matches_identity("187057503537478", dt.date(1987, 5, 22), "M")
    assert not identifiers.nir_matches_identity("187057503537478", dt.date(1987, 5, 22), "F")
    assert not identifiers.nir_matches_identity("187057503537478", dt.date(1988, 5, 22), "M")


@given(st.from_regex(r"\A[0-9]{23}\Z"))
def test_generated_french_ibans_are_valid_and_a_typo_is_caught(bban: str) -> None:
    iban = str(IBAN.generate("FR", bank_code=bban[:5], account_code=bban[10:21]).compact)
    assert identifiers.check_iban(iban) == iban
    typo = iban[:-1] + str((int(iban[-1]) + 1) % 10)
    with pytest.raises(InvalidIdentifier, match="IBAN invalide"):
        identifiers.check_iban(typo)


@given(st.from_regex(r"\A[0-9]{8}\Z"), st.from_regex(r"\A[0-9]{4}\Z"))
def test_siret_luhn(siren_body: str, nic_body: str) -> None:
    siren = siren_body + luhn.calc_check_digit(siren_body)
    body = siren + nic_body
    siret = body + luhn.calc_check_digit(body)
    if siret.startswith("356000000"):
        return  # La Poste's special rule is handled by python-stdnum
    assert identifiers.check_siret(siret) == siret
    bad = siret[:-1] + str((int(siret[-1]) + 1) % 10)
    with pytest.raises(InvalidIdentifier, match="SIRET"):
        identifiers.check_siret(bad)


@given(st.from_regex(r"\A[0-9]{10}\Z"))
def test_rpps_luhn(body: str) -> None:
    rpps = body + luhn.calc_check_digit(body)
    assert identifiers.check_rpps(rpps) == rpps
