"""Back-office details found by a browser audit: the professional look-up, the payments page's
pages, the server's defaults (French error pages, no development mode)."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from caisse.accounts.models import Role
from caisse.claims.models import DailyRun, RunStatus
from caisse.claims.views import RUNS_PER_PAGE

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_unknown_professional_id_gets_a_french_message_not_a_404(make_user: Any) -> None:
    client = _client(make_user(Role.MANAGER))
    response = client.get(reverse("claims:lookup"), {"ps": "99999999999"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and response.redirect_chain[-1][0] == reverse("claims:queue")
    assert "Aucun professionnel de santé ni aucune feuille ne porte cet identifiant." in html


def test_the_payments_page_pages_through_every_run(make_user: Any) -> None:
    start = timezone.now()
    runs = [
        DailyRun(date_traitement=dt.date(2025, 1, 1) + dt.timedelta(days=k), debut=start, fin=start,
                 statut=RunStatus.TERMINE)
        for k in range(RUNS_PER_PAGE + 5)
    ]
    DailyRun.objects.bulk_create(runs)
    client = _client(make_user(Role.MANAGER))
    first = client.get(reverse("claims:payments")).content.decode()
    newest, oldest = runs[-1].date_traitement, runs[0].date_traitement
    assert f"{newest:%d/%m/%Y}" in first and f"{oldest:%d/%m/%Y}" not in first
    assert "page 1 sur 2" in first and "Traitements plus anciens" in first
    assert "Montant aux professionnels" in first and "Montant aux assurés" in first  # no two "Montant" columns
    second = client.get(reverse("claims:payments"), {"page": 2}).content.decode()
    assert f"{oldest:%d/%m/%Y}" in second and "Traitements plus récents" in second


def test_serving_defaults_leave_development_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from caisse import cli

    for name in ("CAISSE_DEBUG", "CAISSE_ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    cli._serving_defaults("127.0.0.1")
    assert os.environ["CAISSE_DEBUG"] == "0" and "CAISSE_ALLOWED_HOSTS" not in os.environ
    cli._serving_defaults("0.0.0.0")
    assert os.environ["CAISSE_ALLOWED_HOSTS"] == "*"
    monkeypatch.setenv("CAISSE_DEBUG", "1")
    monkeypatch.delenv("CAISSE_ALLOWED_HOSTS")
    cli._serving_defaults("caisse.example")
    assert os.environ["CAISSE_DEBUG"] == "1"  # an explicit choice stays
    assert os.environ["CAISSE_ALLOWED_HOSTS"] == "127.0.0.1,localhost,caisse.example"


def test_the_installation_key_is_created_once_and_kept(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from caisse.config import settings

    monkeypatch.setattr(settings, "BASE_DIR", tmp_path / "caisse")
    key = settings.installation_key()
    assert len(key) > 40 and settings.installation_key() == key
    assert (tmp_path / "var" / "cle_secrete").stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(not __import__("caisse.claims.tests.helpers", fromlist=["EXAMPLE"]).EXAMPLE.exists(),
                    reason="example folder not available")
def test_a_feuille_page_shows_the_record_its_liquidation_and_its_payment(make_user: Any) -> None:
    from caisse.claims import services
    from caisse.claims.models import Feuille, FeuilleStatus
    from caisse.claims.tests.helpers import EXAMPLE, TODAY, import_folder
    from caisse.core.models import AuditEvent
    from caisse.core.money import euros
    from caisse.web.tests.test_accessibility import check_page

    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(EXAMPLE / "feuilles.ndjson", quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    paid = Feuille.objects.filter(statut=FeuilleStatus.LIQUIDEE, paiement__isnull=False).order_by("pk").first()
    rejected = Feuille.objects.filter(statut=FeuilleStatus.REJETEE).exclude(nir="").order_by("pk").first()
    assert paid is not None and rejected is not None
    agent = make_user(Role.LIQUIDATEUR)
    client = _client(agent)

    html = client.get(reverse("claims:feuille", args=[paid.pk])).content.decode()
    check_page(html)
    line = paid.decompte["lignes"][0]
    assert f"Feuille de soins {paid.identifiant}" in html and f"<code>{line['code']}</code>" in html
    assert euros(line["base_remboursement_cts"]) in html and euros(paid.decompte["montant_rembourse_cts"]) in html
    assert "Règles appliquées à la ligne 1" in html and f"Virement du {paid.date_paiement:%d/%m/%Y}" in html
    assert AuditEvent.objects.filter(summary__contains=f"feuille de soins {paid.identifiant}").exists()

    html = client.get(reverse("claims:feuille", args=[rejected.pk])).content.decode()
    check_page(html)
    code = rejected.decompte["rejets"][0]
    assert "Feuille rejetée" in html and f"<code>{code}</code>" in html

    assert client.get(reverse("claims:feuille", args=[10**9])).status_code == 404
    found = client.get(reverse("claims:feuille_lookup"), {"feuille": paid.identifiant})
    assert found["Location"] == reverse("claims:feuille", args=[paid.pk])
    missing = client.get(reverse("claims:feuille_lookup"), {"feuille": "NOPE"}, follow=True).content.decode()
    assert "Aucune feuille de soins reçue ne porte cet identifiant." in missing
    # The professional's return links the rejected feuilles to their page.
    back = client.get(reverse("claims:professional", args=[rejected.executant])).content.decode()
    assert reverse("claims:feuille", args=[rejected.pk]) in back
    # ... and details its latest transfers feuille by feuille.
    to_ps = Feuille.objects.filter(paiement__type_beneficiaire="ps").order_by("-date_paiement", "pk").first()
    assert to_ps is not None
    back = client.get(reverse("claims:professional", args=[to_ps.executant])).content.decode()
    check_page(back)
    assert "Feuilles payées par les 12 derniers virements" in back
    assert reverse("claims:feuille", args=[to_ps.pk]) in back and euros(to_ps.decompte["paiement_ps_cts"]) in back
    assert _client(make_user(Role.ACCUEIL)).get(reverse("claims:feuille", args=[paid.pk])).status_code == 403


def test_the_transfers_without_a_valid_iban_are_listed(make_user: Any) -> None:
    from caisse.claims.models import PayeeKind, Payment
    from caisse.core.money import euros
    from caisse.web.tests.test_accessibility import check_page

    now = timezone.now()
    run = DailyRun.objects.create(date_traitement=dt.date(2025, 3, 14), debut=now, fin=now, statut=RunStatus.TERMINE)
    Payment.objects.create(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire="10000000001", nom="Cabinet Martin",
                           iban="", iban_valide=False, date_paiement=run.date_traitement, montant_cts=4150,
                           nb_feuilles=2, run=run)
    Payment.objects.create(type_beneficiaire=PayeeKind.PS, identifiant_beneficiaire="10000000002", nom="Cabinet Durand",
                           iban="FR7630006000011234567890189", iban_valide=True, date_paiement=run.date_traitement,
                           montant_cts=1000, nb_feuilles=1, run=run)
    client = _client(make_user(Role.MANAGER))
    listing = client.get(reverse("claims:payments")).content.decode()
    assert reverse("claims:payments_without_iban", args=[run.pk]) in listing
    html = client.get(reverse("claims:payments_without_iban", args=[run.pk])).content.decode()
    check_page(html)
    assert "Cabinet Martin" in html and euros(4150) in html and "Cabinet Durand" not in html
    assert client.get(reverse("claims:payments_without_iban", args=[run.pk + 1])).status_code == 404


def test_a_period_typed_dd_mm_yyyy_is_shown_back_in_the_date_fields(make_user: Any) -> None:
    """The delays page filters on ``?du=01/03/2025`` and shows both dates back as JJ/MM/AAAA in
    its date fields (an ISO date in a link too), not empty fields."""
    html = _client(make_user(Role.MANAGER)).get(reverse("claims:delays"), {"du": "01/03/2025", "au": "2025-03-31"}
                                                ).content.decode()
    assert 'value="01/03/2025"' in html and 'value="31/03/2025"' in html


def test_numbers_are_french_whatever_the_browser_language(make_user: Any) -> None:
    """A browser asking for English (Accept-Language) still reads 1 832, not 1,832."""
    from django.template import Context, Template
    from django.utils import translation

    client = _client(make_user(Role.MANAGER))
    response = client.get(reverse("claims:delays"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.headers.get("Content-Language", "fr").startswith("fr")
    with translation.override(translation.get_language_from_request(response.wsgi_request)):
        assert Template("{{ n }}").render(Context({"n": 1832})) == "1\xa0832"


def test_the_professional_reads_the_ald_exemption_the_death_and_a_future_date(make_user: Any) -> None:
    """As the API tells it (``exoneration_ald``, ``tiers_payant_obligatoire``, ``deces``), the
    professional's page says that a patient is exempt for an ALD (never which one), that the
    tiers payant is mandatory, that the patient has died, and that a future date's rights may change."""
    from caisse.beneficiaries.tests.factories import BeneficiaryFactory
    from caisse.professionals.models import HealthProfessional
    from caisse.rights.models import ALDKind, ALDPeriod, ProtocolStatus, RightsPeriod

    today = timezone.localdate()
    ps = HealthProfessional.objects.create(identifiant="10000000009", profession="medecin",
                                           specialite="medecine_generale", secteur=1, nom="Martin", prenom="Jeanne")
    client = _client(make_user(Role.PROFESSIONNEL, professional=ps))
    patient = BeneficiaryFactory()
    RightsPeriod.objects.create(beneficiary=patient, debut=dt.date(2020, 1, 1))
    ALDPeriod.objects.create(beneficiary=patient, kind=ALDKind.LISTE, affection="Diabète de type 2",
                             date_protocole=dt.date(2020, 12, 1), statut_protocole=ProtocolStatus.VALIDE,
                             valide_le=dt.date(2020, 12, 15), debut=dt.date(2021, 1, 1))
    html = client.get(reverse("espace_ps:accueil"), {"nir": patient.nir, "date": today.isoformat()}).content.decode()
    assert "Oui, pour les soins en rapport avec une affection de longue durée (ALD)" in html
    assert "Tiers payant obligatoire" in html and "soins en rapport avec l'ALD" in html
    assert "Exonération ALD du" not in html and "Diabète" not in html  # no period, no diagnosis

    later = client.get(reverse("espace_ps:accueil"), {"nir": patient.nir,
                                                      "date": (today + dt.timedelta(days=30)).isoformat()})
    assert "Date future" in later.content.decode()

    patient.date_deces = today - dt.timedelta(days=3)
    patient.save()
    html = client.get(reverse("espace_ps:accueil"), {"nir": patient.nir, "date": today.isoformat()}).content.decode()
    assert "Décédé" in html and f"{patient.date_deces:%d/%m/%Y}" in html


def test_a_parent_no_longer_opens_the_file_of_an_adult_child(make_user: Any) -> None:
    """From 18 (Code civil art. 414) a child's file is their own, even while still attached."""
    from caisse.beneficiaries.access import AccessDenied, get_beneficiary_for
    from caisse.beneficiaries.models import ParentLink
    from caisse.beneficiaries.tests.factories import BeneficiaryFactory

    today = dt.date.today()
    parent = BeneficiaryFactory(date_naissance=dt.date(1980, 1, 1))
    minor = BeneficiaryFactory(date_naissance=dt.date(today.year - 10, 1, 1))
    adult = BeneficiaryFactory(date_naissance=dt.date(today.year - 18, today.month, 1))  # 18 this month
    for child in (minor, adult):
        ParentLink.objects.create(parent=parent, child=child, debut=dt.date(2000, 1, 1))
    member = make_user(Role.ASSURE, beneficiary=parent)
    assert get_beneficiary_for(member, minor.pk) == minor
    with pytest.raises(AccessDenied):
        get_beneficiary_for(member, adult.pk)
    home = _client(member).get(reverse("web:member_home")).content.decode()
    assert minor.prenom in home and adult.nir_formate not in home
