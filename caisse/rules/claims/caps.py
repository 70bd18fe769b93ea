"""Caps, payments and the assuré's debt: the sequential rules, vectorised.

Caps are consumed in the order of the contract (feuilles by ``date_reception`` then ``id``,
lines in feuille order). A greedy cap over an ordered group is a clipped cumulative sum:
``applied_i = min(cum_i, rest) - min(cum_{i-1}, rest)``, with ``rest`` the cap minus what the
carried counters already consumed. The daily cap is applied first, then the annual cap on what
is left; this equals the line-by-line "min(amount, daily rest, annual rest)" because a day never
straddles two years.

The debt of a feuille ``t`` is recovered on the assuré's *later* reimbursements (contract §2,
rules.md A.2): the reimbursement ``p_t`` due to the assuré first repays the debt left by the
feuilles before it, ``B_{t-1}``, then the debt ``c_t`` this feuille creates (under tiers payant,
or when a line's reimbursement is too small to absorb its deductions) is added:
``B_t = max(0, B_{t-1} - p_t) + c_t``. With ``D_t = B_t - c_t`` this is a Lindley recursion,
``D_t = max(0, D_{t-1} + c_{t-1} - p_t)`` (``c_0`` the carried debt, ``D_0 = 0``), computed
without a loop as ``D_t = S_t - min(0, min_{s<=t} S_s)`` with ``S`` the running sum of
``c_{t-1} - p_t``. The amount recovered on feuille ``t`` is ``B_{t-1} - D_t``.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TypeVar

import polars as pl

from caisse.rules.claims.counters import ANNUAL_SCHEMA, DAILY_SCHEMA, DEBT_SCHEMA, Counters
from caisse.rules.claims.frames import attach, attach_rows, collect, drop, is_small, packed_key, sort_key

EPOCH = dt.date(1970, 1, 1)
NO_PS = (1 << 22) - 1  # caps per person and day (transport): no professional in the key
KIND_CODES = {"transport": 0, "medicament": 1, "acte_paramedical": 2}
# Key of a franchise daily cap in the carried counters: the professional, or "" when the cap is
# per person and day (transport).
FR_CLE = pl.when(pl.col("_fr_par_ps")).then(pl.col("executant")).otherwise(pl.lit("")).alias("_fr_cle")


def _starts(*keys: str) -> pl.Expr:
    """True on the first row of each group of a frame sorted by ``keys``."""
    expr: pl.Expr = pl.lit(False)
    for k in keys:
        expr = expr | pl.col(k).ne_missing(pl.col(k).shift(1))
    return expr | (pl.int_range(pl.len()) == 0)


def _segment_cumsum(raw: pl.Expr, start: pl.Expr) -> pl.Expr:
    """Cumulative sum restarting at each group start (frame sorted by group): one global
    cumulative sum minus the running total at the group's start — no per-group window."""
    total = raw.cum_sum()
    offset = pl.when(start).then(total - raw).otherwise(None).forward_fill()
    return total - offset


def _greedy_sorted(raw: str, start: str, rest: pl.Expr) -> pl.Expr:
    cum = _segment_cumsum(pl.col(raw), pl.col(start))
    prev = cum - pl.col(raw)
    rest = rest.clip(lower_bound=0)
    capped = (pl.min_horizontal(cum, rest) - pl.min_horizontal(prev, rest)).clip(lower_bound=0)
    return pl.when(rest.is_null()).then(pl.col(raw)).otherwise(capped)


def _capped(
    df: pl.DataFrame, keys: list[str], caps: list[tuple[str, pl.Expr, str]], few_groups: bool = False
) -> pl.DataFrame:
    """Greedy caps per group ``keys``, consumed in ``_lid`` order: for each ``(raw, rest, out)``
    the amount ``raw`` within what is left of the cap, ``rest``.

    With ``few_groups`` (many lines per group, e.g. a person's year), a group whose total fits
    under its smallest ``rest`` is taken whole (no order needed) and only the groups where a cap
    binds are sorted and consumed line by line; otherwise (groups of one or two lines, where
    hashing costs more than sorting) everything is sorted. Rows come back in any order (the
    caller attaches them by ``_lid``)."""
    if not few_groups:
        return _consumed_in_order(df, keys, caps)
    totals = df.group_by(keys).agg(
        expr
        for i, (raw, rest, _) in enumerate(caps)
        for expr in (pl.col(raw).sum().alias(f"_total{i}"), rest.min().alias(f"_rest{i}"))
    )
    binds = pl.any_horizontal((pl.col(f"_total{i}") > pl.col(f"_rest{i}")).fill_null(False) for i in range(len(caps)))
    binding = totals.filter(binds).select(keys)
    if binding.height == 0:  # no cap binds: every group is taken whole
        return df.with_columns(pl.col(raw).alias(out) for raw, _, out in caps)
    free = df.join(binding, on=keys, how="anti").with_columns(pl.col(raw).alias(out) for raw, _, out in caps)
    return pl.concat([free, _consumed_in_order(df.join(binding, on=keys, how="semi"), keys, caps)])


