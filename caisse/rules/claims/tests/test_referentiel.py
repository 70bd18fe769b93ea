"""The vectorised référentiel reader gives exactly the tables of the record-by-record reader."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from caisse.batch_io import iter_ndjson
from caisse.rules.claims.referentiel import Referentiel, _read_beneficiaires, load_referentiel

EXAMPLE = Path(__file__).resolve().parents[4].parent / "shared" / "spec" / "examples" / "liquider" / "referentiel"


def _by_records(folder: Path) -> Referentiel:
    return Referentiel.from_records(iter_ndjson(folder / "beneficiaires.ndjson"), iter_ndjson(folder / "professionnels.ndjson"))


def _same(folder: Path) -> None:
    fast, slow = load_referentiel(folder), _by_records(folder)
    for name in ("beneficiaires", "periods", "cartes", "medecins_traitants", "professionnels"):
        assert_frame_equal(getattr(fast, name), getattr(slow, name), check_dtypes=True)


@pytest.mark.skipif(not EXAMPLE.is_dir(), reason="exemples du contrat absents")
def test_example_referentiel_same_tables() -> None:
    assert _read_beneficiaires(EXAMPLE / "beneficiaires.ndjson") is not None
    _same(EXAMPLE)


def test_odd_records_same_tables(tmp_path: Path) -> None:
    people = [
        {"nir": "185017512345678", "date_naissance": "1985-01-01", "droits": [{"debut": "2020-01-01", "fin": None}],
         "c2s": [{"debut": "2025-01-01", "fin": "2025-12-31", "participation": True}, None],
         "maternite": [{"debut_6e_mois": "2025-01-01", "date_accouchement": None}],
         "cartes_vitale": [{"numero": "CV1", "opposition": "2025-03-01"}, {"numero": None}],
         "medecin_traitant": [{"ps": "PS1", "debut": None, "fin": None}]},
        {"nir": None, "droits": [{"debut": "2020-01-01"}]},
        {"nir": "185017512345678", "date_naissance": "1990-01-01"},
        {"nir": "285017512345679", "droits": [], "ald": [{"debut": None, "fin": "2026-01-01"}], "deces": "2025-06-01"},
    ]
    (tmp_path / "beneficiaires.ndjson").write_text("".join(json.dumps(p) + "\n" for p in people))
    (tmp_path / "professionnels.ndjson").write_text(json.dumps({"id": "PS1", "profession": "medecin"}) + "\n")
    assert _read_beneficiaires(tmp_path / "beneficiaires.ndjson") is not None
    _same(tmp_path)


@pytest.mark.parametrize("odd", ['{"nir": "1", "date_naissance": "20240101"}', "[1, 2]", '{"nir": "1", "droits": [{"debut": "2024-1-5"}]}'])
def test_other_shapes_go_through_the_record_reader(tmp_path: Path, odd: str) -> None:
    (tmp_path / "beneficiaires.ndjson").write_text('{"nir": "185017512345678"}\n' + odd + "\n")
    (tmp_path / "professionnels.ndjson").write_text("")
    assert _read_beneficiaires(tmp_path / "beneficiaires.ndjson") is None
    _same(tmp_path)
    assert isinstance(load_referentiel(tmp_path).beneficiaires, pl.DataFrame)


@pytest.mark.parametrize("layout", ["grouped", "shuffled", "missing_lines"])
def test_grouped_parquet_lines_are_ranked_like_the_join(tmp_path: Path, layout: str) -> None:
    """The usual layout (increasing ids, lines grouped in feuille order) is read without a join,
    with the same frames as the join path."""
    from caisse.rules.claims import batch

    feuilles = pl.DataFrame({"id": [f"F{i:03d}" for i in range(6)], "nir": ["1"] * 6})
    counts = [1, 3, 2, 1, 0 if layout == "missing_lines" else 2, 1]
    lines = pl.DataFrame(
        {"feuille_id": [f"F{i:03d}" for i, n in enumerate(counts) for _ in range(n)]}
    ).with_columns(pl.int_range(pl.len()).alias("montant_facture_cts"), pl.lit("G").alias("code"))
    if layout == "shuffled":
        lines = lines.reverse()
    feuilles.write_parquet(tmp_path / "feuilles.parquet")
    lines.write_parquet(tmp_path / "lignes.parquet")
    f, got = batch.read_parquet_feuilles(tmp_path)
    raw = batch.ligne_frame(pl.read_parquet(tmp_path / "lignes.parquet").with_row_index("_row"))
    assert (batch._grouped_lines(f, raw) is not None) == (layout == "grouped")
    joined = raw.join(f.select(pl.col("id").alias("feuille_id"), pl.col("_pos").alias("_fpos")), on="feuille_id")
    assert_frame_equal(got, batch.rank_lines(joined), check_dtypes=False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=1, max_size=12),
    st.sampled_from(["as_is", "swap", "move_last_first", "repeat_a_run"]),
    st.integers(0, 10_000),
)
def test_any_parquet_line_layout_is_ranked_like_the_join(counts: list[int], change: str, seed: int) -> None:
    """Whatever the lines' layout (grouped, a feuille's lines split in two runs, out of order,
    feuilles without lines), the reader gives the join's frames."""
    import random
    import tempfile

    from caisse.rules.claims import batch

    ids = [f"F{i:03d}" for i in range(len(counts))]
    line_ids = [ids[i] for i, n in enumerate(counts) for _ in range(n)]
    rng = random.Random(seed)
    if change == "swap" and len(line_ids) > 1:
        a, b = rng.sample(range(len(line_ids)), 2)
        line_ids[a], line_ids[b] = line_ids[b], line_ids[a]
    elif change == "move_last_first" and line_ids:
        line_ids.insert(0, line_ids.pop())
    elif change == "repeat_a_run" and line_ids:
        line_ids.append(line_ids[rng.randrange(len(line_ids))])
    lines = pl.DataFrame({"feuille_id": line_ids}, schema={"feuille_id": pl.String}).with_columns(
        pl.int_range(pl.len()).alias("montant_facture_cts"), pl.lit("G").alias("code")
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pl.DataFrame({"id": ids, "nir": ["1"] * len(ids)}).write_parquet(folder / "feuilles.parquet")
        lines.write_parquet(folder / "lignes.parquet")
        f, got = batch.read_parquet_feuilles(folder)
        raw = batch.ligne_frame(pl.read_parquet(folder / "lignes.parquet").with_row_index("_row"))
    joined = raw.join(f.select(pl.col("id").alias("feuille_id"), pl.col("_pos").alias("_fpos")), on="feuille_id")
    assert_frame_equal(got, batch.rank_lines(joined), check_dtypes=False)


@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(-3, 3), st.integers(0, 2**20)), min_size=1, max_size=40))
def test_packed_key_orders_like_the_columns(rows: list[tuple[int, int, int]]) -> None:
    from caisse.rules.claims.frames import packed_key

    df = pl.DataFrame(rows, schema=["a", "b", "c"], orient="row")
    key = packed_key(df, ["a", "b", "c"])
    assert key is not None
    packed = df.with_columns(key.alias("k")).sort("k", "a", "b", "c").select("a", "b", "c")
    assert packed.equals(df.sort("a", "b", "c"))
    assert df.select(key).to_series().n_unique() == df.unique().height


