"""Every change to a person's rights goes through one of these functions.

Each function is one transaction: it validates (French messages), saves through
``core.audit.save_to_file`` (who did what, when) and returns what it created or changed.
Legal durations and thresholds come from the dated parameters, read at the date of the event.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction

from caisse.beneficiaries.models import Beneficiary, ParentLink
from caisse.core.audit import save_to_file
from caisse.core.models import AuditAction
from caisse.professionals.models import HealthProfessional, Profession
from caisse.rights.models import (
    ALDKind,
    ALDPeriod,
    AMEAttribution,
    AMEStatus,
    C2SAttribution,
    C2SParticipationDue,
    C2SStatus,
    CardStatus,
    CarteVitale,
    ClosingReason,
    ControlReason,
    ControlStatus,
    InvalidityPeriod,
    MaternityPeriod,
    MedecinTraitantDeclaration,
    OpeningReason,
    OppositionReason,
    ProtocolStatus,
    ResidenceControl,
    RightsPeriod,
)
from caisse.rules.parameters import load_parameters

M = TypeVar("M", bound=models.Model)


def _param(name: str, when: dt.date) -> Any:
    return load_parameters().value(name, when)


def _touch(beneficiary: Beneficiary, when: dt.date) -> None:
    """A change to the file counts as an update for the residence controls."""
    if beneficiary.derniere_mise_a_jour < when:
        Beneficiary.objects.filter(pk=beneficiary.pk).update(derniere_mise_a_jour=when)
        beneficiary.derniere_mise_a_jour = when


# --- Identity --------------------------------------------------------------------------------


@transaction.atomic
def register_beneficiary(*, by: Any, **fields: Any) -> Beneficiary:
    beneficiary = Beneficiary(**fields)
    return save_to_file(beneficiary, by=by, summary="Immatriculation du bénéficiaire", beneficiary=beneficiary)


@transaction.atomic
def update_identity(beneficiary: Beneficiary, *, by: Any, when: dt.date | None = None, **fields: Any) -> Beneficiary:
    for name, value in fields.items():
        setattr(beneficiary, name, value)
    beneficiary.derniere_mise_a_jour = max(beneficiary.derniere_mise_a_jour, when or dt.date.today())
    return save_to_file(beneficiary, by=by, summary="Mise à jour de l'identité ou des coordonnées",
                        beneficiary=beneficiary)


@transaction.atomic
def attach_child(child: Beneficiary, parent: Beneficiary, *, debut: dt.date, by: Any) -> ParentLink:
    link = ParentLink(child=child, parent=parent, debut=debut)
    save_to_file(link, by=by, summary=f"Rattachement de l'enfant à {parent.prenom} {parent.nom_affiche}",
                 beneficiary=child)
    return link


@transaction.atomic
def declare_death(beneficiary: Beneficiary, *, date_deces: dt.date, by: Any) -> Beneficiary:
    """Death closes the base rights, the C2S, the médecin traitant and puts the cards in opposition."""
    if beneficiary.date_deces is not None:
        raise ValidationError("Le décès de cette personne est déjà enregistré.")
    beneficiary.date_deces = date_deces
    save_to_file(beneficiary, by=by, summary=f"Décès enregistré au {date_deces:%d/%m/%Y}", beneficiary=beneficiary)
    for period in beneficiary.rights_periods.filter(models.Q(fin__isnull=True) | models.Q(fin__gt=date_deces)):
        close_rights(period, fin=date_deces, motif=ClosingReason.DECES, by=by)
    for attribution in beneficiary.c2s_attributions.exclude(statut=C2SStatus.FERMEE):
        attribution.statut = C2SStatus.FERMEE
        attribution.fin = max(attribution.debut, min(attribution.fin, date_deces))
        save_to_file(attribution, by=by, summary="C2S fermée (décès)", beneficiary=beneficiary)
    for declaration in beneficiary.medecin_traitant_declarations.filter(fin__isnull=True):
        declaration.fin = max(declaration.debut, date_deces)
        save_to_file(declaration, by=by, summary="Fin de la déclaration de médecin traitant (décès)",
                     beneficiary=beneficiary)
    for card in beneficiary.cartes_vitale.filter(statut__in=[CardStatus.ACTIVE, CardStatus.COMMANDEE,
                                                             CardStatus.EN_PRODUCTION]):
        oppose_card(card, motif=OppositionReason.DECES, when=date_deces, by=by, replace=False)
    return beneficiary


# --- Base rights (PUMa) -------------------------------------------------------------------------


@transaction.atomic
def open_rights(beneficiary: Beneficiary, *, debut: dt.date, motif: str, by: Any) -> RightsPeriod:
    if beneficiary.date_deces and debut > beneficiary.date_deces:
        raise ValidationError("Impossible d'ouvrir des droits après le décès.")
    period = RightsPeriod(beneficiary=beneficiary, debut=debut, motif_ouverture=motif)
    save_to_file(period, by=by, summary=f"Ouverture des droits au {debut:%d/%m/%Y} ({OpeningReason(motif).label})",
                 beneficiary=beneficiary)
    _touch(beneficiary, dt.date.today())
    return period


@transaction.atomic
def close_rights(period: RightsPeriod, *, fin: dt.date, motif: str, by: Any) -> RightsPeriod:
    if fin < period.debut:
        raise ValidationError("La date de fermeture précède l'ouverture des droits.")
    period.fin = fin
    period.motif_fermeture = motif
    return save_to_file(period, by=by, summary=f"Fermeture des droits au {fin:%d/%m/%Y} ({ClosingReason(motif).label})",
                        beneficiary=period.beneficiary, action=AuditAction.TRANSITION)


# --- C2S --------------------------------------------------------------------------------------


def c2s_period_for(decision_date: dt.date) -> tuple[dt.date, dt.date]:
    """12 months from the first day of the month following the decision (CSS L861-5)."""
    debut = (decision_date.replace(day=1) + relativedelta(months=1))
    months = int(_param("c2s.duree_droit", decision_date))
    return debut, debut + relativedelta(months=months) - dt.timedelta(days=1)


@transaction.atomic
def grant_c2s(
    beneficiary: Beneficiary, *, debut: dt.date, fin: dt.date, participation_mensuelle_cts: int, by: Any,
    request: Any = None, automatique_rsa: bool = False, today: dt.date | None = None,
) -> C2SAttribution:
    upcoming = debut > (today or dt.date.today()) and beneficiary.c2s_attributions.filter(
        statut__in=[C2SStatus.OUVERTE, C2SStatus.SUSPENDUE]).exists()
    attribution = C2SAttribution(
        beneficiary=beneficiary, request=request, debut=debut, fin=fin,
        statut=C2SStatus.A_VENIR if upcoming else C2SStatus.OUVERTE,
        participation=participation_mensuelle_cts > 0, participation_mensuelle_cts=participation_mensuelle_cts,
        automatique_rsa=automatique_rsa,
    )
    kind = "avec" if attribution.participation else "sans"
    save_to_file(attribution, by=by, summary=f"Attribution de la C2S {kind} participation du {debut:%d/%m/%Y} "
                                             f"au {fin:%d/%m/%Y}", beneficiary=beneficiary)
    if attribution.participation:
        month = debut
        while month <= fin:
            C2SParticipationDue.objects.create(attribution=attribution, mois=month,
                                               montant_cts=participation_mensuelle_cts)
            month += relativedelta(months=1)
    return attribution


@transaction.atomic
def roll_c2s(today: dt.date, *, by: Any = None) -> int:
    """Daily: close the C2S that reached their end, then open the renewals that start."""
    count = 0
    for attribution in C2SAttribution.objects.exclude(statut=C2SStatus.FERMEE).filter(fin__lt=today):
        attribution.statut = C2SStatus.FERMEE
        save_to_file(attribution, by=by, summary="C2S arrivée à échéance", beneficiary=attribution.beneficiary,
                     action=AuditAction.TRANSITION)
        count += 1
    for attribution in C2SAttribution.objects.filter(statut=C2SStatus.A_VENIR, debut__lte=today):
        attribution.statut = C2SStatus.OUVERTE
        save_to_file(attribution, by=by, summary="Renouvellement de la C2S en vigueur",
                     beneficiary=attribution.beneficiary, action=AuditAction.TRANSITION)
        count += 1
    return count


@transaction.atomic
def record_participation_payment(due: C2SParticipationDue, *, paid_on: dt.date, by: Any) -> C2SParticipationDue:
    due.payee_le = paid_on
    save_to_file(due, by=by, summary=f"Participation C2S de {due.mois:%m/%Y} payée",
                 beneficiary=due.attribution.beneficiary)
    attribution = C2SAttribution.objects.select_for_update().get(pk=due.attribution_id)
    if attribution.statut == C2SStatus.SUSPENDUE and not _unpaid_dues(attribution, paid_on).exists():
        attribution.statut = C2SStatus.OUVERTE
        save_to_file(attribution, by=by, summary="C2S rétablie : arriérés de participation réglés",
                     beneficiary=attribution.beneficiary, action=AuditAction.TRANSITION)
    return due


def _unpaid_dues(attribution: C2SAttribution, today: dt.date) -> models.QuerySet[C2SParticipationDue]:
    return attribution.dues.filter(payee_le__isnull=True, mois__lt=today.replace(day=1))


@transaction.atomic
def suspend_c2s_for_unpaid(today: dt.date, *, by: Any = None) -> list[C2SAttribution]:
    """Suspend the C2S with participation whose unpaid months reach the legal count."""
    suspended = []
    for attribution in C2SAttribution.objects.filter(statut=C2SStatus.OUVERTE, participation=True):
        limit = int(_param("droits.c2s.echeances_impayees_avant_suspension", attribution.debut))
        unpaid = _unpaid_dues(attribution, today).count()
        if unpaid >= limit:
            attribution.statut = C2SStatus.SUSPENDUE
            save_to_file(attribution, by=by, summary=f"C2S suspendue : {unpaid} échéances de participation impayées",
                         beneficiary=attribution.beneficiary, action=AuditAction.TRANSITION)
            suspended.append(attribution)
    return suspended


# --- AME ----------------------------------------------------------------------------------------


def ame_period_for(date_demande: dt.date) -> tuple[dt.date, dt.date]:
    years = int(_param("ame.duree_validite", date_demande))
    return date_demande, date_demande + relativedelta(years=years) - dt.timedelta(days=1)


# --- ALD ----------------------------------------------------------------------------------------


@transaction.atomic
def submit_protocol(
    beneficiary: Beneficiary, *, kind: str, affection: str, date_protocole: dt.date, by: Any,
    medecin: HealthProfessional | None = None, numero_liste: int | None = None,
) -> ALDPeriod:
    if kind == ALDKind.LISTE and not numero_liste:
        raise ValidationError("Une ALD de la liste doit indiquer son numéro dans la liste (1 à 30).")
    ald = ALDPeriod(beneficiary=beneficiary, kind=kind, affection=affection, date_protocole=date_protocole,
                    medecin=medecin, numero_liste=numero_liste)
    return save_to_file(ald, by=by, summary="Protocole de soins ALD reçu", beneficiary=beneficiary, medical=True)


@transaction.atomic
def validate_protocol(ald: ALDPeriod, *, debut: dt.date, fin: dt.date | None, by: Any, today: dt.date | None = None) -> ALDPeriod:
    from caisse.accounts.perms import Capability, has

    if not has(by, Capability.VALIDATE_PROTOCOL):
        raise ValidationError("Seul un médecin-conseil peut valider un protocole de soins.")
    if ald.statut_protocole != ProtocolStatus.TRANSMIS:
        raise ValidationError("Ce protocole a déjà été examiné.")
    ald.statut_protocole = ProtocolStatus.VALIDE
    ald.valide_par = by
    ald.valide_le = today or dt.date.today()
    ald.debut, ald.fin = debut, fin
    return save_to_file(ald, by=by, summary="Protocole de soins validé : exonération ALD ouverte",
                        beneficiary=ald.beneficiary, action=AuditAction.TRANSITION, medical=True)


@transaction.atomic
def refuse_protocol(ald: ALDPeriod, *, by: Any, today: dt.date | None = None) -> ALDPeriod:
    from caisse.accounts.perms import Capability, has

    if not has(by, Capability.VALIDATE_PROTOCOL):
        raise ValidationError("Seul un médecin-conseil peut refuser un protocole de soins.")
    if ald.statut_protocole != ProtocolStatus.TRANSMIS:
        raise ValidationError("Ce protocole a déjà été examiné.")
    ald.statut_protocole = ProtocolStatus.REFUSE
    ald.valide_par = by
    ald.valide_le = today or dt.date.today()
    return save_to_file(ald, by=by, summary="Protocole de soins refusé", beneficiary=ald.beneficiary,
                        action=AuditAction.TRANSITION, medical=True)


# --- Médecin traitant, maternity, invalidity ---------------------------------------------------------


@transaction.atomic
def declare_medecin_traitant(
    beneficiary: Beneficiary, *, medecin: HealthProfessional, debut: dt.date, by: Any, canal: str = "teleservice",
) -> MedecinTraitantDeclaration:
    if medecin.profession != Profession.MEDECIN:
        raise ValidationError("Le médecin traitant doit être un médecin.")
    current = beneficiary.medecin_traitant_declarations.filter(fin__isnull=True).first()
    if current is not None:
        if current.medecin_id == medecin.pk:
            raise ValidationError("Ce médecin est déjà le médecin traitant déclaré.")
        if debut <= current.debut:
            raise ValidationError("La nouvelle déclaration doit commencer après la déclaration en cours.")
        current.fin = debut - dt.timedelta(days=1)
        save_to_file(current, by=by, summary="Fin de la déclaration de médecin traitant précédente",
                     beneficiary=beneficiary)
    declaration = MedecinTraitantDeclaration(beneficiary=beneficiary, medecin=medecin, debut=debut, canal=canal)
    save_to_file(declaration, by=by, summary=f"Déclaration de médecin traitant : {medecin}", beneficiary=beneficiary)
    _touch(beneficiary, dt.date.today())
    return declaration


@transaction.atomic
def declare_pregnancy(
    beneficiary: Beneficiary, *, date_debut_grossesse: dt.date, date_accouchement_prevue: dt.date, by: Any,
) -> MaternityPeriod:
    if beneficiary.sexe != "F":
        raise ValidationError("La déclaration de grossesse concerne une assurée.")
    if date_accouchement_prevue <= date_debut_grossesse:
        raise ValidationError("La date présumée d'accouchement doit suivre le début de grossesse.")
    month = int(_param("droits.maternite.debut_exoneration_mois_grossesse", date_debut_grossesse))
    period = MaternityPeriod(
        beneficiary=beneficiary, date_debut_grossesse=date_debut_grossesse,
        debut_6e_mois=date_debut_grossesse + relativedelta(months=month - 1),
        date_accouchement_prevue=date_accouchement_prevue,
    )
    return save_to_file(period, by=by, summary="Déclaration de grossesse", beneficiary=beneficiary)


@transaction.atomic
def record_birth(period: MaternityPeriod, *, date_accouchement: dt.date, by: Any) -> MaternityPeriod:
    period.date_accouchement = date_accouchement
    return save_to_file(period, by=by, summary=f"Accouchement le {date_accouchement:%d/%m/%Y}",
                        beneficiary=period.beneficiary)


@transaction.atomic
def open_invalidity(beneficiary: Beneficiary, *, categorie: int, debut: dt.date, by: Any) -> InvalidityPeriod:
    period = InvalidityPeriod(beneficiary=beneficiary, categorie=categorie, debut=debut)
    return save_to_file(period, by=by, summary=f"Pension d'invalidité de catégorie {categorie}", beneficiary=beneficiary)


# --- Carte Vitale -----------------------------------------------------------------------------------


def _next_card_number(beneficiary: Beneficiary) -> str:
    """The person's file number and the card's rank; a number already taken (a card imported from
    another system may have any number) moves on to the next rank."""
    rank = beneficiary.cartes_vitale.count() + 1
    while CarteVitale.objects.filter(numero=f"{beneficiary.pk:010d}{rank:02d}").exists():
        rank += 1
    return f"{beneficiary.pk:010d}{rank:02d}"


@transaction.atomic
def order_card(beneficiary: Beneficiary, *, canal: str, when: dt.date, by: Any) -> CarteVitale:
    if beneficiary.date_deces:
        raise ValidationError("Impossible de commander une carte pour une personne décédée.")
    card = CarteVitale(beneficiary=beneficiary, numero=_next_card_number(beneficiary), canal=canal, date_commande=when)
    return save_to_file(card, by=by, summary=f"Commande de carte Vitale ({card.get_canal_display()})",
                        beneficiary=beneficiary)


_CARD_TRANSITIONS = {
    "produce": (CardStatus.COMMANDEE, CardStatus.EN_PRODUCTION, "date_production", "Carte Vitale en production"),
    "deliver": (CardStatus.EN_PRODUCTION, CardStatus.ACTIVE, "date_remise", "Carte Vitale remise au titulaire"),
}


@transaction.atomic
def advance_card(card: CarteVitale, *, step: str, when: dt.date, by: Any) -> CarteVitale:
    source, target, date_field, summary = _CARD_TRANSITIONS[step]
    if card.statut != source:
        raise ValidationError(f"Transition impossible : la carte est « {card.get_statut_display()} ».")
    card.statut = target
    setattr(card, date_field, when)
    return save_to_file(card, by=by, summary=summary, beneficiary=card.beneficiary, action=AuditAction.TRANSITION)


@transaction.atomic
def oppose_card(card: CarteVitale, *, motif: str, when: dt.date, by: Any, replace: bool = True) -> CarteVitale | None:
    """Loss, theft or defect: the card goes into opposition and, by default, a new one is ordered."""
    if card.statut in (CardStatus.EN_OPPOSITION, CardStatus.REMPLACEE):
        raise ValidationError("Cette carte est déjà en opposition.")
    card.statut = CardStatus.EN_OPPOSITION
    card.date_opposition = when
    card.motif_opposition = motif
    save_to_file(card, by=by, summary=f"Carte Vitale mise en opposition ({OppositionReason(motif).label})",
                 beneficiary=card.beneficiary, action=AuditAction.TRANSITION)
    if not replace:
        return None
    new_card = order_card(card.beneficiary, canal="en_ligne", when=when, by=by)
    card.remplacee_par = new_card
    save_to_file(card, by=by, summary="Carte de remplacement commandée", beneficiary=card.beneficiary)
    return new_card


# --- Residence controls -------------------------------------------------------------------------------


def residence_control_targets(today: dt.date) -> dict[str, models.QuerySet[Beneficiary]]:
    """People to control: no update for 3 years, or a residence permit expired 6 months ago."""
    years = int(_param("droits.controle_residence.anciennete_sans_mise_a_jour_ans", today))
    months = int(_param("droits.controle_residence.titre_sejour_echu_mois", today))
    with_rights = Beneficiary.objects.alive().filter(
        models.Exists(RightsPeriod.objects.open_on(today).filter(beneficiary=models.OuterRef("pk")))
    ).exclude(models.Exists(ResidenceControl.objects.filter(beneficiary=models.OuterRef("pk"),
                                                            statut=ControlStatus.OUVERT)))
    return {
        ControlReason.SANS_MISE_A_JOUR: with_rights.filter(derniere_mise_a_jour__lte=today - relativedelta(years=years)),
        ControlReason.TITRE_SEJOUR_ECHU: with_rights.filter(titre_sejour_fin__lte=today - relativedelta(months=months)),
    }


@transaction.atomic
def open_residence_controls(today: dt.date, *, by: Any = None) -> list[ResidenceControl]:
    opened = []
    seen: set[int] = set()
    for reason, people in residence_control_targets(today).items():
        for beneficiary in people.order_by("pk"):
            if beneficiary.pk in seen:
                continue
            seen.add(beneficiary.pk)
            control = ResidenceControl(beneficiary=beneficiary, motif=reason, ouvert_le=today)
            save_to_file(control, by=by, summary=f"Contrôle ouvert : {ControlReason(reason).label}",
                         beneficiary=beneficiary)
            opened.append(control)
    return opened


@transaction.atomic
def close_residence_control(
    control: ResidenceControl, *, outcome: str, when: dt.date, by: Any, observations: str = "",
) -> ResidenceControl:
    if control.statut != ControlStatus.OUVERT:
        raise ValidationError("Ce contrôle est déjà clos.")
    if outcome not in (ControlStatus.DROITS_MAINTENUS, ControlStatus.DROITS_FERMES):
        raise ValidationError("Issue du contrôle inconnue.")
    control.statut = outcome
    control.clos_le = when
    control.observations = observations
    save_to_file(control, by=by, summary=f"Contrôle clos : {ControlStatus(outcome).label}",
                 beneficiary=control.beneficiary, action=AuditAction.TRANSITION)
    beneficiary = control.beneficiary
    if outcome == ControlStatus.DROITS_FERMES:
        reason = (ClosingReason.TITRE_SEJOUR if control.motif == ControlReason.TITRE_SEJOUR_ECHU
                  else ClosingReason.CONTROLE_RESIDENCE)
        for period in RightsPeriod.objects.open_on(when).filter(beneficiary=beneficiary):
            close_rights(period, fin=when, motif=reason, by=by)
    else:
        Beneficiary.objects.filter(pk=beneficiary.pk).update(derniere_mise_a_jour=when)
    return control


# --- Rights on a day (attestation, real-time lookup) -----------------------------------------------------


@dataclass
class RightsOnDay:
    beneficiary: Beneficiary
    when: dt.date
    droits_de_base: RightsPeriod | None
    c2s: C2SAttribution | None
    ame: AMEAttribution | None
    exoneration_ald: bool
    ald_periods: list[ALDPeriod] = field(default_factory=list)
    maternite: MaternityPeriod | None = None
    invalidite: InvalidityPeriod | None = None
    medecin_traitant: MedecinTraitantDeclaration | None = None
    enfants: list[Beneficiary] = field(default_factory=list)
    carte: CarteVitale | None = None

    @property
    def couvert(self) -> bool:
        return self.droits_de_base is not None or self.ame is not None


@dataclass
class _Compiled:
    sql: str
    slots: list[tuple[str | None, Any]]  # (sentinel name, or None and the constant parameter)
    attnames: list[str]  # the model's columns in the SELECT, in order
    converters: list[tuple[int, list[Any], Any]]  # the backend's converters, by column position
    pieces: list[str] = field(default_factory=list)  # the SQL split at its placeholders (lists only)
    lists: frozenset[str] = frozenset()  # sentinels that are ``IN`` lists


_PLACEHOLDER = re.compile(r"(%%|%s)")


def _compile_query(query: models.QuerySet[Any], sentinels: dict[str, Any], alias: str,
                   model_columns: bool) -> _Compiled:
    """Compile once with the sentinels and note where each lands among the parameters. A sentinel
    given as a one-item list is an ``IN`` list: its one placeholder becomes as many as the values."""
    compiler = query.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    lists = frozenset(name for name, sentinel in sentinels.items() if isinstance(sentinel, list))
    singles = {name: sentinel[0] if name in lists else sentinel for name, sentinel in sentinels.items()}
    slots: list[tuple[str | None, Any]] = []
    for param in params:
        slot = next((name for name, sentinel in singles.items() if _same(param, sentinel)), None)
        slots.append((slot, type(param) if slot is not None else param))
    if lists and sum(1 for name, _ in slots if name in lists) != len(lists):
        raise ValueError("une liste sentinelle doit apparaître une fois dans la requête")
    if model_columns:  # model instances: the model's own columns, then ``from_db``
        first, last = compiler.klass_info["select_fields"][0], compiler.klass_info["select_fields"][-1]
        columns = [column for column, _, _ in compiler.select[first:last + 1]]
        attnames, offset = [column.target.attname for column in columns], first
    else:  # plain rows, as ``values_list`` gives them
        columns = [s[0] for s in compiler.select[:compiler.col_count]]
        attnames, offset = [], 0
    converters = compiler.get_converters(columns)
    return _Compiled(sql, slots, attnames,
                     [(offset + pos, funcs, expr) for pos, (funcs, expr) in sorted(converters.items())],
                     _PLACEHOLDER.split(sql) if lists else [], lists)


def _statement(compiled: _Compiled, values: dict[str, Any]) -> tuple[str, list[Any]]:
    """The compiled SQL and its parameters for these values (``IN`` lists spread out)."""
    if not compiled.lists:
        return compiled.sql, [value if name is None else _as(values[name], value) for name, value in compiled.slots]
    params: list[Any] = []
    parts: list[str] = []
    slots = iter(compiled.slots)
    for piece in compiled.pieces:
        if piece != "%s":
            parts.append(piece)
            continue
        name, value = next(slots)
        if name in compiled.lists:
            items = [_as(v, value) for v in values[name]]
            if not items:  # ``IN ()`` is no SQL: a list that matches nothing
                items = [None]
            parts.append(", ".join(["%s"] * len(items)))
            params.extend(items)
        else:
            parts.append(piece)
            params.append(value if name is None else _as(values[name], value))
    return "".join(parts), params


def _converted(compiled: _Compiled, rows: list[tuple[Any, ...]], alias: str) -> list[Any]:
    if not compiled.converters:
        return rows
    connection = connections[alias]
    out: list[Any] = []
    for row in rows:
        items = list(row)
        for pos, funcs, expr in compiled.converters:
            for func in funcs:
                items[pos] = func(items[pos], expr, connection)
        out.append(tuple(items))
    return out


class _Prepared:
    """An ORM query compiled once per database alias (see :class:`PreparedQuery`)."""

    model_columns = True

    def __init__(self, model: type[models.Model], build: Callable[..., models.QuerySet[Any]], **sentinels: Any) -> None:
        self.model, self.build, self.sentinels = model, build, sentinels
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = _compile_query(
                self.build(**self.sentinels), self.sentinels, alias, model_columns=self.model_columns
            )
        return compiled

    def _sql(self, compiled: _Compiled, values: dict[str, Any]) -> tuple[str, list[Any]]:
        return _statement(compiled, values)


class PreparedQuery(_Prepared, Generic[M]):
    """An ORM query compiled once per database, then run with new values (no per-call compilation).

    ``build`` receives the sentinels given here and returns the query set; its SQL is compiled
    on first use and each later call only replaces the sentinels' parameters by the values it is
    given. Rows become model instances as the ORM makes them (``from_db``, after the backend's
    converters), so the query keeps the ORM's semantics (filters, default ordering) exactly.
    :func:`run_together` sends several in one round trip. Used by the real-time paths, where
    compiling a dozen queries cost more than running them.
    """

    model: type[M]

    def __init__(self, model: type[M], build: Callable[..., models.QuerySet[M]], **sentinels: Any) -> None:
        super().__init__(model, build, **sentinels)

    def _result(self, compiled: _Compiled, rows: list[tuple[Any, ...]], alias: str) -> list[M]:
        width = len(compiled.attnames)
        return [self.model.from_db(alias, compiled.attnames, row[:width]) for row in _converted(compiled, rows, alias)]

    def run(self, **values: Any) -> list[M]:
        return run_together([(self, values)])[0]

    def first(self, **values: Any) -> M | None:
        rows = self.run(**values)
        return rows[0] if rows else None


class PreparedRows(_Prepared):
    """A ``values_list`` query compiled once, like :class:`PreparedQuery`: rows come back as the
    ORM gives them (tuples, after the backend's converters). A sentinel given as a
    one-item list stands for an ``IN`` list of any length (``beneficiary_id__in=[_PK]``)."""

    model_columns = False

    def _result(self, compiled: _Compiled, rows: list[tuple[Any, ...]], alias: str) -> list[Any]:
        return _converted(compiled, rows, alias)

    def run(self, **values: Any) -> list[Any]:
        return run_together([(self, values)])[0]


class RawRows:
    """A plain SQL statement (``statement(**values)`` gives the SQL and its parameters) that can
    travel in :func:`run_together` with the prepared queries; its rows come back untouched."""

    def __init__(self, model: type[models.Model], statement: Callable[..., tuple[str, list[Any]]]) -> None:
        self.model, self.statement = model, statement

    def _compile(self, alias: str) -> None:
        return None

    def _sql(self, compiled: None, values: dict[str, Any]) -> tuple[str, list[Any]]:
        return self.statement(**values)

    def _result(self, compiled: None, rows: list[tuple[Any, ...]], alias: str) -> list[tuple[Any, ...]]:
        return rows


class PreparedInsert:
    """``model(**values).save()`` of a new row as one ``INSERT`` compiled once per database: the
    fields named in ``values`` get their value (through the field's ``get_db_prep_save``, as the
    ORM saves it), the others the value of ``template`` (defaults included, ``auto_now_add``
    fields must be given). It can lead a :func:`run_together` round trip, whose statements then
    commit or fail together on PostgreSQL (the real-time API records a read with the read)."""

    def __init__(self, model: type[models.Model], template: Callable[[], models.Model]) -> None:
        self.model, self.template = model, template
        self._compiled: dict[str, tuple[str, list[Any], dict[str, tuple[int, Any]], Any]] = {}

    def _compile(self, alias: str) -> tuple[str, list[Any], dict[str, tuple[int, Any]], Any]:
        compiled = self._compiled.get(alias)
        if compiled is None:
            from django.db.models.sql import InsertQuery

            meta = self.model._meta
            fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
            query = InsertQuery(self.model)
            query.insert_values(fields, [self.template()])
            (sql, params), = query.get_compiler(using=alias).as_sql()
            if len(params) != len(fields):
                raise ValueError("un paramètre par champ était attendu")
            compiled = self._compiled[alias] = (sql, list(params), {f.attname: (pos, f) for pos, f in enumerate(fields)},
                                                connections[alias])
        return compiled

    def _sql(self, compiled: tuple[str, list[Any], dict[str, tuple[int, Any]], Any],
             values: dict[str, Any]) -> tuple[str, list[Any]]:
        sql, params, fields, connection = compiled
        params = list(params)
        for name, value in values.items():
            pos, field = fields[name]
            params[pos] = field.get_db_prep_save(value, connection)
        return sql, params

    def _result(self, compiled: Any, rows: list[tuple[Any, ...]], alias: str) -> list[tuple[Any, ...]]:
        return rows


Prepared = PreparedQuery[Any] | PreparedRows | RawRows | PreparedInsert


def run_together(calls: Sequence[tuple[Prepared, dict[str, Any]]]) -> list[list[Any]]:
    """Run prepared queries, in one round trip on PostgreSQL (one statement after the other elsewhere).

    On PostgreSQL the statements form one implicit transaction: they read one snapshot, and a
    write among them is committed with them or not at all (an error then reaches the caller, who
    gets no rows). A statement without rows (an ``INSERT``) gives an empty list."""
    alias = router.db_for_write(calls[0][0].model) if any(isinstance(q, PreparedInsert) for q, _ in calls) \
        else router.db_for_read(calls[0][0].model)
    connection = connections[alias]
    compiled = [query._compile(alias) for query, _ in calls]
    statements = [query._sql(c, values)  # type: ignore[arg-type]
                  for (query, values), c in zip(calls, compiled, strict=True)]
    results: list[list[tuple[Any, ...]]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(calls) > 1:  # client-side binding: several statements
            cursor.execute("; ".join(sql for sql, _ in statements), [p for _, ps in statements for p in ps])
            results.append(cursor.fetchall() if cursor.description is not None else [])
            while cursor.nextset():
                results.append(cursor.fetchall() if cursor.description is not None else [])
        else:
            for sql, ps in statements:
                cursor.execute(sql, ps)
                results.append(cursor.fetchall() if cursor.description is not None else [])
    return [query._result(c, rows, alias)  # type: ignore[arg-type]
            for (query, _), c, rows in zip(calls, compiled, results, strict=True)]


def _same(param: Any, sentinel: Any) -> bool:
    """Whether a compiled parameter is this sentinel (a date may arrive adapted to a string)."""
    if isinstance(sentinel, dt.date) and isinstance(param, str):
        return param == sentinel.isoformat()
    return type(param) is type(sentinel) and bool(param == sentinel)


def _as(value: Any, kind: Any) -> Any:
    return value.isoformat() if kind is str and isinstance(value, dt.date) else value


_PK, _DAY = -7_340_021, dt.date(1111, 11, 11)  # sentinels: no real row or day has them


def _periods(
    model: type[M], *, first: bool = True, exclude: dict[str, Any] | None = None, **filters: Any
) -> PreparedQuery[M]:
    """The person's rows of ``model`` open on the day (default ordering; the first one if ``first``)."""
    def build(pk: int, when: dt.date) -> models.QuerySet[M]:
        qs = model._default_manager.filter(beneficiary_id=pk, **filters).exclude(**(exclude or {})).open_on(when)  # type: ignore[attr-defined]
        return qs[:1] if first else qs  # type: ignore[no-any-return]
    return PreparedQuery(model, build, pk=_PK, when=_DAY)


def _medecin_traitant(pk: int, when: dt.date) -> models.QuerySet[HealthProfessional]:
    declaration = MedecinTraitantDeclaration.objects.filter(beneficiary_id=pk).open_on(when)[:1]
    return HealthProfessional.objects.filter(pk__in=models.Subquery(declaration.values("medecin_id")))


_BASE = _periods(RightsPeriod)
# A C2S closed since (FERMEE: ended, or cut at the death) or a renewal to come (A_VENIR) still
# covers the days of its period, as the claims référentiel reads it; a suspended one does not.
_C2S = _periods(C2SAttribution, exclude={"statut": C2SStatus.SUSPENDUE})
_AME = _periods(AMEAttribution, statut=AMEStatus.ACCORDEE)
_ALD = _periods(ALDPeriod, first=False)
_INVALIDITY = _periods(InvalidityPeriod)
_DECLARATION = _periods(MedecinTraitantDeclaration)
_MEDECIN = PreparedQuery(HealthProfessional, _medecin_traitant, pk=_PK, when=_DAY)
_MATERNITY = PreparedQuery(MaternityPeriod, lambda pk, when: MaternityPeriod.objects.filter(
    beneficiary_id=pk, debut_6e_mois__lte=when), pk=_PK, when=_DAY)
_CARD = PreparedQuery(CarteVitale, lambda pk: CarteVitale.objects.filter(
    beneficiary_id=pk, statut=CardStatus.ACTIVE)[:1], pk=_PK)


def rights_on(beneficiary: Beneficiary, when: dt.date, *, enfants: bool = True,
              first: Sequence[tuple[Prepared, dict[str, Any]]] = ()) -> RightsOnDay:
    """The person's rights on a day: one query per kind of period, compiled once per process and sent
    together (one round trip on PostgreSQL). ``enfants=False`` skips the children attached (the
    API does not show them). ``first``: statements sent ahead in the same round trip (the API's
    audit line: on PostgreSQL the rights are read only if it is written)."""
    alive = beneficiary.date_deces is None or beneficiary.date_deces >= when
    day = {"pk": beneficiary.pk, "when": when}
    kinds = [_BASE, _C2S, _AME, _ALD, _INVALIDITY] if alive else []
    found = run_together([*first] + [(q, day) for q in kinds] + [
        (_MATERNITY, day), (_DECLARATION, day), (_MEDECIN, day), (_CARD, {"pk": beneficiary.pk})])[len(first):]
    base, c2s, ame, ald, invalidity = ([rows[:1] for rows in found[:3]] + [found[3]] + [found[4][:1]]
                                       if alive else ([], [], [], [], []))
    maternities, declaration, medecin, card = found[-4:]
    if not alive:  # after the death: no treating doctor, no valid card, no maternity exemption
        maternities, declaration, medecin, card = [], [], [], []
    days_after = int(_param("droits.maternite.exoneration_apres_accouchement_jours", when))
    maternity = next((m for m in maternities if m.accouchement + dt.timedelta(days=days_after) >= when), None)
    children = [link.child for link in ParentLink.objects.filter(parent=beneficiary, debut__lte=when)
                .filter(models.Q(fin__isnull=True) | models.Q(fin__gte=when)).select_related("child")] if enfants else []
    if declaration and medecin and medecin[0].pk == declaration[0].medecin_id:
        declaration[0].medecin = medecin[0]
    exonerating = [a for a in ald if a.exonerante]
    return RightsOnDay(
        beneficiary=beneficiary, when=when, droits_de_base=next(iter(base), None), c2s=next(iter(c2s), None),
        ame=next(iter(ame), None), exoneration_ald=bool(exonerating), ald_periods=exonerating, maternite=maternity,
        invalidite=next(iter(invalidity), None),
        medecin_traitant=next(iter(declaration), None),
        enfants=children,
        carte=next(iter(card), None),
    )
