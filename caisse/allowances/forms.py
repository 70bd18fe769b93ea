"""Forms of the IJ back-office: refuse bad input with a clear French message."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from caisse.allowances.french import de
from caisse.allowances.models import Canal, LienDefunt, Risque
from caisse.web.forms import AccessibleForm, date_field

MONEY = {"max_digits": 10, "decimal_places": 2, "min_value": Decimal(0)}


class FrenchDecimalField(forms.DecimalField):
    """Accepts ``2 300,50`` as well as ``2300.50``."""

    default_error_messages = {"invalid": "Saisissez un nombre, par exemple 2 300,50."}

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str):
            value = value.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
        return super().to_python(value)


class ArretPapierForm(AccessibleForm):
    """Entry of an avis d'arrêt received on paper (secured Cerfa)."""

    identifiant = forms.CharField(label="Numéro de l'avis d'arrêt", max_length=64,
                                  help_text="Numéro imprimé sur le Cerfa sécurisé.")
    nir = forms.CharField(label="NIR de l'assuré", max_length=21, help_text="15 caractères, espaces acceptés.")
    risque = forms.ChoiceField(label="Risque", choices=Risque.choices)
    date_debut = date_field("Premier jour d'arrêt")
    date_fin = date_field("Dernier jour d'arrêt")
    date_reception = date_field("Reçu le")
    prolongation = forms.BooleanField(label="Il s'agit d'une prolongation", required=False)
    ald = forms.BooleanField(label="Arrêt en rapport avec une affection de longue durée", required=False)
    volet_complet = forms.BooleanField(label="Avis lisible et complet (Cerfa sécurisé)", required=False, initial=True)
    siret = forms.CharField(label="SIRET de l'employeur", max_length=17, required=False,
                            help_text="14 chiffres, espaces acceptés.")
    date_accouchement = date_field("Date d'accouchement (maternité, paternité)", required=False)
    enfants_a_charge = forms.IntegerField(label="Enfants déjà à charge (maternité)", min_value=0, max_value=20,
                                          required=False)
    naissance_multiple = forms.TypedChoiceField(
        label="Naissance", required=False, coerce=int, empty_value=None,
        choices=[("", "—"), (1, "Naissance simple"), (2, "Jumeaux"), (3, "Triplés ou plus")],
    )

    canal = Canal.PAPIER

    def clean_nir(self) -> str:
        return "".join(self.cleaned_data["nir"].split()).upper()

    def clean_siret(self) -> str:
        return "".join(self.cleaned_data["siret"].split())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        debut, fin, recu = data.get("date_debut"), data.get("date_fin"), data.get("date_reception")
        if debut and fin and fin < debut:
            self.add_error("date_fin", "Le dernier jour d'arrêt précède le premier jour.")
        if debut and recu and recu < debut - dt.timedelta(days=31):
            self.add_error("date_reception", "L'avis ne peut pas être reçu plus d'un mois avant le début de l'arrêt.")
        if recu and recu > dt.date.today():
            self.add_error("date_reception", "La date de réception ne peut pas être dans le futur.")
        if data.get("risque") in (Risque.MATERNITE, Risque.PATERNITE) and not data.get("date_accouchement"):
            self.add_error("date_accouchement", "La date d'accouchement est obligatoire pour un congé maternité ou paternité.")
        return data


