"""Limits that look at the other arrêts of the same person (same ``nir``) in the batch.

- ALD (R323-1, L323-1): one délai de carence for the arrêts of an ALD within 3 years, counted from
  the first one, and IJ for at most 3 years from that first arrêt, date to date. The first arrêt
  is the earliest ALD arrêt of the nir in the batch, or the date given in the optional
  ``date_premier_arret_ald`` field (history known to the persistent system), whichever is earlier;
  a year of resumed work between two ALD arrêts opens a new period.
- Non-ALD maladie (R323-1): at most 360 IJ over any sliding period of 3 years. Days are granted in
  the order of the arrêts; once the limit is reached inside an arrêt, the rest of it is unpaid.
  Only the few people whose arrêts add up to more than 360 days need the day-by-day check.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, insort

import polars as pl


def years_before(day: dt.date, years: int) -> dt.date:
    """Same day ``years`` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def years_after(day: dt.date, years: int) -> dt.date:
    """Same day ``years`` later (29 February → 28 February), as Polars' ``offset_by``."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def offset_by(frame: pl.DataFrame, when: pl.Expr, amount: str, unit: str) -> pl.Expr:
    """``when`` moved by the value of column ``amount`` in ``unit`` (``mo``, ``y``): calendar
    arithmetic, end of month clamped. A single value in the frame (the usual case) avoids building
    one offset string per row."""
    values = frame.get_column(amount).drop_nulls().unique()
    if values.len() <= 1:
        return when.dt.offset_by(f"{int(values[0]) if values.len() else 0}{unit}")
    return when.dt.offset_by(pl.format("{}" + unit, pl.col(amount)))


def _resumed_for(last_end: dt.date, debut: dt.date, years: int) -> bool:
    """Whether the work resumed the day after ``last_end`` lasted ``years`` before ``debut``."""
    try:
        return years_after(last_end + dt.timedelta(days=1), years) <= debut
    except (OverflowError, ValueError):  # beyond year 9999: no later arrêt
        return False


def ald_start(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``_ald_debut``: start of the 3-year ALD period each ALD maladie arrêt belongs to.

    The first period starts at the nir's first ALD arrêt (or ``date_premier_arret_ald``). When the
    batch holds several ALD arrêts of the nir, they are walked in date order: an arrêt starting
    after at least a year of resumed work since the end of the previous one
    (``ij.maladie.ald_reprise_nouvelle_periode``) opens a new period, any other stays in the
    current one — beyond its 3 years it is not paid (L323-1, R323-1). A lone arrêt starting 3
    years or more after ``date_premier_arret_ald`` opens a new period: the history gives only the
    first arrêt's date, and 3 years of IJ at most have been paid since."""
    is_ald = (pl.col("risque") == "maladie") & pl.col("ald") & pl.col("_valide")
    own = pl.min_horizontal(pl.col("date_premier_arret_ald"), pl.col("date_debut"))
    firsts = frame.filter(is_ald & pl.col("nir").is_not_null()).group_by("nir").agg(_ald_premier=own.min())
    frame = frame.join(firsts, on="nir", how="left", maintain_order="left")
    first = pl.min_horizontal(pl.col("_ald_premier"), own)
    period_end = offset_by(frame, first, "_annees_carence_ald", "y")
    late = pl.col("date_debut") >= period_end
    start = pl.when(late).then(pl.col("date_debut")).otherwise(first)
    frame = frame.with_columns(_ald_debut=pl.when(is_ald).then(start).otherwise(None)).drop("_ald_premier")
    # The nirs with two or more ALD arrêts: the few whose periods depend on the gaps between them.
    several = (
        frame.filter(is_ald.fill_null(False) & pl.col("nir").is_not_null())
        .group_by("nir")
        .len()
        .filter(pl.col("len") >= 2)
        .get_column("nir")
    )
    if several.is_empty():
        return frame
    rows = (
        frame.filter(is_ald.fill_null(False) & pl.col("nir").is_in(several.implode()))
        .sort(["nir", "date_debut", "_row"])
        .select("_row", "nir", "date_debut", "date_fin", "_ald_debut", "_annees_reprise_ald")
    )
    starts: dict[int, dt.date | None] = {}
    current_nir: str | None = None
    period: dt.date | None = None
    last_end = dt.date.min
    for row, nir, debut, fin, ald_debut, resumption in rows.iter_rows():
        if nir != current_nir:
            # The nir's first arrêt: its start is the first period's (earliest known arrêt).
            current_nir, period, last_end = nir, ald_debut, fin or debut
        else:
            if resumption is not None and _resumed_for(last_end, debut, resumption):
                period = debut
            last_end = max(last_end, fin or debut)
        starts[row] = period
    fixed = pl.DataFrame(
        {"_row": list(starts), "_ald_debut_chaine": list(starts.values())},
        schema={"_row": pl.UInt32, "_ald_debut_chaine": pl.Date},
    )
    return (
        frame.join(fixed, on="_row", how="left", maintain_order="left")
        .with_columns(_ald_debut=pl.coalesce("_ald_debut_chaine", "_ald_debut"))
        .drop("_ald_debut_chaine")
    )


def limit_360(frame: pl.DataFrame) -> pl.DataFrame:
    """Shorten ``_fin`` of non-ALD maladie arrêts beyond 360 IJ over 3 years; flag ``_coupe_360``."""
    concerned = (
        (pl.col("risque") == "maladie")
        & ~pl.col("ald")
        & pl.col("eligible")
        & (pl.col("_fin") >= pl.col("_debut"))
    )
    days = (pl.col("_fin") - pl.col("_debut")).dt.total_days() + 1
    # Without a nir, the arrêt stands alone: a plain cap on its own length.
    alone_end = pl.col("_debut") + pl.duration(days=pl.col("_max_ij") - 1)
    frame = frame.with_columns(
        _coupe_360=concerned & pl.col("nir").is_null() & (pl.col("_fin") > alone_end),
    ).with_columns(_fin=pl.when(pl.col("_coupe_360")).then(alone_end).otherwise(pl.col("_fin")))
    candidates = (
        frame.filter(concerned & pl.col("nir").is_not_null())
        .with_columns(_jours=days)
        .filter(pl.col("_jours").sum().over("nir") > pl.col("_max_ij"))
        .sort(["nir", "_debut", "_row"])
        .select("_row", "nir", "_debut", "_fin", "_max_ij", "_annees_max_ij")
    )
    if candidates.is_empty():
        return frame
    new_ends: dict[int, dt.date] = {}
    paid: list[int] = []
    current = None
    for row, nir, start, end, max_ij, years in candidates.iter_rows():
        if nir != current:
            current, paid = nir, []
        last = start - dt.timedelta(days=1)
        day = start
        while day <= end:
            window_start = years_before(day, years).toordinal() + 1
            if len(paid) - bisect_left(paid, window_start) >= max_ij:
                break
            insort(paid, day.toordinal())
            last = day
            day += dt.timedelta(days=1)
        if last < end:
            new_ends[row] = last
    if not new_ends:
        return frame
    cut = pl.DataFrame(
        {"_row": list(new_ends), "_fin_360": list(new_ends.values())},
        schema={"_row": pl.UInt32, "_fin_360": pl.Date},
    )
    return (
        frame.join(cut, on="_row", how="left", maintain_order="left")
        .with_columns(
            _coupe_360=pl.col("_coupe_360") | pl.col("_fin_360").is_not_null(),
            _fin=pl.coalesce("_fin_360", "_fin"),
        )
        .drop("_fin_360")
    )
