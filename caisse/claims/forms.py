"""Forms of the health-costs back-office: refuse bad input with a clear French message."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
from django import forms
from django.utils import timezone

from caisse.claims.capture import MAX_LINES, PaperFeuille, PaperLine
from caisse.core import money
from caisse.professionals.models import HealthProfessional
from caisse.rules.claims.controls import PARCOURS, RISQUES
from caisse.rules.identifiers import InvalidIdentifier, check_nir
from caisse.web.forms import AccessibleForm, date_field

RISQUE_LABELS = {"maladie": "Maladie", "maternite": "Maternité", "atmp": "Accident du travail ou maladie professionnelle"}
PARCOURS_LABELS = {
    "medecin_traitant": "Médecin traitant",
    "oriente": "Orienté par le médecin traitant",
    "hors_parcours": "Hors parcours de soins",
    "urgence": "Urgence",
    "acces_direct_specifique": "Accès direct spécifique",
    "remplacant": "Remplaçant du médecin traitant",
    "hors_residence": "Hors résidence habituelle",
}
LINE_FIELDS = ("code", "date_soins", "quantite", "coefficient", "montant")


def _compact(value: str) -> str:
    return "".join(value.split()).replace("\u00a0", "").replace("\u202f", "")


def euros_to_cents(value: str) -> int:
    """An amount billed, exactly in cents (see :func:`caisse.core.money.euros_to_cents`)."""
    cents = money.euros_to_cents(value, bad_amount="Saisissez un montant en euros, par exemple 26,50.")
    if cents > 10_000_000_00:
        raise forms.ValidationError("Le montant facturé dépasse 10 millions d'euros : vérifiez la saisie.")
    return cents


def known_professional(identifiant: str) -> bool:
    return HealthProfessional.objects.filter(identifiant=identifiant).exists()


def code_known_at(nomenclature: pl.DataFrame, code: str, when: dt.date) -> bool:
    return nomenclature.filter(
        (pl.col("code") == code) & (pl.col("debut") <= when) & (pl.col("fin") >= when)
    ).height > 0


class PaperFeuilleForm(AccessibleForm):
    """Entry of a feuille de soins papier (Cerfa), up to six lines of care."""

    nir = forms.CharField(label="NIR du bénéficiaire des soins", max_length=21,
                          help_text="15 caractères (13 + clé), espaces acceptés.")
    executant = forms.CharField(label="Professionnel exécutant", max_length=11,
                                help_text="Identifiant RPPS (11 chiffres) ou numéro AM (9 chiffres).")
    prescripteur = forms.CharField(label="Prescripteur", max_length=11, required=False,
                                   help_text="Identifiant du prescripteur, s'il y en a un.")
    tiers_payant = forms.BooleanField(label="Tiers payant : le professionnel est payé directement", required=False)
    risque = forms.ChoiceField(label="Risque", choices=[(r, RISQUE_LABELS[r]) for r in RISQUES], initial="maladie")
    parcours = forms.ChoiceField(label="Parcours de soins", choices=[(p, PARCOURS_LABELS[p]) for p in PARCOURS],
                                 initial="medecin_traitant")
    en_rapport_ald = forms.BooleanField(label="Soins en rapport avec une affection de longue durée", required=False)
    date_reception = date_field("Reçue par la caisse le")

    def __init__(self, *args: Any, nomenclature: pl.DataFrame, today: dt.date | None = None, **kwargs: Any) -> None:
        self.nomenclature = nomenclature
        self.today = today or timezone.localdate()
        super().__init__(*args, **kwargs)
        for i in range(1, MAX_LINES + 1):
            required = i == 1
            self.fields[f"l{i}_code"] = forms.CharField(
                label=f"Ligne {i} : code de l'acte", max_length=64, required=required,
                help_text="Code de la nomenclature, par exemple G ou AMI." if i == 1 else "")
            self.fields[f"l{i}_date_soins"] = date_field(f"Ligne {i} : date des soins", required=required)
            self.fields[f"l{i}_quantite"] = forms.IntegerField(
                label=f"Ligne {i} : quantité", min_value=1, max_value=999, required=False,
                help_text="1 si vide." if i == 1 else "")
            self.fields[f"l{i}_coefficient"] = forms.DecimalField(
                label=f"Ligne {i} : coefficient", min_value=Decimal("0.01"), max_value=Decimal(1000),
                max_digits=7, decimal_places=2, required=False, localize=True,
                help_text="1 si vide." if i == 1 else "")
            self.fields[f"l{i}_montant"] = forms.CharField(
                label=f"Ligne {i} : montant facturé (€)", max_length=20, required=required,
                help_text="En euros, par exemple 30,00." if i == 1 else "")
            if i > 1:
                self.fields[f"l{i}_date_soins"].help_text = ""
        self._describe()

    @property
    def head_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("nir", "executant", "prescripteur", "date_reception", "risque", "parcours",
                                  "tiers_payant", "en_rapport_ald")]

    @property
    def line_rows(self) -> list[tuple[int, list[forms.BoundField]]]:
        return [(i, [self[f"l{i}_{n}"] for n in LINE_FIELDS]) for i in range(1, MAX_LINES + 1)]

    def clean_nir(self) -> str:
        try:
            return check_nir(self.cleaned_data["nir"])
        except InvalidIdentifier as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_executant(self) -> str:
        value = _compact(self.cleaned_data["executant"])
        if not known_professional(value):
            raise forms.ValidationError("Aucun professionnel de santé connu avec cet identifiant.")
        return value

    def clean_prescripteur(self) -> str:
        value = _compact(self.cleaned_data.get("prescripteur") or "")
        if value and not known_professional(value):
            raise forms.ValidationError("Aucun professionnel de santé connu avec cet identifiant.")
        return value

    def clean_date_reception(self) -> dt.date:
        value: dt.date = self.cleaned_data["date_reception"]
        if value > self.today:
            raise forms.ValidationError("La date de réception ne peut pas être dans le futur.")
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        reception = data.get("date_reception")
        for i in range(1, MAX_LINES + 1):
            names = {n: f"l{i}_{n}" for n in LINE_FIELDS}
            raw = {n: (self.data.get(self.add_prefix(f)) or "").strip() for n, f in names.items()}
            if i > 1 and not any(raw.values()):
                continue
            if i > 1:
                for n in ("code", "date_soins", "montant"):
                    if not raw[n] and names[n] not in self.errors:
                        self.add_error(names[n], "Ce champ est obligatoire pour une ligne commencée.")
            code = _compact(data.get(names["code"]) or "").upper()
            if code:
                data[names["code"]] = code
            when = data.get(names["date_soins"])
            if when is not None:
                if when > self.today:
                    self.add_error(names["date_soins"], "La date des soins ne peut pas être dans le futur.")
                    when = None
                elif reception is not None and when > reception:
                    self.add_error(names["date_soins"], "La date des soins ne peut pas suivre la date de réception.")
                    when = None
            if code and when is not None and not code_known_at(self.nomenclature, code, when):
                self.add_error(names["code"], f"Le code « {code} » est inconnu de la nomenclature au {when:%d/%m/%Y}.")
            if raw["montant"] and names["montant"] not in self.errors:
                try:
                    data[names["montant"]] = euros_to_cents(raw["montant"])
                except forms.ValidationError as exc:
                    self.add_error(names["montant"], exc)
        return data

    def paper_feuille(self) -> PaperFeuille:
        """The valid form as the capture service's input."""
        d = self.cleaned_data
        lines = []
        for i in range(1, MAX_LINES + 1):
            if not d.get(f"l{i}_code"):
                continue
            lines.append(PaperLine(
                code=d[f"l{i}_code"], date_soins=d[f"l{i}_date_soins"], quantite=d.get(f"l{i}_quantite") or 1,
                coefficient=float(d.get(f"l{i}_coefficient") or 1), montant_facture_cts=d[f"l{i}_montant"],
            ))
        return PaperFeuille(
            nir=d["nir"], executant=d["executant"], prescripteur=d.get("prescripteur") or None,
            tiers_payant=bool(d.get("tiers_payant")), risque=d["risque"], parcours=d["parcours"],
            en_rapport_ald=bool(d.get("en_rapport_ald")), date_reception=d["date_reception"], lignes=tuple(lines),
        )


