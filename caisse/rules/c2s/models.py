"""The records of a C2S or AME request and decision, and their validation.

A request comes from the exchange format of the contract (§3) or from the persistent rights
module. :func:`parse_request` turns one NDJSON object into a :class:`C2SRequest`, or raises
:class:`InvalidRecord` with a machine-readable code and a French message: a bad record never
stops a batch, it becomes an output record carrying that code.

Optional fields of the §3 input: a field that is absent, ``null`` or an empty string ``""`` is
"not given" and takes its default, so that an export writing ``null`` for an unknown value is read
like one that leaves the field out. Any other value must be one of the listed ones.

- ``zone``: ``metropole`` (the contract's default scope, rules.md conventions);
- ``logement``: ``locataire`` (no forfait logement added, R861-5: a request that says nothing of
  housing aid or ownership is not charged a forfait it did not declare);
- ``rsa``: ``false`` (the resources are tested, L861-2 only applies to a declared RSA);
- ``ressources``: none (``[]``), every month of the window counts 0;
- a member's ``role``: ``demandeur``; the role only documents the household, the decision
  depends on the number of members and their ages.

``id``, ``date_demande``, ``membres`` and each member's ``date_naissance`` are required: absent or
``null``, the request is a ``DONNEE_INVALIDE``.

Dates and months (contract conventions): a date is ``AAAA-MM-JJ`` and a month ``AAAA-MM``, ASCII
digits, a real calendar date/month — every value of that form that ``caisse ij`` reads (Polars
``%Y-%m-%d`` / ``%Y-%m``), and the same months. Other spellings are refused with ``DONNEE_INVALIDE``
and a French message naming the field: ISO 8601 variants that Python's ``date.fromisoformat`` would
take (``20250610``, ``2025-W24-2``), non-ASCII digits, blanks, a time part, the unpadded
``2025-6-10``, a leading blank or ``+2025-06-10`` (not the contract's form; ``caisse ij`` refuses
them too).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

from caisse.batch_io import iso_date

Zone = Literal["metropole", "dom"]
Decision = Literal["c2s_gratuite", "c2s_participation", "refus"]

ZONES: tuple[str, ...] = ("metropole", "dom")
ROLES: tuple[str, ...] = ("demandeur", "conjoint", "enfant", "autre")
LOGEMENTS: tuple[str, ...] = ("locataire", "locataire_aide_logement", "proprietaire", "heberge_gratuit")

# re.ASCII: ``\d`` is 0-9 only (not "２０２５"); fullmatch: no trailing newline as ``$`` would allow.
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])", re.ASCII)


def _optional(record: dict[str, Any], name: str, default: Any) -> Any:
    """The value of an optional field, ``default`` when it is absent, ``null`` or ``""``."""
    value = record.get(name)
    return default if value is None or value == "" else value


class InvalidRecord(ValueError):
    """A request that cannot be decided: ``code`` is machine-readable, the message French."""

    def __init__(self, message: str, code: str = "DONNEE_INVALIDE") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Member:
    """One person of the household (foyer)."""

    date_naissance: dt.date
    role: str = "demandeur"


@dataclass(frozen=True)
class MonthlyResource:
    """The household's resources for one civil month, as counted for the C2S (cents)."""

    mois: str  # "YYYY-MM"
    montant_cts: int


@dataclass(frozen=True)
class C2SRequest:
    """A request for the complémentaire santé solidaire (contract §3 input)."""

    id: Any
    date_demande: dt.date
    zone: str
    membres: tuple[Member, ...]
    ressources: tuple[MonthlyResource, ...]
    logement: str = "locataire"
    rsa: bool = False


@dataclass(frozen=True)
class C2SDecision:
    """The decision on a request (contract §3 output), with what it was computed from."""

    id: Any
    decision: Decision
    plafond_cts: int
    ressources_retenues_cts: int
    participation_mensuelle_cts: int
    participations: tuple[int, ...]
    motif: str
    plafond_sans_participation_cts: int = 0
    plafond_avec_participation_cts: int = 0
    forfait_logement_cts: int = 0
    periode_ressources: tuple[str, str] = ("", "")
    duree_droit_mois: int = 12

    def to_record(self) -> dict[str, Any]:
        """The contract §3 output line."""
        return {
            "id": self.id,
            "decision": self.decision,
            "plafond_cts": self.plafond_cts,
            "ressources_retenues_cts": self.ressources_retenues_cts,
            "participation_mensuelle_cts": self.participation_mensuelle_cts,
            "participations": list(self.participations),
            "motif": self.motif,
        }


