"""Test helpers shared by the web tests: one user per role and a well-filled file.

Personas (role in brackets): Claire [gestionnaire droits], Yanis [accueil], Paul [liquidateur],
Dr Sarah Benali [médecin-conseil], Éric [enquêteur], Léa Martin [assurée, mother of Hugo].
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from caisse.accounts.models import Role
from caisse.accounts.tests.factories import UserFactory
from caisse.beneficiaries.models import Beneficiary
from caisse.beneficiaries.tests.factories import BeneficiaryFactory, ParentLinkFactory
from caisse.professionals.models import HealthProfessional
from caisse.professionals.tests.factories import HealthProfessionalFactory
from caisse.rights import services
from caisse.rights.models import ALDPeriod, CarteVitale

AGENT_ROLES = [Role.ACCUEIL, Role.GESTIONNAIRE_DROITS, Role.LIQUIDATEUR, Role.GESTIONNAIRE_IJ,
               Role.GESTIONNAIRE_ATMP, Role.ENQUETEUR, Role.MEDECIN_CONSEIL, Role.MANAGER, Role.ADMIN]
ALL_ROLES = [*AGENT_ROLES, Role.ASSURE, Role.PROFESSIONNEL, Role.EMPLOYEUR]
DIAGNOSIS = "Diabète de type 1"


def user_for(role: str, **kwargs: Any) -> Any:
    """A user of this role; an assuré gets a file of their own (a stranger to ``FilledFile``)."""
    if role == Role.ASSURE and "beneficiary" not in kwargs:
        kwargs["beneficiary"] = BeneficiaryFactory(nom="AUTRE")
    return UserFactory(role=role, **kwargs)


@dataclass
class FilledFile:
    lea: Beneficiary
    hugo: Beneficiary
    claire: Any
    sarah: Any
    doctor: HealthProfessional
    card: CarteVitale
    ald: ALDPeriod
    pending: ALDPeriod


def filled_file() -> FilledFile:
    """Léa: base rights, C2S, a validated ALD, a pending protocol, a médecin traitant, an active card, a child."""
    today = dt.date.today()
    claire = UserFactory(role=Role.GESTIONNAIRE_DROITS, username="claire", first_name="Claire", last_name="Dubois")
    sarah = UserFactory(role=Role.MEDECIN_CONSEIL, username="sarah", first_name="Sarah", last_name="Benali")
    lea = BeneficiaryFactory(nom="MARTIN", prenom="Léa", sexe="F", date_naissance=dt.date(1985, 4, 12))
    hugo = BeneficiaryFactory(nom="MARTIN", prenom="Hugo", sexe="M", minor=True)
    ParentLinkFactory(child=hugo, parent=lea, debut=hugo.date_naissance)
    doctor = HealthProfessionalFactory(nom="BERNARD", prenom="Jeanne")
    services.open_rights(lea, debut=dt.date(2016, 1, 1), motif="activite", by=claire)
    services.open_rights(hugo, debut=hugo.date_naissance, motif="naissance", by=claire)
    services.declare_medecin_traitant(lea, medecin=doctor, debut=dt.date(2020, 5, 1), by=claire)
    card = services.order_card(lea, canal="agence", when=dt.date(2024, 1, 10), by=claire)
    services.advance_card(card, step="produce", when=dt.date(2024, 1, 15), by=claire)
    services.advance_card(card, step="deliver", when=dt.date(2024, 1, 30), by=claire)
    services.grant_c2s(lea, debut=today - dt.timedelta(days=30), fin=today + dt.timedelta(days=300),
                       participation_mensuelle_cts=0, by=claire)
    ald = services.submit_protocol(lea, kind="liste", numero_liste=8, affection=DIAGNOSIS,
                                   date_protocole=dt.date(2025, 3, 1), by=sarah)
    services.validate_protocol(ald, debut=dt.date(2025, 3, 1), fin=dt.date(2045, 2, 28), by=sarah)
    pending = services.submit_protocol(lea, kind="hors_liste", affection="Affection en cours d'examen",
                                       date_protocole=today - dt.timedelta(days=10), by=sarah)
    return FilledFile(lea=lea, hugo=hugo, claire=claire, sarah=sarah, doctor=doctor, card=card, ald=ald,
                      pending=pending)


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    """Hashing real passwords costs half a second per user: the tests use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
