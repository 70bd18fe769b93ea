"""``caisse liquider``'s NDJSON flows at the engine's speed: the file read by Polars' reader
and converted by column expressions, the décomptes written as JSON by Polars.

Reading record by record in Python (:func:`caisse.batch_io.iter_ndjson`, then
:func:`records.frames_from_records`) costs about 20 µs per feuille, writing each décompte as a
dict then as JSON about 60 µs: ten to thirty times the engine's own time. Here:

- :func:`read_frames` reads the whole file with ``pl.read_ndjson`` (every row inferred) and gives
  the same frames as the record reader, or ``None`` when the file holds anything whose reading
  by columns could differ from the record reader's verdict: a line that is not a JSON object or
  not JSON, a field whose values are of different JSON types (Polars would convert them), a
  text field given as a number other than an integer, a date, a code or a boolean of the wrong
  type, a line that is not an object, or a null where a missing field takes a default
  (``risque``, ``parcours``, ``quantite``, ``coefficient``: a column cannot tell a missing key
  from a null). The caller then reads the file record by record; a test runs both readers on
  random files and compares the frames.
- :func:`encode` gives the contract's output records (:func:`records.records_from_frames`) as
  JSON text, one string per décompte: same keys in the same order, ``destinataire`` left out of
  a feuille rejected as a whole, each line's text and the décompte's composed as
  :func:`explain.compose` does, an integer ``id`` given back as an integer.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import polars as pl

from caisse.batch_io import with_integer_id, write_json_lines
from caisse.rules.claims.conversions import date_column, line_fields
from caisse.rules.claims.engine import FEUILLE_COLUMNS, LIGNE_COLUMNS
from caisse.rules.claims.records import FEUILLE_FIELDS, LINE_FIELDS

TEXT_FIELDS = ("id", "type", "nir", "executant", "prescripteur", "risque", "parcours", "carte_vitale")
"""A feuille's text fields (an integer is read as its text, as the record reader does)."""
DEFAULTS = {"risque": "maladie", "parcours": "medecin_traitant"}
LINE_DEFAULTS = {"quantite": 1, "coefficient": 1.0}
_NULL = pl.Null()


def _is(dtype: Any, *allowed: pl.DataType) -> bool:
    return dtype == _NULL or any(dtype == a for a in allowed)


FEUILLE_KEYS = (*TEXT_FIELDS, "date_reception", "tiers_payant", "en_rapport_ald", "lignes")
LINE_KEYS = ("code", "date_soins", "quantite", "coefficient", "montant_facture_cts")


def read_frames(path: Path) -> tuple[pl.DataFrame, pl.DataFrame, frozenset[int]] | None:
    """(feuilles, lignes, positions of the integer ids) as :func:`batch.read_flow` gives them
    for an NDJSON file, or None when the file must be read record by record (module docstring)."""
    try:
        return _read_frames(path)
    except Exception:  # noqa: BLE001 - any failure of the fast reader: the record reader decides, and says why
        return None


def _read_frames(path: Path) -> tuple[pl.DataFrame, pl.DataFrame, frozenset[int]] | None:
    raw = pl.read_ndjson(path, infer_schema_length=None)
    raw = raw.select(c for c in raw.columns if c in FEUILLE_KEYS)  # other keys are ignored, as by the record reader
    schema = raw.schema
    if raw.height == 0 or raw.width == 0:
        return None
    for name in TEXT_FIELDS:
        if name in schema and not _is(schema[name], pl.String(), pl.Int64()):
            return None
    for name in ("tiers_payant", "en_rapport_ald"):
        if name in schema and not _is(schema[name], pl.Boolean()):
            return None
    if "date_reception" in schema and not _is(schema["date_reception"], pl.String()):
        return None
    if any(name in schema and raw.get_column(name).null_count() for name in DEFAULTS):
        return None
    lines = _lines(raw)
    if lines is None or _read_otherwise_by_records(path, raw.schema):
        return None
    integer_ids: frozenset[int] = frozenset()
    if "id" in schema and schema["id"] == pl.Int64():
        ids = raw.get_column("id")
        integer_ids = frozenset(pl.int_range(raw.height, eager=True).filter(ids.is_not_null()).to_list())
    raw = raw.with_row_index("_pos")
    reception, bad_reception = date_column(raw, "date_reception")
    columns: list[pl.Expr] = [pl.col("_pos").cast(pl.Int64)]
    for name, dtype in FEUILLE_COLUMNS.items():
        if name == "_pos":
            continue
        if name == "date_reception":
            columns.append(reception.alias(name))
        elif name == "_invalide":
            columns.append(bad_reception.alias(name))
        elif name == "_id_entier":  # the ids given as integers, ordered as numbers
            columns.append((pl.col("id") if schema.get("id") == pl.Int64() else pl.lit(None)).cast(dtype).alias(name))
        elif name in schema:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.lit(DEFAULTS.get(name), dtype=dtype).alias(name))
    return raw.select(columns), lines, integer_ids


