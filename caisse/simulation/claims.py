"""Feuilles de soins (contract §2 input) for one block of beneficiaries, fully vectorised.

Each person gets a yearly number of feuilles (gamma-Poisson around the Paris mean, by age and
ALD), spread over the months like the Paris 2019 décomptes and kept inside the person's rights
window. The kind of care follows the Paris 2019 spending mix; it decides the executant's
profession, the codes (picked from the nomenclature in force at the date of care), the
prescripteur, the tiers payant probability and the number of lines. Maternity and AT/MP care
come on top, with their risk. A few deliberately bad records are injected (see
:mod:`caisse.simulation.anomalies`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caisse.simulation import calibration as cal
from caisse.simulation.dates import NONE
from caisse.simulation.nomenclature import FAMILY_INDEX as FAM
from caisse.simulation.nomenclature import Nomenclature
from caisse.simulation.people import People
from caisse.simulation.professionals import SPECIALITES, Professionals

KINDS = [
    "pharmacie", "generaliste", "specialiste", "dentiste", "sage_femme", "infirmier", "kine",
    "orthophonie", "orthoptie", "podologie", "laboratoire", "transport", "dm", "optique", "audio",
    "etablissement",
]  # fmt: skip
K = {name: i for i, name in enumerate(KINDS)}
POOL_OF_KIND = {
    "pharmacie": "pharmacien", "dentiste": "chirurgien_dentiste", "sage_femme": "sage_femme",
    "infirmier": "infirmier", "kine": "masseur_kinesitherapeute", "orthophonie": "orthophoniste",
    "orthoptie": "orthoptiste", "podologie": "pedicure_podologue", "laboratoire": "laboratoire",
    "transport": "transporteur", "dm": "fournisseur_lpp", "optique": "fournisseur_lpp",
    "audio": "fournisseur_lpp", "etablissement": "etablissement",
}  # fmt: skip
FAMILY_OF_KIND = {
    "dentiste": "dentaire", "sage_femme": "sage_femme", "infirmier": "infirmier", "kine": "kine",
    "orthophonie": "orthophonie", "orthoptie": "orthoptie", "podologie": "podologie",
    "laboratoire": "biologie", "transport": "transport", "dm": "dm", "optique": "optique",
    "audio": "audio", "etablissement": "tech", "pharmacie": "med_65", "generaliste": "gp",
    "specialiste": "spe",
}  # fmt: skip
PRESCRIBED = [
    "pharmacie",
    "infirmier",
    "kine",
    "orthophonie",
    "orthoptie",
    "podologie",
    "laboratoire",
    "transport",
    "dm",
    "optique",
    "audio",
]
PARCOURS = [
    "medecin_traitant",
    "oriente",
    "hors_parcours",
    "urgence",
    "acces_direct_specifique",
    "remplacant",
    "hors_residence",
]
RISQUES = ["maladie", "maternite", "atmp"]
SPE = {name: i for i, name in enumerate(SPECIALITES)}
#: Specialty → (family of the consultation, second-line technical family or "", its share).
SPE_FAMILY = {
    "psychiatrie": ("psy", "", 0.0), "gynecologie": ("gyn", "", 0.0), "geriatrie": ("ger", "", 0.0),
    "radiologie": ("imagerie", "", 0.0), "cardiologie": ("spe", "tech_cardio", 0.35),
    "pneumologie": ("spe", "tech_pneumo", 0.3), "dermatologie": ("spe", "tech_derm", 0.2),
    "ophtalmologie": ("spe", "tech_ophtalmo", 0.05), "chirurgie": ("spe", "tech_chir", 0.1),
}  # fmt: skip
#: Medicines mix of a pharmacy line (hypothèse): 65 %, 30 %, 100 %, 15 %, LPP.
PHARMACIE_MIX = {"med_65": 0.60, "med_30": 0.15, "med_100": 0.10, "med_15": 0.05, "dm": 0.10}
#: Lines per feuille beyond the first (Poisson means, hypothèse).
EXTRA_LINES = {"pharmacie": 0.9, "laboratoire": 1.5, "infirmier": 0.6, "kine": 0.3, "dentiste": 0.3}


def kind_shares() -> np.ndarray:
    """Share of each kind of care among feuilles (spending / mean amount, see calibration)."""
    counts = {k: spend / mean for k, (spend, mean) in cal.DEPENSES_PARIS_2019.items()}
    lpp = counts.pop("lpp")
    for k, share in cal.LPP_SPLIT.items():
        counts[k] = lpp * share
    total = sum(counts.values())
    shares = np.array([counts.get(k, 0.0) / total for k in KINDS])
    shares[K["etablissement"]] = cal.PART_ETABLISSEMENT
    return shares / shares.sum()


@dataclass
class Claims:
    """Feuilles and lines of a block as arrays (dates are day numbers)."""

    person: np.ndarray
    kind: np.ndarray
    typ_fsp: np.ndarray
    reception: np.ndarray
    executant: np.ndarray
    prescripteur: np.ndarray  # -1 = none
    tiers_payant: np.ndarray
    risque: np.ndarray
    parcours: np.ndarray
    ald: np.ndarray
    card: np.ndarray  # 0 = first card, 1 = second card, -1 = none
    # lines
    offsets: np.ndarray
    row: np.ndarray
    line_day: np.ndarray
    quantite: np.ndarray
    coefficient: np.ndarray
    montant: np.ndarray


def _pick(pool: np.ndarray, u: np.ndarray) -> np.ndarray:
    return pool[np.minimum((u * len(pool)).astype(np.int64), len(pool) - 1)]


def _windows(a: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Days of the year the person is covered and alive: [start, end]."""
    y0, y1 = int(a["y0"][0]), int(a["y1"][0])
    start = np.where(a["ame"], a["p_start"], a["droits_debut"])
    end = np.where(a["ame"], np.where(a["renew"], a["p2_end"], a["p_end"]), a["droits_fin"])
    start = np.maximum(np.maximum(start, y0), a["birth"])
    end = np.minimum(np.minimum(end, y1), np.where(a["deces"] == NONE, NONE, a["deces"] - 1))
    return start, end


