"""Deadlines of the AT/MP reporting and recognition procedure (décret 2019-356, rules.md part C).

Pure Python, no Django: dates in, dates out. Every duration is a dated parameter under
``parameters/atmp/procedure/`` read at the date of the declaration (the décret applies to AT/MP
declared from 1 December 2019).

Computation of *jours francs* (rules.md C, notes): the day of the triggering event is not
counted, so a delay of ``n`` jours francs starting on ``d`` ends at the end of day ``d + n``.
When that last day is a Saturday, a Sunday or a French public holiday it is extended to the next
working day. That extension is the standard computation but it is UNCONFIRMED for this
procedure: it is the dated boolean parameter ``atmp.procedure.prorogation_jour_non_ouvre``.

The employer's 48 hours (R441-3) exclude Sundays and public holidays (not Saturdays): they are
counted as whole days after the day the employer learned of the accident.

Public holidays are those of metropolitan France (:mod:`caisse.rules.calendar`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from caisse.rules.calendar import is_public_holiday, next_working_day
from caisse.rules.parameters import Parameters

PROCEDURE_START = dt.date(2019, 12, 1)
PREFIX = "atmp.procedure."


class CaseType(StrEnum):
    AT = "accident_travail"
    TRAJET = "accident_trajet"
    MP = "maladie_professionnelle"
    RECHUTE = "rechute"


class Party(StrEnum):
    CAISSE = "caisse"
    EMPLOYEUR = "employeur"
    VICTIME = "victime"


class DeadlineCode(StrEnum):
    DECLARATION_EMPLOYEUR = "declaration_employeur"
    DECLARATION_VICTIME = "declaration_victime"
    RESERVES = "reserves"
    DECISION = "decision"
    QUESTIONNAIRES = "questionnaires"
    MISE_A_DISPOSITION = "mise_a_disposition"
    OBSERVATIONS = "observations"
    CRRMP_COMPLEMENTS = "crrmp_complements"
    CRRMP_OBSERVATIONS = "crrmp_observations"


# --- Calendar -----------------------------------------------------------------------------------


# Working days and public holidays: caisse.rules.calendar (shared with the claims' payment delays).


def jours_francs(start: dt.date, days: int, *, extend: bool = True) -> dt.date:
    """Last day of a delay of ``days`` jours francs that starts with the event of ``start``.

    The event day is not counted; with ``extend`` a last day that is not a working day moves to
    the next working day.
    """
    if days < 0:
        raise ValueError("Un délai ne peut pas être négatif.")
    last = start + dt.timedelta(days=days)
    return next_working_day(last) if extend else last


def hours_excluding_sundays_and_holidays(start: dt.date, hours: int) -> dt.date:
    """Last day of a delay in hours that does not count Sundays and public holidays (R441-3).

    The hours run from the end of ``start`` (the day the employer learned of the accident):
    48 hours are the two following days that are neither a Sunday nor a public holiday.
    """
    if hours < 0 or hours % 24:
        raise ValueError("Le délai en heures doit être un multiple positif de 24.")
    remaining = hours // 24
    day = start
    while remaining:
        day += dt.timedelta(days=1)
        if day.weekday() == 6 or is_public_holiday(day):
            continue
        remaining -= 1
    return day


# --- Rules in force -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcedureRules:
    """The durations in force for a declaration made on a given day."""

    employer_declaration_hours: int
    victim_declaration_years: int
    reserves_days: int
    reserves_rechute_days: int
    at_decision_days: int
    at_investigation_days: int
    at_questionnaire_days: int
    at_file_available_day: int
    observations_days: int
    rechute_decision_days: int
    mp_decision_days: int
    mp_questionnaire_days: int
    mp_file_available_day: int
    crrmp_days: int
    crrmp_complements_days: int
    crrmp_observations_days: int
    extend_to_working_day: bool
    implicit_recognition: bool
    alert_days: int

    @classmethod
    def at(cls, params: Parameters, when: dt.date) -> ProcedureRules:
        """Values in force on ``when`` (the declaration date); earlier procedure: French error."""
        def v(name: str) -> int:
            return int(params.value(PREFIX + name, when))

        def b(name: str) -> bool:
            return bool(params.value(PREFIX + name, when))

        return cls(
            employer_declaration_hours=v("delai_declaration_employeur_heures"),
            victim_declaration_years=v("delai_declaration_victime_annees"),
            reserves_days=v("delai_reserves_jours_francs"),
            reserves_rechute_days=v("delai_reserves_rechute_jours_francs"),
            at_decision_days=v("delai_decision_at_jours_francs"),
            at_investigation_days=v("delai_instruction_at_jours_francs"),
            at_questionnaire_days=v("delai_questionnaire_at_jours_francs"),
            at_file_available_day=v("jour_mise_a_disposition_dossier_at"),
            observations_days=v("delai_observations_jours_francs"),
            rechute_decision_days=v("delai_decision_rechute_jours_francs"),
            mp_decision_days=v("delai_decision_mp_jours_francs"),
            mp_questionnaire_days=v("delai_questionnaire_mp_jours_francs"),
            mp_file_available_day=v("jour_mise_a_disposition_dossier_mp"),
            crrmp_days=v("delai_crrmp_jours_francs"),
            crrmp_complements_days=v("delai_crrmp_consultation_jours_francs"),
            crrmp_observations_days=v("delai_crrmp_observations_jours_francs"),
            extend_to_working_day=b("prorogation_jour_non_ouvre"),
            implicit_recognition=b("reconnaissance_implicite"),
            alert_days=v("alerte_jours_avant_echeance"),
        )


# --- Facts of a case and its deadlines -----------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What the deadlines of a case depend on. Unknown dates are ``None``.

    ``event_date`` is the accident date (AT, trajet), the date of the rechute, or for an MP the
    date the victim was informed by a medical certificate of the possible link with work.
    """

    case_type: CaseType
    event_date: dt.date
    declared_by_employer: bool = True
    declaration_date: dt.date | None = None
    received_date: dt.date | None = None
    cmi_received: dt.date | None = None
    employer_copy_received: dt.date | None = None
    investigation: bool = False
    questionnaires_sent: dt.date | None = None
    consultation_opened: dt.date | None = None
    crrmp_referred: dt.date | None = None

    @property
    def is_accident(self) -> bool:
        return self.case_type in (CaseType.AT, CaseType.TRAJET)

    @property
    def instruction_start(self) -> dt.date | None:
        """Receipt by the caisse of both the declaration and the certificat médical initial."""
        if self.received_date is None or self.cmi_received is None:
            return None
        return max(self.received_date, self.cmi_received)