def _read_otherwise_by_records(path: Path, schema: pl.Schema) -> bool:
    """Whether the raw lines hold something Polars' reader reads otherwise than Python's
    ``json``, found by one regular expression (JSON text escapes the quotes inside values, so an
    unescaped ``"code":`` stands only where a key does):

    - a text field holding another JSON value (``1104``, ``true``, ``{...}``): Polars makes it
      text where the column is text, the record reader rejects it (an integer feuille field is
      read as its text by both when the column is all integers: Polars then types it Int64);
    - a key written with an escape (``"c\\u006fde"``), which Polars decodes too;
    - a key given twice in one object (Polars keeps the first value, Python's ``json`` the
      last): a feuille's key twice on its line, a line's key twice between two braces;
    - a UTF-16 surrogate escape (a lone one is not text: the record reader rejects the record).
    """
    text_keys = [name for name in TEXT_FIELDS if name in schema and schema[name] != pl.Int64()]
    text_keys += ["date_reception", "code", "date_soins"]
    string = r'"(?:[^"\\]|\\.)*'
    patterns = [
        '"(?:' + "|".join(text_keys) + r')"\s*:\s*[^"n\s]',
        string + r'\\(?:[^"\\]|\\.)*"\s*:',
        r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}",
        *(f'"{key}"\\s*:.*"{key}"\\s*:' for key in FEUILLE_KEYS),
        *(f'"{key}"\\s*:[^{{}}]*"{key}"\\s*:' for key in LINE_KEYS),
    ]
    lines = pl.read_csv(
        path, has_header=False, separator="\x1f", quote_char=None, new_columns=["ligne"], infer_schema=False,
        truncate_ragged_lines=True,  # a raw \x1f is not valid JSON: the reader has failed before
    )
    return bool(lines.get_column("ligne").str.contains("|".join(f"(?:{p})" for p in patterns)).any())


def _lines(raw: pl.DataFrame) -> pl.DataFrame | None:
    """The lines of the feuilles (``_fpos``, ``_lpos``, the line fields), or None when a line or
    a field could be read differently by columns."""
    dtype = raw.schema.get("lignes", _NULL)
    if dtype == _NULL:  # no feuille has lines
        return pl.DataFrame(schema=LIGNE_COLUMNS)
    if not (isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)):
        return None
    fields = {f.name: f.dtype for f in dtype.inner.fields}
    for name in ("code", "date_soins"):
        if name in fields and not _is(fields[name], pl.String()):
            return None
    for name in ("quantite", "coefficient", "montant_facture_cts"):
        if name in fields and not (fields[name] == _NULL or fields[name].is_numeric()):
            return None
    lignes = pl.col("lignes")
    exploded = (
        raw.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("_fpos"), lignes)
        .filter(lignes.list.len() > 0)
        .explode("lignes")
    )
    if exploded.get_column("lignes").null_count():  # a line that is not an object
        return None
    present = [name for name in LINE_KEYS if name in fields]  # other keys are ignored, as by the record reader
    lines = exploded.select(
        "_fpos",
        pl.int_range(pl.len(), dtype=pl.Int64).over("_fpos").alias("_lpos"),
        *(pl.col("lignes").struct.field(name) for name in present),
    )
    for name, default in LINE_DEFAULTS.items():
        if name not in lines.columns:
            lines = lines.with_columns(pl.lit(default).alias(name))
        elif lines.get_column(name).null_count():  # null or missing: a column cannot tell
            return None
    for name in ("quantite", "montant_facture_cts"):
        # Integers read into a column of floats (the column also holds a float) are exact below
        # 2**53 only; the record reader keeps them whole.
        if name in lines.columns and lines.schema[name].is_float() and bool((lines.get_column(name).abs() >= 2.0**53).any()):
            return None
    lines = lines.with_columns(line_fields(lines))
    return lines.select(
        pl.col(name).cast(dtype) if name in lines.columns else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in LIGNE_COLUMNS.items()
    )