def generate(
    rng: np.random.Generator, pe: People, ps: Professionals, nomen: Nomenclature, extra: dict[str, np.ndarray]
) -> Claims:
    """Feuilles of one block; ``extra`` holds the AT/MP victims (``atmp_person``, ``atmp_day``)."""
    a = pe.a
    n = len(a["age"])
    y0 = int(a["y0"][0])
    start, end = _windows(a)
    covered = np.maximum(0, end - start + 1)
    age = a["age"]
    mult = np.array(cal.CONSO_PAR_AGE)[np.searchsorted(cal.CONSO_AGE_BORNES, age, side="right")]
    mult = mult * np.where(a["ald"], cal.CONSO_ALD, 1.0)
    weight = mult * covered / 365.0
    scale = cal.FEUILLES_PAR_BENEFICIAIRE * n / max(weight.sum(), 1e-9)
    lam = rng.gamma(cal.CONSO_DISPERSION, weight * scale / cal.CONSO_DISPERSION)
    count = rng.poisson(lam)
    person = np.repeat(np.arange(n), count)
    kind = rng.choice(len(KINDS), size=len(person), p=kind_shares())
    forced_spe = np.full(len(person), -1, dtype=np.int64)
    risque = np.zeros(len(person), dtype=np.int64)
    # dates: month seasonality, then kept inside the window
    months = np.array(cal.DECOMPTES_PAR_MOIS, dtype=np.float64)
    month = rng.choice(12, size=len(person), p=months / months.sum())
    first_month = np.datetime64(y0, "D").astype("datetime64[M]")
    month_start = (first_month + np.arange(13)).astype("datetime64[D]").astype(np.int64)
    length = np.diff(month_start)
    day = month_start[month] + (rng.random(len(person)) * length[month]).astype(np.int64)
    s, e = start[person], end[person]
    outside = (day < s) | (day > e)
    day = np.where(outside, s + (rng.random(len(person)) * (e - s + 1)).astype(np.int64), day)

    # maternity and AT/MP care on top
    mat = (a["acc"] != NONE) & (a["debut6"] <= int(a["y1"][0]))
    mat_person = np.repeat(np.nonzero(mat)[0], cal.FEUILLES_MATERNITE)
    lo = np.maximum(start[mat_person], a["debut6"][mat_person] - 90)
    hi = np.minimum(end[mat_person], a["acc"][mat_person] + 12)
    ok = hi >= lo
    mat_person, lo, hi = mat_person[ok], lo[ok], hi[ok]
    mat_day = lo + (rng.random(len(mat_person)) * (hi - lo + 1)).astype(np.int64)
    mat_kind = rng.choice(
        [K["sage_femme"], K["specialiste"], K["laboratoire"], K["specialiste"]],
        size=len(mat_person),
        p=[0.4, 0.25, 0.2, 0.15],
    )
    mat_spe = np.where(
        mat_kind == K["specialiste"],
        np.where(rng.random(len(mat_person)) < 0.6, SPE["gynecologie"], SPE["radiologie"]),
        -1,
    )
    at_person = np.repeat(extra["atmp_person"], cal.FEUILLES_ATMP)
    at_day = np.repeat(extra["atmp_day"], cal.FEUILLES_ATMP) + rng.integers(0, 60, len(at_person))
    keep = (at_day >= start[at_person]) & (at_day <= end[at_person])
    at_person, at_day = at_person[keep], at_day[keep]
    at_kind = rng.choice(
        [K["generaliste"], K["kine"], K["pharmacie"], K["specialiste"]],
        size=len(at_person),
        p=[0.35, 0.25, 0.3, 0.1],
    )
    at_spe = np.where(at_kind == K["specialiste"], SPE["radiologie"], -1)
    person = np.concatenate([person, mat_person, at_person])
    kind = np.concatenate([kind, mat_kind, at_kind])
    day = np.concatenate([day, mat_day, at_day])
    forced_spe = np.concatenate([forced_spe, mat_spe, at_spe])
    risque = np.concatenate([risque, np.ones(len(mat_person), np.int64), np.full(len(at_person), 2)])
    f = len(person)
    u = rng.random((12, f), dtype=np.float32)
    female, p_age = a["female"][person], age[person]
    # Sage-femme care is for women aged 15 to 50; others see a GP.
    kind = np.where(
        (kind == K["sage_femme"]) & ~(female & (p_age >= 15) & (p_age <= 50)), K["generaliste"], kind
    )
    # Sundays: most care moves to Saturday (hypothèse).
    sunday = ((day + 3) % 7 == 6) & (u[0] < 0.85) & (kind != K["etablissement"])
    day = np.where(sunday & (day - 1 >= start[person]), day - 1, day)

    # médecin traitant at the date
    mt = np.where(
        (a["change_day"][person] != NONE) & (day >= a["change_day"][person]),
        a["mt_new"][person],
        a["mt_old"][person],
    )
    has_mt = a["has_mt"][person]
    # executants
    executant = np.zeros(f, dtype=np.int64)
    gp = kind == K["generaliste"]
    by_mt = gp & has_mt & (u[1] < 0.85)
    executant[gp] = _pick(ps.pools["generaliste"], u[2][gp])
    executant[by_mt] = mt[by_mt]
    spe = kind == K["specialiste"]
    spw = np.array(list(cal.SPECIALITES.values()))
    specialty = rng.choice(len(SPECIALITES), size=f, p=spw / spw.sum())
    specialty = np.where(forced_spe >= 0, forced_spe, specialty)
    wrong = ((specialty == SPE["pediatrie"]) & (p_age >= 16)) | (
        (specialty == SPE["geriatrie"]) & (p_age < 70)
    )
    wrong |= (specialty == SPE["gynecologie"]) & ~female
    specialty = np.where(wrong, SPE["medecine_interne"], specialty)
    for s_name, s_idx in SPE.items():
        m = spe & (specialty == s_idx)
        if m.any():
            executant[m] = _pick(ps.pools["spe:" + s_name], u[2][m])
    for k_name, pool in POOL_OF_KIND.items():
        m = kind == K[k_name]
        if m.any():
            pool_idx = ps.pools[pool]
            if k_name == "dm":
                pool_idx = np.concatenate([ps.pools["pharmacien"], ps.pools["fournisseur_lpp"]])
            executant[m] = _pick(pool_idx, u[2][m])
    # parcours
    parc = np.zeros(f, dtype=np.int64)
    physician = gp | spe
    adult16 = p_age >= 16
    gp_other = gp & ~by_mt & has_mt
    parc = np.where(gp_other, rng.choice([2, 3, 5, 6], size=f, p=[0.3, 0.3, 0.3, 0.1]), parc)
    parc = np.where(gp & ~has_mt, np.where(u[3] < 0.75, 2, 3), parc)
    direct = (specialty == SPE["gynecologie"]) | (specialty == SPE["ophtalmologie"])
    direct |= (specialty == SPE["psychiatrie"]) & (p_age >= 16) & (p_age <= 25)
    parc = np.where(spe & has_mt, np.where(direct, 4, np.where(u[3] < 0.93, 1, 2)), parc)
    parc = np.where(spe & ~has_mt, np.where(u[3] < 0.8, 2, 3), parc)
    parc = np.where(physician & ~adult16 & (parc == 2), 0, parc)
    parc = np.where(a["ame"][person] & physician, 0, parc)
    # maternity risk for care in the exoneration window
    in_mat = (a["acc"][person] != NONE) & (day >= a["debut6"][person]) & (day <= a["acc"][person] + 12)
    mat_kind_ok = np.isin(kind, [K["sage_femme"], K["laboratoire"]]) | (
        spe & (specialty == SPE["gynecologie"])
    )
    risque = np.where((risque == 0) & in_mat & mat_kind_ok, 1, risque)
    # ALD, C2S, tiers payant
    ald_on = (
        a["ald"][person]
        & (day >= a["ald_debut"][person])
        & ((a["ald_fin"][person] == NONE) | (day <= a["ald_fin"][person]))
    )
    en_ald = ald_on & (u[4] < cal.PART_SOINS_EN_RAPPORT_ALD) & (risque == 0)
    c2s_on = (
        a["c2s"][person]
        & (day >= a["p_start"][person])
        & ((day <= a["p_end"][person]) | (a["renew"][person] & (day <= a["p2_end"][person])))
    )
    tiers = _tiers_payant(kind, c2s_on | a["ame"][person] | en_ald | (risque > 0), u[5])
    # prescripteur: the médecin traitant, else a GP or a specialist
    prescribed = np.isin(kind, [K[k] for k in PRESCRIBED])
    other_doc = np.where(
        u[6] < 0.7, _pick(ps.pools["generaliste"], u[7]), _pick(np.nonzero(ps.spe_of >= 0)[0], u[7])
    )
    presc = np.where(prescribed, np.where(has_mt & (u[6] < 0.8), mt, other_doc), -1)
    # type and carte Vitale
    fsp = u[8] < cal.PART_FSP
    opp = a["opp_day"][person]
    card = np.where(fsp | (u[9] < cal.PART_FSE_SANS_CARTE), -1, np.where((opp != NONE) & (day >= opp), 1, 0))

    # --- lines ------------------------------------------------------------------------------
    extra_mean = np.zeros(len(KINDS))
    for k_name, mean in EXTRA_LINES.items():
        extra_mean[K[k_name]] = mean
    nl = 1 + np.minimum(rng.poisson(extra_mean[kind]), 5)
    fam0 = np.array([FAM[FAMILY_OF_KIND[k]] for k in KINDS])[kind]
    fam0 = np.where(gp & (ps.secteur[executant] == 2) & ~ps.optam[executant], FAM["gp_s2"], fam0)
    fam0 = np.where(gp & (p_age < 6), FAM["gp_enfant"], fam0)
    second = np.full(f, -1, dtype=np.int64)
    second = np.where(gp & (u[10] < 0.05), FAM["tech_gp"], second)
    for s_name, (fam, tech, share) in SPE_FAMILY.items():
        m = spe & (specialty == SPE[s_name])
        fam0 = np.where(m, FAM[fam], fam0)
        if tech:
            second = np.where(m & (u[10] < share), FAM[tech], second)
    fam0 = np.where((kind == K["etablissement"]) & (u[10] < 0.4), FAM["imagerie"], fam0)
    nl = np.where(second >= 0, 2, nl)
    offsets = np.concatenate([[0], np.cumsum(nl)])
    line_f = np.repeat(np.arange(f), nl)
    rank = np.arange(len(line_f)) - offsets[line_f]
    lk = kind[line_f]
    fam_line = fam0[line_f]
    pharm_fams = np.array([FAM[x] for x in PHARMACIE_MIX])
    pharm_lines = np.nonzero(lk == K["pharmacie"])[0]
    fam_line[pharm_lines] = rng.choice(
        pharm_fams, size=len(pharm_lines), p=np.array(list(PHARMACIE_MIX.values()))
    )
    fam_line = np.where((rank == 1) & (second[line_f] >= 0), second[line_f], fam_line)
    step = np.where(lk == K["infirmier"], 1, np.where(lk == K["kine"], 2, 0))
    line_day = np.minimum(day[line_f] + rank * step, end[person][line_f])
    lu = rng.random((4, len(line_f)), dtype=np.float32)
    row = nomen.pick(fam_line, line_day, lu[0])
    coef = nomen.coefficient(row, lu[1])
    qty = np.ones(len(line_f), dtype=np.int64)
    boxes = (lk == K["pharmacie"]) | (lk == K["dm"])
    qty = np.where(boxes, 1 + (lu[2] > 0.7) + (lu[2] > 0.92), qty)
    qty = np.where(lk == K["transport"], 1 + (lu[2] > 0.5), qty)
    base = nomen.tarif[row] * coef * qty
    montant = base + _depassement(rng, base, lk, executant[line_f], ps, c2s_on[line_f], nomen, row)

    # a person does not get the same act from the same professional twice the same day
    dup_f = _repeated_acts(person[line_f], executant[line_f], row, line_day, line_f)
    if dup_f.any():
        keep_f = ~dup_f
        keep_l = keep_f[line_f]
        nl_kept = np.diff(offsets)[keep_f]
        offsets = np.concatenate([[0], np.cumsum(nl_kept)])
        person, kind, fsp, executant, presc, tiers, risque, parc, en_ald, card = (
            x[keep_f] for x in (person, kind, fsp, executant, presc, tiers, risque, parc, en_ald, card)
        )
        row, line_day, qty, coef, montant = (x[keep_l] for x in (row, line_day, qty, coef, montant))
        f = len(person)
    last_day = np.maximum.reduceat(line_day, offsets[:-1]) if f else np.zeros(0, dtype=np.int64)
    delay_mean = np.where(fsp, cal.DELAI_RECEPTION_FSP, cal.DELAI_RECEPTION_FSE)
    reception = last_day + rng.geometric(1.0 / delay_mean) - 1
    return Claims(
        person=person, kind=kind, typ_fsp=fsp, reception=reception, executant=executant,
        prescripteur=presc, tiers_payant=tiers, risque=risque, parcours=parc, ald=en_ald, card=card,
        offsets=offsets, row=row, line_day=line_day, quantite=qty, coefficient=coef, montant=montant,
    )  # fmt: skip


