"""Reads of test data scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from .curves import curve_points
from .models import InstrumentRecord, TestRecord, TestRecordFile, TestRecordRevision

__all__ = ["pass_rates", "record_curves", "record_get", "record_list", "record_rows", "records_of_samples"]


def record_list(*, actor: Any) -> QuerySet[TestRecord]:
    """Test records the actor may see, the latest tests first."""

    return (
        TestRecord.objects.restrict(actor)
        .select_related("project", "agency", "test_item", "tester", "sample")
        .order_by("-started_at", "-pk")
    )


def record_get(*, actor: Any, pk: int) -> TestRecord:
    """One record in the actor's reach (404 otherwise), with its files and revisions."""

    return (
        TestRecord.objects.select_related(
            "project", "project__region", "agency", "test_item", "tester", "site", "sample", "plan"
        )
        .prefetch_related(Prefetch("files", queryset=TestRecordFile.objects.select_related("file").order_by("pk")))
        .prefetch_related(
            Prefetch(
                "revisions",
                queryset=TestRecordRevision.objects.select_related("by", "client", "amendment__report").order_by(
                    "number"
                ),
            )
        )
        .reach(actor, pk=pk)
    )


def records_of_samples(*, actor: Any, agency_id: int, codes: list[str]) -> list[TestRecord]:
    """The test records of ``agency_id`` on the samples ``codes`` that the actor may see:
    the data behind a report (Guangxi 第十七条(五))."""

    if not codes:
        return []
    return list(
        TestRecord.objects.restrict(actor)
        .filter(agency_id=agency_id, sample__code__in=codes)
        .select_related("sample", "test_item", "tester")
        .order_by("started_at", "pk")
    )


def record_curves(*, actor: Any, record: TestRecord, limit: int = 50) -> list[dict[str, Any]]:
    """The instrument readings of ``record`` (its agency's, by its number) that the actor
    may see, each with at most about 1,000 points of its curve to draw, by parameter and
    specimen."""

    readings = (
        InstrumentRecord.objects.restrict(actor)
        .filter(agency_id=record.agency_id, record_number=record.number)
        .order_by("parameter", "specimen", "collected_at", "id")[:limit]
    )
    return [
        {
            "id": r.pk,
            "parameter": r.parameter,
            "specimen": r.specimen,
            "equipment": r.equipment,
            "collected_at": r.collected_at.isoformat(),
            "collected_at_display": timezone.localtime(r.collected_at).strftime("%Y-%m-%d %H:%M:%S"),
            "value": r.value,
            "unit": r.unit,
            "x_unit": r.curve_meta.get("x_unit", ""),
            "y_unit": r.curve_meta.get("y_unit", ""),
            "points": curve_points(r.curve_meta, r.curve) if r.curve is not None else [],
        }
        for r in readings
    ]


def record_rows(actor: Any, data: Any, *, request: Any = None) -> tuple[Any, QuerySet[TestRecord]]:
    """The page's filter set and rows (an invalid filter is ignored, the others apply):
    the list, its Excel export and the statistics read the same rows."""

    from .filtersets import TestRecordFilterSet

    filterset = TestRecordFilterSet(data or None, queryset=record_list(actor=actor), request=request, for_page=True)
    return filterset, filterset.qs


def pass_rates(rows: QuerySet[TestRecord]) -> list[dict[str, Any]]:
    """Per agency and test item: the records, the nonconforming ones and the pass rate
    (T/CECS 4.3.4-4/-5 统计), the most records first; one grouped query."""

    from .choices import Judgement

    grouped = (
        rows.order_by()
        .values("agency_id", "agency__name", "test_item_id", "test_item__name")
        .annotate(total=Count("pk"), failed=Count("pk", filter=Q(conclusion=Judgement.NONCONFORMING)))
        .order_by("-total", "agency__name", "test_item_id")
    )
    return [
        g | {"passed": g["total"] - g["failed"], "rate": (g["total"] - g["failed"]) / g["total"] if g["total"] else 0.0}
        for g in grouped
    ]
