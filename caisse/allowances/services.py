"""Every change to an IJ file goes through one of these functions.

Each function is one transaction: it validates (French messages), writes through
``core.audit.save_to_file`` or ``core.audit.record`` (who did what, when) and returns what it
created or changed. No rule of the IJ is computed here: the amounts come from the pure engine
:func:`caisse.rules.allowances.compute_ij`, the capital décès from
:mod:`caisse.rules.allowances.capital_deces`, the targets from the dated parameters.

Choices made here (documented for the IJ team):

- a *dossier* is the initial arrêt and its prolongations; the engine computes the chain as one
  arrêt from the first day of the initial arrêt to the last day of the last prolongation, so
  that the salaire journalier de base, the carence (once) and the AT/MP 29th day are those of
  the initial arrêt; days between two arrêts of the chain (resumption ≤ 48 h) are not paid;
- the person's other dossiers go to the engine in the same batch, so that the 360 IJ over 3
  years and the ALD periods see the whole history;
- the salaries are those of the certificates of the initial arrêt; the hours are the hours of
  the 3 months before the month of the initial arrêt;
- subrogation (R323-11): the days inside the employer's window of maintained salary are paid
  to the employer, unless the maintained daily salary is given and is below the IJ (partial
  maintenance below the IJ: the assuré is paid); with several subrogated employers on the same
  day, the first certificate received wins;
- payment is *à terme échu*: only days up to the payment date are paid, a period that
  straddles the cut-off date is split, and a day is never paid twice (named constraint);
- the first-payment delay runs from the date the file became complete (the last required
  piece received) by default, or from the first day of the arrêt; the choice is the dated
  parameter ``ij.delais.premier_paiement_point_depart``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from caisse.allowances.models import (
    Arret,
    AttestationSalaire,
    AyantDroitCapitalDeces,
    Canal,
    DemandeCapitalDeces,
    Destinataire,
    DossierIJ,
    LigneSalaire,
    PaiementIJ,
    PeriodeIJ,
    Piece,
    Risque,
    StatutCapitalDeces,
    StatutDossier,
    StatutPeriode,
)
from caisse.beneficiaries.models import Beneficiary
from caisse.core.audit import record, save_to_file
from caisse.core.models import AuditAction
from caisse.professionals.models import Employer, HealthProfessional
from caisse.rules.allowances import compute_ij
from caisse.rules.allowances.capital_deces import (
    Beneficiaire,
    beneficiaires_servis,
    demande_dans_les_delais,
    repartition_capital_deces,
)
from caisse.rules.allowances.schema import frame_from_records
from caisse.rules.parameters import load_parameters

ONE_DAY = dt.timedelta(days=1)
# Resumption of work of at most 48 h between two arrêts: the second one is a prolongation (L323-1).
MAX_GAP_DAYS = 2


def _param(name: str, when: dt.date) -> Any:
    return load_parameters().value(name, when)


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7])


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# --- Reception of the arrêts ----------------------------------------------------------------------


def _chain_head(arret: Arret) -> Arret:
    return arret.arret_initial if arret.arret_initial_id else arret


def _previous_arret(beneficiaire: Beneficiary, risque: str, date_debut: dt.date) -> Arret | None:
    """The arrêt a prolongation without explicit initial continues (ended ≤ 48 h before)."""
    return (
        Arret.objects.filter(
            beneficiaire=beneficiaire, risque=risque, date_fin__lt=date_debut,
            date_fin__gte=date_debut - dt.timedelta(days=MAX_GAP_DAYS + 1),
        )
        .select_related("arret_initial")
        .order_by("-date_fin")
        .first()
    )


@transaction.atomic
def recevoir_arret(
    *,
    identifiant_externe: str,
    beneficiaire: Beneficiary,
    risque: str,
    date_debut: dt.date,
    date_fin: dt.date,
    date_reception: dt.date,
    canal: str = Canal.ELECTRONIQUE,
    prolongation: bool = False,
    arret_initial: Arret | None = None,
    employeur: Employer | None = None,
    prescripteur: HealthProfessional | None = None,
    ald: bool = False,
    volet_complet: bool = True,
    date_accouchement: dt.date | None = None,
    enfants_a_charge: int | None = None,
    naissance_multiple: int | None = None,
    by: Any = None,
) -> tuple[Arret, bool]:
    """Record an avis d'arrêt; ``(arrêt, False)`` when this identifier was already received.

    A prolongation joins the dossier of its initial arrêt (given, or found: same person and
    risk, ended at most 48 h before); otherwise the arrêt opens a new dossier. The dossier is
    then (re)computed if its pieces are complete.
    """
    existing = Arret.objects.filter(identifiant_externe=identifiant_externe).first()
    if existing is not None:
        return existing, False
    if risque not in Risque.values:
        raise ValidationError({"risque": f"Risque « {risque} » inconnu."})
    if date_fin < date_debut:
        raise ValidationError({"date_fin": "La date de fin précède la date de début."})
    if prolongation and arret_initial is None:
        previous = _previous_arret(beneficiaire, risque, date_debut)
        arret_initial = _chain_head(previous) if previous is not None else None
    if arret_initial is not None:
        arret_initial = _chain_head(arret_initial)
        if arret_initial.beneficiaire_id != beneficiaire.pk:
            raise ValidationError({"arret_initial": "L'arrêt initial d'une prolongation doit concerner la même personne."})
        if arret_initial.risque != risque:
            raise ValidationError({"arret_initial": "Une prolongation doit porter sur le même risque que l'arrêt initial."})
        prolongation = True
        dossier = arret_initial.dossier
    else:
        dossier = save_to_file(
            DossierIJ(beneficiaire=beneficiaire, risque=risque, date_ouverture=date_reception),
            by=by, summary="Ouverture d'un dossier d'indemnités journalières", beneficiary=beneficiaire,
        )
    arret = Arret(
        identifiant_externe=identifiant_externe, beneficiaire=beneficiaire, dossier=dossier, canal=canal,
        risque=risque, prescripteur=prescripteur, employeur=employeur, date_debut=date_debut, date_fin=date_fin,
        date_reception=date_reception, prolongation=prolongation, arret_initial=arret_initial, ald=ald,
        volet_complet=volet_complet, date_accouchement=date_accouchement, enfants_a_charge=enfants_a_charge,
        naissance_multiple=naissance_multiple,
    )
    kind = "prolongation" if arret_initial is not None else "arrêt initial"
    save_to_file(arret, by=by, summary=f"Réception d'un avis d'arrêt de travail ({kind}, {arret.get_canal_display()})",
                 beneficiary=beneficiaire)
    actualiser_dossier(dossier, by=by)
    return arret, True


def recevoir_avis(data: dict[str, Any], *, by: Any = None) -> tuple[Arret, bool]:
    """An avis from a flow: contract §4 field names plus ``identifiant``/``id``, ``date_reception``,
    ``canal``, ``siret`` (employer), ``prescripteur`` (professional id), ``arret_initial``
    (identifier of the initial avis). The person must be known (``nir``)."""
    ident = str(data.get("identifiant") or data.get("id") or "")
    if not ident:
        raise ValidationError("L'identifiant de l'avis d'arrêt est absent.")
    already = Arret.objects.filter(identifiant_externe=ident).first()
    if already is not None:
        return already, False
    person = Beneficiary.objects.filter(nir=data.get("nir") or "").first()
    if person is None:
        raise ValidationError(f"Bénéficiaire inconnu (NIR « {data.get('nir')} »).")

    def date(name: str) -> dt.date | None:
        raw = data.get(name)
        if raw in (None, ""):
            return None
        try:
            return dt.date.fromisoformat(str(raw))
        except ValueError as exc:
            raise ValidationError({name: f"Date « {raw} » invalide (AAAA-MM-JJ)."}) from exc

    debut, fin = date("date_debut"), date("date_fin")
    if debut is None or fin is None:
        raise ValidationError("Les dates de début et de fin de l'arrêt sont obligatoires.")
    initial = None
    if data.get("arret_initial"):
        initial = Arret.objects.filter(identifiant_externe=str(data["arret_initial"])).first()
        if initial is None:
            raise ValidationError({"arret_initial": "L'arrêt initial indiqué n'a pas été reçu."})
    employeur = Employer.objects.filter(siret=data["siret"]).first() if data.get("siret") else None
    prescripteur = (
        HealthProfessional.objects.filter(identifiant=data["prescripteur"]).first() if data.get("prescripteur") else None
    )
    return recevoir_arret(
        identifiant_externe=ident, beneficiaire=person, risque=str(data.get("risque") or ""),
        date_debut=debut, date_fin=fin, date_reception=date("date_reception") or debut,
        canal=data.get("canal") or Canal.ELECTRONIQUE, prolongation=bool(data.get("prolongation")),
        arret_initial=initial, employeur=employeur, prescripteur=prescripteur, ald=bool(data.get("ald")),
        date_accouchement=date("date_accouchement"), enfants_a_charge=data.get("enfants_a_charge"),
        naissance_multiple=data.get("naissance_multiple"), by=by,
    )


# --- Salary certificates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Salaire:
    mois: str  # AAAA-MM
    brut_cts: int
    heures: Decimal = Decimal(0)


def _validate_lines(lignes: list[Salaire]) -> None:
    errors = []
    seen = set()
    for line in lignes:
        if len(line.mois) != 7 or line.mois[4] != "-" or not (line.mois[:4] + line.mois[5:]).isdigit() or not (
            1 <= int(line.mois[5:]) <= 12
        ):
            errors.append(f"Mois « {line.mois} » invalide : il s'écrit AAAA-MM.")
        elif line.mois in seen:
            errors.append(f"Le mois {line.mois} figure deux fois sur l'attestation.")
        seen.add(line.mois)
        if line.brut_cts < 0 or line.heures < 0:
            errors.append(f"Mois {line.mois} : le salaire et les heures ne peuvent pas être négatifs.")
    if not lignes:
        errors.append("L'attestation doit comporter au moins un mois de salaire.")
    if len(lignes) > 24:
        errors.append("L'attestation comporte au plus 24 mois de salaire.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def recevoir_attestation_salaire(
    *,
    arret: Arret,
    employeur: Employer,
    date_reception: dt.date,
    lignes: list[Salaire],
    subrogation: bool = False,
    subrogation_debut: dt.date | None = None,
    subrogation_fin: dt.date | None = None,
    salaire_maintenu_journalier_cts: int | None = None,
    identifiant_externe: str = "",
    by: Any = None,
) -> tuple[AttestationSalaire, bool]:
    """Record the employer's certificate for the arrêt; ``(certificate, False)`` when the same
    employer already sent the same one. A different one for the same arrêt and employer
    replaces it (rectification). The dossier is then recomputed when complete."""
    _validate_lines(lignes)
    if subrogation and (subrogation_debut is None or subrogation_fin is None):
        raise ValidationError({"subrogation_debut": "Une subrogation doit indiquer la période de maintien du salaire."})
    wanted = {
        "date_reception": date_reception, "subrogation": subrogation,
        "subrogation_debut": subrogation_debut if subrogation else None,
        "subrogation_fin": subrogation_fin if subrogation else None,
        "salaire_maintenu_journalier_cts": salaire_maintenu_journalier_cts if subrogation else None,
        "identifiant_externe": identifiant_externe,
    }
    lines = sorted((li.mois, li.brut_cts, Decimal(li.heures).quantize(Decimal("0.01"))) for li in lignes)
    att = AttestationSalaire.objects.select_for_update().filter(arret=arret, employeur=employeur).first()
    if att is not None:
        current = sorted((li.mois, li.brut_cts, li.heures) for li in att.lignes.all())
        same = current == lines and all(
            getattr(att, k) == v for k, v in wanted.items() if k not in ("date_reception", "identifiant_externe")
        )
        if same:
            return att, False
        summary = "Attestation de salaire rectificative"
    else:
        att = AttestationSalaire(arret=arret, employeur=employeur)
        summary = "Réception de l'attestation de salaire"
    for name, value in wanted.items():
        setattr(att, name, value)
    save_to_file(att, by=by, summary=f"{summary} ({employeur.raison_sociale})", beneficiary=arret.beneficiaire)
    att.lignes.all().delete()
    LigneSalaire.objects.bulk_create(
        [LigneSalaire(attestation=att, mois=m, brut_cts=b, heures=h) for m, b, h in lines]
    )
    actualiser_dossier(arret.dossier, by=by)
    return att, True


# --- Pieces and computation -------------------------------------------------------------------------


def pieces_manquantes(dossier: DossierIJ) -> list[str]:
    arrets = list(dossier.arrets.all())
    missing = []
    heads = [a for a in arrets if a.arret_initial_id is None]
    if not AttestationSalaire.objects.filter(arret__in=heads).exists():
        missing.append(Piece.ATTESTATION_SALAIRE.value)
    if any(not a.volet_complet for a in arrets):
        missing.append(Piece.VOLET_ARRET.value)
    return missing


def _date_complet(dossier: DossierIJ) -> dt.date:
    """The day the last required piece arrived (initial arrêt, certificate)."""
    head = dossier.arrets.filter(arret_initial__isnull=True).order_by("date_debut").first()
    dates = [dossier.date_ouverture]
    if head is not None:
        dates.append(head.date_reception)
        first_cert = head.attestations.order_by("date_reception").first()
        if first_cert is not None:
            dates.append(first_cert.date_reception)
    return max(dates)


@transaction.atomic
def actualiser_dossier(dossier: DossierIJ, *, by: Any = None) -> DossierIJ:
    """Update the missing pieces; compute the IJ when the file is complete."""
    dossier = DossierIJ.objects.select_for_update().get(pk=dossier.pk)
    missing = pieces_manquantes(dossier)
    if missing:
        if dossier.pieces_manquantes != missing or dossier.statut != StatutDossier.ATTENTE_PIECES:
            paid = dossier.periodes.filter(statut=StatutPeriode.PAYEE).exists()
            dossier.pieces_manquantes = missing
            if not paid:
                dossier.statut = StatutDossier.ATTENTE_PIECES
                dossier.date_complet = None
            save_to_file(dossier, by=by, summary="Pièces manquantes : " + ", ".join(
                Piece(p).label for p in missing), beneficiary=dossier.beneficiaire)
        return dossier
    if dossier.pieces_manquantes or dossier.date_complet is None:
        dossier.pieces_manquantes = []
        if dossier.date_complet is None:
            dossier.date_complet = _date_complet(dossier)
    return calculer_dossier(dossier, by=by)


def _record_for(dossier: DossierIJ) -> dict[str, Any] | None:
    """The contract §4 input of the whole chain of arrêts of a dossier."""
    arrets = sorted(dossier.arrets.all(), key=lambda a: (a.date_debut, a.pk))
    if not arrets:
        return None
    head = next((a for a in arrets if a.arret_initial_id is None), arrets[0])
    certificates = list(AttestationSalaire.objects.filter(arret=head).prefetch_related("lignes"))
    salaires = []
    start_month = head.date_debut.year * 12 + head.date_debut.month
    hours = Decimal(0)
    for cert in certificates:
        for line in cert.lignes.all():
            salaires.append({"mois": line.mois, "brut_cts": int(line.brut_cts)})
            if 1 <= start_month - _month_index(line.mois) <= 3:
                hours += line.heures
    return {
        "id": str(dossier.pk),
        "nir": dossier.beneficiaire.nir,
        "risque": dossier.risque,
        "date_debut": head.date_debut.isoformat(),
        "date_fin": max(a.date_fin for a in arrets).isoformat(),
        "salaires": salaires,
        "heures_travaillees_3_mois": float(hours),
        "ald": any(a.ald for a in arrets),
        "prolongation": head.prolongation,
        "date_accouchement": head.date_accouchement.isoformat() if head.date_accouchement else None,
        "enfants_a_charge": head.enfants_a_charge,
        "naissance_multiple": head.naissance_multiple,
    }


def engine_result(dossier: DossierIJ) -> dict[str, Any]:
    """The pure engine's §4 output for the dossier, with the person's other dossiers in the batch."""
    dossiers = DossierIJ.objects.filter(beneficiaire_id=dossier.beneficiaire_id).select_related("beneficiaire")
    records = [r for r in (_record_for(d) for d in dossiers) if r is not None]
    frame = compute_ij(frame_from_records(records))
    for row in frame.iter_rows(named=True):
        if row["id"] == str(dossier.pk):
            return row
    raise ValidationError("Le dossier ne comporte aucun arrêt.")


@dataclass
class _Day:
    arret_id: int
    ij: int
    destinataire: str
    employeur_id: int | None


def _planned_days(dossier: DossierIJ, periods: list[dict[str, Any]]) -> dict[dt.date, _Day]:
    arrets = list(dossier.arrets.all())
    covering: dict[dt.date, int] = {}
    for arret in arrets:
        for day in _days(arret.date_debut, arret.date_fin):
            covering[day] = arret.pk
    windows = []
    for cert in AttestationSalaire.objects.filter(arret__dossier=dossier, subrogation=True).order_by(
        "date_reception", "pk"
    ):
        windows.append((cert.subrogation_debut, cert.subrogation_fin, cert.employeur_id,
                        cert.salaire_maintenu_journalier_cts))
    plan: dict[dt.date, _Day] = {}
    for period in periods:
        ij = int(period["ij_journaliere_cts"])
        for day in _days(period["debut"], period["fin"]):
            if day not in covering:  # a gap between two arrêts of the chain
                continue
            payee, employer = Destinataire.ASSURE.value, None
            for start, end, employer_id, maintained in windows:
                if start <= day <= end and (maintained is None or maintained >= ij):
                    payee, employer = Destinataire.EMPLOYEUR.value, employer_id
                    break
            plan[day] = _Day(covering[day], ij, payee, employer)
    return plan


def _runs(plan: dict[dt.date, _Day]) -> list[tuple[dt.date, dt.date, _Day]]:
    runs: list[tuple[dt.date, dt.date, _Day]] = []
    for day in sorted(plan):
        info = plan[day]
        if runs and runs[-1][1] + ONE_DAY == day and runs[-1][2] == info:
            runs[-1] = (runs[-1][0], day, info)
        else:
            runs.append((day, day, info))
    return runs


@transaction.atomic
def calculer_dossier(dossier: DossierIJ, *, by: Any = None) -> DossierIJ:
    """(Re)compute the IJ of a complete dossier with the pure engine; days already paid stay
    paid (the difference with the new computation is shown as ``ecart_deja_paye_cts``)."""
    if pieces_manquantes(dossier):
        raise ValidationError("Le dossier n'est pas complet : l'IJ ne peut pas être calculée.")
    dossier.date_complet = dossier.date_complet or _date_complet(dossier)
    result = engine_result(dossier)
    periods = [
        {"debut": p["debut"], "fin": p["fin"], "ij_journaliere_cts": p["ij_journaliere_cts"]}
        for p in result["periodes"]
    ]
    plan = _planned_days(dossier, periods) if result["eligible"] else {}
    paid: dict[dt.date, int] = {}
    for period in dossier.periodes.filter(statut=StatutPeriode.PAYEE):
        for day in _days(period.debut, period.fin):
            paid[day] = period.ij_journaliere_cts
    gap = sum(plan[d].ij - amount if d in plan else -amount for d, amount in paid.items())
    todo = {d: info for d, info in plan.items() if d not in paid}
    dossier.periodes.filter(statut=StatutPeriode.CALCULEE).delete()
    PeriodeIJ.objects.bulk_create([
        PeriodeIJ(
            dossier=dossier, arret_id=info.arret_id, beneficiaire_id=dossier.beneficiaire_id, debut=start, fin=end,
            ij_journaliere_cts=info.ij, jours=(end - start).days + 1, montant_cts=((end - start).days + 1) * info.ij,
            destinataire=info.destinataire, employeur_id=info.employeur_id,
        )
        for start, end, info in _runs(todo)
    ])
    dossier.salaire_journalier_base_cts = result["salaire_journalier_base_cts"]
    dossier.jours_carence = result["jours_carence"]
    dossier.motif = result["motif"] or ""
    dossier.ecart_deja_paye_cts = gap
    dossier.calcule_le = timezone.now()
    if paid:
        dossier.statut = StatutDossier.EN_PAIEMENT if todo else StatutDossier.SOLDE
    elif not result["eligible"]:
        dossier.statut = StatutDossier.NON_ELIGIBLE
    else:
        dossier.statut = StatutDossier.CALCULE
    total = sum(info.ij for info in plan.values())
    return save_to_file(
        dossier, by=by, action=AuditAction.TRANSITION, beneficiary=dossier.beneficiaire,
        summary=f"Calcul des IJ : {len(plan)} jour(s) indemnisé(s), {total / 100:.2f} € au total".replace(".", ","),
    )


# --- Payment -----------------------------------------------------------------------------------------


@transaction.atomic
def payer(
    *, jusqu_au: dt.date, date_paiement: dt.date, dossier: DossierIJ | None = None, by: Any = None
) -> list[PaiementIJ]:
    """Pay every computed day up to ``jusqu_au`` (à terme échu), one payment per dossier and payee.

    Idempotent: a day once paid is never paid again; run twice, the second run pays nothing.
    """
    if jusqu_au > date_paiement:
        raise ValidationError({"jusqu_au": "Les IJ se paient à terme échu : pas de jour postérieur à la date de paiement."})
    periods = PeriodeIJ.objects.select_for_update().filter(statut=StatutPeriode.CALCULEE, debut__lte=jusqu_au)
    if dossier is not None:
        periods = periods.filter(dossier=dossier)
    groups: dict[tuple[int, str, int | None], list[PeriodeIJ]] = defaultdict(list)
    for period in periods.order_by("dossier_id", "debut"):
        if period.fin > jusqu_au:
            rest_days = (period.fin - jusqu_au).days
            PeriodeIJ.objects.create(
                dossier_id=period.dossier_id, arret_id=period.arret_id, beneficiaire_id=period.beneficiaire_id,
                debut=jusqu_au + ONE_DAY, fin=period.fin, ij_journaliere_cts=period.ij_journaliere_cts,
                jours=rest_days, montant_cts=rest_days * period.ij_journaliere_cts,
                destinataire=period.destinataire, employeur_id=period.employeur_id,
            )
            period.fin = jusqu_au
            period.jours = (period.fin - period.debut).days + 1
            period.montant_cts = period.jours * period.ij_journaliere_cts
        groups[(period.dossier_id, period.destinataire, period.employeur_id)].append(period)
    payments = []
    for (dossier_id, payee, employer_id), items in groups.items():
        start, end = min(p.debut for p in items), max(p.fin for p in items)
        target = DossierIJ.objects.select_for_update().select_related("beneficiaire").get(pk=dossier_id)
        payment = save_to_file(
            PaiementIJ(
                dossier=target, beneficiaire_id=target.beneficiaire_id, destinataire=payee, employeur_id=employer_id,
                date_paiement=date_paiement, debut=start, fin=end, montant_cts=sum(p.montant_cts for p in items),
                cle=f"ij-{dossier_id}-{payee}-{employer_id or 0}-{start.isoformat()}-{end.isoformat()}",
            ),
            by=by, beneficiary=target.beneficiaire,
            summary=f"Paiement des IJ du {start:%d/%m/%Y} au {end:%d/%m/%Y} ({Destinataire(payee).label})",
        )
        for period in items:
            period.statut = StatutPeriode.PAYEE
            period.paiement = payment
            period.save()
        payments.append(payment)
        if target.date_premier_paiement is None:
            target.date_premier_paiement = date_paiement
            target.destinataire_premier_paiement = payee
        remaining = target.periodes.filter(statut=StatutPeriode.CALCULEE).exists()
        target.statut = StatutDossier.EN_PAIEMENT if remaining else StatutDossier.SOLDE
        save_to_file(target, by=by, action=AuditAction.TRANSITION, beneficiary=target.beneficiaire,
                     summary=f"Dossier {target.get_statut_display().lower()}")
    return payments


# --- Work queue and delays -------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementFile:
    dossier: DossierIJ
    age_jours: int
    pieces: list[str]


def file_attente(*, today: dt.date | None = None, statut: str = StatutDossier.ATTENTE_PIECES) -> list[ElementFile]:
    """Dossiers waiting (for a piece, or complete and waiting for payment), oldest first, with
    their age in calendar days since the first arrêt was received."""
    today = today or dt.date.today()
    dossiers = DossierIJ.objects.filter(statut=statut).select_related("beneficiaire").order_by("date_ouverture", "pk")
    return [
        ElementFile(d, (today - d.date_ouverture).days, [Piece(p).label for p in d.pieces_manquantes])
        for d in dossiers
    ]


@dataclass(frozen=True)
class LigneDelai:
    mois: str
    risque: str
    destinataire: str
    nombre: int
    moyenne_jours: float
    d9_jours: int
    cible_moyenne_jours: int
    cible_d9_jours: int
    delais: list[int] = field(default_factory=list, repr=False)

    @property
    def moyenne_atteinte(self) -> bool:
        return self.moyenne_jours <= self.cible_moyenne_jours

    @property
    def d9_atteint(self) -> bool:
        return self.d9_jours <= self.cible_d9_jours

    @property
    def risque_label(self) -> str:
        return Risque(self.risque).label

    @property
    def destinataire_label(self) -> str:
        return Destinataire(self.destinataire).label


def point_depart(when: dt.date) -> str:
    """``dossier_complet`` or ``debut_arret``: where the first-payment delay starts (parameter)."""
    return str(_param("ij.delais.premier_paiement_point_depart", when))


def cible_moyenne_assure(when: dt.date) -> int:
    """Target mean first-payment delay to the assuré (days), in force on ``when``."""
    return int(_param("ij.delais.premier_paiement_cible_assure", when))


def neuvieme_decile(values: list[int]) -> int:
    """9th decile, nearest-rank method: the smallest value with at least 90 % of values ≤ it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def delais_premier_paiement(debut: dt.date, fin: dt.date) -> list[LigneDelai]:
    """First-IJ payment delay (calendar days) of the dossiers first paid between ``debut`` and
    ``fin``, per month of payment, risk and payee, with the targets in force in that month.

    Start: the date the file became complete, or the first day of the arrêt, as the parameter
    ``ij.delais.premier_paiement_point_depart`` says at the date of payment.
    """
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    dossiers = DossierIJ.objects.filter(date_premier_paiement__range=(debut, fin)).prefetch_related("arrets")
    for d in dossiers:
        paid = d.date_premier_paiement
        assert paid is not None
        origin = point_depart(paid)
        if origin == "debut_arret":
            start = min(a.date_debut for a in d.arrets.all())
        else:
            start = d.date_complet or d.date_ouverture
        groups[(f"{paid:%Y-%m}", d.risque, d.destinataire_premier_paiement)].append((paid - start).days)
    lines = []
    for (month, risk, payee), delays in sorted(groups.items()):
        first_day = dt.date(int(month[:4]), int(month[5:]), 1)
        target = "premier_paiement_cible_employeur" if payee == Destinataire.EMPLOYEUR else "premier_paiement_cible_assure"
        lines.append(LigneDelai(
            mois=month, risque=risk, destinataire=payee, nombre=len(delays),
            moyenne_jours=round(sum(delays) / len(delays), 1), d9_jours=neuvieme_decile(delays),
            cible_moyenne_jours=int(_param(f"ij.delais.{target}", first_day)),
            cible_d9_jours=int(_param("ij.delais.premier_paiement_cible_d9", first_day)), delais=delays,
        ))
    return lines


