"""AT/MP declarations and the cases that instruct them, with their transition log.

A declaration (DAT of the employer, or the victim's own declaration) opens one case. The case
moves through the states of :class:`~caisse.work_accidents.enums.CaseStatus` only through
``caisse.work_accidents.workflow`` (each step is a :class:`CaseTransition` row). Deadlines are
computed by the pure engine ``caisse.rules.atmp.deadlines``; the case stores the decision
deadline and the nearest pending one so that the work queue can be sorted in the database.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from caisse.rules.atmp.deadlines import CaseFacts, CaseType
from caisse.work_accidents.enums import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    CaseKind,
    CaseStatus,
    Channel,
    Declarant,
    Recipient,
    TransitionName,
)


class Declaration(models.Model):
    kind = models.CharField("nature", max_length=32, choices=CaseKind.choices)
    declarant = models.CharField("déclarant", max_length=16, choices=Declarant.choices)
    channel = models.CharField("canal", max_length=16, choices=Channel.choices, default=Channel.EDAT)
    victim = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name="victime", on_delete=models.PROTECT, related_name="atmp_declarations",
    )
    employer = models.ForeignKey(
        "professionals.Employer", verbose_name="employeur", null=True, blank=True, on_delete=models.PROTECT,
        related_name="atmp_declarations",
    )
    victim_declared_name = models.CharField(
        "victime, telle que nommée par l'employeur", max_length=250, blank=True,
        help_text="Déclaration en ligne : prénom et nom saisis par l'employeur et vérifiés avec le NIR et la date "
        "de naissance. L'espace employeur affiche ce nom, pas celui du fichier des assurés.",
    )
    date_evenement = models.DateField(
        "date de l'accident ou de la première constatation médicale",
        help_text="Accident ou rechute : date de l'événement. Maladie professionnelle : date à laquelle la victime "
        "a été informée par certificat médical du lien possible avec son travail.",
    )
    date_declaration = models.DateField("date de la déclaration")
    date_reception = models.DateField("date de réception par la caisse")
    date_copie_employeur = models.DateField(
        "date de réception du double par l'employeur", null=True, blank=True,
        help_text="Quand la victime a déclaré : point de départ du délai des réserves.",
    )
    circonstances = models.TextField("circonstances", blank=True)
    rechute_de = models.ForeignKey(
        "self", verbose_name="accident ou maladie initial", null=True, blank=True, on_delete=models.PROTECT,
        related_name="rechutes",
    )
    declaration_tardive = models.BooleanField("déclaration de l'employeur hors délai (48 h)", default=False)
    created_at = models.DateTimeField("enregistrée le", auto_now_add=True)

    class Meta:
        verbose_name = "déclaration AT/MP"
        verbose_name_plural = "déclarations AT/MP"
        ordering = ["-date_reception", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_declaration__gte=models.F("date_evenement")),
                name="check_declaration_after_event",
                violation_error_message="La déclaration ne peut pas précéder l'accident ou la constatation médicale.",
            ),
            models.CheckConstraint(
                condition=models.Q(date_reception__gte=models.F("date_declaration")),
                name="check_declaration_received_after_declared",
                violation_error_message="La caisse ne peut pas recevoir la déclaration avant qu'elle soit faite.",
            ),
            models.CheckConstraint(
                condition=~models.Q(declarant=Declarant.EMPLOYEUR) | models.Q(employer__isnull=False),
                name="check_declaration_employer_declares_with_employer",
                violation_error_message="Une déclaration de l'employeur doit indiquer l'employeur.",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=[CaseKind.AT, CaseKind.TRAJET]) | models.Q(employer__isnull=False),
                name="check_declaration_accident_has_employer",
                violation_error_message="Un accident du travail ou de trajet doit indiquer l'employeur.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} du {self.date_evenement:%d/%m/%Y}"


class InitialCertificate(models.Model):
    """Certificat médical initial (CMI). The lesions are medical data."""

    declaration = models.OneToOneField(
        Declaration, verbose_name="déclaration", on_delete=models.PROTECT, related_name="certificat",
    )
    date_etablissement = models.DateField("date d'établissement")
    date_reception = models.DateField("date de réception par la caisse")
    medecin = models.ForeignKey(
        "professionals.HealthProfessional", verbose_name="médecin", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    lesions = models.TextField("siège et nature des lésions", blank=True)
    arret_jusqu_au = models.DateField("arrêt de travail jusqu'au", null=True, blank=True)

    class Meta:
        verbose_name = "certificat médical initial"
        verbose_name_plural = "certificats médicaux initiaux"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_reception__gte=models.F("date_etablissement")),
                name="check_initialcertificate_received_after_issued",
                violation_error_message="Le certificat ne peut pas être reçu avant d'être établi.",
            ),
        ]

    def __str__(self) -> str:
        return f"Certificat médical initial du {self.date_etablissement:%d/%m/%Y}"


class CaseQuerySet(models.QuerySet["Case"]):
    def open(self) -> CaseQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def decided(self) -> CaseQuerySet:
        return self.filter(status__in=DECIDED_STATUSES)

    def work_queue(self) -> CaseQuerySet:
        """Open cases, nearest deadline first (cases without a deadline at the end)."""
        return self.open().select_related("declaration__victim", "declaration__employer").order_by(
            models.F("prochaine_echeance").asc(nulls_last=True), "id",
        )


class Case(models.Model):
    """Dossier d'instruction of one declaration."""

    declaration = models.ForeignKey(
        Declaration, verbose_name="déclaration", on_delete=models.PROTECT, related_name="cases",
    )
    status = models.CharField("état", max_length=20, choices=CaseStatus.choices, default=CaseStatus.DECLARE)
    enquete = models.BooleanField("enquête engagée", default=False)
    date_enquete = models.DateField("date d'ouverture de l'enquête", null=True, blank=True)
    date_saisine_crrmp = models.DateField("date de saisine du CRRMP", null=True, blank=True)
    date_limite_decision = models.DateField("date limite de décision", null=True, blank=True)
    prochaine_echeance = models.DateField("prochaine échéance", null=True, blank=True, db_index=True)
    prochaine_echeance_libelle = models.CharField("objet de la prochaine échéance", max_length=120, blank=True)
    alerte = models.BooleanField("échéance proche ou dépassée", default=False)
    date_decision = models.DateField("date de la décision", null=True, blank=True)
    motif_decision = models.TextField("motif de la décision", blank=True)
    opened_at = models.DateTimeField("ouvert le", auto_now_add=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = "dossier AT/MP"
        verbose_name_plural = "dossiers AT/MP"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["declaration"], condition=models.Q(status__in=OPEN_STATUSES),
                name="unique_case_open_per_declaration",
                violation_error_message="Un dossier est déjà ouvert pour cette déclaration.",
            ),
            models.CheckConstraint(
                condition=(models.Q(status__in=DECIDED_STATUSES) & models.Q(date_decision__isnull=False))
                | (~models.Q(status__in=DECIDED_STATUSES) & models.Q(date_decision__isnull=True)),
                name="check_case_decision_dated_when_decided",
                violation_error_message="Un dossier décidé porte la date de la décision, et seulement lui.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CaseStatus.CRRMP) | models.Q(date_saisine_crrmp__isnull=False),
                name="check_case_crrmp_dated",
                violation_error_message="La saisine du CRRMP doit être datée.",
            ),
            models.CheckConstraint(
                condition=models.Q(enquete=False, date_enquete__isnull=True)
                | models.Q(enquete=True, date_enquete__isnull=False),
                name="check_case_investigation_dated",
                violation_error_message="L'ouverture de l'enquête doit être datée.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CaseStatus.REFUSE) | ~models.Q(motif_decision=""),
                name="check_case_refusal_reasoned",
                violation_error_message="Un refus doit être motivé.",
            ),
        ]

    def __str__(self) -> str:
        return f"Dossier AT/MP n° {self.pk} — {self.declaration}"

    @property
    def kind(self) -> str:
        return self.declaration.kind

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_mp(self) -> bool:
        return self.declaration.kind == CaseKind.MP

    def facts(self) -> CaseFacts:
        """What the pure deadline engine needs, read from the case and its pieces."""
        d = self.declaration
        cmi = getattr(d, "certificat", None) if d.pk else None
        sent = [q.date_envoi for q in self.questionnaires.all()] if self.pk else []
        consultation = self.consultations.order_by("-debut").first() if self.pk else None
        return CaseFacts(
            case_type=CaseType(d.kind),
            event_date=d.date_evenement,
            declared_by_employer=d.declarant == Declarant.EMPLOYEUR,
            declaration_date=d.date_declaration,
            received_date=d.date_reception,
            cmi_received=cmi.date_reception if cmi else None,
            employer_copy_received=d.date_copie_employeur,
            investigation=self.enquete,
            questionnaires_sent=min(sent) if sent else None,
            consultation_opened=consultation.debut if consultation else None,
            crrmp_referred=self.date_saisine_crrmp,
        )

    def instruction_days(self) -> int | None:
        """Instruction delay (calendar days): receipt of the declaration to the decision."""
        if self.date_decision is None:
            return None
        return (self.date_decision - self.declaration.date_reception).days


