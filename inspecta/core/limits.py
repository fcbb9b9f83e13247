"""Bounds of user input: the size of ids, and how often one client address may call a
public page.

Ids are 64-bit (PostgreSQL bigint, SQLite INTEGER): a larger integer from a request
cannot name any row, and SQLite cannot even bind it (``OverflowError``), so inputs are
bounded where they are parsed.

Public pages (report verification, personal registration) are limited per client IP by
:func:`ip_rate_limited`: a window counted by django-ratelimit in the shared cache
(``RATELIMIT_USE_CACHE``), so every web process counts against the one limit."""

from __future__ import annotations

from django.http import HttpRequest
from django_ratelimit.core import get_usage

MAX_ID = 2**63 - 1


def _client_ip(_group: str, request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def ip_rate_limited(request: HttpRequest, group: str, limit: int, seconds: int = 60) -> bool:
    """True when this client IP made more than ``limit`` requests of ``group`` in its
    window of ``seconds``; a ``limit`` of 0 or less switches the limit off. Counted once
    per request and group, however many times it is asked."""

    if limit <= 0:
        return False
    answered: dict[str, bool] = request.__dict__.setdefault("_inspecta_rate_limited", {})
    if group not in answered:
        usage = get_usage(request, group=group, key=_client_ip, rate=(limit, seconds), increment=True)
        answered[group] = usage is not None and usage["should_limit"]
    return answered[group]
