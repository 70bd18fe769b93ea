"""The référentiel (contract §1) as flat Polars tables, ready for vectorised joins.

Beneficiaries carry nested lists of dated periods (droits, ALD, C2S, AME, maternité,
invalidité...). The engine needs "is this date inside one of this person's periods of kind K",
so the lists are flattened into one long ``periods`` table ``(nir, kind, debut, fin,
participation)`` with open ends replaced by a far date. A malformed beneficiary or professional
line (one of its lists given as something else than a list, for instance) is skipped (the claims
that name it are then rejected as unknown), never fatal; so is a malformed ``compteurs`` line (an
amount that is not a number of cents).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from caisse.batch_io import UnreadableFile, iter_ndjson
from caisse.rules.claims import frames
from caisse.rules.claims.nomenclature import FAR_FUTURE, load_nomenclature

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


LIST_FIELDS = (*PERIOD_KINDS, "cartes_vitale", "medecin_traitant")


def _whole_number(raw: Any) -> int | None:
    """An integer, or its text (``"3"``); anything else (a boolean included) is None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


def secteur_of(raw: Any) -> int | None:
    """A professional's ``secteur`` (1, 2 or 3) as the contract gives it, an integer or its text
    (``"3"``); anything else is unknown (None). ``caisse liquider`` and ``caisse importer`` read it
    alike, so the tarif d'autorité of a secteur 3 applies on both paths."""
    return _whole_number(raw)


def conventionne_of(raw: Any) -> bool:
    """Whether a professional is conventionné: only an explicit ``false`` says it is not (a
    missing or null value is the usual case, conventionné)."""
    return raw is not False


def _malformed_lists(b: dict[str, Any]) -> bool:
    """Whether a beneficiary gives one of its lists as something else than a list (``"droits":
    5``): the line is malformed, and skipped."""
    return any(b.get(name) is not None and not isinstance(b.get(name), list) for name in LIST_FIELDS)


def counter_year(raw: Any) -> int | None:
    """A counter's ``annee``: an integer, or its text (``"2025"``); None otherwise (the line is
    skipped)."""
    return _whole_number(raw)


def counter_amount(raw: Any) -> int | None:
    """A counter's amount: a non-negative integer (or an integral number, or its text), 0 when
    absent, None when it is not a number of cents or is negative (the counter line is then
    skipped, never fatal: a negative consumption or debt has no meaning)."""
    value: int | None = None
    if raw is None:
        return 0
    if isinstance(raw, bool):
        return None
    if isinstance(raw, float):
        value = int(raw) if raw.is_integer() else None
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        try:
            value = int(raw.strip())
        except ValueError:
            return None
    return value if value is not None and value >= 0 else None


@dataclass
class Referentiel:
    """Flat tables of the référentiel. Build it with :func:`load_referentiel` or :meth:`from_records`."""

    beneficiaires: pl.DataFrame
    periods: pl.DataFrame
    cartes: pl.DataFrame
    medecins_traitants: pl.DataFrame
    professionnels: pl.DataFrame
    nomenclature: pl.DataFrame
    compteurs: pl.DataFrame = field(default_factory=lambda: frames.empty(COUNTER_SCHEMA))

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
            if not isinstance(b, dict) or not isinstance(b.get("nir"), str) or _malformed_lists(b):
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
                        # A null delivery date is a pregnancy going on (the engine takes its presumed term).
                        debut, fin = _date(p.get("debut_6e_mois")), _date(p.get("date_accouchement"))
                        if debut is None or (fin is None and p.get("date_accouchement") is not None):
                            continue
                    else:
                        # A period whose start or end is not a date is left out (caisse importer too).
                        debut, fin = _date(p.get("debut")), _date(p.get("fin"))
                        if debut is None or (fin is None and p.get("fin") is not None):
                            continue
                        fin = fin or FAR_FUTURE
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
                # A declaration without a start date, or with dates that are not dates, is left
                # out, as caisse importer leaves it out.
                if isinstance(m, dict) and m.get("ps") is not None:
                    debut, fin = _date(m.get("debut")), _date(m.get("fin"))
                    if debut is None or (fin is None and m.get("fin") is not None):
                        continue
                    mts.append({"nir": nir, "ps": str(m["ps"]), "debut": debut, "fin": fin or FAR_FUTURE})
        ps_rows: list[dict[str, Any]] = []
        for p in professionnels:
            if not p or p.get("id") is None:
                continue
            ps_rows.append(
                {
                    "id": str(p["id"]),
                    "profession": p.get("profession"),
                    "specialite": p.get("specialite"),
                    "secteur": secteur_of(p.get("secteur")),
                    "optam": bool(p.get("optam", False)),
                    "conventionne": conventionne_of(p.get("conventionne")),
                    "iban": p.get("iban"),
                }
            )
        counters: list[dict[str, Any]] = []
        amounts = ("participation_forfaitaire_cts", "franchises_cts", "dette_cts")
        for c in compteurs:
            year = counter_year(c.get("annee")) if isinstance(c, dict) else None
            if not isinstance(c, dict) or not isinstance(c.get("nir"), str) or year is None:
                continue
            values = {name: counter_amount(c.get(name)) for name in amounts}
            if any(v is None for v in values.values()):  # a malformed line is skipped, never fatal
                continue
            counters.append({"nir": c["nir"], "annee": year, **values})
        benef = pl.DataFrame(benef_rows, schema=BENEF_SCHEMA).unique("nir", keep="first", maintain_order=True)
        return cls(
            beneficiaires=benef,
            periods=frames.frame(periods, PERIOD_SCHEMA),
            cartes=frames.frame(cards, CARD_SCHEMA),
            medecins_traitants=frames.frame(mts, MT_SCHEMA),
            professionnels=pl.DataFrame(ps_rows, schema=PS_SCHEMA).unique("id", keep="first", maintain_order=True),
            nomenclature=nomenclature if nomenclature is not None else load_nomenclature(),
            compteurs=frames.frame(counters, COUNTER_SCHEMA),
        )