def encode(decomptes: pl.DataFrame, lignes: pl.DataFrame, integer_ids: pl.Series | None = None) -> pl.Series:
    """The contract's output records as JSON text, one per décompte, in the décomptes' order
    (``integer_ids``: the ``_pos`` of the feuilles whose id was a JSON integer)."""
    code = pl.col("code")
    text = pl.col("explication").cast(pl.String)  # a line's, then the décompte's own
    line_text = pl.when(text.is_not_null() & (text != "")).then(
        pl.format(
            "Ligne {} ({}) : {}",
            pl.col("_lpos") + 1,
            pl.when(code.is_null() | (code == "")).then(pl.lit("?")).otherwise(code),
            text,
        )
    )
    per_feuille = (
        lignes.select(
            "_fpos",
            pl.struct(text if c == "explication" else pl.col(c) for c in LINE_FIELDS).alias("lignes"),
            line_text.alias("_textes"),
        )
        .group_by("_fpos", maintain_order=True)
        .agg(pl.col("lignes"), pl.col("_textes").drop_nulls().str.join(" "))
    )
    own = text
    texts = pl.col("_textes")
    explanation = pl.when(own.is_null()).then(pl.lit(None, dtype=pl.String)).otherwise(
        pl.concat_str(
            [pl.when(texts != "").then(texts), pl.when(own != "").then(own)], separator=" ", ignore_nulls=True
        )
    )
    empty = pl.lit([], dtype=per_feuille.schema["lignes"])
    record = pl.struct(
        *(pl.col(c) for c in FEUILLE_FIELDS), pl.col("lignes").fill_null(empty), explanation.alias("explication")
    ).struct.json_encode()
    # A rejected feuille's ``destinataire`` is left out (as records_from_frames does); JSON text
    # escapes the quotes of every value, so the key is found only where it is a key.
    record = pl.when(pl.col("destinataire").is_null()).then(
        record.str.replace('"destinataire":null,', "", literal=True)
    ).otherwise(record)
    if integer_ids is not None and integer_ids.len():
        record = with_integer_id(record, pl.col("_pos").is_in(integer_ids.implode()))
    return (
        decomptes.select("_pos", *FEUILLE_FIELDS, "explication")
        .join(per_feuille, left_on="_pos", right_on="_fpos", how="left", maintain_order="left")
        .select(record.alias("json"))
        .get_column("json")
    )


def write(out: IO[str], decomptes: pl.DataFrame, lignes: pl.DataFrame, integer_ids: frozenset[int] = frozenset()) -> None:
    """:func:`encode`'s records, one per line, by slices of 100 000 décomptes (the text of a whole
    flow is never held at once)."""
    step = 100_000
    ids = pl.Series("_pos", sorted(integer_ids), dtype=pl.Int64) if integer_ids else None  # once for every slice
    if decomptes.height <= step:
        slices = [(decomptes, lignes)]
    else:  # décomptes in input order, lines by feuille: each slice of décomptes has its lines in one piece
        fpos = lignes.get_column("_fpos")
        if not (decomptes.get_column("_pos").is_sorted() and fpos.is_sorted()):
            decomptes, lignes = decomptes.sort("_pos"), lignes.sort("_fpos", "_lpos")
            fpos = lignes.get_column("_fpos")
        slices = []
        for start in range(0, decomptes.height, step):
            d = decomptes.slice(start, step)
            positions = d.get_column("_pos")
            first = fpos.search_sorted(int(positions[0]), side="left")
            end = fpos.search_sorted(int(positions[-1]), side="right")
            slices.append((d, lignes.slice(first, end - first)))
    for d, lines in slices:
        write_json_lines(out, encode(d, lines, ids))
