"""Monthly partitions of instrument data on PostgreSQL (DESIGN.md: partition the big
append-only tables by month).

``testing_instrumentrecord`` is declared ``PARTITION BY RANGE (collected_at)`` with a
default partition for readings outside every month created (a backfill of old data);
``partitions_ensure`` creates the partitions of this month and the next
``INSPECTA_INSTRUMENT_PARTITIONS_AHEAD`` months (the migration, then the daily job), so
new readings never land in the default partition. On SQLite the table is a plain table
and this does nothing.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connections
from django.utils import timezone

__all__ = ["TABLE", "partition_bounds", "partitions_ensure"]

TABLE = "testing_instrumentrecord"


def _month_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, 1, tzinfo=datetime.UTC)


def _next_month(start: datetime.datetime) -> datetime.datetime:
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def partition_bounds(now: datetime.datetime, ahead: int) -> list[tuple[str, datetime.datetime, datetime.datetime]]:
    """``(name, from, to)`` of the month of ``now`` (UTC) and the ``ahead`` after it."""

    start = _month_start(now.astimezone(datetime.UTC).date())
    bounds = []
    for _i in range(ahead + 1):
        end = _next_month(start)
        bounds.append((f"{TABLE}_p{start:%Y%m}", start, end))
        start = end
    return bounds


def partitions_ensure(
    *, using: str = "default", now: datetime.datetime | None = None, ahead: int | None = None
) -> list[str]:
    """Create the missing monthly partitions; returns the names created."""

    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    ahead = settings.INSPECTA_INSTRUMENT_PARTITIONS_AHEAD if ahead is None else ahead
    q = connection.ops.quote_name
    created = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        existing = {name for (name,) in cursor.fetchall()}
        for name, start, end in partition_bounds(now or timezone.now(), ahead):
            if name in existing:
                continue
            cursor.execute(f"CREATE TABLE {q(name)} PARTITION OF {q(TABLE)} FOR VALUES FROM (%s) TO (%s)", [start, end])
            created.append(name)
    return created
