"""Capital décès claims: decided by the pure rules (priority rank, equal shares, 2-year limit)."""

from __future__ import annotations

import datetime as dt

import pytest

from caisse.allowances import services
from caisse.allowances.models import StatutCapitalDeces
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.rules.allowances.capital_deces import capital_deces_montant

pytestmark = pytest.mark.django_db

D = dt.date
DEATH = D(2025, 6, 1)


def _claim(people, *, asked=D(2025, 6, 20), active=True):  # type: ignore[no-untyped-def]
    defunt = BeneficiaryFactory(date_deces=DEATH)
    demande = services.deposer_capital_deces(defunt=defunt, date_demande=asked, condition_activite=active,
                                             ayants_droit=people)
    return services.decider_capital_deces(demande)


def test_dependent_children_who_claim_priority_share_equally() -> None:
    demande = _claim([
        {"nom": "Conjoint non à charge", "lien": "conjoint"},
        {"nom": "Enfant A", "lien": "enfant", "a_charge": True, "date_demande_priorite": D(2025, 6, 15)},
        {"nom": "Enfant B", "lien": "enfant", "a_charge": True, "date_demande_priorite": D(2025, 6, 20)},
    ])
    assert demande.statut == StatutCapitalDeces.ACCORDEE and demande.rang_servi == "prioritaires"
    shares = {p.nom: p.part_cts for p in demande.ayants_droit.all()}
    amount = capital_deces_montant(DEATH)
    assert shares["Conjoint non à charge"] == 0
    assert shares["Enfant A"] + shares["Enfant B"] == amount == demande.montant_cts
    assert abs(shares["Enfant A"] - shares["Enfant B"]) <= 1


def test_priority_claimed_too_late_falls_back_to_the_non_priority_order() -> None:
    demande = _claim([
        {"nom": "Conjoint", "lien": "conjoint"},
        {"nom": "Enfant", "lien": "enfant", "a_charge": True, "date_demande_priorite": D(2025, 8, 1)},
    ])
    assert demande.rang_servi == "non_prioritaires"
    assert {p.nom: p.part_cts for p in demande.ayants_droit.all()}["Conjoint"] == capital_deces_montant(DEATH)


def test_a_claim_after_two_years_or_without_activity_is_rejected() -> None:
    late = _claim([{"nom": "Conjoint", "lien": "conjoint"}], asked=D(2027, 6, 2))
    assert late.statut == StatutCapitalDeces.REJETEE and "2 ans" in late.motif
    inactive = _claim([{"nom": "Conjoint", "lien": "conjoint"}], active=False)
    assert inactive.statut == StatutCapitalDeces.REJETEE and inactive.montant_cts == 0