@dataclass(frozen=True)
class Deadline:
    code: DeadlineCode
    label: str
    start: dt.date
    due: dt.date
    delay: str
    article: str
    party: Party

    def days_left(self, today: dt.date) -> int:
        return (self.due - today).days

    def is_past(self, today: dt.date) -> bool:
        return today > self.due

    def is_near(self, today: dt.date, alert_days: int) -> bool:
        return 0 <= self.days_left(today) <= alert_days


def _jf(start: dt.date, days: int, rules: ProcedureRules) -> dt.date:
    return jours_francs(start, days, extend=rules.extend_to_working_day)


def decision_deadline(facts: CaseFacts, rules: ProcedureRules) -> Deadline | None:
    """The date by which the caisse must decide; after it, silence is implicit recognition."""
    start = facts.instruction_start
    if facts.case_type == CaseType.MP and facts.crrmp_referred is not None:
        return Deadline(
            DeadlineCode.DECISION, "Décision après avis du CRRMP", facts.crrmp_referred,
            _jf(facts.crrmp_referred, rules.crrmp_days, rules), f"{rules.crrmp_days} jours francs",
            "R461-10", Party.CAISSE,
        )
    if start is None:
        return None
    if facts.case_type == CaseType.MP:
        days, article, label = rules.mp_decision_days, "R461-9", "Décision ou saisine du CRRMP"
    elif facts.case_type == CaseType.RECHUTE:
        days, article, label = rules.rechute_decision_days, "R441-16", "Décision sur la rechute"
    elif facts.investigation:
        days, article, label = rules.at_investigation_days, "R441-8", "Décision après enquête"
    else:
        days, article, label = rules.at_decision_days, "R441-7", "Décision ou ouverture d'une enquête"
    return Deadline(DeadlineCode.DECISION, label, start, _jf(start, days, rules), f"{days} jours francs",
                    article, Party.CAISSE)