class Reservation(models.Model):
    """Réserves motivées of the employer (R441-6): recorded only when admissible."""

    case = models.ForeignKey(Case, verbose_name="dossier", on_delete=models.PROTECT, related_name="reserves")
    date_reception = models.DateField("date de réception")
    motifs = models.TextField("motifs")

    class Meta:
        verbose_name = "réserves de l'employeur"
        verbose_name_plural = "réserves de l'employeur"
        constraints = [
            models.UniqueConstraint(fields=["case"], name="unique_reservation_per_case",
                                    violation_error_message="Les réserves de l'employeur sont déjà enregistrées."),
            models.CheckConstraint(condition=~models.Q(motifs=""), name="check_reservation_reasoned",
                                   violation_error_message="Les réserves doivent être motivées."),
        ]

    def __str__(self) -> str:
        return f"Réserves reçues le {self.date_reception:%d/%m/%Y}"


class Questionnaire(models.Model):
    case = models.ForeignKey(Case, verbose_name="dossier", on_delete=models.PROTECT, related_name="questionnaires")
    destinataire = models.CharField("destinataire", max_length=16, choices=Recipient.choices)
    date_envoi = models.DateField("date d'envoi")
    date_limite_retour = models.DateField("date limite de retour")
    date_retour = models.DateField("date de retour", null=True, blank=True)

    class Meta:
        verbose_name = "questionnaire"
        verbose_name_plural = "questionnaires"
        ordering = ["date_envoi", "destinataire"]
        constraints = [
            models.UniqueConstraint(fields=["case", "destinataire"], name="unique_questionnaire_per_recipient",
                                    violation_error_message="Ce destinataire a déjà reçu un questionnaire."),
            models.CheckConstraint(condition=models.Q(date_limite_retour__gt=models.F("date_envoi")),
                                   name="check_questionnaire_deadline_after_sending",
                                   violation_error_message="La date limite de retour suit l'envoi."),
            models.CheckConstraint(
                condition=models.Q(date_retour__isnull=True) | models.Q(date_retour__gte=models.F("date_envoi")),
                name="check_questionnaire_returned_after_sending",
                violation_error_message="Un questionnaire ne peut pas revenir avant d'être envoyé.",
            ),
        ]

    def __str__(self) -> str:
        return f"Questionnaire {self.get_destinataire_display().lower()} du {self.date_envoi:%d/%m/%Y}"

    @property
    def en_retard(self) -> bool:
        return self.date_retour is not None and self.date_retour > self.date_limite_retour

    def pending_past(self, today: dt.date) -> bool:
        return self.date_retour is None and today > self.date_limite_retour


