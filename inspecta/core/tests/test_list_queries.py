"""Reference-data lists, API and pages, do a constant number of queries (STYLE.md 14).

Regions and the catalog are loaded in bulk from the reference files (``regions_load``,
``catalog_load``) and have no per-row create service; the builders here add rows the
way those loaders do."""

from __future__ import annotations

import itertools

import pytest

from inspecta.core.models import Parameter, Specialty, TestItem, TestItemParameter
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.factories import region
from inspecta.core.testing.queries import assert_queries_constant, guards, html_rows, json_rows

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)
PARENT = "449900"  # a city of no real province table: its districts are all the builder's


def _districts(k: int) -> None:
    for _i in range(k):
        region(f"4499{next(_numbers):02d}")


@pytest.fixture
def specialty():
    return Specialty.objects.create(code="SPQ", name="查询计数专项", is_official=False)


def _items(specialty):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            item = TestItem.objects.create(code=f"OBJ-SPQ-{n}", specialty=specialty, name=f"项目{n}", is_official=False)
            for j in range(2):
                parameter = Parameter.objects.create(code=f"QP-{n}-{j}", name=f"参数{n}-{j}")
                TestItemParameter.objects.create(test_item=item, parameter=parameter, level="mandatory")

    return grow


def _specialties(k: int) -> None:
    for _i in range(k):
        n = next(_numbers)
        Specialty.objects.create(code=f"SQ{n:02d}", name=f"查询计数专项{n}", is_official=False)


@guards("inspecta_core_api_regions")
def test_region_list_api(client, tree):
    login_verified(client, tree["gd_admin"])
    assert_queries_constant(
        lambda: client.get(f"/api/v1/core/regions?parent={PARENT}"), _districts, limit=12, rows=json_rows("items")
    )


@guards("inspecta_core_api_specialties")
def test_specialty_list_api(client, tree):
    login_verified(client, tree["gd_admin"])
    assert_queries_constant(
        lambda: client.get("/api/v1/core/catalog/specialties"), _specialties, limit=11, rows=json_rows()
    )


@guards("inspecta_core_api_items")
def test_test_item_list_api(client, tree, specialty):
    login_verified(client, tree["gd_admin"])
    url = "/api/v1/core/catalog/specialties/SPQ/items"
    assert_queries_constant(lambda: client.get(url), _items(specialty), limit=14, rows=json_rows())


def test_region_list_page(client, tree):
    login_verified(client, tree["gd_admin"])
    assert_queries_constant(
        # 16: a page reads its ids, then its rows, and on PostgreSQL asks the planner for
        # the count (core.pagination.PagePaginator); the page frame counts the bell's
        # unread messages
        lambda: client.get(f"/regions/?parent={PARENT}"),
        _districts,
        limit=16,
        rows=html_rows("区4499"),
    )


def test_catalog_page(client, tree, specialty):
    login_verified(client, tree["gd_admin"])
    assert_queries_constant(
        # 15: the page frame counts the unread messages of the bell
        lambda: client.get("/catalog/?specialty=SPQ"),
        _items(specialty),
        limit=15,
        rows=html_rows("OBJ-SPQ-"),
    )
