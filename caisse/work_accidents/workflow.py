"""The AT/MP case workflow, declared as a state machine with a transition log.

``TRANSITIONS`` is the table: each transition has a name, the states it may start from, the
state it leads to (``None``: the state does not change, the step is still logged) and guards.
A guard returns a French message when the step is not allowed. :func:`apply` is the only way a
case changes state: it checks the source state and the guards, raises
:class:`CaseWorkflowError` (a ``ValidationError``, so forms show it), saves the case through
``core.audit.save_to_file`` and appends a :class:`~caisse.work_accidents.models.CaseTransition`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from caisse.core.audit import _actor_label, save_to_file
from caisse.core.models import AuditAction
from caisse.rules.atmp.deadlines import DeadlineCode, implicit_recognition_due, reserves_deadline
from caisse.work_accidents import schedule
from caisse.work_accidents.enums import CaseKind, CaseStatus, TransitionName
from caisse.work_accidents.models import Case, CaseTransition

Guard = Callable[[Case, dt.date], str | None]


class CaseWorkflowError(ValidationError):
    """A step that the procedure does not allow now. The message is in French."""


def _d(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


# --- Guards -----------------------------------------------------------------------------------------


def not_a_first_mp(case: Case, when: dt.date) -> str | None:
    if case.declaration.kind == CaseKind.MP:
        return "L'employeur ne peut pas émettre de réserves sur une première déclaration de maladie " \
               "professionnelle (art. R441-6) : il répond au questionnaire."
    return None


def reserves_in_time(case: Case, when: dt.date) -> str | None:
    deadline = reserves_deadline(case.facts(), schedule.rules_for(case))
    if deadline is None:
        return "Indiquez d'abord la date à laquelle l'employeur a reçu le double de la déclaration de la victime " \
               "(point de départ du délai des réserves, art. R441-6)."
    if when < case.declaration.date_declaration:
        return "Les réserves ne peuvent pas précéder la déclaration."
    if when > deadline.due:
        return (f"Réserves hors délai : reçues le {_d(when)}, alors que le délai de {deadline.delay} "
                f"expirait le {_d(deadline.due)} (art. {deadline.article}). Elles ne sont pas recevables.")
    return None


def within_initial_deadline(case: Case, when: dt.date) -> str | None:
    """AT: the investigation is opened within the 30 jours francs (R441-7)."""
    deadline = schedule.current_decision_deadline(case)
    if deadline is not None and when > deadline.due:
        return (f"Le délai pour statuer ou engager une enquête a expiré le {_d(deadline.due)} "
                f"(art. {deadline.article}) : le caractère professionnel est implicitement reconnu.")
    if when < case.declaration.date_reception:
        return "L'enquête ne peut pas précéder la réception de la déclaration."
    return None


def no_questionnaire_yet(case: Case, when: dt.date) -> str | None:
    if case.questionnaires.exists():
        return "Les questionnaires ont déjà été envoyés."
    return None


def questionnaires_sent(case: Case, when: dt.date) -> str | None:
    first = case.questionnaires.order_by("date_envoi").first()
    if first is None:
        return "Envoyez d'abord les questionnaires à l'employeur et à la victime (enquête contradictoire)."
    if when < first.date_envoi:
        return "La mise à disposition du dossier ne peut pas précéder l'envoi des questionnaires."
    return None


def is_mp(case: Case, when: dt.date) -> str | None:
    if case.declaration.kind != CaseKind.MP:
        return "Seule une maladie professionnelle peut être transmise au CRRMP (art. R461-10)."
    return within_initial_deadline(case, when)


def investigation_if_reserves(case: Case, when: dt.date) -> str | None:
    if case.reserves.exists() and not case.enquete:
        return ("L'employeur a émis des réserves motivées : une enquête est obligatoire avant de statuer "
                "(art. R441-8).")
    return None


def consultation_done(case: Case, when: dt.date) -> str | None:
    if case.status == CaseStatus.CRRMP:
        phase = [d for d in schedule.all_deadlines(case) if d.code == DeadlineCode.CRRMP_OBSERVATIONS]
        if phase and when <= phase[0].due:
            return (f"Les parties peuvent compléter le dossier et présenter leurs observations au CRRMP jusqu'au "
                    f"{_d(phase[0].due)} (art. R461-10) : décision possible à partir du "
                    f"{_d(phase[0].due + dt.timedelta(days=1))}.")
        return None
    if case.enquete and not case.consultations.exists():
        return ("Après une enquête, le dossier doit être mis à la disposition des parties avant la décision "
                "(art. R441-8 et R461-9).")
    consultation = case.consultations.order_by("-debut").first()
    if consultation is not None and when <= consultation.fin_observations:
        return (f"Les parties peuvent présenter leurs observations jusqu'au {_d(consultation.fin_observations)} : "
                f"décision possible à partir du {_d(consultation.fin_observations + dt.timedelta(days=1))}.")
    return None


def not_before_receipt(case: Case, when: dt.date) -> str | None:
    if when < case.declaration.date_reception:
        return "La décision ne peut pas précéder la réception de la déclaration."
    return None


def refusal_before_deadline(case: Case, when: dt.date) -> str | None:
    deadline = schedule.current_decision_deadline(case)
    if deadline is not None and when > deadline.due:
        return (f"Le délai de décision a expiré le {_d(deadline.due)} (art. {deadline.article}) : le caractère "
                "professionnel est implicitement reconnu, un refus n'est plus possible.")
    return None


def decision_deadline_passed(case: Case, when: dt.date) -> str | None:
    if not implicit_recognition_due(case.facts(), schedule.rules_for(case), when):
        deadline = schedule.current_decision_deadline(case)
        if deadline is None:
            return "Le délai de décision n'a pas commencé (déclaration ou certificat médical initial manquant)."
        return f"Le délai de décision court jusqu'au {_d(deadline.due)} : pas de reconnaissance implicite."
    return None


# --- The table --------------------------------------------------------------------------------------

S = CaseStatus
INSTRUCTING = frozenset({S.INSTRUCTION, S.ENQUETE, S.CONSULTATION, S.CRRMP})


@dataclass(frozen=True)
class Transition:
    name: TransitionName
    sources: frozenset[CaseStatus]
    target: CaseStatus | None
    guards: tuple[Guard, ...] = ()

    @property
    def label(self) -> str:
        return str(self.name.label)


TRANSITIONS: dict[TransitionName, Transition] = {t.name: t for t in (
    Transition(TransitionName.RECEVOIR_CMI, frozenset({S.DECLARE}), S.INSTRUCTION),
    Transition(TransitionName.RECEVOIR_RESERVES, frozenset({S.DECLARE, S.INSTRUCTION}), None,
               (not_a_first_mp, reserves_in_time)),
    Transition(TransitionName.OUVRIR_ENQUETE, frozenset({S.INSTRUCTION}), S.ENQUETE, (within_initial_deadline,)),
    Transition(TransitionName.ENVOYER_QUESTIONNAIRES, frozenset({S.ENQUETE}), None, (no_questionnaire_yet,)),
    Transition(TransitionName.RECEVOIR_QUESTIONNAIRE, frozenset({S.ENQUETE, S.CONSULTATION, S.CRRMP}), None),
    Transition(TransitionName.OUVRIR_CONSULTATION, frozenset({S.ENQUETE}), S.CONSULTATION, (questionnaires_sent,)),
    Transition(TransitionName.SAISIR_CRRMP, frozenset({S.INSTRUCTION, S.ENQUETE, S.CONSULTATION}), S.CRRMP,
               (is_mp,)),
    Transition(TransitionName.RECONNAITRE, INSTRUCTING, S.RECONNU,
               (not_before_receipt, investigation_if_reserves, consultation_done)),
    Transition(TransitionName.REFUSER, INSTRUCTING, S.REFUSE,
               (not_before_receipt, investigation_if_reserves, consultation_done, refusal_before_deadline)),
    Transition(TransitionName.RECONNAITRE_IMPLICITEMENT, INSTRUCTING, S.RECONNU_IMPLICITE,
               (decision_deadline_passed,)),
)}


def check(case: Case, name: TransitionName, when: dt.date) -> Transition:
    """The transition if it is allowed now, otherwise :class:`CaseWorkflowError`."""
    transition = TRANSITIONS[name]
    if case.status not in transition.sources:
        allowed = ", ".join(f"« {CaseStatus(s).label} »" for s in sorted(transition.sources))
        raise CaseWorkflowError(
            f"Action « {transition.label} » impossible : le dossier est à l'état « {case.get_status_display()} » "
            f"(possible seulement à l'état {allowed}).",
            code="transition_not_allowed",
        )
    for guard in transition.guards:
        message = guard(case, when)
        if message:
            raise CaseWorkflowError(message, code=guard.__name__)
    return transition


def available(case: Case, when: dt.date) -> list[TransitionName]:
    """The steps an agent may take now (for the case page)."""
    names = []
    for name in TRANSITIONS:
        try:
            check(case, name, when)
        except CaseWorkflowError:
            continue
        names.append(name)
    return names


def log(case: Case, name: TransitionName, *, source: str, by: Any, when: dt.date, reason: str = "") -> CaseTransition:
    return CaseTransition.objects.create(
        case=case, transition=name, from_status=source, to_status=case.status,
        by=by if getattr(by, "pk", None) else None, by_label=_actor_label(by), date_effet=when, reason=reason,
    )


@transaction.atomic
def apply(
    case: Case, name: TransitionName, *, by: Any, when: dt.date, reason: str = "",
    changes: dict[str, Any] | None = None, today: dt.date | None = None,
) -> CaseTransition:
    """Take one step: check it, change the case, save it with its audit line, log the step."""
    transition = check(case, name, when)
    source = case.status
    for field, value in (changes or {}).items():
        setattr(case, field, value)
    if transition.target is not None:
        case.status = transition.target
    schedule.refresh(case, today or when)
    summary = f"{transition.label} ({_d(when)})"
    if transition.target is not None and transition.target != source:
        summary += f" : {CaseStatus(source).label} → {case.get_status_display()}"
    save_to_file(case, by=by, summary=summary, beneficiary=case.declaration.victim, action=AuditAction.TRANSITION)
    return log(case, name, source=source, by=by, when=when, reason=reason)


DEADLINE_FIELDS = ("date_limite_decision", "prochaine_echeance", "prochaine_echeance_libelle", "alerte")


def refresh_deadlines(case: Case, today: dt.date) -> bool:
    """Recompute the stored deadline fields (derived data: no audit line of their own)."""
    before = tuple(getattr(case, f) for f in DEADLINE_FIELDS)
    schedule.refresh(case, today)
    after = tuple(getattr(case, f) for f in DEADLINE_FIELDS)
    if before != after:
        Case.objects.filter(pk=case.pk).update(**dict(zip(DEADLINE_FIELDS, after, strict=True)))
        return True
    return False
