"""Report lists, API and pages, do a constant number of queries (STYLE.md 14), built
with ``n`` and ``3n`` reports submitted through the real services."""

from __future__ import annotations

import itertools

import pytest

from inspecta.core.testing.access import login_verified
from inspecta.core.testing.queries import assert_queries_constant, guards, html_rows, json_rows
from inspecta.reports import services
from inspecta.reports.choices import CheckAction, CheckCode
from inspecta.reports.testing import approved_agency, project_with, submission

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


@pytest.fixture
def scene(tree):
    agency, admin, made = approved_agency(tree, 851)
    project = project_with(tree, [agency], code="P-QC")
    return {"tree": tree, "agency": agency, "admin": admin, "made": made, "project": project}


def _reports(scene, **over):
    def grow(k: int) -> None:
        for _i in range(k):
            number = f"QC-{next(_numbers):04d}"
            services.report_submit(
                actor=scene["admin"], **submission(scene["agency"], scene["made"], scene["project"], number, **over)
            )

    return grow


def _rules(tree):
    codes = iter(list(CheckCode))

    def grow(k: int) -> None:
        for _i in range(k):
            services.check_rule_set(actor=tree["gd_admin"], code=next(codes), action=CheckAction.FLAG)

    return grow


@guards("inspecta_reports_api_report_list")
def test_report_list_api(client, scene):
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(lambda: client.get("/api/v1/reports/"), _reports(scene), limit=16, rows=json_rows("items"))


@guards("inspecta_reports_api_report_feed")
def test_report_feed_api(client, scene):
    """The change feed (``updated_since``, then the ``next_cursor`` pages): versions,
    findings, amendments and log entries read once for the page."""

    login_verified(client, scene["tree"]["gz_supervisor"])
    url = "/api/v1/reports/feed?updated_since=2000-01-01T00:00:00%2B00:00"
    assert_queries_constant(lambda: client.get(url), _reports(scene), limit=16, rows=json_rows("items"))


@guards("inspecta_reports_api_nonconformance_list")
def test_nonconformance_list_api(client, scene):
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(
        lambda: client.get("/api/v1/reports/nonconformance"),
        _reports(scene, conclusion="nonconforming"),
        limit=12,
        rows=json_rows("items"),
    )


@guards("inspecta_reports_api_check_rules")
def test_check_rule_list_api(client, tree):
    """Every rule is always listed; what grows is the number of rules set to other than
    their default."""

    login_verified(client, tree["gd_admin"])
    assert_queries_constant(lambda: client.get("/api/v1/reports/check-rules"), _rules(tree), limit=10)


def test_report_list_page(client, scene):
    login_verified(client, scene["tree"]["gz_supervisor"])
    assert_queries_constant(lambda: client.get("/reports/"), _reports(scene), limit=20, rows=html_rows("QC-0"))


def test_check_rules_page(client, tree):
    login_verified(client, tree["gd_admin"])
    assert_queries_constant(lambda: client.get("/reports/check-rules/"), _rules(tree), limit=16)