def test_packed_key_gives_up_beyond_62_bits() -> None:
    from caisse.rules.claims.frames import packed_key

    df = pl.DataFrame({"a": [0, 2**40], "b": [0, 2**30]})
    assert packed_key(df, ["a", "b"]) is None


@pytest.mark.parametrize("field", ["droits", "ald", "c2s", "ame", "invalidite", "maternite", "cartes_vitale", "medecin_traitant"])
@pytest.mark.parametrize("value", [5, True, 1.5, "2020-01-01", {"debut": "2020-01-01"}])
def test_a_list_given_as_another_value_skips_the_line(tmp_path: Path, field: str, value: object) -> None:
    """A malformed beneficiary line is skipped, never fatal (it crashed the reader: ``"droits": 5``
    is not iterable)."""
    people = [{"nir": "185017512345678", "droits": [{"debut": "2020-01-01"}]}, {"nir": "285017512345679", field: value}]
    (tmp_path / "beneficiaires.ndjson").write_text("".join(json.dumps(p) + "\n" for p in people))
    (tmp_path / "professionnels.ndjson").write_text("")
    ref = load_referentiel(tmp_path)
    assert ref.beneficiaires.get_column("nir").to_list() == ["185017512345678"]
    _same(tmp_path)


def test_malformed_counter_lines_are_skipped(tmp_path: Path) -> None:
    """A ``compteurs.ndjson`` line whose amount is not a number of cents is skipped, never fatal;
    integral numbers and their text are amounts."""
    (tmp_path / "beneficiaires.ndjson").write_text("")
    (tmp_path / "professionnels.ndjson").write_text("")
    lines = [
        {"nir": "A", "annee": 2025, "participation_forfaitaire_cts": "abc", "franchises_cts": 0, "dette_cts": 0},
        {"nir": "B", "annee": 2025, "participation_forfaitaire_cts": 100, "franchises_cts": 0, "dette_cts": [1]},
        {"nir": "C", "annee": 2025, "participation_forfaitaire_cts": 4900.0, "franchises_cts": "200", "dette_cts": None},
        {"nir": "D", "annee": 2025, "participation_forfaitaire_cts": 12.5, "franchises_cts": 0, "dette_cts": 0},
        {"nir": "E", "annee": 2025, "participation_forfaitaire_cts": True, "franchises_cts": 0, "dette_cts": 0},
        {"nir": "F", "annee": "2026", "participation_forfaitaire_cts": 300, "franchises_cts": 0, "dette_cts": 150},
        {"nir": "G", "annee": "deux mille", "participation_forfaitaire_cts": 300, "franchises_cts": 0, "dette_cts": 0},
        {"nir": "H", "annee": 2025, "participation_forfaitaire_cts": -1000, "franchises_cts": 0, "dette_cts": 0},
        {"nir": "I", "annee": 2025, "participation_forfaitaire_cts": 0, "franchises_cts": 0, "dette_cts": -500},
    ]
    (tmp_path / "compteurs.ndjson").write_text("".join(json.dumps(c) + "\n" for c in lines))
    compteurs = load_referentiel(tmp_path).compteurs
    assert compteurs.rows() == [("C", 2025, 4900, 200, 0), ("F", 2026, 300, 0, 150)]
