"""API authentication: a bearer token (professionals' software) or the signed-in session."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from caisse.accounts.models import ApiToken, User
from caisse.rights.services import Prepared, PreparedQuery, run_together

# The user of a valid token, in one query compiled once (the hot path of every call).
_TOKEN_USER = PreparedQuery(User, lambda digest: User.objects.filter(
    api_tokens__digest=digest, api_tokens__revoked_at__isnull=True).order_by("pk")[:1], digest="\x00jeton")


def problem(status: int, title: str, detail: str = "", **extra: Any) -> JsonResponse:
    """An RFC 9457 problem document, in French (``extra``: extension members)."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JsonResponse(body, status=status, content_type="application/problem+json",
                        json_dumps_params={"ensure_ascii": False})


logger = logging.getLogger(__name__)


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer <jeton>`` header (the scheme in any case, RFC 9110),
    ``None`` without one."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def api_user(request: HttpRequest) -> Any:
    return api_user_with(request)[0]


def api_user_with(request: HttpRequest, *calls: tuple[Prepared, dict[str, Any]]) -> tuple[Any, list[list[Any]]]:
    """The caller (``None`` if not authenticated) and the rows of ``calls`` (read-only prepared
    queries), sent in the same round trip as the token lookup on PostgreSQL: a view that needs a
    row whatever the caller reads it without a round trip of its own, and shows it only once the
    caller is known and allowed."""
    token = bearer_token(request)
    if token is not None:
        found = run_together([(_TOKEN_USER, {"digest": ApiToken.hash(token)}), *calls])
        user = next(iter(found[0]), None)
        return (user if user is not None and user.is_active else None), found[1:]
    user = getattr(request, "user", None)
    return (user if user is not None and user.is_authenticated else None), (run_together(calls) if calls else [])


def unauthenticated(request: HttpRequest | None = None) -> JsonResponse:
    """401: no token (or another scheme), or a token that is unknown, revoked or of a disabled
    account (RFC 6750 ``invalid_token``)."""
    if request is not None and bearer_token(request) is not None:
        response = problem(401, "Jeton invalide", "Ce jeton est inconnu, révoqué ou celui d'un compte désactivé.")
        response["WWW-Authenticate"] = 'Bearer realm="caisse", error="invalid_token"'
        return response
    response = problem(401, "Authentification requise",
                       "Fournissez un jeton : en-tête « Authorization: Bearer <jeton> ».")
    response["WWW-Authenticate"] = 'Bearer realm="caisse"'
    return response


def endpoint(*methods: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An API view: the other methods get a 405 problem (with ``Allow``), not Django's empty page
    or its CSRF page (the API authenticates by token; nothing is written from a browser form), and
    an unexpected error a French 500 problem, never a traceback page."""
    allowed = {m.upper() for m in methods} | ({"HEAD"} if "GET" in {m.upper() for m in methods} else set())

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method not in allowed:
                response = problem(405, "Méthode non autorisée",
                                   f"« {request.method} » : cette adresse accepte {', '.join(sorted(allowed))}.")
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                return view(request, *args, **kwargs)
            except Exception:
                logger.exception("Erreur interne de l'API (%s %s)", request.method, request.path)
                return problem(500, "Erreur interne", "La demande n'a pas pu être traitée ; elle est journalisée.")

        return csrf_exempt(wrapper)

    return decorate


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return problem(404, "Adresse inconnue", f"« {request.path} » : voir /api/openapi.json.")


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        user = api_user(request)
        if user is None:
            return unauthenticated(request)
        request.api_user = user  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
