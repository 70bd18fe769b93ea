"""Online spaces: the assuré's IJ and AT/MP, the employer's e-DAT, salary certificate and IJ
paid under subrogation. Each page per role; only one's own data; forms that refuse in French;
downloads recorded in the audit trail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from caisse.accounts.models import Role
from caisse.allowances import online, services
from caisse.allowances.models import AttestationSalaire, DossierIJ, StatutDossier
from caisse.allowances.tests.helpers import arret, certificate, employer
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.core.models import AuditAction, AuditEvent
from caisse.work_accidents import services as atmp
from caisse.work_accidents.enums import CaseKind, Declarant
from caisse.work_accidents.models import Case, Declaration

# This module is its own URL map: the shared pages and the online spaces only, so that the tests
# do not depend on applications still being written next door.
urlpatterns = [
    path("", include("caisse.web.urls")),
    path("", include("caisse.accounts.urls")),
    path("beneficiaires/", include("caisse.beneficiaries.urls")),
    path("", include("caisse.rights.urls")),
    path("professionnels/", include("caisse.professionals.urls")),
    path("en-ligne/", include("caisse.allowances.online_urls")),
]
handler403 = "caisse.web.views.permission_denied"

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

D = dt.date
FAKE_PDF = b"%PDF-1.7 test"
LESIONS = "Fracture du poignet gauche"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _fake_pdf(monkeypatch: Any) -> None:
    """The PDF layout is tested with the documents; here only who may download, and the trace."""
    monkeypatch.setattr(online, "render_releve_pdf", lambda dossier: FAKE_PDF)
    monkeypatch.setattr(online, "render_attestation_pdf", lambda person, du, au: FAKE_PDF)


@pytest.fixture
def boulangerie() -> Any:
    return employer("Boulangerie Dupain")


@pytest.fixture
def garage() -> Any:
    return employer("Garage du Centre")


@pytest.fixture
def lea(boulangerie: Any) -> Any:
    """Léa, salariée de la boulangerie: one arrêt, paid partly to her employer (subrogation)."""
    person = BeneficiaryFactory(prenom="Léa", nom="Durand")
    a = arret(person, debut=D(2025, 3, 3), fin=D(2025, 4, 10), employeur=boulangerie)
    certificate(a, employer=boulangerie, subrogation=True, subrogation_debut=D(2025, 3, 1),
                subrogation_fin=D(2025, 3, 20))
    services.payer(jusqu_au=D(2025, 3, 31), date_paiement=D(2025, 4, 2))
    return person


@pytest.fixture
def hugo(garage: Any) -> Any:
    """Hugo, salarié du garage: another person, another employer."""
    person = BeneficiaryFactory(prenom="Hugo", nom="Bernard", sexe="M")
    a = arret(person, debut=D(2025, 5, 5), fin=D(2025, 5, 30), employeur=garage)
    certificate(a, employer=garage, subrogation=True, subrogation_debut=D(2025, 5, 1), subrogation_fin=D(2025, 5, 31))
    services.payer(jusqu_au=D(2025, 5, 31), date_paiement=D(2025, 6, 2))
    return person


@pytest.fixture
def lea_user(make_user: Any, lea: Any) -> Any:
    return make_user(Role.ASSURE, username="lea", beneficiary=lea)


@pytest.fixture
def patron(make_user: Any, boulangerie: Any) -> Any:
    """The boulangerie's HR account."""
    return make_user(Role.EMPLOYEUR, username="rh-boulangerie", employer=boulangerie)


def _declare(victim: Any, company: Any) -> Case:
    today = timezone.localdate()
    case = atmp.declare(by=None, kind=CaseKind.AT, declarant=Declarant.EMPLOYEUR, victim=victim, employer=company,
                        date_evenement=today - dt.timedelta(days=2), date_declaration=today - dt.timedelta(days=1),
                        date_reception=today - dt.timedelta(days=1), circonstances="Chute dans la réserve.")
    atmp.record_initial_certificate(case, by=None, date_etablissement=today - dt.timedelta(days=2),
                                    date_reception=today - dt.timedelta(days=1), lesions=LESIONS)
    case.refresh_from_db()
    return case