def _tiers_payant(kind: np.ndarray, forced: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Tiers payant: mandatory cases (C2S, AME, ALD care, maternity, AT/MP), then by kind of
    care with propensities scaled so that the overall share is the Paris 74,96 %."""
    if len(kind) == 0:
        return forced
    propensity = np.array([cal.TIERS_PAYANT_PAR_TYPE.get(k, 0.5) for k in KINDS])[kind]
    share_forced = forced.mean()
    free = ~forced
    mean_p = propensity[free].mean() if free.any() else 1.0
    scale = (cal.PART_TIERS_PAYANT - share_forced) / max((1 - share_forced) * mean_p, 1e-9)
    scale = float(np.clip(scale, 0.0, 1.0 / propensity.max()))
    return forced | (u < propensity * scale)


def _repeated_acts(
    person: np.ndarray, executant: np.ndarray, row: np.ndarray, day: np.ndarray, feuille: np.ndarray
) -> np.ndarray:
    """Feuilles holding an act (person, professional, code, day) already in an earlier feuille."""
    dup = np.zeros(int(feuille.max()) + 1 if len(feuille) else 0, dtype=bool)
    if len(feuille) < 2:
        return dup
    # one int64 key per act: person (in the block) 16 bits, professional 20, row 12, day 14
    day_rel = day - int(day.min())
    fits = (
        person.max() < 1 << 16
        and executant.max() < 1 << 20
        and row.max() < 1 << 12
        and day_rel.max() < 1 << 14
    )
    if fits:
        key = (((person.astype(np.int64) << 20 | executant) << 12 | row) << 14) | day_rel
        sorted_key = np.sort(key)
        repeated = np.unique(sorted_key[1:][sorted_key[1:] == sorted_key[:-1]])
        if len(repeated) == 0:
            return dup
        at = np.minimum(np.searchsorted(repeated, key), len(repeated) - 1)
        cand = np.nonzero(repeated[at] == key)[0]  # the few lines sharing their act
        ckey, cfeuille = key[cand], feuille[cand]
        order = np.lexsort((cfeuille, ckey))
        same = np.zeros(len(order), dtype=bool)
        same[1:] = (ckey[order[1:]] == ckey[order[:-1]]) & (cfeuille[order[1:]] != cfeuille[order[:-1]])
        dup[cfeuille[order[same]]] = True
        return dup
    order = np.lexsort((feuille, day, row, executant, person))
    keys = np.stack([person, executant, row, day])[:, order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = (keys[:, 1:] == keys[:, :-1]).all(axis=0) & (feuille[order[1:]] != feuille[order[:-1]])
    dup[feuille[order[same]]] = True
    return dup


def _depassement(
    rng: np.random.Generator,
    base: np.ndarray,
    kind: np.ndarray,
    executant: np.ndarray,
    ps: Professionals,
    c2s: np.ndarray,
    nomen: Nomenclature,
    row: np.ndarray,
) -> np.ndarray:
    """Extra fees over the tariff (hypothèse): secteur 2 (OPTAM less), secteur 3, dental,
    optical and hearing devices; none for C2S beneficiaries (rules A.9)."""
    doctor = (kind == K["generaliste"]) | (kind == K["specialiste"])
    concerned = doctor | np.isin(kind, [K["dentiste"], K["dm"], K["optique"], K["audio"]])
    out = np.zeros(len(base), dtype=np.int64)
    idx = np.nonzero(concerned & ~c2s)[0]
    m = len(idx)
    u = rng.random((2, m))
    kind, base, doctor, row = kind[idx], base[idx], doctor[idx], row[idx]
    sect = ps.secteur[executant[idx]]
    optam = ps.optam[executant[idx]]
    rate = np.zeros(m)
    rate = np.where(doctor & (sect == 2) & ~optam & (u[0] < 0.9), 0.4 + 1.1 * u[1], rate)
    rate = np.where(doctor & (sect == 2) & optam & (u[0] < 0.5), 0.1 + 0.4 * u[1], rate)
    rate = np.where(doctor & (sect == 1) & (u[0] < 0.01), 0.1 + 0.4 * u[1], rate)
    rate = np.where(doctor & (sect == 3), 0.5 + 1.5 * u[1], rate)
    rate = np.where((kind == K["dentiste"]) & (u[0] < 0.15), 0.5 + 2.5 * u[1], rate)
    rate = np.where((kind == K["dm"]) & (u[0] < 0.1), 0.1 + 0.5 * u[1], rate)
    extra = (base * rate).astype(np.int64)
    tarif = nomen.tarif[row]
    cheap = tarif < 100  # LPP class B glasses: reimbursement base of a few cents
    extra = np.where((kind == K["optique"]) & cheap, 8_000 + (17_000 * u[1]).astype(np.int64), extra)
    extra = np.where(
        (kind == K["audio"]) & (tarif >= 40_000), 50_000 + (100_000 * u[1]).astype(np.int64), extra
    )
    out[idx] = extra
    return out
