"""``caisse ij --arrets FILE --out FILE``: compute the IJ of a file of arrêts (contract §4).

One output line per input line, in input order; a bad line comes out with ``eligible: false``,
an ``erreur`` code and a French ``motif``. An unreadable file raises
:class:`caisse.batch_io.UnreadableFile` (the CLI prints it and exits non-zero).

Each ``id`` is echoed with its input type: ``"id": 7`` comes back ``7`` and ``"id": "7"`` comes
back ``"7"`` in NDJSON. A Parquet column has one type: the output ``id`` column is an integer
column when every id of the input is an integer, a string column otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

from caisse.batch_io import UnreadableFile, with_integer_id, write_json_lines
from caisse.rules.allowances.engine import compute_ij
from caisse.rules.allowances.schema import read_arrets
from caisse.rules.parameters import Parameters, load_parameters


def _integer_id_column(frame: pl.DataFrame, integer_ids: pl.Series) -> pl.DataFrame:
    """For Parquet: ``id`` as an integer column when every non-null id was an integer."""
    if not (integer_ids | frame["id"].is_null()).all():
        return frame
    as_int = frame["id"].cast(pl.Int64, strict=False)
    if as_int.null_count() != frame["id"].null_count():  # beyond Int64: keep the strings
        return frame
    return frame.with_columns(id=as_int)


def write_output(frame: pl.DataFrame, out: str, integer_ids: pl.Series | None = None) -> None:
    """Write the output frame as NDJSON to ``out`` (``-``: standard output), or Parquet for a
    ``.parquet`` name. ``integer_ids`` (one boolean per row) marks the ids read as integers."""
    mask = integer_ids.fill_null(False) if integer_ids is not None and integer_ids.any() else None
    target = None if out == "-" else Path(out)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
    if target is not None and target.suffix == ".parquet":  # periods stay a nested list of structs
        (frame if mask is None else _integer_id_column(frame, mask)).write_parquet(target)
    else:
        record = pl.struct(pl.all()).struct.json_encode()
        texts = frame.select(record if mask is None else with_integer_id(record, pl.lit(mask))).to_series()
        write_json_lines(sys.stdout if target is None else target, texts)
        if target is None:
            sys.stdout.flush()


def run(arrets: Path, out: str, params: Parameters | None = None) -> None:
    """Read ``arrets`` (NDJSON), write one §4 result per arrêt to ``out``."""
    if str(arrets) != "-" and not Path(arrets).exists():
        raise UnreadableFile(f"Fichier introuvable : {arrets}")
    frame = read_arrets(arrets)
    if frame.height >= 100_000:
        print(f"ij : {frame.height} arrêts lus, calcul en cours", file=sys.stderr)
    result = compute_ij(frame, params if params is not None else load_parameters())
    write_output(result, out, frame["_id_entier"] if "_id_entier" in frame.columns else None)
