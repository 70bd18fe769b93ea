"""Shared fixtures: personas for each role (their role in a comment), frozen-time helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
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


# --- Browser tests ---------------------------------------------------------------------------------
# Debian's Chromium, never a downloaded browser; a test is skipped with the reason when Chromium is
# missing or Playwright cannot start it. pytest-django's live_server runs next to Playwright's sync
# API, which holds an event loop: browser test modules set DJANGO_ALLOW_ASYNC_UNSAFE.

CHROMIUM = os.environ.get("CAISSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page() -> Iterator[Any]:
    """A Chromium page (1280×900, French locale, downloads accepted)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium absent ({CHROMIUM}) : installez le paquet Debian « chromium ».")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"Playwright n'est pas installé ({exc}).")
    manager = sync_playwright()
    try:
        playwright = manager.start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # any start failure means: skip, with the reason
        try:
            manager.__exit__(None, None, None)
        finally:
            pytest.skip(f"Playwright ne peut pas démarrer Chromium : {exc}")
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", accept_downloads=True)
        yield context.new_page()
    finally:
        # The test body got its own database connection: close it while the browser still runs,
        # or PostgreSQL refuses to drop the test database.
        from django.db import connections

        connections.close_all()
        browser.close()
        playwright.stop()


def screenshot(page: Any, name: str) -> None:
    """Keep a screenshot when ``CAISSE_SCREENSHOTS`` names a folder."""
    folder = os.environ.get("CAISSE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
