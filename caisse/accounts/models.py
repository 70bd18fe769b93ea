"""Agents, members, professionals and employers who sign in, and their role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    ACCUEIL = "accueil", "Accueil"
    GESTIONNAIRE_DROITS = "gestionnaire_droits", "Gestionnaire droits"
    LIQUIDATEUR = "liquidateur", "Liquidateur"
    GESTIONNAIRE_IJ = "gestionnaire_ij", "Gestionnaire IJ"
    GESTIONNAIRE_ATMP = "gestionnaire_atmp", "Gestionnaire AT/MP"
    ENQUETEUR = "enqueteur", "Enquêteur"
    MEDECIN_CONSEIL = "medecin_conseil", "Médecin-conseil"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Administrateur"
    ASSURE = "assure", "Assuré"
    PROFESSIONNEL = "professionnel", "Professionnel de santé"
    EMPLOYEUR = "employeur", "Employeur"


class User(AbstractUser):
    role = models.CharField("rôle", max_length=32, choices=Role.choices)
    beneficiary = models.OneToOneField(
        "beneficiaries.Beneficiary", verbose_name="assuré", null=True, blank=True, on_delete=models.PROTECT,
        related_name="account",
    )
    professional = models.ForeignKey(
        "professionals.HealthProfessional", verbose_name="professionnel", null=True, blank=True,
        on_delete=models.PROTECT, related_name="accounts",
    )
    employer = models.ForeignKey(
        "professionals.Employer", verbose_name="employeur", null=True, blank=True, on_delete=models.PROTECT,
        related_name="accounts",
    )

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="assure") | models.Q(beneficiary__isnull=False),
                name="check_user_member_has_beneficiary",
                violation_error_message="Un compte assuré doit être rattaché à un bénéficiaire.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_full_name() or self.username} ({self.get_role_display()})"


class ApiToken(models.Model):
    """A bearer token for the HTTP API (professionals' software, partner systems).

    Only a SHA-256 digest is stored; the token itself is shown once, at creation.
    """

    user = models.ForeignKey(User, verbose_name="utilisateur", on_delete=models.CASCADE, related_name="api_tokens")
    label = models.CharField("libellé", max_length=100)
    digest = models.CharField("empreinte", max_length=64, unique=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)

    class Meta:
        verbose_name = "jeton d'API"
        verbose_name_plural = "jetons d'API"

    def __str__(self) -> str:
        return f"{self.label} ({self.user})"

    @staticmethod
    def hash(token: str) -> str:
        import hashlib

        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, label: str) -> tuple[ApiToken, str]:
        import secrets

        token = secrets.token_urlsafe(32)
        return cls.objects.create(user=user, label=label, digest=cls.hash(token)), token
