"""Forms of the rights screens. They check the input; the services check the business rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from caisse.professionals.models import HealthProfessional
from caisse.rights.models import (
    ALDKind,
    ClosingReason,
    ControlStatus,
    OpeningReason,
    OppositionReason,
)
from caisse.rules import identifiers
from caisse.web.forms import AccessibleForm, date_field


def _professional(identifiant: str) -> HealthProfessional:
    ident = identifiers.compact(identifiant)
    professional = HealthProfessional.objects.filter(identifiant=ident).first()
    if professional is None:
        raise ValidationError("Aucun professionnel de santé n'a cet identifiant (RPPS ou numéro AM).")
    return professional


class OpenRightsForm(AccessibleForm):
    debut = date_field("Début des droits")
    motif = forms.ChoiceField(label="Motif d'ouverture", choices=OpeningReason.choices)


class CloseRightsForm(AccessibleForm):
    fin = date_field("Fin des droits", help_text="Dernier jour couvert. Format : JJ/MM/AAAA.")
    motif = forms.ChoiceField(label="Motif de fermeture", choices=ClosingReason.choices)


class MedecinTraitantForm(AccessibleForm):
    medecin = forms.CharField(label="Identifiant du médecin (RPPS ou numéro AM)", max_length=14,
                              help_text="11 chiffres (RPPS) ou 9 chiffres (numéro AM).")
    debut = date_field("Date de la déclaration")
    canal = forms.ChoiceField(label="Canal", choices=[("teleservice", "Téléservice du médecin"),
                                                      ("papier", "Formulaire S3704")])

    def clean_medecin(self) -> HealthProfessional:
        return _professional(self.cleaned_data["medecin"])


class PregnancyForm(AccessibleForm):
    date_debut_grossesse = date_field("Début de grossesse")
    date_accouchement_prevue = date_field("Date présumée d'accouchement")


class BirthForm(AccessibleForm):
    date_accouchement = date_field("Date d'accouchement")


class OrderCardForm(AccessibleForm):
    canal = forms.ChoiceField(label="Canal de la demande", choices=[("agence", "Agence"), ("papier", "Formulaire papier"),
                                                                    ("en_ligne", "En ligne")])


class OppositionForm(AccessibleForm):
    motif = forms.ChoiceField(label="Motif de l'opposition", choices=[
        (OppositionReason.PERTE, OppositionReason.PERTE.label), (OppositionReason.VOL, OppositionReason.VOL.label),
        (OppositionReason.DEFAUT, OppositionReason.DEFAUT.label)])
    remplacer = forms.BooleanField(label="Commander une carte de remplacement", required=False, initial=True)


class ProtocolForm(AccessibleForm):
    kind = forms.ChoiceField(label="Type d'ALD", choices=ALDKind.choices)
    numero_liste = forms.IntegerField(label="N° dans la liste ALD 30", required=False, min_value=1, max_value=30,
                                      help_text="Obligatoire pour une ALD de la liste.")
    affection = forms.CharField(label="Affection", max_length=200)
    date_protocole = date_field("Date du protocole de soins")
    medecin = forms.CharField(label="Médecin rédacteur (RPPS ou numéro AM)", max_length=14, required=False)

    def clean_medecin(self) -> HealthProfessional | None:
        value = self.cleaned_data["medecin"]
        return _professional(value) if value else None


class ProtocolReviewForm(AccessibleForm):
    decision = forms.ChoiceField(label="Avis du médecin-conseil", choices=[
        ("", "— Choisir —"), ("valider", "Valider : ouvrir l'exonération"), ("refuser", "Refuser le protocole")])
    debut = date_field("Début de l'exonération", required=False, help_text="Obligatoire pour valider. JJ/MM/AAAA.")
    fin = date_field("Fin de l'exonération", required=False, help_text="Laisser vide si sans limite. JJ/MM/AAAA.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "valider":
            if not data.get("debut"):
                self.add_error("debut", "Indiquez le début de l'exonération pour valider le protocole.")
            elif data.get("fin") and data["fin"] < data["debut"]:
                self.add_error("fin", "La date de fin précède la date de début.")
        return data


class CloseControlForm(AccessibleForm):
    outcome = forms.ChoiceField(label="Issue du contrôle", choices=[
        ("", "— Choisir —"),
        (ControlStatus.DROITS_MAINTENUS, "Résidence justifiée : maintenir les droits"),
        (ControlStatus.DROITS_FERMES, "Résidence non justifiée : fermer les droits")])
    clos_le = date_field("Date de clôture")
    observations = forms.CharField(label="Observations", required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                   max_length=2000)
