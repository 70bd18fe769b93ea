"""A small deterministic caisse for the persistent-path tests and ``bench/bench_traiter.py``.

Writes a référentiel folder (beneficiaries with rights, ALD, C2S, IBANs; professionals; a
nomenclature of its own so that every cap and franchise is exercised) and a flow of feuilles
over one year, many per person so that the annual and daily caps and the debt matter.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

# (code, category, tariff in cents, profession of the executant, weight)
CODES = [
    ("TG", "consultation_medecin", 3000, "medecin", 30),
    ("TCS", "consultation_medecin", 3150, "medecin", 8),
    ("TECG", "acte_technique_medecin", 1452, "medecin", 3),
    ("TRX", "imagerie", 3990, "medecin", 3),
    ("TLOURD", "acte_technique_medecin", 15000, "medecin", 1),
    ("TAMI", "auxiliaire_medical", 630, "infirmier", 10),
    ("TKIN", "auxiliaire_medical", 1768, "masseur_kinesitherapeute", 8),
    ("TBIO", "biologie", 1620, "laboratoire", 8),
    ("TM65", "medicament_65", 812, "pharmacien", 20),
    ("TM30", "medicament_30", 690, "pharmacien", 6),
    ("TTRA", "transport", 4500, "transporteur", 2),
    ("TLPP", "dispositif_medical", 2300, "fournisseur_lpp", 2),
]
PROFESSIONS = sorted({c[3] for c in CODES})


def nir(i: int, sexe: int, year: int, month: int) -> str:
    body = f"{sexe}{year % 100:02d}{month:02d}75{1 + (i // 999) % 999:03d}{1 + i % 999:03d}"
    return body + f"{97 - int(body) % 97:02d}"


def iban(i: int) -> str:
    bank, branch, account = 30004, 1000 + i % 9000, f"{i:011d}"
    rib = 97 - ((89 * bank + 15 * branch + 3 * int(account)) % 97)
    bban = f"{bank:05d}{branch:05d}{account}{rib:02d}"
    check = 98 - int(bban + "152700") % 97
    return f"FR{check:02d}{bban}"


def write_caisse(folder: Path, people: int, lines: int, seed: int = 7, year: int = 2025) -> tuple[Path, Path]:
    """(référentiel folder, feuilles.ndjson) with about ``lines`` claim lines."""
    rng = random.Random(seed)
    ref = folder / "referentiel"
    ref.mkdir(parents=True, exist_ok=True)
    n_ps = max(len(PROFESSIONS) * 3, people // 20)
    ps_ids = [f"1{i:010d}" for i in range(n_ps)]
    ps_by_prof = {p: [ps_ids[i] for i in range(n_ps) if PROFESSIONS[i % len(PROFESSIONS)] == p] for p in PROFESSIONS}
    with open(ref / "professionnels.ndjson", "w", encoding="utf-8") as out:
        for i, ident in enumerate(ps_ids):
            out.write(json.dumps({"id": ident, "profession": PROFESSIONS[i % len(PROFESSIONS)], "specialite": None,
                                  "secteur": 1, "optam": False, "conventionne": True, "iban": iban(10**6 + i)}) + "\n")
    with open(ref / "nomenclature.ndjson", "w", encoding="utf-8") as out:
        for code, cat, tarif, _, _ in CODES:
            out.write(json.dumps({"code": code, "libelle": f"Acte de test {code}", "categorie": cat, "tarif_cts": tarif,
                                  "debut": "2020-01-01", "fin": None}) + "\n")
    nirs = []
    with open(ref / "beneficiaires.ndjson", "w", encoding="utf-8") as out:
        for i in range(people):
            sexe, y, m = rng.choice((1, 2)), rng.randint(1940, 2015), rng.randint(1, 12)
            n = nir(i, sexe, y, m)
            nirs.append(n)
            s = rng.random()
            out.write(json.dumps({
                "nir": n, "date_naissance": f"{y:04d}-{m:02d}-{rng.randint(1, 28):02d}", "sexe": "M" if sexe == 1 else "F",
                "droits": [{"debut": "2015-01-01", "fin": None}] if s > 0.01 else [],
                "ald": [{"debut": "2020-01-01", "fin": None}] if 0.01 < s < 0.12 else [],
                "c2s": [{"debut": f"{year}-01-01", "fin": f"{year}-12-31", "participation": False}] if 0.12 <= s < 0.17 else [],
                "ame": [], "maternite": [], "invalidite": [], "medecin_traitant": [],
                "cartes_vitale": [{"numero": f"CV{i:08d}", "opposition": None}], "deces": None,
                "iban": iban(i) if s < 0.97 else None,
            }) + "\n")
    weights = [c[4] for c in CODES]
    start = dt.date(year, 1, 1)
    flow = folder / "feuilles.ndjson"
    written = k = 0
    with open(flow, "w", encoding="utf-8") as out:
        while written < lines:
            person = rng.randrange(people)
            code, _, tarif, prof, _ = rng.choices(CODES, weights)[0]
            soins = start + dt.timedelta(days=rng.randrange(365))
            fsp = rng.random() < 0.15
            reception = soins + dt.timedelta(days=rng.randint(5, 40) if fsp else rng.randint(0, 8))
            n_lines = rng.choice((1, 1, 1, 2, 3))
            lignes = []
            for _ in range(n_lines):
                q = rng.choice((1, 1, 1, 2)) if code.startswith("TM") else 1
                lignes.append({"code": code, "date_soins": soins.isoformat(), "quantite": q, "coefficient": 1,
                               "montant_facture_cts": tarif * q + (rng.choice((0, 0, 0, 500)) if prof == "medecin" else 0)})
                soins += dt.timedelta(days=rng.choice((0, 0, 1)))
            out.write(json.dumps({
                "id": f"G{k:08d}", "type": "FSP" if fsp else "FSE", "date_reception": reception.isoformat(),
                "nir": nirs[person], "executant": rng.choice(ps_by_prof[prof]), "prescripteur": None,
                "tiers_payant": rng.random() < 0.4, "risque": "maladie", "parcours": "medecin_traitant",
                "en_rapport_ald": rng.random() < 0.3, "carte_vitale": None if fsp else f"CV{person:08d}", "lignes": lignes,
            }) + "\n")
            written += n_lines
            k += 1
    return ref, flow
