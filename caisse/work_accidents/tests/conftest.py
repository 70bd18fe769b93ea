"""Personas of the AT/MP team."""

from __future__ import annotations

from typing import Any

import pytest

from caisse.accounts.models import Role


@pytest.fixture
def agent_atmp(make_user: Any) -> Any:
    """Nadia, gestionnaire AT/MP: instructs declarations, sends questionnaires, decides."""
    return make_user(Role.GESTIONNAIRE_ATMP, username="nadia", first_name="Nadia", last_name="Ferhat")


@pytest.fixture
def manager(make_user: Any) -> Any:
    """Hélène, manager: supervises the AT/MP team and its indicators."""
    return make_user(Role.MANAGER, username="helene", first_name="Hélène", last_name="Roux")
