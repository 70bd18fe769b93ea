"""Complémentaire santé solidaire (C2S) and aide médicale de l'État (AME): pure decision engine.

Public API (used by the batch command and by the persistent rights module)::

    decide_c2s(request: C2SRequest, params: Parameters | None = None) -> C2SDecision
    c2s_ceiling(household_size, zone, when, with_participation, params=None) -> int  # cents
    decide_ame(request: AMERequest, params: Parameters | None = None) -> AMEDecision
    parse_request(record: dict) -> C2SRequest   # contract §3 input line, or InvalidRecord
"""

from caisse.rules.c2s.ame import decide_ame
from caisse.rules.c2s.engine import (
    age_on_1_january,
    c2s_ceiling,
    decide_c2s,
    forfait_logement,
    participation_for_age,
    resource_window,
)
from caisse.rules.c2s.models import (
    AMEDecision,
    AMERequest,
    C2SDecision,
    C2SRequest,
    InvalidRecord,
    Member,
    MonthlyResource,
    parse_request,
)

__all__ = [
    "AMEDecision",
    "AMERequest",
    "C2SDecision",
    "C2SRequest",
    "InvalidRecord",
    "Member",
    "MonthlyResource",
    "age_on_1_january",
    "c2s_ceiling",
    "decide_ame",
    "decide_c2s",
    "forfait_logement",
    "participation_for_age",
    "parse_request",
    "resource_window",
]
