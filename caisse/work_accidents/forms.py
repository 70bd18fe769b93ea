"""Forms of the AT/MP back-office. They refuse bad input with clear French messages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from caisse.professionals.models import Employer
from caisse.rules import identifiers
from caisse.web.forms import AccessibleForm, date_field
from caisse.work_accidents.enums import CaseKind, Channel, Declarant
from caisse.work_accidents.models import Case
from caisse.work_accidents.perms import find_victim_for


def _not_future(value: dt.date | None, label: str) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError(f"{label} ne peut pas être dans le futur.")


class DeclarationForm(AccessibleForm):
    kind = forms.ChoiceField(label="Nature", choices=CaseKind.choices, widget=forms.RadioSelect)
    declarant = forms.ChoiceField(label="Déclarant", choices=Declarant.choices, widget=forms.RadioSelect)
    channel = forms.ChoiceField(label="Canal de réception", choices=Channel.choices)
    nir = forms.CharField(label="NIR de la victime", max_length=21,
                          help_text="13 chiffres et la clé (15 caractères), espaces acceptés.")
    siret = forms.CharField(label="SIRET de l'employeur", max_length=20, required=False,
                            help_text="14 chiffres. Obligatoire pour un accident du travail ou de trajet.")
    date_evenement = date_field(
        "Date de l'accident ou de la première constatation médicale",
        help_text="Maladie professionnelle : date du certificat informant la victime du lien possible avec "
        "son travail. Format : JJ/MM/AAAA.",
    )
    date_declaration = date_field("Date de la déclaration")
    date_reception = date_field("Date de réception par la caisse")
    date_copie_employeur = date_field(
        "Date de réception du double par l'employeur", required=False,
        help_text="Seulement quand la victime déclare : départ du délai des réserves. Format : JJ/MM/AAAA.",
    )
    dossier_initial = forms.IntegerField(
        label="N° du dossier AT/MP initial", required=False, min_value=1,
        help_text="Pour une rechute ou une nouvelle lésion : le dossier de l'accident ou de la maladie reconnu.",
    )
    circonstances = forms.CharField(label="Circonstances", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_nir(self) -> str:
        nir = identifiers.compact(self.cleaned_data["nir"])
        if len(nir) != 15:
            raise ValidationError("Le NIR compte 15 caractères (13 chiffres et la clé de 2 chiffres).")
        victim = find_victim_for(self.user, nir)
        if victim is None:
            raise ValidationError("Aucun bénéficiaire n'a ce NIR : immatriculez d'abord la victime.")
        self.cleaned_data["victim"] = victim
        return nir

    def clean_siret(self) -> str:
        siret = identifiers.compact(self.cleaned_data.get("siret") or "")
        if not siret:
            return ""
        try:
            identifiers.check_siret(siret)
        except identifiers.InvalidIdentifier as exc:
            raise ValidationError(str(exc)) from None
        employer = Employer.objects.filter(siret=siret).first()
        if employer is None:
            raise ValidationError("Aucun employeur n'a ce SIRET dans le référentiel : ajoutez-le d'abord.")
        self.cleaned_data["employer"] = employer
        return siret

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, label in (("date_evenement", "La date de l'événement"), ("date_declaration", "La date de déclaration"),
                            ("date_reception", "La date de réception")):
            try:
                _not_future(data.get(name), label)
            except ValidationError as exc:
                self.add_error(name, exc)
        event, declared, received = data.get("date_evenement"), data.get("date_declaration"), data.get("date_reception")
        if event and declared and declared < event:
            self.add_error("date_declaration", "La déclaration ne peut pas précéder l'accident ou la constatation.")
        if declared and received and received < declared:
            self.add_error("date_reception", "La caisse ne peut pas recevoir la déclaration avant qu'elle soit faite.")
        if data.get("kind") in (CaseKind.AT, CaseKind.TRAJET) and not data.get("siret") and "siret" not in self.errors:
            self.add_error("siret", "Indiquez l'employeur de la victime (SIRET) pour un accident.")
        if data.get("declarant") == Declarant.EMPLOYEUR and not data.get("siret") and "siret" not in self.errors:
            self.add_error("siret", "Une déclaration de l'employeur indique son SIRET.")
        initial = data.get("dossier_initial")
        if data.get("kind") == CaseKind.RECHUTE and not initial:
            self.add_error("dossier_initial", "Indiquez le dossier de l'accident ou de la maladie initial.")
        elif initial:
            case = Case.objects.filter(pk=initial).select_related("declaration").first()
            if case is None:
                self.add_error("dossier_initial", "Aucun dossier AT/MP ne porte ce numéro.")
            else:
                data["rechute_de"] = case.declaration
        copy = data.get("date_copie_employeur")
        if copy and data.get("declarant") == Declarant.EMPLOYEUR:
            self.add_error("date_copie_employeur", "Le double ne concerne que la déclaration faite par la victime.")
        return data


class CertificateForm(AccessibleForm):
    date_etablissement = date_field("Date d'établissement du certificat médical initial")
    date_reception = date_field("Date de réception par la caisse")
    lesions = forms.CharField(label="Siège et nature des lésions", required=False,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="Donnée médicale : visible du seul service AT/MP.")
    arret_jusqu_au = date_field("Arrêt de travail jusqu'au", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        issued, received = data.get("date_etablissement"), data.get("date_reception")
        if issued and received and received < issued:
            self.add_error("date_reception", "Le certificat ne peut pas être reçu avant d'être établi.")
        try:
            _not_future(received, "La date de réception")
        except ValidationError as exc:
            self.add_error("date_reception", exc)
        return data


class EmployerCopyForm(AccessibleForm):
    date_copie_employeur = date_field("Date de réception du double par l'employeur")


class ReservesForm(AccessibleForm):
    date_reception = date_field("Date de réception des réserves")
    motifs = forms.CharField(label="Motifs des réserves", widget=forms.Textarea(attrs={"rows": 4}),
                             help_text="Des réserves non motivées ne sont pas recevables (art. R441-6).")

    def clean_motifs(self) -> str:
        motifs = self.cleaned_data["motifs"].strip()
        if len(motifs) < 10:
            raise ValidationError("Des réserves doivent être motivées : résumez les motifs de l'employeur.")
        return motifs


class StepForm(AccessibleForm):
    """A dated step (investigation, questionnaires, consultation)."""

    when = date_field("Date")
    reason = forms.CharField(label="Commentaire", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_when(self) -> dt.date:
        when: dt.date = self.cleaned_data["when"]
        _not_future(when, "La date")
        return when


class DatedForm(StepForm):
    reason = None  # type: ignore[assignment]


class CrrmpForm(StepForm):
    reason = forms.CharField(label="Motif de la saisine", widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Condition du tableau non remplie, ou maladie hors tableau (IP ≥ 25 % ou décès).")


class DecisionForm(StepForm):
    decision = forms.ChoiceField(
        label="Décision", widget=forms.RadioSelect,
        choices=[("reconnu", "Reconnaître le caractère professionnel"), ("refuse", "Refuser le caractère professionnel")],
    )
    reason = forms.CharField(label="Motif", required=False, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text="Obligatoire en cas de refus : il figure dans le courrier aux parties.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "refuse" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Un refus doit être motivé : indiquez le motif communiqué aux parties.")
        return data


class QuestionnaireReturnForm(AccessibleForm):
    date_retour = date_field("Date de retour du questionnaire")

    def clean_date_retour(self) -> dt.date:
        value: dt.date = self.cleaned_data["date_retour"]
        _not_future(value, "La date de retour")
        return value


class IndicatorsForm(AccessibleForm):
    year = forms.IntegerField(label="Année des décisions", min_value=2019, max_value=2100)
