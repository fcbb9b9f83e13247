"""Reads of the core app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from .models import Parameter, Region, Specialty, TestItem
from .scoping import region_prefix


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


def home_counts(*, actor: Any) -> dict[str, int]:
    """Real counts for the user's scope on the home page."""

    from inspecta.accounts.models import AuthEvent, Organisation, User

    counts = {
        "users": User.objects.restrict(actor).filter(is_active=True).count(),
        "organisations": Organisation.objects.restrict(actor).filter(is_active=True).count(),
        "specialties": Specialty.objects.filter(enabled=True).count(),
        "test_items": TestItem.objects.filter(enabled=True).count(),
    }
    code = actor.region_code
    if actor.is_operator or not code:
        counts["regions"] = Region.objects.count()
    else:
        counts["regions"] = Region.objects.filter(code__startswith=region_prefix(code)).count()
    counts["my_logins_failed"] = AuthEvent.objects.filter(user=actor, kind="login_failed").count()
    return counts
