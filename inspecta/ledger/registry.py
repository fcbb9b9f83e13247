"""What each logged kind looks like, so the self-audit can rebuild it (T/CECS 7.2.3).

Every app that logs records registers, per kind, a *renderer*: a function that turns
the current database record into the JSON-able ``data`` of its entry and the files it
references. ``log_append`` uses the renderer when given a model instance, and
``inspecta log verify`` calls the very same renderer on the record as it is now; any
difference means the record changed without a new log entry (a direct SQL UPDATE, a
replaced file).

Each app names its kinds in one enum (``ReportLogKind`` in ``reports/choices.py``; the
label is shown on the log pages) and registers each member in its ``kinds.py``, which
the app's ``AppConfig.ready`` imports::

    from inspecta.ledger.registry import register_kind

    register_kind(ReportLogKind.REPORT_VERSION, render=render_report_version)

``log_append`` refuses to log a model record of a kind nobody registered. A kind whose
entries are not named after the model they render (``record_type``, e.g.
``reports.revocation`` for a revoked ``Report``) says so, and the self-audit loads its
records from ``model`` by the entry's id.

A renderer must be a pure function of the stored record (no clocks, no request data),
must not include personal data beyond ids (the log is public) nor secrets, and every
service that changes a rendered field must append a new entry.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import models

__all__ = [
    "FileRef",
    "LogKindSpec",
    "Rendered",
    "Subject",
    "file_sha256",
    "get_kind",
    "model_snapshot",
    "record_model",
    "register_kind",
    "registered_kinds",
]

FileRef = tuple[str, Any]
"""``(name, content)``: content is ``bytes``, a ``django.core.files.File``/``FieldFile``,
a ``pathlib.Path``, or ``{"sha256": "<hex>"}`` when the hash is already known."""


@dataclass(frozen=True)
class Rendered:
    """The logged view of one record: its data and referenced files."""

    data: dict[str, Any]
    files: tuple[FileRef, ...] = ()


Renderer = Callable[[Any], Rendered]


@dataclass(frozen=True)
class Subject:
    """A logged record as the people who work with it know it: its title (a report's
    number and version, a contract's number) and the page that shows it. The log
    explorer shows it only to those who may view the record."""

    title: str
    url: str = ""
    by: Any = None
    """Who caused the logged change (a ``User`` or an exchange client), for records that
    keep no audit history of their own; otherwise their history says."""


Describer = Callable[[Any], Subject]


@dataclass(frozen=True)
class LogKindSpec:
    """A registered kind: how to render its records."""

    kind: str
    render: Renderer
    label: Any = ""
    record_type: str = ""
    model: type[models.Model] | None = None
    describe: Describer | None = None


_KINDS: dict[str, LogKindSpec] = {}


def register_kind(
    kind: str,
    *,
    render: Renderer,
    label: Any = "",
    record_type: str = "",
    model: type[models.Model] | None = None,
    describe: Describer | None = None,
) -> LogKindSpec:
    """Register (or replace, e.g. on module reload) the renderer of ``kind``; ``label``
    defaults to the enum member's label. ``record_type`` and ``model``: see above.
    ``describe`` names a record of the kind for the log explorer (:class:`Subject`)."""
    if bool(record_type) != (model is not None):
        raise ValueError("record_type and model go together")
    spec = LogKindSpec(
        kind=str(kind),
        render=render,
        label=label or getattr(kind, "label", ""),
        record_type=record_type,
        model=model,
        describe=describe,
    )
    _KINDS[spec.kind] = spec
    return spec


def get_kind(kind: str) -> LogKindSpec | None:
    return _KINDS.get(kind)


def registered_kinds() -> dict[str, LogKindSpec]:
    return dict(_KINDS)


def record_model(record_type: str) -> type[models.Model] | None:
    """The model whose rows entries of ``record_type`` log: a model label, or the
    ``record_type`` a kind registered with its ``model``."""
    from django.apps import apps

    for spec in _KINDS.values():
        if spec.record_type == record_type:
            return spec.model
    try:
        return apps.get_model(record_type)
    except (LookupError, ValueError):
        return None


def file_sha256(content: Any) -> str:
    """Hex SHA-256 of a referenced file's content, read in chunks."""
    if isinstance(content, Mapping):
        value = str(content["sha256"]).lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("sha256 must be 64 hex digits")
        return value
    digest = hashlib.sha256()
    if isinstance(content, bytes | bytearray | memoryview):
        digest.update(bytes(content))
    elif isinstance(content, Path):
        with content.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    elif isinstance(content, File) or hasattr(content, "chunks"):
        content.open("rb")
        try:
            for chunk in content.chunks():
                digest.update(chunk)
        finally:
            content.close()
    else:
        raise TypeError(f"cannot hash a file given as {type(content).__name__}")
    return digest.hexdigest()


def json_value(value: Any) -> Any:
    """A JSON (RFC 8785) representation of a model field value."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        # JCS numbers are IEEE doubles: keep big integers exact as strings.
        return value if abs(value) <= 2**53 - 1 else str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
            return value.isoformat(timespec="microseconds").replace("+00:00", "Z")
        return value.isoformat(timespec="microseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def model_snapshot(
    obj: models.Model, fields: Iterable[str] | None = None, exclude: Iterable[str] = ()
) -> dict[str, Any]:
    """Concrete field values of ``obj`` by attribute name (``region_id``, not ``region``)."""
    skip = set(exclude)
    wanted = set(fields) if fields is not None else None
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        name = field.name
        if name in skip or (wanted is not None and name not in wanted):
            continue
        out[field.attname] = json_value(getattr(obj, field.attname))
    return out
