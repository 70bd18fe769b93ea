"""Beneficiaries: households, ages, NIRs and every right of contract §1, by block of people.

A block is generated from its own random stream, so its content depends only on the seed, the
block number and the shared tables (professionals, employers). People live in households
(singles, couples, families, single parents, flat-shares); children are attached to their
parents (``parents``: the parents' NIRs) and newborns give their mother a maternity period.
Dates are day numbers (see :mod:`caisse.simulation.dates`) until the output frame is built.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa

from caisse.simulation import calibration as cal
from caisse.simulation import names
from caisse.simulation.arrow import date_array, list_of_strings, list_of_structs
from caisse.simulation.dates import NONE, add_months, add_years, as_date, day
from caisse.simulation.ids import choose, concat, iban_fr, nir_keys, zfill
from caisse.simulation.professionals import Employers, Professionals

HOUSEHOLD_KINDS = list(cal.MENAGES)


class NirRegistry:
    """Every NIR handed out so far (to keep them unique across blocks), as sorted int keys."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)

    def taken(self, keys: np.ndarray) -> np.ndarray:
        if len(self.keys) == 0:
            return np.zeros(len(keys), dtype=bool)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return self.keys[at] == keys

    def add(self, keys: np.ndarray) -> None:
        self.keys = np.sort(np.concatenate([self.keys, keys]), kind="stable")


@dataclass
class People:
    """One block of beneficiaries: the output frame and the arrays the flows need."""

    frame: pl.DataFrame
    nir: pl.Series
    a: dict[str, np.ndarray] = field(default_factory=dict)


def _age_sampler(rng: np.random.Generator, n: int, lo: int, hi: int, boost: float = 1.0) -> np.ndarray:
    """Ages in [lo, hi] drawn from the Paris pyramid (year resolution); ``boost`` multiplies
    the weight of ages 60+ (people without children at home, to keep the overall pyramid)."""
    weights = np.repeat(np.array(cal.PYRAMIDE_PARIS) / 5.0, 5)
    ages = np.arange(len(weights))
    w = np.where((ages >= lo) & (ages <= hi), weights, 0.0) * np.where(ages >= 60, boost, 1.0)
    return rng.choice(ages, size=n, p=w / w.sum())


def _categorical(rng: np.random.Generator, probs: dict[str, float] | list[float], n: int) -> np.ndarray:
    p = np.array(list(probs.values()) if isinstance(probs, dict) else probs, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _households(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Household of each person, its kind, its number of adults and each person's rank."""
    kind = _categorical(rng, cal.MENAGES, n)
    kids = _categorical(rng, cal.ENFANTS_PAR_FAMILLE, n) + 1
    adults = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3],
        [1, 2, 2, 1],
        default=2 + (rng.random(n) < 0.3),
    )
    has_kids = (kind == 2) | (kind == 3)
    size = adults + np.where(has_kids, kids, 0)
    ends = np.cumsum(size)
    used = int(np.searchsorted(ends, n)) + 1
    hh = np.repeat(np.arange(used), size[:used])[:n]
    starts = np.concatenate([[0], ends[: used - 1]])
    rank = np.arange(n) - starts[hh]
    return hh, kind[:used], adults[:used], rank


