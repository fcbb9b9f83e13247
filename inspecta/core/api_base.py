"""What every API router shares, importing nothing of the apps (CONTRACT §1).

``AuthedRequest`` types ``request`` in operations; ``session_auth`` is a browser
session that completed every login step; ``NulRefusingParser`` refuses U+0000 in JSON
bodies and query strings; :func:`install_error_handlers` gives an API the error
envelope for :class:`~inspecta.core.errors.AppError`, validation errors, Django's
exceptions and anything unexpected. The root API (``inspecta.api``) is built from these
and the routers the apps declare.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie

from inspecta.core.errors import AppError, ErrorCode, code_for_status, error_response

__all__ = ["AuthedRequest", "NulRefusingParser", "SessionAuth", "install_error_handlers", "session_auth"]


class AuthedRequest(HttpRequest):
    """Type of ``request`` in endpoints: ``auth`` is the authenticated user or client."""

    auth: Any


class SessionAuth(APIKeyCookie):
    """A browser session that has completed every login step (password, 2FA, expiry)."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        from inspecta.accounts.middleware import pending_step

        user = request.user
        if user.is_authenticated and user.is_active and pending_step(request) is None:
            return user
        return None


session_auth = SessionAuth(csrf=True)


def _refuse_nul(value: Any, where: str) -> None:
    """PostgreSQL text cannot hold U+0000 (SQLite can): refuse it at the door, for both
    databases alike, instead of failing in the INSERT."""

    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValidationError(
                    [{"loc": [where], "msg": _("文本不能包含 NUL（U+0000）字符。"), "type": "string_contains_nul"}]
                )
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


class NulRefusingParser(Parser):
    """Django Ninja's JSON and query-string parser, refusing NUL characters."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        # UTF-8 JSON holds U+0000 only as the escape \u0000 (a raw control character is
        # refused by the strict decoder; a zero byte means UTF-16 or -32, walked): a body
        # with neither needs no walk, which on a batch of curves is 200,000 values
        body = request.body
        if b"\\u0000" in body or b"\x00" in body:
            _refuse_nul(data, "body")
        return data

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> Any:
        result = super().parse_querydict(data, list_fields, request)
        _refuse_nul(result, "query")
        return result


def _app_error(request: HttpRequest, exc: AppError) -> HttpResponse:
    return exc.response()


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = {
        "errors": [
            {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors
        ]
    }
    return error_response(ErrorCode.INVALID_INPUT, _("请求参数不合法。"), details)


def _django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    details: dict[str, Any] = {"fields": exc.message_dict} if hasattr(exc, "error_dict") else {"messages": exc.messages}
    return error_response(ErrorCode.VALIDATION_FAILED, "；".join(exc.messages), details)


def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    if "Signature-Input" in request.headers or "Signature" in request.headers:
        # a signed call to an operation that no exchange scope opens (a signed call to
        # one that does is verified, or refused with its own code, before this)
        return error_response(
            ErrorCode.SESSION_ONLY,
            _("该接口只对登录的网页用户开放，不接受接入方签名调用；接入方可调用的接口及所需权限见对接文档。"),
        )
    return error_response(ErrorCode.NOT_AUTHENTICATED, _("请先登录或提供有效的签名。"))


def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(ErrorCode.FORBIDDEN, str(exc) or _("无权执行该操作。"))


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(ErrorCode.NOT_FOUND, str(exc) or _("资源不存在或不在您的权限范围内。"))


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, ValidationError):  # raised by NulRefusingParser, wrapped by Django Ninja
        return _validation_error(request, cause)
    if exc.status_code == 400 and isinstance(cause, ValueError):  # JSON or UTF-8 that cannot be decoded
        return error_response(
            ErrorCode.BAD_REQUEST, _("请求体不是有效的 JSON（UTF-8）。"), {"reason": str(cause)[:200]}
        )
    return error_response(code_for_status(exc.status_code), str(exc), status=exc.status_code)


def _bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    # Django answers 400 for this outside the API; inside, the catch-all below would 500.
    return error_response(
        ErrorCode.INVALID_INPUT, _("请求体不是有效的 multipart/form-data。"), {"reason": str(exc)}, status=400
    )


def _data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    # a value the database refuses (out of range, NUL in a path parameter, ...): the
    # statement failed, so nothing was written
    return error_response(ErrorCode.INVALID_INPUT, _("数据超出数据库允许的取值范围或格式。"))


def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # an integer no database column can hold (see inspecta.core.limits); inputs are
    # bounded where they are parsed, this is the net under them
    return error_response(ErrorCode.INVALID_INPUT, _("数值超出范围。"))


def _outage(request: HttpRequest, exc: Exception) -> HttpResponse:
    from .outage import outage_response

    response = outage_response(request, exc)
    assert response is not None
    return response


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    import logging

    logging.getLogger("inspecta.api").exception("unhandled API error")
    return error_response(
        ErrorCode.INTERNAL_ERROR, _("服务器内部错误，请稍后再试。"), {"request_id": getattr(request, "request_id", "")}
    )


# exception → handler; Django Ninja picks the most specific class of an exception's MRO
HANDLERS: dict[type[Exception], Any] = {
    AppError: _app_error,
    ValidationError: _validation_error,
    DjangoValidationError: _django_validation_error,
    AuthenticationError: _auth_error,
    PermissionDenied: _permission_denied,
    Http404: _not_found,
    HttpError: _http_error,
    MultiPartParserError: _bad_multipart,
    DataError: _data_error,
    OverflowError: _overflow,
    OperationalError: _outage,  # a database outage: 503 with Retry-After (inspecta.core.outage)
    InterfaceError: _outage,
    Exception: _unexpected,
}


def install_error_handlers(api: NinjaAPI) -> None:
    """Every error, from any layer, leaves ``api`` as ``{"error": {"code", "message",
    "details"}}`` with a stable code (:class:`~inspecta.core.errors.ErrorCode`); an
    :class:`~inspecta.core.errors.AppError` with its own code and status."""

    for exc_class, handler in HANDLERS.items():
        api.add_exception_handler(exc_class, handler)
