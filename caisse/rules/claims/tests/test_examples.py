"""The contract's worked example (shared/spec/examples/liquider) must be reproduced exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from caisse.batch_io import UnreadableFile
from caisse.rules.claims import batch, records
from caisse.rules.claims.referentiel import load_referentiel

EXAMPLE = Path(__file__).resolve().parents[4] / "shared" / "spec" / "examples" / "liquider"
if not EXAMPLE.exists():  # the shared folder sits next to the repository
    EXAMPLE = Path("/work/shared/spec/examples/liquider")

FEUILLE_FIELDS = (
    "statut",
    "rejets",
    "destinataire",
    "paiement_ps_cts",
    "paiement_assure_cts",
    "part_c2s_cts",
    "dette_creee_cts",
    "dette_recuperee_cts",
)
LINE_FIELDS = (
    "base_remboursement_cts",
    "taux",
    "montant_amo_cts",
    "participation_forfaitaire_cts",
    "franchise_cts",
    "depassement_cts",
    "montant_rembourse_cts",
    "rejets",
)

pytestmark = pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _differences(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    diffs = []
    assert len(expected) == len(got)
    for e, g in zip(expected, got, strict=True):
        assert e["id"] == g["id"]
        for k in FEUILLE_FIELDS:
            if e.get(k) != g.get(k):
                diffs.append(f"{e['id']} {k}: attendu {e.get(k)!r}, obtenu {g.get(k)!r}")
        if len(e["lignes"]) != len(g["lignes"]):
            diffs.append(f"{e['id']}: {len(e['lignes'])} lignes attendues, {len(g['lignes'])} obtenues")
            continue
        for i, (el, gl) in enumerate(zip(e["lignes"], g["lignes"], strict=True)):
            for k in LINE_FIELDS:
                if el.get(k) != gl.get(k):
                    diffs.append(f"{e['id']} ligne {i} {k}: attendu {el.get(k)!r}, obtenu {gl.get(k)!r}")
    return diffs


def test_example_ndjson_reproduced_exactly(tmp_path: Path) -> None:
    out = tmp_path / "decomptes.ndjson"
    batch.run(EXAMPLE / "referentiel", EXAMPLE / "feuilles.ndjson", str(out), "ndjson")
    got = _read(out)
    assert _differences(_read(EXAMPLE / "decomptes_attendus.ndjson"), got) == []
    assert all(g["explication"] for g in got)


def _to_parquet(folder: Path) -> None:
    feuilles = _read(EXAMPLE / "feuilles.ndjson")
    rows, lines = [], []
    for f in feuilles:
        rows.append({k: v for k, v in f.items() if k != "lignes"})
        for line in f["lignes"]:
            lines.append({"feuille_id": f["id"], **line})
    pl.DataFrame(rows).write_parquet(folder / "feuilles.parquet")
    pl.DataFrame(lines).write_parquet(folder / "lignes.parquet")


def test_example_parquet_in_and_out(tmp_path: Path) -> None:
    _to_parquet(tmp_path)
    out = tmp_path / "sortie"
    batch.run(EXAMPLE / "referentiel", tmp_path / "feuilles.parquet", str(out), "parquet")
    dec = pl.read_parquet(out / "decomptes.parquet")
    lig = pl.read_parquet(out / "lignes_decomptes.parquet")
    assert dec.height == 199
    got = records.records_from_frames(
        dec.rename({"feuille_position": "_pos"}),
        lig.rename({"feuille_position": "_fpos", "ligne": "_lpos"}),
    )
    assert _differences(_read(EXAMPLE / "decomptes_attendus.ndjson"), got) == []


@pytest.mark.parametrize("chunk", [7, 50])
def test_example_in_chunks_with_carried_counters(chunk: int) -> None:
    ref = load_referentiel(EXAMPLE / "referentiel")
    f, lines = records.frames_from_records(list(_read(EXAMPLE / "feuilles.ndjson")))
    dec, lig, _ = batch.liquidate_in_chunks(ref, f, lines, chunk_feuilles=chunk, explanations=False)
    got = records.records_from_frames(dec, lig)
    assert _differences(_read(EXAMPLE / "decomptes_attendus.ndjson"), got) == []


def test_streamed_output_equals_gathered_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flow already in processing order is written chunk by chunk, with the same result."""
    feuilles = sorted(_read(EXAMPLE / "feuilles.ndjson"), key=lambda f: (f["date_reception"], f["id"]))
    src = tmp_path / "feuilles.ndjson"
    src.write_text("".join(json.dumps(f) + "\n" for f in feuilles), encoding="utf-8")
    batch.run(EXAMPLE / "referentiel", src, str(tmp_path / "gathered.ndjson"), "ndjson")
    monkeypatch.setattr(batch, "CHUNK_FEUILLES", 60)
    batch.run(EXAMPLE / "referentiel", src, str(tmp_path / "streamed.ndjson"), "ndjson")
    batch.run(EXAMPLE / "referentiel", src, str(tmp_path / "pq"), "parquet")
    assert _read(tmp_path / "gathered.ndjson") == _read(tmp_path / "streamed.ndjson")
    assert pl.read_parquet(tmp_path / "pq" / "decomptes.parquet").height == len(feuilles)


