"""Health professionals, establishments and employers of the synthetic caisse.

Counts are the Paris counts of the 2019 report scaled to the simulated population (with a
minimum so that a tiny caisse still has every profession of contract §1). Individuals get an
RPPS (11 digits, Luhn key); structures (laboratories, establishments, transporters, LPP
suppliers) get a FINESS-like 9-digit number; employers a valid SIRET.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from caisse.simulation import calibration as cal
from caisse.simulation import names
from caisse.simulation.ids import choose, concat, iban_fr, siret_numbers, with_luhn, zfill

#: Professions of contract §1 and the prefix of the 9-digit numbers of structures.
STRUCTURES = {"laboratoire": 7502, "etablissement": 7500, "transporteur": 7580, "fournisseur_lpp": 7590}
SPECIALITES = list(cal.SPECIALITES)


@dataclass
class Professionals:
    """The professionals' table and the pools the claims draw executants from."""

    frame: pl.DataFrame
    ids: pl.Series
    secteur: np.ndarray
    optam: np.ndarray
    pools: dict[str, np.ndarray]  # pool name -> row indices
    spe_of: np.ndarray  # specialty index (-1 for GPs and non-doctors)


@dataclass
class Employers:
    frame: pl.DataFrame
    siret: pl.Series


def _count(paris: float, scale: float, minimum: int) -> int:
    return max(minimum, int(round(paris * scale)))


