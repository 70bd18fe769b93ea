"""Forms of the rights screens. They check the input; the services check the business rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from caisse.beneficiaries.models import Beneficiary
from caisse.core.money import euros_to_cents
from caisse.professionals.models import HealthProfessional
from caisse.rights.models import (
    ALDKind,
    ClosingReason,
    ControlStatus,
    OpeningReason,
    OppositionReason,
)
from caisse.rights.requests import HouseholdMember
from caisse.rules import identifiers
from caisse.rules.c2s.engine import month_index, month_label, resource_window
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


# --- C2S and AME requests ------------------------------------------------------------------------

MOIS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre"]
FREE_MEMBER_ROWS = 4
_BAD_AMOUNT = "Saisissez un montant en euros, par exemple 1 234,56 (0 si aucune ressource)."


def month_name(month: str) -> str:
    """``"2025-01"`` → ``"janvier 2025"``."""
    return f"{MOIS[int(month[5:7]) - 1]} {month[:4]}"


def of_month(month: str) -> str:
    """``"2025-04"`` → ``"d'avril 2025"``, ``"2025-01"`` → ``"de janvier 2025"``."""
    name = month_name(month)
    return f"d'{name}" if name[0] in "aeiouéè" else f"de {name}"


def window_months(first: str, last: str) -> list[str]:
    """Every month (``YYYY-MM``) from ``first`` to ``last``, both included."""
    start, end = month_index(first), month_index(last)
    return [month_label(i) for i in range(start, end + 1)]


class EuroField(forms.CharField):
    """An amount in euros typed in French (``1 234,56``), cleaned to an int of cents."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)
        return euros_to_cents(text, bad_amount=_BAD_AMOUNT) if text not in (None, "") else None


MEMBER_ROLES = [("", "— Choisir —"), ("conjoint", "Conjoint, concubin ou partenaire de PACS"), ("enfant", "Enfant"),
                ("autre", "Autre personne à charge")]
ZONES = [("metropole", "Métropole"), ("dom", "Département d'outre-mer")]
LOGEMENTS = [("locataire", "Locataire sans aide au logement"),
             ("locataire_aide_logement", "Locataire avec aide au logement"),
             ("proprietaire", "Propriétaire"), ("heberge_gratuit", "Hébergé gratuitement")]


class HouseholdResourcesForm(AccessibleForm):
    """The household and the 12 monthly resources of the legal window of a C2S or AME request.

    The window depends on the date of the request: the resource fields are named by month
    (``ressources_2025-01``) and built for the date posted (today on GET). ``fenetre`` keeps the
    window shown to the agent: if the date moved it, the form asks to check the amounts again.
    """

    date_demande = date_field("Date de la demande")
    zone = forms.ChoiceField(label="Zone de résidence", choices=ZONES)
    logement = forms.ChoiceField(label="Logement", choices=LOGEMENTS,
                                 help_text="Un forfait logement s'ajoute aux ressources avec une aide au logement, "
                                           "pour un propriétaire ou une personne hébergée gratuitement.")
    fenetre = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, data: Any = None, *, beneficiary: Beneficiary, children: list[Beneficiary],
                 today: dt.date, **kwargs: Any) -> None:
        self.beneficiary, self.children = beneficiary, children
        when = self._posted_date(data) or today
        self.first_month, self.last_month = resource_window(when)
        self.months = window_months(self.first_month, self.last_month)
        self.shown_window = data.get("fenetre") if data else None
        if data:  # the page shown again carries the window now in force
            data = data.copy()
            data["fenetre"] = self.first_month
        initial = {"date_demande": today, "fenetre": self.first_month, **kwargs.pop("initial", {})}
        super().__init__(data, initial=initial, **kwargs)
        for child in children:
            self.fields[f"enfant_{child.pk}"] = forms.BooleanField(
                label=f"{child.prenom} {child.nom_affiche}, né{'e' if child.sexe == 'F' else ''} le "
                      f"{child.date_naissance:%d/%m/%Y} (enfant rattaché)", required=False, initial=True)
        for row in range(1, FREE_MEMBER_ROWS + 1):
            self.fields[f"membre_{row}_naissance"] = date_field(f"Personne n° {row} : date de naissance",
                                                                required=False)
            self.fields[f"membre_{row}_role"] = forms.ChoiceField(label=f"Personne n° {row} : lien avec le demandeur",
                                                                  choices=MEMBER_ROLES, required=False)
        for month in self.months:
            self.fields[f"ressources_{month}"] = EuroField(
                label=f"Ressources {of_month(month)} (en euros)",
                help_text="Total du foyer pour le mois, 0 si aucune ressource. Exemple : 1 234,56.")
        self._describe()

    def _posted_date(self, data: Any) -> dt.date | None:
        if not data:
            return None
        try:
            return self.base_fields["date_demande"].clean(data.get("date_demande"))  # type: ignore[no-any-return]
        except ValidationError:
            return None

    # Groups of fields for the template's fieldsets.
    def request_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if not name.startswith(("enfant_", "membre_", "ressources_"))
                and name != "fenetre"]

    def children_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("enfant_")]

    def member_rows(self) -> list[tuple[int, Any, Any]]:
        return [(row, self[f"membre_{row}_naissance"], self[f"membre_{row}_role"])
                for row in range(1, FREE_MEMBER_ROWS + 1)]

    def resource_fields(self) -> list[Any]:
        return [self[f"ressources_{month}"] for month in self.months]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        when = data.get("date_demande")
        if when and when > dt.date.today():
            self.add_error("date_demande", "La date de la demande ne peut pas être dans le futur.")
        if self.is_bound and self.shown_window != self.first_month:
            self.add_error(None, f"La date de la demande couvre les ressources {of_month(self.first_month)} à "
                                 f"{month_name(self.last_month)} : vérifiez le montant de chaque mois.")
        for row in range(1, FREE_MEMBER_ROWS + 1):
            birth, role = data.get(f"membre_{row}_naissance"), data.get(f"membre_{row}_role")
            if birth and not role:
                self.add_error(f"membre_{row}_role", "Indiquez le lien de cette personne avec le demandeur.")
            elif role and not birth:
                self.add_error(f"membre_{row}_naissance", "Indiquez la date de naissance de cette personne.")
            elif birth and when and birth > when:
                self.add_error(f"membre_{row}_naissance", "La date de naissance suit la date de la demande.")
        return data

    def members(self) -> list[HouseholdMember]:
        """The applicant first, then the attached children kept, then the other rows filled in."""
        data = self.cleaned_data
        members = [HouseholdMember(self.beneficiary.date_naissance, "demandeur", self.beneficiary)]
        members += [HouseholdMember(c.date_naissance, "enfant", c) for c in self.children if data.get(f"enfant_{c.pk}")]
        for row in range(1, FREE_MEMBER_ROWS + 1):
            if data.get(f"membre_{row}_naissance"):
                members.append(HouseholdMember(data[f"membre_{row}_naissance"], data[f"membre_{row}_role"]))
        return members

    def resources(self) -> list[dict[str, Any]]:
        return [{"mois": m, "montant_cts": self.cleaned_data[f"ressources_{m}"]} for m in self.months]