def check_referentiel(folder: Path) -> None:
    """Raise UnreadableFile when the folder or one of its required files is missing (checked
    before a long read of the flow, so that the error comes at once)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UnreadableFile(f"Référentiel introuvable : {folder} n'est pas un dossier.")
    for path in (folder / "beneficiaires.ndjson", folder / "professionnels.ndjson"):
        if not path.exists():
            raise UnreadableFile(f"Fichier du référentiel introuvable : {path}")


def load_referentiel(folder: Path) -> Referentiel:
    """Read a référentiel folder (contract §1). A missing folder or file raises UnreadableFile."""
    folder = Path(folder)
    check_referentiel(folder)
    benef_path = folder / "beneficiaires.ndjson"
    ps_path = folder / "professionnels.ndjson"
    nomen_path = folder / "nomenclature.ndjson"
    counters_path = folder / "compteurs.ndjson"
    ref = Referentiel.from_records(
        (),
        iter_ndjson(ps_path),
        load_nomenclature(nomen_path if nomen_path.exists() else None),
        iter_ndjson(counters_path) if counters_path.exists() else (),
    )
    tables = _read_beneficiaires(benef_path)
    if tables is None:  # not the regular shape: the record by record reader decides
        ref = Referentiel.from_records(
            iter_ndjson(benef_path), iter_ndjson(ps_path), ref.nomenclature,
            iter_ndjson(counters_path) if counters_path.exists() else (),
        )
    else:
        ref.beneficiaires, ref.periods, ref.cartes, ref.medecins_traitants = tables
    # A médecin traitant declaration names a professional of the file, as caisse importer keeps it
    # (the persistent path then reads the same declarations).
    ref.medecins_traitants = ref.medecins_traitants.join(
        ref.professionnels.select(pl.col("id").alias("ps")), on="ps", how="semi", maintain_order="left"
    )
    return ref


_SPAN = pl.Struct({"debut": pl.String(), "fin": pl.String()})
BENEF_FILE_SCHEMA: dict[str, pl.DataType] = {
    "nir": pl.String(),
    "date_naissance": pl.String(),
    "deces": pl.String(),
    "iban": pl.String(),
    "droits": pl.List(_SPAN),
    "ald": pl.List(_SPAN),
    "c2s": pl.List(pl.Struct({"debut": pl.String(), "fin": pl.String(), "participation": pl.Boolean()})),
    "ame": pl.List(_SPAN),
    "invalidite": pl.List(_SPAN),
    "maternite": pl.List(pl.Struct({"debut_6e_mois": pl.String(), "date_accouchement": pl.String()})),
    "cartes_vitale": pl.List(pl.Struct({"numero": pl.String(), "opposition": pl.String()})),
    "medecin_traitant": pl.List(pl.Struct({"ps": pl.String(), "debut": pl.String(), "fin": pl.String()})),
}


ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _dates(col: pl.Expr) -> pl.Expr:
    """ISO dates (``YYYY-MM-DD``); anything else is null here, and :func:`_read_beneficiaires`
    then hands the file to the record reader, whose :func:`_date` is more lenient."""
    return col.str.to_date("%Y-%m-%d", strict=False)


def _all_iso(frame: pl.DataFrame, columns: list[str]) -> bool:
    """Whether every non-null value of these string columns is an ISO date."""
    return not frame.select(
        pl.any_horizontal(
            (pl.col(c).is_not_null() & (_dates(pl.col(c)).is_null() | ~pl.col(c).str.contains(ISO_DATE))).any()
            for c in columns
        )
    ).item()


def _arrow_type(dtype: Any) -> pa.DataType:
    """The Arrow type pyarrow's JSON reader accepts (regular, not large, strings and lists)."""
    if isinstance(dtype, pl.List):
        return pa.list_(_arrow_type(dtype.inner))
    if isinstance(dtype, pl.Struct):
        return pa.struct([(f.name, _arrow_type(f.dtype)) for f in dtype.fields])
    return pa.bool_() if dtype == pl.Boolean() else pa.string()


