"""Errors of the exchange app in the API's envelope (CONTRACT §1).

Kept free of module-level imports of ``inspecta.api`` so that any app may import the
exchange helpers (``auth``, ``idempotency``) before the API root is built.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


class ExchangeApiError(Exception):
    """Raise from an operation or auth class: status, stable code, message, details and
    response headers (``Retry-After``). ``inspecta.exchange.api`` registers its handler."""

    def __init__(
        self, status: int, code: str, message: Any, details: dict[str, Any] | None = None, **headers: str
    ) -> None:
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = str(message)
        self.details = details or {}
        self.headers = headers


def envelope(
    status: int, code: str, message: Any, details: dict[str, Any] | None = None, **headers: str
) -> JsonResponse:
    """``{"error": {"code", "message", "details"}}`` (same as ``inspecta.api.error_response``)."""

    response = JsonResponse(
        {"error": {"code": code, "message": str(message), "details": details or {}}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response