ASSURE_PAGES = ["online:mes_ij", "online:mes_atmp", "online:mon_attestation"]
EMPLOYER_PAGES = ["online:employeur", "online:employeur_paiements", "online:declarer_accident",
                  "online:attestation_trouver"]


# --- Who may open what ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ACCUEIL, Role.GESTIONNAIRE_IJ, Role.GESTIONNAIRE_ATMP, Role.MANAGER,
                                  Role.ADMIN, Role.MEDECIN_CONSEIL, Role.PROFESSIONNEL])
def test_agents_and_others_get_403_on_both_spaces(make_user: Any, role: str, lea: Any) -> None:
    client = _client(make_user(role))
    dossier = DossierIJ.objects.get(beneficiaire=lea)
    for url in [*(reverse(n) for n in ASSURE_PAGES + EMPLOYER_PAGES),
                reverse("online:mon_releve", args=[dossier.pk])]:
        assert client.get(url).status_code == 403, url


def test_an_assure_cannot_open_the_employer_space_nor_the_reverse(lea_user: Any, patron: Any) -> None:
    for name in EMPLOYER_PAGES:
        assert _client(lea_user).get(reverse(name)).status_code == 403, name
    for name in ASSURE_PAGES:
        assert _client(patron).get(reverse(name)).status_code == 403, name


def test_an_employer_account_without_company_gets_403(make_user: Any) -> None:
    assert _client(make_user(Role.EMPLOYEUR)).get(reverse("online:employeur")).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    for name in ASSURE_PAGES + EMPLOYER_PAGES:
        response = Client().get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# --- The assuré -----------------------------------------------------------------------------------------


def test_member_home_links_to_the_online_spaces(lea_user: Any) -> None:
    html = _client(lea_user).get(reverse("web:member_home")).content.decode()
    assert reverse("online:mes_ij") in html and reverse("online:mes_atmp") in html


def test_the_assure_sees_her_ij_paid_and_who_was_paid(lea_user: Any, lea: Any, hugo: Any) -> None:
    response = _client(lea_user).get(reverse("online:mes_ij"))
    assert response.status_code == 200
    html = response.content.decode()
    dossier = DossierIJ.objects.get(beneficiaire=lea)
    assert f"Dossier n° {dossier.pk}" in html
    assert "03/03/2025" in html and "10/04/2025" in html
    assert "Votre employeur (Boulangerie Dupain)" in html and ">Vous<" in html
    assert reverse("online:mon_releve", args=[dossier.pk]) in html
    assert "Hugo" not in html and "Garage du Centre" not in html
    assert "<caption>" in html and 'scope="col"' in html
    assert AuditEvent.objects.filter(beneficiary=lea, action=AuditAction.READ, actor=lea_user).exists()


def test_a_dossier_waiting_for_a_piece_says_which(make_user: Any, boulangerie: Any) -> None:
    person = BeneficiaryFactory()
    arret(person, debut=D(2025, 9, 1), fin=D(2025, 9, 20), employeur=boulangerie)
    html = _client(make_user(Role.ASSURE, beneficiary=person)).get(reverse("online:mes_ij")).content.decode()
    assert "En attente de pièces" in html
    assert "Attestation de salaire de l&#x27;employeur" in html