def _consumed_in_order(df: pl.DataFrame, keys: list[str], caps: list[tuple[str, pl.Expr, str]]) -> pl.DataFrame:
    order = sort_key(df, [*keys, "_lid"])  # one exact Int64 sort key when the ranges allow
    ordered = drop(df.with_columns(order.alias("_ordre_cap")).sort("_ordre_cap"), "_ordre_cap") if order is not None else df.sort([*keys, "_lid"])
    return drop(
        ordered
        .with_columns(_starts(*keys).alias("_start"))
        .with_columns(_greedy_sorted(raw, "_start", rest).alias(out) for raw, rest, out in caps),
        "_start",
    )


def _rests(sub: Frame, daily: Frame, annual: Frame, counters: Counters, extra: tuple[pl.Expr, ...] = ()) -> Frame:
    """What is left of each cap on each line (``_*_reste_*``), from the carried counters
    (``daily`` and ``annual``, the counters' tables as frames of ``sub``'s kind), with the
    integer columns the caps read and the ``extra`` ones."""
    if counters.daily.height:
        pf_keys = ["nir", "executant", "date_soins"]
        fr_keys = ["nir", "_fr_cle", "date_soins", "_fr_kind"]
        pf_pre = (
            daily.filter(pl.col("kind") == "pf")
            .select("nir", pl.col("cle").alias("executant"), "date_soins", "cts")
            .join(sub.select(pf_keys).unique(), on=pf_keys, how="semi")
            .group_by(pf_keys)
            .agg(pl.col("cts").sum().alias("_pf_pre_jour"))
        )
        fr_pre = (
            daily.filter(pl.col("kind") != "pf")
            .select("nir", pl.col("cle").alias("_fr_cle"), "date_soins", pl.col("kind").alias("_fr_kind"), "cts")
            .join(sub.select(fr_keys).unique(), on=fr_keys, how="semi")
            .group_by(fr_keys)
            .agg(pl.col("cts").sum().alias("_fr_pre_jour"))
        )
        sub = sub.join(pf_pre, on=pf_keys, how="left").join(fr_pre, on=fr_keys, how="left")
    if counters.annual.height:
        sub = sub.join(
            annual.select(
                "nir",
                pl.col("annee").alias("_annee"),
                pl.col("participation_forfaitaire_cts").alias("_pf_pre_an"),
                pl.col("franchises_cts").alias("_fr_pre_an"),
            ),
            on=["nir", "_annee"],
            how="left",
        )

    def consumed(name: str, carried: int) -> pl.Expr:  # what the carried counters already consumed
        return pl.col(name).fill_null(0) if carried else pl.lit(0, dtype=pl.Int64)

    # Keep only integer columns for the four sorts.
    return sub.select(
        "_lid", "_nir_idx", "_ps_idx", "_cle_fr", "_jour", "_annee", "_pf_brut", "_fr_brut",
        (pl.col("_pf_plafond_jour") - consumed("_pf_pre_jour", counters.daily.height)).alias("_pf_reste_jour"),
        (pl.col("_fr_plafond_jour") - consumed("_fr_pre_jour", counters.daily.height)).alias("_fr_reste_jour"),
        (pl.col("_pf_plafond_an") - consumed("_pf_pre_an", counters.annual.height)).alias("_pf_reste_an"),
        (pl.col("_fr_plafond_an") - consumed("_fr_pre_an", counters.annual.height)).alias("_fr_reste_an"),
        *extra,
    )


