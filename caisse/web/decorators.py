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


def _online_space(role: str, link: str, refusal: str) -> Callable[[View], View]:
    """An online space's guard: signed in first, then an account of ``role`` tied to its
    record (the ``link`` attribute set); 403 with ``refusal`` otherwise."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            if user.role != role or getattr(user, link) is None:
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


member_required = _online_space(Role.ASSURE, "beneficiary_id", "Cet espace est réservé aux assurés.")
"""Online space pages: an assuré with their own file."""

professional_required = _online_space(
    Role.PROFESSIONNEL, "professional_id", "Cet espace est réservé aux professionnels de santé."
)
"""The health professional's online space: a professional account tied to its professional."""
