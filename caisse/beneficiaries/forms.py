from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from caisse.beneficiaries.models import Beneficiary, validate_nir
from caisse.rules import identifiers
from caisse.web.forms import (
    DATE_FORMAT_HINT,
    DATE_INPUT_FORMATS,
    DATE_WIDGET_ATTRS,
    AccessibleForm,
    AccessibleModelForm,
    FrenchDateInput,
    date_field,
)


class SearchForm(AccessibleForm):
    nir = forms.CharField(label="NIR", required=False, max_length=21,
                          help_text="Le numéro entier (15 caractères, clé comprise) ou son début ; espaces permis.")
    nom = forms.CharField(label="Nom de naissance ou d'usage", required=False, max_length=100,
                          help_text="Le début du nom suffit.")
    date_naissance = date_field("Date de naissance", required=False)

    def clean_nir(self) -> str:
        nir = identifiers.compact(self.cleaned_data["nir"])
        if len(nir) >= 15:
            validate_nir(nir)
        elif nir and not all(c.isdigit() or c in "AB" for c in nir):
            raise ValidationError("Le NIR ne contient que des chiffres (et A ou B pour la Corse).")
        return nir

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not any(data.get(k) for k in ("nir", "nom", "date_naissance")) and not self.errors:
            raise ValidationError("Indiquez au moins un critère : NIR, nom ou date de naissance.")
        return data


class IdentityForm(AccessibleModelForm):
    """Identity, contact and bank details. The model validates the NIR key and the IBAN."""

    nir = forms.CharField(label="NIR", max_length=21, help_text="15 caractères, clé comprise ; espaces permis.",
                          validators=[validate_nir])
    iban = forms.CharField(label="IBAN", max_length=42, required=False,
                           help_text="Pour les remboursements. Espaces permis.")

    class Meta:
        model = Beneficiary
        fields = ["nir", "nom", "nom_usage", "prenom", "sexe", "date_naissance", "adresse", "code_postal", "commune",
                  "telephone", "email", "iban", "bic", "titre_sejour_fin"]
        widgets = {  # dates typed JJ/MM/AAAA, as every date field of the project (web.forms.date_field)
            "date_naissance": FrenchDateInput(attrs=dict(DATE_WIDGET_ATTRS)),
            "titre_sejour_fin": FrenchDateInput(attrs=dict(DATE_WIDGET_ATTRS)),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("date_naissance", "titre_sejour_fin"):
            self.fields[name].input_formats = DATE_INPUT_FORMATS
            hint = self.fields[name].help_text or ""
            if DATE_FORMAT_HINT not in hint:
                self.fields[name].help_text = f"{hint} Format : {DATE_FORMAT_HINT}.".strip()
        if self.instance.pk and not self.is_bound:
            self.initial["nir"] = self.instance.nir_formate

    def clean_nir(self) -> str:
        return identifiers.compact(self.cleaned_data["nir"])

    def clean_iban(self) -> str:
        return identifiers.compact(self.cleaned_data["iban"])

    def clean_bic(self) -> str:
        return identifiers.compact(self.cleaned_data["bic"])
