"""API authentication: a bearer token (professionals' software) or the signed-in session."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse

from caisse.accounts.models import ApiToken, User
from caisse.rights.services import PreparedQuery

# Two small queries compiled once: the token's digest, then its user (the hot path of every call).
_TOKEN = PreparedQuery(ApiToken, lambda digest: ApiToken.objects.filter(digest=digest, revoked_at__isnull=True)
                       .order_by("pk")[:1], digest="\x00jeton")
_USER = PreparedQuery(User, lambda pk: User.objects.filter(pk=pk), pk=-7_340_021)


def problem(status: int, title: str, detail: str = "") -> JsonResponse:
    """An RFC 9457 problem document, in French."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return JsonResponse(body, status=status, content_type="application/problem+json",
                        json_dumps_params={"ensure_ascii": False})


def api_user(request: HttpRequest) -> Any:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = _TOKEN.first(digest=ApiToken.hash(header.removeprefix("Bearer ").strip()))
        user = _USER.first(pk=token.user_id) if token is not None else None
        return user if user is not None and user.is_active else None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        user = api_user(request)
        if user is None:
            response = problem(401, "Authentification requise",
                               "Fournissez un jeton : en-tête « Authorization: Bearer <jeton> ».")
            response["WWW-Authenticate"] = 'Bearer realm="caisse"'
            return response
        request.api_user = user  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
