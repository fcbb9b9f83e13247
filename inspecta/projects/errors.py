"""Coded domain errors of projects and reports (CONTRACT §1 error envelope).

A ``DomainError`` carries an HTTP status and a stable snake_case code. It subclasses the
exchange app's ``ExchangeApiError``, whose Ninja handler renders the envelope, so
services can raise it and both API operations and pages report the same code.
"""

from __future__ import annotations

from inspecta.exchange.errors import ExchangeApiError

__all__ = ["DomainError"]


class DomainError(ExchangeApiError):
    """A refused write: nothing was changed. ``status`` 4xx, ``code`` stable."""
