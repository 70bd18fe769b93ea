"""What each role may do. One capability per line so that tests cover every branch.

Medical data (ALD, protocols of care) is visible only to the roles that need it to do their
work: the médecin-conseil, and the agents who liquidate care or sick pay (they need to know
that an ALD exonerates, not its diagnosis: they see the period, not the affection).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from caisse.accounts.models import Role


class Capability(StrEnum):
    VIEW_FILE = "consulter un dossier"
    SEARCH = "rechercher un bénéficiaire"
    EDIT_IDENTITY = "modifier l'identité et les coordonnées"
    MANAGE_RIGHTS = "gérer les droits (PUMa, C2S, AME, maternité, invalidité)"
    MANAGE_CARDS = "gérer les cartes Vitale"
    VIEW_ALD_PERIODS = "voir les périodes d'exonération ALD"
    VIEW_MEDICAL = "voir les données médicales (affection, protocole)"
    VALIDATE_PROTOCOL = "valider un protocole de soins"
    DECLARE_MEDECIN_TRAITANT = "enregistrer un médecin traitant"
    RESIDENCE_CONTROLS = "mener les contrôles de résidence"
    ISSUE_ATTESTATION = "délivrer une attestation de droits"
    VIEW_AUDIT = "voir l'historique des accès"
    VIEW_INDICATORS = "voir les indicateurs"
    MANAGE_PARAMETERS = "modifier les paramètres non confirmés"
    MANAGE_PROFESSIONALS = "gérer le référentiel des professionnels"


_AGENT_BASE = {Capability.VIEW_FILE, Capability.SEARCH, Capability.ISSUE_ATTESTATION}

ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ACCUEIL: frozenset(_AGENT_BASE | {Capability.EDIT_IDENTITY, Capability.MANAGE_CARDS}),
    Role.GESTIONNAIRE_DROITS: frozenset(_AGENT_BASE | {
        Capability.EDIT_IDENTITY, Capability.MANAGE_RIGHTS, Capability.MANAGE_CARDS,
        Capability.DECLARE_MEDECIN_TRAITANT, Capability.RESIDENCE_CONTROLS, Capability.VIEW_ALD_PERIODS,
    }),
    Role.LIQUIDATEUR: frozenset(_AGENT_BASE | {Capability.VIEW_ALD_PERIODS}),
    Role.GESTIONNAIRE_IJ: frozenset(_AGENT_BASE | {Capability.VIEW_ALD_PERIODS}),
    Role.GESTIONNAIRE_ATMP: frozenset(_AGENT_BASE),
    Role.ENQUETEUR: frozenset(_AGENT_BASE | {Capability.VIEW_AUDIT, Capability.RESIDENCE_CONTROLS}),
    Role.MEDECIN_CONSEIL: frozenset(_AGENT_BASE | {
        Capability.VIEW_ALD_PERIODS, Capability.VIEW_MEDICAL, Capability.VALIDATE_PROTOCOL,
    }),
    Role.MANAGER: frozenset(_AGENT_BASE | {Capability.VIEW_INDICATORS, Capability.VIEW_AUDIT}),
    Role.ADMIN: frozenset({
        Capability.VIEW_FILE, Capability.SEARCH, Capability.VIEW_AUDIT, Capability.VIEW_INDICATORS,
        Capability.MANAGE_PARAMETERS, Capability.MANAGE_PROFESSIONALS,
    }),
    Role.ASSURE: frozenset(),
    Role.PROFESSIONNEL: frozenset(),
    Role.EMPLOYEUR: frozenset(),
}

AGENT_ROLES = frozenset({
    Role.ACCUEIL, Role.GESTIONNAIRE_DROITS, Role.LIQUIDATEUR, Role.GESTIONNAIRE_IJ, Role.GESTIONNAIRE_ATMP,
    Role.ENQUETEUR, Role.MEDECIN_CONSEIL, Role.MANAGER, Role.ADMIN,
})


def has(user: Any, capability: Capability) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return capability in ROLE_CAPABILITIES.get(user.role, frozenset())


def is_agent(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in AGENT_ROLES
