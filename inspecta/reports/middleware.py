"""Cached public verification answered ahead of the middleware stack (CONTRACT §6):
a repeated scan costs no work behind the cache.

A verification JSON body that is already cached (``public.verification_body_cached``)
is the same bytes for every caller, and the request is anonymous, side-effect free and
never logged (operations.md, "Call log"). Sessions, CSRF, authentication, OTP, messages,
the history context, lock-out and the call log have nothing to do for it, and on a
cache hit they were most of the request's cost. This middleware sits right after
``SecurityMiddleware`` (HTTPS redirect and security headers still apply) and, on a hit,
answers with exactly the headers the full path gives (tested in
``tests/test_public_cache.py``). A miss, a mistyped code, a rate-limited client or any
other request goes on through the stack unchanged; the rate limit counts each request
once (``public.rate_limited`` remembers its answer on the request).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from inspecta.core.middleware import chosen_language

from . import public

PREFIX = "/api/v1/public/reports/"


class CachedVerificationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if request.method == "GET" and path.startswith(PREFIX):
            code = path[len(PREFIX) :]
            if code and "/" not in code and not public.rate_limited(request):
                body = public.verification_body_cached(code)
                if body is not None:
                    return self._answer(request, body)
        return self.get_response(request)

    @staticmethod
    def _answer(request: HttpRequest, body: bytes) -> HttpResponse:
        # the headers the inner middleware and the view would add (see the module doc)
        response = HttpResponse(body, content_type="application/json")
        response["Cache-Control"] = "no-store"
        response["Content-Language"] = chosen_language(request)
        response["X-Frame-Options"] = settings.X_FRAME_OPTIONS.upper()
        response["Content-Length"] = str(len(body))
        return response
