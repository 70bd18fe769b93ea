"""Health-costs back-office screens: paper capture, statements, professional returns, delays."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from caisse.accounts.models import Role
from caisse.beneficiaries.models import Beneficiary
from caisse.claims import capture, documents, sepa, services
from caisse.claims.models import DailyRun, Feuille, FeuilleStatus, FeuilleType, FlowReception, Payment
from caisse.claims.tests.helpers import EXAMPLE, import_folder
from caisse.core.models import AuditAction, AuditEvent
from caisse.core.money import euros
from caisse.core.pdf import pdf_available
from caisse.core.tests.pdfs import assert_accessible_pdf

# The URL map of these tests (this module): the shared pages and the claims pages only, so that
# the tests do not depend on applications still being written next door.
urlpatterns = [
    path("mon-espace/remboursements/", include("caisse.claims.online_urls")),
    path("en-ligne/professionnel/", include("caisse.claims.professional_urls")),
    path("", include("caisse.web.urls")),
    path("", include("caisse.accounts.urls")),
    path("beneficiaires/", include("caisse.beneficiaries.urls")),
    path("", include("caisse.rights.urls")),
    path("professionnels/", include("caisse.professionals.urls")),
    path("frais-de-sante/", include("caisse.claims.urls")),
]
handler403 = "caisse.web.views.permission_denied"

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def referentiel() -> dict[str, Any]:
    """The contract's example référentiel: a person with open rights, a GP, the nomenclature."""
    import_folder(EXAMPLE / "referentiel")
    people = [json.loads(x) for x in (EXAMPLE / "referentiel" / "beneficiaires.ndjson").read_text().splitlines() if x]
    pros = [json.loads(x) for x in (EXAMPLE / "referentiel" / "professionnels.ndjson").read_text().splitlines() if x]
    person = next(p for p in people if not p["deces"] and not p["c2s"] and not p["ame"]
                  and any(d["fin"] is None for d in p["droits"])
                  and all(c["opposition"] is None for c in p["cartes_vitale"]))
    gp = next(p for p in pros if p["profession"] == "medecin" and p["specialite"] == "medecine_generale"
              and p["secteur"] == 1 and p["conventionne"])
    from caisse.beneficiaries.models import Beneficiary

    return {"nir": person["nir"], "ps": gp["id"], "person": Beneficiary.objects.get(nir=person["nir"])}


@pytest.fixture
def manager(make_user: Any) -> Any:
    """Marc, manager: reads the indicators and the statements, never captures."""
    return make_user(Role.MANAGER, username="marc")


