"""Vectorised identifiers: NIR (key, 2A/2B), Luhn (RPPS, SIREN, SIRET, FINESS), French IBAN.

All functions take and return numpy arrays (or polars Series for strings) so that a million
identifiers cost a few milliseconds. The key rules are those of ``reference/rules.md`` part E.
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: Real French bank codes and their BIC (used to build plausible, valid IBANs).
BANQUES: list[tuple[int, str]] = [
    (30004, "BNPAFRPP"),
    (30003, "SOGEFRPP"),
    (20041, "PSSTFRPPPAR"),
    (30002, "CRLYFRPP"),
    (10107, "BREDFRPP"),
    (18206, "AGRIFRPP882"),
    (30066, "CMCIFRPP"),
    (17515, "CEPAFRPP751"),
    (10278, "CMCIFR2A"),
    (16958, "QNTOFRP1"),
]


def nir_keys(n13: np.ndarray) -> np.ndarray:
    """Key of NIRs given as the integer of their 13 first characters (2A→19, 2B→18)."""
    return 97 - (n13.astype(np.int64) % 97)


def luhn_digit(payload: np.ndarray, length: int) -> np.ndarray:
    """Luhn check digit of ``length``-digit payloads (integers)."""
    total = np.zeros(payload.shape, dtype=np.int64)
    rest = payload.astype(np.int64).copy()
    for pos in range(length):
        digit = rest % 10
        rest //= 10
        if pos % 2 == 0:  # rightmost payload digit is doubled
            digit = digit * 2
            digit = np.where(digit > 9, digit - 9, digit)
        total += digit
    return (10 - total % 10) % 10


def with_luhn(payload: np.ndarray, length: int) -> np.ndarray:
    """Payload followed by its Luhn digit (``length`` + 1 digits)."""
    return payload.astype(np.int64) * 10 + luhn_digit(payload, length)


def zfill(values: np.ndarray, width: int, prefix: str = "") -> pl.Series:
    """Zero-padded decimal strings of integers, with an optional prefix."""
    s = pl.Series(values.astype(np.int64)).cast(pl.String).str.zfill(width)
    return (prefix + s) if prefix else s


def concat(*parts: pl.Series) -> pl.Series:
    """Row-wise concatenation of string Series."""
    frame = pl.DataFrame({f"c{i}": p for i, p in enumerate(parts)})
    return frame.select(pl.concat_str(frame.columns).alias("v")).to_series()


def choose(mask: np.ndarray, a: pl.Series | None, b: pl.Series | None) -> pl.Series:
    """Element-wise ``a if mask else b`` on Series (``None`` for nulls)."""
    n = len(mask)
    model = a if a is not None else b
    dtype = model.dtype if model is not None else pl.String
    sa = a if a is not None else pl.Series([None] * n, dtype=dtype)
    sb = b if b is not None else pl.Series([None] * n, dtype=dtype)
    frame = pl.DataFrame({"m": pl.Series(mask, dtype=pl.Boolean), "a": sa, "b": sb})
    return frame.select(pl.when(pl.col("m")).then(pl.col("a")).otherwise(pl.col("b"))).to_series()


def pick(mask: np.ndarray, values: pl.Series, index: np.ndarray) -> pl.Series:
    """``values[index]`` where ``mask``, null elsewhere; safe when ``values`` is empty (a small
    population may have no declaration, arrêt, employer… to point to)."""
    if len(values) == 0:
        return pl.Series([None] * len(mask), dtype=values.dtype)
    return choose(mask, values[pl.Series(np.maximum(index, 0))], None)


def siret_numbers(siren8: np.ndarray) -> np.ndarray:
    """14-digit SIRET (valid SIREN + NIC 0001k) from 8-digit SIREN payloads."""
    siren = with_luhn(siren8, 8)
    return with_luhn(siren * 10_000 + 1, 13)


def rib_keys(bank: np.ndarray, guichet: np.ndarray, account: np.ndarray) -> np.ndarray:
    """French RIB key: 97 − ((89·banque + 15·guichet + 3·compte) mod 97)."""
    return 97 - ((89 * bank + 15 * guichet + 3 * account) % 97)


def iban_fr(rng: np.random.Generator, n: int) -> tuple[pl.Series, pl.Series]:
    """``n`` valid French IBANs and their BIC."""
    which = rng.integers(0, len(BANQUES), n)
    bank = np.array([b for b, _ in BANQUES], dtype=np.int64)[which]
    guichet = rng.integers(0, 100_000, n, dtype=np.int64)
    account = rng.integers(0, 100_000_000_000, n, dtype=np.int64)
    rib = rib_keys(bank, guichet, account)
    r = bank % 97
    r = (r * 100_000 + guichet) % 97
    r = (r * 100_000_000_000 + account) % 97
    r = (r * 100 + rib) % 97
    r = (r * 1_000_000 + 152_700) % 97  # "FR" → 15 27, then "00"
    check = 98 - r
    iban = concat(zfill(check, 2, "FR"), zfill(bank, 5), zfill(guichet, 5), zfill(account, 11), zfill(rib, 2))
    bic = pl.Series([c for _, c in BANQUES])[pl.Series(which)]
    return iban, bic
