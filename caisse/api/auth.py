"""API authentication: a bearer token (professionals' software) or the signed-in session."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse

from caisse.accounts.models import ApiToken, User
from caisse.rights.services import Prepared, PreparedQuery, run_together

# The user of a valid token, in one query compiled once (the hot path of every call).
_TOKEN_USER = PreparedQuery(User, lambda digest: User.objects.filter(
    api_tokens__digest=digest, api_tokens__revoked_at__isnull=True).order_by("pk")[:1], digest="\x00jeton")


def problem(status: int, title: str, detail: str = "") -> JsonResponse:
    """An RFC 9457 problem document, in French."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return JsonResponse(body, status=status, content_type="application/problem+json",
                        json_dumps_params={"ensure_ascii": False})


def api_user(request: HttpRequest) -> Any:
    return api_user_with(request)[0]


def api_user_with(request: HttpRequest, *calls: tuple[Prepared, dict[str, Any]]) -> tuple[Any, list[list[Any]]]:
    """The caller (``None`` if not authenticated) and the rows of ``calls`` (read-only prepared
    queries), sent in the same round trip as the token lookup on PostgreSQL: a view that needs a
    row whatever the caller reads it without a round trip of its own, and shows it only once the
    caller is known and allowed."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        found = run_together([(_TOKEN_USER, {"digest": ApiToken.hash(header.removeprefix("Bearer ").strip())}),
                              *calls])
        user = next(iter(found[0]), None)
        return (user if user is not None and user.is_active else None), found[1:]
    user = getattr(request, "user", None)
    return (user if user is not None and user.is_authenticated else None), (run_together(calls) if calls else [])


def unauthenticated() -> JsonResponse:
    response = problem(401, "Authentification requise",
                       "Fournissez un jeton : en-tête « Authorization: Bearer <jeton> ».")
    response["WWW-Authenticate"] = 'Bearer realm="caisse"'
    return response


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        user = api_user(request)
        if user is None:
            return unauthenticated()
        request.api_user = user  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
