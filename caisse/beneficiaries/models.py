"""The beneficiary registry, keyed by NIR (or NIA while the identity is being certified)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models

from caisse.rules import identifiers


def validate_nir(value: str) -> None:
    try:
        identifiers.check_nir(value)
    except identifiers.InvalidIdentifier as exc:
        raise ValidationError(str(exc), code="nir") from None


def validate_iban(value: str) -> None:
    try:
        identifiers.check_iban(value)
    except identifiers.InvalidIdentifier as exc:
        raise ValidationError(str(exc), code="iban") from None


def validate_bic(value: str) -> None:
    try:
        identifiers.check_bic(value)
    except identifiers.InvalidIdentifier as exc:
        raise ValidationError(str(exc), code="bic") from None


class Sexe(models.TextChoices):
    MASCULIN = "M", "Masculin"
    FEMININ = "F", "Féminin"


class BeneficiaryQuerySet(models.QuerySet["Beneficiary"]):
    def alive(self) -> BeneficiaryQuerySet:
        return self.filter(date_deces__isnull=True)

    def search(self, *, nir: str = "", nom: str = "", date_naissance: dt.date | None = None) -> BeneficiaryQuerySet:
        qs = self
        if nir:
            qs = qs.filter(nir__startswith=identifiers.compact(nir))
        if nom:
            qs = qs.filter(models.Q(nom__istartswith=nom) | models.Q(nom_usage__istartswith=nom))
        if date_naissance:
            qs = qs.filter(date_naissance=date_naissance)
        return qs


class Beneficiary(models.Model):
    nir = models.CharField("NIR", max_length=15, unique=True, validators=[validate_nir])
    nir_provisoire = models.BooleanField(
        "NIA (numéro d'attente)", default=False,
        help_text="Identité en cours de certification : pièce d'état civil à fournir sous 3 mois.",
    )
    nom = models.CharField("nom de naissance", max_length=100, blank=True)
    nom_usage = models.CharField("nom d'usage", max_length=100, blank=True)
    prenom = models.CharField("prénom", max_length=100, blank=True)
    sexe = models.CharField("sexe", max_length=1, choices=Sexe.choices)
    date_naissance = models.DateField("date de naissance")
    adresse = models.CharField("adresse", max_length=200, blank=True)
    code_postal = models.CharField("code postal", max_length=5, blank=True)
    commune = models.CharField("commune", max_length=100, blank=True)
    telephone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("adresse électronique", blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True, validators=[validate_iban])
    bic = models.CharField("BIC", max_length=11, blank=True, validators=[validate_bic])
    date_deces = models.DateField("date de décès", null=True, blank=True)
    titre_sejour_fin = models.DateField(
        "fin de validité du titre de séjour", null=True, blank=True,
        help_text="Pour les ressortissants hors EEE/Suisse (contrôle de régularité du séjour).",
    )
    derniere_mise_a_jour = models.DateField(
        "dernière mise à jour du dossier", default=dt.date.today,
        help_text="Sert à cibler les contrôles de résidence (aucune mise à jour depuis 3 ans).",
    )
    import_hash = models.CharField("empreinte du dernier import", max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    objects = BeneficiaryQuerySet.as_manager()

    class Meta:
        verbose_name = "bénéficiaire"
        verbose_name_plural = "bénéficiaires"
        ordering = ["nom", "prenom"]
        indexes = [models.Index(fields=["nom", "prenom", "date_naissance"], name="beneficiary_identity")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_deces__isnull=True) | models.Q(date_deces__gte=models.F("date_naissance")),
                name="check_beneficiary_death_after_birth",
                violation_error_message="La date de décès précède la date de naissance.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nom_affiche} {self.prenom} ({self.nir_formate})"

    @property
    def nom_affiche(self) -> str:
        return self.nom_usage or self.nom

    @property
    def nir_formate(self) -> str:
        n = self.nir
        return f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {n[13:]}"

    def age_on(self, when: dt.date) -> int:
        d = self.date_naissance
        return when.year - d.year - ((when.month, when.day) < (d.month, d.day))

    def clean(self) -> None:
        if self.nir and self.date_naissance and self.sexe:
            nir = identifiers.compact(self.nir)
            if len(nir) == 15 and not identifiers.nir_matches_identity(nir, self.date_naissance, self.sexe):
                raise ValidationError(
                    {"nir": "Le NIR ne correspond pas au sexe ou à l'année et au mois de naissance déclarés."}
                )
            self.nir = nir
            self.nir_provisoire = identifiers.is_provisional_nir(nir)
        if self.date_naissance and self.date_naissance > dt.date.today():
            raise ValidationError({"date_naissance": "La date de naissance est dans le futur."})


class ParentLink(models.Model):
    """A child attached to a parent (one or two parents: double rattachement)."""

    child = models.ForeignKey(Beneficiary, verbose_name="enfant", on_delete=models.PROTECT, related_name="parent_links")
    parent = models.ForeignKey(Beneficiary, verbose_name="parent", on_delete=models.PROTECT, related_name="child_links")
    debut = models.DateField("début du rattachement")
    fin = models.DateField("fin du rattachement", null=True, blank=True)

    class Meta:
        verbose_name = "rattachement d'un enfant"
        verbose_name_plural = "rattachements d'enfants"
        constraints = [
            models.UniqueConstraint(fields=["child", "parent"], name="unique_parentlink_child_parent",
                                    violation_error_message="Cet enfant est déjà rattaché à ce parent."),
            models.CheckConstraint(condition=~models.Q(child=models.F("parent")), name="check_parentlink_not_self",
                                   violation_error_message="Une personne ne peut être rattachée à elle-même."),
        ]

    def __str__(self) -> str:
        return f"{self.child} → {self.parent}"

    def clean(self) -> None:
        if self.child_id and self.parent_id:
            others = ParentLink.objects.filter(child_id=self.child_id, fin__isnull=True).exclude(pk=self.pk)
            if self.fin is None and others.count() >= 2:
                raise ValidationError("Un enfant est rattaché à deux parents au plus.")