# --- Documents ------------------------------------------------------------------------------------------


def ij_payees(beneficiaire: Beneficiary, debut: dt.date, fin: dt.date) -> list[PeriodeIJ]:
    """IJ periods of the person *paid* between ``debut`` and ``fin`` (date of payment), whole.

    The attestation of IJ paid serves for income tax: what counts is the day of payment, not the
    days of leave (a December arrêt paid in January belongs to the next year's attestation). A
    period is paid in one payment, so it is listed once, with its payment date and full amount.
    """
    return list(
        PeriodeIJ.objects.filter(
            beneficiaire=beneficiaire, statut=StatutPeriode.PAYEE,
            paiement__date_paiement__gte=debut, paiement__date_paiement__lte=fin,
        )
        .select_related("paiement", "dossier", "employeur")
        .order_by("paiement__date_paiement", "debut", "pk")
    )


# --- Capital décès ---------------------------------------------------------------------------------------


@transaction.atomic
def deposer_capital_deces(
    *,
    defunt: Beneficiary,
    date_demande: dt.date,
    condition_activite: bool,
    ayants_droit: list[dict[str, Any]],
    date_deces: dt.date | None = None,
    by: Any = None,
) -> DemandeCapitalDeces:
    """Record a capital décès claim and the persons who claim it."""
    when = date_deces or defunt.date_deces
    if when is None:
        raise ValidationError({"date_deces": "La date du décès est obligatoire."})
    demande = save_to_file(
        DemandeCapitalDeces(defunt=defunt, date_deces=when, date_demande=date_demande,
                            condition_activite=condition_activite),
        by=by, summary="Demande de capital décès", beneficiary=defunt,
    )
    for person in ayants_droit:
        save_to_file(AyantDroitCapitalDeces(demande=demande, **person), by=by, beneficiary=defunt,
                     summary=f"Ayant droit au capital décès : {person.get('nom', '')}")
    return demande


