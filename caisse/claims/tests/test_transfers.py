"""Who a transfer pays (an ayant droit is paid to its ouvrant droit) and the SEPA file's edge: a
pain.001 is never made without a transfer (it would be schema-invalid)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sepaxml
import xmlschema
from django.test import Client
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.beneficiaries.models import Beneficiary
from caisse.beneficiaries.tests.factories import BeneficiaryFactory, ParentLinkFactory
from caisse.claims import documents, sepa, services
from caisse.claims.models import (
    AnnualCounter,
    DailyCapConsumption,
    DailyRun,
    Debt,
    Feuille,
    FeuilleStatus,
    PayeeKind,
    Payment,
    SeenAct,
)
from caisse.claims.tests.generate import iban, nir
from caisse.claims.tests.helpers import TODAY, import_folder, snapshot, write_ndjson

pytestmark = pytest.mark.django_db

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
PS = "10000000001"

PARENT = nir(1, 1, 1984, 2)
CHILD_1 = nir(2, 2, 2015, 3)
CHILD_2 = nir(3, 1, 2018, 7)
SINGLE = nir(4, 2, 1990, 5)
PARENT_IBAN, SINGLE_IBAN = iban(1), iban(4)


def _person(n: str, birth: str, sexe: str, **extra: Any) -> dict[str, Any]:
    return {"nir": n, "date_naissance": birth, "sexe": sexe, "droits": [{"debut": birth, "fin": None}], "ald": [],
            "c2s": [], "ame": [], "maternite": [], "invalidite": [], "medecin_traitant": [], "cartes_vitale": [],
            "deces": None, "prenom": extra.pop("prenom", ""), "nom": "Durand", **extra}


def _referentiel(folder: Path) -> Path:
    ref = folder / "referentiel"
    ref.mkdir()
    write_ndjson(ref / "professionnels.ndjson", [{"id": PS, "profession": "medecin", "specialite": None, "secteur": 1,
                                                  "optam": False, "conventionne": True, "iban": iban(10**6)}])
    write_ndjson(ref / "nomenclature.ndjson", [{"code": "TG", "libelle": "Consultation", "categorie": "consultation_medecin",
                                                "tarif_cts": 3000, "debut": "2020-01-01", "fin": None}])
    write_ndjson(ref / "beneficiaires.ndjson", [
        _person(PARENT, "1984-02-10", "M", prenom="Marc", iban=PARENT_IBAN),
        _person(CHILD_1, "2015-03-14", "F", prenom="Lina", parents=[PARENT]),  # no account: the parent's
        _person(CHILD_2, "2018-07-01", "M", prenom="Noé", parents=[PARENT], iban=PARENT_IBAN),  # the parent's account
        _person(SINGLE, "1990-05-20", "F", prenom="Sofia", iban=SINGLE_IBAN),
    ])
    return ref


def _feuille(ident: str, person: str, day: str, *, tiers_payant: bool = False) -> dict[str, Any]:
    return {"id": ident, "type": "FSE", "date_reception": day, "nir": person, "executant": PS, "prescripteur": None,
            "tiers_payant": tiers_payant, "risque": "maladie", "parcours": "medecin_traitant", "en_rapport_ald": False,
            "carte_vitale": None,
            "lignes": [{"code": "TG", "date_soins": day, "quantite": 1, "coefficient": 1, "montant_facture_cts": 3000}]}


@pytest.fixture
def family(tmp_path: Path) -> Path:
    import_folder(_referentiel(tmp_path))
    return write_ndjson(tmp_path / "feuilles.ndjson", [
        _feuille("A1", PARENT, "2025-06-02"), _feuille("A2", CHILD_1, "2025-06-03"), _feuille("A3", CHILD_1, "2025-06-09"),
        _feuille("A4", CHILD_2, "2025-06-04"), _feuille("A5", SINGLE, "2025-06-05"),
        _feuille("A6", CHILD_2, "2025-06-06", tiers_payant=True),  # paid to the doctor, not to the family
    ])


def _paid_to_assures(nirs: list[str]) -> int:
    return sum(d["paiement_assure_cts"] for d in Feuille.objects.filter(nir__in=nirs).values_list("decompte", flat=True))


def _valid(xml: bytes) -> None:
    xmlschema.XMLSchema(str(XSD)).validate(xml.decode())


# --- One transfer per account holder -------------------------------------------------------------------


def test_a_parent_and_two_children_get_one_transfer_to_the_parents_account(family: Path, tmp_path: Path) -> None:
    services.receive_flow(family, quiet=True)
    services.daily_run(None, today=TODAY, chunk_size=2, quiet=True)  # the family spans chunks
    assert not Feuille.objects.filter(statut=FeuilleStatus.REJETEE).exists()
    household = [PARENT, CHILD_1, CHILD_2]
    assures = Payment.objects.filter(type_beneficiaire=PayeeKind.ASSURE)
    assert sorted(assures.values_list("identifiant_beneficiaire", flat=True)) == sorted([PARENT, SINGLE])
    transfer = assures.get(identifiant_beneficiaire=PARENT)
    assert transfer.iban == PARENT_IBAN and transfer.nom == "Marc Durand" and transfer.iban_valide
    assert transfer.montant_cts == _paid_to_assures(household) > 0
    assert transfer.nb_feuilles == 4  # A1 to A4; A6 was paid to the doctor
    assert set(transfer.feuilles.values_list("nir", flat=True)) == set(household)
    assert sorted(transfer.feuilles.values_list("identifiant", flat=True)) == ["A1", "A2", "A3", "A4"]
    assert assures.get(identifiant_beneficiaire=SINGLE).montant_cts == _paid_to_assures([SINGLE])
    assert Payment.objects.get(type_beneficiaire=PayeeKind.PS).feuilles.get().identifiant == "A6"

    # The bank file: one transfer to the parent's IBAN for the three people's reimbursements.
    out = tmp_path / "virements.xml"
    assert services.export_payments(str(out), quiet=True) == 3
    _valid(out.read_bytes())
    to_parent = [t for t in ET.parse(out).getroot().findall(".//p:CdtTrfTxInf", NS)
                 if t.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == PARENT_IBAN]
    assert len(to_parent) == 1
    assert Decimal(to_parent[0].findtext("p:Amt/p:InstdAmt", namespaces=NS) or "0") == Decimal(transfer.montant_cts) / 100


def test_statements_stay_per_beneficiary_and_name_the_account_paid(family: Path) -> None:
    services.receive_flow(family, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    transfer = Payment.objects.get(type_beneficiaire=PayeeKind.ASSURE, identifiant_beneficiaire=PARENT)
    child = Beneficiary.objects.get(nir=CHILD_1)
    mine = documents.statement_context(child, TODAY)
    assert [s.feuille.identifiant for s in mine["items"]] == ["A2", "A3"]  # the child's feuilles only
    assert mine["titulaire"] == "Marc Durand" and mine["virement_partage"]
    assert mine["virement"] == documents.euros(transfer.montant_cts) and mine["iban_fin"] == PARENT_IBAN[-4:]
    assert mine["total_assure"] == documents.euros(_paid_to_assures([CHILD_1]))
    html = documents.render_statement_html(child, TODAY)
    assert "Virement sur le compte de Marc Durand" in html and "au titre de ce décompte" in html

    parent = documents.statement_context(Beneficiary.objects.get(nir=PARENT), TODAY)
    assert [s.feuille.identifiant for s in parent["items"]] == ["A1"]
    assert parent["titulaire"] == "" and parent["virement_partage"]
    single = documents.statement_context(Beneficiary.objects.get(nir=SINGLE), TODAY)
    assert single["titulaire"] == "" and not single["virement_partage"]
    assert "Virement sur votre compte" in documents.render_statement_html(Beneficiary.objects.get(nir=SINGLE), TODAY)


def test_rerunning_never_pays_twice_and_a_later_run_the_same_day_adds_to_the_parents_transfer(
    family: Path, tmp_path: Path
) -> None:
    services.receive_flow(family, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    before = snapshot()
    services.receive_flow(family, quiet=True)  # the same file again: nothing stored
    assert services.daily_run(None, today=TODAY, quiet=True) is None
    assert snapshot() == before
    more = write_ndjson(tmp_path / "more.ndjson", [_feuille("B1", CHILD_2, "2025-07-01"), _feuille("A2", CHILD_1, "2025-06-03")])
    services.receive_flow(more, quiet=True)  # A2 is a duplicate, never paid again
    services.daily_run(None, today=TODAY, quiet=True)
    transfer = Payment.objects.get(type_beneficiaire=PayeeKind.ASSURE, identifiant_beneficiaire=PARENT)
    assert transfer.nb_feuilles == 5 and transfer.montant_cts == _paid_to_assures([PARENT, CHILD_1, CHILD_2])
    assert Payment.objects.filter(type_beneficiaire=PayeeKind.ASSURE).count() == 2


def test_a_run_interrupted_then_resumed_pays_the_family_as_an_uninterrupted_run(
    family: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.receive_flow(family, quiet=True)
    services.daily_run(None, today=TODAY, chunk_size=1, quiet=True)
    expected = snapshot()
    Feuille.objects.update(statut=FeuilleStatus.RECUE, decompte=None, run=None, date_paiement=None, paiement=None)
    for model in (Payment, DailyRun, AnnualCounter, Debt, DailyCapConsumption, SeenAct):
        model.objects.all().delete()
    original, calls = services._write_feuilles, {"n": 0}

    def failing(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:  # inside the 4th chunk's transaction, its payment already written
            raise RuntimeError("panne simulée")
        original(*args)

    with monkeypatch.context() as patch:
        patch.setattr(services, "_write_feuilles", failing)
        with pytest.raises(RuntimeError):
            services.daily_run(None, today=TODAY, chunk_size=1, quiet=True)
    services.daily_run(None, today=TODAY, chunk_size=3, quiet=True)
    assert snapshot() == expected


def _link(child: Any, parent: Any, **kwargs: Any) -> Any:
    return ParentLinkFactory(child=child, parent=parent, debut=kwargs.pop("debut", child.date_naissance), **kwargs)


def test_who_is_paid_for_whom() -> None:
    day = dt.date(2026, 3, 1)
    mother = BeneficiaryFactory(iban=iban(11))
    father = BeneficiaryFactory(sexe="M", iban=iban(12))
    no_account = BeneficiaryFactory(sexe="M")
    both = BeneficiaryFactory(minor=True)  # double rattachement, no account of its own
    _link(both, no_account)
    _link(both, father, debut=dt.date(2016, 1, 1))
    _link(both, mother, debut=dt.date(2017, 1, 1))
    on_mothers = BeneficiaryFactory(minor=True, iban=iban(11))  # the account on file is the mother's
    _link(on_mothers, father)
    _link(on_mothers, mother)
    autonomous = BeneficiaryFactory(minor=True, iban=iban(13))  # an account of its own
    _link(autonomous, mother)
    grown_up = BeneficiaryFactory(date_naissance=dt.date(2007, 1, 15))  # 19 on the payment date
    _link(grown_up, mother)
    ended = BeneficiaryFactory(minor=True)
    _link(ended, father, fin=dt.date(2025, 12, 31))
    future = BeneficiaryFactory(minor=True)
    _link(future, father, debut=dt.date(2026, 6, 1))
    orphan = BeneficiaryFactory(minor=True)
    _link(orphan, BeneficiaryFactory(date_deces=dt.date(2025, 1, 1)))
    people = [both, on_mothers, autonomous, grown_up, ended, future, orphan, mother, father]
    assert services.assure_payees([p.nir for p in people], day) == {
        both.nir: father.nir,  # the first linked parent with a valid IBAN
        on_mothers.nir: mother.nir,  # the parent whose account is the child's
    }
    assert services.assure_payees([], day) == {}


# --- No pain.001 without a transfer -----------------------------------------------------------------------


def test_no_payment_makes_no_sepa_document_but_a_french_reason() -> None:
    with pytest.raises(sepa.NothingToTransfer, match="Aucun virement à exporter \\(aucun paiement\\)"):
        sepa.credit_transfer([])


def test_a_file_with_transfers_is_valid_against_the_pain_001_schema(family: Path, tmp_path: Path) -> None:
    services.receive_flow(family, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    xml, skipped = sepa.credit_transfer(list(Payment.objects.order_by("pk")))
    assert not skipped
    _valid(xml)


def test_exporting_with_nothing_to_pay_writes_no_file(
    tmp_path: Path, family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "virements.xml"
    with pytest.raises(sepa.NothingToTransfer):
        services.export_payments(str(out))
    assert not out.exists()
    with pytest.raises(sepa.NothingToTransfer):
        services.export_payments("-")
    captured = capsys.readouterr()
    assert captured.out == ""
    # Payments, none of them with a valid IBAN: reported one by one, still no file.
    services.receive_flow(family, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    Payment.objects.update(iban="", iban_valide=False)
    Beneficiary.objects.update(iban="")
    from caisse.professionals.models import HealthProfessional

    HealthProfessional.objects.update(iban="")
    with pytest.raises(sepa.NothingToTransfer, match="3 paiement\\(s\\), aucun avec un IBAN valide"):
        services.export_payments(str(out))
    assert not out.exists()
    assert capsys.readouterr().err.count("non exporté : IBAN absent ou invalide") == 3


def test_a_payment_held_for_want_of_an_iban_goes_out_once_the_iban_is_known(family: Path, tmp_path: Path) -> None:
    """A payment made while its payee had no valid IBAN is held; once the référentiel gives the
    account, the next export pays it (it kept the empty IBAN forever)."""
    from caisse.professionals.models import HealthProfessional

    HealthProfessional.objects.update(iban="")
    services.receive_flow(family, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    held = Payment.objects.get(type_beneficiaire=PayeeKind.PS)
    assert not held.iban_valide
    first = tmp_path / "avant.xml"
    services.export_payments(str(first), quiet=True)
    assert PS not in first.read_text(encoding="utf-8") and iban(10**6) not in first.read_text(encoding="utf-8")
    HealthProfessional.objects.update(iban=iban(10**6))  # the référentiel corrected
    after = tmp_path / "apres.xml"
    services.export_payments(str(after), quiet=True)
    held.refresh_from_db()
    assert held.iban_valide and held.iban == iban(10**6)
    assert iban(10**6) in after.read_text(encoding="utf-8")
    _valid(after.read_bytes())


def test_the_command_says_so_in_french_and_exits_1(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(CAISSE_DATABASE_URL=f"sqlite:///{tmp_path / 'caisse.sqlite3'}", PYTHONWARNINGS="ignore")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-m", "caisse.cli", "exporter", "paiements", "--out", "p.xml"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1, result.stderr
    assert result.stdout == "" and not (tmp_path / "p.xml").exists()
    assert result.stderr.splitlines() == [
        "exporter : Aucun virement à exporter (aucun paiement) : aucun fichier SEPA n'est produit."]


def test_the_back_office_offers_no_empty_file(family: Path, make_user: Any) -> None:
    services.receive_flow(family, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    run = DailyRun.objects.get()
    client = Client()
    client.force_login(make_user(Role.LIQUIDATEUR, username="paul"))
    url = reverse("claims:payments_sepa", args=[run.pk])
    assert url in client.get(reverse("claims:payments")).content.decode()
    Payment.objects.update(iban="", iban_valide=False)
    page = client.get(reverse("claims:payments")).content.decode()
    assert url not in page and "Aucun virement exportable" in page and "3 sans IBAN valide" in page
    response = client.get(url, follow=True)  # an old link: back to the page with the reason, no document
    assert response.redirect_chain == [(reverse("claims:payments"), 302)]
    assert "Aucun virement à exporter" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")



def test_no_nir_travels_to_the_bank_from_the_command_or_the_back_office(
    family: Path, tmp_path: Path, make_user: Any
) -> None:
    services.receive_flow(family, quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    Beneficiary.objects.filter(nir=SINGLE).update(nom="", prenom="")  # no name on file: "Assuré <NIR>"
    Payment.objects.filter(identifiant_beneficiaire=SINGLE).update(nom=f"Assuré {SINGLE}")
    out = tmp_path / "virements.xml"
    assert services.export_payments(str(out), quiet=True) == 3
    client = Client()
    client.force_login(make_user(Role.LIQUIDATEUR, username="paul"))
    response = client.get(reverse("claims:payments_sepa", args=[DailyRun.objects.get().pk]))
    assert response.status_code == 200
    for xml in (out.read_bytes(), response.content):
        _valid(xml)
        text = xml.decode()
        for person in (PARENT, CHILD_1, CHILD_2, SINGLE):
            assert person[:13] not in text.replace(" ", ""), person
        root = ET.fromstring(xml)
        for p in Payment.objects.filter(type_beneficiaire=PayeeKind.ASSURE):
            tx = next(t for t in root.findall(".//p:CdtTrfTxInf", NS)
                      if t.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == sepa.end_to_end_id(p))
            assert tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == (
                f"Remboursement de soins du {TODAY:%d/%m/%Y} - {p.nb_feuilles} feuille{'s' if p.nb_feuilles > 1 else ''} de soins")
        names = {t.findtext("p:Cdtr/p:Nm", namespaces=NS) for t in root.findall(".//p:CdtTrfTxInf", NS)}
        assert {"Marc Durand", sepa.ASSURE_NAME} <= names
