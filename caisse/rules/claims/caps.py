"""Caps, payments and the assuré's debt: the sequential rules, vectorised.

Caps are consumed in the order of the contract (feuilles by ``date_reception`` then ``id``,
lines in feuille order). A greedy cap over an ordered group is a clipped cumulative sum:
``applied_i = min(cum_i, rest) - min(cum_{i-1}, rest)``, with ``rest`` the cap minus what the
carried counters already consumed. The daily cap is applied first, then the annual cap on what
is left; this equals the line-by-line "min(amount, daily rest, annual rest)" because a day never
straddles two years.

The debt follows a Lindley recursion per person, ``B_t = max(0, B_{t-1} + c_t - p_t)`` (``c``
created under tiers payant or when a reimbursement is too small to absorb the deductions, ``p``
the reimbursement due to the assuré), computed without a loop as
``B_t = S_t - min(0, min_{s<=t} S_s)`` with ``S`` the running sum of ``c - p`` started at the
carried debt. The amount recovered on feuille ``t`` is ``B_{t-1} + c_t - B_t``.
"""

from __future__ import annotations

import polars as pl

from caisse.rules.claims.counters import ANNUAL_SCHEMA, DAILY_SCHEMA, DEBT_SCHEMA, Counters


def _greedy(raw: str, group: list[str], rest: pl.Expr) -> pl.Expr:
    cum = pl.col(raw).cum_sum().over(group)
    prev = cum - pl.col(raw)
    rest = rest.clip(lower_bound=0)
    capped = (pl.min_horizontal(cum, rest) - pl.min_horizontal(prev, rest)).clip(lower_bound=0)
    return pl.when(rest.is_null()).then(pl.col(raw)).otherwise(capped)


