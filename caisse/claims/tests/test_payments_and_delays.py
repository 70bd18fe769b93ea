"""SEPA export of the payments, processing delays (rules.md F.6), database constraints."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from caisse.claims import delays, services
from caisse.claims.models import DailyRun, Feuille, FeuilleStatus, FlowReception, Payment
from caisse.claims.tests.helpers import EXAMPLE, TODAY, import_folder
from caisse.rules.parameters import load_parameters

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.fixture
def processed(db: None) -> DailyRun:
    if not EXAMPLE.exists():
        pytest.skip("example folder not available")
    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(EXAMPLE / "feuilles.ndjson", quiet=True)
    run = services.daily_run(None, today=TODAY, quiet=True)
    assert run is not None
    return run


def test_payments_group_the_feuilles_by_payee_and_date(processed: DailyRun) -> None:
    payments = list(Payment.objects.all())
    assert payments
    for p in payments:
        paid = list(p.feuilles.values_list("decompte", flat=True))
        assert len(paid) == p.nb_feuilles
        assert p.montant_cts == sum(d["paiement_ps_cts"] + d["paiement_assure_cts"] for d in paid)
        assert p.date_paiement == TODAY
    unpaid = Feuille.objects.filter(statut=FeuilleStatus.LIQUIDEE, paiement__isnull=True)
    assert all(d["paiement_ps_cts"] + d["paiement_assure_cts"] == 0 for d in unpaid.values_list("decompte", flat=True))


def test_the_sepa_file_has_one_transfer_per_payment_with_exact_amounts(processed: DailyRun, tmp_path: Path) -> None:
    out = tmp_path / "paiements.xml"
    count = services.export_payments(str(out), quiet=True)
    payments = list(Payment.objects.order_by("pk"))
    assert count == len(payments)  # every payee of the example has an IBAN
    root = ET.parse(out).getroot()
    transfers = root.findall(".//p:CdtTrfTxInf", NS)
    assert len(transfers) == len(payments)
    amounts = sorted(Decimal(t.find("p:Amt/p:InstdAmt", NS).text) for t in transfers)  # type: ignore[union-attr]
    assert amounts == sorted(Decimal(p.montant_cts) / 100 for p in payments)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header is not None
    assert Decimal(header.findtext("p:CtrlSum", namespaces=NS) or "0") == sum(amounts)
    assert {e.text for e in root.findall(".//p:ReqdExctnDt", NS)} == {TODAY.isoformat()}
    assert root.findtext(".//p:Dbtr/p:Nm", namespaces=NS) == "CPAM DE DEMONSTRATION"


def test_the_debtor_is_configurable_and_payees_without_iban_are_reported(
    processed: DailyRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAISSE_SEPA_NOM", "CPAM de Test")
    first = Payment.objects.order_by("pk").first()
    assert first is not None
    Payment.objects.filter(pk=first.pk).update(iban="")
    out = tmp_path / "p.xml"
    count = services.export_payments(str(out))
    assert count == Payment.objects.count() - 1
    assert "non exporté : IBAN absent" in capsys.readouterr().err
    assert ET.parse(out).getroot().findtext(".//p:Dbtr/p:Nm", namespaces=NS) == "CPAM de Test"


def test_decile_methods() -> None:
    values = list(range(1, 11))
    assert delays.decile_9(values) == 9
    assert delays.decile_9(values, "interpolation") == pytest.approx(9.1)
    assert delays.decile_9([4]) == 4
    assert delays.decile_9([1, 2, 3, 50]) == 50


def test_delay_table_against_the_dated_targets() -> None:
    day = dt.date(2025, 3, 1)
    items = [("FSE", day, day + dt.timedelta(days=d)) for d in (1, 2, 3, 3, 4, 5, 5, 6, 8, 12)]
    items += [("FSP", day, day + dt.timedelta(days=d)) for d in (10, 15, 25)]
    items += [("FSE", day, dt.date(2025, 4, 2)), ("XXX", day, day)]
    rows = delays.delay_table(items)
    assert rows[0] == {
        "mois": "2025-03", "type": "FSE", "nb": 10, "delai_moyen_jours": 4.9, "d9_jours": 8.0,
        "cible_d9_jours": 7, "socle_d9_jours": None, "cible_atteinte": False, "socle_respecte": None,
    }
    assert rows[1]["type"] == "FSP" and rows[1]["d9_jours"] == 25 and rows[1]["cible_d9_jours"] == 20
    assert (rows[1]["cible_atteinte"], rows[1]["socle_respecte"]) == (False, True)
    assert [(r["mois"], r["type"], r["nb"]) for r in rows[2:]] == [("2025-04", "FSE", 1)]
    local = load_parameters({"sante.delais.fse_d9_cible": {dt.date(2025, 1, 1): 10}})
    assert delays.delay_table(items, local)[0]["cible_atteinte"] is True


def test_the_delay_targets_are_dated_parameters_and_unconfirmed_where_rules_md_says_so() -> None:
    params = load_parameters()
    assert params.value("sante.delais.fse_d9_cible", TODAY) == 7
    assert params.value("sante.delais.fsp_d9_cible", TODAY) == 20
    assert params.value("sante.delais.fsp_d9_socle", TODAY) == 30
    assert params.parameter("sante.delais.fsp_d9_cible").unconfirmed
    assert params.parameter("sante.delais.fsp_d9_socle").unconfirmed
    assert params.parameter("sante.delais.methode_decile").unconfirmed


def test_processing_delays_from_the_database(processed: DailyRun) -> None:
    rows = services.processing_delays()
    liquidated = Feuille.objects.filter(statut=FeuilleStatus.LIQUIDEE, type__in=["FSE", "FSP"])
    assert sum(r["nb"] for r in rows) == liquidated.count()
    assert {r["mois"] for r in rows} == {TODAY.strftime("%Y-%m")}
    assert services.processing_delays(debut=TODAY + dt.timedelta(days=1)) == []


# --- Named database constraints --------------------------------------------------------------------


def _violates(name: str) -> pytest.RaisesContext[IntegrityError]:
    return pytest.raises(IntegrityError, match=name)


@pytest.mark.django_db
def test_one_feuille_per_id_and_one_decompte_once_processed() -> None:
    reception = FlowReception.objects.create(fichier="f", format="ndjson", empreinte="x")
    Feuille.objects.create(identifiant="F1", reception=reception, position=0)
    with transaction.atomic(), _violates("unique_feuille_identifiant|UNIQUE constraint failed: claims_feuille.identifiant"):
        Feuille.objects.create(identifiant="F1", reception=reception, position=1)
    with transaction.atomic(), _violates("check_feuille_decompte_once_processed"):
        Feuille.objects.create(identifiant="F2", reception=reception, position=2, statut=FeuilleStatus.LIQUIDEE)
    with transaction.atomic(), _violates("check_feuille_decompte_once_processed"):
        Feuille.objects.create(identifiant="F3", reception=reception, position=3, decompte={"id": "F3"})


@pytest.mark.django_db
def test_one_payment_per_payee_and_date_and_one_run_in_progress() -> None:
    now = timezone.now()
    run = DailyRun.objects.create(date_traitement=TODAY, debut=now)
    with transaction.atomic(), _violates("unique_dailyrun_one_in_progress|UNIQUE constraint failed: claims_dailyrun.statut"):
        DailyRun.objects.create(date_traitement=TODAY, debut=now)
    Payment.objects.create(type_beneficiaire="ps", identifiant_beneficiaire="1", date_paiement=TODAY, montant_cts=10,
                           nb_feuilles=1, run=run)
    with transaction.atomic(), _violates("unique_payment_payee_date|UNIQUE constraint failed: claims_payment"):
        Payment.objects.create(type_beneficiaire="ps", identifiant_beneficiaire="1", date_paiement=TODAY, montant_cts=5,
                               nb_feuilles=1, run=run)
    with transaction.atomic(), _violates("check_payment_amount_positive"):
        Payment.objects.create(type_beneficiaire="ps", identifiant_beneficiaire="2", date_paiement=TODAY, montant_cts=0,
                               nb_feuilles=1, run=run)
    with transaction.atomic(), _violates("check_dailyrun_finished_has_end"):
        DailyRun.objects.filter(pk=run.pk).update(statut="termine")
