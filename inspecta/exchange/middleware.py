"""The call log (T/CECS 6.0.3-6.0.4, 8.2.4): one append-only row per API call.

What is logged is the data exchange: calls by exchange clients (signed) and by signed-in
users. Anonymous reads of the public endpoints (report verification, the transparency
log) are not exchange calls; they are rate-limited and left to the web server's access
log, so a QR scan does not cost a database write. Such a call that fails with a server
error is still logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from inspecta.core.audit import current_request_id

logger = logging.getLogger("inspecta.exchange")

LOGGED_PREFIX = "/api/v1/"
SKIPPED = ("/api/v1/docs", "/api/v1/openapi.json")
PUBLIC = ("/api/v1/public/", "/api/v1/log/")
"""Public endpoints whose anonymous calls are not exchange calls (see above)."""


def _anonymous_public(request: HttpRequest) -> bool:
    """A call to a public endpoint without signature, credentials or session."""

    meta = request.META
    return (
        request.path_info.startswith(PUBLIC)
        and "HTTP_SIGNATURE" not in meta
        and "HTTP_SIGNATURE_INPUT" not in meta
        and "HTTP_AUTHORIZATION" not in meta
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def _error_code(response: HttpResponse) -> str:
    if response.status_code < 400 or response.streaming:
        return ""
    if not response.get("Content-Type", "").startswith("application/json"):
        return ""
    try:
        return str(json.loads(response.content)["error"]["code"])[:64]
    except (ValueError, KeyError, TypeError):
        return ""


class CallLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.startswith(LOGGED_PREFIX) or path.startswith(SKIPPED):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        if response.status_code < 500 and _anonymous_public(request):
            return response
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            self._record(request, response, latency_ms)
        except Exception:  # the log must never break the call it records
            logger.exception("call log write failed")
        return response

    def _record(self, request: HttpRequest, response: HttpResponse, latency_ms: float) -> None:
        from .models import CallLog

        principal = getattr(request, "exchange_principal", None)
        client = getattr(principal, "client", None)
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        operation = match.route if match is not None and match.route else request.path_info
        try:
            bytes_in = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            bytes_in = 0
        bytes_out = int(response.get("Content-Length") or 0) if response.streaming else len(response.content)
        CallLog.objects.create(
            client_id=client.pk if client is not None else getattr(request, "exchange_client_id", None),
            organisation_id=client.organisation_id if client is not None else None,
            region=client.organisation.region_id if client is not None else "",
            user_id=user.pk if user is not None and user.is_authenticated else None,
            operation=operation[:128],
            method=(request.method or "")[:8],
            status=response.status_code,
            error_code=_error_code(response),
            latency_ms=round(latency_ms, 3),
            bytes_in=bytes_in,
            bytes_out=bytes_out,
            request_id=current_request_id.get() or getattr(request, "request_id", ""),
        )
