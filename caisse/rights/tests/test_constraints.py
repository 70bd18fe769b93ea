"""Each business invariant is enforced by the database itself (one test per named constraint)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.professionals.tests.factories import HealthProfessionalFactory
from caisse.rights.models import (
    C2SAttribution,
    CarteVitale,
    MedecinTraitantDeclaration,
    ResidenceControl,
    RightsPeriod,
)

pytestmark = pytest.mark.django_db

D = dt.date


def _raises(name: str, sqlite_unique: str = ""):  # type: ignore[no-untyped-def]
    """PostgreSQL names the violated constraint; SQLite names the columns of a unique index."""
    pattern = name if not sqlite_unique else f"{name}|UNIQUE constraint failed: {sqlite_unique}"
    return pytest.raises(IntegrityError, match=pattern)


def test_rights_periods_of_one_person_cannot_overlap() -> None:
    person = BeneficiaryFactory()
    RightsPeriod.objects.create(beneficiary=person, debut=D(2020, 1, 1), fin=D(2022, 12, 31),
                                motif_ouverture="residence", motif_fermeture="depart_etranger")
    with _raises("exclude_rightsperiod_overlapping"), transaction.atomic():
        RightsPeriod.objects.create(beneficiary=person, debut=D(2022, 12, 31), motif_ouverture="activite")
    RightsPeriod.objects.create(beneficiary=person, debut=D(2023, 1, 1), motif_ouverture="activite")


def test_open_ended_rights_period_blocks_any_later_period() -> None:
    person = BeneficiaryFactory()
    RightsPeriod.objects.create(beneficiary=person, debut=D(2020, 1, 1), motif_ouverture="residence")
    with _raises("exclude_rightsperiod_overlapping"), transaction.atomic():
        RightsPeriod.objects.create(beneficiary=person, debut=D(2030, 1, 1), motif_ouverture="activite")


def test_overlap_is_checked_on_update_too() -> None:
    person = BeneficiaryFactory()
    RightsPeriod.objects.create(beneficiary=person, debut=D(2020, 1, 1), fin=D(2020, 12, 31),
                                motif_ouverture="residence", motif_fermeture="mutation")
    later = RightsPeriod.objects.create(beneficiary=person, debut=D(2022, 1, 1), motif_ouverture="activite")
    later.debut = D(2020, 6, 1)
    with _raises("exclude_rightsperiod_overlapping"), transaction.atomic():
        later.save()


def test_two_people_may_have_the_same_periods() -> None:
    for person in BeneficiaryFactory.create_batch(2):
        RightsPeriod.objects.create(beneficiary=person, debut=D(2020, 1, 1), motif_ouverture="residence")
    assert RightsPeriod.objects.count() == 2


def test_closed_rights_period_needs_a_reason() -> None:
    person = BeneficiaryFactory()
    with _raises("check_rightsperiod_closed_with_reason"), transaction.atomic():
        RightsPeriod.objects.create(beneficiary=person, debut=D(2020, 1, 1), fin=D(2021, 1, 1),
                                    motif_ouverture="residence")


def test_period_end_cannot_precede_start() -> None:
    person = BeneficiaryFactory()
    with _raises("check_rightsperiod_order"), transaction.atomic():
        RightsPeriod.objects.create(beneficiary=person, debut=D(2021, 1, 1), fin=D(2020, 1, 1),
                                    motif_ouverture="residence", motif_fermeture="deces")


def test_one_open_c2s_per_person() -> None:
    person = BeneficiaryFactory()
    C2SAttribution.objects.create(beneficiary=person, debut=D(2025, 1, 1), fin=D(2025, 12, 31))
    with _raises("unique_c2sattribution_open_per_person", "rights_c2sattribution.beneficiary_id"), transaction.atomic():
        C2SAttribution.objects.create(beneficiary=person, debut=D(2026, 1, 1), fin=D(2026, 12, 31))


def test_c2s_periods_cannot_overlap_even_when_closed() -> None:
    person = BeneficiaryFactory()
    C2SAttribution.objects.create(beneficiary=person, debut=D(2025, 1, 1), fin=D(2025, 12, 31), statut="fermee")
    with _raises("exclude_c2sattribution_overlapping"), transaction.atomic():
        C2SAttribution.objects.create(beneficiary=person, debut=D(2025, 6, 1), fin=D(2026, 5, 31), statut="fermee")


def test_free_c2s_has_no_participation_amount() -> None:
    person = BeneficiaryFactory()
    with _raises("check_c2sattribution_free_has_no_participation"), transaction.atomic():
        C2SAttribution.objects.create(beneficiary=person, debut=D(2025, 1, 1), fin=D(2025, 12, 31),
                                      participation=False, participation_mensuelle_cts=800)


def test_one_current_carte_vitale_per_person() -> None:
    person = BeneficiaryFactory()
    CarteVitale.objects.create(beneficiary=person, numero="A1", statut="active", date_commande=D(2020, 1, 1))
    with _raises("unique_cartevitale_current_per_person", "rights_cartevitale.beneficiary_id"), transaction.atomic():
        CarteVitale.objects.create(beneficiary=person, numero="A2", date_commande=D(2024, 1, 1))


def test_opposed_card_needs_date_and_reason() -> None:
    person = BeneficiaryFactory()
    with _raises("check_cartevitale_opposition_dated"), transaction.atomic():
        CarteVitale.objects.create(beneficiary=person, numero="B1", statut="en_opposition",
                                   date_commande=D(2020, 1, 1))


def test_one_medecin_traitant_at_a_time() -> None:
    person = BeneficiaryFactory()
    first, second = HealthProfessionalFactory.create_batch(2)
    MedecinTraitantDeclaration.objects.create(beneficiary=person, medecin=first, debut=D(2020, 1, 1))
    with _raises("exclude_medecintraitant_overlapping"), transaction.atomic():
        MedecinTraitantDeclaration.objects.create(beneficiary=person, medecin=second, debut=D(2024, 1, 1))


def test_one_open_residence_control_per_person() -> None:
    person = BeneficiaryFactory()
    ResidenceControl.objects.create(beneficiary=person, motif="sans_mise_a_jour", ouvert_le=D(2026, 1, 5))
    with _raises("unique_residencecontrol_open_per_person", "rights_residencecontrol.beneficiary_id"), transaction.atomic():
        ResidenceControl.objects.create(beneficiary=person, motif="titre_sejour_echu", ouvert_le=D(2026, 2, 5))


def test_closed_control_is_dated() -> None:
    person = BeneficiaryFactory()
    with _raises("check_residencecontrol_closed_dated"), transaction.atomic():
        ResidenceControl.objects.create(beneficiary=person, motif="sans_mise_a_jour", ouvert_le=D(2026, 1, 5),
                                        statut="droits_maintenus")


def test_death_cannot_precede_birth() -> None:
    with _raises("check_beneficiary_death_after_birth"), transaction.atomic():
        BeneficiaryFactory(date_naissance=D(1990, 1, 1), date_deces=D(1980, 1, 1))
