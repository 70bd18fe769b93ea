"""Regressions found by an acceptance audit of the persistent path (contract §7), run as the
acceptance checks run it: the payments file depends on the payments only (a run killed and
resumed on PostgreSQL numbers its rows differently), a repeated id is rejected with the code
``caisse liquider`` gives it, two receptions at once end without a database error, and the
référentiel's rejected extra lines are reported."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sepaxml
import xmlschema

from caisse.claims import sepa, services
from caisse.claims.models import DuplicateReception, Feuille, PayeeKind, Payment
from caisse.claims.tests.helpers import (
    EXAMPLE,
    NEEDS_EXAMPLE_DB,
    TODAY,
    import_folder,
    in_reception_order,
    read_ndjson,
    write_ndjson,
)
from caisse.rules.claims import batch

pytestmark = NEEDS_EXAMPLE_DB

XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"


def _export(tmp_path: Path) -> list[dict[str, Any]]:
    out = tmp_path / "export.ndjson"
    services.export_decomptes(str(out), quiet=True)
    return read_ndjson(out)


def _liquider(tmp_path: Path, feuilles: Path) -> list[dict[str, Any]]:
    out = tmp_path / "liquider.ndjson"
    batch.run(EXAMPLE / "referentiel", feuilles, str(out), "ndjson")
    return read_ndjson(out)


# --- The payments file ------------------------------------------------------------------------------------


def _copy(p: Payment, pk: int) -> Payment:
    """The same payment under another database id (a resumed run on PostgreSQL)."""
    fields = {f.attname: getattr(p, f.attname) for f in Payment._meta.concrete_fields}
    return Payment(**{**fields, "id": pk})


def test_the_payments_file_is_the_same_whatever_the_database_ids_and_the_time(tmp_path: Path) -> None:
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(EXAMPLE / "feuilles.ndjson", quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    payments = list(Payment.objects.order_by("date_paiement", "type_beneficiaire", "identifiant_beneficiaire"))
    xml, _ = sepa.credit_transfer(payments)
    # Exported again later, or from a database whose rows were numbered otherwise: the same bytes.
    assert sepa.credit_transfer(payments)[0] == xml
    assert sepa.credit_transfer([_copy(p, 10_000 + i) for i, p in enumerate(payments)])[0] == xml
    xmlschema.XMLSchema(XSD).validate(xml.decode())
    text = xml.decode()
    assert f"<CreDtTm>{TODAY:%Y-%m-%d}T00:00:00</CreDtTm>" in text
    assert all(f"<EndToEndId>{sepa.end_to_end_id(p)}</EndToEndId>" in text for p in payments)
    # What the file carries changes its message id.
    changed = [_copy(p, p.pk) for p in payments]
    changed[0].montant_cts += 1
    other = sepa.credit_transfer(changed)[0].decode()
    assert other.split("<MsgId>")[1][:35] != text.split("<MsgId>")[1][:35]


def test_end_to_end_ids_name_the_payee_and_date_and_fit_the_schema() -> None:
    day = dt.date(2026, 3, 2)
    plain = Payment(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire="10000000001", date_paiement=day)
    odd = Payment(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire="PS/ 12-é" * 5, date_paiement=day)
    assure = Payment(type_beneficiaire=PayeeKind.ASSURE, identifiant_beneficiaire="2750275123456 21",
                     date_paiement=day)
    assert sepa.end_to_end_id(plain) == "CAISSE20260302P10000000001"  # a professional's id may travel
    for p in (odd, assure):
        ident = sepa.end_to_end_id(p)
        assert len(ident) == 35 and ident.startswith("CAISSE20260302") and ident.isascii()
        assert sepa.end_to_end_id(p) == ident
    assert sepa.end_to_end_id(odd) != sepa.end_to_end_id(assure)


def _assure(nir: str, day: dt.date, pk: int | None = None) -> Payment:
    return Payment(id=pk, type_beneficiaire=PayeeKind.ASSURE, identifiant_beneficiaire=nir, date_paiement=day)


def test_an_assures_end_to_end_id_never_carries_the_nir(monkeypatch: pytest.MonkeyPatch) -> None:
    day = dt.date(2025, 1, 3)
    nir = "100049940465190"
    ident = sepa.end_to_end_id(_assure(nir, day))
    assert re.fullmatch(r"CAISSE20250103A-[0-9a-f]{19}", ident), ident
    assert nir[:13] not in ident and nir[-9:] not in ident
    # Deterministic: the same payee and date, whatever the database id; another payee or date differs.
    assert sepa.end_to_end_id(_assure(nir, day, pk=7)) == sepa.end_to_end_id(_assure(nir, day, pk=70_000)) == ident
    assert sepa.end_to_end_id(_assure("100049940465191", day)) != ident
    assert sepa.end_to_end_id(_assure(nir, day + dt.timedelta(days=1)))[16:] != ident[16:]
    ps = Payment(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire=nir, date_paiement=day)
    assert sepa.end_to_end_id(ps) != ident
    # Keyed: a bank cannot find the NIR back by trying all of them without the caisse's key.
    monkeypatch.setenv("CAISSE_SEPA_CLE", "une autre clé")
    other = sepa.end_to_end_id(_assure(nir, day))
    assert other != ident and re.fullmatch(r"CAISSE20250103A-[0-9a-f]{19}", other)


def test_an_assures_remittance_text_and_name_carry_no_nir() -> None:
    day = dt.date(2025, 1, 3)
    nir = "100049940465190"
    p = Payment(type_beneficiaire=PayeeKind.ASSURE, identifiant_beneficiaire=nir, date_paiement=day, nb_feuilles=3,
                nom=f"Assuré {nir}")
    assert sepa.remittance(p) == "Remboursement de soins du 03/01/2025 - 3 feuilles de soins"
    assert sepa.remittance(Payment(**{**_fields(p), "nb_feuilles": 1})).endswith("- 1 feuille de soins")
    assert sepa.creditor_name(p) == sepa.ASSURE_NAME  # the name the payments give a nameless assuré
    for nom in ("", nir, "1 00 04 99 404 651 90", "Assuré", "assuree"):
        assert sepa.creditor_name(Payment(**{**_fields(p), "nom": nom})) == sepa.ASSURE_NAME
    assert sepa.creditor_name(Payment(**{**_fields(p), "nom": "Marc Durand"})) == "Marc Durand"
    ps = Payment(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire="10000000001", date_paiement=day,
                 nb_feuilles=2, nom="")
    assert sepa.remittance(ps) == "Tiers payant du 03/01/2025 - professionnel 10000000001 - 2 feuilles de soins"
    assert sepa.creditor_name(ps) == "10000000001"
    long_ps = Payment(**{**_fields(ps), "identifiant_beneficiaire": "X" * 64, "nb_feuilles": 10**9})
    assert len(sepa.remittance(long_ps)) <= 140


def _fields(p: Payment) -> dict[str, Any]:
    return {f.attname: getattr(p, f.attname) for f in Payment._meta.concrete_fields}


def test_no_nir_of_the_referentiel_travels_in_the_payments_file(tmp_path: Path) -> None:
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(EXAMPLE / "feuilles.ndjson", quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    out = tmp_path / "paiements.xml"
    assert services.export_payments(str(out), quiet=True) > 0
    text = out.read_text(encoding="utf-8")
    xmlschema.XMLSchema(XSD).validate(text)
    nirs = {person["nir"] for person in read_ndjson(EXAMPLE / "referentiel" / "beneficiaires.ndjson")}
    assert nirs and Payment.objects.filter(type_beneficiaire=PayeeKind.ASSURE).exists()
    compact = re.sub(r"\s", "", text)
    assert not [n for n in nirs if n[:13] in compact], "a NIR travels to the bank"
    assures = Payment.objects.filter(type_beneficiaire=PayeeKind.ASSURE)
    for p in assures:
        assert f"<EndToEndId>{sepa.end_to_end_id(p)}</EndToEndId>" in text
        assert f"<Ustrd>{sepa.remittance(p)}</Ustrd>" in text
    ids = re.findall(r"<EndToEndId>([^<]*)</EndToEndId>", text)
    assert len(ids) == len(set(ids)) == Payment.objects.count()
    assert all(len(i) <= 35 and re.fullmatch(r"[A-Za-z0-9-]+", i) for i in ids)
    assert all(len(u) <= 140 for u in re.findall(r"<Ustrd>([^<]*)</Ustrd>", text))


def test_several_payment_dates_give_one_block_each_with_its_own_id(tmp_path: Path) -> None:
    import_folder(EXAMPLE / "referentiel")
    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")
    first = write_ndjson(tmp_path / "a.ndjson", [f for f in feuilles if f["date_reception"] <= "2025-06-30"])
    second = write_ndjson(tmp_path / "b.ndjson", [f for f in feuilles if f["date_reception"] > "2025-06-30"])
    services.receive_flow(first, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    services.receive_flow(second, quiet=True)
    services.daily_run(None, today=TODAY + dt.timedelta(days=1), quiet=True)
    payments = list(Payment.objects.order_by("date_paiement", "type_beneficiaire", "identifiant_beneficiaire"))
    xml, _ = sepa.credit_transfer(payments)
    xmlschema.XMLSchema(XSD).validate(xml.decode())
    text = xml.decode()
    blocks = [part.split("</PmtInfId>")[0] for part in text.split("<PmtInfId>")[1:]]
    assert len(blocks) == len(set(blocks)) == 2
    assert blocks[0].startswith(f"CAISSE{TODAY:%Y%m%d}-") and len(blocks[0]) == 35
    assert f"<CreDtTm>{TODAY + dt.timedelta(days=1):%Y-%m-%d}T00:00:00</CreDtTm>" in text
    keys = [(p.date_paiement, p.type_beneficiaire, p.identifiant_beneficiaire) for p in payments]
    assert len(keys) == len(set(keys))  # one transfer per payee and payment date
    assert text.count("<CdtTrfTxInf>") == sum(1 for p in payments if sepa.valid_iban(p.iban))


# --- Repeated ids -----------------------------------------------------------------------------------------


def test_a_repeat_whose_record_is_unusable_is_rejected_as_liquider_rejects_it(tmp_path: Path) -> None:
    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")
    good, other = feuilles[0], feuilles[1]

    def at(day: str, **kw: Any) -> dict[str, Any]:
        return {**good, "lignes": [{**good["lignes"][0], "date_soins": day}], **kw}

    flow = write_ndjson(tmp_path / "repeats.ndjson", [
        at("2025-06-28", id="D1"), {**other, "id": "D1", "lignes": []},  # no line: DONNEE_INVALIDE first
        at("2025-06-27", id="D2"), {**other, "id": "D2", "nir": "123"},  # a bad NIR comes after DOUBLON
        at("2025-06-26", id="D3"), {**other, "id": "D3", "date_reception": None},
        at("2025-06-25", id="D4"), {**other, "id": "D4", "tiers_payant": None},
        at("2025-06-24", id="D5"), {**other, "id": "D5"},
    ])
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(flow, quiet=True)
    assert DuplicateReception.objects.count() == 5 and Feuille.objects.count() == 5
    services.daily_run(None, today=TODAY, quiet=True)
    got = _export(tmp_path)
    expected = in_reception_order(_liquider(tmp_path, flow), read_ndjson(flow))
    assert got == expected
    assert [g["rejets"] for g in got if g["statut"] == "rejetee"] == [
        ["DONNEE_INVALIDE"], ["DOUBLON"], ["DONNEE_INVALIDE"], ["DOUBLON"], ["DONNEE_INVALIDE"]]
    # The repeats sent again by another file: as liquider on everything received.
    again = write_ndjson(tmp_path / "again.ndjson", read_ndjson(flow)[1::2])
    services.receive_flow(again, quiet=True)
    everything = write_ndjson(tmp_path / "all.ndjson", [*read_ndjson(flow), *read_ndjson(again)])
    assert _export(tmp_path) == in_reception_order(_liquider(tmp_path, everything), read_ndjson(everything))


def test_a_repeat_stored_without_its_record_is_a_doublon() -> None:
    out = services.duplicate_decomptes([("X1", None), ("7", {"id": 7})])
    assert out[0]["rejets"] == ["DOUBLON"] and out[0]["id"] == "X1"
    assert out[1]["rejets"] == ["DONNEE_INVALIDE"] and out[1]["id"] == "7"


# --- Two receptions at once -------------------------------------------------------------------------------


def test_a_reception_beaten_by_another_starts_again_instead_of_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feuilles = read_ndjson(EXAMPLE / "feuilles.ndjson")[:4]
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(write_ndjson(tmp_path / "a.ndjson", feuilles), quiet=True)
    # The other process committed the same ids after this one looked them up: the insert breaks
    # the uniqueness of the ids, the transaction is undone and the reception starts again.
    real = services._existing_ids
    calls: list[int] = []

    def stale(ids: list[str]) -> dict[str, int]:
        calls.append(len(ids))
        return {} if len(calls) == 1 else real(ids)

    monkeypatch.setattr(services, "_existing_ids", stale)
    more = read_ndjson(EXAMPLE / "feuilles.ndjson")[4:6]
    report = services.receive_flow(write_ndjson(tmp_path / "b.ndjson", [*feuilles, *more]), quiet=True)
    assert (report.recues, report.doublons) == (2, 4)
    assert Feuille.objects.count() == 6 and DuplicateReception.objects.count() == 4


# --- The référentiel's extra files ------------------------------------------------------------------------


def test_rejected_nomenclature_and_counter_lines_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "referentiel"
    folder.mkdir()
    for name in ("beneficiaires.ndjson", "professionnels.ndjson"):
        (folder / name).write_bytes((EXAMPLE / "referentiel" / name).read_bytes())
    (folder / "nomenclature.ndjson").write_text(
        (EXAMPLE / "referentiel" / "nomenclature.ndjson").read_text(encoding="utf-8")
        + "pas du json\n"
        + json.dumps({"code": "ZZ1", "categorie": "inconnue", "tarif_cts": 100, "debut": "2025-01-01", "fin": None}) + "\n",
        encoding="utf-8",
    )
    (folder / "compteurs.ndjson").write_text(
        json.dumps({"nir": "185095906591507", "annee": 2025, "participation_forfaitaire_cts": "x"}) + "\n"
        + json.dumps({"nir": 5}) + "\n" + "[1, 2]\n"
        # Read as caisse liquider reads them: a year and amounts given as text are numbers.
        + json.dumps({"nir": "185095906591507", "annee": "2026", "participation_forfaitaire_cts": "300", "dette_cts": 150}) + "\n",
        encoding="utf-8")
    report = services.import_referentiel_extras(folder)
    err = capsys.readouterr().err
    assert len(report.rejets) == 4 and report.compteurs == 1
    assert "nomenclature.ndjson : 2 ligne(s) écartée(s)" in err
    assert "compteurs.ndjson ligne 1 : montant non entier ou négatif." in err
    assert "compteurs.ndjson ligne 2 : « nir » ou « annee » manquant ou invalide." in err
    assert "compteurs.ndjson ligne 3 : ligne illisible (objet JSON attendu)." in err
    assert "; 4 rejet(s)." in err
