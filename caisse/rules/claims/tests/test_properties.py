"""Property tests: invariants of the engine on random flows of feuilles."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from caisse.rules.claims import batch, records
from caisse.rules.claims.engine import liquidate_records
from caisse.rules.claims.nomenclature import load_nomenclature
from caisse.rules.claims.referentiel import Referentiel
from caisse.rules.claims.tests.test_scenarios import PROFESSIONNELS, with_key

NOMENCLATURE = load_nomenclature()
NIRS = [with_key(n) for n in ("1800175000001", "2900175000004", "1070575000006", "1850775000005", "2120175000002")]
BENEFICIAIRES: list[dict[str, Any]] = [
    {"nir": NIRS[0], "date_naissance": "1980-01-01", "droits": [{"debut": "2015-01-01", "fin": None}],
     "ald": [{"debut": "2024-06-01", "fin": None}]},
    {"nir": NIRS[1], "date_naissance": "1990-01-01", "droits": [{"debut": "2015-01-01", "fin": None}],
     "maternite": [{"debut_6e_mois": "2025-03-01", "date_accouchement": "2025-05-20"}],
     "c2s": [{"debut": "2025-09-01", "fin": None, "participation": False}]},
    {"nir": NIRS[2], "date_naissance": "2007-05-22", "droits": [{"debut": "2015-01-01", "fin": None}]},
    {"nir": NIRS[3], "date_naissance": "1985-07-07", "droits": [], "ame": [{"debut": "2024-06-01", "fin": "2025-08-31"}]},
    {"nir": NIRS[4], "date_naissance": "2012-01-01", "droits": [{"debut": "2015-01-01", "fin": None}],
     "invalidite": [{"debut": "2024-01-01", "fin": None}]},
]
REF = Referentiel.from_records(BENEFICIAIRES, PROFESSIONNELS, NOMENCLATURE)
CODES = ["G", "C", "CS", "HHFA016", "DZQM006", "ZBQK002", "SF", "HBJD001", "AMI", "AMS", "1104", "PH1",
         "PH7", "PH4", "PH2", "TAX", "2203240", "1188214", "SEJ", "XXXX"]
PS = [p["id"] for p in PROFESSIONNELS] + ["INCONNU"]
START = dt.date(2024, 1, 1)

line_st = st.fixed_dictionaries(
    {
        "code": st.sampled_from(CODES),
        "date_soins": st.integers(0, 730).map(lambda d: (START + dt.timedelta(days=d)).isoformat()),
        "quantite": st.integers(1, 3),
        "coefficient": st.sampled_from([1, 1, 2, 7.5]),
        "montant_facture_cts": st.integers(0, 60000),
    }
)
feuille_st = st.fixed_dictionaries(
    {
        "id": st.integers(0, 60).map(lambda i: f"F{i:03d}"),
        "type": st.just("FSE"),
        "nir": st.sampled_from(NIRS),
        "executant": st.sampled_from(PS),
        "prescripteur": st.none(),
        "tiers_payant": st.booleans(),
        "risque": st.sampled_from(["maladie", "maladie", "maternite", "atmp"]),
        "parcours": st.sampled_from(["medecin_traitant", "hors_parcours"]),
        "en_rapport_ald": st.booleans(),
        "carte_vitale": st.none(),
        "lignes": st.lists(line_st, min_size=1, max_size=4),
        "delai": st.integers(0, 40),
    }
)


def _finish(f: dict[str, Any]) -> dict[str, Any]:
    delai = f.pop("delai")
    last = max(dt.date.fromisoformat(x["date_soins"]) for x in f["lignes"])
    f["date_reception"] = (last + dt.timedelta(days=delai)).isoformat()
    return f


flows = st.lists(feuille_st, min_size=1, max_size=25).map(lambda fs: [_finish(f) for f in fs])
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MONEY = ("base_remboursement_cts", "montant_amo_cts", "participation_forfaitaire_cts", "franchise_cts",
         "depassement_cts", "montant_rembourse_cts", "part_c2s_cts", "forfait_actes_lourds_cts")


@SETTINGS
@given(flows)
def test_amounts_are_sane(feuilles: list[dict[str, Any]]) -> None:
    out, counters = liquidate_records(REF, feuilles)
    assert [o["id"] for o in out] == [f["id"] for f in feuilles]
    for o in out:
        for k in ("paiement_ps_cts", "paiement_assure_cts", "part_c2s_cts", "dette_creee_cts", "dette_recuperee_cts"):
            assert o[k] >= 0, (k, o)
        remb = sum(line["montant_rembourse_cts"] for line in o["lignes"])
        assert o["paiement_ps_cts"] + o["paiement_assure_cts"] == remb - o["dette_recuperee_cts"] + o["part_c2s_cts"]
        if o["statut"] == "rejetee":
            assert o["rejets"] and o["paiement_ps_cts"] == o["paiement_assure_cts"] == 0
        for line in o["lignes"]:
            assert all(line[k] >= 0 for k in MONEY), line
            assert line["montant_amo_cts"] <= line["base_remboursement_cts"]
            assert line["montant_rembourse_cts"] <= line["base_remboursement_cts"]
            assert 0 <= line["taux"] <= 100
    per_year = counters.annual
    assert (per_year["participation_forfaitaire_cts"] <= 5000).all()
    assert (per_year["franchises_cts"] <= 5000).all()


@SETTINGS
@given(flows, st.integers(1, 6))
def test_chunks_with_carried_counters_give_the_same_result(feuilles: list[dict[str, Any]], chunk: int) -> None:
    f, lines = records.frames_from_records(list(feuilles))
    whole_d, whole_l, whole_c = batch.liquidate_in_chunks(REF, f, lines, explanations=False)
    part_d, part_l, part_c = batch.liquidate_in_chunks(REF, f, lines, chunk_feuilles=chunk, explanations=False)
    assert records.records_from_frames(whole_d, whole_l) == records.records_from_frames(part_d, part_l)
    assert whole_c.debt.sort("nir").equals(part_c.debt.sort("nir"))


def _nir(sex: str, year: int, month: int, dept: str, rest: int, key: int, good: bool) -> str:
    body = f"{sex}{year:02d}{month:02d}{dept}{rest:06d}"
    if good:
        key = 97 - int(body.replace("2A", "19").replace("2B", "18")) % 97
    return f"{body}{key:02d}"


nir_st = st.builds(
    _nir,
    st.sampled_from("1278"),
    st.integers(0, 99),
    st.integers(1, 12),
    st.sampled_from(["75", "2A", "2B", "99", "13", "93"]),
    st.integers(0, 999999),
    st.integers(0, 99),
    st.booleans(),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(nir_st, min_size=1, max_size=20))
def test_nir_check_agrees_with_python_stdnum(nirs: list[str]) -> None:
    stdnum_nir = __import__("pytest").importorskip("stdnum.fr.nir")
    import polars as pl

    from caisse.rules.claims.controls import nir_valid

    got = pl.DataFrame({"nir": nirs}).select(nir_valid(pl.col("nir"))).to_series().to_list()
    assert got == [bool(stdnum_nir.is_valid(n)) for n in nirs]


@SETTINGS
@given(flows)
def test_a_flow_in_processing_order_gives_the_same_result_by_its_fast_path(feuilles: list[dict[str, Any]]) -> None:
    """A flow already in the contract's order is read without join nor sort (row numbers);
    the same flow shuffled goes through the join: same décomptes, feuille by feuille."""
    unique = list({r["id"]: r for r in feuilles}.values())  # repeated ids: their order is the input's
    ordered = sorted(unique, key=lambda r: (r.get("date_reception") or "9999", r.get("id") or ""))
    shuffled = list(reversed(ordered))
    a, _ = liquidate_records(REF, ordered)
    b, _ = liquidate_records(REF, shuffled)
    assert a == list(reversed(b))


@settings(max_examples=300, deadline=None)
@example(dt.date(2024, 2, 29), 365, 1)  # reception 2025-02-28: the limit itself
@example(dt.date(2024, 2, 29), 366, 1)  # reception 2025-03-01: one day after
@example(dt.date(2024, 2, 29), 1461, 4)  # to a 29 February that exists
@given(
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
    st.integers(0, 2000),
    st.integers(1, 5),
)
def test_prescription_limit_in_yyyymmdd_is_the_calendar_shift(soins: dt.date, later: int, years: int) -> None:
    """Care + N years compared as YYYYMMDD integers (the engine's prescription control) says the
    same as Polars' calendar offset, 29 February included."""
    import polars as pl

    from caisse.rules.claims.engine import _ymd

    reception = soins + dt.timedelta(days=later)
    frame = pl.DataFrame({"soins": [soins], "reception": [reception]})
    calendar, integers = frame.select(
        (pl.col("reception") > pl.col("soins").dt.offset_by(f"{years}y")).alias("calendrier"),
        (_ymd(pl.col("reception")) > _ymd(pl.col("soins")) + years * 10000).alias("entiers"),
    ).row(0)
    assert calendar == integers


@SETTINGS
@given(flows, st.integers(0, 800))
def test_debt_follows_the_line_by_line_reading_of_the_contract(feuilles: list[dict[str, Any]], carried: int) -> None:
    """The vectorised recursion against the plain reading of contract §2: per person, in the
    order (date_reception, id), a liquidated feuille's reimbursement to the assuré first repays
    the debt left by the feuilles before it; the debt the feuille creates is recovered later."""
    ref = Referentiel.from_records(
        BENEFICIAIRES, PROFESSIONNELS, NOMENCLATURE,
        [{"nir": NIRS[0], "annee": 2024, "participation_forfaitaire_cts": 0, "franchises_cts": 0, "dette_cts": carried}],
    )
    out, counters = liquidate_records(ref, feuilles)
    debt = {NIRS[0]: carried}
    order = sorted(range(len(feuilles)), key=lambda i: (feuilles[i]["date_reception"], feuilles[i]["id"], i))
    for i in order:
        f, o = feuilles[i], out[i]
        before = debt.get(f["nir"], 0)
        due = 0 if f["tiers_payant"] else sum(line["montant_rembourse_cts"] for line in o["lignes"])
        recovered = min(before, due) if o["statut"] == "liquidee" else 0
        assert o["dette_recuperee_cts"] == recovered, (f["id"], before, due, o)
        debt[f["nir"]] = before - recovered + o["dette_creee_cts"]
    got = dict(counters.debt.select("nir", "dette_cts").iter_rows())
    assert {k: v for k, v in debt.items() if v} == {k: v for k, v in got.items() if v}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 10**14), st.integers(0, 10**14), st.booleans()),
        min_size=1, max_size=40,
    ),
    st.integers(0, 10**15),
)
def test_the_large_path_debt_is_exact_for_any_amount(rows: list[tuple[int, int, int, bool]], carried: int) -> None:
    """The large batches' one-pass running minimum (caps._debt_sorted) against the line-by-line
    reading, with amounts far beyond the 2**40 cents its person offset once assumed."""
    import polars as pl

    from caisse.rules.claims.caps import _debt_sorted

    d = pl.DataFrame(
        {
            "_nir_idx": [p for p, _, _, _ in rows], "_ordre": list(range(len(rows))),
            "_c": [c for _, c, _, _ in rows], "_p": [p for _, _, p, _ in rows],
            "_b0": [carried if p == 0 else 0 for p, _, _, _ in rows], "_liquidee": [ok for _, _, _, ok in rows],
            "nir": [f"N{p}" for p, _, _, _ in rows],
        },
        schema_overrides={"_nir_idx": pl.Int64, "_ordre": pl.Int64, "_c": pl.Int64, "_p": pl.Int64, "_b0": pl.Int64},
    )
    d = d.with_columns(pl.when(pl.col("_liquidee")).then(pl.col(c)).otherwise(0).alias(c) for c in ("_c", "_p"))
    out, debt = _debt_sorted(d)
    balance: dict[int, int] = {0: carried}
    for (person, _, _, ok), c, p, recovered in zip(
        rows, d.get_column("_c"), d.get_column("_p"), out.get_column("dette_recuperee_cts"), strict=True
    ):
        before = balance.get(person, 0)
        expected = min(before, p) if ok else 0
        assert recovered == expected
        balance[person] = before - expected + c
    got = dict(debt.select("nir", "dette_cts").iter_rows())
    assert got == {f"N{p}": balance[p] for p in {p for p, _, _, _ in rows}}
