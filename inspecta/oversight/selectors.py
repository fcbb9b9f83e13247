"""Reads of warnings, restricted to the actor (T/CECS 4.3.4-6)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from .choices import ACTIVE
from .models import Warning, WarningEvent


def warning_list(*, actor: Any) -> QuerySet[Warning]:
    return Warning.objects.restrict(actor, "view").select_related("agency", "project").order_by("-created_at", "-id")


def warning_get(*, actor: Any, pk: int) -> Warning:
    return Warning.objects.select_related("agency", "project", "organisation").reach(actor, "view", pk=pk)


def warning_events(*, warning: Warning) -> QuerySet[WarningEvent]:
    return warning.events.select_related("by").prefetch_related("files").order_by("at", "id")


def rule_counts(*, actor: Any) -> dict[str, dict[str, int]]:
    """Per rule, how many of the actor's warnings are active and how many in all."""

    rows = (
        Warning.objects.restrict(actor, "view")
        .values("rule")
        .annotate(active=Count("id", filter=Q(status__in=ACTIVE)), total=Count("id"))
        .order_by()
    )
    return {r["rule"]: {"active": r["active"], "total": r["total"]} for r in rows}


def nonconformance_list(*, actor: Any) -> QuerySet[Any]:
    """The ledger entries in the actor's scope, newest first, each with whether a closure
    waits for the station (``pending``) and whether it is overdue (``overdue``)."""

    from inspecta.core.findings import FindingStatus
    from inspecta.reports.models import NonconformanceEntry

    from .choices import ClosureStatus
    from .models import NonconformanceClosure, NonconformanceFinding

    pending = NonconformanceClosure.objects.filter(entry=OuterRef("pk"), status=ClosureStatus.PENDING)
    overdue = NonconformanceFinding.objects.filter(entry=OuterRef("pk"), status=FindingStatus.OPEN)
    return (
        NonconformanceEntry.objects.restrict(actor)
        .select_related("report", "project", "agency", "test_item")
        .annotate(pending=Exists(pending), overdue=Exists(overdue))
        .order_by("-created_at", "-pk")
    )


def nonconformance_get(*, actor: Any, pk: int) -> Any:
    from inspecta.reports.models import NonconformanceEntry

    return NonconformanceEntry.objects.select_related("report", "project", "agency", "test_item").reach(
        actor, "view", pk=pk
    )


def nonconformance_summary(*, actor: Any, by: str) -> list[dict[str, Any]]:
    """Per agency, project or test item (``by``): how many nonconforming results, how
    many closed, waiting for the station, overdue (T/CECS 4.3.4-6 汇总)."""

    from inspecta.core.findings import FindingStatus

    from .choices import ClosureStatus
    from .models import NonconformanceClosure, NonconformanceFinding

    group = {"agency": ("agency_id", "agency__name"), "project": ("project_id", "project__name")}.get(
        by, ("test_item_id", "test_item__name")
    )
    pending = NonconformanceClosure.objects.filter(entry=OuterRef("pk"), status=ClosureStatus.PENDING)
    overdue = NonconformanceFinding.objects.filter(entry=OuterRef("pk"), status=FindingStatus.OPEN)
    from inspecta.reports.models import NonconformanceEntry

    rows = (
        NonconformanceEntry.objects.restrict(actor)
        .annotate(is_pending=Exists(pending), is_overdue=Exists(overdue))
        .values(*group)
        .annotate(
            total=Count("id"),
            closed=Count("id", filter=Q(closed_at__isnull=False)),
            pending=Count("id", filter=Q(is_pending=True, closed_at__isnull=True)),
            overdue=Count("id", filter=Q(is_overdue=True, closed_at__isnull=True)),
        )
        .order_by("-total", group[1])
    )
    return [
        {"key": r[group[0]], "name": r[group[1]], **{k: r[k] for k in ("total", "closed", "pending", "overdue")}}
        | {"rate": r["closed"] / r["total"] if r["total"] else 0.0}
        for r in rows
    ]
