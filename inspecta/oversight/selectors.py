"""Reads of warnings, restricted to the actor (T/CECS 4.3.4-6)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

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
