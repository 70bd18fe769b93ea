"""The rights forms: each POST calls one service; bad input comes back with the French message."""

from __future__ import annotations

import datetime as dt
from html import unescape
from typing import Any

import pytest
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.core.models import AuditEvent
from caisse.professionals.tests.factories import HealthProfessionalFactory
from caisse.rights import services
from caisse.rights.models import (
    CardStatus,
    ControlStatus,
    MaternityPeriod,
    MedecinTraitantDeclaration,
    ProtocolStatus,
    ResidenceControl,
    RightsPeriod,
)
from caisse.web.tests.personas import fast_passwords, filled_file, user_for  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

TODAY = dt.date.today()


@pytest.fixture
def claire(client: Any) -> Any:
    """Claire, gestionnaire droits."""
    user = user_for(Role.GESTIONNAIRE_DROITS)
    client.force_login(user)
    return user


def _text(response: Any) -> str:
    return unescape(response.content.decode())


def test_open_rights(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    url = reverse("rights:open_rights", args=[person.pk])
    assert "<title>Ouvrir une période de droits" in client.get(url).content.decode()
    response = client.post(url, {"debut": "2024-01-01", "motif": "residence"})
    assert response.status_code == 302
    period = RightsPeriod.objects.get(beneficiary=person)
    assert period.debut == dt.date(2024, 1, 1)
    assert AuditEvent.objects.filter(beneficiary=person, summary__startswith="Ouverture des droits", actor=claire).exists()


def test_overlapping_rights_get_the_constraint_message(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    services.open_rights(person, debut=dt.date(2020, 1, 1), motif="activite", by=claire)
    response = client.post(reverse("rights:open_rights", args=[person.pk]), {"debut": "2024-01-01", "motif": "residence"})
    assert response.status_code == 200
    assert "La période chevauche une période de droits existante." in _text(response)
    assert RightsPeriod.objects.filter(beneficiary=person).count() == 1


def test_close_rights_refuses_an_end_before_the_start(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    period = services.open_rights(person, debut=dt.date(2020, 1, 1), motif="activite", by=claire)
    url = reverse("rights:close_rights", args=[person.pk, period.pk])
    response = client.post(url, {"fin": "2019-12-31", "motif": "depart_etranger"})
    assert "La date de fermeture précède l'ouverture des droits." in _text(response)
    assert client.post(url, {"fin": "2024-06-30", "motif": "depart_etranger"}).status_code == 302
    period.refresh_from_db()
    assert period.fin == dt.date(2024, 6, 30) and period.motif_fermeture == "depart_etranger"


def test_form_refuses_a_malformed_date_in_french(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    response = client.post(reverse("rights:open_rights", args=[person.pk]), {"debut": "31/02/2024", "motif": "residence"})
    assert "Saisissez une date valide." in _text(response)


def test_declare_medecin_traitant_by_rpps(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    doctor = HealthProfessionalFactory()
    url = reverse("rights:medecin_traitant", args=[person.pk])
    response = client.post(url, {"medecin": "12345678901", "debut": "2024-01-01", "canal": "papier"})
    assert "Aucun professionnel de santé n'a cet identifiant" in _text(response)
    nurse = HealthProfessionalFactory(nurse=True)
    response = client.post(url, {"medecin": nurse.identifiant, "debut": "2024-01-01", "canal": "papier"})
    assert "Le médecin traitant doit être un médecin." in _text(response)
    assert client.post(url, {"medecin": doctor.identifiant, "debut": "2024-01-01", "canal": "papier"}).status_code == 302
    assert MedecinTraitantDeclaration.objects.get(beneficiary=person).medecin == doctor


def test_declare_pregnancy_then_birth(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory(sexe="F")
    url = reverse("rights:pregnancy", args=[person.pk])
    response = client.post(url, {"date_debut_grossesse": "2026-03-01", "date_accouchement_prevue": "2026-02-01"})
    assert "La date présumée d'accouchement doit suivre le début de grossesse." in _text(response)
    client.post(url, {"date_debut_grossesse": "2026-03-01", "date_accouchement_prevue": "2026-12-01"})
    period = MaternityPeriod.objects.get(beneficiary=person)
    birth = reverse("rights:birth", args=[person.pk, period.pk])
    assert client.post(birth, {"date_accouchement": "2026-11-28"}).status_code == 302
    period.refresh_from_db()
    assert period.date_accouchement == dt.date(2026, 11, 28)


def test_card_lifecycle_order_produce_deliver_oppose(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    client.post(reverse("rights:order_card", args=[person.pk]), {"canal": "agence"})
    card = person.cartes_vitale.get()
    assert card.statut == CardStatus.COMMANDEE
    deliver = reverse("rights:advance_card", args=[person.pk, card.pk, "deliver"])
    response = client.post(deliver, follow=True)
    assert "Transition impossible" in _text(response)
    assert client.get(deliver).status_code == 405
    client.post(reverse("rights:advance_card", args=[person.pk, card.pk, "produce"]))
    client.post(deliver)
    card.refresh_from_db()
    assert card.statut == CardStatus.ACTIVE and card.date_remise == TODAY
    response = client.post(reverse("rights:oppose_card", args=[person.pk, card.pk]), {"motif": "perte", "remplacer": "on"})
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.statut == CardStatus.EN_OPPOSITION
    assert card.remplacee_par is not None


def test_second_card_order_gets_the_constraint_message(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    services.order_card(person, canal="agence", when=TODAY, by=claire)
    response = client.post(reverse("rights:order_card", args=[person.pk]), {"canal": "agence"})
    assert "Cette personne a déjà une carte Vitale en cours ou active." in _text(response)


def test_card_of_another_file_is_not_found(client: Any, claire: Any) -> None:
    f = filled_file()
    other = BeneficiaryFactory()
    response = client.post(reverse("rights:oppose_card", args=[other.pk, f.card.pk]), {"motif": "perte"})
    assert response.status_code == 404


def test_medecin_conseil_submits_then_validates_a_protocol(client: Any) -> None:
    person = BeneficiaryFactory()
    sarah = user_for(Role.MEDECIN_CONSEIL)
    client.force_login(sarah)
    url = reverse("rights:submit_protocol", args=[person.pk])
    response = client.post(url, {"kind": "liste", "affection": "Diabète", "date_protocole": "2026-01-05"})
    assert "Une ALD de la liste doit indiquer son numéro dans la liste (1 à 30)." in _text(response)
    client.post(url, {"kind": "liste", "numero_liste": "8", "affection": "Diabète", "date_protocole": "2026-01-05"})
    ald = person.ald_periods.get()
    review = reverse("rights:review_protocol", args=[person.pk, ald.pk])
    response = client.post(review, {"decision": "valider", "debut": "2026-01-05", "fin": "2025-01-01"})
    assert "La date de fin précède la date de début." in _text(response)
    response = client.post(review, {"decision": "valider"})
    assert "Indiquez le début de l'exonération" in _text(response)
    assert client.post(review, {"decision": "valider", "debut": "2026-01-05", "fin": ""}).status_code == 302
    ald.refresh_from_db()
    assert ald.statut_protocole == ProtocolStatus.VALIDE and ald.valide_par == sarah
    response = client.post(review, {"decision": "refuser"})
    assert "Ce protocole a déjà été examiné." in _text(response)


def test_protocol_queue_lists_pending_protocols(client: Any) -> None:
    f = filled_file()
    client.force_login(f.sarah)
    html = client.get(reverse("rights:protocol_queue")).content.decode()
    assert "1 protocole transmis" in html
    assert reverse("rights:review_protocol", args=[f.lea.pk, f.pending.pk]) in html


def test_residence_controls_targets_open_and_close(client: Any, claire: Any) -> None:
    stale = BeneficiaryFactory(nom="ANCIEN")
    services.open_rights(stale, debut=dt.date(2015, 1, 1), motif="residence", by=None)
    type(stale).objects.filter(pk=stale.pk).update(derniere_mise_a_jour=dt.date(2018, 1, 1))
    page = client.get(reverse("rights:residence_controls")).content.decode()
    assert "ANCIEN" in page and "Aucune mise à jour du dossier depuis 3 ans : 1 personne" in page
    response = client.post(reverse("rights:open_controls"), follow=True)
    assert "1 contrôle de résidence ouvert." in _text(response)
    control = ResidenceControl.objects.get(beneficiary=stale)
    close = reverse("rights:close_control", args=[stale.pk, control.pk])
    response = client.post(close, {"outcome": "", "clos_le": TODAY.isoformat()})
    assert "Ce champ est obligatoire." in _text(response)
    response = client.post(close, {"outcome": ControlStatus.DROITS_FERMES, "clos_le": TODAY.isoformat(),
                                   "observations": "Courrier revenu : n'habite pas à l'adresse indiquée."})
    assert response.status_code == 302
    control.refresh_from_db()
    assert control.statut == ControlStatus.DROITS_FERMES
    assert stale.rights_periods.get().motif_fermeture == "controle_residence"


def test_queues_do_not_query_once_per_line(client: Any, django_assert_max_num_queries: Any) -> None:
    sarah = user_for(Role.MEDECIN_CONSEIL)
    for person in BeneficiaryFactory.create_batch(15):
        services.submit_protocol(person, kind="hors_liste", affection="X", date_protocole=TODAY, by=sarah)
        services.open_rights(person, debut=dt.date(2015, 1, 1), motif="residence", by=None)
    type(person).objects.update(derniere_mise_a_jour=dt.date(2018, 1, 1))
    services.open_residence_controls(TODAY, by=None)
    client.force_login(sarah)
    with django_assert_max_num_queries(8):
        assert "15 protocoles transmis" in client.get(reverse("rights:protocol_queue")).content.decode()
    client.force_login(user_for(Role.ENQUETEUR))
    with django_assert_max_num_queries(12):
        assert "Contrôles ouverts (15)" in client.get(reverse("rights:residence_controls")).content.decode()
