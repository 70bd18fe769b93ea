"""Arrêts de travail (contract §4 input) and AT/MP declarations of one block.

Salaried people get sick-leave arrêts at the Paris rate (avis d'arrêt per beneficiary, 2021)
with durations around the Paris mean (IJ maladie 2019 / avis), mothers a maternity leave
around their delivery (durations of rules.md B.2), fathers a paternity leave (25 days, 32 for
multiple births) starting 3 days after the birth, and victims of work accidents, commuting
accidents and occupational diseases (CPAM 93 rates 2019) a declaration and, for most, an
arrêt. Salaries are the 12 months before the arrêt and the current month (with a bonus), as in
the worked examples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from caisse.simulation import calibration as cal
from caisse.simulation.arrow import list_of_structs
from caisse.simulation.dates import NONE, as_date
from caisse.simulation.ids import pick, zfill
from caisse.simulation.people import People
from caisse.simulation.professionals import Employers

RISQUES = ["maladie", "maternite", "paternite", "atmp"]
AT_TYPES = ["accident_travail", "accident_trajet", "maladie_professionnelle"]


@dataclass
class CashBlock:
    arrets: pl.DataFrame
    declarations: pl.DataFrame
    atmp_person: np.ndarray  # victims (person index in the block) and accident days, for care
    atmp_day: np.ndarray


def month_strings(first_month: int, count: int) -> pl.Series:
    """``YYYY-MM`` of months numbered since 1970-01."""
    months = np.arange(first_month, first_month + count).astype("datetime64[M]")
    return pl.Series(np.datetime_as_string(months, unit="M"))


def _salaries(rng: np.random.Generator, start: np.ndarray, salary: np.ndarray) -> pl.Series:
    """12 previous months (most recent first) then the current month, with small variations."""
    m = len(start)
    month0 = start.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    lo = int(month0.min()) - 12 if m else 0
    table = month_strings(lo, (int(month0.max()) - lo + 1) if m else 1)
    items = []
    for k in range(13):
        offset = -(k + 1) if k < 12 else 0
        factor = np.where(rng.random(m) < 0.7, 1.0, rng.choice([0.95, 1.05, 1.1], size=m))
        if k == 12:  # the current month carries a bonus (as in the worked examples)
            factor = 1.5 + 0.5 * rng.random(m)
        amount = (np.round(salary * factor / 100.0) * 100).astype(np.int64)
        items.append(
            (
                np.ones(m, dtype=bool),
                {"mois": table[pl.Series(month0 + offset - lo)], "brut_cts": pa.array(amount)},
            )
        )
    return list_of_structs(m, items)


def generate(
    rng: np.random.Generator, pe: People, emp: Employers, first_arret: int, first_decl: int
) -> CashBlock:
    """Arrêts and declarations of one block; ids from ``first_arret`` and ``first_decl``."""
    a = pe.a
    n = len(a["age"])
    y0, y1 = int(a["y0"][0]), int(a["y1"][0])
    alive_end = np.where(a["deces"] == NONE, y1, a["deces"] - 1)
    end_rights = np.minimum(alive_end, np.where(a["droits_fin"] == NONE, y1, a["droits_fin"]))
    employed = a["employed"]
    n_emp = max(int(employed.sum()), 1)

    # --- AT/MP ------------------------------------------------------------------------------
    rates = np.array([cal.TAUX_AT, cal.TAUX_TRAJET, cal.TAUX_MP]) * n / n_emp
    draw = rng.random(n)
    at_type = np.searchsorted(np.cumsum(rates), draw, side="right")
    victim = employed & (at_type < 3)
    vp = np.nonzero(victim)[0]
    vt = at_type[vp]
    acc_day = y0 + rng.integers(0, 365, len(vp))
    keep = acc_day <= end_rights[vp]
    vp, vt, acc_day = vp[keep], vt[keep], acc_day[keep]
    v = len(vp)
    online = rng.random(v) < cal.PART_EDAT
    decl_day = np.where(vt == 2, acc_day + rng.integers(5, 60, v), acc_day + rng.integers(0, 3, v))
    reception = decl_day + np.where(online, 0, rng.integers(2, 6, v))
    reconnu = rng.random(v) < np.array([cal.RECONNAISSANCE[t] for t in AT_TYPES])[vt]
    enquete = rng.random(v) < np.where(vt == 2, 1.0, 0.1)
    decision = reception + np.where(
        vt == 2, rng.integers(60, 121, v), np.where(enquete, rng.integers(40, 91, v), rng.integers(10, 31, v))
    )
    with_arret = rng.random(v) < cal.PART_ATMP_AVEC_ARRET
    at_sigma = 1.1
    at_len = np.clip(
        rng.lognormal(np.log(cal.JOURS_PAR_ARRET_ATMP) - at_sigma**2 / 2, at_sigma, v), 1, 700
    ).astype(np.int64)

    # --- sickness ---------------------------------------------------------------------------
    rate = cal.TAUX_ARRETS * 0.9 * n / n_emp
    count = np.where(employed, rng.poisson(rate, n), 0)
    sp = np.repeat(np.arange(n), count)
    s_start = y0 + rng.integers(0, 365, len(sp))
    ok = s_start <= end_rights[sp]
    sp, s_start = sp[ok], s_start[ok]
    sigma = 1.0
    s_len = np.clip(rng.lognormal(np.log(cal.JOURS_PAR_ARRET) - sigma**2 / 2, sigma, len(sp)), 1, 360).astype(
        np.int64
    )

    # --- maternity and paternity ------------------------------------------------------------
    acc = a["acc"]
    mothers = np.nonzero(employed & (acc != NONE) & a["female"])[0]
    kids = a["kids_before"][mothers]
    mult = a["multiple"][mothers]
    pre = np.select([mult >= 3, mult == 2, kids >= 2], [24, 12, 8], default=6)
    post = np.select([mult >= 3, mult == 2, kids >= 2], [22, 22, 18], default=10)
    m_start = acc[mothers] - pre * 7
    keep = (m_start >= y0) & (m_start <= y1) & (m_start <= end_rights[mothers])
    mothers, pre, post, m_start = mothers[keep], pre[keep], post[keep], m_start[keep]
    m_len = (pre + post) * 7
    born = (acc != NONE) & (acc <= y1) & a["female"] & (a["second"] >= 0)
    fathers_of = np.nonzero(born)[0]
    fathers = a["second"][fathers_of]
    okf = employed[fathers] & ~a["female"][fathers]
    fathers_of, fathers = fathers_of[okf], fathers[okf]
    p_start = acc[fathers_of] + 3
    keep = (p_start <= y1) & (p_start <= end_rights[fathers])
    fathers_of, fathers, p_start = fathers_of[keep], fathers[keep], p_start[keep]
    p_len = np.where(a["multiple"][fathers_of] >= 2, 32, 25)

    # --- assemble arrêts --------------------------------------------------------------------
    at_arret = with_arret
    person = np.concatenate([sp, mothers, fathers, vp[at_arret]])
    risque = np.concatenate(
        [np.zeros(len(sp)), np.ones(len(mothers)), np.full(len(fathers), 2), np.full(int(at_arret.sum()), 3)]
    ).astype(np.int64)
    start = np.concatenate([s_start, m_start, p_start, acc_day[at_arret] + 1])
    length = np.concatenate([s_len, m_len, p_len, at_len[at_arret]])
    delivery = np.concatenate(
        [np.full(len(sp), NONE), acc[mothers], acc[fathers_of], np.full(int(at_arret.sum()), NONE)]
    )
    enfants = np.concatenate(
        [
            np.full(len(sp), -1),
            a["kids_before"][mothers],
            np.full(len(fathers), -1),
            np.full(int(at_arret.sum()), -1),
        ]
    )
    multiple = np.concatenate(
        [
            np.full(len(sp), -1),
            a["multiple"][mothers],
            a["multiple"][fathers_of],
            np.full(int(at_arret.sum()), -1),
        ]
    )
    order = np.lexsort((person, start))
    person, risque, start, length, delivery, enfants, multiple = (
        x[order] for x in (person, risque, start, length, delivery, enfants, multiple)
    )
    k = len(person)
    hours_keys = np.array(list(cal.HEURES_3_MOIS))
    hours_p = np.array(list(cal.HEURES_3_MOIS.values()))
    hours = hours_keys[rng.choice(len(hours_keys), size=k, p=hours_p / hours_p.sum())]
    salary = (a["salary"][person] * hours / 455.0).astype(np.int64)
    ald_on = a["ald"][person] & (start >= a["ald_debut"][person]) & (risque == 0) & (rng.random(k) < 0.4)
    prolong = (risque == 0) & (rng.random(k) < cal.PART_PROLONGATION)
    arret_ids = zfill(first_arret + np.arange(k), 11, "A")
    decl_ids = zfill(first_decl + np.arange(v), 11, "D")
    # link each AT/MP arrêt (after sorting) and its declaration
    inv = np.argsort(order)
    decl_arret = np.full(v, -1, dtype=np.int64)
    decl_arret[at_arret] = inv[len(sp) + len(mothers) + len(fathers) + np.arange(int(at_arret.sum()))]
    arret_decl = np.full(k, -1, dtype=np.int64)
    arret_decl[decl_arret[at_arret]] = np.nonzero(at_arret)[0]

    arrets = pl.DataFrame(
        {
            "id": arret_ids,
            "nir": pe.nir[pl.Series(person)],
            "risque": pl.Series(RISQUES)[pl.Series(risque)],
            "date_debut": as_date(start).dt.to_string("%Y-%m-%d"),
            "date_fin": as_date(start + length - 1).dt.to_string("%Y-%m-%d"),
            "salaires": _salaries(rng, start, salary),
            "heures_travaillees_3_mois": hours,
            "ald": ald_on,
            "prolongation": prolong,
            "date_accouchement": as_date(delivery).dt.to_string("%Y-%m-%d"),
            "enfants_a_charge": pl.Series(np.where(enfants >= 0, enfants, 0)).set(
                pl.Series(enfants < 0), None
            ),
            "naissance_multiple": pl.Series(np.where(multiple >= 1, multiple, 0)).set(
                pl.Series(multiple < 1), None
            ),
            "employeur": pe.frame["employeur"][pl.Series(person)],
            "declaration_atmp": pick(arret_decl >= 0, decl_ids, arret_decl),
        }
    )
    declarations = pl.DataFrame(
        {
            "id": decl_ids,
            "nir": pe.nir[pl.Series(vp)],
            "employeur": pe.frame["employeur"][pl.Series(vp)],
            "type": pl.Series(AT_TYPES)[pl.Series(vt)],
            "date_accident": as_date(acc_day).dt.to_string("%Y-%m-%d"),
            "date_declaration": as_date(decl_day).dt.to_string("%Y-%m-%d"),
            "date_reception": as_date(reception).dt.to_string("%Y-%m-%d"),
            "canal": pl.Series(["papier", "en_ligne"])[pl.Series(online.astype(np.int64))],
            "avec_arret": with_arret,
            "arret": pick(with_arret, arret_ids, decl_arret),
            "instruction": pl.Series(["decision_directe", "enquete"])[pl.Series(enquete.astype(np.int64))],
            "date_decision": as_date(decision).dt.to_string("%Y-%m-%d"),
            "reconnu": reconnu,
        }
    )
    return CashBlock(arrets=arrets, declarations=declarations, atmp_person=vp, atmp_day=acc_day)
