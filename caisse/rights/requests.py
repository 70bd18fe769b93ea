"""C2S and AME requests: the pure engines decide, these services record and grant.

The decision itself (reference window of resources, dated ceilings by household size,
participation by age band, RSA, AME conditions) is computed by ``caisse.rules.c2s``, the same
code as the batch command ``caisse c2s``; here we keep the request, its decision and its motif
in the person's file and open the attributions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from caisse.beneficiaries.models import Beneficiary
from caisse.core.audit import save_to_file
from caisse.rights import services
from caisse.rights.models import AMEAttribution, AMEStatus, C2SAttribution, C2SDecision, C2SRequest, C2SStatus
from caisse.rules.c2s.ame import decide_ame
from caisse.rules.c2s.engine import decide_c2s
from caisse.rules.c2s.models import AMERequest, Member, MonthlyResource
from caisse.rules.c2s.models import C2SRequest as PureC2SRequest
from caisse.rules.parameters import load_parameters


@dataclass(frozen=True)
class HouseholdMember:
    """A person of the household; ``beneficiary`` when the caisse covers them (they get the C2S)."""

    date_naissance: dt.date
    role: str
    beneficiary: Beneficiary | None = None


def _resources(ressources: list[dict[str, Any]]) -> tuple[MonthlyResource, ...]:
    try:
        return tuple(MonthlyResource(str(r["mois"]), int(r["montant_cts"])) for r in ressources)
    except (KeyError, TypeError, ValueError):
        raise ValidationError("Chaque ressource indique un mois (AAAA-MM) et un montant en centimes.") from None


@transaction.atomic
def submit_c2s_request(
    demandeur: Beneficiary, *, date_demande: dt.date, membres: list[HouseholdMember],
    ressources: list[dict[str, Any]], by: Any, zone: str = "metropole", logement: str = "locataire",
    rsa: bool = False, renouvellement: bool = False, decided_on: dt.date | None = None,
) -> C2SRequest:
    """Record a C2S request, decide it, and grant the C2S to each covered member if eligible."""
    if not membres or membres[0].role != "demandeur":
        raise ValidationError("Le premier membre du foyer est le demandeur.")
    pure = PureC2SRequest(
        id=None, date_demande=date_demande, zone=zone, logement=logement, rsa=rsa,
        membres=tuple(Member(m.date_naissance, m.role) for m in membres), ressources=_resources(ressources),
    )
    decision = decide_c2s(pure, load_parameters())
    request = C2SRequest(
        demandeur=demandeur, date_demande=date_demande, zone=zone, logement=logement, rsa=rsa,
        membres=[{"date_naissance": m.date_naissance.isoformat(), "role": m.role,
                  "nir": m.beneficiary.nir if m.beneficiary else None} for m in membres],
        ressources=ressources, renouvellement=renouvellement, decision=decision.decision,
        plafond_cts=decision.plafond_cts, ressources_retenues_cts=decision.ressources_retenues_cts,
        participation_mensuelle_cts=decision.participation_mensuelle_cts, motif=decision.motif,
        decided_at=timezone.now(),
    )
    save_to_file(request, by=by, summary=f"Demande de C2S : {C2SDecision(decision.decision).label}",
                 beneficiary=demandeur)
    if decision.decision == C2SDecision.REFUS:
        return request
    today = decided_on or dt.date.today()
    debut, fin = services.c2s_period_for(today)
    for member, amount in zip(membres, decision.participations, strict=True):
        if member.beneficiary is None:
            continue
        start = debut
        current = member.beneficiary.c2s_attributions.exclude(statut=C2SStatus.FERMEE).order_by("-fin").first()
        if current is not None and current.fin >= start:
            if not renouvellement:
                raise ValidationError(
                    f"{member.beneficiary} a déjà une C2S jusqu'au {current.fin:%d/%m/%Y} : faites un renouvellement."
                )
            start = current.fin + dt.timedelta(days=1)
            fin = services.c2s_period_for(start - dt.timedelta(days=1))[1]
        services.grant_c2s(member.beneficiary, debut=start, fin=fin, participation_mensuelle_cts=amount, by=by,
                           request=request, automatique_rsa=rsa, today=today)
    return request


def renewal_due(attribution: C2SAttribution, today: dt.date) -> bool:
    """The renewal is proposed a few months before the end (UNCONFIRMED delay, a parameter)."""
    months = int(load_parameters().value("droits.c2s.renouvellement_avance_mois", today))
    from dateutil.relativedelta import relativedelta

    return attribution.statut == C2SStatus.OUVERTE and attribution.fin - relativedelta(months=months) <= today


@transaction.atomic
def submit_ame_request(
    beneficiary: Beneficiary, *, date_demande: dt.date, membres: list[HouseholdMember],
    ressources: list[dict[str, Any]], by: Any, residence_depuis: dt.date | None, depot_en_personne: bool,
    zone: str = "metropole", logement: str = "locataire",
) -> AMEAttribution:
    """Record and decide an AME request (CASF L251-1, L252-3); first request made in person."""
    previous = beneficiary.ame_attributions.filter(statut__in=[AMEStatus.ACCORDEE, AMEStatus.EXPIREE]).order_by("-fin")
    renewal = previous.exists()
    params = load_parameters()
    pure = AMERequest(
        date_demande=date_demande, zone=zone, logement=logement, date_debut_residence=residence_depuis,
        membres=tuple(Member(m.date_naissance, m.role) for m in membres), ressources=_resources(ressources),
    )
    decision = decide_ame(pure, params)
    ame = AMEAttribution(
        beneficiary=beneficiary, date_demande=date_demande, depot_en_personne=depot_en_personne,
        residence_depuis=residence_depuis, ressources_annuelles_cts=decision.ressources_retenues_cts,
        taille_foyer=len(membres), renouvellement=renewal, motif=decision.motif,
    )
    in_person = bool(params.value("droits.ame.premiere_demande_en_personne", date_demande))
    if not renewal and in_person and not depot_en_personne:  # noqa: SIM114
        ame.statut = AMEStatus.REFUSEE
        ame.motif = "La première demande d'AME doit être déposée en personne à l'accueil de la caisse."
    elif decision.eligible and (decision.membres_eligibles[:1] or (True,))[0]:
        debut, fin = decision.debut, decision.fin
        last = previous.first()
        if last is not None and last.fin and last.fin >= debut:
            debut = last.fin + dt.timedelta(days=1)
            fin = services.ame_period_for(debut)[1]
        ame.statut, ame.debut, ame.fin = AMEStatus.ACCORDEE, debut, fin
    else:
        ame.statut = AMEStatus.REFUSEE
    return save_to_file(ame, by=by, summary=f"Demande d'AME : {ame.get_statut_display().lower()}", beneficiary=beneficiary)
