"""The canonical form of a test record (RFC 8785 JSON) and its SHA-256: what a revision
stores and what the transparency log pins (Guangxi 第七条(八), 第十三条)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import rfc8785

__all__ = ["BODY_FIELDS", "body_sha256", "record_body"]

BODY_FIELDS = (
    "kind",
    "number",
    "sample",
    "plan",
    "test_item",
    "site",
    "tester",
    "equipment",
    "started_at",
    "ended_at",
    "temperature_c",
    "humidity_pct",
    "latitude",
    "longitude",
    "standard",
    "parameters",
    "conclusion",
    "files",
)
"""The fields of the canonical form, in the order the revision page lists them."""


def _time(value: Any) -> str:
    from inspecta.ledger.services import format_time

    return format_time(value)


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def record_body(record: Any, files: Iterable[Any] | None = None) -> dict[str, Any]:
    """The canonical form of ``record`` as stored now: ids, codes, times in UTC, decimals
    as strings, the parameters as stored and the files (``TestRecordFile`` rows, read
    from the record unless given) by SHA-256, in the order they were added."""

    rows = list(files) if files is not None else list(record.files.order_by("pk"))
    return {
        "kind": record.kind,
        "number": record.number,
        "agency": record.agency_id,
        "project": record.project_id,
        "sample": record.sample_id,
        "plan": record.plan_id,
        "test_item": record.test_item_id,
        "site": record.site_id,
        "tester": record.tester_id,
        "equipment": list(record.equipment),
        "started_at": _time(record.started_at),
        "ended_at": _time(record.ended_at),
        "temperature_c": _decimal(record.temperature_c),
        "humidity_pct": _decimal(record.humidity_pct),
        "latitude": _decimal(record.latitude),
        "longitude": _decimal(record.longitude),
        "standard": record.standard,
        "parameters": record.parameters,
        "conclusion": record.conclusion,
        "files": [{"sha256": f.sha256, "kind": f.kind, "caption": f.caption} for f in rows],
    }


def body_sha256(body: dict[str, Any]) -> str:
    """Hex SHA-256 of the RFC 8785 serialisation of ``body``."""

    return hashlib.sha256(rfc8785.dumps(body)).hexdigest()
