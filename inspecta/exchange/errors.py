"""Errors of the exchange app in the API's envelope (CONTRACT §1).

Kept free of module-level imports of ``inspecta.api`` so that any app may import the
exchange helpers (``auth``, ``idempotency``) before the API root is built.
"""

from __future__ import annotations

from typing import Any

from inspecta.core.errors import error_response as envelope  # noqa: F401 - re-exported


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
