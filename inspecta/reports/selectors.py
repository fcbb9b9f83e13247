"""Reads of reports scoped to the acting user (STYLE.md 6), with the list filters of the
report pages and exports (issue 5 point 11: region, agency, project, item, conclusion, dates)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from inspecta.core.scoping import region_prefix

from .models import Amendment, NonconformanceEntry, Report

FILTERS = ("region", "agency", "project", "test_item", "conclusion", "status", "date_from", "date_to", "q")


def report_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[Report]:
    f = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    qs = Report.objects.restrict(actor).select_related("agency", "project", "test_item")
    if f.get("region"):
        qs = qs.filter(project__region__code__startswith=region_prefix(str(f["region"])))
    if f.get("agency"):
        qs = qs.filter(agency_id=f["agency"])
    if f.get("project"):
        qs = qs.filter(project_id=f["project"])
    if f.get("test_item"):
        qs = qs.filter(test_item_id=f["test_item"])
    if f.get("conclusion"):
        qs = qs.filter(conclusion=f["conclusion"])
    if f.get("status"):
        qs = qs.filter(status=f["status"])
    if f.get("date_from"):
        qs = qs.filter(reported_on__gte=_date(f["date_from"]))
    if f.get("date_to"):
        qs = qs.filter(reported_on__lte=_date(f["date_to"]))
    if f.get("q"):
        q = str(f["q"])
        qs = qs.filter(report_number__icontains=q) | qs.filter(serial_number__icontains=q)
    return qs.order_by("-issued_at", "-pk")


def _date(value: Any) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as exc:
        from inspecta.projects.errors import DomainError

        raise DomainError(400, "invalid_date", "日期格式应为 YYYY-MM-DD。") from exc


def report_get(*, actor: Any, pk: int) -> Report:
    report = (
        Report.objects.restrict(actor).select_related("agency", "project__region", "test_item").filter(pk=pk).first()
    )
    if report is None:
        raise Http404
    return report


def amendment_get(*, actor: Any, pk: int) -> Amendment:
    amendment = Amendment.objects.filter(pk=pk, report__in=Report.objects.restrict(actor)).first()
    if amendment is None:
        raise Http404
    return amendment


def nonconformance_list(*, actor: Any) -> QuerySet[NonconformanceEntry]:
    return NonconformanceEntry.objects.restrict(actor).select_related("report", "project", "agency", "test_item")
