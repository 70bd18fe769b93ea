"""IJ back-office screens: who may see them, forms that refuse bad input in French, documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.allowances import documents, services
from caisse.allowances.models import Arret, AttestationSalaire, DossierIJ, PaiementIJ
from caisse.allowances.tests.helpers import arret, certificate, employer, months_before
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.core.models import AuditAction, AuditEvent
from caisse.core.tests.pdfs import assert_accessible_pdf

pytestmark = [pytest.mark.django_db, pytest.mark.urls("caisse.allowances.tests.urls")]

D = dt.date


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ij(make_user: Any) -> Any:
    """Nadia, gestionnaire IJ: enters paper arrêts and certificates, computes and pays."""
    return make_user(Role.GESTIONNAIRE_IJ, username="nadia")


@pytest.fixture
def manager(make_user: Any) -> Any:
    """Marc, manager: follows the queue and the delays, reads the files."""
    return make_user(Role.MANAGER, username="marc")


@pytest.fixture
def paid_file() -> DossierIJ:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 4, 10))
    certificate(a, employer=employer("Boulangerie Dupain"), subrogation=True,
                subrogation_debut=D(2025, 3, 1), subrogation_fin=D(2025, 3, 31))
    services.payer(jusqu_au=D(2025, 3, 31), date_paiement=D(2025, 4, 2))
    return DossierIJ.objects.get(pk=a.dossier_id)


@pytest.mark.parametrize("role", [Role.ACCUEIL, Role.LIQUIDATEUR, Role.GESTIONNAIRE_DROITS, Role.MEDECIN_CONSEIL,
                                  Role.ASSURE, Role.EMPLOYEUR, Role.ADMIN])
def test_other_roles_are_refused(make_user: Any, role: str, paid_file: DossierIJ) -> None:
    extra = {"beneficiary": paid_file.beneficiaire} if role == Role.ASSURE else {}
    client = _client(make_user(role, **extra))
    for url in (reverse("allowances:queue"), reverse("allowances:dossier", args=[paid_file.pk]),
                reverse("allowances:delais"), reverse("allowances:releve", args=[paid_file.pk])):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_the_login_page() -> None:
    response = Client().get(reverse("allowances:queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_a_manager_reads_but_cannot_act(manager: Any, paid_file: DossierIJ) -> None:
    client = _client(manager)
    assert client.get(reverse("allowances:queue")).status_code == 200
    assert client.get(reverse("allowances:dossier", args=[paid_file.pk])).status_code == 200
    assert client.get(reverse("allowances:delais")).status_code == 200
    assert client.get(reverse("allowances:arret_papier")).status_code == 403
    assert client.post(reverse("allowances:calculer", args=[paid_file.pk])).status_code == 403
    assert client.get(reverse("allowances:payer", args=[paid_file.pk])).status_code == 403


def test_the_queue_shows_waiting_files_with_their_age(ij: Any) -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20), date_reception=D(2025, 3, 4))
    page = _client(ij).get(reverse("allowances:queue")).content.decode()
    assert f"n° {a.dossier_id}" in page
    assert "Attestation de salaire de l&#x27;employeur" in page
    assert str((dt.date.today() - D(2025, 3, 4)).days) in page


def test_the_file_page_shows_arrets_certificate_periods_and_payments(ij: Any, paid_file: DossierIJ) -> None:
    page = _client(ij).get(reverse("allowances:dossier", args=[paid_file.pk])).content.decode()
    assert "Arrêt initial" in page and "Boulangerie Dupain" in page
    assert "Employeur subrogé" in page and "Payée le 02/04/2025" in page and "À payer" in page
    assert AuditEvent.objects.filter(beneficiary=paid_file.beneficiaire, action=AuditAction.READ).exists()


def test_entering_a_paper_arret_then_its_certificate(ij: Any) -> None:
    person = BeneficiaryFactory()
    boss = employer()
    client = _client(ij)
    response = client.post(reverse("allowances:arret_papier"), {
        "identifiant": "CERFA-1", "nir": person.nir, "risque": "maladie", "date_debut": "2025-03-03",
        "date_fin": "2025-03-20", "date_reception": "2025-03-05", "volet_complet": "on", "siret": boss.siret,
    })
    assert response.status_code == 302
    a = Arret.objects.get(identifiant_externe="CERFA-1")
    assert a.canal == "papier" and a.employeur == boss
    months = months_before(a.date_debut)
    data = {"siret": boss.siret, "date_reception": "2025-03-10", "heures_0": "151,67"}
    data.update({f"brut_{k}": "2 300,00".replace(" ", "") for k in range(12)})
    response = client.post(reverse("allowances:attestation_salaire", args=[a.dossier_id]), data)
    assert response.status_code == 302, response.content.decode()
    att = AttestationSalaire.objects.get()
    assert att.lignes.count() == 12 and att.lignes.get(mois=months[0]).brut_cts == 230_000
    assert DossierIJ.objects.get(pk=a.dossier_id).statut == "calcule"
    response = client.post(reverse("allowances:payer", args=[a.dossier_id]),
                           {"jusqu_au": "2025-03-20", "date_paiement": "2025-03-25"})
    assert response.status_code == 302 and PaiementIJ.objects.count() == 1
    client.post(reverse("allowances:payer", args=[a.dossier_id]), {"jusqu_au": "2025-03-20", "date_paiement": "2025-03-25"})
    assert PaiementIJ.objects.count() == 1


def test_bad_input_is_refused_in_clear_french(ij: Any) -> None:
    client = _client(ij)
    response = client.post(reverse("allowances:arret_papier"), {
        "identifiant": "CERFA-2", "nir": "123", "risque": "maternite", "date_debut": "2025-03-20",
        "date_fin": "2025-03-03", "date_reception": "2025-03-05",
    })
    page = response.content.decode()
    assert response.status_code == 400
    assert "Le dernier jour d&#x27;arrêt précède le premier jour." in page
    assert "La date d&#x27;accouchement est obligatoire" in page
    assert 'aria-invalid="true"' in page
    person = BeneficiaryFactory()
    response = client.post(reverse("allowances:arret_papier"), {
        "identifiant": "CERFA-3", "nir": person.nir[:-1] + ("0" if person.nir[-1] != "0" else "1"),
        "risque": "maladie", "date_debut": "2025-03-03", "date_fin": "2025-03-20", "date_reception": "2025-03-05",
    })
    assert "Aucun assuré n&#x27;est immatriculé avec ce NIR." in response.content.decode()
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    response = client.post(reverse("allowances:attestation_salaire", args=[a.dossier_id]), {
        "siret": "123", "date_reception": "2025-03-10", "brut_0": "-5", "subrogation": "on",
    })
    page = response.content.decode()
    assert response.status_code == 400
    assert "Indiquez le début du maintien de salaire." in page
    assert "Aucun employeur" not in page  # field errors first: the SIRET is not looked up
    response = client.post(reverse("allowances:payer", args=[a.dossier_id]),
                           {"jusqu_au": "2025-04-30", "date_paiement": "2025-04-01"})
    assert "On ne paie pas de jour postérieur à la date de paiement." in response.content.decode()


def test_the_delays_page_compares_with_the_targets(manager: Any, paid_file: DossierIJ) -> None:
    page = _client(manager).get(reverse("allowances:delais"), {"du": "2025-04-01", "au": "2025-04-30"}).content.decode()
    assert "2025-04" in page and "Employeur subrogé" in page and "50 j" in page


pdf_ok, pdf_reason = documents.pdf_available()


@pytest.mark.skipif(not pdf_ok, reason=pdf_reason)
def test_the_releve_and_the_attestation_are_pdfs(ij: Any, paid_file: DossierIJ) -> None:
    client = _client(ij)
    response = client.get(reverse("allowances:releve", args=[paid_file.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    response = client.get(reverse("allowances:attestation", args=[paid_file.beneficiaire_id]),
                          {"du": "2025-03-01", "au": "2025-03-31"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert_accessible_pdf(response.content)
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, beneficiary=paid_file.beneficiaire).count() == 2


def test_the_documents_state_the_paid_amounts(paid_file: DossierIJ) -> None:
    paid = PaiementIJ.objects.get()
    html = documents.render_releve_html(paid_file)
    assert "Relevé d&#x27;indemnités journalières" in html or "Relevé d'indemnités journalières" in html
    assert "Employeur (Boulangerie Dupain)" in html
    # Paid on 02/04/2025 for the days of March: the attestation of April lists them, whole.
    attestation = documents.render_attestation_html(paid_file.beneficiaire, D(2025, 4, 1), D(2025, 4, 30))
    context = documents.attestation_context(paid_file.beneficiaire, D(2025, 4, 1), D(2025, 4, 30))
    assert context["jours"] == 26 and context["total_cts"] == paid.montant_cts
    assert "Période du 01/04/2025 au 30/04/2025" in attestation
    assert "Payé le" in attestation and "<td>02/04/2025</td>" in attestation
    # The days of leave of March were not paid in March.
    march = documents.attestation_context(paid_file.beneficiaire, D(2025, 3, 1), D(2025, 3, 31))
    assert march["periodes"] == [] and march["total_cts"] == 0


def test_the_attestation_lists_what_was_paid_in_the_period_by_date_of_payment() -> None:
    """For income tax, IJ count in the year they are paid: December 2025 days paid on 05/01/2026
    belong to the 2026 attestation, not to the 2025 one."""
    person = BeneficiaryFactory()
    a = arret(person, debut=D(2025, 12, 1), fin=D(2025, 12, 31))
    certificate(a)
    services.payer(jusqu_au=D(2025, 12, 31), date_paiement=D(2026, 1, 5))
    paid = PaiementIJ.objects.get(beneficiaire=person)
    in_2025 = documents.attestation_context(person, D(2025, 1, 1), D(2025, 12, 31))
    in_2026 = documents.attestation_context(person, D(2026, 1, 1), D(2026, 12, 31))
    assert in_2025["periodes"] == [] and in_2025["total_cts"] == 0
    assert in_2026["total_cts"] == paid.montant_cts > 0
    assert [(p.debut, p.fin) for p in in_2026["periodes"]] == [(D(2025, 12, 4), D(2025, 12, 31))]
    html = documents.render_attestation_html(person, D(2026, 1, 1), D(2026, 12, 31))
    assert "<td>05/01/2026</td><td>Maladie</td><td>04/12/2025</td><td>31/12/2025</td>" in html
    assert "Aucune indemnité journalière payée" in documents.render_attestation_html(
        person, D(2025, 1, 1), D(2025, 12, 31))


def test_the_documents_elide_de_before_a_vowel() -> None:
    aicha = BeneficiaryFactory(prenom="Aïcha", nom="Benali")
    lea = BeneficiaryFactory(prenom="Léa", nom="Durand")
    title = documents.render_attestation_html(aicha, D(2025, 1, 1), D(2025, 12, 31)).replace("&#x27;", "'")
    assert "indemnités journalières d'Aïcha Benali</title>" in title
    title = documents.render_attestation_html(lea, D(2025, 1, 1), D(2025, 12, 31))
    assert "indemnités journalières de Léa Durand</title>" in title
    dossier = DossierIJ.objects.get(pk=arret(aicha, debut=D(2025, 3, 3), fin=D(2025, 3, 20)).dossier_id)
    assert "Relevé d'indemnités journalières d'Aïcha Benali</title>" in (
        documents.render_releve_html(dossier).replace("&#x27;", "'"))


def test_the_attestation_period_is_checked(ij: Any, paid_file: DossierIJ) -> None:
    response = _client(ij).get(reverse("allowances:attestation", args=[paid_file.beneficiaire_id]),
                               {"du": "2025-03-31", "au": "2025-03-01"})
    assert response.status_code == 400
    assert "La fin de la période précède son début." in response.content.decode()


def test_a_capital_deces_claim_is_entered_and_decided(ij: Any, manager: Any) -> None:
    from caisse.allowances.models import DemandeCapitalDeces

    defunt = BeneficiaryFactory(date_deces=D(2025, 6, 1))
    client = _client(ij)
    response = client.post(reverse("allowances:capital_deces_new"), {
        "nir": defunt.nir, "date_demande": "2025-06-20", "condition_activite": "on",
        "nom_1": "Alex Martin", "lien_1": "conjoint", "nom_2": "Sam Martin", "lien_2": "enfant",
        "a_charge_2": "on", "priorite_2": "2025-06-15",
    })
    assert response.status_code == 302
    demande = DemandeCapitalDeces.objects.get()
    assert client.post(reverse("allowances:capital_deces_decider", args=[demande.pk])).status_code == 302
    demande.refresh_from_db()
    assert demande.statut == "accordee" and demande.rang_servi == "prioritaires"
    page = _client(manager).get(reverse("allowances:capital_deces", args=[demande.pk])).content.decode()
    assert "Sam Martin" in page and "Accordée" in page
    assert _client(manager).post(reverse("allowances:capital_deces_decider", args=[demande.pk])).status_code == 403
    response = client.post(reverse("allowances:capital_deces_new"), {
        "nir": defunt.nir, "date_demande": "2025-06-20", "nom_1": "X", "priorite_1": "2025-06-10",
    })
    page = response.content.decode()
    assert response.status_code == 400
    assert "Indiquez le lien avec le défunt." in page
    assert "Seule une personne à la charge du défunt peut demander la priorité." in page
