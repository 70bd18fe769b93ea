"""Online spaces for the IJ and the AT/MP: the assuré's and the employer's.

- The assuré (role ``assure``, ``user.beneficiary``) sees their own arrêts, IJ files, IJ paid,
  downloads their relevé and an attestation of IJ paid over a period, and follows their AT/MP
  declarations (status and next deadline; no medical data beyond what they declared).
- The employer (role ``employeur``, ``user.employer``) declares a work accident online (like
  e-DAT: the victim is named by NIR, name and birth date together, refused with one message
  whatever does not match, and shown to the employer as it named them), sends the salary
  certificate of an arrêt of one of their employees (like the DSN attestation), and sees the IJ
  paid to them under subrogation (like NOEMIE employeurs).

Every object is looked up *through* the signed-in account (``beneficiaire=user.beneficiary_id``
or ``employeur=user.employer_id``): another person's or another employer's id is a 404. Every
other role gets a 403. Reads and downloads are recorded in the audit trail; every change goes
through the domain services (``allowances.services``, ``work_accidents.services``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from caisse.accounts.models import Role
from caisse.allowances import services
from caisse.allowances.documents import DocumentUnavailable, render_attestation_pdf, render_releve_pdf
from caisse.allowances.forms import AttestationSalaireForm, PeriodeForm
from caisse.allowances.models import (
    Arret,
    AttestationSalaire,
    Destinataire,
    DossierIJ,
    PaiementIJ,
    Piece,
    StatutPeriode,
)
from caisse.beneficiaries.access import get_beneficiary_for
from caisse.beneficiaries.models import Beneficiary
from caisse.core.audit import record
from caisse.core.models import AuditAction
from caisse.rules import identifiers
from caisse.web.forms import AccessibleForm, date_field
from caisse.work_accidents import services as atmp
from caisse.work_accidents.enums import CaseKind, Channel, Declarant
from caisse.work_accidents.models import Declaration

View = Callable[..., HttpResponse]

# One message whatever does not match (unknown NIR, other name, other birth date): the form must not
# tell which NIRs are registered, nor confirm part of an identity.
UNKNOWN_VICTIM = (
    "Les informations de la victime ne correspondent à aucun assuré de la caisse : "
    "vérifiez le NIR, le nom et la date de naissance."
)
UNKNOWN_ARRET = (
    "Aucun arrêt de travail de l'un de vos salariés ne correspond à ce numéro d'avis et à ce NIR. "
    "Vérifiez le numéro imprimé sur l'avis d'arrêt et le NIR du salarié."
)


def _today() -> dt.date:
    return timezone.localdate()


# --- Guards -------------------------------------------------------------------------------------------


def assure_required(view: View) -> View:
    """Signed in first (redirect), then an assuré with their own file (403 otherwise)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not user.is_active or user.role != Role.ASSURE or user.beneficiary_id is None:
            raise PermissionDenied("Cet espace est réservé aux assurés, pour leur propre dossier.")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def employeur_required(view: View) -> View:
    """Signed in first (redirect), then an employer account tied to its company (403 otherwise)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not user.is_active or user.role != Role.EMPLOYEUR or user.employer_id is None:
            raise PermissionDenied("Cet espace est réservé aux employeurs.")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Assuré: my IJ ------------------------------------------------------------------------------------


def _me(request: HttpRequest, purpose: str) -> Beneficiary:
    user: Any = request.user
    return get_beneficiary_for(user, user.beneficiary_id, purpose=purpose)


@assure_required
def mes_ij(request: HttpRequest) -> HttpResponse:
    me = _me(request, "espace en ligne : mes indemnités journalières")
    dossiers = []
    for d in DossierIJ.objects.filter(beneficiaire=me).order_by("-date_ouverture", "-pk"):
        periods = list(d.periodes.select_related("employeur").order_by("debut"))
        paid = [p for p in periods if p.statut == StatutPeriode.PAYEE]
        dossiers.append({
            "d": d,
            "arrets": list(d.arrets.order_by("date_debut")),
            "pieces": [Piece(p).label for p in d.pieces_manquantes],
            "payees": paid,
            "total_cts": sum(p.montant_cts for p in paid),
            "a_payer_cts": sum(p.montant_cts for p in periods if p.statut == StatutPeriode.CALCULEE),
        })
    today = _today()
    form = PeriodeForm(initial={"du": dt.date(today.year, 1, 1), "au": today})
    return render(request, "allowances/online/mes_ij.html", {
        "me": me, "dossiers": dossiers, "form": form,
    })


@assure_required
def mon_releve(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    dossier = get_object_or_404(DossierIJ, pk=pk, beneficiaire_id=user.beneficiary_id)
    dossier.beneficiaire = _me(request, "espace en ligne : relevé d'indemnités journalières")
    try:
        pdf = render_releve_pdf(dossier)
    except DocumentUnavailable as exc:
        return render(request, "web/unavailable.html", {
            "reason": str(exc), "back_url": reverse("online:mes_ij")}, status=503)
    record(by=user, action=AuditAction.DOWNLOAD, summary="Relevé d'indemnités journalières (espace en ligne)",
           beneficiary=dossier.beneficiaire, obj=dossier)
    return _pdf_response(pdf, f"releve-ij-{dossier.pk}.pdf")


@assure_required
def mon_attestation(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = PeriodeForm(request.GET or None)
    if request.GET and form.is_valid():
        me = _me(request, "espace en ligne : attestation d'indemnités journalières payées")
        du, au = form.cleaned_data["du"], form.cleaned_data["au"]
        try:
            pdf = render_attestation_pdf(me, du, au)
        except DocumentUnavailable as exc:
            return render(request, "web/unavailable.html", {
                "reason": str(exc), "back_url": reverse("online:mes_ij")}, status=503)
        record(by=user, action=AuditAction.DOWNLOAD, beneficiary=me, obj=me,
               summary=f"Attestation d'IJ payées du {du:%d/%m/%Y} au {au:%d/%m/%Y} (espace en ligne)")
        return _pdf_response(pdf, f"attestation-ij-{du:%Y%m%d}-{au:%Y%m%d}.pdf")
    return render(request, "allowances/online/attestation_form.html", {
        "form": form, "page_title": "Attestation d'indemnités journalières payées",
    }, status=400 if request.GET and form.errors else 200)


# --- Assuré: my work accidents -----------------------------------------------------------------------


def _case_rows(declarations: Any) -> list[dict[str, Any]]:
    rows = []
    for declaration in declarations:
        cases = sorted(declaration.cases.all(), key=lambda c: c.pk)
        rows.append({"declaration": declaration, "case": cases[-1] if cases else None})
    return rows


@assure_required
def mes_atmp(request: HttpRequest) -> HttpResponse:
    me = _me(request, "espace en ligne : mes accidents du travail et maladies professionnelles")
    declarations = (
        Declaration.objects.filter(victim=me).select_related("employer").prefetch_related("cases")
        .order_by("-date_evenement", "-pk")
    )
    return render(request, "allowances/online/mes_atmp.html", {
        "me": me, "rows": _case_rows(declarations), "today": _today(),
    })


# --- Employer: home, IJ paid under subrogation --------------------------------------------------------


@employeur_required
def employeur_home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    employer = user.employer
    arrets = list(
        Arret.objects.filter(employeur=employer).select_related("beneficiaire").order_by("-date_debut", "-pk")[:100]
    )
    sent = set(AttestationSalaire.objects.filter(employeur=employer, arret__in=arrets).values_list("arret_id", flat=True))
    declarations = (
        Declaration.objects.filter(employer=employer).select_related("victim").prefetch_related("cases")
        .order_by("-date_evenement", "-pk")[:100]
    )
    record(by=user, action=AuditAction.READ, summary=f"Espace employeur en ligne ({employer.raison_sociale})")
    return render(request, "allowances/online/employeur_home.html", {
        "employer": employer,
        "arrets": [(a, "prolongation" if a.arret_initial_id else ("transmise" if a.pk in sent else "a_transmettre"))
                   for a in arrets],
        "rows": _case_rows(declarations),
    })


@employeur_required
def employeur_paiements(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    employer = user.employer
    payments = list(
        PaiementIJ.objects.filter(destinataire=Destinataire.EMPLOYEUR, employeur=employer)
        .select_related("beneficiaire").prefetch_related("periodes").order_by("-date_paiement", "-debut", "-pk")[:500]
    )
    rows = []
    for payment in payments:
        periods = sorted(payment.periodes.all(), key=lambda p: p.debut)
        rows.append({"p": payment, "periodes": periods, "jours": sum(p.jours for p in periods)})
    record(by=user, action=AuditAction.READ,
           summary=f"Espace employeur : IJ versées en subrogation ({employer.raison_sociale})")
    return render(request, "allowances/online/employeur_paiements.html", {
        "employer": employer, "rows": rows, "total_cts": sum(p.montant_cts for p in payments),
    })


# --- Employer: online work accident declaration (e-DAT) ----------------------------------------------


def _nir(value: str) -> str:
    try:
        return identifiers.check_nir(value)
    except identifiers.InvalidIdentifier as exc:
        raise ValidationError(str(exc)) from None


class DeclarationEnLigneForm(AccessibleForm):
    kind = forms.ChoiceField(
        label="Nature de l'accident", widget=forms.RadioSelect,
        choices=[(CaseKind.AT.value, CaseKind.AT.label), (CaseKind.TRAJET.value, CaseKind.TRAJET.label)],
    )
    nir = forms.CharField(label="NIR du salarié victime", max_length=21,
                          help_text="Numéro de sécurité sociale : 15 caractères, espaces acceptés.")
    nom = forms.CharField(label="Nom de la victime", max_length=100,
                          help_text="Nom de naissance ou nom d'usage, comme sur la carte Vitale ou le bulletin de paie.")
    prenom = forms.CharField(label="Prénom de la victime", max_length=100)
    date_naissance = date_field("Date de naissance de la victime")
    date_evenement = date_field("Date de l'accident")
    circonstances = forms.CharField(
        label="Circonstances de l'accident", max_length=4000, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Lieu, activité de la victime, nature de l'accident. N'indiquez aucun diagnostic médical.",
    )

    def clean_nir(self) -> str:
        return _nir(self.cleaned_data["nir"])

    def clean_nom(self) -> str:
        return " ".join(self.cleaned_data["nom"].split())

    def clean_prenom(self) -> str:
        return " ".join(self.cleaned_data["prenom"].split())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = _today()
        born = data.get("date_naissance")
        if born and born > today:
            self.add_error("date_naissance", "La date de naissance ne peut pas être dans le futur.")
        event = data.get("date_evenement")
        if event and event > today:
            self.add_error("date_evenement", "La date de l'accident ne peut pas être dans le futur.")
        return data


def _identity_key(value: str) -> str:
    """A name as compared: no case, accent, hyphen, apostrophe or double space (« Le Hénaff » = « LE-HENAFF »)."""
    text = unicodedata.normalize("NFKD", value.casefold().replace("œ", "oe").replace("æ", "ae"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _same_person(person: Beneficiary, *, nom: str, prenom: str, date_naissance: dt.date) -> bool:
    """The NIR's holder has this birth date, this first name, and this birth or usage name."""
    names = {_identity_key(n) for n in (person.nom, person.nom_usage) if _identity_key(n)}
    first = _identity_key(person.prenom)
    return (
        person.date_naissance == date_naissance
        and bool(first) and first == _identity_key(prenom)
        and _identity_key(nom) in names
    )