def _post(ref: dict[str, Any], **changes: Any) -> dict[str, Any]:
    today = timezone.localdate()
    care = today - dt.timedelta(days=10)
    data = {
        "nir": ref["nir"], "executant": ref["ps"], "prescripteur": "", "risque": "maladie",
        "parcours": "medecin_traitant", "date_reception": (today - dt.timedelta(days=3)).isoformat(),
        "l1_code": "G", "l1_date_soins": care.isoformat(), "l1_quantite": "1", "l1_coefficient": "1",
        "l1_montant": "30,00",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_capture_stores_a_received_fsp_that_the_daily_run_liquidates(referentiel: dict[str, Any], liquidateur: Any) -> None:
    client = _client(liquidateur)
    assert client.get(reverse("claims:capture")).status_code == 200
    response = client.post(reverse("claims:capture"), _post(referentiel, tiers_payant="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    feuille = Feuille.objects.get()
    today = timezone.localdate()
    assert feuille.identifiant == f"FSP-{today:%Y%m%d}-1"
    assert feuille.type == FeuilleType.FSP and feuille.statut == FeuilleStatus.RECUE and not feuille.invalide
    assert feuille.reception.fichier.startswith(capture.SAISIE_PREFIX)
    record = feuille.enregistrement
    assert record["tiers_payant"] is True and record["carte_vitale"] is None
    assert record["lignes"] == [{"code": "G", "date_soins": (today - dt.timedelta(days=10)).isoformat(),
                                 "quantite": 1, "coefficient": 1, "montant_facture_cts": 3000}]
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, summary__contains=feuille.identifiant).exists()

    queue = client.get(reverse("claims:queue"))
    assert feuille.identifiant in queue.content.decode() and "<td class=\"num\">3</td>" in queue.content.decode()
    # Each item says whom it is about, with a link to the person's décomptes.
    person = Beneficiary.objects.get(nir=feuille.nir)
    assert reverse("claims:beneficiary", args=[person.pk]) in queue.content.decode()
    assert person.nir_formate in queue.content.decode()

    # A second capture the same day gets the next rank.
    assert client.post(reverse("claims:capture"), _post(referentiel, l1_code="VG")).status_code == 302
    assert Feuille.objects.filter(identifiant=f"FSP-{today:%Y%m%d}-2").exists()

    services.daily_run(today=today, quiet=True)
    feuille.refresh_from_db()
    assert feuille.statut == FeuilleStatus.LIQUIDEE, feuille.decompte
    assert feuille.decompte["paiement_ps_cts"] > 0 and feuille.date_paiement == today
    assert feuille.identifiant not in client.get(reverse("claims:queue")).content.decode()
    assert FlowReception.objects.count() == 2


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"nir": "185095906591508"}, "nir", "La clé du NIR ne correspond pas"),
    ({"nir": "123"}, "nir", "Le NIR doit comporter 15 caractères"),
    ({"executant": "99999999999"}, "executant", "Aucun professionnel de santé connu"),
    ({"l1_code": "ZZZ"}, "l1_code", "inconnu de la nomenclature"),
    ({"l1_montant": "12,345"}, "l1_montant", "au plus deux décimales"),
    ({"l1_montant": "douze"}, "l1_montant", "Saisissez un montant en euros"),
    ({"date_reception": "2999-01-01"}, "date_reception", "ne peut pas être dans le futur"),
    ({"l1_date_soins": "2999-01-01"}, "l1_date_soins", "ne peut pas être dans le futur"),
    ({"l2_code": "G"}, "l2_montant", "obligatoire pour une ligne commencée"),
])
def test_capture_refuses_bad_input_in_french(referentiel: dict[str, Any], liquidateur: Any, changes: dict[str, str],
                                             field: str, message: str) -> None:
    response = _client(liquidateur).post(reverse("claims:capture"), _post(referentiel, **changes))
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors.get(field, [])), form.errors
    html = response.content.decode()
    assert "Le formulaire contient" in html and 'aria-invalid="true"' in html
    assert not Feuille.objects.exists()


def test_capture_refuses_a_nir_nobody_holds(referentiel: dict[str, Any], liquidateur: Any) -> None:
    from caisse.rules.identifiers import nir_key

    first13 = "1850959065915"
    other = "2" + first13[1:]
    response = _client(liquidateur).post(reverse("claims:capture"), _post(referentiel, nir=other + nir_key(other)))
    assert response.status_code == 400
    assert "Aucun bénéficiaire" in " ".join(response.context["form"].errors["nir"])


def test_euros_are_converted_to_exact_cents() -> None:
    from caisse.claims.forms import euros_to_cents

    assert euros_to_cents("0,10") == 10
    assert euros_to_cents("1 234,56") == 123456
    assert euros_to_cents("19.99") == 1999
    assert euros_to_cents("30") == 3000


@pytest.fixture
def liquidated(referentiel: dict[str, Any], liquidateur: Any) -> dict[str, Any]:
    """A captured feuille, reimbursed to the assuré by a daily run."""
    client = _client(liquidateur)
    assert client.post(reverse("claims:capture"), _post(referentiel)).status_code == 302
    services.daily_run(today=timezone.localdate(), quiet=True)
    return {**referentiel, "client": client, "feuille": Feuille.objects.get()}


