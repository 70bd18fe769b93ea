"""Factories for beneficiaries: valid NIRs consistent with the civil status."""

from __future__ import annotations

import datetime as dt

import factory

from caisse.beneficiaries.models import Beneficiary, ParentLink
from caisse.rules.identifiers import nir_key


def make_nir(sexe: str, date_naissance: dt.date, serial: int, departement: str = "75") -> str:
    commune = "056" if departement != "99" else "134"
    first13 = f"{1 if sexe == 'M' else 2}{date_naissance.year % 100:02d}{date_naissance.month:02d}{departement}{commune}{serial % 1000:03d}"
    return first13 + nir_key(first13)


class BeneficiaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Beneficiary

    class Params:
        serial = factory.Sequence(lambda n: n + 1)
        minor = factory.Trait(date_naissance=dt.date(2015, 3, 14))
        deceased = factory.Trait(date_deces=dt.date(2024, 6, 1))
        corsican = factory.Trait(departement="2A")
        departement = "75"

    nom = factory.Sequence(lambda n: f"Martin{n}")
    prenom = factory.Iterator(["Camille", "Louise", "Inès", "Léa", "Manon"])
    sexe = "F"
    date_naissance = dt.date(1985, 4, 12)
    nir = factory.LazyAttribute(lambda o: make_nir(o.sexe, o.date_naissance, o.serial, o.departement))
    adresse = "12 rue de la Santé"
    code_postal = "75013"
    commune = "Paris"
    derniere_mise_a_jour = dt.date(2026, 1, 15)


class ParentLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ParentLink

    child = factory.SubFactory(BeneficiaryFactory, minor=True)
    parent = factory.SubFactory(BeneficiaryFactory)
    debut = dt.date(2015, 3, 14)
