"""Processing delays of feuilles de soins (rules.md F.6), a pure calculation (no Django).

``délai = date de mise en paiement − date de réception par la caisse``, in calendar days, over
the items paid in the month, per flow type (FSE, FSP): the mean and the 9th decile (D9), against
the dated targets ``sante.delais.*`` looked up on the first day of the month:

- FSE: cible D9 ≤ 7 days (COG 2006-2009);
- FSP: cible 20 days, socle 30 days at D9 (UNCONFIRMED, configurable by local values).

The percentile method is the parameter ``sante.delais.methode_decile``: ``rang`` (nearest
rank: the smallest delay such that 90 % of the items are at or below it) or ``interpolation``
(linear, as numpy's default).

Late payment penalties (rules.md A.10, CSS art. D161-13-3 and D161-13-4,
:func:`late_payment_penalties`): an electronic feuille under tiers payant must be paid to the
professional within 7 *jours ouvrés* of its reception (invoices received from 1 July 2016); paid
on the 8th or 9th jour ouvré it owes the professional 1 €, from the 10th jour ouvré 10 % of its
part obligatoire (the AMO part paid), the penalties of a semester being paid during the next one.
Each value is a dated parameter (``sante.delais.tiers_payant_jours_ouvres``, ``penalite_*``)
read at the date of reception.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

import polars as pl

from caisse.rules.calendar import working_days_after
from caisse.rules.claims.legal import at
from caisse.rules.parameters import Parameters, load_parameters

TYPES = ("FSE", "FSP")
PARAMS = "sante.delais."


def decile_9(values: list[int], method: str = "rang") -> float:
    """The 9th decile of non-empty ``values``."""
    ordered = sorted(values)
    n = len(ordered)
    if method == "interpolation":
        h = (n - 1) * 0.9
        low = math.floor(h)
        high = min(low + 1, n - 1)
        return ordered[low] + (h - low) * (ordered[high] - ordered[low])
    rank = max(1, math.ceil(0.9 * n - 1e-9))
    return float(ordered[rank - 1])


def _target(params: Parameters, name: str, when: dt.date) -> int | None:
    full = PARAMS + name
    if full not in params or not params.parameter(full).defined_at(when):
        return None
    value = params.value(full, when)
    return int(value)


def delay_table(
    items: Iterable[tuple[str, dt.date, dt.date]], params: Parameters | None = None
) -> list[dict[str, Any]]:
    """One row per (month of payment, type): ``mois``, ``type``, ``nb``, ``delai_moyen_jours``,
    ``d9_jours``, ``cible_d9_jours``, ``socle_d9_jours``, ``cible_atteinte``, ``socle_respecte``
    (``None`` where the type has no such target). Items of another type are ignored."""
    params = params or load_parameters()
    groups: dict[tuple[str, str], list[int]] = {}
    for kind, received, paid in items:
        if kind not in TYPES or received is None or paid is None:
            continue
        groups.setdefault((f"{paid:%Y-%m}", kind), []).append((paid - received).days)
    rows = []
    for (month, kind), values in sorted(groups.items()):
        first_day = dt.date.fromisoformat(f"{month}-01")
        method = params.value(PARAMS + "methode_decile", first_day) if PARAMS + "methode_decile" in params else "rang"
        d9 = decile_9(values, str(method))
        cible = _target(params, f"{kind.lower()}_d9_cible", first_day)
        socle = _target(params, f"{kind.lower()}_d9_socle", first_day)
        rows.append({
            "mois": month,
            "type": kind,
            "nb": len(values),
            "delai_moyen_jours": round(sum(values) / len(values), 2),
            "d9_jours": d9,
            "cible_d9_jours": cible,
            "socle_d9_jours": socle,
            "cible_atteinte": None if cible is None else d9 <= cible,
            "socle_respecte": None if socle is None else d9 <= socle,
        })
    return rows


# --- Late payment penalties (CSS art. D161-13-4) ---------------------------------------------

PENALTY_ITEMS: dict[str, pl.DataType] = {
    "executant": pl.String(),
    "date_reception": pl.Date(),
    "date_paiement": pl.Date(),
    "part_obligatoire_cts": pl.Int64(),
}
"""The feuilles a penalty may concern: electronic (FSE), paid to the professional (tiers payant)."""


def late_payment_penalties(items: pl.DataFrame, params: Parameters | None = None) -> pl.DataFrame:
    """Each item (columns :data:`PENALTY_ITEMS`) with ``jours_ouvres`` (working days from the
    reception, excluded, to the payment, included), ``retard`` (``none``, ``forfait`` for the
    days after the limit and before the proportional penalty, ``proportionnelle`` after),
    ``penalite_cts`` and ``semestre_paiement`` (``YYYY-S1``/``YYYY-S2``). The parameters are
    read at the date of reception; before the first one (1 July 2016) nothing is owed."""
    params = params or load_parameters()
    items = items.select(pl.col(c).cast(t) for c, t in PENALTY_ITEMS.items())
    days = working_days_after(
        items.get_column("date_reception").to_numpy(), items.get_column("date_paiement").to_numpy()
    )
    received = pl.col("date_reception")
    limit = at(params.parameter(PARAMS + "tiers_payant_jours_ouvres"), received, pl.Int64())
    proportional_from = at(params.parameter(PARAMS + "penalite_jour_proportionnelle"), received, pl.Int64())
    flat = at(params.parameter(PARAMS + "penalite_forfait"), received, pl.Int64())
    rate = at(params.parameter(PARAMS + "penalite_taux"), received, pl.Int64())
    d = pl.col("jours_ouvres")
    late = (d > limit).fill_null(False)
    proportional = late & (d >= proportional_from).fill_null(False)
    part = pl.col("part_obligatoire_cts").fill_null(0).clip(lower_bound=0)
    month = pl.col("date_paiement").dt.month()
    return items.with_columns(pl.Series("jours_ouvres", days, dtype=pl.Int64)).with_columns(
        pl.when(proportional).then(pl.lit("proportionnelle")).when(late).then(pl.lit("forfait"))
        .otherwise(pl.lit("none")).alias("retard"),
        pl.when(proportional).then((part * rate + 50) // 100).when(late).then(flat).otherwise(0)
        .fill_null(0).alias("penalite_cts"),
        pl.format("{}-S{}", pl.col("date_paiement").dt.year(), pl.when(month <= 6).then(1).otherwise(2))
        .alias("semestre_paiement"),
    )


def _next_semester(semester: str) -> str:
    year, half = semester.split("-S")
    return f"{year}-S2" if half == "1" else f"{int(year) + 1}-S1"


def penalties_by_semester(penalties: pl.DataFrame) -> list[dict[str, Any]]:
    """Per semester of payment: FSE under tiers payant paid, paid late (flat and proportional
    penalties), professionals owed something, total owed, and the semester it is paid in."""
    if penalties.height == 0:
        return []
    table = (
        penalties.group_by("semestre_paiement")
        .agg(
            pl.len().alias("nb"),
            (pl.col("retard") == "forfait").sum().alias("nb_forfait"),
            (pl.col("retard") == "proportionnelle").sum().alias("nb_proportionnelle"),
            pl.col("executant").filter(pl.col("penalite_cts") > 0).n_unique().alias("nb_professionnels"),
            pl.col("penalite_cts").sum().alias("penalites_cts"),
        )
        .sort("semestre_paiement")
    )
    return [{**row, "semestre_versement": _next_semester(row["semestre_paiement"])} for row in table.iter_rows(named=True)]


def penalties_by_professional(penalties: pl.DataFrame, limit: int | None = None) -> list[dict[str, Any]]:
    """Per (semester of payment, professional) owed a penalty: the late feuilles and the amount,
    largest amounts first within a semester (``limit`` rows per semester at most)."""
    owed = penalties.filter(pl.col("penalite_cts") > 0)
    if owed.height == 0:
        return []
    table = (
        owed.group_by("semestre_paiement", "executant")
        .agg(pl.len().alias("nb_retards"), pl.col("penalite_cts").sum().alias("penalites_cts"))
        .sort(["semestre_paiement", "penalites_cts", "executant"], descending=[False, True, False])
    )
    if limit is not None:
        table = table.filter(pl.int_range(pl.len()).over("semestre_paiement") < limit)
    return [{**row, "semestre_versement": _next_semester(row["semestre_paiement"])} for row in table.iter_rows(named=True)]
