"""Reading and writing the contract's exchange files (NDJSON, Parquet).

Every command of the contract reads UTF-8 NDJSON (one JSON object per line) or Parquet; a UTF-8
byte order mark (BOM) at the start of an NDJSON file or of standard input is skipped (many
Windows tools write one). A file that cannot be read at all raises :class:`UnreadableFile` with a
one-line French message; the CLI prints it on stderr and exits non-zero. A bad *record* never
stops a batch: the engines turn it into an output record carrying an error code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import polars as pl

BOM = "\ufeff"
BOM_BYTES = BOM.encode("utf-8")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)  # ASCII digits; fullmatch: no trailing newline


def iso_date(raw: str) -> dt.date:
    """A contract date, exactly ``AAAA-MM-JJ`` (ASCII digits, a real calendar day); ``ValueError``
    otherwise (``date.fromisoformat`` alone also takes ``AAAAMMJJ`` and week dates)."""
    if not _ISO_DATE.fullmatch(raw):
        raise ValueError(raw)
    return dt.date.fromisoformat(raw)


def contract_date(text: pl.Expr) -> pl.Expr:
    """A text column of contract dates ``AAAA-MM-JJ`` (ASCII digits, a real calendar day, year 1
    or later) as Date, null where malformed. Polars' ``%Y-%m-%d`` alone is lenient: it takes
    ``2025-3-1``, `` 2025-03-01``, ``+2025-03-01`` and year ``0000`` (which no Python date can
    hold); every command refuses them."""
    parsed = pl.when(text.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")).then(
        text.str.to_date("%Y-%m-%d", strict=False)
    )
    return pl.when(parsed.dt.year() >= 1).then(parsed)


def contract_month(text: pl.Expr) -> pl.Expr:
    """A text column of contract months ``AAAA-MM`` (ASCII digits, month 01 to 12, year 1 or
    later) as the month's first day, null where malformed."""
    parsed = pl.when(text.str.contains(r"^[0-9]{4}-[0-9]{2}$")).then(text.str.to_date("%Y-%m", strict=False))
    return pl.when(parsed.dt.year() >= 1).then(parsed)


class UnreadableFile(Exception):
    """The input file cannot be read at all (missing, not UTF-8, not a file)."""


def iter_ndjson(path: str | Path) -> Iterator[dict[str, Any] | None]:
    """Yield each line's object, or ``None`` for a line that is not a JSON object.

    Blank lines are skipped; a BOM at the start is skipped. ``-`` reads standard input. Lines end
    at ``\n``, ``\r\n`` or ``\r`` (as Python's text files). A line that is not UTF-8 is a bad
    record, like any line that is not a JSON object; a file whose first line is not UTF-8 is not a
    UTF-8 text file at all (UTF-16, binary…): :class:`UnreadableFile`.
    """
    try:
        handle: IO[bytes] = sys.stdin.buffer if str(path) == "-" else open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        raise UnreadableFile(f"Fichier introuvable : {path}") from None
    except IsADirectoryError:
        raise UnreadableFile(f"« {path} » est un dossier, un fichier NDJSON est attendu.") from None
    except OSError as exc:
        raise UnreadableFile(f"Lecture impossible de {path} : {exc.strerror}") from None
    try:
        first_text, at_start = True, True
        for chunk in handle:
            if at_start:  # only the file's first bytes
                chunk, at_start = chunk.removeprefix(BOM_BYTES), False
            for raw in chunk.splitlines():
                if not raw.strip():
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    if first_text:
                        raise UnreadableFile(f"{path} n'est pas un fichier texte UTF-8.") from None
                    yield None
                    continue
                first_text = False
                yield _parsed(line)
    except OSError as exc:
        raise UnreadableFile(f"Lecture impossible de {path} : {exc.strerror}") from None
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _parsed(line: str) -> dict[str, Any] | None:
    """The line's JSON object, or ``None`` (not JSON, not an object, or a lone surrogate escape)."""
    try:
        obj = json.loads(line)
        if "\\ud" in line.lower():  # a UTF-16 surrogate escape: a lone one is not text
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except (json.JSONDecodeError, UnicodeEncodeError):
        return None
    return obj if isinstance(obj, dict) else None


def read_ndjson(path: str | Path) -> list[dict[str, Any] | None]:
    return list(iter_ndjson(path))


def open_output(path: str | Path) -> IO[str]:
    """``-`` is standard output; otherwise a file created (or replaced) atomically on close."""
    if str(path) == "-":
        return sys.stdout
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return open(target, "w", encoding="utf-8")  # noqa: SIM115


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


@contextlib.contextmanager
def output(path: str | Path) -> Iterator[IO[str]]:
    """:func:`open_output` as a context: a file is closed at the end, standard output flushed."""
    out = open_output(path)
    try:
        yield out
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()


def write_ndjson(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    count = 0
    with output(path) as out:
        for record in records:
            out.write(dumps(record))
            out.write("\n")
            count += 1
    return count


def with_integer_id(record: pl.Expr, integer: pl.Expr) -> pl.Expr:
    """A JSON object's text whose first key is ``id``, the id written as a JSON number where
    ``integer`` is true (the input gave an integer; the engines work on text ids): ``{"id":"7",…``
    becomes ``{"id":7,…``."""
    return pl.when(integer).then(record.str.replace(r'^\{"id":"(-?[0-9]+)"', '{"id":${1}')).otherwise(record)


def write_json_lines(out: str | Path | IO[str], texts: pl.Series) -> None:
    """One JSON text per line, as is: JSON text holds no line break, and a CSV writer that never
    quotes writes each value then a line break (in Rust, several times faster than joining Python
    strings; and a value's U+2028 is not a line break, as ``str.splitlines`` would take it)."""
    texts.to_frame().write_csv(out, include_header=False, quote_style="never")