def apply_caps(lines: pl.DataFrame, counters: Counters) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Daily then annual caps of the participation forfaitaire and of the franchises.

    Adds ``participation_forfaitaire_cts`` and ``franchise_cts`` (and ``_pf_plafonnee`` /
    ``_fr_plafonnee`` for the explanation). Lines must be sorted in processing order.
    """
    lines = lines.with_columns(pl.col("date_soins").dt.year().cast(pl.Int32).alias("_annee"))
    daily = counters.daily
    pf_pre = daily.filter(pl.col("kind") == "pf").select(
        "nir", pl.col("cle").alias("executant"), "date_soins", pl.col("cts").alias("_pf_pre_jour")
    )
    fr_pre = daily.filter(pl.col("kind") != "pf").select(
        "nir", pl.col("cle").alias("_fr_cle"), "date_soins", pl.col("kind").alias("_fr_kind"),
        pl.col("cts").alias("_fr_pre_jour"),
    )
    annual = counters.annual.select(
        "nir",
        pl.col("annee").alias("_annee"),
        pl.col("participation_forfaitaire_cts").alias("_pf_pre_an"),
        pl.col("franchises_cts").alias("_fr_pre_an"),
    )
    lines = (
        lines.join(pf_pre, on=["nir", "executant", "date_soins"], how="left")
        .join(fr_pre, on=["nir", "_fr_cle", "date_soins", "_fr_kind"], how="left")
        .join(annual, on=["nir", "_annee"], how="left")
        .sort("_lid")
    )
    lines = lines.with_columns(
        _greedy(
            "_pf_brut",
            ["nir", "executant", "date_soins"],
            pl.col("_pf_plafond_jour") - pl.col("_pf_pre_jour").fill_null(0),
        ).alias("_pf_jour"),
        _greedy(
            "_fr_brut",
            ["nir", "_fr_cle", "date_soins", "_fr_kind"],
            pl.col("_fr_plafond_jour") - pl.col("_fr_pre_jour").fill_null(0),
        ).alias("_fr_jour"),
    )
    lines = lines.with_columns(
        _greedy("_pf_jour", ["nir", "_annee"], pl.col("_pf_plafond_an") - pl.col("_pf_pre_an").fill_null(0)).alias(
            "participation_forfaitaire_cts"
        ),
        _greedy("_fr_jour", ["nir", "_annee"], pl.col("_fr_plafond_an") - pl.col("_fr_pre_an").fill_null(0)).alias(
            "franchise_cts"
        ),
    )
    lines = lines.with_columns(
        (pl.col("_pf_jour") < pl.col("_pf_brut")).alias("_pf_plafond_jour_atteint"),
        (pl.col("participation_forfaitaire_cts") < pl.col("_pf_jour")).alias("_pf_plafond_an_atteint"),
        (pl.col("_fr_jour") < pl.col("_fr_brut")).alias("_fr_plafond_jour_atteint"),
        (pl.col("franchise_cts") < pl.col("_fr_jour")).alias("_fr_plafond_an_atteint"),
    )
    # New consumption, for the carried counters.
    ok = lines.filter(pl.col("_ok"))
    new_daily = pl.concat(
        [
            ok.filter(pl.col("participation_forfaitaire_cts") > 0).group_by("nir", "executant", "date_soins").agg(
                pl.col("participation_forfaitaire_cts").sum().alias("cts")
            ).select("nir", pl.col("executant").alias("cle"), "date_soins", pl.lit("pf").alias("kind"), "cts"),
            ok.filter((pl.col("franchise_cts") > 0) & pl.col("_fr_plafond_jour").is_not_null())
            .group_by("nir", "_fr_cle", "date_soins", "_fr_kind")
            .agg(pl.col("franchise_cts").sum().alias("cts"))
            .select("nir", pl.col("_fr_cle").alias("cle"), "date_soins", pl.col("_fr_kind").alias("kind"), "cts"),
        ]
    ).cast(DAILY_SCHEMA)  # type: ignore[arg-type]
    return lines, new_daily


def line_payments(lines: pl.DataFrame) -> pl.DataFrame:
    """What the caisse pays for each line, the debt it creates and the C2S part."""
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


def feuille_payments(
    f: pl.DataFrame, lines: pl.DataFrame, counters: Counters, all_dup: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One décompte per feuille (input order) and the debt per person after the batch."""
    agg = lines.group_by("_fpos").agg(
        pl.col("montant_rembourse_cts").sum().alias("montant_rembourse_cts"),
        pl.col("part_c2s_cts").sum().alias("part_c2s_cts"),
        pl.col("_dette_ligne").sum().alias("_c"),
        pl.col("forfait_journalier_cts").sum().alias("forfait_journalier_cts"),
        pl.col("_ok").sum().alias("_nb_ok"),
        pl.col("_rejet_l").drop_nulls().unique(maintain_order=True).alias("_codes_lignes"),
    )
    d = f.join(agg, left_on="_pos", right_on="_fpos", how="left").with_columns(
        pl.when(pl.col("_pos").is_in(all_dup.implode())).then(pl.lit("DOUBLON")).otherwise(pl.col("_rejet_f")).alias(
            "_rejet_f"
        )
    )
    liquidee = pl.col("_rejet_f").is_null() & (pl.col("_nb_ok").fill_null(0) > 0)
    tp = pl.col("tiers_payant").fill_null(False)
    d = d.with_columns(liquidee.alias("_liquidee"))
    zero = pl.lit(0, dtype=pl.Int64)
    d = d.with_columns(
        pl.when(pl.col("_liquidee")).then(pl.col(c)).otherwise(zero).alias(c)
        for c in ("montant_rembourse_cts", "part_c2s_cts", "_c", "forfait_journalier_cts")
    )
    d = d.with_columns(pl.when(tp).then(zero).otherwise(pl.col("montant_rembourse_cts")).alias("_p"))
    # Debt: Lindley recursion per person, in processing order.
    d = d.join(counters.debt.rename({"dette_cts": "_b0"}), on="nir", how="left").with_columns(
        pl.col("_b0").fill_null(0)
    )
    d = d.sort("_ordre").with_columns((pl.col("_c") - pl.col("_p")).alias("_x"))
    d = d.with_columns((pl.col("_b0") + pl.col("_x").cum_sum().over("nir")).alias("_s"))
    d = d.with_columns(
        (pl.col("_s") - pl.min_horizontal(pl.col("_s").cum_min().over("nir"), pl.lit(0))).alias("_b")
    )
    d = d.with_columns(pl.col("_b").shift(1).over("nir").fill_null(pl.col("_b0")).alias("_b_prev"))
    d = d.with_columns((pl.col("_b_prev") + pl.col("_c") - pl.col("_b")).alias("dette_recuperee_cts"))
    debt = (
        d.filter(pl.col("nir").is_not_null())
        .group_by("nir")
        .agg(pl.col("_b").last().alias("dette_cts"))
        .cast(DEBT_SCHEMA)  # type: ignore[arg-type]
    )
    rejets = (
        pl.when(pl.col("_rejet_f").is_not_null())
        .then(pl.concat_list(pl.col("_rejet_f")))
        .when(~pl.col("_liquidee"))
        .then(pl.col("_codes_lignes"))
        .otherwise(pl.lit([], dtype=pl.List(pl.String())))
    )
    d = d.sort("_pos").with_columns(
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
    )
    return d, debt


def update_counters(
    old: Counters, new_daily: pl.DataFrame, debt: pl.DataFrame, f: pl.DataFrame, lines: pl.DataFrame
) -> Counters:
    """The counters after this batch (old state plus this batch's consumption)."""
    ok = lines.filter(pl.col("_ok"))
    annual_new = ok.group_by("nir", "_annee").agg(
        pl.col("participation_forfaitaire_cts").sum(), pl.col("franchise_cts").sum().alias("franchises_cts")
    ).rename({"_annee": "annee"}).cast(ANNUAL_SCHEMA)  # type: ignore[arg-type]
    annual = (
        pl.concat([old.annual, annual_new])
        .group_by("nir", "annee")
        .agg(pl.col("participation_forfaitaire_cts").sum(), pl.col("franchises_cts").sum())
    )
    daily = pl.concat([old.daily, new_daily]).group_by("nir", "cle", "date_soins", "kind").agg(pl.col("cts").sum())
    debt_all = pl.concat([old.debt.join(debt, on="nir", how="anti"), debt])
    ids = pl.concat([old.seen_ids, f.select("id").filter(pl.col("id").is_not_null())]).unique()
    acts = pl.concat([old.seen_acts, ok.select("nir", "executant", "code", "date_soins")]).unique()
    return Counters(annual=annual, debt=debt_all, daily=daily, seen_ids=ids, seen_acts=acts)
