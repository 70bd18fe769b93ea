"""The fast NDJSON reader and writer (:mod:`caisse.rules.claims.ndjson`) say exactly what the
record reader and :func:`records.records_from_frames` say, on clean and on odd files."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caisse.batch_io import iter_ndjson
from caisse.rules.claims import batch, engine, ndjson, records
from caisse.rules.claims.tests.test_examples import EXAMPLE, FEUILLE_FIELDS, LINE_FIELDS
from caisse.rules.claims.tests.test_properties import REF, flows

# Values a producer may put in a field: mostly of the right JSON type (odd or not), sometimes of
# another type (the fast reader must then step aside, the record reader decides).
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**20), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "G", "2025-06-10", "2025-6-10", "20250610", "maladie", "atmp", "hors_parcours"]),
    st.lists(st.integers(0, 3), max_size=2), st.fixed_dictionaries({"a": st.integers(0, 3)}),
)
TEXTS = st.sampled_from(["G", "CS", "XXXX", "", "2025-06-10", "2025-6-10", "20250610", "2025-02-30", "maladie", "atmp",
                         "hors_parcours", "MG1", "F1", "F2", "180017500000179", "été"])
NUMBERS = st.one_of(st.integers(-5, 5), st.integers(0, 10**6), st.integers(-(2**63), 2**63 - 1),
                    st.floats(-10, 1e7, allow_nan=False), st.sampled_from([1.0, 2.5, 3000.0, 1e19]))


def _rarely(odd: st.SearchStrategy[Any], usual: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``odd`` about once in 20 draws (not at a bound of the range: Hypothesis favours them)."""
    return st.integers(0, 19).flatmap(lambda k: odd if k == 7 else usual)


def _typed(usual: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return _rarely(ODD, usual)


@st.composite
def odd_line(draw: st.DrawFn) -> Any:
    line: dict[str, Any] = {
        "code": draw(_typed(TEXTS)),
        "date_soins": draw(_typed(TEXTS)),
        "quantite": draw(_typed(NUMBERS)),
        "coefficient": draw(_typed(NUMBERS)),
        "montant_facture_cts": draw(_typed(NUMBERS)),
    }
    if draw(_rarely(st.just(True), st.just(False))):
        line.pop(draw(st.sampled_from(list(line))))  # a missing field: its default, or missing
    return draw(_rarely(st.one_of(st.none(), st.integers()), st.just(line)))


@st.composite
def odd_feuille(draw: st.DrawFn) -> Any:
    record: dict[str, Any] = {
        "id": draw(_typed(st.one_of(TEXTS, TEXTS, st.integers(0, 9)))),
        "type": "FSE",
        "date_reception": draw(_typed(TEXTS)),
        "nir": draw(_typed(TEXTS)),
        "executant": draw(_typed(TEXTS)),
        "prescripteur": None,
        "tiers_payant": draw(_typed(st.booleans())),
        "risque": draw(_typed(TEXTS)),
        "parcours": draw(_typed(TEXTS)),
        "en_rapport_ald": draw(_typed(st.booleans())),
        "carte_vitale": None,
        "lignes": draw(_typed(st.lists(odd_line(), max_size=3))),
    }
    if draw(_rarely(st.just(True), st.just(False))):
        record.pop(draw(st.sampled_from(list(record))))
    return draw(_rarely(st.sampled_from([[1, 2], "texte"]), st.just(record)))


RAW = {  # lines json.dumps cannot write: a key given twice
    "DUP_TP": '{"id": "F2", "date_reception": "2025-06-20", "nir": "x", "executant": "MG1", "tiers_payant": true, '
    '"lignes": [{"code": "G", "date_soins": "2025-06-10", "quantite": 1, "montant_facture_cts": 3000}], "tiers_payant": false}',
    "DUP_Q": '{"id": "F2", "date_reception": "2025-06-20", "nir": "x", "executant": "MG1", "tiers_payant": true, '
    '"lignes": [{"code": "G", "date_soins": "2025-06-10", "quantite": 1, "montant_facture_cts": 3000, "quantite": 2}]}',
}


def _write(path: Path, rows: list[Any], bad_json: bool = False) -> None:
    text = "".join((RAW[r] if isinstance(r, str) and r in RAW else json.dumps(r)) + "\n" for r in rows)
    path.write_text(text + ("{pas du json\n" if bad_json else ""), encoding="utf-8")


def _assert_same_as_record_reader(path: Path) -> bool:
    fast = ndjson.read_frames(path)
    recs = list(iter_ndjson(path))
    f, lines = records.frames_from_records(recs)
    if fast is None:
        return False
    ff, fl, ids = fast
    assert ff.equals(f, null_equal=True), (ff, f)
    assert fl.equals(lines, null_equal=True), (fl, lines)
    assert ids == frozenset(i for i, r in enumerate(recs) if isinstance(r, dict) and type(r.get("id")) is int)
    return True


HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=150, deadline=None, suppress_health_check=HEALTH)
@given(st.lists(odd_feuille(), min_size=1, max_size=6))
def test_fast_reader_reads_like_the_record_reader_or_steps_aside(tmp_path: Path, rows: list[Any]) -> None:
    path = tmp_path / "feuilles.ndjson"
    _write(path, rows)
    _assert_same_as_record_reader(path)


