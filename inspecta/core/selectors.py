"""Reads of the core app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from .models import Parameter, Region, Specialty, TestItem


def region_list(*, actor: Any) -> QuerySet[Region]:
    """The regions ``actor`` may see with their child counts; ``filtersets.RegionFilterSet``
    chooses the level (provinces, children of a parent, or matches of a search)."""

    return (
        Region.objects.restrict(actor).select_related("parent").annotate(child_count=Count("children")).order_by("code")
    )


def specialty_list(*, actor: Any) -> QuerySet[Specialty]:
    return Specialty.objects.restrict(actor).annotate(item_count=Count("test_items")).order_by("code")


def test_item_list(*, actor: Any, specialty: str) -> QuerySet[TestItem]:
    return (
        TestItem.objects.restrict(actor)
        .filter(specialty_id=specialty)
        .prefetch_related("item_parameters__parameter")
        .order_by("code")
    )


def parameter_get(*, actor: Any, code: str) -> Parameter:
    return Parameter.objects.restrict(actor).get(pk=code)
