"""Sign-in, home per role, navigation, error pages and the member's online space."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.accounts.tests.factories import PASSWORD, UserFactory
from caisse.core.models import AuditAction, AuditEvent
from caisse.rights.models import CardStatus
from caisse.web.tests.personas import DIAGNOSIS, fast_passwords, filled_file, user_for  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def test_sign_in_page_is_french_and_accessible(client: Any) -> None:
    html = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="fr">' in html
    assert 'href="#contenu"' in html and 'id="contenu"' in html
    assert '<label for="id_username">Identifiant' in html
    assert "<title>Connexion — " in html


def test_wrong_password_gets_a_french_error_summary(client: Any) -> None:
    UserFactory(username="claire")
    response = client.post(reverse("accounts:login"), {"username": "claire", "password": "faux"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in html
    assert 'class="error-summary"' in html
    assert "<title>Erreur : Connexion" in html


def test_agent_lands_on_the_back_office_home(client: Any) -> None:
    UserFactory(username="claire", role=Role.GESTIONNAIRE_DROITS)
    response = client.post(reverse("accounts:login"), {"username": "claire", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:home")
    assert "Files de travail" in response.content.decode()


def test_member_lands_on_their_online_space(client: Any) -> None:
    member = user_for(Role.ASSURE, username="lea")
    response = client.post(reverse("accounts:login"), {"username": "lea", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:member_home")
    assert member.beneficiary.nir_formate in response.content.decode()


def test_anonymous_visitor_is_sent_to_sign_in(client: Any) -> None:
    response = client.get(reverse("beneficiaries:search"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_sign_out_is_a_post(client: Any) -> None:
    client.force_login(UserFactory())
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("web:home")).status_code == 302


def test_medecin_conseil_sees_the_protocols_to_examine(client: Any) -> None:
    f = filled_file()
    client.force_login(f.sarah)
    html = client.get(reverse("web:home")).content.decode()
    assert "Protocoles de soins ALD à examiner" in html
    assert reverse("rights:protocol_queue") in html
    assert "Contrôles de résidence ouverts" not in html


def test_gestionnaire_sees_residence_controls_queue_and_navigation(client: Any) -> None:
    client.force_login(UserFactory(role=Role.GESTIONNAIRE_DROITS))
    html = client.get(reverse("web:home")).content.decode()
    assert "Contrôles de résidence ouverts" in html
    assert 'aria-current="page">Accueil' in html
    assert "Protocoles ALD à examiner" not in html


def test_unknown_page_has_a_french_404(client: Any, settings: Any) -> None:
    settings.DEBUG = False
    client.force_login(UserFactory())
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_a_professional_account_tied_to_no_professional_has_no_space(client: Any) -> None:
    """(One tied to its professional goes to its online space: caisse/claims/tests/test_views.py.)"""
    client.force_login(UserFactory(role=Role.PROFESSIONNEL))
    assert "Espace indisponible" in client.get(reverse("web:home")).content.decode()


def test_liquidateur_sees_the_paper_feuilles_waiting(client: Any) -> None:
    client.force_login(UserFactory(role=Role.LIQUIDATEUR))
    html = client.get(reverse("web:home")).content.decode()
    assert "Feuilles de soins papier saisies, en attente du traitement quotidien" in html
    assert reverse("claims:queue") in html


# --- Online space --------------------------------------------------------------------------------


def test_member_sees_rights_children_and_cards_without_diagnosis(client: Any) -> None:
    f = filled_file()
    client.force_login(user_for(Role.ASSURE, beneficiary=f.lea))
    html = client.get(reverse("web:member_home")).content.decode()
    assert "Mes droits au" in html and "Ouverts" in html
    assert "Hugo" in html and reverse("rights:attestation", args=[f.hugo.pk]) in html
    assert f.card.numero in html and "Remise, active" in html
    assert DIAGNOSIS not in html
    assert AuditEvent.objects.filter(beneficiary=f.lea, action=AuditAction.READ).exists()


def test_member_declares_a_lost_card_and_gets_a_new_one(client: Any) -> None:
    f = filled_file()
    client.force_login(user_for(Role.ASSURE, beneficiary=f.lea))
    url = reverse("web:member_lost_card", args=[f.card.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"motif": "vol"})
    assert response.status_code == 302
    f.card.refresh_from_db()
    assert f.card.statut == CardStatus.EN_OPPOSITION and f.card.motif_opposition == "vol"
    assert f.card.remplacee_par is not None and f.card.remplacee_par.statut == CardStatus.COMMANDEE
    # The new card, only ordered, is not in the member's hands: no loss to declare for it yet.
    home = client.get(reverse("web:member_home")).content.decode()
    assert reverse("web:member_lost_card", args=[f.card.remplacee_par.pk]) not in home
    refused = client.get(reverse("web:member_lost_card", args=[f.card.remplacee_par.pk]), follow=True)
    assert "pas encore entre vos mains" in refused.content.decode()


def test_member_cannot_declare_the_loss_of_someone_elses_card(client: Any) -> None:
    f = filled_file()
    client.force_login(user_for(Role.ASSURE))
    assert client.post(reverse("web:member_lost_card", args=[f.card.pk]), {"motif": "vol"}).status_code == 404


def test_member_cannot_open_another_persons_attestation_or_the_back_office(client: Any) -> None:
    f = filled_file()
    client.force_login(user_for(Role.ASSURE))
    response = client.get(reverse("rights:attestation", args=[f.lea.pk]))
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()
    assert client.get(reverse("beneficiaries:detail", args=[f.lea.pk])).status_code == 403
    assert client.get(reverse("beneficiaries:search")).status_code == 403


def test_agent_cannot_open_the_online_space(client: Any) -> None:
    client.force_login(UserFactory(role=Role.ACCUEIL))
    assert client.get(reverse("web:member_home")).status_code == 403


def test_member_home_lists_only_current_children(client: Any) -> None:
    f = filled_file()
    link = f.hugo.parent_links.get()
    link.fin = dt.date.today() - dt.timedelta(days=1)
    link.save()
    client.force_login(user_for(Role.ASSURE, beneficiary=f.lea))
    assert "Aucun enfant rattaché" in client.get(reverse("web:member_home")).content.decode()
    assert client.get(reverse("rights:attestation", args=[f.hugo.pk])).status_code == 403


@pytest.mark.parametrize(("role", "expected", "absent"), [
    (Role.MEDECIN_CONSEIL, ["Rechercher un bénéficiaire", "Protocoles ALD à examiner"], ["Contrôles de résidence"]),
    (Role.ENQUETEUR, ["Contrôles de résidence"], ["Protocoles ALD à examiner"]),
    (Role.ACCUEIL, ["Rechercher un bénéficiaire"], ["Protocoles ALD à examiner", "Contrôles de résidence"]),
    (Role.ASSURE, ["Mon espace", "Mes remboursements", "Mes indemnités journalières"], ["Rechercher un bénéficiaire"]),
    (Role.PROFESSIONNEL, ["Mon espace professionnel"], ["Rechercher un bénéficiaire", "Mon espace employeur"]),
    (Role.EMPLOYEUR, ["Mon espace employeur", "Déclarer un accident du travail"], ["Mes remboursements"]),
])
def test_navigation_shows_only_what_the_role_may_open(client: Any, role: str, expected: list[str],
                                                      absent: list[str]) -> None:
    client.force_login(user_for(role))
    html = client.get(reverse("web:home"), follow=True).content.decode()
    nav = html.split('aria-label="Menu principal"', 1)[1].split("</nav>", 1)[0]
    for label in expected:
        assert label in nav
    for label in absent:
        assert label not in nav
