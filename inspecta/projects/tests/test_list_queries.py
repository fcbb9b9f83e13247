"""Project and contract lists, API and page, do a constant number of queries
(STYLE.md 14), built with ``n`` and ``3n`` rows through the real services."""

from __future__ import annotations

import datetime
import itertools

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.core.testing.queries import assert_queries_constant, guards, html_rows, json_rows
from inspecta.projects import services
from inspecta.registry.testing import CEMENT
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


@pytest.fixture
def scene(tree):
    agency, admin, made = approved_agency(tree, 861)
    return {"tree": tree, "agency": agency, "admin": admin, "made": made}


def _projects(scene):
    def grow(k: int) -> None:
        for _i in range(k):
            project_with(scene["tree"], [scene["agency"]], code=f"P-QC-{next(_numbers)}")

    return grow


def _contracts(scene, project):
    def grow(k: int) -> None:
        for _i in range(k):
            n = next(_numbers)
            scan = stored_file(scene["agency"].organisation_id, pdf_bytes(f"contract {n}"))
            services.contract_upload(
                actor=scene["admin"],
                agency=scene["agency"],
                project=project,
                number=f"HT-QC-{n}",
                client_name="业主",
                amount="1000.00",
                signed_on=datetime.date(2026, 1, 1),
                valid_from=datetime.date(2026, 1, 1),
                valid_until=datetime.date(2026, 12, 31),
                test_items=[CEMENT],
                scan_id=scan.pk,
            )

    return grow


@guards("inspecta_projects_api_project_list")
def test_project_list_api(client, scene):
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/api/v1/projects/"), _projects(scene), limit=13, rows=json_rows("items")
    )


@guards("inspecta_projects_api_contract_list")
def test_contract_list_api(client, scene):
    project = project_with(scene["tree"], [scene["agency"]], code="P-QC-C")
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get(f"/api/v1/projects/{project.pk}/contracts"),
        _contracts(scene, project),
        limit=13,
        rows=json_rows(),
    )


def test_project_list_page(client, scene):
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(lambda: client.get("/projects/"), _projects(scene), limit=20, rows=html_rows("P-QC-"))


def test_project_detail_lists_contracts(client, scene):
    project = project_with(scene["tree"], [scene["agency"]], code="P-QC-D")
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get(f"/projects/{project.pk}/"), _contracts(scene, project), limit=24, rows=html_rows("HT-QC-")
    )


def _plans(scene):
    from inspecta.projects.testing import contract_for, plan_kwargs

    project = project_with(scene["tree"], [scene["agency"]], code="P-QC-PLAN")
    contract = contract_for(scene["admin"], scene["agency"], project, number="HT-QC-PLAN")

    def grow(k: int) -> None:
        for _i in range(k):
            kwargs = plan_kwargs(scene["agency"], contract, scene["made"], location=f"PLAN-QC-{next(_numbers)}")
            services.plan_file(actor=scene["admin"], **kwargs)

    return grow


@guards("inspecta_projects_api_plan_list")
def test_plan_list_api(client, scene):
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/api/v1/projects/plans"), _plans(scene), limit=12, rows=json_rows("items")
    )


def test_plan_list_page_and_calendar(client, scene):
    grow = _plans(scene)
    login_verified(client, scene["tree"]["gz_inspector"])
    assert_queries_constant(lambda: client.get("/projects/plans/"), grow, limit=24, rows=html_rows("PLAN-QC-"))
    assert_queries_constant(lambda: client.get("/projects/plans/calendar/"), grow, limit=24, rows=html_rows("PLAN-QC-"))