@settings(max_examples=25, deadline=None, suppress_health_check=HEALTH)
@given(flows)
def test_clean_flows_take_the_fast_reader_and_the_writer_gives_the_records(tmp_path: Path, feuilles: list[dict[str, Any]]) -> None:
    path = tmp_path / "feuilles.ndjson"
    _write(path, feuilles)
    assert _assert_same_as_record_reader(path)
    f, lines, ids = batch.read_flow(path)
    decomptes, out_lines, _ = engine.liquidate(REF, f, lines)
    out = io.StringIO()
    ndjson.write(out, decomptes, out_lines, ids)
    assert [json.loads(x) for x in out.getvalue().splitlines()] == records.records_from_frames(decomptes, out_lines)


def test_odd_files_step_aside(tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    line: dict[str, Any] = {"code": "G", "date_soins": "2025-06-10", "quantite": 1, "coefficient": 1, "montant_facture_cts": 3000}
    good: dict[str, Any] = {"id": "F1", "date_reception": "2025-06-20", "nir": "x", "executant": "MG1", "tiers_payant": False,
                            "lignes": [line]}
    cases: dict[str, tuple[list[Any], bool]] = {
        "pas du JSON": ([good], True),
        "code en nombre": ([good, {**good, "lignes": [{**line, "code": 1104}]}], False),
        "identifiant booléen": ([good, {**good, "id": True}], False),
        "identifiants mêlés": ([good, {**good, "id": 7}], False),
        "risque null": ([good, {**good, "risque": None}], False),
        "quantité null": ([good, {**good, "lignes": [{**line, "quantite": None}]}], False),
        "ligne null": ([{**good, "lignes": [None]}], False),
        "pas un objet": ([good, [1, 2]], False),
        "clé échappée": ([good, {**good, "lignes": [{**line, "c\u006fde": 1104}]}], False),
        "clé de feuille en double": ([good, "DUP_TP"], False),
        "clé de ligne en double": ([good, "DUP_Q"], False),
        "surrogat seul": ([good, {**good, "id": "F\ud800"}], False),
    }
    for name, (rows, bad_json) in cases.items():
        _write(path, rows, bad_json)
        assert ndjson.read_frames(path) is None, name
    _write(path, [good, {**good, "id": "F2"}])
    assert ndjson.read_frames(path) is not None
    # Keys the engine does not read are ignored, its own column names included; year 0000 is no date.
    _write(path, [{**good, "_pos": 5, "_fpos": 1, "lignes": [{**line, "_lpos": 3, "date_soins": "0000-01-01"}]}])
    assert _assert_same_as_record_reader(path)
    assert ndjson.read_frames(path)[1].get_column("_invalide").to_list() == [True]  # type: ignore[index]
    _write(path, [{**good, "id": 1}, {**good, "id": 2}])
    fast = ndjson.read_frames(path)
    assert fast is not None and fast[2] == {0, 1} and fast[0].get_column("id").to_list() == ["1", "2"]


@pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")
def test_the_example_through_the_fast_paths(tmp_path: Path) -> None:
    assert _assert_same_as_record_reader(EXAMPLE / "feuilles.ndjson")
    batch.run(EXAMPLE / "referentiel", EXAMPLE / "feuilles.ndjson", str(tmp_path / "out.ndjson"), "ndjson")
    got = [json.loads(x) for x in (tmp_path / "out.ndjson").read_text(encoding="utf-8").splitlines()]
    expected = [json.loads(x) for x in (EXAMPLE / "decomptes_attendus.ndjson").read_text(encoding="utf-8").splitlines()]
    assert [g["id"] for g in got] == [e["id"] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert {k: g.get(k) for k in FEUILLE_FIELDS} == {k: e.get(k) for k in FEUILLE_FIELDS}
        assert [{k: x[k] for k in LINE_FIELDS} for x in g["lignes"]] == [{k: x[k] for k in LINE_FIELDS} for x in e["lignes"]]