def apply_caps(lines: pl.DataFrame, counters: Counters, daily: bool = True) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """Daily then annual caps of the participation forfaitaire and of the franchises.

    Adds ``participation_forfaitaire_cts`` and ``franchise_cts`` (and ``_pf_plafonnee`` /
    ``_fr_plafonnee`` for the explanation). Lines must be sorted in processing order.
    ``daily=False`` (counters not carried) skips this batch's daily
    consumption: it then comes back empty.
    """
    small = is_small(lines.height)
    if small:
        return _apply_caps_small(lines, counters, daily)
    annee = pl.col("date_soins").dt.year().cast(pl.Int32).alias("_annee")
    if not small:
        lines = lines.with_columns(annee)
    # Only the lines that owe something take part in the caps (a fraction of the flow).
    # Exact integer group keys (person, professional, day), cheaper to hash than strings.
    day = (pl.col("date_soins") - pl.lit(EPOCH)).dt.total_days()
    person = pl.col("_nir_idx") * (1 << 38)
    carried: list[str | pl.Expr] = (
        ["nir", "executant", "date_soins", FR_CLE, "_fr_kind"] if counters.daily.height or counters.annual.height else []
    )
    fr_cle = (
        pl.when(~pl.col("_fr_par_ps"))
        .then(NO_PS - pl.col("_fr_kind").replace_strict(KIND_CODES, default=len(KIND_CODES), return_dtype=pl.Int64))
        .otherwise(pl.col("_ps_idx"))
    )
    columns = [
        "_lid", *carried, annee if small else "_annee", "_pf_brut", "_fr_brut",
        "_pf_plafond_jour", "_fr_plafond_jour", "_pf_plafond_an", "_fr_plafond_an",
        "_nir_idx", "_ps_idx", fr_cle.alias("_cle_fr"), day.alias("_jour"),
    ]
    owes = (pl.col("_pf_brut") > 0) | (pl.col("_fr_brut") > 0)
    sub = _rests(collect(lines.lazy().filter(owes).select(columns), lines.height), counters.daily, counters.annual, counters)
    # Compact exact keys from the measured ranges (so that the key and the line number fit in
    # one sort column), else the wide fixed layout. Measured for a small batch too: the wide
    # layout holds only 2**25 persons, and a small batch may meet a large référentiel.
    k_pf = packed_key(sub, ["_nir_idx", "_ps_idx", "_jour"])
    k_fr = packed_key(sub, ["_nir_idx", "_cle_fr", "_jour"])
    k_an = packed_key(sub, ["_nir_idx", "_annee"])
    sub = drop(
        sub.with_columns(
            (k_pf if k_pf is not None else person + pl.col("_ps_idx") * (1 << 16) + pl.col("_jour")).alias("_k_pf"),
            (k_fr if k_fr is not None else person + pl.col("_cle_fr") * (1 << 16) + pl.col("_jour")).alias("_k_fr"),
            (k_an if k_an is not None else pl.col("_nir_idx") * (1 << 16) + pl.col("_annee")).alias("_k_an"),
        ),
        "_nir_idx", "_ps_idx", "_cle_fr", "_jour", "_annee",
    )
    sub = _capped(sub, ["_k_pf"], [("_pf_brut", pl.col("_pf_reste_jour"), "_pf_jour")])
    sub = _capped(sub, ["_k_fr"], [("_fr_brut", pl.col("_fr_reste_jour"), "_fr_jour")])
    sub = _capped(
        sub,
        ["_k_an"],
        [
            ("_pf_jour", pl.col("_pf_reste_an"), "participation_forfaitaire_cts"),
            ("_fr_jour", pl.col("_fr_reste_an"), "franchise_cts"),
        ],
        few_groups=True,
    )
    # The few lines whose annual cap cut the daily amount: the daily consumption carried to the
    # next batch is the amount before the annual cap, as the running sums within a batch read it.
    before_annual = None if not daily else sub.filter(
        (pl.col("participation_forfaitaire_cts") < pl.col("_pf_jour")) | (pl.col("franchise_cts") < pl.col("_fr_jour"))
    ).select("_lid", pl.col("_pf_jour").alias("_pf_avant_an"), pl.col("_fr_jour").alias("_fr_avant_an"))
    # Back to the lines: two columns only (their order is random with respect to the lines',
    # so each column costs a cache miss per line), the "cap reached" flags in the high bits.
    flags = 1 << 40
    sub = sub.select(
        "_lid",
        (
            pl.col("participation_forfaitaire_cts")
            + (pl.col("_pf_jour") < pl.col("_pf_brut")).cast(pl.Int64) * flags
            + (pl.col("participation_forfaitaire_cts") < pl.col("_pf_jour")).cast(pl.Int64) * (2 * flags)
        ).alias("_pf_cap"),
        (
            pl.col("franchise_cts")
            + (pl.col("_fr_jour") < pl.col("_fr_brut")).cast(pl.Int64) * flags
            + (pl.col("franchise_cts") < pl.col("_fr_jour")).cast(pl.Int64) * (2 * flags)
        ).alias("_fr_cap"),
    )
    if small:
        lines = lines.hstack(drop(sub.sort("_lid"), "_lid").get_columns())
    else:
        lines = attach_rows(lines, sub, "_lid")
    lines = lines.with_columns(pl.col("_pf_cap").fill_null(0), pl.col("_fr_cap").fill_null(0))
    lines = lines.with_columns(
        (pl.col("_pf_cap") % flags).alias("participation_forfaitaire_cts"),
        (pl.col("_fr_cap") % flags).alias("franchise_cts"),
        ((pl.col("_pf_cap") // flags) % 2 == 1).alias("_pf_plafond_jour_atteint"),
        (pl.col("_pf_cap") // (2 * flags) == 1).alias("_pf_plafond_an_atteint"),
        ((pl.col("_fr_cap") // flags) % 2 == 1).alias("_fr_plafond_jour_atteint"),
        (pl.col("_fr_cap") // (2 * flags) == 1).alias("_fr_plafond_an_atteint"),
    )
    lines = drop(lines, "_pf_cap", "_fr_cap")
    return lines, (_new_daily(lines, before_annual) if daily else _EMPTY_DAILY)


def _greedy_cum(raw: pl.Expr, cum: pl.Expr, rest: pl.Expr) -> pl.Expr:
    """The greedy cap of :func:`_greedy_sorted`, from the running sum ``cum`` of ``raw`` in its group."""
    prev = cum - raw
    rest = rest.clip(lower_bound=0)
    capped = (pl.min_horizontal(cum, rest) - pl.min_horizontal(prev, rest)).clip(lower_bound=0)
    return pl.when(rest.is_null()).then(raw).otherwise(capped)


_DAILY_RUNNING_SUMS = (
    pl.col("_pf_brut").cum_sum().over("_nir_idx", "_ps_idx", "_jour").alias("_pf_cum"),
    pl.col("_fr_brut").cum_sum().over("_nir_idx", "_cle_fr", "_jour").alias("_fr_cum"),
)
"""The running sums of the daily caps' groups (read by :func:`_capped_over`)."""


def _small_cap_inputs(carried: bool) -> list[str | pl.Expr]:
    """The columns a small batch's caps read (see :func:`apply_caps`), with the carried
    counters' string keys when there are counters to look up."""
    annee = pl.col("date_soins").dt.year().cast(pl.Int32).alias("_annee")
    day = (pl.col("date_soins") - pl.lit(EPOCH)).dt.total_days()
    kind: pl.Expr = pl.lit(len(KIND_CODES), dtype=pl.Int64)  # as ``replace_strict`` with a default (cheaper on a few rows)
    for name, code in reversed(KIND_CODES.items()):
        kind = pl.when(pl.col("_fr_kind") == name).then(pl.lit(code, dtype=pl.Int64)).otherwise(kind)
    fr_cle = pl.when(~pl.col("_fr_par_ps")).then(NO_PS - kind).otherwise(pl.col("_ps_idx"))
    keys: list[str | pl.Expr] = ["nir", "executant", "date_soins", FR_CLE, "_fr_kind"] if carried else []
    return [
        "_lid", *keys, annee, "_pf_brut",
        "_fr_brut", "_pf_plafond_jour", "_fr_plafond_jour", "_pf_plafond_an", "_fr_plafond_an",
        "_nir_idx", "_ps_idx", fr_cle.alias("_cle_fr"), day.alias("_jour"),
    ]


@functools.cache
def _small_cap_stages(carried: bool) -> tuple[list[str | pl.Expr], list[pl.Expr], list[list[pl.Expr]]]:
    """A small batch's caps as expressions, built once per kind of call (they read no data):
    the columns read, what is left of each cap when no counter is carried (as :func:`_rests`
    writes it), and the stages of :func:`_capped_over`."""
    rests = [
        *(pl.col(c) for c in ("_lid", "_nir_idx", "_ps_idx", "_cle_fr", "_jour", "_annee", "_pf_brut", "_fr_brut")),
        *((pl.col(f"_{k}_plafond_{p}") - pl.lit(0, dtype=pl.Int64)).alias(f"_{k}_reste_{p}")
          for p in ("jour",) for k in ("pf", "fr")),
        *((pl.col(f"_{k}_plafond_{p}") - pl.lit(0, dtype=pl.Int64)).alias(f"_{k}_reste_{p}")
          for p in ("an",) for k in ("pf", "fr")),
        *_DAILY_RUNNING_SUMS,
    ]
    return _small_cap_inputs(carried), rests, _capped_over_stages()


def _apply_caps_small(lines: pl.DataFrame, counters: Counters, daily: bool) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """:func:`apply_caps` for a small batch: every line (one owing nothing adds nothing to a
    running sum), in line order, in one plan whose expressions are built once."""
    carried = bool(counters.daily.height or counters.annual.height)
    columns, rests, stages = _small_cap_stages(carried)
    plan = lines.lazy().select(columns)
    if carried:
        plan = _rests(plan, counters.daily.lazy(), counters.annual.lazy(), counters, _DAILY_RUNNING_SUMS)
    else:
        plan = plan.select(rests)
    for i, exprs in enumerate(stages):
        plan = plan.select(exprs) if i == len(stages) - 1 else plan.with_columns(exprs)
    lines = lines.hstack(collect(plan, lines.height).get_columns())
    return lines, (_new_daily(lines) if daily else _EMPTY_DAILY)


_EMPTY_DAILY = pl.LazyFrame(schema=DAILY_SCHEMA)


def _capped_over_stages() -> list[list[pl.Expr]]:
    """The caps of a small batch whose rows are its lines in consumption order (``_lid``): the
    columns :func:`apply_caps` adds, each group consumed by a running sum over a window (the
    same greedy as the sorted path of a large batch, with fewer Polars calls). Each window is
    computed once, into a column (an expression is evaluated as often as it is referenced);
    the rows come with the daily ones (:data:`_DAILY_RUNNING_SUMS`). Two ``with_columns``
    stages, then the final ``select``."""
    person_year = ["_nir_idx", "_annee"]
    pf = _greedy_cum(pl.col("_pf_jour"), pl.col("_pf_cum"), pl.col("_pf_reste_an")).fill_null(0)
    fr = _greedy_cum(pl.col("_fr_jour"), pl.col("_fr_cum"), pl.col("_fr_reste_an")).fill_null(0)
    return [
        [
            _greedy_cum(pl.col("_pf_brut"), pl.col("_pf_cum"), pl.col("_pf_reste_jour")).alias("_pf_jour"),
            _greedy_cum(pl.col("_fr_brut"), pl.col("_fr_cum"), pl.col("_fr_reste_jour")).alias("_fr_jour"),
        ],
        [
            pl.col("_pf_jour").cum_sum().over(person_year).alias("_pf_cum"),
            pl.col("_fr_jour").cum_sum().over(person_year).alias("_fr_cum"),
        ],
        [
            pl.col("_annee"),
            pf.alias("participation_forfaitaire_cts"),
            fr.alias("franchise_cts"),
            (pl.col("_pf_jour") < pl.col("_pf_brut")).fill_null(False).alias("_pf_plafond_jour_atteint"),
            (pf < pl.col("_pf_jour")).fill_null(False).alias("_pf_plafond_an_atteint"),
            (pl.col("_fr_jour") < pl.col("_fr_brut")).fill_null(False).alias("_fr_plafond_jour_atteint"),
            (fr < pl.col("_fr_jour")).fill_null(False).alias("_fr_plafond_an_atteint"),
            # The daily amounts before the annual cap, carried to the next batch (_new_daily).
            pl.col("_pf_jour").alias("_pf_avant_an"),
            pl.col("_fr_jour").alias("_fr_avant_an"),
        ],
    ]


def _new_daily(lines: pl.DataFrame, before_annual: pl.DataFrame | None = None) -> pl.LazyFrame:
    """This batch's consumption of the daily caps, for the carried counters (lazy: only computed
    when carried): each line's amount within the daily cap *before* the annual cap (``_pf_avant_an``
    / ``_fr_avant_an`` where the annual cap cut it: on the lines of a small batch, in
    ``before_annual`` for a large one), so that a day split across batches is capped, and
    explained, as in one batch."""
    ok = lines.lazy().filter(pl.col("_ok"))
    if before_annual is not None:
        ok = ok.join(before_annual.lazy(), on="_lid", how="left")
    pf = pl.coalesce("_pf_avant_an", "participation_forfaitaire_cts")
    fr = pl.coalesce("_fr_avant_an", "franchise_cts")
    new_daily = pl.concat(
        [
            ok.filter(pf > 0).group_by("nir", "executant", "date_soins").agg(
                pf.sum().alias("cts")
            ).select("nir", pl.col("executant").alias("cle"), "date_soins", pl.lit("pf").alias("kind"), "cts"),
            ok.filter((fr > 0) & pl.col("_fr_plafond_jour").is_not_null())
            .with_columns(FR_CLE)
            .group_by("nir", "_fr_cle", "date_soins", "_fr_kind")
            .agg(fr.sum().alias("cts"))
            .select("nir", pl.col("_fr_cle").alias("cle"), "date_soins", pl.col("_fr_kind").alias("kind"), "cts"),
        ]
    ).cast(DAILY_SCHEMA)  # type: ignore[arg-type]
    return new_daily


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def line_payments(lines: Frame) -> Frame:
    """What the caisse pays for each line, the debt it creates and the C2S part (column
    expressions only: chained lazily by the engine)."""
    owed = pl.col("participation_forfaitaire_cts") + pl.col("franchise_cts")
    amo = pl.col("montant_amo_cts")
    tp = pl.col("tiers_payant")
    deducted = pl.when(tp).then(0).otherwise(pl.min_horizontal(owed, amo))
    return lines.with_columns(
        (amo - deducted).alias("montant_rembourse_cts"),
        (owed - deducted).alias("_dette_ligne"),
        pl.when(pl.col("_ok") & pl.col("_c2s"))
        .then(pl.col("base_remboursement_cts") - amo + pl.col("forfait_journalier_cts"))
        .otherwise(0)
        .alias("part_c2s_cts"),
    )


_FEUILLE_SUMS = {
    "montant_rembourse_cts": "montant_rembourse_cts",
    "part_c2s_cts": "part_c2s_cts",
    "_dette_ligne": "_c",
    "forfait_journalier_cts": "forfait_journalier_cts",
    "_ok": "_nb_ok",
}
_FEUILLE_COLUMNS = ("_pos", "_ordre", "_rejet_f", "id", "nir", "_nir_idx", "tiers_payant")


def _feuille_sums(lines: Frame) -> Frame:
    """Per feuille (``_fpos``), the sums of its lines. Lines are contiguous per feuille
    (processing order): sums are differences of running sums taken at each feuille's last line
    (no hash grouping)."""
    last = pl.col("_fpos").ne_missing(pl.col("_fpos").shift(-1))
    return (
        lines.select("_fpos", *(pl.col(c).cast(pl.Int64).cum_sum().alias(a) for c, a in _FEUILLE_SUMS.items()))
        .filter(last)
        .with_columns(pl.col(a) - pl.col(a).shift(1, fill_value=0) for a in _FEUILLE_SUMS.values())
    )


def _line_codes(lines: Frame) -> Frame:
    """Per feuille with a rejected line (``_fpos``), its lines' rejection codes."""
    return (
        lines.select("_fpos", "_rejet_l")
        .filter(pl.col("_rejet_l").is_not_null())
        .group_by("_fpos", maintain_order=True)
        .agg(pl.col("_rejet_l").unique(maintain_order=True).alias("_codes_lignes"))
    )


def _payments(liquidee: pl.Expr, counters: Counters) -> list[pl.Expr]:
    """What is paid on each feuille (its sums when it is liquidated), ``_p`` the reimbursement
    due to the assuré, and ``_b0`` the carried debt when there is none to join."""
    zero = pl.lit(0, dtype=pl.Int64)

    def paid(c: str) -> pl.Expr:
        return pl.when(liquidee).then(pl.col(c)).otherwise(zero)

    tp = pl.col("tiers_payant").fill_null(False)
    return [
        *(paid(c).alias(c) for c in ("montant_rembourse_cts", "part_c2s_cts", "_c", "forfait_journalier_cts")),
        pl.when(tp).then(zero).otherwise(paid("montant_rembourse_cts")).alias("_p"),
        *(() if counters.debt.height else (zero.alias("_b0"),)),
    ]


def _rejection(all_dup: pl.Series) -> tuple[pl.Expr, pl.Expr]:
    """The feuille's rejection (a feuille of duplicate acts only is a duplicate) and whether it
    is liquidated."""
    rejet_f = pl.when(pl.col("_pos").is_in(all_dup.implode())).then(pl.lit("DOUBLON")).otherwise(pl.col("_rejet_f"))
    return rejet_f, rejet_f.is_null() & (pl.col("_nb_ok").fill_null(0) > 0)


def feuille_payments(
    f: pl.DataFrame, lines: pl.DataFrame, counters: Counters, all_dup: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One décompte per feuille (input order) and the debt per person after the batch."""
    any_rejected = lines.get_column("_rejet_l").null_count() < lines.height  # usually no line is
    if is_small(lines.height):
        return _feuille_payments_small(f, lines, counters, all_dup, any_rejected)
    codes = (
        _line_codes(lines)
        if any_rejected
        else pl.DataFrame(schema={"_fpos": pl.Int64(), "_codes_lignes": pl.List(pl.String())})
    )
    agg = attach(_feuille_sums(lines).rename({"_fpos": "_pos"}), codes.rename({"_fpos": "_pos"}), "_pos")
    d = attach(f.select(_FEUILLE_COLUMNS), agg, "_pos")
    rejet_f, liquidee = _rejection(all_dup)
    d = d.with_columns(rejet_f.alias("_rejet_f"), liquidee.alias("_liquidee"))
    # Debt: Lindley recursion per person, in processing order, from the carried debt (``_b0``).
    d = d.with_columns(_payments(pl.col("_liquidee"), counters))
    if counters.debt.height:
        d = d.join(counters.debt.rename({"dette_cts": "_b0"}), on="nir", how="left").with_columns(
            pl.col("_b0").fill_null(0)
        )
    d, debt = _debt_sorted(d)
    return collect(_decomptes(d.lazy()), d.height), debt


def _feuille_payments_small(
    f: pl.DataFrame, lines: pl.DataFrame, counters: Counters, all_dup: pl.Series, any_rejected: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`feuille_payments` for a small batch, in one plan: joins in feuille order, the
    debt by windows per person (each window computed once, into a column), then the décomptes
    in input order; each person's debt after the batch is read from the same rows. The
    expressions read no data (but the feuilles of duplicate acts, usually none): built once
    per kind of call."""
    persons = f.get_column("_nir_idx").to_list()
    alone = len(set(persons)) == len(persons)  # each person once (always, in real time): no window
    if all_dup.len():
        rejet_f, liquidee = _rejection(all_dup)
        stages = _small_payment_stages(rejet_f, liquidee, bool(counters.debt.height), alone)
    else:
        stages = _small_payment_stages_cached(bool(counters.debt.height), alone)
    sums = lines.lazy().select(stages.sums).filter(stages.last).with_columns(stages.diffs)
    d = f.lazy().select(_FEUILLE_COLUMNS).join(sums, left_on="_pos", right_on="_fpos", how="left", maintain_order="left")
    if any_rejected:
        codes = lines.lazy().select("_fpos", "_rejet_l").filter(pl.col("_rejet_l").is_not_null())
        codes = codes.group_by("_fpos", maintain_order=True).agg(stages.codes)
        d = d.join(codes, left_on="_pos", right_on="_fpos", how="left", maintain_order="left")
    else:
        d = d.with_columns(stages.no_codes)
    d = d.with_columns(stages.payments)
    if counters.debt.height:
        d = d.join(counters.debt.lazy().rename({"dette_cts": "_b0"}), on="nir", how="left").with_columns(
            pl.col("_b0").fill_null(0)
        )
    if not alone:
        d = d.sort(stages.person_order, "_ordre")
    for exprs in stages.debt:
        d = d.with_columns(exprs)
    rows = collect(d.sort("_pos").with_columns(stages.decompte), f.height)
    # Each person's debt: the rows ending a person in (person, processing) order, by person.
    end = rows.get_column("_fin")
    person = rows.get_column("_nir_idx").filter(end)
    order = person.arg_sort()
    debt = pl.DataFrame([
        rows.get_column("nir").filter(end).gather(order).cast(DEBT_SCHEMA["nir"]),
        rows.get_column("_b").filter(end).gather(order).cast(DEBT_SCHEMA["dette_cts"]).alias("dette_cts"),
    ])
    return drop(rows, "_b", "_d", "_fin"), debt


class _PaymentStages:
    """The expressions of :func:`_feuille_payments_small` (see there)."""

    def __init__(self, rejet_f: pl.Expr, liquidee: pl.Expr, carried_debt: bool, alone: bool) -> None:
        last = pl.col("_fpos").ne_missing(pl.col("_fpos").shift(-1))
        self.sums = [pl.col("_fpos"), *(pl.col(c).cast(pl.Int64).cum_sum().alias(a) for c, a in _FEUILLE_SUMS.items())]
        self.last = last
        self.diffs = [pl.col(a) - pl.col(a).shift(1, fill_value=0) for a in _FEUILLE_SUMS.values()]
        self.codes = [pl.col("_rejet_l").unique(maintain_order=True).alias("_codes_lignes")]
        self.no_codes = [pl.lit(None, dtype=pl.List(pl.String())).alias("_codes_lignes")]
        counters = Counters(debt=pl.DataFrame({"nir": ["x"], "dette_cts": [0]})) if carried_debt else Counters()
        self.payments = [rejet_f.alias("_rejet_f"), liquidee.alias("_liquidee"), *_payments(liquidee, counters)]
        person = "_nir_idx"
        self.person_order = pl.col(person).fill_null(-1)
        # ``_d``: the debt left once the feuille's reimbursement has repaid what the feuilles
        # before it left (module docstring); ``_b``: with the debt the feuille creates.
        if alone:  # each person's group is one row: its running sums, minimum and first value are its own
            self.debt = [
                [(pl.col("_b0") - pl.col("_p")).clip(lower_bound=0).alias("_d")],
                [
                    (pl.col("_d") + pl.col("_c")).alias("_b"),
                    pl.when(pl.col("_liquidee")).then(pl.col("_b0") - pl.col("_d")).otherwise(0).alias(
                        "dette_recuperee_cts"
                    ),
                    pl.col(person).is_not_null().alias("_fin"),
                ],
            ]
            self.decompte = _decompte_columns()
            return
        created_before = pl.col("_c").shift(1).over(person).fill_null(pl.col("_b0"))
        self.debt = [
            [(created_before - pl.col("_p")).cum_sum().over(person).alias("_d")],
            [(pl.col("_d") - pl.min_horizontal(pl.col("_d").cum_min().over(person), pl.lit(0))).alias("_d")],
            [(pl.col("_d") + pl.col("_c")).alias("_b")],
            [
                pl.when(pl.col("_liquidee"))
                .then(pl.col("_b").shift(1).over(person).fill_null(pl.col("_b0")) - pl.col("_d"))
                .otherwise(0)
                .alias("dette_recuperee_cts"),
                (pl.col(person).ne_missing(pl.col(person).shift(-1)) & pl.col(person).is_not_null()).alias("_fin"),
            ],
        ]
        self.decompte = _decompte_columns()


def _small_payment_stages(rejet_f: pl.Expr, liquidee: pl.Expr, carried_debt: bool, alone: bool) -> _PaymentStages:
    return _PaymentStages(rejet_f, liquidee, carried_debt, alone)


@functools.cache
def _small_payment_stages_cached(carried_debt: bool, alone: bool) -> _PaymentStages:
    """The stages when no feuille is made of duplicate acts only (the rejection then reads no data)."""
    return _PaymentStages(*_rejection(pl.Series("_fpos", [], dtype=pl.Int64)), carried_debt, alone)


def _debt_sorted(d: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The amount of debt recovered on each feuille (``dette_recuperee_cts``) and each person's
    debt after the batch, by the Lindley recursion in processing order."""
    zero = pl.lit(0, dtype=pl.Int64)
    # Sorted by person then processing order (only the integer columns travel); per-person
    # running sums and minima without windows (see below).
    by_person = d.select(pl.col("_nir_idx").fill_null(-1), "_ordre")
    packed = sort_key(by_person, ["_nir_idx", "_ordre"])
    order = (
        by_person.select(packed.arg_sort())
        if packed is not None
        else by_person.select(pl.arg_sort_by("_nir_idx", "_ordre"))
    ).to_series()
    full = d
    # x_t = c_{t-1} - p_t, the carried debt standing for c_0 (module docstring).
    d = d.select("_nir_idx", "_c", "_p", "_b0", "_liquidee")[order].with_columns(_starts("_nir_idx").alias("_start"))
    d = d.with_columns(
        (pl.when(pl.col("_start")).then(pl.col("_b0")).otherwise(pl.col("_c").shift(1)) - pl.col("_p")).alias("_x"),
        pl.col("_start").cum_sum().cast(pl.Int64).alias("_g"),
    )
    d = d.with_columns(_segment_cumsum(pl.col("_x"), pl.col("_start")).alias("_s"))
    # Each person's running minimum in one pass: person g's sums are lowered by g × big, below
    # every earlier person's, so a global running minimum never reaches back. Exact when big
    # exceeds twice any running sum (bounded by the sum of |x|) and g × big fits in Int64;
    # otherwise (amounts of billions of euros) a window per person.
    bound = float(d.get_column("_x").cast(pl.Float64).abs().sum())
    big = 1 << max(40, int(2 * bound + 1).bit_length())
    groups = int(d.get_column("_g").max() or 0) + 1  # type: ignore[arg-type]
    if float(groups) * big + bound < 2.0**62:
        running_min = (pl.col("_s") - pl.col("_g") * big).cum_min() + pl.col("_g") * big
    else:
        running_min = pl.col("_s").cum_min().over("_g")
    d = d.with_columns((pl.col("_s") - pl.min_horizontal(running_min, pl.lit(0))).alias("_d"))
    d = d.with_columns((pl.col("_d") + pl.col("_c")).alias("_b"))
    d = d.with_columns(
        pl.when(pl.col("_liquidee"))
        .then(pl.when(pl.col("_start")).then(pl.col("_b0")).otherwise(pl.col("_b").shift(1)) - pl.col("_d"))
        .otherwise(zero)
        .alias("dette_recuperee_cts")
    )
    person_end = pl.col("_nir_idx").ne_missing(pl.col("_nir_idx").shift(-1)) & pl.col("_nir_idx").is_not_null()
    ends = d.with_columns(order.alias("_row")).filter(person_end)
    debt = pl.DataFrame(
        {"nir": full.get_column("nir").gather(ends.get_column("_row")), "dette_cts": ends.get_column("_b")}
    ).cast(DEBT_SCHEMA)  # type: ignore[arg-type]
    recovered = pl.repeat(0, d.height, dtype=pl.Int64, eager=True).scatter(order, d.get_column("dette_recuperee_cts"))
    return full.with_columns(recovered.alias("dette_recuperee_cts")), debt


def _decomptes(d: pl.LazyFrame) -> pl.LazyFrame:
    """The décomptes in input order, from the feuilles with their sums and debt recovered."""
    return d.sort("_pos").with_columns(_decompte_columns())


@functools.cache
def _decompte_columns() -> list[pl.Expr]:
    """The columns :func:`_decomptes` writes (built once: they read no data)."""
    tp = pl.col("tiers_payant").fill_null(False)
    zero = pl.lit(0, dtype=pl.Int64)
    rejets = (
        pl.when(pl.col("_rejet_f").is_not_null())
        .then(pl.concat_list(pl.col("_rejet_f")))
        .when(~pl.col("_liquidee"))
        .then(pl.col("_codes_lignes"))
        .otherwise(pl.lit([], dtype=pl.List(pl.String())))
    )
    return [
        pl.col("id"),
        pl.when(pl.col("_liquidee")).then(pl.lit("liquidee")).otherwise(pl.lit("rejetee")).alias("statut"),
        rejets.alias("rejets"),
        pl.when(pl.col("_rejet_f").is_not_null())
        .then(pl.lit(None, dtype=pl.String()))
        .when(tp)
        .then(pl.lit("ps"))
        .otherwise(pl.lit("assure"))
        .alias("destinataire"),
        pl.when(tp).then(pl.col("montant_rembourse_cts") + pl.col("part_c2s_cts")).otherwise(zero).alias("paiement_ps_cts"),
        pl.when(tp)
        .then(zero)
        .otherwise(pl.col("_p") - pl.col("dette_recuperee_cts") + pl.col("part_c2s_cts"))
        .alias("paiement_assure_cts"),
        pl.col("_c").alias("dette_creee_cts"),
    ]


def update_counters(
    old: Counters, new_daily_lazy: pl.LazyFrame, debt: pl.DataFrame, f: pl.DataFrame, lines: pl.DataFrame
) -> Counters:
    """The counters after this batch (old state plus this batch's consumption)."""
    new_daily = new_daily_lazy.collect()
    ok = lines.select("nir", "executant", "code", "date_soins", "_annee", "participation_forfaitaire_cts", "franchise_cts", "_ok").filter(
        pl.col("_ok")
    )
    annual_new = ok.group_by("nir", "_annee").agg(
        pl.col("participation_forfaitaire_cts").sum(), pl.col("franchise_cts").sum().alias("franchises_cts")
    ).rename({"_annee": "annee"}).cast(ANNUAL_SCHEMA)  # type: ignore[arg-type]
    annual = (
        pl.concat([old.annual, annual_new])
        .group_by("nir", "annee")
        .agg(pl.col("participation_forfaitaire_cts").sum(), pl.col("franchises_cts").sum())
    )
    # Appended without re-aggregating (the readers aggregate only the keys of their chunk), so
    # that carrying the counters costs O(chunk), not O(flow), per chunk.
    daily = pl.concat([old.daily, new_daily], rechunk=False)
    debt_all = pl.concat([old.debt.join(debt, on="nir", how="anti"), debt])
    ids = pl.concat([old.seen_ids, f.select("id").filter(pl.col("id").is_not_null())], rechunk=False)
    acts = pl.concat([old.seen_acts, ok.select("nir", "executant", "code", "date_soins")], rechunk=False)
    return Counters(annual=annual, debt=debt_all, daily=daily, seen_ids=ids, seen_acts=acts)
