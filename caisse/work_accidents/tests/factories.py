"""Factories for AT/MP declarations and cases (Traits describe the situations)."""

from __future__ import annotations

import datetime as dt

import factory
from stdnum import luhn

from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.professionals.models import Employer
from caisse.work_accidents.enums import CaseKind, CaseStatus, Declarant
from caisse.work_accidents.models import Case, Declaration


def make_siret(n: int) -> str:
    siren = f"4{n:07d}"
    siren += luhn.calc_check_digit(siren)
    base = siren + "0001"
    return base + luhn.calc_check_digit(base)


class EmployerFactory(factory.django.DjangoModelFactory):
    """Employers with distinct valid SIRETs (Luhn key)."""

    class Meta:
        model = Employer

    siret = factory.Sequence(make_siret)
    raison_sociale = factory.Sequence(lambda n: f"Boulangerie Exemple {n}")
    adresse = "3 place du Marché, 75011 Paris"


class DeclarationFactory(factory.django.DjangoModelFactory):
    """A DAT made by the employer on Monday 8 June 2026 for an accident of Friday 5 June."""

    class Meta:
        model = Declaration

    class Params:
        by_victim = factory.Trait(declarant=Declarant.VICTIME, channel="papier")
        mp = factory.Trait(kind=CaseKind.MP, declarant=Declarant.VICTIME, channel="papier",
                           date_evenement=dt.date(2026, 1, 20), date_declaration=dt.date(2026, 2, 2),
                           date_reception=dt.date(2026, 2, 3))

    kind = CaseKind.AT
    declarant = Declarant.EMPLOYEUR
    channel = "edat"
    victim = factory.SubFactory(BeneficiaryFactory)
    employer = factory.SubFactory("caisse.work_accidents.tests.factories.EmployerFactory")
    date_evenement = dt.date(2026, 6, 5)
    date_declaration = dt.date(2026, 6, 8)
    date_reception = dt.date(2026, 6, 8)
    circonstances = "Chute d'un escabeau en rangeant la réserve."


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    declaration = factory.SubFactory(DeclarationFactory)
    status = CaseStatus.DECLARE
