"""The shared NDJSON reader (:mod:`caisse.batch_io`) every batch command and import goes through."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from caisse.batch_io import UnreadableFile, iter_ndjson

LINES = '{"id": "A"}\n\n[1, 2]\npas du json\n{"id": 2}\n'
EXPECTED = [{"id": "A"}, None, None, {"id": 2}]


def test_reads_objects_and_marks_lines_that_are_not_objects(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    path.write_text(LINES, encoding="utf-8")
    assert list(iter_ndjson(path)) == EXPECTED


def test_a_byte_order_mark_is_skipped_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + LINES.encode("utf-8"))
    assert list(iter_ndjson(path)) == EXPECTED


def test_a_byte_order_mark_is_skipped_on_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(("\ufeff" + LINES).encode("utf-8"))))
    assert list(iter_ndjson("-")) == EXPECTED


def test_only_a_leading_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    path.write_bytes(b"\xef\xbb\xbf\n" + '\ufeff{"id": "B"}\n'.encode())
    assert list(iter_ndjson(path)) == [None]  # a BOM inside the file is not whitespace: a bad line


def test_a_file_with_only_a_byte_order_mark_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    path.write_bytes(b"\xef\xbb\xbf")
    assert list(iter_ndjson(path)) == []


def test_a_file_that_is_not_utf8_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    path.write_bytes(b'\n{"id": "\xe9"}\n{"id": "A"}\n')
    with pytest.raises(UnreadableFile, match="UTF-8"):
        list(iter_ndjson(path))
    path.write_bytes("\ufeff{}\n".encode("utf-16"))
    with pytest.raises(UnreadableFile, match="UTF-8"):
        list(iter_ndjson(path))


def test_a_later_line_that_is_not_utf8_is_a_bad_record(tmp_path: Path) -> None:
    """Contract: a bad record never stops a batch; only a file that is not UTF-8 text at all does."""
    path = tmp_path / "f.ndjson"
    path.write_bytes(b'{"id": "A"}\n{"id": "\xe9"}\n{"id": "B"}\n')
    assert list(iter_ndjson(path)) == [{"id": "A"}, None, {"id": "B"}]


def test_lines_end_as_in_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    path.write_bytes(b'{"id": "A"}\r\n{"id": "B"}\r{"id": "C"}\n{"id": "D\xe2\x80\xa8"}')
    assert list(iter_ndjson(path)) == [{"id": "A"}, {"id": "B"}, {"id": "C"}, {"id": "D\u2028"}]


def test_a_lone_surrogate_escape_is_a_bad_record_and_a_pair_is_text(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    path.write_text('{"id": "F\\ud800"}\n{"id": "\\ud83d\\ude00"}\n{"id": "\\u00e9"}\n', encoding="utf-8")
    assert list(iter_ndjson(path)) == [None, {"id": "\U0001f600"}, {"id": "é"}]
