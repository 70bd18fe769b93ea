"""The nomenclature the claims are coded with, and vectorised code picking at a date of care.

The codes come from the nomenclature the project ships (``caisse/rules/claims/
nomenclature.ndjson``, contract §1 format ``{code, libelle, categorie, tarif_cts, debut, fin}``);
a code is only used at a date where one of its versions is in force, with that version's tariff.

A *family* is what a kind of professional bills (a GP consultation, a nurse's act, a box of
medicine at 65 %...): a category and preferred codes with weights. Codes missing from the
nomenclature or not in force at the date are skipped; when none is left the family falls back
to every code of its category in force at the date.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from caisse.rules.claims.nomenclature import CONTRACT_CATEGORIES

SHIPPED = Path(__file__).resolve().parent.parent / "rules" / "claims" / "nomenclature.ndjson"
EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "spec"
    / "examples"
    / "liquider"
    / "referentiel"
    / "nomenclature.ndjson"
)

EPOCH = dt.date(1970, 1, 1)


#: family -> (categorie, {code: weight}); an empty mapping means "any code of the category".
FAMILIES: dict[str, tuple[str, dict[str, float]]] = {
    "gp": ("consultation_medecin", {"G": 86, "VG": 4, "TCG": 6, "CSGER": 0}),
    "gp_enfant": ("consultation_medecin", {"GE": 90, "G": 10}),
    "gp_s2": ("consultation_medecin", {"C": 90, "V": 4, "TCG": 6}),
    "spe": ("consultation_medecin", {"CS": 80, "APC": 12, "TC": 8}),
    "psy": ("consultation_medecin", {"CNPSY": 100}),
    "gyn": ("consultation_medecin", {"CSGYN": 100}),
    "ger": ("consultation_medecin", {"CSGER": 100}),
    "tech": ("acte_technique_medecin", {}),
    "tech_gp": ("acte_technique_medecin", {"DEQP003": 100}),
    "tech_cardio": ("acte_technique_medecin", {"DEQP003": 70, "DZQM006": 30}),
    "tech_pneumo": ("acte_technique_medecin", {"GLQP012": 100}),
    "tech_derm": ("acte_technique_medecin", {"QZFA036": 100}),
    "tech_chir": ("acte_technique_medecin", {"HHFA016": 50, "HMFC004": 50}),
    "tech_ophtalmo": ("acte_technique_medecin", {"BFGA004": 100}),
    "imagerie": ("imagerie", {"ZBQK002": 40, "QEQK004": 20, "ZCQM008": 25, "ZZQN001": 15}),
    "dentaire": ("dentaire", {"CD": 30, "HBJD001": 20, "HBMD049": 25, "HBGD036": 10, "BDC": 15}),
    "sage_femme": ("sage_femme", {"SF": 80, "SFI": 20}),
    "infirmier": ("auxiliaire_medical", {"AMI": 60, "AIS": 40}),
    "kine": ("auxiliaire_medical", {"AMS": 70, "AMK": 30}),
    "orthophonie": ("auxiliaire_medical", {"AMO": 100}),
    "orthoptie": ("auxiliaire_medical", {"AMY": 100}),
    "podologie": ("auxiliaire_medical", {"AMP": 100}),
    "biologie": ("biologie", {"B": 40, "1104": 15, "0552": 15, "1610": 15, "9105": 15}),
    "med_100": ("medicament_100", {}),
    "med_65": ("medicament_65", {}),
    "med_30": ("medicament_30", {}),
    "med_15": ("medicament_15", {}),
    "transport": ("transport", {"TAX": 60, "VSL": 30, "AMB": 10}),
    "optique": ("optique", {}),
    "audio": ("audioprothese", {}),
    "dm": ("dispositif_medical", {}),
}
FAMILY_NAMES = list(FAMILIES)
FAMILY_INDEX = {name: i for i, name in enumerate(FAMILY_NAMES)}

#: Coefficients billed with key letters (NGAP / NABM), drawn uniformly (hypothèse).
COEFFICIENTS: dict[str, list[int]] = {
    "AMI": [1, 2, 2, 3, 4],
    "AIS": [3, 3, 4, 6],
    "AMS": [7, 8, 8, 9],
    "AMK": [7, 8, 8, 9],
    "AMO": [10, 12, 14, 15],
    "AMY": [5, 8, 10],
    "AMP": [5, 6, 7],
    "SFI": [5, 10, 15],
    "B": [10, 20, 30, 40, 50, 70],
}
MAX_COEFS = 6


def day_number(value: str | None, default: int) -> int:
    if not value:
        return default
    return (dt.date.fromisoformat(value) - EPOCH).days


@dataclass
class Nomenclature:
    """The rows of the nomenclature and a sampler of (family, day) → row."""

    code: np.ndarray  # object array of str
    libelle: np.ndarray
    categorie: np.ndarray
    tarif: np.ndarray  # int64 cents
    debut: np.ndarray  # int32 day numbers
    fin: np.ndarray  # int32 day numbers, inclusive
    coefs: np.ndarray  # (rows, MAX_COEFS) int
    n_coefs: np.ndarray
    bounds: np.ndarray  # epoch start days, sorted
    cum: np.ndarray  # concatenated (key + cumulative weight)
    rows: np.ndarray  # row index of each cum entry
    source: Path

    def epoch(self, days: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.bounds, days, side="right") - 1

    def pick(self, family: np.ndarray, days: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Row index of a code of ``family`` in force at ``days``, drawn with ``u`` in [0, 1)."""
        key = family.astype(np.int64) * len(self.bounds) + self.epoch(days)
        pos = np.searchsorted(self.cum, key + np.minimum(u, 0.999999), side="right")
        pos = np.minimum(pos, len(self.rows) - 1)
        return self.rows[pos]

    def code_known(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Whether some version of the code of ``rows`` is in force at ``days``."""
        codes, inverse = np.unique(self.code.astype(str), return_inverse=True)
        first = np.full(len(codes), np.iinfo(np.int64).max)
        last = np.full(len(codes), np.iinfo(np.int64).min)
        np.minimum.at(first, inverse, self.debut)
        np.maximum.at(last, inverse, self.fin)
        cid = inverse[rows]
        return (first[cid] <= days) & (days <= last[cid])

    def coefficient(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        n = self.n_coefs[rows]
        return self.coefs[rows, (u * n).astype(np.int64)]


def contract_lines(source: Path) -> bytes:
    """The lines of the nomenclature file whose category is one of the contract's, as is."""
    kept = [
        line
        for line in source.read_bytes().splitlines(keepends=True)
        if line.strip() and json.loads(line).get("categorie") in CONTRACT_CATEGORIES
    ]
    return b"".join(line if line.endswith(b"\n") else line + b"\n" for line in kept)


def nomenclature_path() -> Path:
    """The shipped nomenclature, or the worked example's while it does not exist."""
    return SHIPPED if SHIPPED.exists() else EXAMPLE.resolve()


def load(path: Path | None = None) -> Nomenclature:
    """Read the nomenclature and prepare the sampler (epochs cut at every tariff change)."""
    source = path or nomenclature_path()
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    far = 200_000
    code = np.array([r["code"] for r in records], dtype=object)
    categorie = np.array([r["categorie"] for r in records], dtype=object)
    debut = np.array([day_number(r.get("debut"), -far) for r in records], dtype=np.int64)
    fin = np.array([day_number(r.get("fin"), far) for r in records], dtype=np.int64)
    coefs = np.ones((len(records), MAX_COEFS), dtype=np.int64)
    n_coefs = np.ones(len(records), dtype=np.int64)
    for i, c in enumerate(code):
        if c in COEFFICIENTS:
            values = COEFFICIENTS[c]
            coefs[i, : len(values)] = values
            n_coefs[i] = len(values)
    bounds = np.unique(np.concatenate([[-far], debut, fin + 1]))
    cum: list[float] = []
    rows: list[int] = []
    for f, name in enumerate(FAMILY_NAMES):
        cat, weights = FAMILIES[name]
        for e, start in enumerate(bounds):
            valid = np.nonzero((debut <= start) & (fin >= start))[0]
            chosen = [
                (int(i), weights.get(code[i], 0.0))
                for i in valid
                if code[i] in weights and weights[code[i]] > 0
            ]
            if not chosen:
                chosen = [(int(i), 1.0) for i in valid if categorie[i] == cat]
            if not chosen:  # nothing of the category in force: any code in force
                chosen = [(int(i), 1.0) for i in valid[:1]] or [(0, 1.0)]
            total = sum(w for _, w in chosen)
            acc = 0.0
            key = f * len(bounds) + e
            for i, w in chosen:
                acc += w / total
                cum.append(key + min(acc, 1.0) - 1e-12 if acc < 1.0 else key + 1.0 - 1e-9)
                rows.append(i)
    return Nomenclature(
        code=code,
        libelle=np.array([r.get("libelle", "") for r in records], dtype=object),
        categorie=categorie,
        tarif=np.array([int(r["tarif_cts"]) for r in records], dtype=np.int64),
        debut=debut,
        fin=fin,
        coefs=coefs,
        n_coefs=n_coefs,
        bounds=bounds,
        cum=np.array(cum, dtype=np.float64),
        rows=np.array(rows, dtype=np.int64),
        source=source,
    )
