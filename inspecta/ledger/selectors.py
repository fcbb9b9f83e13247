"""Reads of the transparency log. The log is public by design (T/CECS 4.1.2): entries
carry ids, roles and hashes, never personal data, so these reads take no actor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models
from django.db.models import Q

from .models import AuditFinding, Checkpoint, CheckpointTimestamp, Entry, SigningKey

__all__ = [
    "checkpoint_latest",
    "checkpoint_timestamp",
    "checkpoints",
    "checkpoints_recent",
    "entries_latest",
    "entries_range",
    "entry_at",
    "entry_for_record",
    "findings_open",
    "signing_keys",
]


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.select_related("key").order_by("-pk").first()


def checkpoints_recent(limit: int = 10) -> list[Checkpoint]:
    """The latest checkpoints, newest first, with their timestamps (explorer)."""
    return list(Checkpoint.objects.select_related("key", "timestamp").order_by("-pk")[:limit])


def checkpoint_timestamp(size: int) -> CheckpointTimestamp | None:
    """The obtained timestamp of the latest checkpoint of ``size`` entries that has one."""
    return (
        CheckpointTimestamp.objects.filter(checkpoint__size=size, token__isnull=False)
        .order_by("-checkpoint_id")
        .first()
    )


def checkpoints() -> models.QuerySet[Checkpoint]:
    return Checkpoint.objects.select_related("key").order_by("pk")


def entry_at(index: int) -> Entry | None:
    return Entry.objects.filter(index=index).first()


def entries_range(start: int, end: int) -> models.QuerySet[Entry]:
    """Sequenced entries with ``start <= index < end``, in index order."""
    return Entry.objects.filter(index__gte=start, index__lt=end).order_by("index")


def entries_latest(limit: int = 20) -> list[Entry]:
    return list(Entry.objects.sequenced().order_by("-index")[:limit])


def entry_for_record(record: models.Model) -> Entry | None:
    """The latest entry of a record (pending or sequenced): its ``log_index`` source."""
    return Entry.objects.filter(record_type=record._meta.label_lower, record_id=str(record.pk)).order_by("-pk").first()


def entries_of(wanted: Iterable[tuple[str, Any]]) -> dict[tuple[str, str], Entry]:
    """The latest log entry of each ``(record_type, record_id)``, in one query (what
    ``entry_for_record`` gives for each), keyed by ``(record_type, record_id)``."""

    wanted = list(wanted)
    if not wanted:
        return {}
    query = Q()
    for record_type in {t for t, _i in wanted}:
        query |= Q(record_type=record_type, record_id__in=[str(i) for t, i in wanted if t == record_type])
    latest: dict[tuple[str, str], Entry] = {}
    for entry in Entry.objects.filter(query).order_by("pk"):
        latest[(entry.record_type, entry.record_id)] = entry  # a later pk replaces an earlier one
    return latest


def entries_for_records(records: Sequence[models.Model]) -> dict[tuple[str, str], Entry]:
    """``entry_for_record`` of each record of a list, in one query."""

    return entries_of((r._meta.label_lower, r.pk) for r in records)


def signing_keys() -> models.QuerySet[SigningKey]:
    return SigningKey.objects.order_by("created_at", "pk")


def findings_open(limit: int = 50) -> list[AuditFinding]:
    return list(AuditFinding.objects.order_by("-since", "-pk")[:limit])


def with_log_index(queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """Annotate each row with ``log_index``: the index of its latest sequenced entry, in the
    same query (CONTRACT §5: every logged record shows its ``log_index`` in the API)."""

    from django.db.models import CharField, OuterRef, Subquery
    from django.db.models.functions import Cast

    label = queryset.model._meta.label_lower
    latest = (
        Entry.objects.filter(record_type=label, record_id=Cast(OuterRef("pk"), CharField()), index__isnull=False)
        .order_by("-index")
        .values("index")[:1]
    )
    return queryset.annotate(log_index=Subquery(latest))