@transaction.atomic
def decider_capital_deces(demande: DemandeCapitalDeces, *, by: Any = None) -> DemandeCapitalDeces:
    """Decide with the pure rules: request within 2 years, priority rank, equal shares."""
    persons = list(demande.ayants_droit.all())
    if not demande_dans_les_delais(demande.date_deces, demande.date_demande):
        demande.statut, demande.motif = StatutCapitalDeces.REJETEE, "Demande présentée plus de 2 ans après le décès (L332-1 CSS)."
    elif not demande.condition_activite:
        demande.statut = StatutCapitalDeces.REJETEE
        demande.motif = "Le défunt ne remplissait pas les conditions dans les 3 mois précédant le décès (L361-1 CSS)."
    else:
        people = [
            Beneficiaire(id=str(p.pk), lien=p.lien, a_charge=p.a_charge, separe=p.separe,
                         date_demande_priorite=p.date_demande_priorite)
            for p in persons
        ]
        rank, served = beneficiaires_servis(demande.date_deces, people)
        if not served:
            demande.statut, demande.motif = StatutCapitalDeces.REJETEE, "Aucun bénéficiaire possible (L361-4 CSS)."
        else:
            shares = dict(repartition_capital_deces(demande.date_deces, people))
            for p in persons:
                p.part_cts = shares.get(str(p.pk), 0)
                p.save(update_fields=["part_cts"])
            demande.statut, demande.rang_servi = StatutCapitalDeces.ACCORDEE, rank
            demande.montant_cts = sum(shares.values())
            demande.motif = (
                f"Capital versé aux bénéficiaires {'prioritaires' if rank == 'prioritaires' else 'non prioritaires'}"
                f" ({len(served)} personne(s), parts égales ; L361-4 CSS)."
            )
    if demande.statut == StatutCapitalDeces.REJETEE:
        for p in persons:
            if p.part_cts:
                p.part_cts = 0
                p.save(update_fields=["part_cts"])
        demande.montant_cts, demande.rang_servi = 0, ""
    record(by=by, action=AuditAction.TRANSITION, summary=f"Capital décès : {demande.get_statut_display().lower()}",
           beneficiary=demande.defunt, obj=demande)
    demande.save()
    return demande