class PeriodForm(AccessibleForm):
    du = date_field("Paiements du", required=False)
    au = date_field("au", required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("du") and data.get("au") and data["du"] > data["au"]:
            self.add_error("au", "La fin de la période précède son début.")
        return data


class ReturnPeriodForm(PeriodForm):
    """The period of a professional's return: what was paid or notified between two days."""

    du = date_field("Envoyés du", required=False)
    au = date_field("au", required=False)

    @staticmethod
    def bound_to(query: Any) -> ReturnPeriodForm:
        """The form bound only when the query asks for a period (a page may hold other forms)."""
        return ReturnPeriodForm(query if "du" in query or "au" in query else None)

    def period(self) -> tuple[dt.date | None, dt.date | None]:
        """The valid period asked for, ``(None, None)`` for everything."""
        if not self.is_bound or not self.is_valid():
            return None, None
        return self.cleaned_data.get("du"), self.cleaned_data.get("au")


class PatientRightsForm(AccessibleForm):
    """A professional's look-up of a patient's rights on the day of care."""

    nir = forms.CharField(label="Numéro de sécurité sociale du patient", max_length=21,
                          help_text="13 chiffres et la clé (15 caractères), espaces permis.")
    date = date_field("Date des soins", required=False, help_text="Format : JJ/MM/AAAA. Par défaut : aujourd'hui.")

    def clean_nir(self) -> str:
        try:
            return check_nir(self.cleaned_data["nir"])
        except InvalidIdentifier as exc:
            raise forms.ValidationError(str(exc)) from None