def test_the_assure_downloads_her_releve_and_it_is_traced(lea_user: Any, lea: Any) -> None:
    dossier = DossierIJ.objects.get(beneficiaire=lea)
    response = _client(lea_user).get(reverse("online:mon_releve", args=[dossier.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == FAKE_PDF
    assert AuditEvent.objects.filter(beneficiary=lea, action=AuditAction.DOWNLOAD, actor=lea_user,
                                     object_id=str(dossier.pk)).exists()


def test_the_real_releve_is_a_pdf_or_a_french_503(lea_user: Any, lea: Any, monkeypatch: Any) -> None:
    from caisse.allowances import documents

    monkeypatch.setattr(online, "render_releve_pdf", documents.render_releve_pdf)
    dossier = DossierIJ.objects.get(beneficiaire=lea)
    response = _client(lea_user).get(reverse("online:mon_releve", args=[dossier.pk]))
    if documents.pdf_available()[0]:
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    else:
        assert response.status_code == 503 and "momentanément indisponible" in response.content.decode()


def test_the_releve_of_someone_else_is_404(lea_user: Any, hugo: Any) -> None:
    other = DossierIJ.objects.get(beneficiaire=hugo)
    assert _client(lea_user).get(reverse("online:mon_releve", args=[other.pk])).status_code == 404
    assert _client(lea_user).get(reverse("online:mon_releve", args=[999999])).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.DOWNLOAD).exists()


def test_the_assure_downloads_an_attestation_over_a_period(lea_user: Any, lea: Any) -> None:
    url = reverse("online:mon_attestation")
    response = _client(lea_user).get(url, {"du": "2025-03-01", "au": "2025-03-31"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    event = AuditEvent.objects.get(beneficiary=lea, action=AuditAction.DOWNLOAD)
    assert "01/03/2025 au 31/03/2025" in event.summary


def test_the_attestation_form_refuses_a_reversed_period_in_french(lea_user: Any) -> None:
    response = _client(lea_user).get(reverse("online:mon_attestation"), {"du": "2025-03-31", "au": "2025-03-01"})
    assert response.status_code == 400
    assert "La fin de la période précède son début." in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.DOWNLOAD).exists()


def test_the_assure_follows_her_work_accident_without_medical_detail(
    lea_user: Any, lea: Any, hugo: Any, boulangerie: Any, garage: Any
) -> None:
    mine = _declare(lea, boulangerie)
    _declare(hugo, garage)
    html = _client(lea_user).get(reverse("online:mes_atmp")).content.decode()
    assert f"dossier n° {mine.pk}" in html
    assert mine.get_status_display() in html
    assert mine.prochaine_echeance is not None and mine.prochaine_echeance.strftime("%d/%m/%Y") in html
    assert LESIONS not in html
    assert "Garage du Centre" not in html


# --- The employer -----------------------------------------------------------------------------------------


def test_the_employer_home_lists_only_its_arrets_and_declarations(
    patron: Any, lea: Any, hugo: Any, boulangerie: Any, garage: Any
) -> None:
    _declare(lea, boulangerie)
    _declare(hugo, garage)
    waiting = arret(debut=D(2025, 9, 1), fin=D(2025, 9, 30), employeur=boulangerie)
    html = _client(patron).get(reverse("online:employeur")).content.decode()
    assert "Léa" in html and "Hugo" not in html
    assert LESIONS not in html
    assert "Transmise" in html and "À transmettre" in html
    assert reverse("online:attestation_salaire", args=[waiting.pk]) in html


def test_the_employer_home_shows_its_actions_as_buttons_not_as_a_bulleted_list(patron: Any) -> None:
    html = _client(patron).get(reverse("online:employeur")).content.decode()
    start = html.index('<div class="section-actions">')
    block = html[start:html.index("</div>", start)]
    for name in ("online:declarer_accident", "online:attestation_trouver", "online:employeur_paiements"):
        assert reverse(name) in block
    assert "<li" not in block and "actions-list" not in html


def test_the_employer_signing_in_lands_on_its_space(patron: Any) -> None:
    response = _client(patron).get(reverse("web:home"))
    assert response.status_code == 302 and response["Location"] == reverse("online:employeur")


def test_the_employer_sees_only_the_ij_paid_to_it(patron: Any, lea: Any, hugo: Any) -> None:
    response = _client(patron).get(reverse("online:employeur_paiements"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Léa" in html and "Hugo" not in html
    # After the 3 days of carence, the subrogation window only (the rest went to Léa).
    assert "du 06/03/2025 au 20/03/2025" in html and "616,50" in html
    assert "du 21/03/2025" not in html


def _edat(victim: Any = None, **overrides: Any) -> dict[str, str]:
    """The e-DAT form as an employer fills it: the victim's NIR, name, first name and birth date."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    data = {"kind": CaseKind.AT.value, "nir": "", "nom": "", "prenom": "", "date_naissance": "",
            "date_evenement": yesterday.isoformat(), "circonstances": "Glissade sur le sol mouillé du fournil."}
    if victim is not None:
        data.update(nir=victim.nir, nom=victim.nom, prenom=victim.prenom,
                    date_naissance=victim.date_naissance.isoformat())
    data.update(overrides)
    return data


def test_the_employer_declares_a_work_accident_online(patron: Any, boulangerie: Any) -> None:
    victim = BeneficiaryFactory()
    nir = f"{victim.nir[:7]} {victim.nir[7:]}"
    response = _client(patron).post(reverse("online:declarer_accident"), _edat(victim, nir=nir))
    assert response.status_code == 302 and response["Location"] == reverse("online:employeur")
    declaration = Declaration.objects.get(victim=victim)
    assert declaration.employer == boulangerie and declaration.declarant == Declarant.EMPLOYEUR
    assert declaration.channel == "edat" and not declaration.declaration_tardive
    assert declaration.victim_declared_name == f"{victim.prenom} {victim.nom}"
    assert Case.objects.filter(declaration=declaration).exists()
    assert AuditEvent.objects.filter(beneficiary=victim, actor=patron, action=AuditAction.CREATE).exists()


def test_the_same_accident_is_not_declared_twice(patron: Any) -> None:
    victim = BeneficiaryFactory()
    client = _client(patron)
    assert client.post(reverse("online:declarer_accident"), _edat(victim)).status_code == 302
    response = client.post(reverse("online:declarer_accident"), _edat(victim))
    assert response.status_code == 400
    assert "déjà déclaré cet accident" in response.content.decode()
    assert Declaration.objects.filter(victim=victim).count() == 1


def test_a_late_declaration_is_recorded_and_flagged(patron: Any) -> None:
    victim = BeneficiaryFactory()
    event = timezone.localdate() - dt.timedelta(days=10)
    response = _client(patron).post(reverse("online:declarer_accident"),
                                    _edat(victim, date_evenement=event.isoformat()), follow=True)
    assert Declaration.objects.get(victim=victim).declaration_tardive
    assert "48 heures" in response.content.decode()


@pytest.mark.parametrize(("nir", "message"), [
    ("1234", "Le NIR doit comporter 15 caractères"),
    ("185047512345600", "clé du NIR ne correspond pas"),
])
def test_a_bad_nir_is_refused_in_french(patron: Any, nir: str, message: str) -> None:
    response = _client(patron).post(reverse("online:declarer_accident"),
                                    _edat(nir=nir, nom="Durand", prenom="Léa", date_naissance="1985-04-12"))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "error-summary" in html
    assert not Declaration.objects.exists()


def test_the_victim_s_name_and_birth_date_are_required(patron: Any) -> None:
    victim = BeneficiaryFactory()
    response = _client(patron).post(reverse("online:declarer_accident"), _edat(nir=victim.nir))
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("id_nom", "id_prenom", "id_date_naissance"):
        assert f'id="{field}-erreur"' in html, field
    assert not Declaration.objects.exists()
    assert not AuditEvent.objects.filter(beneficiary=victim).exists()


UNKNOWN_VICTIM_HTML = ("Les informations de la victime ne correspondent à aucun assuré de la caisse : "
                       "vérifiez le NIR, le nom et la date de naissance.")


@pytest.mark.parametrize("mismatch", ["unknown_nir", "other_name", "other_first_name", "other_birth_date"])
def test_a_victim_who_does_not_match_gets_one_message_that_reveals_nothing(patron: Any, mismatch: str) -> None:
    """Whether the NIR is unknown or the name or birth date differ, the employer reads the same
    refusal: the form does not tell which NIRs are registered, nor whose they are."""
    person = BeneficiaryFactory(prenom="Aïcha", nom="Benali", nom_usage="Vasseur", date_naissance=D(1990, 7, 21))
    data = _edat(person)
    if mismatch == "unknown_nir":
        data["nir"] = BeneficiaryFactory.build(serial=99999).nir  # a valid NIR that nobody holds
        assert data["nir"] != person.nir
    elif mismatch == "other_name":
        data["nom"] = "Bernard"
    elif mismatch == "other_first_name":
        data["prenom"] = "Amina"
    else:
        data["date_naissance"] = "1990-07-22"
    response = _client(patron).post(reverse("online:declarer_accident"), data)
    assert response.status_code == 400
    html = response.content.decode().replace("&#x27;", "'")
    assert UNKNOWN_VICTIM_HTML in html
    assert "immatriculé" not in html
    assert 'id="id_nir-erreur"' not in html  # on the whole form, not on the NIR: nothing singled out
    assert "Vasseur" not in html and person.nir_formate not in html  # nothing of the file shown
    assert not Declaration.objects.exists()
    assert not AuditEvent.objects.filter(beneficiary=person).exists()


def test_names_match_without_case_accents_or_hyphens_and_by_usage_name(patron: Any) -> None:
    person = BeneficiaryFactory(prenom="Jean-Noël", nom="Le Hénaff", nom_usage="Kervella")
    client = _client(patron)
    assert client.post(reverse("online:declarer_accident"),
                       _edat(person, prenom="JEAN NOEL", nom="le-henaff")).status_code == 302
    yesterday = timezone.localdate() - dt.timedelta(days=2)
    assert client.post(reverse("online:declarer_accident"),
                       _edat(person, kind=CaseKind.TRAJET.value, nom="KERVELLA",
                             date_evenement=yesterday.isoformat())).status_code == 302
    assert Declaration.objects.filter(victim=person).count() == 2


def test_the_employer_home_shows_the_victim_as_the_employer_named_them(patron: Any) -> None:
    """The employer's space never shows a name from the caisse's file that it did not type: the
    victim declared under her birth name is not shown under her usage name."""
    person = BeneficiaryFactory(prenom="Inès", nom="Moreau", nom_usage="Lefebvre-Garnier")
    response = _client(patron).post(reverse("online:declarer_accident"), _edat(person, prenom="ines", nom="MOREAU"))
    assert response.status_code == 302
    html = _client(patron).get(reverse("online:employeur")).content.decode()
    assert "ines MOREAU" in html
    assert "Lefebvre-Garnier" not in html and "Inès" not in html


def test_an_accident_in_the_future_is_refused(patron: Any) -> None:
    victim = BeneficiaryFactory()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = _client(patron).post(reverse("online:declarer_accident"),
                                    _edat(victim, date_evenement=tomorrow.isoformat()))
    assert response.status_code == 400
    assert "ne peut pas être dans le futur" in response.content.decode()


# --- The salary certificate ---------------------------------------------------------------------------------


def _salaries(**overrides: str) -> dict[str, str]:
    data = {f"brut_{k}": "2 300,50" for k in range(12)}
    data.update({"heures_0": "151,67", "heures_1": "151,67", "heures_2": "151,67"})
    data.update(overrides)
    return data


def test_the_employer_finds_the_arret_then_sends_the_certificate(patron: Any, boulangerie: Any) -> None:
    person = BeneficiaryFactory()
    a = arret(person, debut=D(2025, 9, 1), fin=D(2025, 9, 30), employeur=boulangerie, identifiant_externe="AAT-EN-LIGNE-1")
    assert DossierIJ.objects.get(pk=a.dossier_id).statut == StatutDossier.ATTENTE_PIECES
    client = _client(patron)
    found = client.post(reverse("online:attestation_trouver"), {"identifiant": "AAT-EN-LIGNE-1", "nir": person.nir})
    assert found.status_code == 302 and found["Location"] == reverse("online:attestation_salaire", args=[a.pk])
    form = client.get(found["Location"]).content.decode().replace("&#x27;", "'")
    assert "août 2025" in form and "septembre 2024" in form
    assert "Salaire brut d'août 2025" in form and "Salaire brut d'avril 2025" in form
    assert "Salaire brut d'octobre 2024" in form and "Salaire brut de septembre 2024" in form
    assert "de août" not in form and "de avril" not in form and "de octobre" not in form
    response = client.post(found["Location"], _salaries(
        subrogation="on", subrogation_debut="2025-09-01", subrogation_fin="2025-09-30", salaire_maintenu="80,00"))
    assert response.status_code == 302, response.content.decode()
    att = AttestationSalaire.objects.get(arret=a)
    assert att.employeur == boulangerie and att.subrogation
    assert att.salaire_maintenu_journalier_cts == 8000
    assert sorted(att.lignes.values_list("brut_cts", flat=True)) == [230050] * 12
    assert att.lignes.get(mois="2025-08").heures == Decimal("151.67")
    dossier = DossierIJ.objects.get(pk=a.dossier_id)
    assert dossier.pieces_manquantes == [] and dossier.statut != StatutDossier.ATTENTE_PIECES
    assert AuditEvent.objects.filter(beneficiary=person, actor=patron, summary__contains="attestation de salaire").exists()


def test_a_negative_salary_is_refused(patron: Any, boulangerie: Any) -> None:
    a = arret(debut=D(2025, 9, 1), fin=D(2025, 9, 30), employeur=boulangerie)
    response = _client(patron).post(reverse("online:attestation_salaire", args=[a.pk]), _salaries(brut_3="-100"))
    assert response.status_code == 400
    assert "supérieure ou égale à 0" in response.content.decode()
    assert not AttestationSalaire.objects.exists()


def test_a_missing_month_and_a_subrogation_without_period_are_refused(patron: Any, boulangerie: Any) -> None:
    a = arret(debut=D(2025, 9, 1), fin=D(2025, 9, 30), employeur=boulangerie)
    response = _client(patron).post(reverse("online:attestation_salaire", args=[a.pk]),
                                    _salaries(brut_11="", subrogation="on"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Indiquez le début du maintien de salaire." in html
    assert "Ce champ est obligatoire." in html
    assert not AttestationSalaire.objects.exists()


def test_the_employer_cannot_reach_the_arret_of_another_employer(patron: Any, garage: Any) -> None:
    person = BeneficiaryFactory()
    a = arret(person, debut=D(2025, 9, 1), fin=D(2025, 9, 30), employeur=garage, identifiant_externe="AAT-GARAGE")
    client = _client(patron)
    assert client.get(reverse("online:attestation_salaire", args=[a.pk])).status_code == 404
    assert client.post(reverse("online:attestation_salaire", args=[a.pk]), _salaries()).status_code == 404
    response = client.post(reverse("online:attestation_trouver"), {"identifiant": "AAT-GARAGE", "nir": person.nir})
    assert response.status_code == 400
    assert "Aucun arrêt de travail de l&#x27;un de vos salariés" in response.content.decode()
    assert not AttestationSalaire.objects.exists()


# --- Accessibility ------------------------------------------------------------------------------------------


def test_every_online_page_passes_the_structural_checks(lea_user: Any, patron: Any, lea: Any,
                                                       boulangerie: Any) -> None:
    from caisse.web.tests.test_accessibility import check_page

    _declare(lea, boulangerie)
    waiting = arret(debut=D(2025, 9, 1), fin=D(2025, 9, 30), employeur=boulangerie)
    for client, urls in (
        (_client(lea_user), [reverse(n) for n in ASSURE_PAGES] + [reverse("web:member_home")]),
        (_client(patron), [reverse(n) for n in EMPLOYER_PAGES]
         + [reverse("online:attestation_salaire", args=[waiting.pk])]),
    ):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            check_page(response.content.decode())
    employer_client = _client(patron)
    for url, data in ((reverse("online:declarer_accident"), {"nir": "1"}),
                      (reverse("online:attestation_trouver"), {"nir": "1"}),
                      (reverse("online:attestation_salaire", args=[waiting.pk]), {"brut_0": "-1"})):
        response = employer_client.post(url, data)
        assert response.status_code == 400
        html = response.content.decode()
        check_page(html)
        assert "error-summary" in html and 'aria-invalid="true"' in html
    response = _client(lea_user).get(reverse("online:mon_attestation"), {"du": "x"})
    assert response.status_code == 400
    check_page(response.content.decode())
