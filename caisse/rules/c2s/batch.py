"""``caisse c2s --demandes FILE --out FILE``: decide a file of C2S requests (contract §3).

One output line per input line, in input order; a bad line becomes an output line with an
``erreur`` code and a French ``motif``. An unreadable file raises
:class:`caisse.batch_io.UnreadableFile` (the CLI turns it into a one-line error and exit 1).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from caisse.batch_io import iter_ndjson, write_ndjson
from caisse.rules.c2s.engine import decide_c2s
from caisse.rules.c2s.models import InvalidRecord, error_record, parse_request
from caisse.rules.parameters import ParameterError, Parameters, load_parameters

PROGRESS_EVERY = 100_000


def decide_record(record: dict[str, Any] | None, params: Parameters) -> dict[str, Any]:
    """One contract §3 output line for one input line (never raises on bad data)."""
    if record is None:
        return error_record(None, "DONNEE_INVALIDE", "Ligne illisible : un objet JSON est attendu.")
    record_id = record.get("id")
    try:
        return decide_c2s(parse_request(record), params).to_record()
    except InvalidRecord as exc:
        return error_record(record_id, exc.code, str(exc))
    except ParameterError as exc:
        return error_record(record_id, "PARAMETRE_INDISPONIBLE", str(exc))


def decide_records(
    records: Iterable[dict[str, Any] | None], params: Parameters | None = None
) -> Iterator[dict[str, Any]]:
    """Decide a stream of input lines, printing progress to stderr on long runs."""
    p = params if params is not None else load_parameters()
    for count, record in enumerate(records, start=1):
        yield decide_record(record, p)
        if count % PROGRESS_EVERY == 0:
            print(f"c2s : {count} demandes instruites", file=sys.stderr)


def run(demandes: Path, out: str) -> None:
    """Read ``demandes`` (NDJSON), write the decisions to ``out`` (``-`` for stdout).

    The input's first record is read before ``out`` is opened: a file that cannot be read at all
    leaves ``out`` as it was."""
    records = iter_ndjson(demandes)
    first = list(itertools.islice(records, 1))
    write_ndjson(out, decide_records(itertools.chain(first, records)))
