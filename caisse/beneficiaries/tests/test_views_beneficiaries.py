"""Search, the beneficiary's file (what each role sees) and the identity form."""

from __future__ import annotations

import datetime as dt
from html import unescape
from typing import Any

import pytest
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.beneficiaries.tests.factories import BeneficiaryFactory, make_nir
from caisse.core.models import AuditAction, AuditEvent
from caisse.web.tests.personas import DIAGNOSIS, fast_passwords, filled_file, user_for  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def agent(client: Any) -> Any:
    user = user_for(Role.ACCUEIL)
    client.force_login(user)
    return user


def _search(client: Any, **params: Any) -> str:
    response = client.get(reverse("beneficiaries:search"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_search_by_name_nir_and_birth_date(client: Any, agent: Any) -> None:
    lea = BeneficiaryFactory(nom="MARTIN", prenom="Léa", date_naissance=dt.date(1985, 4, 12))
    BeneficiaryFactory(nom="DURAND")
    html = _search(client, nom="mart")
    assert "MARTIN Léa" in html and "DURAND" not in html
    assert "1 résultat" in html
    assert "MARTIN Léa" in _search(client, nir=lea.nir_formate)
    assert "MARTIN Léa" in _search(client, nir=lea.nir[:7])
    assert "MARTIN Léa" in _search(client, date_naissance="1985-04-12")
    assert "MARTIN Léa" in _search(client, date_naissance="12/04/1985")


def test_search_results_are_paginated(client: Any, agent: Any) -> None:
    BeneficiaryFactory.create_batch(25, nom="DUPONT")
    html = _search(client, nom="dupont")
    assert "25 résultats" in html and "page 1 sur 2" in html and "Page suivante" in html
    assert "page 2 sur 2" in _search(client, nom="dupont", page=2)


def test_search_refuses_a_nir_with_a_wrong_key(client: Any, agent: Any) -> None:
    nir = make_nir("F", dt.date(1985, 4, 12), 1)
    wrong = nir[:13] + f"{(int(nir[13:]) % 97) + 1:02d}"
    html = _search(client, nir=wrong)
    assert "La clé du NIR ne correspond pas aux 13 premiers caractères." in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_nir-aide id_nir-erreur"' in html


def test_search_needs_one_criterion(client: Any, agent: Any) -> None:
    html = _search(client, nom="")
    assert "Indiquez au moins un critère" in html


def test_file_shows_identity_rights_and_records_the_read(client: Any) -> None:
    f = filled_file()
    client.force_login(f.claire)
    response = client.get(reverse("beneficiaries:detail", args=[f.lea.pk]))
    html = response.content.decode()
    assert "<title>Dossier de Léa MARTIN — " in html
    assert f.lea.nir_formate in html
    assert reverse("beneficiaries:detail", args=[f.hugo.pk]) in html
    assert "Activité professionnelle en France" in html
    assert "Sans participation" in html
    assert "Dr Jeanne BERNARD" in html
    assert "Remise, active" in html
    assert '<th scope="col">' in html and "<caption>" in html
    assert AuditEvent.objects.filter(beneficiary=f.lea, action=AuditAction.READ, actor=f.claire).exists()


def test_liquidateur_sees_the_ald_period_but_not_the_disease(client: Any) -> None:
    f = filled_file()
    client.force_login(user_for(Role.LIQUIDATEUR))
    html = client.get(reverse("beneficiaries:detail", args=[f.lea.pk])).content.decode()
    assert "Exonération ALD du 01/03/2025 au 28/02/2045" in html
    assert DIAGNOSIS not in html and "Affection en cours" not in html and "ALD 30" not in html
    assert "Historique du dossier" not in html


def test_accueil_sees_no_ald_at_all(client: Any, agent: Any) -> None:
    f = filled_file()
    html = client.get(reverse("beneficiaries:detail", args=[f.lea.pk])).content.decode()
    assert "Exonération ALD" not in html and DIAGNOSIS not in html


def test_medecin_conseil_sees_the_disease_and_can_examine(client: Any) -> None:
    f = filled_file()
    client.force_login(f.sarah)
    html = client.get(reverse("beneficiaries:detail", args=[f.lea.pk])).content.decode()
    assert DIAGNOSIS in html
    assert reverse("rights:review_protocol", args=[f.lea.pk, f.pending.pk]) in html
    assert "Protocole de soins ALD reçu" in html  # medical history lines


def test_history_of_working_agent_hides_reads_and_medical_events(client: Any) -> None:
    f = filled_file()
    client.force_login(f.claire)
    html = client.get(reverse("beneficiaries:detail", args=[f.lea.pk])).content.decode()
    assert "Historique du dossier" in html
    assert "Ouverture des droits" in html
    assert "Protocole de soins" not in html
    assert "consultation du dossier" not in html


def test_history_of_enqueteur_shows_reads_but_not_medical_events(client: Any) -> None:
    f = filled_file()
    client.force_login(f.claire)
    client.get(reverse("beneficiaries:detail", args=[f.lea.pk]))
    client.force_login(user_for(Role.ENQUETEUR))
    html = client.get(reverse("beneficiaries:detail", args=[f.lea.pk])).content.decode()
    assert "consultation du dossier" in html and "Claire Dubois" in html
    assert "Protocole de soins" not in html


# --- Identity form -------------------------------------------------------------------------------


def _identity_data(b: Any, **changes: Any) -> dict[str, Any]:
    data = {"nir": b.nir, "nom": b.nom, "nom_usage": b.nom_usage, "prenom": b.prenom, "sexe": b.sexe,
            "date_naissance": b.date_naissance.isoformat(), "adresse": b.adresse, "code_postal": b.code_postal,
            "commune": b.commune, "telephone": "", "email": "", "iban": "", "bic": "", "titre_sejour_fin": ""}
    data.update(changes)
    return data


def test_agent_updates_address_and_iban(client: Any, agent: Any) -> None:
    lea = BeneficiaryFactory()
    url = reverse("beneficiaries:edit_identity", args=[lea.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, _identity_data(lea, adresse="3 place du Marché", iban="FR76 3000 6000 0112 3456 7890 189"))
    assert response.status_code == 302
    lea.refresh_from_db()
    assert lea.adresse == "3 place du Marché" and lea.iban == "FR7630006000011234567890189"
    event = AuditEvent.objects.filter(beneficiary=lea, action=AuditAction.UPDATE).get()
    assert event.actor == agent and "adresse" in event.changes


def test_identity_form_refuses_a_wrong_nir_key(client: Any, agent: Any) -> None:
    lea = BeneficiaryFactory()
    wrong = lea.nir[:13] + f"{(int(lea.nir[13:]) % 97) + 1:02d}"
    response = client.post(reverse("beneficiaries:edit_identity", args=[lea.pk]), _identity_data(lea, nir=wrong))
    html = response.content.decode()
    assert response.status_code == 200
    assert "La clé du NIR ne correspond pas aux 13 premiers caractères." in html
    assert 'class="error-summary"' in html and 'href="#id_nir"' in html
    assert 'aria-describedby="id_nir-aide id_nir-erreur"' in html


def test_identity_form_refuses_an_invalid_iban(client: Any, agent: Any) -> None:
    lea = BeneficiaryFactory()
    response = client.post(reverse("beneficiaries:edit_identity", args=[lea.pk]),
                           _identity_data(lea, iban="FR76 3000 6000 0112 3456 7890 188"))
    assert response.status_code == 200
    assert 'id="id_iban-erreur"' in response.content.decode()
    lea.refresh_from_db()
    assert lea.iban == ""


def test_identity_form_refuses_a_nir_that_contradicts_the_birth_date(client: Any, agent: Any) -> None:
    lea = BeneficiaryFactory(date_naissance=dt.date(1985, 4, 12))
    response = client.post(reverse("beneficiaries:edit_identity", args=[lea.pk]),
                           _identity_data(lea, date_naissance="1990-04-12"))
    assert ("Le NIR ne correspond pas au sexe ou à l'année et au mois de naissance déclarés."
            in unescape(response.content.decode()))


def test_search_queries_do_not_grow_with_the_results(client: Any, agent: Any,
                                                     django_assert_max_num_queries: Any) -> None:
    BeneficiaryFactory.create_batch(20, nom="DUPONT")
    with django_assert_max_num_queries(6):
        assert "20 résultats" in _search(client, nom="dupont")


def test_file_page_queries_are_bounded(client: Any, django_assert_max_num_queries: Any) -> None:
    f = filled_file()
    client.force_login(f.sarah)
    with django_assert_max_num_queries(40):
        client.get(reverse("beneficiaries:detail", args=[f.lea.pk]))
