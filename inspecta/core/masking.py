"""Masking of personal numbers (T/CECS 8.x data masking; DESIGN.md glossary 数据脱敏).

Who sees what is decided by the caller and expressed as an ``Audience``:

- ``FULL``: the agency itself and its reviewing authority see the number in full;
- ``AUTHORITY``: other authority users see ID numbers as first 6 + last 4;
- ``PUBLIC``: everyone else sees ID numbers as first 1 + last 2.

Mobile numbers are first 3 + last 4 for every audience but ``FULL``; names are
surname + ``*`` on public pages.
"""

from __future__ import annotations

from enum import StrEnum


class Audience(StrEnum):
    FULL = "full"
    AUTHORITY = "authority"
    PUBLIC = "public"


def _mask(value: str, head: int, tail: int) -> str:
    if not value:
        return ""
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_id_number(value: str, audience: Audience | str) -> str:
    """ID number: full, first 6 + last 4 (authorities) or first 1 + last 2 (public)."""

    audience = Audience(audience)
    if audience is Audience.FULL:
        return value or ""
    if audience is Audience.AUTHORITY:
        return _mask(value, 6, 4)
    return _mask(value, 1, 2)


def mask_mobile(value: str, audience: Audience | str) -> str:
    """Mobile number: full, or first 3 + last 4."""

    if Audience(audience) is Audience.FULL:
        return value or ""
    return _mask(value, 3, 4)


def mask_name(value: str, audience: Audience | str) -> str:
    """A person's name on public pages: the first character and ``*`` for the rest."""

    if Audience(audience) is not Audience.PUBLIC or not value:
        return value or ""
    return value[0] + "*" * max(len(value) - 1, 1)