def generate(rng: np.random.Generator, beneficiaires: int) -> Professionals:
    """Every professional of the caisse, deterministic for ``rng``."""
    scale = beneficiaires / cal.PARIS_BENEFICIAIRES
    p = cal.PROFESSIONNELS_PARIS
    rows: list[tuple[str, str | None, int, bool]] = []  # profession, specialite, secteur, optam

    def add(
        profession: str, specialite: str | None, secteur: int, count: int, optam_share: float = 0.0
    ) -> None:
        optam = rng.random(count) < optam_share
        rows.extend((profession, specialite, secteur, bool(o)) for o in optam)

    add("medecin", "medecine_generale", 1, _count(p["generaliste_s1"], scale, 3))
    add("medecin", "medecine_generale", 2, _count(p["generaliste_s2"], scale, 1), cal.PART_OPTAM_SECTEUR2)
    add("medecin", "medecine_generale", 3, _count(p["medecin_s3"] * 0.3, scale, 0))
    spe_weights = np.array(list(cal.SPECIALITES.values()))
    for sect, key, minimum in ((1, "specialiste_s1", 1), (2, "specialiste_s2", 0), (3, "medecin_s3", 0)):
        total = p[key] * (0.7 if sect == 3 else 1.0)
        for spec, w in zip(SPECIALITES, spe_weights / spe_weights.sum(), strict=True):
            share = cal.PART_OPTAM_SECTEUR2 if sect == 2 else 0.0
            add("medecin", spec, sect, _count(total * w, scale, minimum), share)
    add("chirurgien_dentiste", None, 1, _count(p["chirurgien_dentiste"], scale, 1))
    add("sage_femme", None, 1, _count(p["sage_femme"], scale, 1))
    for prof, share in cal.AUXILIAIRES.items():
        add(prof, None, 1, _count(p["auxiliaires"] * share, scale, 1))
    add("pharmacien", None, 1, _count(p["pharmacien"], scale, 2))
    for prof in STRUCTURES:
        add(prof, None, 1, _count(p[prof], scale, 1))

    n = len(rows)
    profession = pl.Series("profession", [r[0] for r in rows])
    specialite = pl.Series("specialite", [r[1] for r in rows], dtype=pl.String)
    secteur = np.array([r[2] for r in rows], dtype=np.int64)
    optam = np.array([r[3] for r in rows], dtype=bool)
    prof_np = profession.to_numpy()
    is_structure = np.isin(prof_np, list(STRUCTURES))

    # Identifiers: RPPS "10" + 8 digits + Luhn; structures PPPP + 4 digits + Luhn.
    rpps_payload = 1_000_000_000 + rng.choice(100_000_000, size=n, replace=False)
    rpps = with_luhn(rpps_payload, 10)
    prefix = np.array([STRUCTURES.get(x, 0) for x in prof_np], dtype=np.int64)
    struct_payload = prefix * 10_000 + rng.choice(10_000, size=n, replace=False)
    finess = with_luhn(struct_payload, 8)
    ids = choose(is_structure, zfill(finess, 9), zfill(rpps, 11)).alias("id")

    iban, bic = iban_fr(rng, n)
    nom = names.pick(rng, names.NOMS, n)
    female = rng.random(n) < 0.5
    prenom = choose(female, names.pick(rng, names.PRENOMS_F, n), names.pick(rng, names.PRENOMS_M, n))
    libelle_structure = {
        "laboratoire": "Laboratoire de biologie médicale",
        "etablissement": "Centre hospitalier",
        "transporteur": "Ambulances et taxis",
        "fournisseur_lpp": "Matériel médical et optique",
    }
    raison = pl.Series([libelle_structure.get(x, "") for x in prof_np]) + " " + nom
    arr = pl.Series(rng.integers(1, 21, n))
    adresse = concat(
        pl.Series(rng.integers(1, 160, n)).cast(pl.String),
        pl.Series([" "] * n),
        names.pick(rng, names.VOIES, n),
        pl.Series([", 750"] * n),
        arr.cast(pl.String).str.zfill(2),
        pl.Series([" Paris"] * n),
    )
    frame = pl.DataFrame(
        {
            "id": ids,
            "profession": profession,
            "specialite": specialite,
            "secteur": secteur,
            "optam": optam,
            "conventionne": secteur != 3,
            "iban": iban,
            "bic": bic,
            "nom": choose(is_structure, None, nom),
            "prenom": choose(is_structure, None, prenom),
            "raison_sociale": choose(is_structure, raison, None),
            "adresse": adresse,
        }
    )
    spec_np = specialite.fill_null("").to_numpy()
    pools: dict[str, np.ndarray] = {}
    for prof in set(prof_np):
        pools[prof] = np.nonzero(prof_np == prof)[0]
    pools["generaliste"] = np.nonzero(spec_np == "medecine_generale")[0]
    spe_of = np.full(n, -1, dtype=np.int64)
    for i, spec in enumerate(SPECIALITES):
        idx = np.nonzero(spec_np == spec)[0]
        if len(idx) == 0:  # a tiny caisse: borrow any specialist
            idx = np.nonzero((prof_np == "medecin") & (spec_np != "medecine_generale"))[0]
        pools["spe:" + spec] = idx
        spe_of[spec_np == spec] = i
    return Professionals(frame=frame, ids=ids, secteur=secteur, optam=optam, pools=pools, spe_of=spe_of)


def employers(rng: np.random.Generator, salaries: int) -> Employers:
    """Employers of the salaried beneficiaries, with a valid SIRET (SIREN + NIC, Luhn)."""
    n = max(3, int(round(salaries / cal.SALARIES_PAR_EMPLOYEUR)))
    siret = zfill(siret_numbers(rng.choice(100_000_000, size=n, replace=False)), 14)
    nom = names.pick(rng, names.NOMS, n)
    forme = names.pick(rng, ["SAS", "SARL", "SA", "Association", "EURL"], n)
    effectif = np.maximum(1, rng.lognormal(2.0, 1.3, n).astype(np.int64))
    frame = pl.DataFrame(
        {
            "siret": siret,
            "raison_sociale": concat(forme, pl.Series([" "] * n), nom),
            "effectif": effectif,
            "code_postal": "750" + pl.Series(rng.integers(1, 21, n)).cast(pl.String).str.zfill(2),
        }
    )
    return Employers(frame=frame, siret=siret)