class ConsultationPeriod(models.Model):
    """The file made available to the parties: observations until ``fin_observations``."""

    case = models.ForeignKey(Case, verbose_name="dossier", on_delete=models.PROTECT, related_name="consultations")
    debut = models.DateField("mise à disposition le")
    fin_observations = models.DateField("observations possibles jusqu'au")

    class Meta:
        verbose_name = "période de consultation"
        verbose_name_plural = "périodes de consultation"
        constraints = [
            models.CheckConstraint(condition=models.Q(fin_observations__gt=models.F("debut")),
                                   name="check_consultationperiod_order",
                                   violation_error_message="La fin des observations suit la mise à disposition."),
        ]

    def __str__(self) -> str:
        return f"Consultation du {self.debut:%d/%m/%Y} (observations jusqu'au {self.fin_observations:%d/%m/%Y})"


class CaseTransition(models.Model):
    """One step of a case (a state change, or an action that keeps the state). Only appended."""

    case = models.ForeignKey(Case, verbose_name="dossier", on_delete=models.PROTECT, related_name="transitions")
    transition = models.CharField("étape", max_length=32, choices=TransitionName.choices)
    from_status = models.CharField("état de départ", max_length=20, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField("état d'arrivée", max_length=20, choices=CaseStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="par", null=True, blank=True,
                           on_delete=models.PROTECT, related_name="+")
    by_label = models.CharField("par (libellé)", max_length=150)
    at = models.DateTimeField("enregistrée le", auto_now_add=True)
    date_effet = models.DateField("date d'effet")
    reason = models.TextField("motif ou commentaire", blank=True)

    class Meta:
        verbose_name = "étape du dossier AT/MP"
        verbose_name_plural = "étapes des dossiers AT/MP"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_transition_display()} ({self.date_effet:%d/%m/%Y})"
