"""The référentiel (contract §1) as flat Polars tables, ready for vectorised joins.

Beneficiaries carry nested lists of dated periods (droits, ALD, C2S, AME, maternité,
invalidité...). The engine needs "is this date inside one of this person's periods of kind K",
so the lists are flattened into one long ``periods`` table ``(nir, kind, debut, fin,
participation)`` with open ends replaced by a far date. A malformed beneficiary or professional
line is skipped (the claims that name it are then rejected as unknown), never fatal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from caisse.batch_io import UnreadableFile, iter_ndjson
from caisse.rules.claims.nomenclature import load_nomenclature

FAR_PAST = dt.date(1900, 1, 1)
FAR_FUTURE = dt.date(2999, 12, 31)

PERIOD_KINDS = ("droits", "ald", "c2s", "ame", "invalidite", "maternite")

BENEF_SCHEMA: dict[str, pl.DataType] = {
    "nir": pl.String(),
    "date_naissance": pl.Date(),
    "deces": pl.Date(),
    "iban": pl.String(),
}
PERIOD_SCHEMA: dict[str, pl.DataType] = {
    "nir": pl.String(),
    "kind": pl.String(),
    "debut": pl.Date(),
    "fin": pl.Date(),
    "participation": pl.Boolean(),
}
CARD_SCHEMA: dict[str, pl.DataType] = {"nir": pl.String(), "numero": pl.String(), "opposition": pl.Date()}
MT_SCHEMA: dict[str, pl.DataType] = {"nir": pl.String(), "ps": pl.String(), "debut": pl.Date(), "fin": pl.Date()}
PS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "profession": pl.String(),
    "specialite": pl.String(),
    "secteur": pl.Int64(),
    "optam": pl.Boolean(),
    "conventionne": pl.Boolean(),
    "iban": pl.String(),
}
COUNTER_SCHEMA: dict[str, pl.DataType] = {
    "nir": pl.String(),
    "annee": pl.Int32(),
    "participation_forfaitaire_cts": pl.Int64(),
    "franchises_cts": pl.Int64(),
    "dette_cts": pl.Int64(),
}


def _date(raw: Any) -> dt.date | None:
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        return None


@dataclass
class Referentiel:
    """Flat tables of the référentiel. Build it with :func:`load_referentiel` or :meth:`from_records`."""

    beneficiaires: pl.DataFrame
    periods: pl.DataFrame
    cartes: pl.DataFrame
    medecins_traitants: pl.DataFrame
    professionnels: pl.DataFrame
    nomenclature: pl.DataFrame
    compteurs: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=COUNTER_SCHEMA))

    @cached_property
    def _nir_valid(self) -> pl.Series:
        from caisse.rules.claims.controls import nir_valid

        return self.beneficiaires.select(nir_valid(pl.col("nir"))).to_series()

    def nir_valid(self) -> pl.Series:
        """Whether each beneficiary's NIR (in row order) has a valid format and key; computed
        once per référentiel, not once per feuille."""
        return self._nir_valid

    @classmethod
    def from_records(
        cls,
        beneficiaires: Iterable[dict[str, Any] | None],
        professionnels: Iterable[dict[str, Any] | None],
        nomenclature: pl.DataFrame | None = None,
        compteurs: Iterable[dict[str, Any] | None] = (),
    ) -> Referentiel:
        """Build from already parsed records (the persistent path and the tests use this)."""
        benef_rows: list[dict[str, Any]] = []
        periods: list[dict[str, Any]] = []
        cards: list[dict[str, Any]] = []
        mts: list[dict[str, Any]] = []
        for b in beneficiaires:
            if not b or not isinstance(b.get("nir"), str):
                continue
            nir = b["nir"]
            benef_rows.append(
                {
                    "nir": nir,
                    "date_naissance": _date(b.get("date_naissance")),
                    "deces": _date(b.get("deces")),
                    "iban": b.get("iban"),
                }
            )
            for kind in PERIOD_KINDS:
                for p in b.get(kind) or []:
                    if not isinstance(p, dict):
                        continue
                    if kind == "maternite":
                        debut, fin = _date(p.get("debut_6e_mois")), _date(p.get("date_accouchement"))
                        if debut is None or fin is None:
                            continue
                    else:
                        debut = _date(p.get("debut"))
                        if debut is None:
                            continue
                        fin = _date(p.get("fin")) or FAR_FUTURE
                    periods.append(
                        {
                            "nir": nir,
                            "kind": kind,
                            "debut": debut,
                            "fin": fin,
                            "participation": bool(p.get("participation", False)),
                        }
                    )
            for c in b.get("cartes_vitale") or []:
                if isinstance(c, dict) and c.get("numero") is not None:
                    cards.append({"nir": nir, "numero": str(c["numero"]), "opposition": _date(c.get("opposition"))})
            for m in b.get("medecin_traitant") or []:
                if isinstance(m, dict) and m.get("ps") is not None:
                    mts.append(
                        {
                            "nir": nir,
                            "ps": str(m["ps"]),
                            "debut": _date(m.get("debut")) or FAR_PAST,
                            "fin": _date(m.get("fin")) or FAR_FUTURE,
                        }
                    )
        ps_rows: list[dict[str, Any]] = []
        for p in professionnels:
            if not p or p.get("id") is None:
                continue
            secteur = p.get("secteur")
            ps_rows.append(
                {
                    "id": str(p["id"]),
                    "profession": p.get("profession"),
                    "specialite": p.get("specialite"),
                    "secteur": secteur if isinstance(secteur, int) and not isinstance(secteur, bool) else None,
                    "optam": bool(p.get("optam", False)),
                    "conventionne": bool(p.get("conventionne", True)),
                    "iban": p.get("iban"),
                }
            )
        counters: list[dict[str, Any]] = []
        for c in compteurs:
            if not c or not isinstance(c.get("nir"), str) or not isinstance(c.get("annee"), int):
                continue
            counters.append(
                {
                    "nir": c["nir"],
                    "annee": c["annee"],
                    "participation_forfaitaire_cts": int(c.get("participation_forfaitaire_cts") or 0),
                    "franchises_cts": int(c.get("franchises_cts") or 0),
                    "dette_cts": int(c.get("dette_cts") or 0),
                }
            )
        benef = pl.DataFrame(benef_rows, schema=BENEF_SCHEMA).unique("nir", keep="first", maintain_order=True)
        return cls(
            beneficiaires=benef,
            periods=pl.DataFrame(periods, schema=PERIOD_SCHEMA),
            cartes=pl.DataFrame(cards, schema=CARD_SCHEMA),
            medecins_traitants=pl.DataFrame(mts, schema=MT_SCHEMA),
            professionnels=pl.DataFrame(ps_rows, schema=PS_SCHEMA).unique("id", keep="first", maintain_order=True),
            nomenclature=nomenclature if nomenclature is not None else load_nomenclature(),
            compteurs=pl.DataFrame(counters, schema=COUNTER_SCHEMA),
        )


def load_referentiel(folder: Path) -> Referentiel:
    """Read a référentiel folder (contract §1). A missing folder or file raises UnreadableFile."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UnreadableFile(f"Référentiel introuvable : {folder} n'est pas un dossier.")
    benef_path = folder / "beneficiaires.ndjson"
    ps_path = folder / "professionnels.ndjson"
    for path in (benef_path, ps_path):
        if not path.exists():
            raise UnreadableFile(f"Fichier du référentiel introuvable : {path}")
    nomen_path = folder / "nomenclature.ndjson"
    counters_path = folder / "compteurs.ndjson"
    return Referentiel.from_records(
        iter_ndjson(benef_path),
        iter_ndjson(ps_path),
        load_nomenclature(nomen_path if nomen_path.exists() else None),
        iter_ndjson(counters_path) if counters_path.exists() else (),
    )
