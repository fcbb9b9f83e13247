"""The count of a list page (``inspecta.core.pagination.PagePaginator``): exact up to
its limit; beyond it, on PostgreSQL, the planner's estimate, shown as "约 N 条"; on
SQLite always exact. Proved on the region list of the operator (the catalog's thousands
of regions) with the limit lowered."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from inspecta.core import pagination
from inspecta.core.models import Region
from inspecta.core.pagination import PagePaginator
from inspecta.core.testing.access import login_verified

pytestmark = pytest.mark.django_db


def test_a_short_last_page_makes_an_estimate_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PagePaginator, "exact_up_to", 10)
    monkeypatch.setattr("inspecta.core.pagination._planner_rows", lambda queryset: 5000)  # a planner far off
    regions = Region.objects.filter(code__startswith="4401").order_by("code")
    exact = regions.count()
    paginator = PagePaginator(regions, exact + 5)
    assert paginator.estimated and paginator.count == 5000
    page = paginator.page(1)
    assert len(page.object_list) == exact and paginator.count == exact and not paginator.estimated
    assert paginator.num_pages == 1 and not page.has_next()


def test_a_count_up_to_the_limit_is_exact() -> None:
    regions = Region.objects.filter(code__startswith="4401").order_by("code")
    paginator = PagePaginator(regions, 10)
    assert paginator.count == regions.count() and paginator.count < pagination.EXACT_UP_TO
    assert not paginator.estimated


def test_beyond_the_limit_postgresql_estimates_and_sqlite_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PagePaginator, "exact_up_to", 100)
    regions = Region.objects.order_by("code")
    exact = regions.count()
    assert exact > 1000  # the reference data's regions
    paginator = PagePaginator(regions, 50)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE core_region")  # as autovacuum keeps the statistics
        assert paginator.estimated
        assert paginator.count > 100 and abs(paginator.count - exact) <= exact * 0.2
    else:
        assert not paginator.estimated and paginator.count == exact
    assert len(paginator.page(1).object_list) == 50


def test_the_page_says_when_its_count_is_an_estimate(
    monkeypatch: pytest.MonkeyPatch, client: Any, tree: dict[str, Any]
) -> None:
    from inspecta.testing.models import TestRecord
    from inspecta.testing.testing import scene_with_sample

    monkeypatch.setattr(PagePaginator, "exact_up_to", 1)
    monkeypatch.setattr("inspecta.testing.views.RecordListView.per_page", 1)
    scene = scene_with_sample(tree)
    from inspecta.testing import services
    from inspecta.testing.testing import lab_fields

    for n in range(3):
        services.test_record_upload(actor=scene["agency_admin"], agency=scene["agency"], **lab_fields(scene, f"C-{n}"))
    assert TestRecord.objects.count() == 3
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE testing_testrecord")
    login_verified(client, tree["gz_supervisor"])
    page = client.get("/testing/").content.decode()
    if connection.vendor == "postgresql":
        assert "约 " in page and "共 3 条" not in page
    else:
        assert "共 3 条" in page and "约 " not in page
