"""Health professionals, establishments (FINESS) and employers (SIRET)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from caisse.beneficiaries.models import validate_bic, validate_iban
from caisse.rules import identifiers


def validate_siret(value: str) -> None:
    try:
        identifiers.check_siret(value)
    except identifiers.InvalidIdentifier as exc:
        raise ValidationError(str(exc), code="siret") from None


def validate_finess(value: str) -> None:
    try:
        identifiers.check_finess(value)
    except identifiers.InvalidIdentifier as exc:
        raise ValidationError(str(exc), code="finess") from None


class Profession(models.TextChoices):
    MEDECIN = "medecin", "Médecin"
    CHIRURGIEN_DENTISTE = "chirurgien_dentiste", "Chirurgien-dentiste"
    SAGE_FEMME = "sage_femme", "Sage-femme"
    INFIRMIER = "infirmier", "Infirmier"
    MASSEUR_KINESITHERAPEUTE = "masseur_kinesitherapeute", "Masseur-kinésithérapeute"
    ORTHOPHONISTE = "orthophoniste", "Orthophoniste"
    ORTHOPTISTE = "orthoptiste", "Orthoptiste"
    PEDICURE_PODOLOGUE = "pedicure_podologue", "Pédicure-podologue"
    PHARMACIEN = "pharmacien", "Pharmacien"
    LABORATOIRE = "laboratoire", "Laboratoire"
    TRANSPORTEUR = "transporteur", "Transporteur sanitaire"
    ETABLISSEMENT = "etablissement", "Établissement"
    FOURNISSEUR_LPP = "fournisseur_lpp", "Fournisseur LPP"


class Secteur(models.IntegerChoices):
    SECTEUR_1 = 1, "Secteur 1"
    SECTEUR_2 = 2, "Secteur 2"
    SECTEUR_3 = 3, "Secteur 3 (non conventionné)"


class HealthProfessional(models.Model):
    identifiant = models.CharField(
        "identifiant (RPPS ou numéro AM)", max_length=11, unique=True,
        help_text="RPPS : 11 chiffres avec clé de Luhn ; numéro AM : 9 chiffres.",
    )
    nom = models.CharField("nom", max_length=100, blank=True)
    prenom = models.CharField("prénom", max_length=100, blank=True)
    profession = models.CharField("profession", max_length=32, choices=Profession.choices)
    specialite = models.CharField("spécialité", max_length=60, blank=True)
    secteur = models.PositiveSmallIntegerField("secteur", choices=Secteur.choices, default=Secteur.SECTEUR_1)
    optam = models.BooleanField("adhérent OPTAM / OPTAM-ACO", default=False)
    conventionne = models.BooleanField("conventionné", default=True)
    adresse = models.CharField("adresse", max_length=200, blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True, validators=[validate_iban])
    bic = models.CharField("BIC", max_length=11, blank=True, validators=[validate_bic])

    class Meta:
        verbose_name = "professionnel de santé"
        verbose_name_plural = "professionnels de santé"
        ordering = ["nom", "identifiant"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(conventionne=True) | models.Q(secteur=3),
                name="check_healthprofessional_non_conventionne_secteur_3",
                violation_error_message="Un professionnel non conventionné relève du secteur 3.",
            ),
            models.CheckConstraint(
                condition=models.Q(optam=False) | models.Q(secteur=2),
                name="check_healthprofessional_optam_secteur_2",
                violation_error_message="L'OPTAM ne concerne que les médecins de secteur 2.",
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.prenom} {self.nom}".strip() or self.identifiant
        return f"{name} — {self.get_profession_display()}"

    def clean(self) -> None:
        ident = identifiers.compact(self.identifiant)
        if not ident.isdigit() or len(ident) not in (9, 11):
            raise ValidationError({"identifiant": "L'identifiant est un RPPS (11 chiffres) ou un numéro AM (9 chiffres)."})
        self.identifiant = ident


class Establishment(models.Model):
    finess = models.CharField("FINESS", max_length=9, unique=True, validators=[validate_finess])
    raison_sociale = models.CharField("raison sociale", max_length=200)
    categorie = models.CharField("catégorie", max_length=100, blank=True)
    adresse = models.CharField("adresse", max_length=200, blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True, validators=[validate_iban])

    class Meta:
        verbose_name = "établissement"
        verbose_name_plural = "établissements"
        ordering = ["raison_sociale"]

    def __str__(self) -> str:
        return f"{self.raison_sociale} ({self.finess})"


class Employer(models.Model):
    siret = models.CharField("SIRET", max_length=14, unique=True, validators=[validate_siret])
    raison_sociale = models.CharField("raison sociale", max_length=200)
    adresse = models.CharField("adresse", max_length=200, blank=True)
    email = models.EmailField("adresse électronique", blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True, validators=[validate_iban])

    class Meta:
        verbose_name = "employeur"
        verbose_name_plural = "employeurs"
        ordering = ["raison_sociale"]

    def __str__(self) -> str:
        return f"{self.raison_sociale} ({self.siret})"
