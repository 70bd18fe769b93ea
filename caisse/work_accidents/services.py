"""Every change to an AT/MP case goes through one of these functions.

Each is one transaction: it validates (French messages), takes the workflow step (which saves
the case with its audit line and appends the transition log), saves the pieces through
``core.audit.save_to_file`` and refreshes the stored deadlines. Durations are the dated
parameters of ``atmp.procedure``, read at the declaration date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from caisse.beneficiaries.models import Beneficiary
from caisse.core.audit import record, save_to_file
from caisse.core.models import AuditAction
from caisse.professionals.models import Employer, HealthProfessional
from caisse.rules.atmp.deadlines import (
    PROCEDURE_START,
    CaseFacts,
    CaseType,
    ProcedureRules,
    employer_declaration_deadline,
    jours_francs,
    victim_declaration_limit,
)
from caisse.rules.parameters import load_parameters
from caisse.work_accidents import schedule, workflow
from caisse.work_accidents.enums import (
    RECOGNISED_STATUSES,
    CaseKind,
    CaseStatus,
    Declarant,
    Recipient,
    TransitionName,
)
from caisse.work_accidents.models import (
    Case,
    ConsultationPeriod,
    Declaration,
    InitialCertificate,
    Questionnaire,
    Reservation,
)


def _d(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _today() -> dt.date:
    return timezone.localdate()


# --- Declaration -----------------------------------------------------------------------------------


@transaction.atomic
def declare(
    *, by: Any, kind: str, declarant: str, victim: Beneficiary, employer: Employer | None,
    date_evenement: dt.date, date_declaration: dt.date, date_reception: dt.date, channel: str = "edat",
    date_copie_employeur: dt.date | None = None, circonstances: str = "", rechute_de: Declaration | None = None,
    victim_declared_name: str = "",
) -> Case:
    """Record a declaration (DAT, victim's declaration, MP, rechute) and open its case.

    ``victim_declared_name``: the victim's name as the employer typed it in an online declaration,
    once checked against the NIR and birth date (the employer's space shows this name)."""
    if date_declaration < PROCEDURE_START:
        raise ValidationError({"date_declaration": (
            "Seules les déclarations faites à partir du 01/12/2019 (décret 2019-356) sont instruites ici."
        )})
    if kind == CaseKind.MP and declarant == Declarant.EMPLOYEUR:
        raise ValidationError({"declarant": "Une maladie professionnelle est déclarée par la victime (art. L461-5)."})
    if kind == CaseKind.RECHUTE and rechute_de is not None:
        if rechute_de.victim_id != victim.pk:
            raise ValidationError({"rechute_de": "Le dossier initial concerne une autre personne."})
        if not rechute_de.cases.filter(status__in=RECOGNISED_STATUSES).exists():
            raise ValidationError({"rechute_de": (
                "Une rechute suppose un accident ou une maladie initialement reconnu : ce n'est pas le cas du "
                "dossier initial indiqué."
            )})
    if kind != CaseKind.RECHUTE and rechute_de is not None:
        raise ValidationError({"rechute_de": "Seule une rechute se rattache à un dossier initial."})
    if victim.date_deces and date_evenement > victim.date_deces:
        raise ValidationError({"date_evenement": "L'événement ne peut pas suivre le décès de la victime."})
    rules = ProcedureRules.at(load_parameters(), date_declaration)
    facts = CaseFacts(CaseType(kind), date_evenement, declared_by_employer=declarant == Declarant.EMPLOYEUR)
    limit = victim_declaration_limit(facts, rules)
    if declarant == Declarant.VICTIME and date_declaration > limit.due:
        raise ValidationError({"date_declaration": (
            f"La déclaration est prescrite : la victime pouvait déclarer jusqu'au {_d(limit.due)} "
            f"({limit.delay}, art. {limit.article})."
        )})
    late = False
    employer_deadline = employer_declaration_deadline(facts, rules)
    if declarant == Declarant.EMPLOYEUR and employer_deadline is not None:
        late = date_declaration > employer_deadline.due
    declaration = Declaration(
        kind=kind, declarant=declarant, channel=channel, victim=victim, employer=employer,
        date_evenement=date_evenement, date_declaration=date_declaration, date_reception=date_reception,
        date_copie_employeur=date_copie_employeur, circonstances=circonstances, rechute_de=rechute_de,
        declaration_tardive=late, victim_declared_name=victim_declared_name,
    )
    save_to_file(declaration, by=by, summary=f"Déclaration reçue : {declaration}", beneficiary=victim)
    case = Case(declaration=declaration, status=CaseStatus.DECLARE)
    save_to_file(case, by=by, summary="Ouverture du dossier AT/MP", beneficiary=victim)
    workflow.refresh_deadlines(case, _today())
    reason = "Déclaration de l'employeur hors du délai de 48 heures (art. R441-3)." if late else ""
    workflow.log(case, TransitionName.DECLARER, source="", by=by, when=date_reception, reason=reason)
    return case


@transaction.atomic
def record_initial_certificate(
    case: Case, *, by: Any, date_etablissement: dt.date, date_reception: dt.date, lesions: str = "",
    medecin: HealthProfessional | None = None, arret_jusqu_au: dt.date | None = None,
) -> InitialCertificate:
    """The CMI: with the declaration it starts the caisse's decision deadline (R441-7, R461-9)."""
    if date_etablissement < case.declaration.date_evenement:
        raise ValidationError({"date_etablissement": (
            "Le certificat médical initial ne peut pas précéder l'accident ou la constatation médicale."
        )})
    workflow.check(case, TransitionName.RECEVOIR_CMI, date_reception)
    certificate = InitialCertificate(
        declaration=case.declaration, date_etablissement=date_etablissement, date_reception=date_reception,
        lesions=lesions, medecin=medecin, arret_jusqu_au=arret_jusqu_au,
    )
    save_to_file(certificate, by=by, summary="Certificat médical initial reçu", beneficiary=case.declaration.victim,
                 medical=True)
    workflow.apply(case, TransitionName.RECEVOIR_CMI, by=by, when=date_reception)
    return certificate


@transaction.atomic
def record_employer_copy(case: Case, *, by: Any, date_copie_employeur: dt.date) -> Declaration:
    """Date the employer received the copy of the victim's declaration (start of the réserves)."""
    declaration = case.declaration
    if date_copie_employeur < declaration.date_reception:
        raise ValidationError({"date_copie_employeur": "Le double ne peut pas précéder la réception de la déclaration."})
    declaration.date_copie_employeur = date_copie_employeur
    save_to_file(declaration, by=by, summary="Réception du double de la déclaration par l'employeur",
                 beneficiary=declaration.victim)
    workflow.refresh_deadlines(case, _today())
    return declaration


# --- Réserves, investigation, questionnaires, consultation -----------------------------------------------


@transaction.atomic
def record_reserves(case: Case, *, by: Any, date_reception: dt.date, motifs: str) -> Reservation:
    """Réserves motivées of the employer, admissible within 10 jours francs (R441-6), never on a first MP."""
    if not motifs.strip():
        raise ValidationError({"motifs": "Des réserves doivent être motivées : indiquez les motifs de l'employeur."})
    workflow.apply(case, TransitionName.RECEVOIR_RESERVES, by=by, when=date_reception,
                   reason="Réserves motivées recevables : une enquête est obligatoire (art. R441-8).")
    reservation = Reservation(case=case, date_reception=date_reception, motifs=motifs.strip())
    save_to_file(reservation, by=by, summary="Réserves motivées de l'employeur", beneficiary=case.declaration.victim)
    workflow.refresh_deadlines(case, _today())
    return reservation


@transaction.atomic
def open_investigation(case: Case, *, by: Any, when: dt.date, reason: str = "") -> Case:
    """Mandatory after réserves; for an AT it extends the decision deadline to 90 jours francs (R441-8)."""
    if not reason and case.reserves.exists():
        reason = "Enquête obligatoire : réserves motivées de l'employeur."
    workflow.apply(case, TransitionName.OUVRIR_ENQUETE, by=by, when=when, reason=reason,
                   changes={"enquete": True, "date_enquete": when})
    return case


@transaction.atomic
def send_questionnaires(case: Case, *, by: Any, when: dt.date) -> list[Questionnaire]:
    """One questionnaire to the employer, one to the victim: 20 (AT) or 30 (MP) jours francs to answer."""
    rules = schedule.rules_for(case)
    workflow.apply(case, TransitionName.ENVOYER_QUESTIONNAIRES, by=by, when=when)
    days = rules.mp_questionnaire_days if case.is_mp else rules.at_questionnaire_days
    due = jours_francs(when, days, extend=rules.extend_to_working_day)
    sent = []
    for recipient in (Recipient.EMPLOYEUR, Recipient.VICTIME):
        questionnaire = Questionnaire(case=case, destinataire=recipient, date_envoi=when, date_limite_retour=due)
        save_to_file(questionnaire, by=by, summary=f"Questionnaire envoyé ({recipient.label.lower()}), retour "
                     f"attendu au plus tard le {_d(due)}", beneficiary=case.declaration.victim)
        sent.append(questionnaire)
    workflow.refresh_deadlines(case, _today())
    return sent


@transaction.atomic
def record_questionnaire_return(questionnaire: Questionnaire, *, by: Any, date_retour: dt.date) -> Questionnaire:
    """A late return is recorded too, and marked late in the file's history."""
    if questionnaire.date_retour is not None:
        raise ValidationError("Le retour de ce questionnaire est déjà enregistré.")
    if date_retour < questionnaire.date_envoi:
        raise ValidationError({"date_retour": "Un questionnaire ne peut pas revenir avant d'être envoyé."})
    case = questionnaire.case
    late = date_retour > questionnaire.date_limite_retour
    reason = f"Questionnaire {questionnaire.get_destinataire_display().lower()} retourné le {_d(date_retour)}"
    if late:
        reason += f", hors délai (limite le {_d(questionnaire.date_limite_retour)})"
    workflow.apply(case, TransitionName.RECEVOIR_QUESTIONNAIRE, by=by, when=date_retour, reason=reason + ".")
    questionnaire.date_retour = date_retour
    save_to_file(questionnaire, by=by, summary=reason, beneficiary=case.declaration.victim)
    workflow.refresh_deadlines(case, _today())
    return questionnaire


@transaction.atomic
def open_consultation(case: Case, *, by: Any, when: dt.date) -> ConsultationPeriod:
    """Make the file available: the parties have 10 jours francs for observations (R441-8, R461-9)."""
    rules = schedule.rules_for(case)
    deadline = next((d for d in schedule.all_deadlines(case) if d.code == "mise_a_disposition"), None)
    reason = ""
    if deadline is not None and when > deadline.due:
        reason = f"Mise à disposition après le {_d(deadline.due)}, date limite (art. {deadline.article})."
    workflow.apply(case, TransitionName.OUVRIR_CONSULTATION, by=by, when=when, reason=reason)
    period = ConsultationPeriod(
        case=case, debut=when, fin_observations=jours_francs(when, rules.observations_days,
                                                             extend=rules.extend_to_working_day),
    )
    save_to_file(period, by=by, summary=f"Dossier mis à disposition ; observations jusqu'au "
                 f"{_d(period.fin_observations)}", beneficiary=case.declaration.victim)
    workflow.refresh_deadlines(case, _today())
    return period


@transaction.atomic
def refer_to_crrmp(case: Case, *, by: Any, when: dt.date, reason: str) -> Case:
    """MP only: the caisse has 120 more jours francs from the referral (R461-10)."""
    if not reason.strip():
        raise ValidationError({"reason": "Indiquez pourquoi le CRRMP est saisi (condition du tableau non remplie, "
                                         "maladie hors tableau…)."})
    workflow.apply(case, TransitionName.SAISIR_CRRMP, by=by, when=when, reason=reason.strip(),
                   changes={"date_saisine_crrmp": when})
    return case


# --- Decision --------------------------------------------------------------------------------------------


@transaction.atomic
def decide(case: Case, *, by: Any, when: dt.date, recognised: bool, motif: str = "") -> Case:
    if not recognised and not motif.strip():
        raise ValidationError({"motif": "Un refus doit être motivé : indiquez le motif communiqué aux parties."})
    name = TransitionName.RECONNAITRE if recognised else TransitionName.REFUSER
    workflow.apply(case, name, by=by, when=when, reason=motif.strip(),
                   changes={"date_decision": when, "motif_decision": motif.strip()})
    return case


@dataclass
class FlagReport:
    checked: int = 0
    flagged: list[int] = field(default_factory=list)
    implicit: list[int] = field(default_factory=list)


def flag_deadlines(today: dt.date, *, by: Any = None) -> FlagReport:
    """Daily run: flag cases near a deadline and record the implicit recognitions.

    A case whose decision deadline passed (``today`` after its last day) without a decision is
    recognised implicitly, dated the day after the deadline. Each case is its own transaction.
    """
    report = FlagReport()
    for case in Case.objects.open().select_related("declaration__victim").order_by("id"):
        report.checked += 1
        with transaction.atomic():
            try:
                workflow.check(case, TransitionName.RECONNAITRE_IMPLICITEMENT, today)
            except workflow.CaseWorkflowError:
                workflow.refresh_deadlines(case, today)
                if case.alerte:
                    report.flagged.append(case.pk)
                continue
            deadline = schedule.current_decision_deadline(case)
            assert deadline is not None
            acquired = deadline.due + dt.timedelta(days=1)
            workflow.apply(
                case, TransitionName.RECONNAITRE_IMPLICITEMENT, by=by, when=acquired, today=today,
                reason=(f"Aucune décision au {_d(deadline.due)}, fin du délai de {deadline.delay} "
                        f"(art. {deadline.article}) : reconnaissance implicite du caractère professionnel."),
                changes={"date_decision": acquired,
                         "motif_decision": "Reconnaissance implicite faute de décision dans le délai."},
            )
            report.implicit.append(case.pk)
    record(by=by, action=AuditAction.BATCH, summary=(
        f"Suivi des délais AT/MP du {_d(today)} : {report.checked} dossiers, {len(report.flagged)} signalés, "
        f"{len(report.implicit)} reconnaissances implicites"
    ))
    return report
