"""The error envelope of CONTRACT §1, in a leaf module every app can import without
building the API root first."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


def error_response(
    status: int, code: str, message: Any, details: dict[str, Any] | None = None, **headers: str
) -> JsonResponse:
    """``{"error": {"code", "message", "details"}}`` with ``status``; keyword arguments
    become response headers (``Retry_After`` → ``Retry-After``)."""

    response = JsonResponse(
        {"error": {"code": code, "message": str(message), "details": details or {}}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response