@pytest.mark.parametrize("role", [Role.ACCUEIL, Role.GESTIONNAIRE_DROITS, Role.GESTIONNAIRE_IJ, Role.ADMIN, Role.ASSURE])
def test_other_roles_are_refused(make_user: Any, role: str, liquidated: dict[str, Any]) -> None:
    extra = {"beneficiary": liquidated["person"]} if role == Role.ASSURE else {}
    client = _client(make_user(role, **extra))
    paid = liquidated["feuille"].date_paiement
    for url in (reverse("claims:queue"), reverse("claims:capture"), reverse("claims:delays"), reverse("claims:lookup"),
                reverse("claims:beneficiary", args=[liquidated["person"].pk]),
                reverse("claims:statement", args=[liquidated["person"].pk, paid.isoformat()]),
                reverse("claims:professional", args=[liquidated["ps"]]), reverse("claims:payments"),
                reverse("claims:payments_sepa", args=[liquidated["feuille"].run_id])):
        assert client.get(url).status_code == 403, url


def test_manager_reads_but_does_not_capture(manager: Any, liquidated: dict[str, Any]) -> None:
    client = _client(manager)
    assert client.get(reverse("claims:capture")).status_code == 403
    assert client.post(reverse("claims:capture"), _post(liquidated)).status_code == 403
    queue = client.get(reverse("claims:queue"))
    assert queue.status_code == 200 and "Saisir une feuille" not in queue.content.decode()
    for url in (reverse("claims:delays"), reverse("claims:beneficiary", args=[liquidated["person"].pk]),
                reverse("claims:professional", args=[liquidated["ps"]]), reverse("claims:payments")):
        assert client.get(url).status_code == 200, url
    assert "Frais de santé" in queue.content.decode()  # the menu entry


def test_queue_lookups_lead_to_a_person_and_a_professional(liquidated: dict[str, Any]) -> None:
    client, person = liquidated["client"], liquidated["person"]
    url = reverse("claims:lookup")
    assert client.get(url, {"nir": person.nir})["Location"] == reverse("claims:beneficiary", args=[person.pk])
    assert client.get(url, {"ps": liquidated["ps"]})["Location"] == reverse("claims:professional", args=[liquidated["ps"]])
    unknown = client.get(url, {"nir": "100000000000000"}, follow=True)
    assert "Aucun bénéficiaire" in unknown.content.decode()


def test_payments_page_lists_each_run_and_gives_its_sepa_file(liquidated: dict[str, Any]) -> None:
    client, feuille = liquidated["client"], liquidated["feuille"]
    run = DailyRun.objects.get(pk=feuille.run_id)
    payments = list(Payment.objects.filter(run=run))
    assert payments  # the captured feuille was paid by the run
    page = client.get(reverse("claims:payments")).content.decode()
    total = sum(p.montant_cts for p in payments)
    assert f"{run.date_traitement:%d/%m/%Y}" in page and euros(total) in page
    sepa_url = reverse("claims:payments_sepa", args=[run.pk])
    assert sepa_url in page

    response = client.get(sepa_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    assert f"virements-{run.date_traitement:%Y%m%d}-{run.pk}.xml" in response["Content-Disposition"]
    document = ElementTree.fromstring(response.content)
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    with_iban = [p for p in payments if sepa.valid_iban(p.iban)]
    assert int(document.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=ns) or -1) == len(with_iban)
    if len(with_iban) < len(payments):
        assert "sans IBAN valide" in page
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, summary__contains="virements SEPA").exists()
    assert client.get(reverse("claims:payments_sepa", args=[run.pk + 1000])).status_code == 404
    # The IBAN is checked once, when the payment is made; the page counts those a SEPA file cannot carry.
    assert all(p.iban_valide == (sepa.valid_iban(p.iban) is not None) for p in payments)
    Payment.objects.filter(pk=payments[0].pk).update(iban="FR00 INVALIDE", iban_valide=False)
    missing = Payment.objects.filter(run=run, iban_valide=False).count()
    assert f"{missing} sans IBAN valide" in client.get(reverse("claims:payments")).content.decode()


def test_payments_made_before_the_iban_check_get_it_from_their_migration(liquidated: dict[str, Any]) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("caisse.claims.migrations.0003_payment_iban_valide")
    payments = list(Payment.objects.all())
    assert payments
    Payment.objects.update(iban_valide=False, iban="FR76 0000 INVALIDE")
    Payment.objects.filter(pk=payments[0].pk).update(iban="FR7630006000011234567890189")  # a valid example
    migration.check_stored_ibans(apps, None)
    assert Payment.objects.get(pk=payments[0].pk).iban_valide
    for p in Payment.objects.all():
        assert p.iban_valide == (sepa.valid_iban(p.iban) is not None)


