"""The navigation shown to each role: only the entries the role may open."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from caisse.accounts.models import Role
from caisse.accounts.perms import Capability, has, is_agent

# Screens of the other domains, with the roles their own guards admit (allowances.views.READERS,
# work_accidents.perms.ATMP_ROLES); each screen checks access itself, this only shows the way.
OTHER_SCREENS = [
    ("Indemnités journalières", "allowances:queue", {Role.GESTIONNAIRE_IJ, Role.MANAGER}),
    ("Accidents du travail", "work_accidents:queue", {Role.GESTIONNAIRE_ATMP, Role.MANAGER}),
    ("Frais de santé", "claims:queue", {Role.LIQUIDATEUR, Role.MANAGER}),
]


def _entries(user: Any) -> list[tuple[str, str]]:
    if is_agent(user):
        entries = [("Accueil", reverse("web:home"))]
        if has(user, Capability.SEARCH):
            entries.append(("Rechercher un bénéficiaire", reverse("beneficiaries:search")))
        if has(user, Capability.VALIDATE_PROTOCOL):
            entries.append(("Protocoles ALD à examiner", reverse("rights:protocol_queue")))
        if has(user, Capability.RESIDENCE_CONTROLS):
            entries.append(("Contrôles de résidence", reverse("rights:residence_controls")))
        for label, url_name, roles in OTHER_SCREENS:
            if user.role in roles:
                with suppress(NoReverseMatch):  # that screen is not served in this deployment
                    entries.append((label, reverse(url_name)))
        entries.append(("Professionnels de santé", reverse("professionals:list")))
        return entries
    role = getattr(user, "role", None)
    spaces = {
        Role.ASSURE: [("Mon espace", "web:member_home"), ("Mes remboursements", "mes_soins:remboursements"),
                      ("Mes indemnités journalières", "online:mes_ij"), ("Mes accidents du travail", "online:mes_atmp")],
        Role.PROFESSIONNEL: [("Mon espace professionnel", "espace_ps:accueil")],
        Role.EMPLOYEUR: [("Mon espace employeur", "online:employeur"),
                         ("Déclarer un accident du travail", "online:declarer_accident"),
                         ("Attestation de salaire", "online:attestation_trouver"),
                         ("Indemnités en subrogation", "online:employeur_paiements")],
    }
    entries = []
    for label, url_name in spaces.get(role, []):
        with suppress(NoReverseMatch):  # that space is not served in this deployment
            entries.append((label, reverse(url_name)))
    return entries


def navigation(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    if not getattr(user, "is_authenticated", False):
        return {"nav_entries": [], "nav_is_agent": False}
    path = request.path
    entries = []
    for label, url in _entries(user):
        current = path == url if url == "/" else path.startswith(url)
        entries.append({"label": label, "url": url, "current": current})
    # The most specific entry wins (``/`` must not stay current on every page).
    if sum(e["current"] for e in entries) > 1:
        for e in entries:
            e["current"] = e["current"] and e["url"] != "/"
    return {"nav_entries": entries, "nav_is_agent": is_agent(user)}
