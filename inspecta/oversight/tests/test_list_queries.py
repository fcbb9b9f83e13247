"""Warning and nonconformance lists, API and pages, do a constant number of queries
(STYLE.md 14), built with ``n`` and ``3n`` findings kept through the real models."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.core.testing.queries import assert_queries_constant, guards, html_rows, json_rows
from inspecta.reports import services as report_services
from inspecta.reports.choices import Conclusion
from inspecta.reports.testing import approved_agency, project_with, submission
from inspecta.testing.models import TestingFinding

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    agency, admin, made = approved_agency(tree, 1, region="440100")
    project = project_with(tree, [agency], code="P-Q1", region="440106")
    return {"tree": tree, "agency": agency, "admin": admin, "made": made, "project": project}


def _findings(scene: dict[str, Any]) -> Any:
    def grow(k: int) -> None:
        for _i in range(k):
            TestingFinding.objects.create(
                agency=scene["agency"],
                project=scene["project"],
                rule="sample_data_overdue",
                key=f"sample:{next(_numbers)}",
                subject="样品 Q",
            )

    return grow


def _nonconforming(scene: dict[str, Any]) -> Any:
    def grow(k: int) -> None:
        for _i in range(k):
            report_services.report_submit(
                actor=scene["admin"],
                **submission(
                    scene["agency"],
                    scene["made"],
                    scene["project"],
                    number=f"NCQ-{next(_numbers)}",
                    conclusion=Conclusion.NONCONFORMING,
                ),
            )

    return grow


@guards("inspecta_oversight_api_warning_list")
def test_warning_list_api(client: Any, scene: dict[str, Any]) -> None:
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/api/v1/oversight/warnings?rule=sample_data_overdue"),
        _findings(scene),
        limit=12,
        rows=json_rows("items"),
    )


def test_warning_list_page(client: Any, scene: dict[str, Any]) -> None:
    login_verified(client, scene["admin"])
    assert_queries_constant(
        lambda: client.get("/oversight/warnings/?rule=sample_data_overdue"),
        _findings(scene),
        limit=20,
        rows=html_rows('href="/oversight/warnings/'),
    )


def test_nonconformance_list_page(client: Any, scene: dict[str, Any]) -> None:
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/oversight/nonconformance/"),
        _nonconforming(scene),
        limit=20,
        rows=html_rows('href="/oversight/nonconformance/'),
    )


@guards("inspecta_oversight_api_rule_list")
def test_rule_list_api(client: Any, scene: dict[str, Any]) -> None:
    """Every rule is always listed, read from the finding models' declarations: the
    warnings they raise cost the catalog nothing."""

    login_verified(client, scene["admin"])
    assert_queries_constant(lambda: client.get("/api/v1/oversight/rules"), _findings(scene), limit=8)
