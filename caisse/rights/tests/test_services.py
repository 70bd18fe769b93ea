"""Rights services: each write is validated, recorded in the file's history, and legal."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from caisse.beneficiaries.tests.factories import BeneficiaryFactory, ParentLinkFactory
from caisse.core.models import AuditEvent
from caisse.professionals.tests.factories import HealthProfessionalFactory
from caisse.rights import services
from caisse.rights.models import (
    C2SStatus,
    CardStatus,
    ControlReason,
    ControlStatus,
    OpeningReason,
    RightsPeriod,
)

pytestmark = pytest.mark.django_db
D = dt.date


def test_opening_rights_is_recorded_with_its_author(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    period = services.open_rights(person, debut=D(2024, 1, 1), motif=OpeningReason.RESIDENCE, by=gestionnaire)
    event = AuditEvent.objects.get(object_id=str(period.pk), object_type="période de droits de base")
    assert event.actor == gestionnaire
    assert event.beneficiary == person
    assert "Ouverture des droits" in event.summary


def test_overlapping_rights_are_refused_in_french_before_the_database(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    services.open_rights(person, debut=D(2024, 1, 1), motif=OpeningReason.RESIDENCE, by=gestionnaire)
    with pytest.raises(ValidationError, match="chevauche une période de droits existante"):
        services.open_rights(person, debut=D(2025, 1, 1), motif=OpeningReason.ACTIVITE, by=gestionnaire)


def test_death_closes_rights_c2s_medecin_traitant_and_opposes_cards(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    services.open_rights(person, debut=D(2020, 1, 1), motif=OpeningReason.RESIDENCE, by=gestionnaire)
    services.grant_c2s(person, debut=D(2026, 1, 1), fin=D(2026, 12, 31), participation_mensuelle_cts=0,
                       by=gestionnaire, today=D(2026, 1, 1))
    services.declare_medecin_traitant(person, medecin=HealthProfessionalFactory(), debut=D(2021, 1, 1), by=gestionnaire)
    card = services.order_card(person, canal="en_ligne", when=D(2020, 2, 1), by=gestionnaire)
    services.declare_death(person, date_deces=D(2026, 3, 10), by=gestionnaire)
    assert RightsPeriod.objects.get(beneficiary=person).fin == D(2026, 3, 10)
    assert person.c2s_attributions.get().statut == C2SStatus.FERMEE
    assert person.medecin_traitant_declarations.get().fin == D(2026, 3, 10)
    card.refresh_from_db()
    assert card.statut == CardStatus.EN_OPPOSITION and card.motif_opposition == "deces"
    with pytest.raises(ValidationError, match="déjà enregistré"):
        services.declare_death(person, date_deces=D(2026, 3, 11), by=gestionnaire)


def test_card_lifecycle_and_loss_with_replacement(accueil) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    card = services.order_card(person, canal="papier", when=D(2025, 1, 2), by=accueil)
    with pytest.raises(ValidationError, match="Transition impossible"):
        services.advance_card(card, step="deliver", when=D(2025, 1, 3), by=accueil)
    services.advance_card(card, step="produce", when=D(2025, 1, 10), by=accueil)
    services.advance_card(card, step="deliver", when=D(2025, 1, 20), by=accueil)
    new = services.oppose_card(card, motif="vol", when=D(2025, 6, 1), by=accueil)
    card.refresh_from_db()
    assert card.statut == CardStatus.EN_OPPOSITION and card.remplacee_par == new
    assert new is not None and new.statut == CardStatus.COMMANDEE
    with pytest.raises(ValidationError, match="déjà en opposition"):
        services.oppose_card(card, motif="perte", when=D(2025, 6, 2), by=accueil)


def test_a_card_number_already_taken_by_an_imported_card_is_skipped(accueil) -> None:  # type: ignore[no-untyped-def]
    from caisse.rights.models import CarteVitale

    person, other = BeneficiaryFactory.create_batch(2)
    # A card brought by the référentiel of another system, numbered like ours would be.
    CarteVitale.objects.create(beneficiary=other, numero=f"{person.pk:010d}01", statut=CardStatus.ACTIVE,
                               date_commande=D(2020, 1, 1))
    card = services.order_card(person, canal="papier", when=D(2025, 1, 2), by=accueil)
    assert card.numero == f"{person.pk:010d}02"


def test_changing_medecin_traitant_closes_the_previous_declaration(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    first, second = HealthProfessionalFactory.create_batch(2)
    services.declare_medecin_traitant(person, medecin=first, debut=D(2022, 1, 1), by=gestionnaire)
    services.declare_medecin_traitant(person, medecin=second, debut=D(2025, 3, 1), by=gestionnaire)
    old, new = person.medecin_traitant_declarations.order_by("debut")
    assert old.fin == D(2025, 2, 28) and new.fin is None


def test_a_nurse_cannot_be_medecin_traitant(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="doit être un médecin"):
        services.declare_medecin_traitant(BeneficiaryFactory(), medecin=HealthProfessionalFactory(nurse=True),
                                          debut=D(2024, 1, 1), by=gestionnaire)


def test_only_the_medecin_conseil_validates_a_protocol(gestionnaire, medecin_conseil) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    ald = services.submit_protocol(person, kind="liste", numero_liste=8, affection="Diabète de type 2",
                                   date_protocole=D(2025, 2, 1), by=gestionnaire)
    with pytest.raises(ValidationError, match="médecin-conseil"):
        services.validate_protocol(ald, debut=D(2025, 2, 1), fin=D(2035, 1, 31), by=gestionnaire)
    services.validate_protocol(ald, debut=D(2025, 2, 1), fin=D(2035, 1, 31), by=medecin_conseil, today=D(2025, 2, 10))
    assert ald.exonerante
    assert AuditEvent.objects.filter(beneficiary=person, medical=True).count() == 2
    assert services.rights_on(person, D(2026, 1, 1)).exoneration_ald


def test_pregnancy_sets_the_sixth_month_and_the_exoneration_window(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory(sexe="F")
    period = services.declare_pregnancy(person, date_debut_grossesse=D(2025, 1, 10),
                                        date_accouchement_prevue=D(2025, 10, 10), by=gestionnaire)
    assert period.debut_6e_mois == D(2025, 6, 10)
    services.record_birth(period, date_accouchement=D(2025, 10, 1), by=gestionnaire)
    # CSS L160-14: from the 1st day of the 6th month to 12 days after delivery.
    assert services.rights_on(person, D(2025, 10, 13)).maternite is not None
    assert services.rights_on(person, D(2025, 10, 14)).maternite is None
    assert services.rights_on(person, D(2025, 6, 9)).maternite is None


def test_a_c2s_closed_since_still_covers_a_past_date_but_not_a_suspended_one(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    """Rights at a past date (ADRi-like lookup): a C2S closed since (its period over, or cut at the
    death) still covers the days of its period, as the claims référentiel reads it."""
    person = BeneficiaryFactory()
    services.open_rights(person, debut=D(2020, 1, 1), motif=OpeningReason.RESIDENCE, by=gestionnaire)
    services.grant_c2s(person, debut=D(2025, 1, 1), fin=D(2025, 12, 31), participation_mensuelle_cts=0,
                       by=gestionnaire, today=D(2025, 1, 1))
    services.declare_death(person, date_deces=D(2025, 6, 30), by=gestionnaire)
    assert person.c2s_attributions.get().statut == C2SStatus.FERMEE
    assert services.rights_on(person, D(2025, 3, 1)).c2s is not None
    assert services.rights_on(person, D(2025, 7, 1)).c2s is None
    other = BeneficiaryFactory()
    attribution = services.grant_c2s(other, debut=D(2026, 1, 1), fin=D(2026, 12, 31),
                                     participation_mensuelle_cts=1400, by=gestionnaire, today=D(2026, 1, 1))
    assert services.rights_on(other, D(2026, 2, 1)).c2s is not None
    services.suspend_c2s_for_unpaid(D(2026, 3, 5))
    attribution.refresh_from_db()
    assert attribution.statut == C2SStatus.SUSPENDUE
    assert services.rights_on(other, D(2026, 2, 1)).c2s is None


def test_c2s_with_participation_is_suspended_after_two_unpaid_months_and_restored(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    person = BeneficiaryFactory()
    attribution = services.grant_c2s(person, debut=D(2026, 1, 1), fin=D(2026, 12, 31),
                                     participation_mensuelle_cts=1400, by=gestionnaire, today=D(2026, 1, 1))
    assert attribution.dues.count() == 12
    assert services.suspend_c2s_for_unpaid(D(2026, 2, 15)) == []
    suspended = services.suspend_c2s_for_unpaid(D(2026, 3, 5))
    assert [a.pk for a in suspended] == [attribution.pk]
    for due in attribution.dues.filter(mois__lt=D(2026, 3, 1)):
        services.record_participation_payment(due, paid_on=D(2026, 3, 6), by=gestionnaire)
    attribution.refresh_from_db()
    assert attribution.statut == C2SStatus.OUVERTE


@time_machine.travel(dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC), tick=False)
def test_residence_controls_target_stale_files_and_expired_permits(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    today = D(2026, 5, 1)
    stale = BeneficiaryFactory(derniere_mise_a_jour=D(2023, 4, 30))
    fresh = BeneficiaryFactory(derniere_mise_a_jour=D(2023, 5, 2))
    permit = BeneficiaryFactory(titre_sejour_fin=D(2025, 10, 31))
    recent_permit = BeneficiaryFactory(titre_sejour_fin=D(2025, 12, 1))
    no_rights = BeneficiaryFactory(derniere_mise_a_jour=D(2020, 1, 1))
    for person in (stale, fresh, permit, recent_permit):  # opened long ago (not an update today)
        RightsPeriod.objects.create(beneficiary=person, debut=D(2015, 1, 1), motif_ouverture=OpeningReason.RESIDENCE)
    targets = services.residence_control_targets(today)
    assert list(targets[ControlReason.SANS_MISE_A_JOUR]) == [stale]
    assert list(targets[ControlReason.TITRE_SEJOUR_ECHU]) == [permit]
    assert no_rights not in targets[ControlReason.SANS_MISE_A_JOUR]
    controls = services.open_residence_controls(today, by=gestionnaire)
    assert {c.beneficiary for c in controls} == {stale, permit}
    assert services.open_residence_controls(today, by=gestionnaire) == []  # idempotent
    by_person = {c.beneficiary: c for c in controls}
    services.close_residence_control(by_person[stale], outcome=ControlStatus.DROITS_MAINTENUS, when=today,
                                     by=gestionnaire)
    services.close_residence_control(by_person[permit], outcome=ControlStatus.DROITS_FERMES, when=today,
                                     by=gestionnaire)
    stale.refresh_from_db()
    assert stale.derniere_mise_a_jour == today
    closed = RightsPeriod.objects.get(beneficiary=permit)
    assert closed.fin == today and closed.motif_fermeture == "titre_sejour"


def test_rights_on_lists_children_attached(gestionnaire) -> None:  # type: ignore[no-untyped-def]
    link = ParentLinkFactory()
    services.open_rights(link.parent, debut=D(2010, 1, 1), motif=OpeningReason.ACTIVITE, by=gestionnaire)
    rights = services.rights_on(link.parent, D(2026, 1, 1))
    assert rights.couvert and rights.enfants == [link.child]