def reserves_deadline(facts: CaseFacts, rules: ProcedureRules) -> Deadline | None:
    """Employer's réserves motivées: none on a first MP declaration (R441-6)."""
    if facts.case_type == CaseType.MP:
        return None
    start = facts.declaration_date if facts.declared_by_employer else facts.employer_copy_received
    if start is None:
        return None
    rechute = facts.case_type == CaseType.RECHUTE
    days = rules.reserves_rechute_days if rechute else rules.reserves_days
    return Deadline(DeadlineCode.RESERVES, "Réserves motivées de l'employeur", start, _jf(start, days, rules),
                    f"{days} jours francs", "R441-16" if rechute else "R441-6", Party.EMPLOYEUR)


def employer_declaration_deadline(facts: CaseFacts, rules: ProcedureRules) -> Deadline | None:
    if not facts.is_accident:
        return None
    due = hours_excluding_sundays_and_holidays(facts.event_date, rules.employer_declaration_hours)
    return Deadline(
        DeadlineCode.DECLARATION_EMPLOYEUR, "Déclaration de l'accident par l'employeur", facts.event_date, due,
        f"{rules.employer_declaration_hours} heures hors dimanches et jours fériés", "R441-3", Party.EMPLOYEUR,
    )


def victim_declaration_limit(facts: CaseFacts, rules: ProcedureRules) -> Deadline:
    due = facts.event_date + relativedelta(years=rules.victim_declaration_years)
    article = "L461-1 et L461-5" if facts.case_type == CaseType.MP else "L441-2 et L431-2"
    return Deadline(DeadlineCode.DECLARATION_VICTIME, "Déclaration par la victime (prescription)",
                    facts.event_date, due, f"{rules.victim_declaration_years} ans", article, Party.VICTIME)


def case_deadlines(facts: CaseFacts, rules: ProcedureRules) -> list[Deadline]:
    """Every deadline that applies to the case as it stands, sorted by due date."""
    found: list[Deadline | None] = [
        employer_declaration_deadline(facts, rules),
        victim_declaration_limit(facts, rules),
        reserves_deadline(facts, rules),
        decision_deadline(facts, rules),
    ]
    mp = facts.case_type == CaseType.MP
    if facts.questionnaires_sent is not None:
        days = rules.mp_questionnaire_days if mp else rules.at_questionnaire_days
        found.append(Deadline(
            DeadlineCode.QUESTIONNAIRES, "Retour des questionnaires", facts.questionnaires_sent,
            _jf(facts.questionnaires_sent, days, rules), f"{days} jours francs",
            "R461-9" if mp else "R441-8", Party.EMPLOYEUR,
        ))
    start = facts.instruction_start
    if start is not None and facts.investigation and facts.crrmp_referred is None and facts.case_type != CaseType.RECHUTE:
        day = rules.mp_file_available_day if mp else rules.at_file_available_day
        found.append(Deadline(
            DeadlineCode.MISE_A_DISPOSITION, "Mise à disposition du dossier (consultation)", start,
            _jf(start, day, rules), f"au plus tard le {day}e jour franc", "R461-9" if mp else "R441-8",
            Party.CAISSE,
        ))
    if facts.consultation_opened is not None:
        found.append(Deadline(
            DeadlineCode.OBSERVATIONS, "Fin des observations des parties", facts.consultation_opened,
            _jf(facts.consultation_opened, rules.observations_days, rules),
            f"{rules.observations_days} jours francs", "R461-9" if mp else "R441-8", Party.VICTIME,
        ))
    if mp and facts.crrmp_referred is not None:
        complements = _jf(facts.crrmp_referred, rules.crrmp_complements_days, rules)
        found.append(Deadline(
            DeadlineCode.CRRMP_COMPLEMENTS, "Consultation et compléments du dossier CRRMP", facts.crrmp_referred,
            complements, f"{rules.crrmp_complements_days} jours francs", "R461-10", Party.VICTIME,
        ))
        found.append(Deadline(
            DeadlineCode.CRRMP_OBSERVATIONS, "Observations sur le dossier CRRMP", complements,
            _jf(complements, rules.crrmp_observations_days, rules),
            f"{rules.crrmp_observations_days} jours francs", "R461-10", Party.VICTIME,
        ))
    return sorted((d for d in found if d is not None), key=lambda d: (d.due, d.code))


def implicit_recognition_due(facts: CaseFacts, rules: ProcedureRules, today: dt.date) -> bool:
    """The decision deadline has passed (``today`` is after its last day) without a decision."""
    deadline = decision_deadline(facts, rules)
    return rules.implicit_recognition and deadline is not None and deadline.is_past(today)
