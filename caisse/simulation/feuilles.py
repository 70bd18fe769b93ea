"""From claim arrays to the contract §2 tables, with the deliberately bad records.

Feuilles are numbered in order of reception inside a block (``F`` + 11 digits, global
counter). The bad records imitate what real flows carry: a wrong NIR key, an unknown NIR or
professional, an unknown code, care after the reception date or more than two years old, a
card read after its opposition, a malformed record, and feuilles sent twice (same id). Each
one is listed in ``anomalies.ndjson`` with the rejection code a correct engine gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from caisse.simulation import calibration as cal
from caisse.simulation.claims import PARCOURS, RISQUES, Claims
from caisse.simulation.dates import NONE, add_years, as_date
from caisse.simulation.ids import choose, concat, luhn_digit, nir_keys, zfill
from caisse.simulation.nomenclature import Nomenclature
from caisse.simulation.people import People
from caisse.simulation.professionals import Professionals


@dataclass
class FeuillesBlock:
    feuilles: pl.DataFrame  # one row per distinct feuille (no lignes)
    lignes: pl.DataFrame  # feuille_id + line fields, in feuille order
    offsets: np.ndarray  # lines of feuille i: offsets[i]:offsets[i+1]
    doubles: np.ndarray  # indices of feuilles sent twice (the copy follows the original)
    anomalies: pl.DataFrame  # {flux, id, anomalie}


def _draw(rng: np.random.Generator, candidates: np.ndarray, total: int, rate: float) -> np.ndarray:
    """About ``rate × total`` feuilles drawn among ``candidates`` (sorted indices)."""
    count = min(len(candidates), int(rng.binomial(total, rate)) if total else 0)
    return (
        np.sort(rng.choice(candidates, size=count, replace=False)) if count else np.zeros(0, dtype=np.int64)
    )


def _reorder(c: Claims) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feuilles in order of reception: permutation, new offsets and the source of each line."""
    perm = np.argsort(c.reception, kind="stable")
    nl = np.diff(c.offsets)[perm]
    offsets = np.concatenate([[0], np.cumsum(nl)])
    src = np.repeat(c.offsets[:-1][perm] - offsets[:-1], nl) + np.arange(offsets[-1])
    return perm, offsets, src


