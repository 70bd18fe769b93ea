"""The audit trail: who read or changed which person's file, when and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    READ = "lecture", "Consultation"
    CREATE = "creation", "Création"
    UPDATE = "modification", "Modification"
    DELETE = "suppression", "Suppression"
    TRANSITION = "transition", "Changement d'état"
    DOWNLOAD = "telechargement", "Téléchargement"
    BATCH = "traitement", "Traitement automatique"


class AuditEvent(models.Model):
    """One line of the file's history. Rows are only ever appended."""

    at = models.DateTimeField("date et heure", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="auteur", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField("auteur (libellé)", max_length=150)
    action = models.CharField("action", max_length=20, choices=AuditAction.choices)
    beneficiary = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name="bénéficiaire", null=True, blank=True,
        on_delete=models.PROTECT, related_name="audit_events",
    )
    object_type = models.CharField("type d'objet", max_length=80)
    object_id = models.CharField("identifiant de l'objet", max_length=64, blank=True)
    summary = models.CharField("résumé", max_length=300)
    changes = models.JSONField("changements", default=dict, blank=True)
    medical = models.BooleanField("donnée médicale", default=False)

    class Meta:
        verbose_name = "événement d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["beneficiary", "-at"], name="audit_beneficiary_at")]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.actor_label} — {self.summary}"
