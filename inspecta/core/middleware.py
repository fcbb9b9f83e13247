"""Request id for every request: tied to audit rows (T/CECS 8.3.3) and echoed to clients."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .audit import current_client, current_request_id

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Take a well-formed ``X-Request-ID`` from the proxy, or mint one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        client_token = current_client.set(None)  # set by the signature check of a signed call
        try:
            response = self.get_response(request)
        finally:
            current_client.reset(client_token)
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RefusalFindingsMiddleware:
    """Write the findings about the request's refusals once its transactions have ended
    (``core.findings.refusal_findings``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from .findings import refusal_findings

        with refusal_findings():
            return self.get_response(request)


def chosen_language(request: HttpRequest) -> str:
    """The language the user picked in the footer (cookie), else zh-hans."""

    from django.conf import settings

    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    supported = {code for code, _name in settings.LANGUAGES}
    return chosen if chosen in supported else settings.LANGUAGE_CODE


class LanguageMiddleware:
    """zh-hans for everyone unless the user chose another language (T/CECS: Chinese
    interface). Unlike Django's ``LocaleMiddleware`` the browser's Accept-Language is
    ignored, so an English-language browser still sees the Chinese platform first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import translation

        language = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class ApiEnvelopeMiddleware:
    """CONTRACT §1: every API error leaves in the JSON envelope. Django Ninja answers a
    wrong method with a plain-text 405; this rewrites any non-JSON 4xx/5xx under
    ``/api/`` (keeping headers such as ``Allow``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path_info.startswith("/api/")
            and not request.path_info.startswith("/api/v1/uploads/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from inspecta.core.errors import code_for_status, error_response

            messages = {405: _("不支持该请求方法。")}
            message = messages.get(response.status_code, response.reason_phrase)
            wrapped = error_response(code_for_status(response.status_code), str(message), status=response.status_code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    wrapped[header] = response[header]
            return wrapped
        return response


class InputGuardMiddleware:
    """Input no database can store is a 400, not a 500 (Django answers 500 for a
    ``DataError``). A URL carrying the NUL character (PostgreSQL text cannot hold U+0000;
    SQLite can) is refused before any view runs; a value a page passes on that the
    database still refuses (a NUL in a form field read without a Django form, a number
    out of range) ends in the same 400 page. The API has its own handlers with the
    envelope (``inspecta/core/api_base.py``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if request.path_info.startswith("/api/"):  # the API answers these with its envelope
            return self.get_response(request)
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return self._bad_request(request, _("请求地址不能包含 NUL（U+0000）字符。"))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.db import DataError

        if isinstance(exception, DataError | OverflowError) and not request.path.startswith("/api/"):
            return self._bad_request(request, _("数据超出数据库允许的取值范围或格式。"))
        return None

    @staticmethod
    def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
        from django.urls import get_resolver

        view: Any = get_resolver().resolve_error_handler(400)
        response: HttpResponse = view(request, exception=ValueError(str(message)))
        return response
