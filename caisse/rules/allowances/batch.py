"""``caisse ij --arrets FILE --out FILE``: compute the IJ of a file of arrêts (contract §4).

One output line per input line, in input order; a bad line comes out with ``eligible: false``,
an ``erreur`` code and a French ``motif``. An unreadable file raises
:class:`caisse.batch_io.UnreadableFile` (the CLI prints it and exits non-zero).
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

from caisse.batch_io import UnreadableFile
from caisse.rules.allowances.engine import compute_ij
from caisse.rules.allowances.schema import read_arrets
from caisse.rules.parameters import Parameters, load_parameters


def write_output(frame: pl.DataFrame, out: str) -> None:
    """Write the output frame as NDJSON to ``out`` (``-``: standard output)."""
    if out == "-":
        sys.stdout.write(frame.write_ndjson())
        sys.stdout.flush()
        return
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix == ".parquet":  # periods stay a nested list of structs
        frame.write_parquet(target)
        return
    frame.write_ndjson(target)


def run(arrets: Path, out: str, params: Parameters | None = None) -> None:
    """Read ``arrets`` (NDJSON), write one §4 result per arrêt to ``out``."""
    if str(arrets) != "-" and not Path(arrets).exists():
        raise UnreadableFile(f"Fichier introuvable : {arrets}")
    frame = read_arrets(arrets)
    if frame.height >= 100_000:
        print(f"ij : {frame.height} arrêts lus, calcul en cours", file=sys.stderr)
    write_output(compute_ij(frame, params if params is not None else load_parameters()), out)