def generate(
    rng: np.random.Generator,
    block: int,
    first: int,
    n: int,
    annee: int,
    ps: Professionals,
    emp: Employers,
    registry: NirRegistry,
) -> People:
    """``n`` beneficiaries numbered from ``first`` (block ``block``) for the year ``annee``."""
    y0 = day(dt.date(annee, 1, 1))
    y1 = day(dt.date(annee, 12, 31))
    hh, kind, n_adults, rank = _households(rng, n)
    h = len(kind)
    adult = rank < n_adults[hh]
    child = ~adult
    hkind = kind[hh]

    # --- ages and sexes ---------------------------------------------------------------------
    u = rng.random((8, n))
    hu = rng.random((6, h))
    age = np.zeros(n, dtype=np.int64)
    kid_age = rng.integers(0, 18, n)
    age[child] = kid_age[child]
    # Only one newborn per household unless twins (the second child shares the first's birth).
    first_child = child & (rank == n_adults[hh])
    second_child = child & (rank == n_adults[hh] + 1)
    twins_h = hu[0] < cal.PART_JUMEAUX * 3
    newborn_seen = np.zeros(h, dtype=bool)
    np.logical_or.at(newborn_seen, hh[first_child & (age == 0)], True)
    twin = second_child & twins_h[hh] & newborn_seen[hh]
    age[twin] = 0
    dup_newborn = child & (age == 0) & ~first_child & ~twin
    age[dup_newborn] = 1
    oldest = np.zeros(h, dtype=np.int64)
    np.maximum.at(oldest, hh[child], age[child])
    mother_age_h = oldest + np.clip(rng.normal(*cal.AGE_MERE_NAISSANCE, h), 18, 45).astype(np.int64)
    free_age_h = _age_sampler(rng, h, 18, 99, cal.SURPOIDS_SENIORS_SANS_ENFANT)
    young_age_h = _age_sampler(rng, h, 18, 39)
    partner_gap_h = np.clip(rng.normal(2.0, 4.0, h), -8, 15).astype(np.int64)
    family = (kind == 2) | (kind == 3)
    head_age_h = np.where(family, mother_age_h, np.where(kind == 4, young_age_h, free_age_h))
    second_age_h = np.where(
        kind == 4, _age_sampler(rng, h, 18, 39), np.maximum(18, head_age_h + partner_gap_h)
    )
    age = np.where(adult & (rank == 0), head_age_h[hh], age)
    age = np.where(adult & (rank >= 1), second_age_h[hh], age)
    age = np.clip(age, 0, 104)
    female = np.where(
        adult & (rank == 0),
        np.where(
            hkind == 0,
            u[0] < 0.56,
            np.where(hkind == 3, u[0] < 0.85, np.where(hkind == 4, u[0] < 0.5, u[0] < 0.97)),
        ),
        np.where(adult, np.where(hkind == 4, u[0] < 0.5, u[0] < 0.07), u[0] < 0.49),
    )
    birth = y1 - np.floor((age + u[1]) * 365.2425).astype(np.int64)
    first_birth_h = np.full(h, NONE, dtype=np.int64)
    np.minimum.at(first_birth_h, hh[first_child], birth[first_child])
    birth = np.where(twin, first_birth_h[hh], birth)

    # --- rights regimes (household level) ---------------------------------------------------
    regime_h = rng.random(h)
    ame_h = regime_h < cal.PART_AME
    c2s_h = (regime_h >= cal.PART_AME) & (
        regime_h < cal.PART_AME + cal.PART_C2S_GRATUITE + cal.PART_C2S_PARTICIPATION
    )
    c2s_part_h = c2s_h & (regime_h >= cal.PART_AME + cal.PART_C2S_GRATUITE)
    ame = ame_h[hh]

    # --- place of birth and NIR -------------------------------------------------------------
    place_adult = _categorical(rng, cal.NAISSANCE_ADULTES, n)
    place_child = _categorical(rng, cal.NAISSANCE_ENFANTS, n)
    place = np.where(adult, place_adult, place_child)
    place = np.where(ame & adult, 3, place)  # AME: born abroad
    corse = (place == 1) & (u[2] < cal.PART_CORSE)
    dept = rng.integers(1, 96, n)
    dept = np.where(dept == 20, 21, np.where(dept == 75, 77, dept))  # 20 does not exist; 75 is "paris"
    commune = rng.integers(1, 900, n)
    pays = np.array(names.PAYS)[rng.integers(0, len(names.PAYS), n)]
    om = np.array(names.OUTRE_MER)[rng.integers(0, len(names.OUTRE_MER), n)]
    place5 = np.select(
        [place == 0, corse, place == 1, place == 2],
        [
            75_100 + rng.integers(1, 21, n),
            np.where(u[3] < 0.5, 19_000, 18_000) + commune % 400,
            dept * 1000 + commune,
            om * 100 + rng.integers(1, 35, n),
        ],
        default=99_000 + pays,
    )
    sex_digit = np.where(female, 2, 1)
    nia = (place == 3) & (u[4] < cal.PART_NIA_ETRANGER)
    sex_digit = np.where(nia, sex_digit + 6, sex_digit)
    byear = birth.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    bmonth = birth.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    order = rng.integers(1, 1000, n)
    corsica_flag = np.where(corse, np.where(place5 >= 19_000, 1, 2), 0)
    n13 = sex_digit * 10**12 + (byear % 100) * 10**10 + bmonth * 10**8 + place5 * 1000 + order
    for _ in range(50):  # unique NIRs: draw again the order number of the few collisions
        key = n13 * 4 + corsica_flag
        _, first_idx = np.unique(key, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first_idx] = False
        dup |= registry.taken(key)
        if not dup.any():
            break
        n13 = np.where(dup, n13 - order + (new := rng.integers(1, 1000, n)), n13)
        order = np.where(dup, new, order)
    registry.add(n13 * 4 + corsica_flag)
    nkey = nir_keys(n13)
    first7 = zfill(n13 // 10**6, 7)
    dept_str = choose(
        corse,
        pl.Series(np.where(place5 >= 19_000, "2A", "2B")),
        zfill((place5 // 1000) % 100, 2),
    )
    first7 = concat(first7.str.slice(0, 5), dept_str)
    nir = concat(first7, zfill(n13 % 10**6, 6), zfill(nkey, 2)).alias("nir")

    # --- identity, household, address -------------------------------------------------------
    nom_h = names.pick(rng, names.NOMS, h)
    nom_other = names.pick(rng, names.NOMS, n)
    nom = choose(adult & (rank >= 1) & (u[5] < 0.45), nom_other, nom_h[pl.Series(hh)])
    prenom = choose(female, names.pick(rng, names.PRENOMS_F, n), names.pick(rng, names.PRENOMS_M, n))
    arr_h = rng.integers(1, 21, h)
    adresse_h = concat(
        pl.Series(rng.integers(1, 200, h)).cast(pl.String),
        pl.Series([" "] * h),
        names.pick(rng, names.VOIES, h),
        pl.Series([", 750"] * h),
        zfill(arr_h, 2),
        pl.Series([" Paris"] * h),
    )
    adresse = adresse_h[pl.Series(hh)]
    foyer = zfill(block * 10**6 + hh, 11, "M")
    first_of_h = np.searchsorted(hh, np.arange(h))
    head = first_of_h[hh]
    second = np.where(n_adults[hh] >= 2, np.minimum(head + 1, n - 1), -1)

    # --- rights windows ---------------------------------------------------------------------
    born_abroad = place == 3
    arrival_old = (
        birth
        + (np.maximum(0, y0 - 400 - birth - 18 * 365) * u[6]).astype(np.int64)
        + np.where(adult, 18 * 365, 0)
    )
    droits_debut = np.where(born_abroad & adult, np.minimum(arrival_old, y0 - 30), birth)
    move_h = rng.random(h)
    arrive = (move_h < cal.PART_ARRIVEES)[hh] & (birth < y0)
    leave = (move_h >= 1 - cal.PART_DEPARTS)[hh]
    arrive_day_h = y0 + rng.integers(0, 365, h)
    leave_day_h = y0 + rng.integers(0, 365, h)
    droits_debut = np.where(arrive, arrive_day_h[hh], droits_debut)
    droits_fin = np.where(leave, np.maximum(leave_day_h[hh], droits_debut), NONE)
    has_droits = ~ame
    # AME / C2S: yearly periods starting before the year, 85 % renewed.
    p_start_h = add_months(y0 - rng.integers(0, 365, h), 0)
    p_end_h = add_years(p_start_h, 1) - 1
    renew_h = rng.random(h) < 0.85
    p2_start_h = p_end_h + 1
    p2_end_h = add_years(p2_start_h, 1) - 1
    c2s = c2s_h[hh] & has_droits

    # --- ALD, invalidity, death -------------------------------------------------------------
    band = np.searchsorted([20, 40, 60, 75], age, side="right")
    ald = rng.random(n) < np.array(cal.ALD_PAR_AGE)[band]
    ald_debut = np.maximum(birth, y1 - (rng.random(n) * 15 * 365).astype(np.int64))
    ald_fin = np.where(rng.random(n) < 0.08, y0 + rng.integers(0, 365, n), NONE)
    ald_fin = np.where(ald_fin < ald_debut, NONE, ald_fin)
    inval = adult & (age >= 20) & (age <= 61) & (rng.random(n) < cal.PART_INVALIDITE)
    inval_debut = np.maximum(birth + 20 * 365, y1 - (rng.random(n) * 10 * 365).astype(np.int64))
    q = np.minimum(0.5, cal.MORTALITE_GOMPERTZ[0] * np.exp(cal.MORTALITE_GOMPERTZ[1] * age))
    q = np.where(age == 0, 0.0035, q)
    dead = rng.random(n) < q
    deces = np.where(dead, np.maximum(birth + 1, y0 + rng.integers(0, 365, n)), NONE)

    # --- maternity --------------------------------------------------------------------------
    newborn = child & (age == 0) & (birth >= y0)
    mother_is_head = female[head] & adult[head]
    mother_of = np.where(newborn & mother_is_head, head, -1)
    births_per_mother = np.bincount(mother_of[mother_of >= 0], minlength=n)
    acc = np.full(n, NONE, dtype=np.int64)
    np.minimum.at(acc, mother_of[mother_of >= 0], birth[mother_of >= 0])
    pregnant_next = (
        adult & female & (age >= 22) & (age <= 42) & (hkind != 0) & (acc == NONE) & (rng.random(n) < 0.006)
    )
    acc = np.where(pregnant_next, y1 + rng.integers(1, 121, n), acc)
    has_mat = acc != NONE
    debut6 = acc - 126
    kids_before = np.zeros(n, dtype=np.int64)
    kids_h = np.bincount(hh[child & ~newborn], minlength=h)
    kids_before[has_mat] = kids_h[hh[has_mat]]

    # --- médecin traitant -------------------------------------------------------------------
    gps = ps.pools["generaliste"]
    gp_h = gps[rng.integers(0, len(gps), h)]
    own_gp = gps[rng.integers(0, len(gps), n)]
    mt_old = np.where(rng.random(n) < 0.6, gp_h[hh], own_gp)
    has_mt = rng.random(n) < np.where(age >= 16, cal.PART_MT_ADULTES, cal.PART_MT_ENFANTS)
    has_mt &= ~ame
    lo = np.maximum(np.maximum(birth + np.where(age >= 16, 16 * 365, 0), droits_debut), 12_784)  # 2005-01-01
    mt_debut = lo + (np.maximum(0, y1 - 30 - lo) * rng.random(n)).astype(np.int64)
    change = has_mt & (rng.random(n) < cal.TAUX_DECLARATIONS_MT) & (mt_debut < y0)
    change_day = np.where(change, y0 + rng.integers(0, 365, n), NONE)
    mt_new = gps[rng.integers(0, len(gps), n)]

    # --- cartes Vitale ----------------------------------------------------------------------
    gid = first + np.arange(n)
    opposed = rng.random(n) < cal.TAUX_OPPOSITION_CV
    opp_day = np.where(opposed, y0 + rng.integers(0, 365, n), NONE)
    card0 = concat(zfill(gid, 9, "CV"), pl.Series(["0"] * n))
    card1 = concat(zfill(gid, 9, "CV"), pl.Series(["1"] * n))

    # --- bank account, employment -----------------------------------------------------------
    iban_own, bic_own = iban_fr(rng, n)
    no_iban = adult & (rng.random(n) < cal.PART_SANS_IBAN)
    iban = choose(adult, iban_own, iban_own[pl.Series(head)])
    bic = choose(adult, bic_own, bic_own[pl.Series(head)])
    iban = choose(no_iban, None, iban)
    bic = choose(no_iban, None, bic)
    eband = np.searchsorted([25, 55, 62, 67], age, side="right")
    p_emp = np.append(np.array(cal.EMPLOI_PAR_AGE), 0.0)[eband]
    employed = adult & (age >= 18) & ~inval & ~ame & (rng.random(n) < p_emp)
    employer = np.where(employed, rng.integers(0, len(emp.siret), n), -1)
    salary = np.where(
        employed,
        (rng.lognormal(np.log(cal.SALAIRE_MEDIAN_EUR), cal.SALAIRE_SIGMA, n) * 100).astype(np.int64),
        0,
    )
    salary = np.where(employed, np.maximum(salary, 120_000), 0)

    a = {
        "hh": hh,
        "age": age,
        "female": female,
        "birth": birth,
        "adult": adult,
        "head": head,
        "ame": ame,
        "c2s": c2s,
        "c2s_part": c2s_part_h[hh],
        "droits_debut": droits_debut,
        "droits_fin": droits_fin,
        "p_start": p_start_h[hh],
        "p_end": p_end_h[hh],
        "renew": renew_h[hh],
        "p2_start": p2_start_h[hh],
        "p2_end": p2_end_h[hh],
        "ald": ald,
        "ald_debut": ald_debut,
        "ald_fin": ald_fin,
        "inval": inval,
        "deces": deces,
        "acc": acc,
        "debut6": debut6,
        "multiple": np.maximum(1, births_per_mother),
        "kids_before": kids_before,
        "has_mt": has_mt,
        "mt_old": mt_old,
        "mt_new": mt_new,
        "change_day": change_day,
        "opp_day": opp_day,
        "employed": employed,
        "employer": employer,
        "salary": salary,
        "gid": gid,
        "second": second,
        "hkind": hkind,
        "n_adults": n_adults[hh],
        "y0": np.array([y0]),
        "y1": np.array([y1]),
    }
    frame = _frame(
        a, nir, ps, card0, card1, iban, bic, nom, prenom, adresse, foyer, second, mt_debut, inval_debut, emp
    )
    return People(frame=frame, nir=nir, a=a)


def _frame(
    a: dict[str, np.ndarray],
    nir: pl.Series,
    ps: Professionals,
    card0: pl.Series,
    card1: pl.Series,
    iban: pl.Series,
    bic: pl.Series,
    nom: pl.Series,
    prenom: pl.Series,
    adresse: pl.Series,
    foyer: pl.Series,
    second: np.ndarray,
    mt_debut: np.ndarray,
    inval_debut: np.ndarray,
    emp: Employers,
) -> pl.DataFrame:
    """The contract §1 record of each person (plus identity and household fields)."""
    n = len(nir)
    adult = a["adult"]
    nones = np.full(n, NONE, dtype=np.int64)
    everyone = np.ones(n, dtype=bool)
    c2s, ame, renew = a["c2s"], a["ame"], a["renew"]
    part = pa.array(a["c2s_part"])
    changed = a["change_day"] != NONE
    return pl.DataFrame(
        {
            "nir": nir,
            "date_naissance": as_date(a["birth"]),
            "sexe": np.where(a["female"], "F", "M"),
            "droits": list_of_structs(
                n, [(~ame, {"debut": date_array(a["droits_debut"]), "fin": date_array(a["droits_fin"])})]
            ),
            "ald": list_of_structs(
                n, [(a["ald"], {"debut": date_array(a["ald_debut"]), "fin": date_array(a["ald_fin"])})]
            ),
            "c2s": list_of_structs(
                n,
                [
                    (
                        c2s,
                        {
                            "debut": date_array(a["p_start"]),
                            "fin": date_array(a["p_end"]),
                            "participation": part,
                        },
                    ),
                    (
                        c2s & renew,
                        {
                            "debut": date_array(a["p2_start"]),
                            "fin": date_array(a["p2_end"]),
                            "participation": part,
                        },
                    ),
                ],
            ),
            "ame": list_of_structs(
                n,
                [
                    (ame, {"debut": date_array(a["p_start"]), "fin": date_array(a["p_end"])}),
                    (ame & renew, {"debut": date_array(a["p2_start"]), "fin": date_array(a["p2_end"])}),
                ],
            ),
            "maternite": list_of_structs(
                n,
                [
                    (
                        a["acc"] != NONE,
                        {"debut_6e_mois": date_array(a["debut6"]), "date_accouchement": date_array(a["acc"])},
                    )
                ],
            ),
            "invalidite": list_of_structs(
                n, [(a["inval"], {"debut": date_array(inval_debut), "fin": date_array(nones)})]
            ),
            "medecin_traitant": list_of_structs(
                n,
                [
                    (
                        a["has_mt"],
                        {
                            "ps": ps.ids[pl.Series(a["mt_old"])],
                            "debut": date_array(mt_debut),
                            "fin": date_array(a["change_day"] - 1, changed),
                        },
                    ),
                    (
                        changed,
                        {
                            "ps": ps.ids[pl.Series(a["mt_new"])],
                            "debut": date_array(a["change_day"]),
                            "fin": date_array(nones),
                        },
                    ),
                ],
            ),
            "cartes_vitale": list_of_structs(
                n,
                [
                    (everyone, {"numero": card0, "opposition": date_array(a["opp_day"])}),
                    (a["opp_day"] != NONE, {"numero": card1, "opposition": date_array(nones)}),
                ],
            ),
            "deces": as_date(a["deces"]),
            "iban": iban,
            "bic": bic,
            "nom": nom,
            "prenom": prenom,
            "adresse": adresse,
            "foyer": foyer,
            "parents": list_of_strings(
                n,
                [
                    (~adult, nir[pl.Series(a["head"])]),
                    (~adult & (second >= 0), nir[pl.Series(np.maximum(second, 0))]),
                ],
            ),
            "employeur": choose(a["employed"], emp.siret[pl.Series(np.maximum(a["employer"], 0))], None),
        }
    )
