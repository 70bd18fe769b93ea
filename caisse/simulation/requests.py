"""C2S requests (contract §3 input) and contacts (phone, e-mail, agency) of one block.

C2S requests come from households: renewals of households already covered (70 %) and first
requests of other households (30 %), at the Paris rate of online requests. Resources sit around
the legal ceiling of the household's size (rules.md D.2, from 1 April 2025) so that decisions
spread over free C2S, C2S with participation and refusals; like the worked examples the two
most recent months (outside the legal window M-13..M-2) differ. Contacts follow the Paris 2019
volumes per beneficiary and the reasons measured by the CPAM 93 in 2020.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pyarrow as pa

from caisse.simulation import calibration as cal
from caisse.simulation.arrow import Column, list_of_structs
from caisse.simulation.cash import month_strings
from caisse.simulation.dates import NONE, as_date, day
from caisse.simulation.ids import zfill
from caisse.simulation.people import People
from caisse.simulation.professionals import Employers, Professionals

#: Yearly ceiling of the C2S without participation by household size, 1 April 2025 (rules.md
#: D.2), in cents; beyond 4 people + 4 135 € each.
PLAFOND_C2S_CTS = [1_033_900, 1_550_800, 1_860_900, 2_171_100]
PLAFOND_PAR_PERSONNE_CTS = 413_500
MAX_MEMBRES = 8
#: First day of the C2S (loi 2018-1203, décret 2019-621): no request is dated before it.
C2S_DEBUT = day(dt.date(2019, 11, 1))


def _plafond(size: np.ndarray) -> np.ndarray:
    base = np.array(PLAFOND_C2S_CTS)[np.minimum(size, 4) - 1]
    return base + np.maximum(size - 4, 0) * PLAFOND_PAR_PERSONNE_CTS


def demandes_c2s(rng: np.random.Generator, pe: People, first_id: int) -> pl.DataFrame:
    """C2S requests of the block's households (ids from ``first_id``)."""
    a = pe.a
    hh = a["hh"]
    h = int(hh.max()) + 1 if len(hh) else 0
    y0 = int(a["y0"][0])
    head = np.searchsorted(hh, np.arange(h))
    size = np.bincount(hh, minlength=h)
    covered = a["c2s"][head]
    eligible = ~a["ame"][head] & (a["deces"][head] == NONE)
    q = cal.TAUX_DEMANDES_C2S * len(hh) / max(h, 1)
    renew = covered & eligible & (rng.random(h) < min(1.0, 0.7 * q * h / max(covered.sum(), 1)))
    first = ~covered & eligible & (rng.random(h) < min(1.0, 0.3 * q * h / max((~covered).sum(), 1)))
    req = np.nonzero(renew | first)[0]
    r = len(req)
    is_renew = renew[req]
    when = np.where(
        is_renew,
        np.clip(a["p_end"][head[req]] - rng.integers(30, 90, r), y0, y0 + 364),
        y0 + rng.integers(0, 365, r),
    )
    # the C2S exists from 1 November 2019 (it replaced the CMU-C and the ACS)
    keep = when >= C2S_DEBUT
    req, is_renew, when = req[keep], is_renew[keep], when[keep]
    r = len(req)
    plafond = _plafond(np.minimum(size[req], MAX_MEMBRES))
    part = a["c2s_part"][head[req]]
    ratio = np.where(
        is_renew,
        np.where(part, 1.02 + 0.3 * rng.random(r), 0.4 + 0.55 * rng.random(r)),
        0.5 + 1.2 * rng.random(r),
    )
    monthly = (plafond * ratio / 12).astype(np.int64)
    month0 = when.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    lo = int(month0.min()) - 13 if r else 0
    table = month_strings(lo, (int(month0.max()) - lo + 1) if r else 1)
    ressources: list[tuple[np.ndarray, dict[str, Column]]] = []
    for k in range(14):  # M-13 .. M
        offset = k - 13
        amount = monthly if k < 12 else (monthly * (1.0 + 2.0 * rng.random(r))).astype(np.int64)
        ressources.append(
            (
                np.ones(r, dtype=bool),
                {"mois": table[pl.Series(month0 + offset - lo)], "montant_cts": pa.array(amount)},
            )
        )
    # members: the household in order (head = demandeur)
    members: list[tuple[np.ndarray, dict[str, Column]]] = []
    for k in range(MAX_MEMBRES):
        idx = np.minimum(head[req] + k, len(hh) - 1)
        # members already born and still alive at the date of the request
        alive = (a["birth"][idx] <= when) & ((a["deces"][idx] == NONE) | (a["deces"][idx] > when))
        present = (k < size[req]) & (alive | (k == 0))
        role = np.where(
            k == 0,
            "demandeur",
            np.where(a["adult"][idx], np.where(a["hkind"][idx] == 4, "autre", "conjoint"), "enfant"),
        )
        members.append(
            (
                present,
                {
                    "date_naissance": as_date(a["birth"][idx]).dt.to_string("%Y-%m-%d"),
                    "role": pl.Series(role),
                },
            )
        )
    logements = list(cal.LOGEMENT_C2S)
    p = np.array(list(cal.LOGEMENT_C2S.values()))
    logement = pl.Series(logements)[pl.Series(rng.choice(len(logements), size=r, p=p / p.sum()))]
    rsa = (ratio < 0.6) & (rng.random(r) < cal.PART_RSA_C2S * 2)
    return pl.DataFrame(
        {
            "id": zfill(first_id + np.arange(r), 11, "C"),
            "date_demande": as_date(when).dt.to_string("%Y-%m-%d"),
            "zone": pl.Series(["metropole"] * r, dtype=pl.String),
            "membres": list_of_structs(r, members),
            "ressources": list_of_structs(r, ressources),
            "logement": logement,
            "rsa": rsa,
            "nir_demandeur": pe.nir[pl.Series(head[req])],
            "renouvellement": is_renew,
        }
    )