def build(
    rng: np.random.Generator, c: Claims, pe: People, ps: Professionals, nomen: Nomenclature, first_id: int
) -> FeuillesBlock:
    """Tables of one block (ids from ``first_id``), bad records included."""
    perm, offsets, src = _reorder(c)
    f = len(perm)
    person = c.person[perm]
    ids = zfill(first_id + np.arange(f), 11, "F")
    a = pe.a
    cards = [pe.frame["cartes_vitale"].list.get(0, null_on_oob=True).struct.field("numero")]
    card_second = pe.frame["cartes_vitale"].list.get(1, null_on_oob=True).struct.field("numero")
    card = c.card[perm]
    carte = choose(card == 1, card_second[pl.Series(person)], cards[0][pl.Series(person)])
    carte = choose(card < 0, None, carte)
    presc = c.prescripteur[perm]
    prescripteur = choose(presc >= 0, ps.ids[pl.Series(np.maximum(presc, 0))], None)
    nir = pe.nir[pl.Series(person)]
    executant = ps.ids[pl.Series(c.executant[perm])]
    reception = c.reception[perm]
    types = pl.Series(["FSE", "FSP"])[pl.Series(c.typ_fsp[perm].astype(np.int64))]
    line_day = c.line_day[src].copy()
    row = c.row[src]
    code = pl.Series(nomen.code.tolist(), dtype=pl.String)[pl.Series(row)]
    montant = c.montant[src]

    # --- deliberately bad records -----------------------------------------------------------
    kinds = list(cal.ANOMALIES_FEUILLES)
    probs = np.array([cal.ANOMALIES_FEUILLES[k] for k in kinds])
    draw = rng.random(f)
    which = np.searchsorted(np.cumsum(probs), draw, side="right")  # len(kinds) = none
    bad: dict[str, np.ndarray] = {k: np.nonzero(which == i)[0] for i, k in enumerate(kinds)}
    first_line = offsets[:-1]
    # NIR with a wrong key
    idx = bad["NIR_INVALIDE"]
    if len(idx):
        wrong = nir[pl.Series(idx)].str.slice(0, 13) + zfill(
            (nir[pl.Series(idx)].str.slice(13, 2).cast(pl.Int64).to_numpy() % 97) + 1, 2
        )
        nir = nir.scatter(idx, wrong)
    # a valid NIR nobody has (born in Paris, "commune" 199 is never handed out)
    idx = bad["BENEFICIAIRE_INCONNU"]
    if len(idx):
        n13 = (1 + (rng.random(len(idx)) < 0.5)) * 10**12 + rng.integers(30, 99, len(idx)) * 10**10
        n13 += rng.integers(1, 13, len(idx)) * 10**8 + 75_199 * 1000 + rng.integers(1, 1000, len(idx))
        nir = nir.scatter(idx, concat(zfill(n13, 13), zfill(nir_keys(n13), 2)))
    # an RPPS-shaped number outside the caisse's range ("19…")
    idx = bad["PS_INCONNU"]
    if len(idx):
        payload = 1_900_000_000 + rng.integers(0, 100_000_000, len(idx))
        executant = executant.scatter(idx, zfill(payload * 10 + luhn_digit(payload, 10), 11))
    idx = bad["CODE_INCONNU"]
    if len(idx):
        code = code.scatter(first_line[idx], pl.Series(["ZZINCONNU"] * len(idx)))
    idx = bad["DATE_FUTURE"]
    line_day[first_line[idx]] = reception[idx] + 1 + rng.integers(0, 5, len(idx))
    # care received more than two years after the first day of the next quarter (CSS L332-1: at
    # most 92 days after the care), only where the codes already existed then
    idx = bad["PRESCRIPTION"]
    keep_idx = []
    for j in idx:
        span = slice(offsets[j], offsets[j + 1])
        older = add_years(line_day[span], -2) - int(rng.integers(100, 300))
        if nomen.code_known(row[span], older).all():
            line_day[span] = older
            keep_idx.append(j)
    bad["PRESCRIPTION"] = np.array(keep_idx, dtype=np.int64)
    # targeted bad records: drawn among the feuilles where they can happen
    taken = np.zeros(f, dtype=bool)
    taken[np.concatenate([v for v in bad.values()])] = True
    nl = np.diff(offsets)
    first_day = line_day[first_line]
    opp = a["opp_day"][person]
    can_opp = (c.card[perm] >= 0) & (opp != NONE) & (first_day >= opp) & ~taken
    idx_opp = _draw(rng, np.nonzero(can_opp)[0], f, cal.ANOMALIES_CIBLEES["CARTE_EN_OPPOSITION"])
    if len(idx_opp):
        carte = carte.scatter(idx_opp, cards[0][pl.Series(person[idx_opp])])
    bad["CARTE_EN_OPPOSITION"] = idx_opp
    taken[idx_opp] = True
    # care after the death, care after the rights closed (the other care stays inside)
    for anomaly, limit in (
        ("DECES", a["deces"]),
        # not for the dead: care after the rights closed would also be after the death
        ("DROITS_FERMES", np.where(a["ame"] | (a["deces"] != NONE), NONE, a["droits_fin"])),
    ):
        lim = limit[person]
        chosen = _draw(rng, np.nonzero((lim != NONE) & ~taken)[0], f, cal.ANOMALIES_CIBLEES[anomaly])
        delta = np.zeros(f, dtype=np.int64)
        delta[chosen] = lim[chosen] + rng.integers(1, 20, len(chosen)) - first_day[chosen]
        shifted = line_day + np.repeat(delta, nl)
        ok = np.minimum.reduceat(nomen.code_known(row, shifted), first_line) if f else np.zeros(0, dtype=bool)
        chosen = chosen[ok[chosen].astype(bool)]
        keep = np.zeros(f, dtype=bool)
        keep[chosen] = True
        line_day = np.where(np.repeat(keep, nl), shifted, line_day)
        last = np.maximum.reduceat(line_day, first_line) if f else line_day
        reception = np.where(keep, np.maximum(reception, last + rng.integers(1, 10, f)), reception)
        bad[anomaly] = chosen
        taken[chosen] = True
        # the card read is the one valid at the new date
        moved = chosen[
            (c.card[perm][chosen] == 0)
            & (opp[chosen] != NONE)
            & (line_day[first_line[chosen]] >= opp[chosen])
        ]
        if len(moved):
            carte = carte.scatter(moved, card_second[pl.Series(person[moved])])
    date_soins = as_date(line_day).dt.to_string("%Y-%m-%d")
    typ = types
    idx = bad["DONNEE_INVALIDE"]
    montant_s = pl.Series(montant)
    if len(idx):  # an impossible date of care, or a line without its amount
        variant = rng.random(len(idx)) < 0.5
        year = 1970 + int(reception[0] // 365.25)
        date_soins = date_soins.scatter(
            first_line[idx[variant]], pl.Series([f"{year}-02-30"] * int(variant.sum()))
        )
        montant_s = montant_s.scatter(first_line[idx[~variant]], None)

    feuilles = pl.DataFrame(
        {
            "id": ids,
            "type": typ,
            "date_reception": as_date(reception).dt.to_string("%Y-%m-%d"),
            "nir": nir,
            "executant": executant,
            "prescripteur": prescripteur,
            "tiers_payant": c.tiers_payant[perm],
            "risque": pl.Series(RISQUES)[pl.Series(c.risque[perm])],
            "parcours": pl.Series(PARCOURS)[pl.Series(c.parcours[perm])],
            "en_rapport_ald": c.ald[perm],
            "carte_vitale": carte,
        }
    )
    lignes = pl.DataFrame(
        {
            "feuille_id": ids[pl.Series(np.repeat(np.arange(f), nl))],
            "numero": (np.arange(offsets[-1]) - np.repeat(offsets[:-1], nl) + 1).astype(np.int32),
            "code": code,
            "date_soins": date_soins,
            "quantite": c.quantite[src],
            "coefficient": c.coefficient[src],
            "montant_facture_cts": montant_s,
        }
    )
    doubles = bad["DOUBLON"]
    listed = [(k, v) for k, v in bad.items() if len(v)]
    anomalies = pl.DataFrame(
        {
            "flux": pl.Series(["feuilles"] * sum(len(v) for _, v in listed), dtype=pl.String),
            "id": ids[pl.Series(np.concatenate([v for _, v in listed]) if listed else np.zeros(0, np.int64))],
            "anomalie": pl.Series([k for k, v in listed for _ in v], dtype=pl.String),
        }
    )
    return FeuillesBlock(
        feuilles=feuilles, lignes=lignes, offsets=offsets, doubles=doubles, anomalies=anomalies
    )