class C2SRequestForm(HouseholdResourcesForm):
    rsa = forms.BooleanField(label="Le foyer perçoit le RSA (C2S sans participation, sans condition de ressources)",
                             required=False)
    renouvellement = forms.BooleanField(label="Renouvellement d'une C2S en cours", required=False,
                                        help_text="La nouvelle période commence le lendemain de la C2S en cours.")


class AMERequestForm(HouseholdResourcesForm):
    depot_en_personne = forms.BooleanField(label="Demande déposée en personne à l'accueil", required=False,
                                           help_text="Obligatoire pour une première demande d'AME.")
    residence_depuis = date_field("En France depuis le", required=False,
                                  help_text="Début de la résidence ininterrompue en France. Format : JJ/MM/AAAA.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, when = data.get("residence_depuis"), data.get("date_demande")
        if since and when and since > when:
            self.add_error("residence_depuis", "La date d'arrivée en France suit la date de la demande.")
        return data


# --- Participation, death, invalidity, family -----------------------------------------------------


class ParticipationPaymentForm(AccessibleForm):
    payee_le = date_field("Payée le")

    def clean_payee_le(self) -> dt.date:
        paid = self.cleaned_data["payee_le"]
        if paid > dt.date.today():
            raise ValidationError("La date de paiement ne peut pas être dans le futur.")
        return paid  # type: ignore[no-any-return]


class DeathForm(AccessibleForm):
    date_deces = date_field("Date du décès")
    confirmer = forms.BooleanField(label="Je confirme le décès et la fermeture des droits décrits ci-dessus",
                                   error_messages={"required": "Cochez la case pour confirmer la déclaration du décès."})

    def clean_date_deces(self) -> dt.date:
        when = self.cleaned_data["date_deces"]
        if when > dt.date.today():
            raise ValidationError("La date du décès ne peut pas être dans le futur.")
        return when  # type: ignore[no-any-return]


class InvalidityForm(AccessibleForm):
    categorie = forms.TypedChoiceField(label="Catégorie d'invalidité", coerce=int, choices=[
        ("", "— Choisir —"), (1, "1re catégorie : capable d'exercer une activité rémunérée"),
        (2, "2e catégorie : incapable d'exercer une activité"),
        (3, "3e catégorie : incapable d'exercer une activité, assistance d'une tierce personne")])
    debut = date_field("Début de la pension")


class AttachForm(AccessibleForm):
    lien = forms.ChoiceField(label="La personne recherchée est", choices=[
        ("enfant", "l'enfant de ce bénéficiaire (à rattacher à ce dossier)"),
        ("parent", "le parent de ce bénéficiaire (ce dossier est l'enfant)")], initial="enfant")
    nir = forms.CharField(label="NIR de la personne à rattacher", max_length=21,
                          help_text="13 chiffres et la clé (15 caractères), espaces admis.")
    debut = date_field("Début du rattachement")

    def clean_nir(self) -> str:
        nir = identifiers.compact(self.cleaned_data["nir"])
        if len(nir) != 15:
            raise ValidationError("Le NIR compte 15 caractères, clé comprise.")
        return nir