def contacts(
    rng: np.random.Generator, pe: People, ps: Professionals, emp: Employers, first_id: int, scale: float
) -> pl.DataFrame:
    """Contacts of the block's adults, and a share of the professionals' and employers' calls."""
    a = pe.a
    adults = np.nonzero(a["adult"])[0]
    n = len(a["age"])
    y0 = int(a["y0"][0])
    per_adult = n / max(len(adults), 1)
    rows_p, rows_c, rows_m = [], [], []
    channels = [
        ("telephone", cal.TAUX_APPELS, cal.MOTIFS_TELEPHONE),
        ("courriel", cal.TAUX_COURRIELS, cal.MOTIFS_COURRIEL),
        ("accueil", cal.TAUX_VISITES, cal.MOTIFS_ACCUEIL),
    ]
    for c, (_canal, rate, motifs) in enumerate(channels):
        count = rng.poisson(rate * per_adult, len(adults))
        who = np.repeat(adults, count)
        rows_p.append(who)
        rows_c.append(np.full(len(who), c))
        keys = list(motifs)
        w = np.array(list(motifs.values()))
        rows_m.append(pl.Series(keys)[pl.Series(rng.choice(len(keys), size=len(who), p=w / w.sum()))])
    who = np.concatenate(rows_p)
    chan = np.concatenate(rows_c)
    motif = pl.concat(rows_m)
    day = y0 + rng.integers(0, 365, len(who))
    weekday = (day + 3) % 7
    day = np.where((chan != 1) & (weekday >= 5), day - (weekday - 4), day)  # phone and agency: weekdays
    treated = np.where(chan == 0, rng.random(len(who)) < cal.PART_APPELS_TRAITES, True)
    people = pl.DataFrame(
        {
            "public": pl.Series(["assure"] * len(who), dtype=pl.String),
            "nir": pe.nir[pl.Series(who)],
            "ps": pl.Series([None] * len(who), dtype=pl.String),
            "employeur": pl.Series([None] * len(who), dtype=pl.String),
            "canal": pl.Series(["telephone", "courriel", "accueil"])[pl.Series(chan)],
            "date": as_date(day).dt.to_string("%Y-%m-%d"),
            "motif": motif,
            "traite": treated,
        }
    )
    n_ps = rng.poisson(cal.APPELS_PS * scale)
    n_emp = rng.poisson(cal.APPELS_EMPLOYEURS * scale)
    d2 = y0 + rng.integers(0, 365, n_ps + n_emp)
    wd = (d2 + 3) % 7
    d2 = np.where(wd >= 5, d2 - (wd - 4), d2)
    pros = pl.DataFrame(
        {
            "public": pl.Series(["ps"] * n_ps + ["employeur"] * n_emp, dtype=pl.String),
            "nir": pl.Series([None] * (n_ps + n_emp), dtype=pl.String),
            "ps": pl.concat(
                [
                    ps.ids[pl.Series(rng.integers(0, len(ps.ids), n_ps))],
                    pl.Series([None] * n_emp, dtype=pl.String),
                ]
            ),
            "employeur": pl.concat(
                [
                    pl.Series([None] * n_ps, dtype=pl.String),
                    emp.siret[pl.Series(rng.integers(0, len(emp.siret), n_emp))],
                ]
            ),
            "canal": pl.Series(["telephone"] * (n_ps + n_emp), dtype=pl.String),
            "date": as_date(d2).dt.to_string("%Y-%m-%d"),
            "motif": pl.Series(["facturation"] * n_ps + ["prestations_especes"] * n_emp, dtype=pl.String),
            "traite": np.ones(n_ps + n_emp, dtype=bool),
        }
    )
    out = pl.concat([people, pros]).sort("date", maintain_order=True)
    return out.select(pl.Series("id", zfill(first_id + np.arange(len(out)), 11, "K")), pl.all())
