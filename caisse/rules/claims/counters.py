"""State carried from one liquidation run to the next.

The annual caps, the daily caps, the assuré's debt and the duplicate checks depend on every claim
processed before. :class:`Counters` holds that state as small Polars tables, so that processing a
flow in chunks (in the order of the contract: ``date_reception`` then ``id``) with carried
counters gives exactly the result of one run on the whole flow. The persistent daily run stores
these tables; the batch command starts from ``compteurs.ndjson``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from caisse.rules.claims.frames import empty

ANNUAL_SCHEMA: dict[str, pl.DataType] = {
    "nir": pl.String(),
    "annee": pl.Int32(),
    "participation_forfaitaire_cts": pl.Int64(),
    "franchises_cts": pl.Int64(),
}
DEBT_SCHEMA: dict[str, pl.DataType] = {"nir": pl.String(), "dette_cts": pl.Int64()}
DAILY_SCHEMA: dict[str, pl.DataType] = {
    "nir": pl.String(),
    "cle": pl.String(),
    "date_soins": pl.Date(),
    "kind": pl.String(),
    "cts": pl.Int64(),
}
IDS_SCHEMA: dict[str, pl.DataType] = {"id": pl.String()}
ACTS_SCHEMA: dict[str, pl.DataType] = {
    "nir": pl.String(),
    "executant": pl.String(),
    "code": pl.String(),
    "date_soins": pl.Date(),
}


@dataclass
class Counters:
    """Amounts consumed and claims seen before the current run.

    - ``annual``: participation forfaitaire and franchises consumed per (nir, année civile);
    - ``debt``: the assuré's outstanding debt (PF and franchises not deducted yet);
    - ``daily``: amounts consumed per (nir, key, day, kind) for the daily caps (key = the
      professional, or "" for the transport cap which is per person and day);
    - ``seen_ids`` / ``seen_acts``: feuille ids and liquidated acts, for the DOUBLON check.

    ``daily``, ``seen_ids`` and ``seen_acts`` are append-only logs: a key may appear on several
    rows (the engine sums or de-duplicates the rows of the keys it needs), which keeps carrying
    them from chunk to chunk cheap.
    """

    annual: pl.DataFrame = field(default_factory=lambda: empty(ANNUAL_SCHEMA))
    debt: pl.DataFrame = field(default_factory=lambda: empty(DEBT_SCHEMA))
    daily: pl.DataFrame = field(default_factory=lambda: empty(DAILY_SCHEMA))
    seen_ids: pl.DataFrame = field(default_factory=lambda: empty(IDS_SCHEMA))
    seen_acts: pl.DataFrame = field(default_factory=lambda: empty(ACTS_SCHEMA))

    @classmethod
    def from_compteurs(cls, compteurs: pl.DataFrame) -> Counters:
        """From the référentiel's ``compteurs.ndjson`` table (contract §1)."""
        if compteurs.height == 0:
            return cls()
        annual = compteurs.group_by("nir", "annee").agg(
            pl.col("participation_forfaitaire_cts").sum(), pl.col("franchises_cts").sum()
        )
        debt = compteurs.group_by("nir").agg(pl.col("dette_cts").sum())
        return cls(
            annual=annual.cast(ANNUAL_SCHEMA),  # type: ignore[arg-type]
            debt=debt.cast(DEBT_SCHEMA),  # type: ignore[arg-type]
        )

    def to_compteurs(self) -> pl.DataFrame:
        """Back to the contract's ``compteurs`` shape (the debt is put on the latest year)."""
        last_year = self.annual.group_by("nir").agg(pl.col("annee").max())
        debt = self.debt.join(last_year, on="nir", how="left").with_columns(
            pl.col("annee").fill_null(0)
        )
        out = self.annual.join(debt, on=["nir", "annee"], how="full", coalesce=True)
        return out.with_columns(
            pl.col("participation_forfaitaire_cts").fill_null(0),
            pl.col("franchises_cts").fill_null(0),
            pl.col("dette_cts").fill_null(0),
        ).sort("nir", "annee")
