"""Pages and documents with personal data are never kept in a browser's or a proxy's cache.

On a computer shared in a practice, a reception desk or a family, the next person must not find a
member's file, a statement or an attestation in the cache or behind the « Précédent » button after
sign-out. Every response to a signed-in person (or to an API call with a token) therefore gets
``Cache-Control: no-store`` (with Django's other never-cache directives) and ``Pragma: no-cache``
for HTTP/1.0 caches. Static files (CSS, script) stay cacheable: WhiteNoise serves them before this
middleware, and a static path that reaches it is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def _personal(request: HttpRequest) -> bool:
    if request.headers.get("Authorization"):  # an API call with a token: its user is not request.user
        return True
    user: Any = getattr(request, "user", None)
    return bool(getattr(user, "is_authenticated", False))


class NoStoreForSignedInMiddleware:
    """``Cache-Control: no-store`` on every response to a signed-in person; after
    ``AuthenticationMiddleware`` (it reads ``request.user``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_url = settings.STATIC_URL or "/static/"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Read before the view: a sign-out leaves an anonymous user on a response that may still
        # carry the signed-in page (and a sign-in, an authenticated one after the view).
        before = _personal(request)
        response = self.get_response(request)
        if request.path.startswith(self.static_url):
            return response
        if before or _personal(request):
            add_never_cache_headers(response)  # max-age=0, no-cache, no-store, must-revalidate, private
            response.headers["Pragma"] = "no-cache"
        return response
