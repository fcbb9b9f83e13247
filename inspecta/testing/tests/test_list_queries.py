"""Test-record lists, API and page, do a constant number of queries (STYLE.md 14), built
with ``n`` and ``3n`` records uploaded through the real services."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.core.testing.queries import assert_queries_constant, guards, html_rows, json_rows
from inspecta.testing import services
from inspecta.testing.testing import lab_fields, scene_with_sample

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    return scene_with_sample(tree)


def _records(scene: dict[str, Any]) -> Any:
    def grow(k: int) -> None:
        items = [lab_fields(scene, f"Q-{next(_numbers)}") for _i in range(k)]
        outcomes = services.test_record_upload_many(actor=scene["agency_admin"], agency=scene["agency"], items=items)
        assert all(not isinstance(o, Exception) for o in outcomes), outcomes

    return grow


@guards("inspecta_testing_api_record_list")
def test_record_list_api(client: Any, scene: dict[str, Any]) -> None:
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/api/v1/testing/records"), _records(scene), limit=12, rows=json_rows("items")
    )


def test_record_list_page(client: Any, scene: dict[str, Any]) -> None:
    login_verified(client, scene["agency_admin"])
    assert_queries_constant(
        lambda: client.get("/testing/"), _records(scene), limit=20, rows=html_rows('href="/testing/')
    )


def test_a_batch_costs_about_as_many_queries_as_one_record(scene: dict[str, Any]) -> None:
    """The checks load their facts once per batch: 30 records cost no more queries than
    a fixed number per record for the inserts' audit and log rows."""

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(k: int) -> int:
        items = [lab_fields(scene, f"C-{next(_numbers)}") for _i in range(k)]
        with CaptureQueriesContext(connection) as queries:
            services.test_record_upload_many(actor=scene["agency_admin"], agency=scene["agency"], items=items)
        return len(queries)

    one, thirty = cost(1), cost(30)
    assert thirty <= one + 29 * 2, (one, thirty)
