"""The nomenclature of reimbursable acts and products, with dated tariffs.

The project ships ``nomenclature.ndjson`` next to this module (contract §1 format
``{code, libelle, categorie, tarif_cts, debut, fin}``): the common NGAP key letters, a few CCAM
technical acts, NABM biology codes, LPP devices and the pharmacy codes PH1/PH7/PH4/PH2. A
référentiel may carry its own ``nomenclature.ndjson``; its rows *extend or override* the shipped
ones: every shipped row of a code that the référentiel redefines is dropped, so the référentiel's
dated history of that code is authoritative.

Official files: the medicines' presentations of the ANSM's *Base de données publique des
médicaments* (``CIS_CIP_bdpm.txt``) are read as they are published (:mod:`caisse.rules.claims.official`:
CIP13, rate, price); the CCAM, NGAP, NABM and LPP tables published by ameli come in irregular
layouts and are first converted to a CSV with the contract's columns (:func:`load_official_csv`).
``caisse nomenclature --bdpm … --csv … --date … --out nomenclature.ndjson`` writes either as the
référentiel's ``nomenclature.ndjson``, read by ``caisse liquider`` and stored by ``caisse importer``
(``extra_path`` here).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from caisse.batch_io import UnreadableFile, iter_ndjson

SHIPPED = Path(__file__).parent / "nomenclature.ndjson"

CATEGORIES = (
    "consultation_medecin",
    "acte_technique_medecin",
    "imagerie",
    "sage_femme",
    "dentaire",
    "auxiliaire_medical",
    "biologie",
    "medicament_100",
    "medicament_65",
    "medicament_30",
    "medicament_15",
    "transport",
    "optique",
    "audioprothese",
    "dispositif_medical",
    "hospitalisation",
)
CONTRACT_CATEGORIES = frozenset(CATEGORIES[:-1])
"""The categories of the contract (§1): all but the project's own ``hospitalisation``."""

CATEGORY_LABELS = {
    "consultation_medecin": "les consultations de médecin",
    "acte_technique_medecin": "les actes techniques médicaux",
    "imagerie": "les actes d'imagerie",
    "sage_femme": "les actes de sage-femme",
    "dentaire": "les soins dentaires",
    "auxiliaire_medical": "les actes des auxiliaires médicaux",
    "biologie": "les analyses de biologie médicale",
    "medicament_100": "les médicaments irremplaçables et particulièrement coûteux",
    "medicament_65": "les médicaments à service médical rendu majeur ou important",
    "medicament_30": "les médicaments à service médical rendu modéré",
    "medicament_15": "les médicaments à service médical rendu faible",
    "transport": "les transports sanitaires",
    "optique": "l'optique",
    "audioprothese": "les audioprothèses",
    "dispositif_medical": "les dispositifs médicaux",
    "hospitalisation": "les frais d'hospitalisation",
}
"""How the explanations name each category, in French (a category without a label keeps its key)."""

SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String(),
    "libelle": pl.String(),
    "categorie": pl.String(),
    "tarif_cts": pl.Int64(),
    "debut": pl.Date(),
    "fin": pl.Date(),
}

_FAR_PAST = dt.date(1900, 1, 1)
FAR_FUTURE = dt.date(2999, 12, 31)


def _parse_date(raw: object) -> dt.date | None:
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        return None


def read_nomenclature(path: Path) -> pl.DataFrame:
    """Read one nomenclature NDJSON file; malformed rows are skipped (they cannot price anything)."""
    rows: list[dict[str, object]] = []
    for obj in iter_ndjson(path):
        if obj is None:
            continue
        code, categorie, tarif = obj.get("code"), obj.get("categorie"), obj.get("tarif_cts")
        if not isinstance(code, str) or categorie not in CATEGORIES:
            continue
        if isinstance(tarif, float) and tarif.is_integer():
            tarif = int(tarif)  # 1234.0 is 1234 cents, as in a feuille's amounts
        if isinstance(tarif, bool) or not isinstance(tarif, int) or not 0 <= tarif < 1 << 62:
            continue
        rows.append(
            {
                "code": code,
                "libelle": str(obj.get("libelle") or ""),
                "categorie": categorie,
                "tarif_cts": tarif,
                "debut": _parse_date(obj.get("debut")) or _FAR_PAST,
                "fin": _parse_date(obj.get("fin")) or FAR_FUTURE,
            }
        )
    return pl.DataFrame(rows, schema=SCHEMA)


def load_official_csv(path: Path, separator: str = ";") -> pl.DataFrame:
    """Read a CSV converted from an official table, with the columns of the contract."""
    try:
        df = pl.read_csv(path, separator=separator, infer_schema_length=0)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise UnreadableFile(f"Nomenclature illisible : {path} ({exc}).") from None
    missing = [c for c in SCHEMA if c not in df.columns]
    if missing:
        raise UnreadableFile(
            f"Nomenclature illisible : {path} (colonnes absentes : {', '.join(missing)} ; "
            f"attendues : {', '.join(SCHEMA)}, séparées par « {separator} »)."
        )
    return df.select(
        pl.col("code"),
        pl.col("libelle").fill_null(""),
        pl.col("categorie"),
        pl.col("tarif_cts").cast(pl.Int64, strict=False),
        pl.col("debut").str.to_date(strict=False).fill_null(_FAR_PAST),
        pl.col("fin").str.to_date(strict=False).fill_null(FAR_FUTURE),
    ).filter(pl.col("categorie").is_in(CATEGORIES) & pl.col("tarif_cts").is_not_null())


def load_nomenclature(extra_path: Path | None = None) -> pl.DataFrame:
    """The shipped nomenclature, extended or overridden by ``extra_path`` when it exists.

    Columns: code, libelle, categorie, tarif_cts (Int64), debut, fin (Date; open ends are
    replaced by far dates so that interval joins need no null handling).
    """
    base = read_nomenclature(SHIPPED)
    if extra_path is None or not Path(extra_path).exists():
        return base
    extra = read_nomenclature(Path(extra_path))
    return merge_nomenclatures(base, extra)


def merge_nomenclatures(base: pl.DataFrame, extra: pl.DataFrame) -> pl.DataFrame:
    """``base`` extended and overridden by ``extra``: a code ``extra`` defines takes its rows from
    the first date ``extra`` gives it; before that date the code keeps ``base``'s history (a
    référentiel that sets a new tariff of G does not make earlier G acts unknown)."""
    first = extra.group_by("code").agg(pl.col("debut").min().alias("_debut_extra"))
    kept = (
        base.join(first, on="code", how="left")
        .filter(pl.col("_debut_extra").is_null() | (pl.col("debut") < pl.col("_debut_extra")))
        .with_columns(
            pl.when(pl.col("_debut_extra").is_null())
            .then(pl.col("fin"))
            .otherwise(pl.min_horizontal("fin", pl.col("_debut_extra") - pl.duration(days=1)))
            .alias("fin")
        )
        .drop("_debut_extra")
    )
    return pl.concat([kept, extra]).sort("code", "debut")