def test_the_assure_sees_their_payments_and_downloads_their_statement(make_user: Any, liquidated: dict[str, Any]) -> None:
    person, feuille = liquidated["person"], liquidated["feuille"]
    client = _client(make_user(Role.ASSURE, beneficiary=person))
    home = client.get(reverse("web:member_home")).content.decode()
    assert reverse("mes_soins:remboursements") in home
    page = client.get(reverse("mes_soins:remboursements"))
    assert page.status_code == 200
    text = page.content.decode()
    paid = feuille.date_paiement
    pdf_url = reverse("mes_soins:decompte", args=[paid.isoformat()])
    assert f"{paid:%d/%m/%Y}" in text and pdf_url in text
    assert euros(feuille.decompte["paiement_assure_cts"]) in text and "papier" in text
    assert AuditEvent.objects.filter(beneficiary=person, action=AuditAction.READ,
                                     summary__contains="mes remboursements").exists()
    if pdf_available()[0]:  # Pango present (a PDF otherwise answers 503, tested apart)
        response = client.get(pdf_url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert AuditEvent.objects.filter(beneficiary=person, action=AuditAction.DOWNLOAD,
                                         summary__contains="espace en ligne").exists()
    assert client.get(reverse("mes_soins:decompte", args=["2001-01-01"])).status_code == 404
    assert client.get(reverse("mes_soins:decompte", args=["pas-une-date"])).status_code == 404
    # An agent has the back-office; the online page is the assuré's own.
    assert liquidated["client"].get(reverse("mes_soins:remboursements")).status_code == 403


def test_the_professional_checks_a_patients_rights_and_reads_their_return(make_user: Any,
                                                                       liquidated: dict[str, Any]) -> None:
    from caisse.professionals.models import HealthProfessional

    gp = HealthProfessional.objects.get(identifiant=liquidated["ps"])
    user = make_user(Role.PROFESSIONNEL, professional=gp)
    client = _client(user)
    assert client.get(reverse("web:home"))["Location"] == reverse("espace_ps:accueil")
    page = client.get(reverse("espace_ps:accueil"))
    html = page.content.decode()
    # The return on the professional's feuilles: the transfer of the captured feuille (tiers payant or not).
    assert page.status_code == 200 and "Paiements reçus" in html and "Feuilles rejetées" in html
    payments = Payment.objects.filter(identifiant_beneficiaire=gp.identifiant)
    for p in payments:
        assert f"{p.date_paiement:%d/%m/%Y}" in html

    person = liquidated["person"]
    spaced = " ".join((person.nir[:1], person.nir[1:3], person.nir[3:]))
    found = client.get(reverse("espace_ps:accueil"), {"nir": spaced, "date": timezone.localdate().isoformat()})
    text = found.content.decode()
    assert found.status_code == 200 and person.nom_affiche in text and "Ouverts" in text
    assert "Exonération ALD du" not in text and "Tiers payant obligatoire" in text  # no ALD period, no diagnosis
    assert AuditEvent.objects.filter(beneficiary=person, action=AuditAction.READ,
                                     summary__contains="professionnel de santé").count() == 1

    from caisse.rules.claims.tests.test_scenarios import with_key

    unknown = client.get(reverse("espace_ps:accueil"), {"nir": with_key("1800175000999")})
    assert unknown.status_code == 200 and "Aucun assuré de la caisse" in unknown.content.decode()
    bad = client.get(reverse("espace_ps:accueil"), {"nir": "123"})
    assert bad.status_code == 400 and "La consultation est impossible" in bad.content.decode()

    # Other roles have their own spaces.
    assert liquidated["client"].get(reverse("espace_ps:accueil")).status_code == 403
    assure = _client(make_user(Role.ASSURE, beneficiary=person))
    assert assure.get(reverse("espace_ps:accueil")).status_code == 403


def test_anonymous_is_sent_to_sign_in(liquidated: dict[str, Any]) -> None:
    response = Client().get(reverse("claims:queue"))
    assert response.status_code == 302 and "connexion" in response["Location"]


def test_beneficiary_page_lists_the_feuilles_and_the_statement_pdf(liquidated: dict[str, Any]) -> None:
    client, person, feuille = liquidated["client"], liquidated["person"], liquidated["feuille"]
    page = client.get(reverse("claims:beneficiary", args=[person.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and feuille.identifiant in html and "Liquidée" in html
    url = reverse("claims:statement", args=[person.pk, feuille.date_paiement.isoformat()])
    assert url in html
    assert AuditEvent.objects.filter(action=AuditAction.READ, beneficiary=person).exists()

    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert_accessible_pdf(response.content)
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, beneficiary=person,
                                     summary__startswith="Décompte de remboursement").count() == 1
    assert client.get(reverse("claims:statement", args=[person.pk, "2001-01-01"])).status_code == 404
    assert client.get(reverse("claims:statement", args=[person.pk, "pas-une-date"])).status_code == 404


def test_statement_html_shows_lines_amounts_and_explanation(liquidated: dict[str, Any]) -> None:
    from caisse.claims.documents import render_statement_html

    feuille = liquidated["feuille"]
    html = render_statement_html(liquidated["person"], feuille.date_paiement)
    line = feuille.decompte["lignes"][0]
    assert "Décompte de remboursement de frais de santé" in html
    assert f"{line['taux']}\u00a0%" in html and "Participation forfaitaire" in html and "Franchise" in html
    assert feuille.decompte["explication"][:40] in html.replace("&#x27;", "'")


def test_professional_return_lists_payments_and_rejections(referentiel: dict[str, Any], liquidateur: Any) -> None:
    client = _client(liquidateur)
    assert client.post(reverse("claims:capture"), _post(referentiel, tiers_payant="on")).status_code == 302
    old = (timezone.localdate() - dt.timedelta(days=800)).isoformat()
    # A feuille the engine rejects (care more than two years before reception): PRESCRIPTION.
    assert client.post(reverse("claims:capture"), _post(referentiel, l1_date_soins=old)).status_code == 302
    # A liquidated feuille with one line rejected: only its rejected line is listed.
    care = (timezone.localdate() - dt.timedelta(days=9)).isoformat()
    assert client.post(reverse("claims:capture"), _post(
        referentiel, l2_code="G", l2_date_soins=old, l2_quantite="1", l2_coefficient="1", l2_montant="30,00",
        l1_date_soins=care)).status_code == 302
    services.daily_run(today=timezone.localdate(), quiet=True)
    page = client.get(reverse("claims:professional", args=[referentiel["ps"]]))
    html = page.content.decode()
    assert page.status_code == 200 and "Paiements reçus" in html
    assert timezone.localdate().strftime("%d/%m/%Y") in html
    rejected = Feuille.objects.get(statut=FeuilleStatus.REJETEE)
    assert rejected.identifiant in html and "<code>PRESCRIPTION</code>" in html
    assert "Soins reçus plus de deux ans après le premier jour du trimestre suivant leur date" in html
    partial = html.split('id="lignes-rejetees"', 1)[1]
    mixed = next(f for f in Feuille.objects.filter(statut=FeuilleStatus.LIQUIDEE)
                 if any(line.get("rejets") for line in f.decompte["lignes"]))
    assert mixed.identifiant in partial and "<code>PRESCRIPTION</code>" in partial
    others = Feuille.objects.filter(statut=FeuilleStatus.LIQUIDEE).exclude(pk=mixed.pk)
    assert others.exists() and all(f.identifiant not in partial for f in others)
    assert client.get(reverse("claims:professional", args=["00000000000"])).status_code == 404


def test_delays_page_shows_a_table_and_a_chart(liquidated: dict[str, Any], manager: Any) -> None:
    response = _client(manager).get(reverse("claims:delays"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'aria-hidden="true"' in html and "<figcaption" in html
    month = documents.month_label(liquidated["feuille"].date_paiement.strftime("%Y-%m"))  # "décembre 2026"
    assert f'<th scope="row">{month}</th>' in html and "FSP" in html
    assert "9e décile 3 jours" in html  # the text alternative
    bad = _client(manager).get(reverse("claims:delays"), {"du": "2026-12-01", "au": "2026-01-01"})
    assert bad.status_code == 400 and "précède son début" in bad.content.decode()


def test_every_screen_passes_the_structural_accessibility_checks(liquidated: dict[str, Any]) -> None:
    from caisse.web.tests.test_accessibility import check_page

    client, person = liquidated["client"], liquidated["person"]
    for url in (reverse("claims:queue"), reverse("claims:capture"), reverse("claims:delays"),
                reverse("claims:beneficiary", args=[person.pk]), reverse("claims:professional", args=[liquidated["ps"]])):
        response = client.get(url)
        assert response.status_code == 200, url
        check_page(response.content.decode())
    check_page(client.post(reverse("claims:capture"), {"nir": "1"}).content.decode())


def test_a_captured_feuille_is_stored_as_receive_flow_stores_the_same_record(
    referentiel: dict[str, Any], liquidateur: Any, tmp_path: Any,
) -> None:
    assert _client(liquidateur).post(reverse("claims:capture"), _post(referentiel, prescripteur=referentiel["ps"],
                                                                        l2_code="G", l2_date_soins="2025-01-10",
                                                                        l2_montant="26,5", l2_coefficient="1,5",
                                                                        l2_quantite="2")).status_code == 302
    captured = Feuille.objects.get()
    flow = tmp_path / "flux.ndjson"
    flow.write_text(json.dumps({**captured.enregistrement, "id": "FLUX-1"}) + "\n", encoding="utf-8")
    services.receive_flow(flow, quiet=True)
    received = Feuille.objects.get(identifiant="FLUX-1")
    fields = ("type", "date_reception", "nir", "executant", "invalide", "lignes_invalides", "erreur", "statut", "position")
    assert [getattr(captured, f) for f in fields] == [getattr(received, f) for f in fields]
    assert {**captured.enregistrement, "id": "FLUX-1"} == received.enregistrement
    assert captured.enregistrement["lignes"][1] == {"code": "G", "date_soins": "2025-01-10", "quantite": 2,
                                                    "coefficient": 1.5, "montant_facture_cts": 2650}


def test_capture_ids_take_the_next_free_rank_of_the_day(referentiel: dict[str, Any], liquidateur: Any) -> None:
    day = dt.date(2026, 3, 2)
    paper = capture.PaperFeuille(
        nir=referentiel["nir"], executant=referentiel["ps"], prescripteur=None, tiers_payant=False, risque="maladie",
        parcours="medecin_traitant", en_rapport_ald=False, date_reception=day,
        lignes=(capture.PaperLine("G", day, 1, 1.0, 3000),),
    )
    first = capture.capture_feuille(paper, by=liquidateur, today=day)
    assert first.identifiant == "FSP-20260302-1"
    Feuille.objects.filter(pk=first.pk).update(identifiant="FSP-20260302-7")
    assert capture.capture_feuille(paper, by=liquidateur, today=day).identifiant == "FSP-20260302-8"
    assert capture.capture_feuille(paper, by=liquidateur, today=day + dt.timedelta(days=1)).identifiant == "FSP-20260303-1"
    assert capture.captured_pending().count() == 3


def test_a_capture_that_loses_the_race_for_an_id_retries_with_the_next(
    referentiel: dict[str, Any], liquidateur: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    day = dt.date(2026, 3, 2)
    paper = capture.PaperFeuille(
        nir=referentiel["nir"], executant=referentiel["ps"], prescripteur=None, tiers_payant=False, risque="maladie",
        parcours="medecin_traitant", en_rapport_ald=False, date_reception=day,
        lignes=(capture.PaperLine("G", day, 1, 1.0, 3000),),
    )
    capture.capture_feuille(paper, by=liquidateur, today=day)
    monkeypatch.setattr(capture, "_next_rank", lambda day: 1)  # another agent's capture was not seen
    assert capture.capture_feuille(paper, by=liquidateur, today=day).identifiant == "FSP-20260302-2"
    assert Feuille.objects.count() == FlowReception.objects.count() == 2
