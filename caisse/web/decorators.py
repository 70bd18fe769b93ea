"""View guards: sign-in first (redirect), then the role's capability (403 otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from caisse.accounts.models import Role
from caisse.accounts.perms import Capability, has, is_agent

View = Callable[..., HttpResponse]


def _de(words: str) -> str:
    return f"d'{words}" if words[:1] in "aeéiou" else f"de {words}"


def agent_required(*capabilities: Capability) -> Callable[[View], View]:
    """Back-office pages: an agent holding every capability listed."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not is_agent(request.user):
                raise PermissionDenied("Cette page est réservée aux agents de la caisse.")
            for capability in capabilities:
                if not has(request.user, capability):
                    raise PermissionDenied(f"Votre rôle ne permet pas {_de(capability)}.")
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def member_required(view: View) -> View:
    """Online space pages: an assuré with their own file."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if user.role != Role.ASSURE or user.beneficiary_id is None:
            raise PermissionDenied("Cet espace est réservé aux assurés.")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def professional_required(view: View) -> View:
    """The health professional's online space: a professional account tied to its professional."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if user.role != Role.PROFESSIONNEL or user.professional_id is None:
            raise PermissionDenied("Cet espace est réservé aux professionnels de santé.")
        return view(request, *args, **kwargs)

    return login_required(wrapped)
