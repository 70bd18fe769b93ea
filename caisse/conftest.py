"""Shared fixtures: personas for each role (their role in a comment), frozen-time helpers."""

from __future__ import annotations

from typing import Any

import pytest

from caisse.accounts.models import Role


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2's cost is for production; tests hash passwords by the thousand."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db: Any) -> Any:
    from caisse.accounts.tests.factories import UserFactory

    def _make(role: str = Role.GESTIONNAIRE_DROITS, **kwargs: Any) -> Any:
        return UserFactory(role=role, **kwargs)

    return _make


@pytest.fixture
def gestionnaire(make_user: Any) -> Any:
    """Claire, gestionnaire droits: opens and closes rights, C2S, AME, cards."""
    return make_user(Role.GESTIONNAIRE_DROITS, username="claire")


@pytest.fixture
def accueil(make_user: Any) -> Any:
    """Yanis, agent d'accueil: finds a file, updates an address, orders a card."""
    return make_user(Role.ACCUEIL, username="yanis")


@pytest.fixture
def medecin_conseil(make_user: Any) -> Any:
    """Dr Sarah Benali, médecin-conseil: validates protocols, sees medical data."""
    return make_user(Role.MEDECIN_CONSEIL, username="sarah")


@pytest.fixture
def liquidateur(make_user: Any) -> Any:
    """Paul, liquidateur: sees ALD periods, never the diagnosis."""
    return make_user(Role.LIQUIDATEUR, username="paul")