def test_parquet_with_text_dates_and_a_bad_value(tmp_path: Path) -> None:
    """Parquet dates may be text; a malformed one rejects only its feuille (DONNEE_INVALIDE)."""
    feuilles = _read(EXAMPLE / "feuilles.ndjson")[:5]
    feuilles[1]["date_reception"] = "2025-02-30"
    rows = [{k: v for k, v in f.items() if k != "lignes"} for f in feuilles]
    lines = [{"feuille_id": f["id"], **line} for f in feuilles for line in f["lignes"]]
    pl.DataFrame(rows).write_parquet(tmp_path / "feuilles.parquet")
    pl.DataFrame(lines).write_parquet(tmp_path / "lignes.parquet")
    out = tmp_path / "decomptes.ndjson"
    batch.run(EXAMPLE / "referentiel", tmp_path / "feuilles.parquet", str(out), "ndjson")
    (tmp_path / "feuilles.ndjson").write_text("".join(json.dumps(f) + "\n" for f in feuilles), encoding="utf-8")
    batch.run(EXAMPLE / "referentiel", tmp_path / "feuilles.ndjson", str(tmp_path / "ref.ndjson"), "ndjson")
    got = _read(out)
    assert got[1]["rejets"] == ["DONNEE_INVALIDE"]
    assert got == _read(tmp_path / "ref.ndjson")


@pytest.mark.parametrize(
    ("feuilles_name", "lignes_name"),
    [("flux.parquet", "lignes.parquet"), ("2025_feuilles.parquet", "2025_lignes.parquet")],
)
def test_parquet_feuilles_file_of_another_name(tmp_path: Path, feuilles_name: str, lignes_name: str) -> None:
    """``--feuilles`` names the feuilles file itself, whatever its name; its lines are the twin
    ``…lignes…`` file, else ``lignes.parquet`` beside it (batch.parquet_flow)."""
    _to_parquet(tmp_path)
    (tmp_path / "feuilles.parquet").rename(tmp_path / feuilles_name)
    (tmp_path / "lignes.parquet").rename(tmp_path / lignes_name)
    assert batch.parquet_flow(tmp_path / feuilles_name) == (tmp_path / feuilles_name, tmp_path / lignes_name)
    out = tmp_path / "decomptes.ndjson"
    batch.run(EXAMPLE / "referentiel", tmp_path / feuilles_name, str(out), "ndjson")
    assert _differences(_read(EXAMPLE / "decomptes_attendus.ndjson"), _read(out)) == []


def test_parquet_flow_without_its_lines_file_is_unreadable(tmp_path: Path) -> None:
    _to_parquet(tmp_path)
    (tmp_path / "lignes.parquet").unlink()
    with pytest.raises(UnreadableFile, match="lignes.parquet"):
        batch.run(EXAMPLE / "referentiel", tmp_path / "feuilles.parquet", str(tmp_path / "out.ndjson"), "ndjson")


