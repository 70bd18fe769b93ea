"""The screens of C2S and AME requests, participation dues, death, invalidity and attachment."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.urls import reverse

from caisse.accounts.models import Role
from caisse.beneficiaries.models import ParentLink
from caisse.beneficiaries.tests.factories import BeneficiaryFactory, ParentLinkFactory
from caisse.rights import services
from caisse.rights.forms import euros_to_cents, month_name, of_month, window_months
from caisse.rights.models import AMEStatus, C2SRequest, C2SStatus, CardStatus, InvalidityPeriod
from caisse.rules.c2s.engine import c2s_ceiling, euros, resource_window
from caisse.web.tests.personas import fast_passwords, user_for  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

TODAY = dt.date.today()
FIRST, LAST = resource_window(TODAY)
MONTHS = window_months(FIRST, LAST)


@pytest.fixture
def claire(client: Any) -> Any:
    """Claire, gestionnaire droits."""
    user = user_for(Role.GESTIONNAIRE_DROITS)
    client.force_login(user)
    return user


def _text(response: Any) -> str:
    return unescape(response.content.decode())


def _request_data(amount: str = "500,00", **extra: Any) -> dict[str, Any]:
    data = {"date_demande": TODAY.isoformat(), "zone": "metropole", "logement": "locataire", "fenetre": FIRST,
            **{f"ressources_{m}": amount for m in MONTHS}}
    for row in range(1, 5):
        data |= {f"membre_{row}_naissance": "", f"membre_{row}_role": ""}
    return data | extra


def _with_participation(person: Any, by: Any, months_ago: int = 3) -> Any:
    debut = TODAY.replace(day=1) - relativedelta(months=months_ago)
    return services.grant_c2s(person, debut=debut, fin=debut + relativedelta(years=1) - dt.timedelta(days=1),
                              participation_mensuelle_cts=2500, by=by)


# --- Amounts ------------------------------------------------------------------------------------


def test_months_are_named_in_french() -> None:
    assert (of_month("2025-04"), of_month("2025-08"), of_month("2025-10")) == ("d'avril 2025", "d'août 2025",
                                                                             "d'octobre 2025")
    assert of_month("2025-01") == "de janvier 2025" and window_months("2024-11", "2025-02")[-1] == "2025-02"


@pytest.mark.parametrize(("typed", "cents"), [
    ("0", 0), ("1234", 123_400), ("1 234,56", 123_456), ("1234.5", 123_450), ("1\u202f234,05 €", 123_405),
    ("0,01", 1), ("999999999,99", 99_999_999_999),
])
def test_euros_are_converted_exactly_to_cents(typed: str, cents: int) -> None:
    assert euros_to_cents(typed) == cents


@pytest.mark.parametrize(("typed", "message"), [
    ("-12,00", "Le montant ne peut pas être négatif."), ("douze", "Saisissez un montant en euros"),
    ("1e3", "Saisissez un montant en euros"), ("12,345", "au plus deux chiffres après la virgule"),
    ("12,3,4", "Saisissez un montant en euros"),
])
def test_what_is_not_an_amount_is_refused_in_french(typed: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        euros_to_cents(typed)


# --- C2S ------------------------------------------------------------------------------------------


def test_c2s_form_shows_the_window_and_the_attached_children(client: Any, claire: Any) -> None:
    parent = BeneficiaryFactory(prenom="Léa")
    ParentLinkFactory(parent=parent, child__prenom="Hugo", debut=dt.date(2015, 3, 14))
    html = _text(client.get(reverse("rights:c2s_request", args=[parent.pk])))
    assert f"Ressources du foyer {of_month(FIRST)} à {month_name(LAST)}" in html
    assert len(MONTHS) == 12 and all(f"Ressources {of_month(m)} (en euros)" in html for m in MONTHS)
    assert "Hugo" in html and "(enfant rattaché)" in html
    assert "<legend>Le foyer</legend>" in html


def test_c2s_request_decides_grants_and_shows_the_result(client: Any, claire: Any) -> None:
    parent = BeneficiaryFactory(date_naissance=dt.date(1985, 4, 12))
    child = ParentLinkFactory(parent=parent, debut=dt.date(2015, 3, 14)).child
    data = _request_data("500,10", **{f"enfant_{child.pk}": "on", "membre_1_naissance": "1986-02-01",
                                      "membre_1_role": "conjoint"})
    response = client.post(reverse("rights:c2s_request", args=[parent.pk]), data)
    c2s = C2SRequest.objects.get(demandeur=parent)
    assert response.status_code == 302
    assert response["Location"] == reverse("rights:c2s_result", args=[parent.pk, c2s.pk])
    assert c2s.decision == "c2s_gratuite" and len(c2s.membres) == 3
    assert c2s.ressources[0] == {"mois": FIRST, "montant_cts": 50_010}
    assert parent.c2s_attributions.count() == 1 and child.c2s_attributions.count() == 1
    html = _text(client.get(response["Location"]))
    assert "C2S sans participation" in html and euros(c2s.plafond_cts) in html
    assert euros(c2s.ressources_retenues_cts) in html and c2s.motif in html
    assert "Conjoint, concubin ou partenaire de PACS" in html and "Non couvert par la caisse" in html
    page = _text(client.get(reverse("beneficiaries:detail", args=[parent.pk])))
    assert "Demandes de C2S" in page and c2s.motif in page and "Demander ou renouveler la C2S" in page


def test_c2s_with_participation_shows_each_members_share(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory(date_naissance=dt.date(1960, 6, 1))
    yearly = (c2s_ceiling(1, "metropole", TODAY, False) + c2s_ceiling(1, "metropole", TODAY, True)) // 2
    monthly = f"{yearly // 1200},00"
    response = client.post(reverse("rights:c2s_request", args=[person.pk]), _request_data(monthly), follow=True)
    attribution = person.c2s_attributions.get()
    assert attribution.participation and attribution.participation_mensuelle_cts > 0
    html = _text(response)
    assert "C2S avec participation" in html and f"{euros(attribution.participation_mensuelle_cts)}</td>" in html


def test_c2s_request_refuses_bad_amounts_and_incomplete_members(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    data = _request_data(**{f"ressources_{MONTHS[0]}": "-10", f"ressources_{MONTHS[1]}": "beaucoup",
                            f"ressources_{MONTHS[2]}": "", "membre_2_naissance": "2001-01-01"})
    response = client.post(reverse("rights:c2s_request", args=[person.pk]), data)
    html = _text(response)
    assert response.status_code == 200 and "<title>Erreur : " in html
    assert "Le montant ne peut pas être négatif." in html and "Saisissez un montant en euros" in html
    assert "Ce champ est obligatoire." in html and "Indiquez le lien de cette personne avec le demandeur." in html
    assert 'aria-invalid="true"' in html
    assert not C2SRequest.objects.exists()


def test_a_new_request_date_asks_to_check_the_months_again(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    earlier = TODAY - relativedelta(months=2)
    response = client.post(reverse("rights:c2s_request", args=[person.pk]),
                           _request_data(date_demande=earlier.isoformat()))
    first, last = resource_window(earlier)
    assert (f"La date de la demande couvre les ressources {of_month(first)} à {month_name(last)} : "
            "vérifiez le montant de chaque mois.") in _text(response)
    assert f'name="fenetre" value="{first}"' in response.content.decode()
    assert not C2SRequest.objects.exists()


def test_renewal_of_a_current_c2s(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    current = services.grant_c2s(person, debut=TODAY - relativedelta(months=10), by=claire,
                                 fin=TODAY + relativedelta(months=2), participation_mensuelle_cts=0)
    url = reverse("rights:c2s_request", args=[person.pk])
    html = _text(client.get(url))
    assert "<h1>Renouveler la complémentaire santé solidaire</h1>" in html
    assert re.search(r'<input type="checkbox" name="renouvellement"[^>]* checked>', html)
    response = client.post(url, _request_data())
    assert "faites un renouvellement" in _text(response) and not C2SRequest.objects.exists()
    assert client.post(url, _request_data(renouvellement="on")).status_code == 302
    upcoming = person.c2s_attributions.exclude(pk=current.pk).get()
    assert upcoming.debut == current.fin + dt.timedelta(days=1) and upcoming.statut == C2SStatus.A_VENIR


# --- AME -------------------------------------------------------------------------------------------


def test_ame_request_in_person_is_granted_with_its_motif(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    url = reverse("rights:ame_request", args=[person.pk])
    data = _request_data("300", depot_en_personne="on", residence_depuis=(TODAY - relativedelta(years=2)).isoformat())
    response = client.post(url, data, follow=True)
    ame = person.ame_attributions.get()
    assert ame.statut == AMEStatus.ACCORDEE and ame.debut == TODAY
    html = _text(response)
    assert "Décision sur la demande d'AME" in html and "Accordée" in html and ame.motif in html


def test_ame_request_refuses_an_arrival_after_the_request(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    data = _request_data("300", residence_depuis=(TODAY + dt.timedelta(days=1)).isoformat())
    response = client.post(reverse("rights:ame_request", args=[person.pk]), data)
    assert "La date d'arrivée en France suit la date de la demande." in _text(response)
    assert not person.ame_attributions.exists()


def test_first_ame_request_not_in_person_is_refused_with_the_reason(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    data = _request_data("300", residence_depuis=(TODAY - relativedelta(years=2)).isoformat())
    html = _text(client.post(reverse("rights:ame_request", args=[person.pk]), data, follow=True))
    assert "Refusée" in html and "doit être déposée en personne" in html


# --- Participation and suspension --------------------------------------------------------------------


def test_unpaid_dues_suspend_then_payments_restore_the_c2s(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    attribution = _with_participation(person, claire)
    dues_url = reverse("rights:c2s_dues", args=[person.pk, attribution.pk])
    assert "3 échéances échues impayées" in _text(client.get(dues_url))
    response = client.post(reverse("rights:run_c2s_suspensions"), follow=True)
    assert "1 C2S suspendue pour participation impayée." in _text(response)
    attribution.refresh_from_db()
    assert attribution.statut == C2SStatus.SUSPENDUE
    overdue = list(attribution.dues.filter(mois__lt=TODAY.replace(day=1)))
    pay = reverse("rights:pay_due", args=[person.pk, attribution.pk, overdue[0].pk])
    response = client.post(pay, {"payee_le": (TODAY + dt.timedelta(days=1)).isoformat()})
    assert "La date de paiement ne peut pas être dans le futur." in _text(response)
    for due in overdue:
        response = client.post(reverse("rights:pay_due", args=[person.pk, attribution.pk, due.pk]),
                               {"payee_le": TODAY.isoformat()})
        assert response.status_code == 302 and response["Location"] == dues_url
    assert "La C2S est rétablie." in _text(client.get(dues_url))
    attribution.refresh_from_db()
    assert attribution.statut == C2SStatus.OUVERTE
    assert "Cette échéance est déjà payée" in _text(client.post(pay, {"payee_le": TODAY.isoformat()}))


def test_suspension_page_without_anything_to_suspend(client: Any, claire: Any) -> None:
    html = _text(client.get(reverse("rights:c2s_suspensions")))
    assert "au moins 2 échéances échues impayées" in html and "Aucune C2S suspendue." in html
    assert "Aucune C2S à suspendre aujourd'hui." in _text(client.post(reverse("rights:run_c2s_suspensions"),
                                                                       follow=True))
    assert client.get(reverse("rights:run_c2s_suspensions")).status_code == 405


# --- Death, invalidity, attachment -----------------------------------------------------------------------


def test_death_confirmation_lists_what_it_closes(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    services.open_rights(person, debut=dt.date(2016, 1, 1), motif="activite", by=claire)
    card = services.order_card(person, canal="agence", when=TODAY, by=claire)
    url = reverse("rights:declare_death", args=[person.pk])
    html = _text(client.get(url))
    assert "Ce que la déclaration ferme" in html and "période du 01/01/2016 en cours" in html
    assert f"carte n° {card.numero}" in html
    response = client.post(url, {"date_deces": TODAY.isoformat()})
    assert "Cochez la case pour confirmer la déclaration du décès." in _text(response)
    response = client.post(url, {"date_deces": (TODAY + dt.timedelta(days=1)).isoformat(), "confirmer": "on"})
    assert "La date du décès ne peut pas être dans le futur." in _text(response)
    assert client.post(url, {"date_deces": TODAY.isoformat(), "confirmer": "on"}).status_code == 302
    person.refresh_from_db()
    card.refresh_from_db()
    assert person.date_deces == TODAY and card.statut == CardStatus.EN_OPPOSITION
    assert person.rights_periods.get().motif_fermeture == "deces"
    response = client.post(url, {"date_deces": TODAY.isoformat(), "confirmer": "on"})
    assert "Le décès de cette personne est déjà enregistré." in _text(response)


def test_open_invalidity(client: Any, claire: Any) -> None:
    person = BeneficiaryFactory()
    url = reverse("rights:open_invalidity", args=[person.pk])
    assert "Ce champ est obligatoire." in _text(client.post(url, {"categorie": "", "debut": "2025-01-01"}))
    assert client.post(url, {"categorie": "2", "debut": "2025-01-01"}).status_code == 302
    assert InvalidityPeriod.objects.get(beneficiary=person).categorie == 2
    response = client.post(url, {"categorie": "3", "debut": "2025-06-01"})
    assert "La période d'invalidité chevauche une période existante." in _text(response)


def test_attach_a_child_found_by_nir(client: Any, claire: Any) -> None:
    parent = BeneficiaryFactory(date_naissance=dt.date(1985, 4, 12))
    child = BeneficiaryFactory(minor=True)
    url = reverse("rights:attach", args=[parent.pk])
    response = client.post(url, {"lien": "enfant", "nir": "1 85 04 75 999 999 99", "debut": "2015-03-14"})
    assert "Aucun bénéficiaire n'a ce NIR." in _text(response)
    response = client.post(url, {"lien": "parent", "nir": child.nir_formate, "debut": "2015-03-14"})
    assert "vérifiez le sens du lien" in _text(response)
    response = client.post(url, {"lien": "enfant", "nir": child.nir_formate, "debut": "2015-03-14"})
    assert response.status_code == 302
    assert ParentLink.objects.filter(parent=parent, child=child, debut=dt.date(2015, 3, 14)).exists()
    response = client.post(url, {"lien": "enfant", "nir": child.nir, "debut": "2015-03-14"})
    assert "Cet enfant est déjà rattaché à ce parent." in _text(response)


# --- Permissions -----------------------------------------------------------------------------------------


FORM_PAGES = ["c2s_request", "ame_request", "c2s_dues", "pay_due", "declare_death", "open_invalidity", "attach",
              "c2s_suspensions"]


def _url(name: str, person: Any, attribution: Any) -> str:
    if name == "c2s_suspensions":
        return reverse("rights:c2s_suspensions")
    if name == "c2s_dues":
        return reverse("rights:c2s_dues", args=[person.pk, attribution.pk])
    if name == "pay_due":
        return reverse("rights:pay_due", args=[person.pk, attribution.pk, attribution.dues.first().pk])
    return reverse(f"rights:{name}", args=[person.pk])


@pytest.mark.parametrize("name", FORM_PAGES)
@pytest.mark.parametrize(("role", "status"), [(Role.ACCUEIL, 403), (Role.GESTIONNAIRE_DROITS, 200)])
def test_rights_screens_are_for_the_gestionnaire_droits(client: Any, name: str, role: str, status: int) -> None:
    person = BeneficiaryFactory()
    attribution = _with_participation(person, None)
    client.force_login(user_for(role))
    assert client.get(_url(name, person, attribution)).status_code == status


def test_accueil_can_neither_post_a_request_nor_run_suspensions(client: Any) -> None:
    person = BeneficiaryFactory()
    client.force_login(user_for(Role.ACCUEIL))
    assert client.post(reverse("rights:c2s_request", args=[person.pk]), _request_data()).status_code == 403
    assert client.post(reverse("rights:run_c2s_suspensions")).status_code == 403
    assert not C2SRequest.objects.exists()
    html = client.get(reverse("beneficiaries:detail", args=[person.pk])).content.decode()
    assert reverse("rights:c2s_request", args=[person.pk]) not in html
    assert reverse("rights:declare_death", args=[person.pk]) not in html


def test_result_of_another_file_is_not_found(client: Any, claire: Any) -> None:
    person, other = BeneficiaryFactory(), BeneficiaryFactory()
    client.post(reverse("rights:c2s_request", args=[person.pk]), _request_data())
    c2s = C2SRequest.objects.get()
    assert client.get(reverse("rights:c2s_result", args=[other.pk, c2s.pk])).status_code == 404
