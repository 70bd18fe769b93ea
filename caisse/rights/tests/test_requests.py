"""C2S and AME requests decided by the shared engine, recorded in the file and granted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.rights.models import AMEStatus, C2SStatus
from caisse.rights.requests import HouseholdMember, submit_ame_request, submit_c2s_request

pytestmark = pytest.mark.django_db
D = dt.date


def _resources(first: str, monthly_cts: int, months: int = 14) -> list[dict[str, object]]:
    year, month = map(int, first.split("-"))
    out = []
    for _ in range(months):
        out.append({"mois": f"{year:04d}-{month:02d}", "montant_cts": monthly_cts})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def test_low_resources_give_free_c2s_to_each_covered_member(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    parent = BeneficiaryFactory(date_naissance=D(1980, 1, 1))
    child = BeneficiaryFactory(minor=True)
    request = submit_c2s_request(
        parent, date_demande=D(2025, 9, 10), by=gestionnaire, decided_on=D(2025, 9, 20),
        membres=[HouseholdMember(D(1980, 1, 1), "demandeur", parent), HouseholdMember(D(2015, 3, 14), "enfant", child)],
        ressources=_resources("2024-08", 50_000),
    )
    assert request.decision == "c2s_gratuite"
    for person in (parent, child):
        attribution = person.c2s_attributions.get()
        # Open from the first day of the month after the decision, for 12 months (L861-5).
        assert (attribution.debut, attribution.fin) == (D(2025, 10, 1), D(2026, 9, 30))
        assert not attribution.participation


def test_resources_between_the_ceilings_give_a_participation_by_age(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory(date_naissance=D(1960, 6, 1))
    request = submit_c2s_request(
        person, date_demande=D(2025, 9, 10), by=gestionnaire, decided_on=D(2025, 9, 20),
        membres=[HouseholdMember(D(1960, 6, 1), "demandeur", person)], ressources=_resources("2024-08", 110_000),
    )
    assert request.decision == "c2s_participation"
    # 64 on 1 January 2025: band 60–69 years, 25 € a month (arrêté du 29 décembre 2023).
    assert person.c2s_attributions.get().participation_mensuelle_cts == 2500


def test_high_resources_are_refused_with_a_motif(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    request = submit_c2s_request(
        person, date_demande=D(2025, 9, 10), by=gestionnaire,
        membres=[HouseholdMember(D(1985, 4, 12), "demandeur", person)], ressources=_resources("2024-08", 400_000),
    )
    assert request.decision == "refus" and request.motif
    assert not person.c2s_attributions.exists()


def test_rsa_gives_c2s_without_resources_check(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    request = submit_c2s_request(
        person, date_demande=D(2025, 9, 10), by=gestionnaire, rsa=True,
        membres=[HouseholdMember(D(1985, 4, 12), "demandeur", person)], ressources=_resources("2024-08", 400_000),
    )
    assert request.decision == "c2s_gratuite"
    assert person.c2s_attributions.get().automatique_rsa


def test_renewal_starts_the_day_after_the_current_c2s(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    member = [HouseholdMember(D(1985, 4, 12), "demandeur", person)]
    submit_c2s_request(person, date_demande=D(2025, 9, 10), by=gestionnaire, decided_on=D(2025, 9, 20),
                       membres=member, ressources=_resources("2024-08", 50_000))
    with pytest.raises(ValidationError, match="renouvellement"):
        submit_c2s_request(person, date_demande=D(2026, 7, 10), by=gestionnaire, decided_on=D(2026, 7, 20),
                           membres=member, ressources=_resources("2025-06", 50_000))
    submit_c2s_request(person, date_demande=D(2026, 7, 10), by=gestionnaire, decided_on=D(2026, 7, 20),
                       membres=member, ressources=_resources("2025-06", 50_000), renouvellement=True)
    current, upcoming = person.c2s_attributions.order_by("debut")
    assert upcoming.debut == D(2026, 10, 1) and upcoming.statut == C2SStatus.A_VENIR
    assert current.statut == C2SStatus.OUVERTE


def test_first_ame_request_must_be_made_in_person(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    kwargs = dict(date_demande=D(2025, 9, 10), by=gestionnaire, residence_depuis=D(2024, 1, 1),
                  membres=[HouseholdMember(D(1985, 4, 12), "demandeur", person)],
                  ressources=_resources("2024-08", 30_000))
    refused = submit_ame_request(person, depot_en_personne=False, **kwargs)  # type: ignore[arg-type]
    assert refused.statut == AMEStatus.REFUSEE and "en personne" in refused.motif
    granted = submit_ame_request(person, depot_en_personne=True, **kwargs)  # type: ignore[arg-type]
    # One year from the date of the request (CASF L252-3).
    assert (granted.statut, granted.debut, granted.fin) == (AMEStatus.ACCORDEE, D(2025, 9, 10), D(2026, 9, 9))


def test_ame_needs_three_months_of_residence(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    ame = submit_ame_request(person, date_demande=D(2025, 9, 10), by=gestionnaire, residence_depuis=D(2025, 8, 1),
                             depot_en_personne=True, membres=[HouseholdMember(D(1985, 4, 12), "demandeur", person)],
                             ressources=_resources("2024-08", 30_000))
    assert ame.statut == AMEStatus.REFUSEE and "résidence" in ame.motif
