"""Benchmark of ``caisse liquider``: a year of claims for N beneficiaries, end to end in Parquet.

Generates (deterministically, with numpy) a référentiel of N beneficiaries and their feuilles
for one year (about 25 claim lines per person per year), writes ``feuilles.parquet`` and
``lignes.parquet``, then runs the batch runner (:func:`caisse.rules.claims.batch.run`) with
``--format parquet`` and prints the throughput in claim lines per second and the peak memory
(``resource.getrusage``). The generation time is not counted.

    .venv/bin/python bench/bench_liquider.py --beneficiaires 100000 [--chunk 500000]

``--chunk`` sets the number of feuilles per chunk (processed in the contract's order with
carried counters), which bounds the memory for very large caisses.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from caisse.rules.claims import batch

# (code, profession of the executant, weight in the flow)
CODES = [
    ("G", "medecin", 20),
    ("C", "medecin", 3),
    ("CS", "medecin", 6),
    ("APC", "medecin", 1),
    ("DEQP003", "medecin", 2),
    ("HHFA016", "medecin", 0.2),
    ("ZBQK002", "medecin", 3),
    ("SF", "sage_femme", 1),
    ("HBJD001", "chirurgien_dentiste", 3),
    ("AMI", "infirmier", 8),
    ("AMS", "masseur_kinesitherapeute", 6),
    ("1104", "laboratoire", 6),
    ("B", "laboratoire", 4),
    ("PH7", "pharmacien", 22),
    ("PH4", "pharmacien", 5),
    ("PH2", "pharmacien", 2),
    ("PH1", "pharmacien", 1),
    ("TAX", "transporteur", 2),
    ("2203240", "fournisseur_lpp", 1),
    ("1188214", "fournisseur_lpp", 2),
]
PROFESSIONS = sorted({p for _, p, _ in CODES})


def _nir_keys(numbers: np.ndarray) -> np.ndarray:
    return 97 - numbers % 97


def generate(folder: Path, n: int, seed: int = 2025) -> tuple[int, int]:
    """Write the référentiel and the Parquet flow; return (feuilles, lines)."""
    rng = np.random.default_rng(seed)
    ref = folder / "referentiel"
    ref.mkdir(parents=True, exist_ok=True)
    sexe = rng.integers(1, 3, n)
    year = rng.integers(1930, 2025, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    commune = rng.integers(1, 999, n)
    order = np.arange(n) % 999 + 1
    base = (
        sexe * 10**12 + (year % 100) * 10**10 + month * 10**8 + 75 * 10**6 + commune * 10**3 + order
    ).astype(np.int64)
    nirs = [f"{b:013d}{k:02d}" for b, k in zip(base.tolist(), _nir_keys(base).tolist(), strict=True)]
    birth = [
        f"{y:04d}-{m:02d}-{d:02d}"
        for y, m, d in zip(year.tolist(), month.tolist(), day.tolist(), strict=True)
    ]
    status = rng.random(n)
    with open(ref / "beneficiaires.ndjson", "w", encoding="utf-8") as out:
        for i in range(n):
            s = status[i]
            rec = {
                "nir": nirs[i],
                "date_naissance": birth[i],
                "sexe": "M" if sexe[i] == 1 else "F",
                "droits": [] if s < 0.01 else [{"debut": "2015-01-01", "fin": None}],
                "ame": [{"debut": "2024-06-01", "fin": "2026-05-31"}] if s < 0.01 else [],
                "ald": [{"debut": "2020-01-01", "fin": None}] if 0.01 <= s < 0.12 else [],
                "c2s": [{"debut": "2025-01-01", "fin": "2025-12-31", "participation": False}]
                if 0.12 <= s < 0.18
                else [],
                "invalidite": [{"debut": "2022-01-01", "fin": None}] if 0.18 <= s < 0.20 else [],
                "maternite": [{"debut_6e_mois": "2025-04-01", "date_accouchement": "2025-07-10"}]
                if 0.20 <= s < 0.21 and sexe[i] == 2
                else [],
                "medecin_traitant": [],
                "cartes_vitale": [{"numero": f"CV{i:08d}", "opposition": None}],
                "deces": None,
            }
            out.write(json.dumps(rec) + "\n")
    n_ps = max(len(PROFESSIONS) * 10, n // 20)
    ps_prof = np.array(PROFESSIONS)[np.arange(n_ps) % len(PROFESSIONS)]
    with open(ref / "professionnels.ndjson", "w", encoding="utf-8") as out:
        for i in range(n_ps):
            out.write(
                json.dumps(
                    {
                        "id": f"PS{i:07d}",
                        "profession": str(ps_prof[i]),
                        "specialite": None,
                        "secteur": 1,
                        "optam": False,
                        "conventionne": True,
                    }
                )
                + "\n"
            )
    # Feuilles: ~17 per person per year, 1 to 3 lines each (~25 lines per person per year).
    per_person = rng.poisson(17, n)
    n_f = int(per_person.sum())
    person = np.repeat(np.arange(n), per_person)
    care_day = rng.integers(0, 365, n_f)
    weights = np.array([w for _, _, w in CODES], dtype=float)
    code_idx = rng.choice(len(CODES), n_f, p=weights / weights.sum())
    prof_of_code = np.array([PROFESSIONS.index(p) for _, p, _ in CODES])
    ps_idx = rng.integers(0, n_ps // len(PROFESSIONS), n_f) * len(PROFESSIONS) + prof_of_code[code_idx]
    n_lines = rng.choice([1, 1, 1, 2, 2, 3], n_f)
    reception_day = care_day + rng.integers(0, 12, n_f)
    # A reception flow is in reception order: sort the feuilles by reception day.
    order = np.argsort(reception_day, kind="stable")
    person, care_day, code_idx, ps_idx, n_lines, reception_day = (
        a[order] for a in (person, care_day, code_idx, ps_idx, n_lines, reception_day)
    )
    start = np.datetime64("2025-01-01")
    f = pl.DataFrame(
        {
            "id": [f"F{i:09d}" for i in range(n_f)],
            "type": np.where(rng.random(n_f) < 0.9, "FSE", "FSP"),
            "date_reception": start + reception_day.astype("timedelta64[D]"),
            "nir": np.array(nirs)[person],
            "executant": [f"PS{i:07d}" for i in ps_idx.tolist()],
            "prescripteur": None,
            "tiers_payant": rng.random(n_f) < 0.6,
            "risque": np.where(rng.random(n_f) < 0.03, "atmp", "maladie"),
            "parcours": np.where(rng.random(n_f) < 0.05, "hors_parcours", "medecin_traitant"),
            "en_rapport_ald": rng.random(n_f) < 0.15,
            "carte_vitale": None,
        }
    ).with_columns(pl.col("date_reception").cast(pl.Date))
    f.write_parquet(folder / "feuilles.parquet")
    line_f = np.repeat(np.arange(n_f), n_lines)
    n_l = len(line_f)
    # Lines of a feuille share the executant's profession: pick codes of the same profession.
    same_prof_codes = {p: [i for i, (_, q, _) in enumerate(CODES) if q == p] for p in PROFESSIONS}
    prof_line = prof_of_code[code_idx][line_f]
    alt = np.array([rng.choice(same_prof_codes[PROFESSIONS[p]]) for p in range(len(PROFESSIONS))])
    line_code = np.where(rng.random(n_l) < 0.7, code_idx[line_f], alt[prof_line])
    codes = np.array([c for c, _, _ in CODES])[line_code]
    coef = np.where(
        np.isin(codes, ["AMS"]),
        7.5,
        np.where(np.isin(codes, ["AMI"]), 2.0, np.where(codes == "B", 40.0, 1.0)),
    )
    lines = pl.DataFrame(
        {
            "feuille_id": f.get_column("id").to_numpy()[line_f],
            "code": codes,
            "date_soins": (start + care_day[line_f].astype("timedelta64[D]")),
            "quantite": rng.choice([1, 1, 1, 2], n_l),
            "coefficient": coef,
            "montant_facture_cts": rng.integers(0, 20000, n_l),
        }
    ).with_columns(pl.col("date_soins").cast(pl.Date))
    lines.write_parquet(folder / "lignes.parquet")
    return n_f, n_l


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beneficiaires", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=batch.CHUNK_FEUILLES)
    parser.add_argument("--dossier", type=Path, default=None, help="Keep the generated files here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dossier or Path(tmp)
        t0 = time.perf_counter()
        n_f, n_l = generate(folder, args.beneficiaires)
        gen = time.perf_counter() - t0
        print(
            f"généré : {args.beneficiaires} bénéficiaires, {n_f} feuilles, {n_l} lignes en {gen:.1f} s",
            file=sys.stderr,
        )
        batch.CHUNK_FEUILLES = args.chunk
        t1 = time.perf_counter()
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        load0 = os.getloadavg()[0]
        batch.run(folder / "referentiel", folder / "feuilles.parquet", str(folder / "sortie"), "parquet")
        elapsed = time.perf_counter() - t1
        usage = resource.getrusage(resource.RUSAGE_SELF)
        peak_kib = usage.ru_maxrss
        cpu = (usage.ru_utime - cpu0.ru_utime) + (usage.ru_stime - cpu0.ru_stime)
        dec = pl.read_parquet(folder / "sortie" / "decomptes.parquet", columns=["statut"])
        print(
            json.dumps(
                {
                    "beneficiaires": args.beneficiaires,
                    "feuilles": n_f,
                    "lignes": n_l,
                    "secondes": round(elapsed, 2),
                    "lignes_par_seconde": round(n_l / elapsed),
                    "memoire_max_mib": round(peak_kib / 1024),
                    "cpu_secondes": round(cpu, 2),
                    "charge_machine_au_debut": round(load0, 2),
                    "liquidees": int((dec.get_column("statut") == "liquidee").sum()),
                }
            )
        )


if __name__ == "__main__":
    main()