class AttestationSalaireForm(AccessibleForm):
    """The employer's salary certificate, typed from paper: 12 months before the arrêt."""

    siret = forms.CharField(label="SIRET de l'employeur", max_length=17, help_text="14 chiffres, espaces acceptés.")
    date_reception = date_field("Reçue le")
    subrogation = forms.BooleanField(label="L'employeur maintient le salaire et demande la subrogation",
                                     required=False)
    subrogation_debut = date_field("Maintien du salaire du", required=False)
    subrogation_fin = date_field("Maintien du salaire au", required=False)
    salaire_maintenu = FrenchDecimalField(label="Salaire maintenu par jour, en euros (maintien partiel)",
                                          required=False, **MONEY)

    def __init__(self, *args: Any, months: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.months = months
        for k, month in enumerate(months):
            label = _month_label(month)
            self.fields[f"brut_{k}"] = FrenchDecimalField(
                label=f"Salaire brut {de(label)}, en euros", required=k < 3, **MONEY,
                help_text="Salaire soumis à cotisations." if k == 0 else "",
            )
            if k < 3:
                self.fields[f"heures_{k}"] = FrenchDecimalField(
                    label=f"Heures travaillées en {label}", required=False, max_digits=6, decimal_places=2,
                    min_value=Decimal(0), max_value=Decimal(744),
                )
        self._describe()

    def clean_siret(self) -> str:
        return "".join(self.cleaned_data["siret"].split())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("subrogation"):
            start, end = data.get("subrogation_debut"), data.get("subrogation_fin")
            if not start:
                self.add_error("subrogation_debut", "Indiquez le début du maintien de salaire.")
            if not end:
                self.add_error("subrogation_fin", "Indiquez la fin du maintien de salaire.")
            if start and end and end < start:
                self.add_error("subrogation_fin", "La fin du maintien précède son début.")
        if data.get("date_reception") and data["date_reception"] > dt.date.today():
            self.add_error("date_reception", "La date de réception ne peut pas être dans le futur.")
        return data

    def lines(self) -> list[tuple[str, int, Decimal]]:
        out = []
        for k, month in enumerate(self.months):
            brut = self.cleaned_data.get(f"brut_{k}")
            if brut is None:
                continue
            hours = self.cleaned_data.get(f"heures_{k}") or Decimal(0)
            out.append((month, int(brut * 100), hours))
        return out


class PaiementForm(AccessibleForm):
    jusqu_au = date_field("Payer les jours jusqu'au", help_text="Les IJ se paient à terme échu. Format : JJ/MM/AAAA.")
    date_paiement = date_field("Date de paiement")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("jusqu_au") and data.get("date_paiement") and data["jusqu_au"] > data["date_paiement"]:
            self.add_error("jusqu_au", "On ne paie pas de jour postérieur à la date de paiement.")
        return data


class PeriodeForm(AccessibleForm):
    du = date_field("Du")
    au = date_field("Au")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("du") and data.get("au") and data["au"] < data["du"]:
            self.add_error("au", "La fin de la période précède son début.")
        return data


MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]


def _month_label(month: str) -> str:
    return f"{MONTHS[int(month[5:7]) - 1]} {month[:4]}"


class CapitalDecesForm(AccessibleForm):
    """A capital décès claim and up to 4 persons who claim it."""

    ROWS = 4

    nir = forms.CharField(label="NIR de l'assuré décédé", max_length=21, help_text="15 caractères, espaces acceptés.")
    date_deces = date_field("Date du décès", required=False,
                            help_text="Facultatif si le décès est déjà enregistré au dossier. Format : JJ/MM/AAAA.")
    date_demande = date_field("Demande reçue le")
    condition_activite = forms.BooleanField(
        label="Le défunt remplissait les conditions dans les 3 mois avant le décès (activité salariée, chômage "
              "indemnisé, invalidité, rente AT/MP ≥ 66,66 % ou maintien de droits)", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for k in range(1, self.ROWS + 1):
            self.fields[f"nom_{k}"] = forms.CharField(label=f"Demandeur {k} : nom et prénom", max_length=200,
                                                      required=k == 1)
            self.fields[f"lien_{k}"] = forms.ChoiceField(
                label=f"Demandeur {k} : lien avec le défunt", required=k == 1,
                choices=[("", "—"), *LienDefunt.choices],
            )
            self.fields[f"a_charge_{k}"] = forms.BooleanField(
                label=f"Demandeur {k} : était à la charge effective, totale et permanente du défunt", required=False)
            self.fields[f"separe_{k}"] = forms.BooleanField(label=f"Demandeur {k} : conjoint séparé", required=False)
            self.fields[f"priorite_{k}"] = date_field(f"Demandeur {k} : priorité demandée le", required=False)
        self._describe()

    def clean_nir(self) -> str:
        return "".join(self.cleaned_data["nir"].split()).upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for k in range(1, self.ROWS + 1):
            if data.get(f"nom_{k}") and not data.get(f"lien_{k}"):
                self.add_error(f"lien_{k}", "Indiquez le lien avec le défunt.")
            if data.get(f"lien_{k}") and not data.get(f"nom_{k}"):
                self.add_error(f"nom_{k}", "Indiquez le nom du demandeur.")
            if data.get(f"priorite_{k}") and not data.get(f"a_charge_{k}"):
                self.add_error(f"priorite_{k}", "Seule une personne à la charge du défunt peut demander la priorité.")
        if data.get("date_deces") and data.get("date_demande") and data["date_demande"] < data["date_deces"]:
            self.add_error("date_demande", "La demande ne peut pas précéder le décès.")
        return data

    def ayants_droit(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {"nom": data[f"nom_{k}"], "lien": data[f"lien_{k}"], "a_charge": data[f"a_charge_{k}"],
             "separe": data[f"separe_{k}"], "date_demande_priorite": data[f"priorite_{k}"]}
            for k in range(1, self.ROWS + 1) if data.get(f"nom_{k}")
        ]
