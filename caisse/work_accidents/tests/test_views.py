"""Back-office screens: who may open them, what they show, how they refuse bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.accounts.tests.factories import PASSWORD
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.core.models import AuditAction, AuditEvent
from caisse.core.tests.pdfs import assert_accessible_pdf
from caisse.work_accidents import services
from caisse.work_accidents.documents import decision_letter_html, pdf_available, questionnaire_letter_html
from caisse.work_accidents.enums import CaseKind, CaseStatus, Declarant, Recipient
from caisse.work_accidents.models import Case
from caisse.work_accidents.tests.factories import EmployerFactory

pytestmark = pytest.mark.django_db

D = dt.date


def _client(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _case(by: Any, **kwargs: Any) -> Case:
    case = services.declare(
        by=by, kind=CaseKind.AT, declarant=Declarant.EMPLOYEUR, victim=BeneficiaryFactory(), employer=EmployerFactory(),
        date_evenement=D(2026, 6, 5), date_declaration=D(2026, 6, 8), date_reception=D(2026, 6, 8),
    )
    services.record_initial_certificate(case, by=by, date_etablissement=D(2026, 6, 5), date_reception=D(2026, 6, 12),
                                        lesions="Fracture du poignet gauche")
    return case


@pytest.mark.parametrize("role", [Role.ACCUEIL, Role.GESTIONNAIRE_DROITS, Role.LIQUIDATEUR, Role.GESTIONNAIRE_IJ,
                                  Role.MEDECIN_CONSEIL, Role.ENQUETEUR, Role.ADMIN, Role.ASSURE, Role.EMPLOYEUR])
def test_only_the_atmp_team_and_managers_open_the_screens(make_user: Any, agent_atmp: Any, role: str) -> None:
    case = _case(agent_atmp)
    extra = {"beneficiary": BeneficiaryFactory()} if role == Role.ASSURE else {}
    client = _client(make_user(role, **extra))
    for url in (reverse("work_accidents:queue"), reverse("work_accidents:case", args=[case.pk]),
                reverse("work_accidents:decide", args=[case.pk]), reverse("work_accidents:indicators")):
        assert client.get(url).status_code == 403, url
    assert not AuditEvent.objects.filter(action=AuditAction.READ, object_type="dossier AT/MP").exists()


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    response = Client().get(reverse("work_accidents:queue"))
    assert response.status_code == 302 and "next=" in response["Location"]


def test_manager_sees_the_queue_sorted_by_nearest_deadline(agent_atmp: Any, manager: Any) -> None:
    later = _case(agent_atmp)
    services.open_investigation(later, by=agent_atmp, when=D(2026, 6, 20))  # decision 10/09/2026
    sooner = _case(agent_atmp)  # decision 13/07/2026
    services.flag_deadlines(D(2026, 7, 10))
    response = _client(manager).get(reverse("work_accidents:queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(f"n° {sooner.pk}<") < body.index(f"n° {later.pk}<")
    assert "13/07/2026" in body and "1 dossier ont une échéance proche" in body
    flagged = _client(manager).get(reverse("work_accidents:queue") + "?signales=1").content.decode()
    assert f"n° {later.pk}<" not in flagged and f"n° {sooner.pk}<" in flagged


def test_case_page_shows_deadlines_timeline_and_records_the_read(agent_atmp: Any) -> None:
    case = _case(agent_atmp)
    response = _client(agent_atmp).get(reverse("work_accidents:case", args=[case.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Décision ou ouverture d&#x27;une enquête" in body and "13/07/2026" in body and "R441-7 CSS" in body
    assert "Enregistrer le certificat médical initial" in body  # in the timeline
    assert AuditEvent.objects.filter(action=AuditAction.READ, beneficiary=case.declaration.victim,
                                     actor=agent_atmp).exists()


def test_declaration_form_refuses_bad_input_in_french(agent_atmp: Any) -> None:
    client = _client(agent_atmp)
    response = client.post(reverse("work_accidents:declare"), {
        "kind": CaseKind.AT, "declarant": Declarant.EMPLOYEUR, "channel": "edat", "nir": "1234",
        "siret": "12345678901234", "date_evenement": "2026-06-10", "date_declaration": "2026-06-08",
        "date_reception": "2026-06-08",
    })
    body = response.content.decode()
    assert response.status_code == 200
    assert "Le NIR compte 15 caractères" in body
    assert "SIRET" in body and "aria-invalid" in body
    assert "La déclaration ne peut pas précéder l&#x27;accident" in body
    assert not Case.objects.exists()


def test_declaration_form_opens_a_case(agent_atmp: Any) -> None:
    victim = BeneficiaryFactory()
    employer = EmployerFactory()
    response = _client(agent_atmp).post(reverse("work_accidents:declare"), {
        "kind": CaseKind.TRAJET, "declarant": Declarant.EMPLOYEUR, "channel": "edat", "nir": victim.nir,
        "siret": employer.siret, "date_evenement": "2026-06-05", "date_declaration": "2026-06-08",
        "date_reception": "2026-06-08", "circonstances": "Chute à vélo sur le trajet.",
    })
    assert response.status_code == 302, response.content.decode()[-3000:]
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("work_accidents:case", args=[case.pk])
    assert case.declaration.kind == CaseKind.TRAJET and case.declaration.victim == victim


def test_late_reserves_are_refused_on_the_form(agent_atmp: Any) -> None:
    case = _case(agent_atmp)
    response = _client(agent_atmp).post(reverse("work_accidents:record_reserves", args=[case.pk]), {
        "date_reception": "2026-06-19", "motifs": "Le salarié n'était pas à son poste.",
    })
    assert response.status_code == 200
    assert "Réserves hors délai" in response.content.decode()
    assert not case.reserves.exists()


def test_a_refusal_without_reason_is_refused_on_the_form(agent_atmp: Any) -> None:
    case = _case(agent_atmp)
    response = _client(agent_atmp).post(reverse("work_accidents:decide", args=[case.pk]),
                                        {"when": "2026-06-20", "decision": "refuse", "reason": ""})
    assert "Un refus doit être motivé" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.INSTRUCTION


def test_letters_keep_medical_data_away_from_the_employer(agent_atmp: Any) -> None:
    case = _case(agent_atmp)
    services.open_investigation(case, by=agent_atmp, when=D(2026, 6, 20))
    employer_q, _ = services.send_questionnaires(case, by=agent_atmp, when=D(2026, 7, 1))
    letter = questionnaire_letter_html(employer_q)
    assert "21/07/2026" in letter and "R441-8" in letter and "Fracture" not in letter
    services.open_consultation(case, by=agent_atmp, when=D(2026, 7, 22))
    services.decide(case, by=agent_atmp, when=D(2026, 8, 10), recognised=False, motif="Absence de fait accidentel.")
    for recipient in Recipient:
        html = decision_letter_html(case, recipient)
        assert "n'est pas pris en charge" in html and "Absence de fait accidentel." in html
        assert "Fracture" not in html and "deux mois" in html


def test_decision_letter_is_a_pdf_once_decided(agent_atmp: Any) -> None:
    available, reason = pdf_available()
    if not available:
        pytest.skip(reason)
    case = _case(agent_atmp)
    client = _client(agent_atmp)
    url = reverse("work_accidents:decision_letter", args=[case.pk, "victime"])
    assert client.get(url).status_code == 302  # not decided yet
    services.decide(case, by=agent_atmp, when=D(2026, 6, 20), recognised=True)
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert_accessible_pdf(response.content)
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, beneficiary=case.declaration.victim).exists()


def test_indicators_page(agent_atmp: Any, manager: Any) -> None:
    case = _case(agent_atmp)
    services.decide(case, by=agent_atmp, when=D(2026, 6, 20), recognised=True)
    response = _client(manager).get(reverse("work_accidents:indicators") + "?year=2026")
    body = response.content.decode()
    assert response.status_code == 200 and "Accident du travail" in body and "100,0 %" in body
    assert "Saisissez un nombre" not in body
    bad = _client(manager).get(reverse("work_accidents:indicators") + "?year=abc")
    assert bad.status_code == 200 and "Saisissez un nombre entier" in bad.content.decode()


def test_an_investigation_through_the_screens(agent_atmp: Any) -> None:
    case = _case(agent_atmp)
    client = _client(agent_atmp)

    def post(name: str, data: dict[str, str], *args: Any) -> Any:
        url = reverse(f"work_accidents:{name}", args=[case.pk, *args])
        assert client.get(url).status_code == 200
        response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[-2000:]
        return response

    post("record_reserves", {"date_reception": "2026-06-15", "motifs": "Aucun témoin de l'accident."})
    page = client.get(reverse("work_accidents:case", args=[case.pk])).content.decode()
    assert "Enquête obligatoire" in page
    post("open_investigation", {"when": "2026-06-20", "reason": "Réserves"})
    post("send_questionnaires", {"when": "2026-07-01"})
    for questionnaire in case.questionnaires.all():
        post("questionnaire_return", {"date_retour": "2026-07-15"}, questionnaire.pk)
    post("open_consultation", {"when": "2026-07-22"})
    post("decide", {"when": "2026-08-04", "decision": "refuse", "reason": "Matérialité non établie."})
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUSE
    assert case.transitions.count() == 9
    page = client.get(reverse("work_accidents:case", args=[case.pk])).content.decode()
    assert "Matérialité non établie." in page and "Courrier de décision — employeur (PDF)" in page


def test_a_step_not_allowed_now_is_explained_on_the_form(agent_atmp: Any) -> None:
    case = _case(agent_atmp)
    response = _client(agent_atmp).post(reverse("work_accidents:open_consultation", args=[case.pk]),
                                        {"when": "2026-06-20"})
    assert response.status_code == 200
    assert "impossible : le dossier est à l&#x27;état « En instruction »" in response.content.decode()


def test_an_occupational_disease_goes_to_the_crrmp_through_the_screen(agent_atmp: Any) -> None:
    case = services.declare(
        by=agent_atmp, kind=CaseKind.MP, declarant=Declarant.VICTIME, victim=BeneficiaryFactory(),
        employer=EmployerFactory(), date_evenement=D(2026, 1, 20), date_declaration=D(2026, 2, 2),
        date_reception=D(2026, 2, 3),
    )
    client = _client(agent_atmp)
    page = client.get(reverse("work_accidents:case", args=[case.pk]))
    assert page.status_code == 200 and "Enregistrer des réserves" not in page.content.decode()  # none on a first MP
    services.record_initial_certificate(case, by=agent_atmp, date_etablissement=D(2026, 1, 20),
                                        date_reception=D(2026, 2, 3))
    missing = client.post(reverse("work_accidents:refer_crrmp", args=[case.pk]), {"when": "2026-05-29", "reason": ""})
    assert "Ce champ est obligatoire" in missing.content.decode()
    response = client.post(reverse("work_accidents:refer_crrmp", args=[case.pk]),
                           {"when": "2026-05-29", "reason": "Maladie hors tableau, IP prévisible ≥ 25 %"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CRRMP and case.date_limite_decision == D(2026, 9, 28)


def test_radio_buttons_are_grouped_under_their_question(agent_atmp: Any) -> None:
    response = _client(agent_atmp).post(reverse("work_accidents:declare"), {"nir": ""})
    body = response.content.decode()
    assert "<legend><strong>Nature</strong></legend>" in body
    assert 'href="#id_kind_0"' in body and 'id="id_kind_0"' in body
