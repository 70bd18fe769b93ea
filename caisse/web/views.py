"""Home pages: the agent's dashboard (search box and work queues), the member's online space."""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse

from caisse.accounts.models import Role
from caisse.accounts.perms import Capability, has, is_agent
from caisse.beneficiaries.access import get_beneficiary_for, minor_on
from caisse.rights import services
from caisse.rights.models import (
    ALDPeriod,
    CardStatus,
    CarteVitale,
    ControlStatus,
    OppositionReason,
    ProtocolStatus,
    ResidenceControl,
)
from caisse.web.decorators import member_required
from caisse.web.forms import AccessibleForm


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if user.role == Role.ASSURE:
        return redirect("web:member_home")
    if user.role == Role.PROFESSIONNEL and user.professional_id is not None:
        with suppress(NoReverseMatch):
            return redirect(reverse("espace_ps:accueil"))
    if user.role == Role.EMPLOYEUR and user.employer_id is not None:
        with suppress(NoReverseMatch):  # the online spaces are not served in this deployment
            return redirect(reverse("online:employeur"))
    if not is_agent(user):
        return render(request, "web/no_space.html")
    return render(request, "web/agent_home.html", {
        "queues": _queues(user), "can_search": has(user, Capability.SEARCH),
    })


def _queues(user: Any) -> list[dict[str, Any]]:
    """Counts of the work waiting for this role, each with the page that handles it."""
    queues: list[dict[str, Any]] = []
    if has(user, Capability.VALIDATE_PROTOCOL):
        queues.append({
            "label": "Protocoles de soins ALD à examiner",
            "count": ALDPeriod.objects.filter(statut_protocole=ProtocolStatus.TRANSMIS).count(),
            "url": reverse("rights:protocol_queue"),
        })
    from caisse.claims.views import READERS as CLAIMS_TEAM

    if user.role in CLAIMS_TEAM:
        with suppress(NoReverseMatch):  # the health-cost pages are served
            from caisse.claims.capture import captured_pending

            queues.append({
                "label": "Feuilles de soins papier saisies, en attente du traitement quotidien",
                "count": captured_pending().count(), "url": reverse("claims:queue"),
            })
    if has(user, Capability.RESIDENCE_CONTROLS):
        targets = services.residence_control_targets(dt.date.today())
        queues.append({
            "label": "Contrôles de résidence ouverts",
            "count": ResidenceControl.objects.filter(statut=ControlStatus.OUVERT).count(),
            "url": reverse("rights:residence_controls"),
        })
        queues.append({
            "label": "Personnes à contrôler (contrôles non encore ouverts)",
            "count": len({pk for qs in targets.values() for pk in qs.values_list("pk", flat=True)}),
            "url": reverse("rights:residence_controls"),
        })
    if has(user, Capability.MANAGE_CARDS):
        queues.append({
            "label": "Cartes Vitale commandées, à mettre en production",
            "count": CarteVitale.objects.filter(statut=CardStatus.COMMANDEE).count(), "url": "",
        })
        queues.append({
            "label": "Cartes Vitale en production, à remettre",
            "count": CarteVitale.objects.filter(statut=CardStatus.EN_PRODUCTION).count(), "url": "",
        })
    return queues


# --- Online space of the assuré ----------------------------------------------------------------------


@member_required
def member_home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    me = get_beneficiary_for(user, user.beneficiary_id, purpose="espace en ligne de l'assuré")
    today = dt.date.today()
    rights = services.rights_on(me, today)
    # The minor children only: an adult child, even still attached, manages their own file.
    children = [(child, services.rights_on(child, today)) for child in rights.enfants
                if minor_on(child.date_naissance, today)]
    cards = me.cartes_vitale.all()
    return render(request, "web/member_home.html", {
        "me": me, "rights": rights, "children": children, "cards": cards, "today": today,
        # The member declares the card in their hands (a card being made is followed by the caisse).
        "active_statuses": {CardStatus.ACTIVE},
        "online_links": _online_links(),
    })


def _online_links() -> list[tuple[str, str]]:
    """The reimbursements (``caisse.claims.online``), IJ and AT/MP online spaces
    (``caisse.allowances.online``), when served."""
    links = []
    for label, url_name in (("Mes remboursements de soins", "mes_soins:remboursements"),
                            ("Mes indemnités journalières", "online:mes_ij"),
                            ("Mes accidents du travail et maladies professionnelles", "online:mes_atmp")):
        with suppress(NoReverseMatch):
            links.append((label, reverse(url_name)))
    return links


class LostCardForm(AccessibleForm):
    motif = forms.ChoiceField(
        label="Que s'est-il passé ?",
        choices=[(OppositionReason.PERTE, "Je l'ai perdue"), (OppositionReason.VOL, "On me l'a volée"),
                 (OppositionReason.DEFAUT, "Elle ne fonctionne plus")],
        help_text="La carte sera mise en opposition et une nouvelle carte sera commandée.",
    )


@member_required
def member_lost_card(request: HttpRequest, card_pk: int) -> HttpResponse:
    user: Any = request.user
    me = get_beneficiary_for(user, user.beneficiary_id, purpose="déclaration de perte ou de vol de carte Vitale")
    card = get_object_or_404(me.cartes_vitale, pk=card_pk)
    if card.statut != CardStatus.ACTIVE:
        messages.error(request, f"La carte n° {card.numero} n'est pas encore entre vos mains ({card.get_statut_display().lower()}) : "
                                "sa perte ou son vol ne se déclarent pas ici. Contactez votre caisse si vous ne la recevez pas.")
        return redirect("web:member_home")
    form = LostCardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.oppose_card(card, motif=form.cleaned_data["motif"], when=dt.date.today(), by=user)
        except ValidationError as exc:
            form.add_validation_error(exc)
        else:
            messages.success(request, "Votre carte est en opposition ; une nouvelle carte Vitale est commandée.")
            return redirect("web:member_home")
    return render(request, "web/form_page.html", {
        "form": form, "page_title": "Déclarer la perte, le vol ou le dysfonctionnement de ma carte Vitale",
        "intro": f"Carte n° {card.numero}. En attendant la nouvelle carte, téléchargez votre attestation de droits.",
        "submit": "Déclarer et commander une nouvelle carte", "cancel_url": reverse("web:member_home"), "member_space": True,
    })


# --- Error pages ---------------------------------------------------------------------------------------


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if exception and str(exception) else "Vous n'avez pas accès à cette page."
    return render(request, "403.html", {"reason": reason}, status=403)