@dataclass(frozen=True)
class AMERequest:
    """A request for the aide médicale de l'État (CASF L251-1)."""

    date_demande: dt.date
    zone: str
    membres: tuple[Member, ...]
    ressources: tuple[MonthlyResource, ...]
    logement: str = "locataire"
    date_debut_residence: dt.date | None = None
    id: Any = None


@dataclass(frozen=True)
class AMEDecision:
    """AME decision: eligibility, the resources compared and the validity period."""

    id: Any
    eligible: bool
    plafond_cts: int
    ressources_retenues_cts: int
    debut: dt.date | None
    fin: dt.date | None
    motif: str
    membres_eligibles: tuple[bool, ...] = field(default_factory=tuple)


def error_record(record_id: Any, code: str, message: str) -> dict[str, Any]:
    """The output line of a request that could not be decided."""
    return {
        "id": record_id,
        "decision": None,
        "plafond_cts": None,
        "ressources_retenues_cts": None,
        "participation_mensuelle_cts": 0,
        "participations": [],
        "motif": message,
        "erreur": code,
    }


def parse_date(raw: Any, name: str) -> dt.date:
    """A contract date ``AAAA-MM-JJ`` (ASCII digits, a real calendar day), or :class:`InvalidRecord`."""
    if not isinstance(raw, str):
        raise InvalidRecord(f"Le champ « {name} » est absent ou n'est pas une date AAAA-MM-JJ.")
    try:
        return iso_date(raw)
    except ValueError:
        raise InvalidRecord(
            f"Le champ « {name} » (« {raw} ») n'est pas une date AAAA-MM-JJ valide."
        ) from None


def is_month(raw: Any) -> TypeGuard[str]:
    """A contract month ``AAAA-MM`` (ASCII digits, month 01 to 12)."""
    return isinstance(raw, str) and _MONTH.fullmatch(raw) is not None


def _parse_members(raw: Any) -> tuple[Member, ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidRecord("Le foyer (« membres ») doit comporter au moins une personne.")
    members = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise InvalidRecord(f"Le membre n° {i} du foyer est mal formé.")
        role = _optional(item, "role", "demandeur")
        if role not in ROLES:
            raise InvalidRecord(f"Le rôle « {role} » du membre n° {i} est inconnu ({', '.join(ROLES)}).")
        members.append(Member(parse_date(item.get("date_naissance"), f"membres[{i}].date_naissance"), role))
    return tuple(members)


def _parse_resources(raw: Any) -> tuple[MonthlyResource, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidRecord("Le champ « ressources » doit être une liste de {mois, montant_cts}.")
    resources = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise InvalidRecord(f"La ressource n° {i} est mal formée.")
        month, amount = item.get("mois"), item.get("montant_cts")
        if not is_month(month):
            raise InvalidRecord(f"Le mois de la ressource n° {i} (« {month} ») n'est pas au format AAAA-MM.")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidRecord(
                f"Le montant de la ressource de {month} doit être un nombre entier positif de centimes."
            )
        resources.append(MonthlyResource(month, amount))
    return tuple(resources)


def parse_request(record: dict[str, Any]) -> C2SRequest:
    """A contract §3 input line as a :class:`C2SRequest` (or :class:`InvalidRecord`)."""
    if record.get("id") is None:
        raise InvalidRecord("L'identifiant de la demande (« id ») est absent.")
    when = parse_date(record.get("date_demande"), "date_demande")
    zone = _optional(record, "zone", "metropole")
    if zone not in ZONES:
        raise InvalidRecord(f"La zone « {zone} » est inconnue (metropole ou dom).")
    logement = _optional(record, "logement", "locataire")
    if logement not in LOGEMENTS:
        raise InvalidRecord(f"La situation de logement « {logement} » est inconnue ({', '.join(LOGEMENTS)}).")
    rsa = _optional(record, "rsa", False)
    if not isinstance(rsa, bool):
        raise InvalidRecord("Le champ « rsa » doit valoir true ou false.")
    members = _parse_members(record.get("membres"))
    for i, member in enumerate(members, start=1):
        if member.date_naissance > when:
            raise InvalidRecord(f"Le membre n° {i} est né après la date de la demande.")
    return C2SRequest(
        id=record["id"],
        date_demande=when,
        zone=zone,
        membres=members,
        ressources=_parse_resources(_optional(record, "ressources", [])),
        logement=logement,
        rsa=rsa,
    )
