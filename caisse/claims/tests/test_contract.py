"""The contract's promise (§7): importer + recevoir + traiter + exporter décomptes gives the same
amounts as ``caisse liquider`` on the same files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from caisse.beneficiaries.exchange import beneficiary_record
from caisse.beneficiaries.models import Beneficiary
from caisse.claims import services
from caisse.claims.models import DailyRun, Feuille, FeuilleStatus, FlowReception
from caisse.claims.tests.helpers import (
    EXAMPLE,
    NEEDS_EXAMPLE_DB,
    TODAY,
    differences,
    import_folder,
    in_reception_order,
    read_ndjson,
    snapshot,
    write_ndjson,
)
from caisse.rules.claims import batch

pytestmark = NEEDS_EXAMPLE_DB


def _liquider(tmp_path: Path, feuilles: Path) -> list[dict]:
    out = tmp_path / "liquider.ndjson"
    batch.run(EXAMPLE / "referentiel", feuilles, str(out), "ndjson")
    return read_ndjson(out)


def _export(tmp_path: Path) -> list[dict]:
    out = tmp_path / "export.ndjson"
    services.export_decomptes(str(out), quiet=True)
    return read_ndjson(out)


def test_the_example_through_the_persistent_path_matches_liquider(tmp_path: Path) -> None:
    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")
    expected = in_reception_order(read_ndjson(EXAMPLE / "decomptes_attendus.ndjson"), feuilles)
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(EXAMPLE / "feuilles.ndjson", quiet=True)
    run = services.daily_run(None, today=TODAY, quiet=True)
    ids = [f["id"] for f in feuilles]
    assert run is not None and run.nb_feuilles == Feuille.objects.count() == len(set(ids))
    got = _export(tmp_path)
    assert differences(expected, got) == []
    liquider = in_reception_order(_liquider(tmp_path, EXAMPLE / "feuilles.ndjson"), feuilles)
    assert got == liquider
    # Same text too: same fields in the same order, on SQLite and PostgreSQL.
    assert [list(g) for g in got] == [list(e) for e in liquider]
    assert [[list(line) for line in g["lignes"]] for g in got] == [[list(line) for line in e["lignes"]] for e in liquider]


def test_two_receptions_and_two_runs_give_the_same_amounts(tmp_path: Path) -> None:
    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")
    cut = sorted(f["date_reception"] for f in feuilles)[len(feuilles) // 2]
    first = write_ndjson(tmp_path / "a.ndjson", [f for f in feuilles if f["date_reception"] <= cut])
    second = write_ndjson(tmp_path / "b.ndjson", [f for f in feuilles if f["date_reception"] > cut])
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(first, quiet=True)
    services.daily_run(dt.date.fromisoformat(cut), today=TODAY, quiet=True)
    assert not Feuille.objects.filter(statut=FeuilleStatus.RECUE).exists()
    services.receive_flow(second, quiet=True)
    services.daily_run(None, today=TODAY + dt.timedelta(days=1), quiet=True)
    assert DailyRun.objects.count() == 2
    expected = in_reception_order(read_ndjson(EXAMPLE / "decomptes_attendus.ndjson"), feuilles)
    assert differences(expected, _export(tmp_path)) == []


def test_parquet_flow_in_small_chunks_gives_the_same_state_as_ndjson(tmp_path: Path) -> None:
    import polars as pl

    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")
    folder = tmp_path / "pq"
    folder.mkdir()
    # Files named by the flow (batch.parquet_flow), not only feuilles.parquet / lignes.parquet.
    pl.DataFrame([{k: v for k, v in f.items() if k != "lignes"} for f in feuilles]).write_parquet(
        folder / "fse_feuilles.parquet")
    pl.DataFrame([{"feuille_id": f["id"], **line} for f in feuilles for line in f["lignes"]]).write_parquet(
        folder / "fse_lignes.parquet")
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(folder / "fse_feuilles.parquet", quiet=True)
    services.daily_run(None, today=TODAY, chunk_size=17, quiet=True)
    expected = in_reception_order(read_ndjson(EXAMPLE / "decomptes_attendus.ndjson"), feuilles)
    assert differences(expected, _export(tmp_path)) == []
    assert DailyRun.objects.get().nb_lots == -(-len(feuilles) // 17)


def test_the_referentiel_rebuilt_in_bulk_is_the_persons_file() -> None:
    import_folder(EXAMPLE / "referentiel")
    people = Beneficiary.objects.order_by("nir")
    bulk = {r["nir"]: r for r in services.beneficiary_records(people.values_list("nir", flat=True))}
    assert len(bulk) == people.count() > 0
    for person in people:
        assert bulk[person.nir] == beneficiary_record(person)
    # And it is the référentiel that was imported (the fields the engine reads).
    for line in (EXAMPLE / "referentiel" / "beneficiaires.ndjson").read_text().splitlines():
        source = json.loads(line)
        assert {k: bulk[source["nir"]][k] for k in ("droits", "ald", "c2s", "cartes_vitale", "deces")} == {
            k: source[k] for k in ("droits", "ald", "c2s", "cartes_vitale", "deces")}


def test_compteurs_of_the_referentiel_are_kept_and_reimporting_is_idempotent(tmp_path: Path) -> None:
    folder = tmp_path / "ref"
    folder.mkdir()
    for name in ("beneficiaires.ndjson", "professionnels.ndjson", "nomenclature.ndjson"):
        (folder / name).write_text((EXAMPLE / "referentiel" / name).read_text(encoding="utf-8"), encoding="utf-8")
    nir = read_ndjson(EXAMPLE / "referentiel" / "beneficiaires.ndjson")[1]["nir"]
    write_ndjson(folder / "compteurs.ndjson", [
        {"nir": nir, "annee": 2025, "participation_forfaitaire_cts": 4900, "franchises_cts": 4000, "dette_cts": 300},
    ])
    import_folder(folder)
    import_folder(folder)
    counters = services.load_counters([nir])
    assert counters.annual.rows() == [(nir, 2025, 4900, 4000)]
    assert counters.debt.rows() == [(nir, 300)]
    # The batch command reads the same folder: same amounts.
    out = tmp_path / "liquider.ndjson"
    batch.run(folder, EXAMPLE / "feuilles.ndjson", str(out), "ndjson")
    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")
    services.receive_flow(EXAMPLE / "feuilles.ndjson", quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    assert differences(in_reception_order(read_ndjson(out), feuilles), _export(tmp_path)) == []


def test_receiving_is_idempotent_and_duplicates_are_recorded_not_stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")[:5]
    flow = write_ndjson(tmp_path / "f.ndjson", feuilles)
    import_folder(EXAMPLE / "referentiel")
    first = services.receive_flow(flow)
    assert "5 feuille(s) enregistrée(s)" in capsys.readouterr().err
    again = services.receive_flow(flow)
    assert "déjà reçu" in capsys.readouterr().err
    assert (first.recues, again.recues, again.doublons) == (5, 0, 5)
    assert Feuille.objects.count() == 5 and FlowReception.objects.count() == 2
    # Another file repeating one id, and an id repeated inside the file: duplicates, never stored twice.
    other = write_ndjson(tmp_path / "g.ndjson", [feuilles[0], *read_ndjson(EXAMPLE / "feuilles.ndjson")[5:7],
                                                 read_ndjson(EXAMPLE / "feuilles.ndjson")[6]])
    report = services.receive_flow(other, quiet=True)
    assert (report.recues, report.doublons) == (2, 2)
    assert Feuille.objects.count() == 7
    services.daily_run(None, today=TODAY, quiet=True)
    got = _export(tmp_path)
    # liquider on everything received gives the same records (duplicates: DOUBLON rejections).
    everything = write_ndjson(tmp_path / "all.ndjson", [*feuilles, *read_ndjson(other)])
    expected = in_reception_order(_liquider(tmp_path, everything), read_ndjson(everything))
    assert got == expected


def test_bad_records_are_kept_and_rejected_with_the_contract_code(tmp_path: Path) -> None:
    good = read_ndjson(EXAMPLE / "feuilles.ndjson")[0]
    flow = tmp_path / "bad.ndjson"
    flow.write_text(
        json.dumps(good) + "\n"
        + "pas du json\n"
        + json.dumps({**good, "id": "BAD1", "date_reception": "2025-13-01"}) + "\n"
        + json.dumps({**good, "id": "BAD2", "lignes": [{**good["lignes"][0], "quantite": "deux"}]}) + "\n",
        encoding="utf-8",
    )
    import_folder(EXAMPLE / "referentiel")
    report = services.receive_flow(flow, quiet=True)
    assert (report.recues, report.invalides) == (4, 3)
    services.daily_run(None, today=TODAY, quiet=True)
    got = _export(tmp_path)
    expected = _liquider(tmp_path, flow)
    assert sorted(json.dumps(g, sort_keys=True) for g in got) == sorted(json.dumps(e, sort_keys=True) for e in expected)
    assert {g["id"]: g["rejets"] for g in got if g["statut"] == "rejetee"} == {
        None: ["DONNEE_INVALIDE"], "BAD1": ["DONNEE_INVALIDE"], "BAD2": ["DONNEE_INVALIDE"]}


def test_a_second_run_on_the_same_day_adds_to_the_same_payments(tmp_path: Path) -> None:
    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(write_ndjson(tmp_path / "a.ndjson", feuilles[:100]), quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    services.receive_flow(write_ndjson(tmp_path / "b.ndjson", feuilles[100:]), quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    split = snapshot()["payments"]
    assert len({(k, i, d) for k, i, d, *_ in split}) == len(split)
    total = sum(f["decompte"]["paiement_ps_cts"] + f["decompte"]["paiement_assure_cts"]
                for f in Feuille.objects.values("decompte"))
    assert sum(p[3] for p in split) == total
    assert services.daily_run(None, today=TODAY, quiet=True) is None


def test_bad_parquet_records_get_the_readers_verdict(tmp_path: Path) -> None:
    import polars as pl

    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")[:6]
    rows = [{k: v for k, v in f.items() if k != "lignes"} for f in feuilles]
    rows[1]["date_reception"] = "2025-13-01"
    rows[2]["tiers_payant"] = None
    folder = tmp_path / "pq"
    folder.mkdir()
    pl.DataFrame(rows).write_parquet(folder / "feuilles.parquet")
    lines = [{"feuille_id": f["id"], **line} for f in feuilles for line in f["lignes"]]
    lines[3]["date_soins"] = "hier"
    pl.DataFrame(lines).write_parquet(folder / "lignes.parquet")
    import_folder(EXAMPLE / "referentiel")
    report = services.receive_flow(folder, quiet=True)
    assert report.invalides == 2  # the null tiers_payant is left to the engine, as in liquider
    services.daily_run(None, today=TODAY, quiet=True)
    got = _export(tmp_path)
    expected = _liquider(tmp_path, folder / "feuilles.parquet")
    assert sorted(json.dumps(g, sort_keys=True) for g in got) == sorted(json.dumps(e, sort_keys=True) for e in expected)
    assert sum("DONNEE_INVALIDE" in g["rejets"] for g in got) >= 2


def test_values_a_database_cannot_store_are_kept_as_invalid(tmp_path: Path) -> None:
    good = read_ndjson(EXAMPLE / "feuilles.ndjson")[0]
    flow = tmp_path / "nan.ndjson"
    flow.write_text(
        json.dumps({**good, "id": "NAN1", "lignes": [{**good["lignes"][0], "montant_facture_cts": float("nan")}]}) + "\n"
        + json.dumps({**good, "id": "NUL\u0000", "nir": "1\u00002"}) + "\n",
        encoding="utf-8",
    )
    import_folder(EXAMPLE / "referentiel")
    report = services.receive_flow(flow, quiet=True)
    assert (report.recues, report.invalides) == (2, 2)
    services.daily_run(None, today=TODAY, quiet=True)
    got = {g["id"]: g["rejets"] for g in _export(tmp_path)}
    assert got == {"NAN1": ["DONNEE_INVALIDE"], "NUL": ["DONNEE_INVALIDE"]}


def test_a_referentiel_with_faulty_items_gives_the_amounts_of_liquider(tmp_path: Path) -> None:
    """What caisse liquider leaves out of a référentiel (a period whose dates are not dates, or
    that ends before it starts, a pregnancy without a valid 6th month, a professional given twice
    — its first line counts —), caisse importer leaves out too, keeping the person and the rest of
    her rights; a missing sex is read from the NIR and a death date that is not a date is ignored.
    Before, the person's rights, or the person, were dropped, and a professional given twice
    stopped the import on PostgreSQL."""
    folder = tmp_path / "referentiel"
    folder.mkdir()
    people = read_ndjson(EXAMPLE / "referentiel" / "beneficiaires.ndjson")
    faults = [
        lambda b: {**b, "ald": [*(b.get("ald") or []), {"debut": "2024-02-30", "fin": None}]},
        lambda b: {**b, "droits": [*(b.get("droits") or []), {"debut": "2024-05-01", "fin": "2024-01-01"}]},
        lambda b: {**b, "droits": [*(b.get("droits") or []), {"debut": "2010-01-01", "fin": "bientôt"}]},
        lambda b: {**b, "maternite": [{"debut_6e_mois": "2024-11-31", "date_accouchement": None}]},
        lambda b: {k: v for k, v in b.items() if k != "sexe"},
        lambda b: {**b, "deces": "inconnu"},
    ]
    for n, fault in enumerate(faults):
        people[n] = fault(people[n])
    write_ndjson(folder / "beneficiaires.ndjson", people)
    professionals = read_ndjson(EXAMPLE / "referentiel" / "professionnels.ndjson")
    twice = {**professionals[0], "conventionne": False, "secteur": 3}  # read first as the file gives it
    write_ndjson(folder / "professionnels.ndjson", [*professionals, twice])
    for name in ("nomenclature.ndjson", "compteurs.ndjson"):
        if (EXAMPLE / "referentiel" / name).exists():
            (folder / name).write_bytes((EXAMPLE / "referentiel" / name).read_bytes())
    flow = EXAMPLE / "feuilles.ndjson"
    out = tmp_path / "liquider.ndjson"
    batch.run(folder, flow, str(out), "ndjson")
    import_folder(folder)
    assert Beneficiary.objects.count() == len({p["nir"] for p in people})
    services.receive_flow(flow, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    feuilles = read_ndjson(flow)
    assert differences(in_reception_order(read_ndjson(out), feuilles), _export(tmp_path)) == []