def _read_beneficiaires(
    path: Path,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame] | None:
    """``beneficiaires.ndjson`` read in one vectorised pass: (beneficiaries, periods, cards,
    médecins traitants) as :meth:`Referentiel.from_records` builds them, or None when the file
    has lines of another shape (not JSON objects, lists of the wrong type...)."""
    # pyarrow's JSON reader with an explicit schema is strict (a value of another JSON type is
    # an error, never coerced) and fast; Polars' NDJSON reader with nested schemas is slower.
    schema = pa.schema([(name, _arrow_type(dtype)) for name, dtype in BENEF_FILE_SCHEMA.items()])
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        table = pa_json.read_json(path, parse_options=options)
    except (pa.ArrowException, OSError, ValueError):
        return None
    raw = pl.from_arrow(table)
    assert isinstance(raw, pl.DataFrame)
    raw = raw.cast(BENEF_FILE_SCHEMA)  # type: ignore[arg-type]
    raw = raw.filter(pl.col("nir").is_not_null()).with_row_index("_row")
    if not _all_iso(raw, ["date_naissance", "deces"]):
        return None
    benef = raw.select(
        "nir", _dates(pl.col("date_naissance")).alias("date_naissance"), _dates(pl.col("deces")).alias("deces"), "iban"
    ).unique("nir", keep="first", maintain_order=True)
    periods = []
    for kind in PERIOD_KINDS:
        items = raw.select("_row", "nir", pl.col(kind).alias("_p")).explode("_p").filter(pl.col("_p").is_not_null())
        items = items.with_columns(pl.int_range(pl.len()).alias("_i")).unnest("_p")
        if not _all_iso(items, ["debut_6e_mois", "date_accouchement"] if kind == "maternite" else ["debut", "fin"]):
            return None
        if kind == "maternite":
            table = items.select(
                "_row", "_i", "nir", pl.lit(kind).alias("kind"),
                _dates(pl.col("debut_6e_mois")).alias("debut"), _dates(pl.col("date_accouchement")).alias("fin"),
                pl.lit(False).alias("participation"),
            ).filter(pl.col("debut").is_not_null())  # a null delivery date: a pregnancy going on
        else:
            participation = pl.col("participation").fill_null(False) if kind == "c2s" else pl.lit(False)
            table = items.select(
                "_row", "_i", "nir", pl.lit(kind).alias("kind"),
                _dates(pl.col("debut")).alias("debut"),
                _dates(pl.col("fin")).fill_null(FAR_FUTURE).alias("fin"),
                participation.alias("participation"),
            ).filter(pl.col("debut").is_not_null())
        periods.append(table)
    # Same row order as the record reader: person by person, kinds in order, items in order.
    period_table = (
        pl.concat(periods)
        .with_columns(pl.col("kind").replace_strict({k: i for i, k in enumerate(PERIOD_KINDS)}, return_dtype=pl.Int64).alias("_k"))
        .sort("_row", "_k", "_i")
        .select(list(PERIOD_SCHEMA))
        .cast(PERIOD_SCHEMA)  # type: ignore[arg-type]
    )
    cards = (
        raw.select("nir", pl.col("cartes_vitale").alias("_c")).explode("_c").filter(pl.col("_c").is_not_null()).unnest("_c")
        .filter(pl.col("numero").is_not_null())
    )
    mts = (
        raw.select("nir", pl.col("medecin_traitant").alias("_m")).explode("_m").filter(pl.col("_m").is_not_null()).unnest("_m")
        .filter(pl.col("ps").is_not_null())
    )
    if not (_all_iso(cards, ["opposition"]) and _all_iso(mts, ["debut", "fin"])):
        return None
    cards = (
        cards.select("nir", "numero", _dates(pl.col("opposition")).alias("opposition"))
        .cast(CARD_SCHEMA)  # type: ignore[arg-type]
    )
    mts = (
        mts.select(
            "nir", "ps", _dates(pl.col("debut")).alias("debut"),
            _dates(pl.col("fin")).fill_null(FAR_FUTURE).alias("fin"),
        )
        .filter(pl.col("debut").is_not_null())  # a declaration without a start date is left out
        .cast(MT_SCHEMA)  # type: ignore[arg-type]
    )
    return benef.cast(BENEF_SCHEMA), period_table, cards, mts  # type: ignore[arg-type]