def _find_victim(user: Any, *, nir: str, nom: str, prenom: str, date_naissance: dt.date) -> Beneficiary | None:
    """The victim of an employer's declaration: the holder of the NIR, if the name, first name and
    birth date given with it are theirs; ``None`` otherwise, whatever did not match.

    The access function of this space (like ``work_accidents.perms.find_victim_for`` for the
    AT/MP team): only the employer guard above reaches it, with a complete and valid NIR. The
    project keeps no register of who works for whom (an arrêt names an employer only once
    someone is on leave), so an employer proves it knows its employee as the e-DAT asks: NIR,
    name and birth date together; the AT/MP team instructs the case afterwards. The look-up is
    recorded in the person's history only when the identity matched: otherwise nothing of them
    was reached."""
    person = Beneficiary.objects.filter(nir=nir).first()
    if person is None or not _same_person(person, nom=nom, prenom=prenom, date_naissance=date_naissance):
        return None
    record(by=user, action=AuditAction.READ, beneficiary=person, obj=person,
           summary="recherche de la victime d'une déclaration d'accident du travail en ligne (employeur)")
    return person


def _form_page(request: HttpRequest, form: Any, *, title: str, submit: str, intro: str = "",
               cancel_url: str = "") -> HttpResponse:
    return render(request, "allowances/online/form_page.html", {
        "form": form, "page_title": title, "submit": submit, "intro": intro,
        "cancel_url": cancel_url or reverse("online:employeur"),
    }, status=400 if form.is_bound and form.errors else 200)


