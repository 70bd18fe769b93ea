"""The professionals' directory, read-only for agents (no personal health data here)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from caisse.professionals.models import HealthProfessional
from caisse.web.decorators import agent_required


@agent_required()
def professional_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    professionals = HealthProfessional.objects.all()
    if q:
        professionals = professionals.filter(Q(nom__istartswith=q) | Q(identifiant__startswith=q.replace(" ", "")))
    page = Paginator(professionals.order_by("nom", "identifiant"), 25).get_page(request.GET.get("page"))
    return render(request, "professionals/list.html", {"page": page, "q": q})


@agent_required()
def professional_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from caisse.claims.views import READERS

    professional = get_object_or_404(HealthProfessional, pk=pk)
    can_see_claims = getattr(request.user, "role", None) in READERS  # the claims pages' own rule
    return render(request, "professionals/detail.html", {"p": professional, "can_see_claims": can_see_claims})
