"""Reads of test data scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from .models import TestRecord, TestRecordFile, TestRecordRevision

__all__ = ["record_get", "record_list", "records_of_samples"]


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
            Prefetch("revisions", queryset=TestRecordRevision.objects.select_related("by", "client").order_by("number"))
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
