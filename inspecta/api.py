"""The exchange API root (CONTRACT §1): Django Ninja at ``/api/v1/``.

Every error, from any layer, leaves as ``{"error": {"code", "message", "details"}}``
with a stable snake_case code; messages are zh-hans by default.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie

from inspecta.core.errors import error_response


class AuthedRequest(HttpRequest):
    """Type of ``request`` in endpoints: ``auth`` is the authenticated user or client."""

    auth: Any


class ApiError(Exception):
    """Raise from an endpoint to answer with a specific code and message."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


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


class _Parser(Parser):
    """Django Ninja's JSON and query-string parser, refusing NUL characters."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        _refuse_nul(data, "body")
        return data

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> Any:
        result = super().parse_querydict(data, list_fields, request)
        _refuse_nul(result, "query")
        return result


api = NinjaAPI(
    parser=_Parser(),
    title="Inspecta API",
    version="1",
    description=(
        "建设工程检测监管信息服务平台 数据交换接口。错误统一为 "
        '`{"error": {"code", "message", "details"}}`；错误码见 docs/integration/README.md。'
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=session_auth,
)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = {
        "errors": [
            {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors
        ]
    }
    return error_response(422, "invalid_input", _("请求参数不合法。"), details)


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    details: dict[str, Any] = {"fields": exc.message_dict} if hasattr(exc, "error_dict") else {"messages": exc.messages}
    return error_response(400, "validation_failed", "；".join(exc.messages), details)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(401, "not_authenticated", _("请先登录或提供有效的签名。"))


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, "forbidden", str(exc) or _("无权执行该操作。"))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", str(exc) or _("资源不存在或不在您的权限范围内。"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, ValidationError):  # raised by _Parser, wrapped by Django Ninja
        return _validation_error(request, cause)
    if exc.status_code == 400 and isinstance(cause, ValueError):  # JSON or UTF-8 that cannot be decoded
        return error_response(400, "bad_request", _("请求体不是有效的 JSON（UTF-8）。"), {"reason": str(cause)[:200]})
    return error_response(exc.status_code, STATUS_CODES.get(exc.status_code, "error"), str(exc))


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    # Django answers 400 for this outside the API; inside, the catch-all below would 500.
    return error_response(400, "invalid_input", _("请求体不是有效的 multipart/form-data。"), {"reason": str(exc)})


@api.exception_handler(DataError)
def _data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    # a value the database refuses (out of range, NUL in a path parameter, ...): the
    # statement failed, so nothing was written
    return error_response(422, "invalid_input", _("数据超出数据库允许的取值范围或格式。"))


@api.exception_handler(OverflowError)
def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # an integer no database column can hold (see inspecta.core.limits); inputs are
    # bounded where they are parsed, this is the net under them
    return error_response(422, "invalid_input", _("数值超出范围。"))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    import logging

    logging.getLogger("inspecta.api").exception("unhandled API error")
    return error_response(
        500, "internal_error", _("服务器内部错误，请稍后再试。"), {"request_id": getattr(request, "request_id", "")}
    )


def register_routers() -> None:
    from inspecta.accounts.api import router as accounts_router
    from inspecta.core.api import router as core_router
    from inspecta.exchange.api import router as exchange_router
    from inspecta.exchange.api import uploads_router
    from inspecta.ledger.api import router as ledger_router
    from inspecta.registry.api import public_router as registry_public_router
    from inspecta.registry.api import router as registry_router

    api.add_router("/core/", core_router)
    api.add_router("/accounts/", accounts_router)
    api.add_router("/log/", ledger_router)
    api.add_router("/exchange/", exchange_router)
    api.add_router("/uploads/", uploads_router)
    api.add_router("/registry/", registry_router)
    api.add_router("/public/agencies", registry_public_router)
    from inspecta.projects.api import router as projects_router

    api.add_router("/projects/", projects_router)
    from inspecta.reports.api import public_router as reports_public_router
    from inspecta.reports.api import router as reports_router

    api.add_router("/reports/", reports_router)
    api.add_router("/public/reports/", reports_public_router)


register_routers()
