"""Reads of the exchange app, scoped to the acting user or client (STYLE.md 6)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.core.models import StoredFile

from .models import AccessApplication, AnomalyFinding, CallLog, ClientKey, ExchangeClient
from .permissions import may_review

__all__ = [
    "application_get",
    "application_list",
    "client_get",
    "client_list",
    "file_get",
    "findings_for",
    "key_get",
    "review_queue",
    "traffic_series",
]


def application_list(*, actor: User) -> QuerySet[AccessApplication]:
    """The applications ``actor`` may see; ``filtersets.ApplicationFilterSet`` narrows them."""

    qs = AccessApplication.objects.restrict(actor, "view").select_related("organisation", "applied_by")
    return qs.order_by("-applied_at", "-id")


def review_queue(*, actor: User) -> list[AccessApplication]:
    """Pending applications this user may decide."""
    return [a for a in application_list(actor=actor).filter(status="pending") if may_review(actor, a)]


def application_get(*, actor: User, pk: int) -> AccessApplication:
    return application_list(actor=actor).get(pk=pk)


def client_list(*, actor: User) -> QuerySet[ExchangeClient]:
    return ExchangeClient.objects.restrict(actor, "view").select_related("organisation").order_by("name", "id")


def client_get(*, actor: User, pk: int) -> ExchangeClient:
    return client_list(actor=actor).get(pk=pk)


def key_get(*, actor: User, key_id: str) -> ClientKey:
    return ClientKey.objects.restrict(actor, "view").select_related("client__organisation").get(key_id=key_id)


def file_get(*, actor: Any, pk: Any) -> StoredFile:
    return StoredFile.objects.restrict(actor, "view").get(pk=pk)


def findings_for(*, actor: User, client: ExchangeClient | None = None) -> QuerySet[AnomalyFinding]:
    qs = AnomalyFinding.objects.restrict(actor, "view").select_related("client")
    if client is not None:
        qs = qs.filter(client=client)
    return qs


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = max(0, math.ceil(fraction * len(sorted_values)) - 1)
    return sorted_values[index]


MAX_ROWS_FOR_PERCENTILES = 200_000


def traffic_series(
    *, client_ids: list[int] | None, hours: int = 24, bucket_minutes: int = 60, now: datetime | None = None
) -> dict[str, Any]:
    """Calls, error rate and p50/p95 latency per time bucket (T/CECS 6.0.4).

    ``client_ids=None`` is the whole node. Counts come from the index on ``(client_id,
    at)``/``(at)``; percentiles read at most ``MAX_ROWS_FOR_PERCENTILES`` latencies of the
    window (newest first), which is an estimate when the window holds more."""

    now = now or timezone.now()
    start = now - timedelta(hours=hours)
    qs = CallLog.objects.filter(at__gte=start, at__lte=now)
    if client_ids is not None:
        qs = qs.filter(client_id__in=client_ids)
    rows = list(qs.order_by("-at").values_list("at", "status", "latency_ms")[:MAX_ROWS_FOR_PERCENTILES])
    width = timedelta(minutes=bucket_minutes)
    count = max(1, math.ceil((now - start) / width))
    buckets: list[dict[str, Any]] = []
    for index in range(count):
        begin = start + index * width
        buckets.append({"start": begin, "calls": 0, "errors": 0, "latencies": []})
    for at, status, latency in rows:
        index = min(count - 1, int((at - start) / width))
        bucket = buckets[index]
        bucket["calls"] += 1
        if status >= 400:
            bucket["errors"] += 1
        bucket["latencies"].append(latency)
    series = []
    for bucket in buckets:
        values = sorted(bucket.pop("latencies"))
        series.append(
            {
                "start": timezone.localtime(bucket["start"]).isoformat(),
                "calls": bucket["calls"],
                "errors": bucket["errors"],
                "error_rate": round(bucket["errors"] / bucket["calls"], 4) if bucket["calls"] else 0.0,
                "p50_ms": round(_percentile(values, 0.5), 2),
                "p95_ms": round(_percentile(values, 0.95), 2),
            }
        )
    total = sum(b["calls"] for b in series)
    errors = sum(b["errors"] for b in series)
    last = qs.order_by("-at").values_list("at", flat=True).first()
    return {
        "from": timezone.localtime(start).isoformat(),
        "to": timezone.localtime(now).isoformat(),
        "bucket_minutes": bucket_minutes,
        "calls": total,
        "errors": errors,
        "error_rate": round(errors / total, 4) if total else 0.0,
        "last_seen": timezone.localtime(last).isoformat() if last else None,
        "series": series,
        "sampled": len(rows) >= MAX_ROWS_FOR_PERCENTILES,
    }