def _integer_ids(feuilles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The example with each distinct id replaced by an integer (a repeated id stays repeated)."""
    numbers: dict[Any, int] = {}
    return [{**f, "id": numbers.setdefault(f["id"], 1000 + len(numbers))} for f in feuilles]


def test_integer_ids_come_back_as_integers_in_every_format(tmp_path: Path) -> None:
    """An integer id column (Parquet) or JSON integer ids (NDJSON) come back as integers in both
    outputs, with the same décomptes as text ids."""
    feuilles = _integer_ids(_read(EXAMPLE / "feuilles.ndjson"))
    pl.DataFrame([{k: v for k, v in f.items() if k != "lignes"} for f in feuilles]).write_parquet(
        tmp_path / "feuilles.parquet")
    pl.DataFrame([{"feuille_id": f["id"], **line} for f in feuilles for line in f["lignes"]]).write_parquet(
        tmp_path / "lignes.parquet")
    src = tmp_path / "feuilles.ndjson"
    src.write_text("".join(json.dumps(f) + "\n" for f in feuilles), encoding="utf-8")
    ref = EXAMPLE / "referentiel"
    batch.run(ref, tmp_path / "feuilles.parquet", str(tmp_path / "pq.ndjson"), "ndjson")
    batch.run(ref, src, str(tmp_path / "nd.ndjson"), "ndjson")
    expected = _read(EXAMPLE / "decomptes_attendus.ndjson")
    for name in ("pq.ndjson", "nd.ndjson"):
        got = _read(tmp_path / name)
        assert [g["id"] for g in got] == [f["id"] for f in feuilles]
        assert _differences([{**e, "id": f["id"]} for e, f in zip(expected, feuilles, strict=True)], got) == []
    for source, out in ((tmp_path / "feuilles.parquet", "pq"), (src, "nd")):
        batch.run(ref, source, str(tmp_path / out), "parquet")
        dec = pl.read_parquet(tmp_path / out / "decomptes.parquet")
        lig = pl.read_parquet(tmp_path / out / "lignes_decomptes.parquet")
        assert dec.schema["id"] == pl.Int64 and lig.schema["feuille_id"] == pl.Int64
        assert dec.get_column("id").to_list() == [f["id"] for f in feuilles]


def test_mixed_or_huge_json_ids_stay_text_in_parquet(tmp_path: Path) -> None:
    feuilles = _read(EXAMPLE / "feuilles.ndjson")[:4]
    for ids, dtype in (([1, "2", 3, 4], pl.String), ([1, 2, 3, 10**20], pl.String), ([1, 2, 3, 4], pl.Int64)):
        src = tmp_path / "f.ndjson"
        src.write_text("".join(json.dumps({**f, "id": i}) + "\n" for f, i in zip(feuilles, ids, strict=True)))
        batch.run(EXAMPLE / "referentiel", src, str(tmp_path / "out"), "parquet")
        dec = pl.read_parquet(tmp_path / "out" / "decomptes.parquet")
        assert dec.schema["id"] == dtype
        assert [str(i) for i in dec.get_column("id").to_list()] == [str(i) for i in ids]


def test_repeated_id_lines_go_to_the_occurrence_processed_first(tmp_path: Path) -> None:
    """A feuille re-sent with an earlier reception date, its lines listed once in Parquet: they
    belong to the occurrence liquidated (processed first), as each NDJSON record's own lines do."""
    feuilles = _read(EXAMPLE / "feuilles.ndjson")[:6]
    first = feuilles[0]
    assert len(first["lignes"]) % 2 == 1  # not two even blocks
    earlier = {**first, "date_reception": "2025-07-01"}
    feuilles.append(earlier)
    pl.DataFrame([{k: v for k, v in f.items() if k != "lignes"} for f in feuilles]).write_parquet(
        tmp_path / "feuilles.parquet")
    listed_once = [f for f in feuilles if f is not earlier]
    pl.DataFrame([{"feuille_id": f["id"], **line} for f in listed_once for line in f["lignes"]]).write_parquet(
        tmp_path / "lignes.parquet")
    src = tmp_path / "feuilles.ndjson"
    src.write_text("".join(json.dumps(f) + "\n" for f in feuilles), encoding="utf-8")
    batch.run(EXAMPLE / "referentiel", tmp_path / "feuilles.parquet", str(tmp_path / "pq.ndjson"), "ndjson")
    batch.run(EXAMPLE / "referentiel", src, str(tmp_path / "nd.ndjson"), "ndjson")
    got, want = _read(tmp_path / "pq.ndjson"), _read(tmp_path / "nd.ndjson")
    assert want[0]["rejets"] == ["DOUBLON"] and want[-1]["statut"] == "liquidee"
    # In Parquet the later occurrence has no line of its own: rejected too (no lines).
    assert got[0]["statut"] == "rejetee" and got[0]["lignes"] == []
    assert got[1:] == want[1:]


def _same_as_ndjson(folder: Path, rows: list[dict[str, Any]], lines: pl.DataFrame, as_json: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Liquidate the Parquet flow (``rows``, ``lines``) and the NDJSON records ``as_json``; both
    outputs must be the same. Returns the décomptes."""
    folder.mkdir()
    pl.DataFrame(rows).write_parquet(folder / "feuilles.parquet")
    lines.write_parquet(folder / "lignes.parquet")
    batch.run(EXAMPLE / "referentiel", folder, str(folder / "parquet.ndjson"), "ndjson")
    (folder / "feuilles.ndjson").write_text("".join(json.dumps(f) + "\n" for f in as_json), encoding="utf-8")
    batch.run(EXAMPLE / "referentiel", folder / "feuilles.ndjson", str(folder / "json.ndjson"), "ndjson")
    got = _read(folder / "parquet.ndjson")
    assert got == _read(folder / "json.ndjson")
    return got


def test_parquet_columns_of_another_type_are_read_or_rejected_never_a_failed_batch(tmp_path: Path) -> None:
    """A Parquet column is typed as a whole: booleans as text « true »/« false » or integers 1/0
    are read as the NDJSON booleans; another text or integer, or a list where a text is expected,
    rejects only its feuille (DONNEE_INVALIDE), as the same value in NDJSON. Before, a text
    boolean column stopped the batch with a traceback."""
    feuilles = _read(EXAMPLE / "feuilles.ndjson")[:8]
    rows = [{k: v for k, v in f.items() if k != "lignes"} for f in feuilles]
    lines = pl.DataFrame([{"feuille_id": f["id"], **line} for f in feuilles for line in f["lignes"]])
    text: list[Any] = ["TRUE" if r["tiers_payant"] else " false" for r in rows]
    text[2] = "oui"
    integers: list[Any] = [int(r["tiers_payant"]) for r in rows]
    integers[3] = 2
    cases: dict[str, tuple[str, list[Any], dict[int, Any]]] = {
        "texte": ("tiers_payant", text, {2: "oui"}),
        "entiers": ("tiers_payant", integers, {3: 2}),
        "ald_texte": ("en_rapport_ald", [str(r["en_rapport_ald"]).lower() for r in rows], {}),
        "liste": ("nir", [[r["nir"]] for r in rows], {n: [r["nir"]] for n, r in enumerate(rows)}),
    }
    for case, (name, column, bad_in_json) in cases.items():
        as_json = [{**f, name: bad_in_json.get(n, f[name])} for n, f in enumerate(feuilles)]
        got = _same_as_ndjson(tmp_path / case, [{**r, name: column[n]} for n, r in enumerate(rows)], lines, as_json)
        rejected = {n for n, d in enumerate(got) if d["rejets"] == ["DONNEE_INVALIDE"]}
        assert rejected == set(bad_in_json), case


def test_parquet_lines_of_another_type(tmp_path: Path) -> None:
    """Codes given as lists reject their feuilles (DONNEE_INVALIDE), as in NDJSON."""
    feuilles = _read(EXAMPLE / "feuilles.ndjson")[:4]
    rows = [{k: v for k, v in f.items() if k != "lignes"} for f in feuilles]
    lines = pl.DataFrame([{"feuille_id": f["id"], **line, "code": [line["code"]]} for f in feuilles for line in f["lignes"]])
    as_json = [{**f, "lignes": [{**line, "code": [line["code"]]} for line in f["lignes"]]} for f in feuilles]
    got = _same_as_ndjson(tmp_path / "codes", rows, lines, as_json)
    assert all(d["rejets"] == ["DONNEE_INVALIDE"] for d in got)
