from __future__ import annotations

import factory
from stdnum import luhn

from caisse.professionals.models import Employer, HealthProfessional, Profession


def make_rpps(n: int) -> str:
    base = f"1{n:09d}"
    return base + luhn.calc_check_digit(base)


class HealthProfessionalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HealthProfessional

    class Params:
        nurse = factory.Trait(profession=Profession.INFIRMIER, specialite="")
        secteur_2_optam = factory.Trait(secteur=2, optam=True)

    identifiant = factory.Sequence(make_rpps)
    nom = factory.Sequence(lambda n: f"Docteur{n}")
    prenom = "Alex"
    profession = Profession.MEDECIN
    specialite = "medecine_generale"
    secteur = 1


class EmployerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employer

    siret = "73282932000074"
    raison_sociale = "Entreprise Exemple SA"