@employeur_required
def declarer_accident(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = DeclarationEnLigneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        victim = _find_victim(user, nir=data["nir"], nom=data["nom"], prenom=data["prenom"],
                              date_naissance=data["date_naissance"])
        if victim is None:
            form.add_error(None, UNKNOWN_VICTIM)
        elif Declaration.objects.filter(victim=victim, employer_id=user.employer_id, kind=data["kind"],
                                        date_evenement=data["date_evenement"]).exists():
            form.add_error(None, "Vous avez déjà déclaré cet accident de ce salarié à cette date : "
                                 "il n'est pas enregistré une seconde fois.")
        else:
            today = _today()
            try:
                case = atmp.declare(
                    by=user, kind=data["kind"], declarant=Declarant.EMPLOYEUR, victim=victim, employer=user.employer,
                    date_evenement=data["date_evenement"], date_declaration=today, date_reception=today,
                    channel=Channel.EDAT, circonstances=data["circonstances"].strip(),
                    victim_declared_name=f"{data['prenom']} {data['nom']}",
                )
            except ValidationError as exc:
                form.add_validation_error(exc)
            else:
                declaration = case.declaration
                text = f"La déclaration est enregistrée (dossier AT/MP n° {case.pk})."
                if declaration.declaration_tardive:
                    text += " Elle est faite au-delà du délai de 48 heures (art. R441-3 du code de la sécurité sociale)."
                messages.success(request, text)
                return redirect("online:employeur")
    return _form_page(
        request, form, title="Déclarer un accident du travail en ligne", submit="Envoyer la déclaration",
        intro="Déclarez l'accident dans les 48 heures (dimanches et jours fériés non compris). Identifiez la "
              "victime par son NIR, son nom et sa date de naissance. La déclaration est datée du jour de son "
              "envoi ; la caisse en informe la victime.",
    )


# --- Employer: salary certificate (attestation de salaire) -------------------------------------------


class ArretSalarieForm(AccessibleForm):
    identifiant = forms.CharField(label="Numéro de l'avis d'arrêt de travail", max_length=64,
                                  help_text="Numéro figurant sur le volet employeur de l'avis d'arrêt.")
    nir = forms.CharField(label="NIR du salarié", max_length=21, help_text="15 caractères, espaces acceptés.")

    def clean_identifiant(self) -> str:
        return self.cleaned_data["identifiant"].strip()

    def clean_nir(self) -> str:
        return _nir(self.cleaned_data["nir"])


class AttestationEnLigneForm(AttestationSalaireForm):
    """The DSN-like certificate sent by the employer: the company is the signed-in account and
    the reception date is today."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["siret"], self.fields["date_reception"]
        for k in range(len(self.months)):
            self.fields[f"brut_{k}"].required = True
        self._describe()


def _arret_of_employer(user: Any, pk: int) -> Arret:
    arret = Arret.objects.select_related("beneficiaire", "arret_initial").filter(pk=pk, employeur_id=user.employer_id).first()
    if arret is None:
        raise Http404("Arrêt introuvable parmi ceux de vos salariés.")
    return arret


@employeur_required
def attestation_trouver(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = ArretSalarieForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        arret = Arret.objects.filter(
            identifiant_externe=form.cleaned_data["identifiant"], beneficiaire__nir=form.cleaned_data["nir"],
            employeur_id=user.employer_id,
        ).first()
        if arret is None:
            form.add_error(None, UNKNOWN_ARRET)
        else:
            return redirect("online:attestation_salaire", arret.pk)
    return _form_page(request, form, title="Transmettre une attestation de salaire",
                      submit="Continuer", intro="Indiquez l'arrêt de travail de votre salarié.")


@employeur_required
def attestation_salaire(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    arret = _arret_of_employer(user, pk)
    head = arret.arret_initial if arret.arret_initial_id else arret
    form = AttestationEnLigneForm(request.POST or None, months=_months_before(head.date_debut))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        maintained = data["salaire_maintenu"]
        try:
            _, created = services.recevoir_attestation_salaire(
                arret=head, employeur=user.employer, date_reception=_today(),
                lignes=[services.Salaire(m, b, h) for m, b, h in form.lines()],
                subrogation=data["subrogation"], subrogation_debut=data["subrogation_debut"],
                subrogation_fin=data["subrogation_fin"],
                salaire_maintenu_journalier_cts=int(maintained * 100) if maintained is not None else None,
                by=user,
            )
        except ValidationError as exc:
            form.add_validation_error(exc)
        else:
            messages.success(request, "L'attestation de salaire est transmise." if created
                             else "Cette attestation avait déjà été transmise : rien n'a changé.")
            return redirect("online:employeur")
    person = arret.beneficiaire
    return _form_page(
        request, form, title="Transmettre une attestation de salaire", submit="Transmettre l'attestation",
        intro=(f"Salarié : {person.prenom} {person.nom_affiche}. Arrêt du {head.date_debut:%d/%m/%Y}. "
               "Indiquez le salaire brut soumis à cotisations de chacun des 12 mois civils précédant l'arrêt, en euros."),
        cancel_url=reverse("online:employeur"),
    )


def _months_before(start: dt.date, count: int = 12) -> list[str]:
    index = start.year * 12 + start.month - 1
    return [f"{(index - k) // 12:04d}-{(index - k) % 12 + 1:02d}" for k in range(1, count + 1)]

