"""The AT/MP case workflow: the steps of the procedure and the ones it must refuse."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.core.models import AuditAction, AuditEvent
from caisse.work_accidents import services, workflow
from caisse.work_accidents.enums import CaseKind, CaseStatus, Declarant, TransitionName
from caisse.work_accidents.models import Case
from caisse.work_accidents.tests.factories import EmployerFactory
from caisse.work_accidents.workflow import CaseWorkflowError

pytestmark = pytest.mark.django_db

D = dt.date


def _at(by: Any, **kwargs: Any) -> Case:
    """Accident of Friday 5 June 2026, DAT by the employer on Monday 8 June."""
    fields: dict[str, Any] = {
        "kind": CaseKind.AT, "declarant": Declarant.EMPLOYEUR, "victim": BeneficiaryFactory(),
        "employer": EmployerFactory(), "date_evenement": D(2026, 6, 5), "date_declaration": D(2026, 6, 8),
        "date_reception": D(2026, 6, 8),
    }
    fields.update(kwargs)
    return services.declare(by=by, **fields)


def _at_instructed(by: Any) -> Case:
    case = _at(by)
    services.record_initial_certificate(case, by=by, date_etablissement=D(2026, 6, 5), date_reception=D(2026, 6, 12),
                                        lesions="Entorse de la cheville droite")
    return case


def _mp(by: Any) -> Case:
    case = services.declare(
        by=by, kind=CaseKind.MP, declarant=Declarant.VICTIME, victim=BeneficiaryFactory(), employer=EmployerFactory(),
        date_evenement=D(2026, 1, 20), date_declaration=D(2026, 2, 2), date_reception=D(2026, 2, 3), channel="papier",
    )
    services.record_initial_certificate(case, by=by, date_etablissement=D(2026, 1, 20), date_reception=D(2026, 2, 3))
    return case


def test_an_accident_goes_from_declaration_to_recognition_after_investigation(agent_atmp: Any) -> None:
    case = _at(agent_atmp)
    assert case.status == CaseStatus.DECLARE and case.date_limite_decision is None
    services.record_initial_certificate(case, by=agent_atmp, date_etablissement=D(2026, 6, 5),
                                        date_reception=D(2026, 6, 12))
    assert case.status == CaseStatus.INSTRUCTION
    assert case.date_limite_decision == D(2026, 7, 13)  # 30 jours francs, dimanche 12 -> lundi 13 (R441-7)
    services.record_reserves(case, by=agent_atmp, date_reception=D(2026, 6, 18), motifs="Aucun témoin de la chute.")
    services.open_investigation(case, by=agent_atmp, when=D(2026, 6, 22))
    assert case.status == CaseStatus.ENQUETE
    assert case.date_limite_decision == D(2026, 9, 10)  # 90 jours francs (R441-8)
    employer_q, victim_q = services.send_questionnaires(case, by=agent_atmp, when=D(2026, 7, 1))
    assert employer_q.date_limite_retour == D(2026, 7, 21)  # 20 jours francs
    services.record_questionnaire_return(employer_q, by=agent_atmp, date_retour=D(2026, 7, 10))
    services.record_questionnaire_return(victim_q, by=agent_atmp, date_retour=D(2026, 7, 24))
    period = services.open_consultation(case, by=agent_atmp, when=D(2026, 8, 14))
    assert period.fin_observations == D(2026, 8, 24)
    with pytest.raises(CaseWorkflowError, match="observations jusqu'au 24/08/2026"):
        services.decide(case, by=agent_atmp, when=D(2026, 8, 24), recognised=True)
    services.decide(case, by=agent_atmp, when=D(2026, 8, 25), recognised=True)
    case.refresh_from_db()
    assert case.status == CaseStatus.RECONNU and case.date_decision == D(2026, 8, 25)
    assert case.prochaine_echeance is None and not case.alerte

    steps = list(case.transitions.values_list("transition", "from_status", "to_status"))
    assert steps[0] == (TransitionName.DECLARER, "", CaseStatus.DECLARE)
    assert steps[1] == (TransitionName.RECEVOIR_CMI, CaseStatus.DECLARE, CaseStatus.INSTRUCTION)
    assert steps[-1] == (TransitionName.RECONNAITRE, CaseStatus.CONSULTATION, CaseStatus.RECONNU)
    assert len(steps) == 9
    late = case.transitions.get(reason__contains="victime")
    assert "hors délai" in late.reason
    assert all(t.by_label.startswith("Nadia Ferhat") for t in case.transitions.all())
    assert AuditEvent.objects.filter(beneficiary=case.declaration.victim, action=AuditAction.TRANSITION).count() >= 6
    assert AuditEvent.objects.get(object_type="certificat médical initial").medical


def test_reserves_after_ten_jours_francs_are_refused(agent_atmp: Any) -> None:
    case = _at_instructed(agent_atmp)
    with pytest.raises(CaseWorkflowError, match=r"hors délai.*18/06/2026 \(art. R441-6\)"):
        services.record_reserves(case, by=agent_atmp, date_reception=D(2026, 6, 19), motifs="Trop tard")
    assert not case.reserves.exists()


def test_reserves_must_be_reasoned(agent_atmp: Any) -> None:
    case = _at_instructed(agent_atmp)
    with pytest.raises(Exception, match="motivées"):
        services.record_reserves(case, by=agent_atmp, date_reception=D(2026, 6, 10), motifs="  ")


def test_reserves_on_a_victim_declaration_run_from_the_copy_received_by_the_employer(agent_atmp: Any) -> None:
    case = _at(agent_atmp, declarant=Declarant.VICTIME, date_declaration=D(2026, 6, 10), date_reception=D(2026, 6, 11))
    with pytest.raises(CaseWorkflowError, match="double"):
        services.record_reserves(case, by=agent_atmp, date_reception=D(2026, 6, 20), motifs="Pas de témoin")
    services.record_employer_copy(case, by=agent_atmp, date_copie_employeur=D(2026, 6, 15))
    services.record_reserves(case, by=agent_atmp, date_reception=D(2026, 6, 25), motifs="Pas de témoin")  # 15 + 10


def test_no_reserves_on_a_first_occupational_disease(agent_atmp: Any) -> None:
    case = _mp(agent_atmp)
    with pytest.raises(CaseWorkflowError, match="première déclaration de maladie professionnelle"):
        services.record_reserves(case, by=agent_atmp, date_reception=D(2026, 2, 5), motifs="Contestation")


def test_reserves_make_the_investigation_mandatory_before_deciding(agent_atmp: Any) -> None:
    case = _at_instructed(agent_atmp)
    services.record_reserves(case, by=agent_atmp, date_reception=D(2026, 6, 15), motifs="Aucun témoin.")
    with pytest.raises(CaseWorkflowError, match="enquête est obligatoire"):
        services.decide(case, by=agent_atmp, when=D(2026, 6, 30), recognised=True)
    case.refresh_from_db()
    assert case.status == CaseStatus.INSTRUCTION


def test_an_accident_without_reserves_may_be_recognised_directly(agent_atmp: Any) -> None:
    case = _at_instructed(agent_atmp)
    services.decide(case, by=agent_atmp, when=D(2026, 6, 20), recognised=True)
    assert case.status == CaseStatus.RECONNU


@pytest.mark.parametrize("step", ["investigation", "crrmp", "decide", "consultation", "questionnaires"])
def test_a_decided_case_refuses_every_step(agent_atmp: Any, step: str) -> None:
    case = _at_instructed(agent_atmp)
    services.decide(case, by=agent_atmp, when=D(2026, 6, 20), recognised=False, motif="Pas de fait accidentel.")
    actions = {
        "investigation": lambda: services.open_investigation(case, by=agent_atmp, when=D(2026, 6, 21)),
        "crrmp": lambda: services.refer_to_crrmp(case, by=agent_atmp, when=D(2026, 6, 21), reason="Hors tableau"),
        "decide": lambda: services.decide(case, by=agent_atmp, when=D(2026, 6, 21), recognised=True),
        "consultation": lambda: services.open_consultation(case, by=agent_atmp, when=D(2026, 6, 21)),
        "questionnaires": lambda: services.send_questionnaires(case, by=agent_atmp, when=D(2026, 6, 21)),
    }
    with pytest.raises(CaseWorkflowError, match="impossible : le dossier est à l'état « Refusé »"):
        actions[step]()


def test_no_step_before_the_initial_certificate(agent_atmp: Any) -> None:
    case = _at(agent_atmp)
    with pytest.raises(CaseWorkflowError, match="Déclaré, en attente du certificat"):
        services.open_investigation(case, by=agent_atmp, when=D(2026, 6, 10))
    with pytest.raises(CaseWorkflowError, match="impossible"):
        services.decide(case, by=agent_atmp, when=D(2026, 6, 10), recognised=True)


def test_consultation_needs_the_questionnaires_and_decision_after_investigation_needs_consultation(agent_atmp: Any) -> None:
    case = _at_instructed(agent_atmp)
    services.open_investigation(case, by=agent_atmp, when=D(2026, 6, 20))
    with pytest.raises(CaseWorkflowError, match="Envoyez d'abord les questionnaires"):
        services.open_consultation(case, by=agent_atmp, when=D(2026, 6, 25))
    with pytest.raises(CaseWorkflowError, match="mis à la disposition des parties"):
        services.decide(case, by=agent_atmp, when=D(2026, 6, 25), recognised=False, motif="Doute")
    services.send_questionnaires(case, by=agent_atmp, when=D(2026, 6, 25))
    with pytest.raises(CaseWorkflowError, match="déjà été envoyés"):
        services.send_questionnaires(case, by=agent_atmp, when=D(2026, 6, 26))


def test_investigation_cannot_open_after_the_30_jours_francs(agent_atmp: Any) -> None:
    case = _at_instructed(agent_atmp)
    with pytest.raises(CaseWorkflowError, match="expiré le 13/07/2026"):
        services.open_investigation(case, by=agent_atmp, when=D(2026, 7, 14))


def test_a_refusal_must_be_reasoned_and_come_before_the_deadline(agent_atmp: Any) -> None:
    case = _at_instructed(agent_atmp)
    with pytest.raises(Exception, match="motivé"):
        services.decide(case, by=agent_atmp, when=D(2026, 7, 1), recognised=False)
    with pytest.raises(CaseWorkflowError, match="implicitement reconnu"):
        services.decide(case, by=agent_atmp, when=D(2026, 7, 14), recognised=False, motif="Pas de lien")


def test_only_an_occupational_disease_goes_to_the_crrmp(agent_atmp: Any) -> None:
    with pytest.raises(CaseWorkflowError, match="CRRMP"):
        services.refer_to_crrmp(_at_instructed(agent_atmp), by=agent_atmp, when=D(2026, 6, 20), reason="Hors tableau")
    case = _mp(agent_atmp)
    assert case.date_limite_decision == D(2026, 6, 3)  # 120 jours francs (R461-9)
    services.refer_to_crrmp(case, by=agent_atmp, when=D(2026, 5, 29), reason="Maladie hors tableau, IP ≥ 25 %")
    assert case.status == CaseStatus.CRRMP
    assert case.date_limite_decision == D(2026, 9, 28)  # +120 jours francs (R461-10)
    with pytest.raises(CaseWorkflowError, match="R461-10"):
        services.decide(case, by=agent_atmp, when=D(2026, 7, 9), recognised=True)
    services.decide(case, by=agent_atmp, when=D(2026, 7, 10), recognised=True)
    assert case.status == CaseStatus.RECONNU


def test_an_employer_cannot_declare_an_occupational_disease(agent_atmp: Any) -> None:
    with pytest.raises(Exception, match="L461-5"):
        services.declare(by=agent_atmp, kind=CaseKind.MP, declarant=Declarant.EMPLOYEUR, victim=BeneficiaryFactory(),
                         employer=EmployerFactory(), date_evenement=D(2026, 1, 2), date_declaration=D(2026, 1, 5),
                         date_reception=D(2026, 1, 5))


def test_the_victim_may_declare_for_two_years_then_it_is_time_barred(agent_atmp: Any) -> None:
    case = _at(agent_atmp, declarant=Declarant.VICTIME, date_evenement=D(2024, 6, 5), date_declaration=D(2026, 6, 5),
               date_reception=D(2026, 6, 8))
    assert case.status == CaseStatus.DECLARE
    with pytest.raises(Exception, match="prescrite.*05/06/2026"):
        _at(agent_atmp, declarant=Declarant.VICTIME, date_evenement=D(2024, 6, 5), date_declaration=D(2026, 6, 6),
            date_reception=D(2026, 6, 8))


def test_a_late_employer_declaration_is_recorded_and_flagged(agent_atmp: Any) -> None:
    case = _at(agent_atmp, date_declaration=D(2026, 6, 9), date_reception=D(2026, 6, 9))
    assert case.declaration.declaration_tardive
    assert "48 heures" in case.transitions.get().reason
    assert not _at(agent_atmp).declaration.declaration_tardive


def test_declarations_before_the_2019_decree_are_refused(agent_atmp: Any) -> None:
    with pytest.raises(Exception, match="01/12/2019"):
        _at(agent_atmp, date_evenement=D(2019, 11, 20), date_declaration=D(2019, 11, 21),
            date_reception=D(2019, 11, 22))


def test_available_steps_follow_the_table(agent_atmp: Any) -> None:
    case = _at_instructed(agent_atmp)
    names = workflow.available(case, D(2026, 6, 15))
    assert TransitionName.OUVRIR_ENQUETE in names and TransitionName.RECONNAITRE in names
    assert TransitionName.SAISIR_CRRMP not in names and TransitionName.RECONNAITRE_IMPLICITEMENT not in names


# --- The daily run: flags and implicit recognition -----------------------------------------------------


def test_flag_deadlines_flags_near_deadlines_then_records_the_implicit_recognition(agent_atmp: Any) -> None:
    case = _at_instructed(agent_atmp)  # decision deadline Monday 13 July 2026
    report = services.flag_deadlines(D(2026, 7, 1))
    case.refresh_from_db()
    assert report.implicit == [] and report.flagged == [] and not case.alerte
    report = services.flag_deadlines(D(2026, 7, 8))  # 5 days before: alert (parameter)
    case.refresh_from_db()
    assert report.flagged == [case.pk] and case.alerte
    assert services.flag_deadlines(D(2026, 7, 13)).implicit == []  # the last day still belongs to the caisse
    report = services.flag_deadlines(D(2026, 7, 14))
    assert report.implicit == [case.pk]
    case.refresh_from_db()
    assert case.status == CaseStatus.RECONNU_IMPLICITE
    assert case.date_decision == D(2026, 7, 14)
    step = case.transitions.last()
    assert step is not None and step.transition == TransitionName.RECONNAITRE_IMPLICITEMENT
    assert step.by is None and step.by_label == "traitement automatique" and "R441-7" in step.reason
    assert services.flag_deadlines(D(2026, 7, 15)).implicit == []  # idempotent
    assert AuditEvent.objects.filter(action=AuditAction.BATCH).count() == 5


def test_investigation_pushes_the_implicit_recognition_to_90_jours_francs(agent_atmp: Any) -> None:
    case = _at_instructed(agent_atmp)
    services.open_investigation(case, by=agent_atmp, when=D(2026, 6, 20))
    assert services.flag_deadlines(D(2026, 7, 14)).implicit == []
    assert services.flag_deadlines(D(2026, 9, 11)).implicit == [case.pk]


def test_a_case_without_certificate_is_never_recognised_implicitly(agent_atmp: Any) -> None:
    case = _at(agent_atmp)
    assert services.flag_deadlines(D(2027, 1, 1)).implicit == []
    case.refresh_from_db()
    assert case.status == CaseStatus.DECLARE


def test_implicit_recognition_can_be_switched_off_by_parameter(agent_atmp: Any, monkeypatch: Any) -> None:
    from caisse.rules import parameters

    base = parameters.load_parameters()
    patched = base.overlay({"atmp.procedure.reconnaissance_implicite": {D(2026, 1, 1): False}})
    monkeypatch.setattr("caisse.work_accidents.schedule.load_parameters", lambda: patched)
    case = _at_instructed(agent_atmp)
    assert services.flag_deadlines(D(2026, 8, 1)).implicit == []
    case.refresh_from_db()
    assert case.status == CaseStatus.INSTRUCTION and case.alerte


def test_the_daily_command_records_implicit_recognitions(agent_atmp: Any) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    case = _at_instructed(agent_atmp)
    out = StringIO()
    call_command("atmp_echeances", "--date", "2026-07-14", stdout=out)
    assert "1 dossiers examinés au 14/07/2026 : 0 signalés, 1 reconnaissances implicites." in out.getvalue()
    case.refresh_from_db()
    assert case.status == CaseStatus.RECONNU_IMPLICITE
    with pytest.raises(CommandError, match="Date invalide"):
        call_command("atmp_echeances", "--date", "14/07/2026")


def test_a_rechute_attaches_to_a_recognised_case_of_the_same_person(agent_atmp: Any) -> None:
    initial = _at_instructed(agent_atmp)
    fields: dict[str, Any] = {
        "kind": CaseKind.RECHUTE, "declarant": Declarant.VICTIME, "victim": initial.declaration.victim,
        "employer": initial.declaration.employer, "date_evenement": D(2026, 9, 1), "date_declaration": D(2026, 9, 2),
        "date_reception": D(2026, 9, 3), "rechute_de": initial.declaration,
    }
    with pytest.raises(Exception, match="initialement reconnu"):
        services.declare(by=agent_atmp, **fields)
    services.decide(initial, by=agent_atmp, when=D(2026, 6, 20), recognised=True)
    with pytest.raises(Exception, match="autre personne"):
        services.declare(by=agent_atmp, **{**fields, "victim": BeneficiaryFactory()})
    rechute = services.declare(by=agent_atmp, **fields)
    services.record_initial_certificate(rechute, by=agent_atmp, date_etablissement=D(2026, 9, 1),
                                        date_reception=D(2026, 9, 3))
    assert rechute.date_limite_decision == D(2026, 11, 2)  # 60 jours francs depuis le 3 septembre (R441-16)
    assert rechute.declaration.rechute_de == initial.declaration
