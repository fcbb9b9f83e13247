"""On a 390 px phone the station's calendar of upcoming on-site tests, a plan's page with
its versions and the agency's filing form fit the screen: nothing scrolls sideways
(Nanchang 二(三); Guangxi 第十条)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from inspecta.core.testing.browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def plan(e2e_tree: dict[str, Any]) -> Any:
    from inspecta.projects import services
    from inspecta.projects.testing import contract_for, plan_kwargs
    from inspecta.reports.testing import approved_agency, project_with

    agency, admin, made = approved_agency(e2e_tree, 991)
    project = project_with(e2e_tree, [agency], code="P-PHONE")
    contract = contract_for(admin, agency, project)
    kwargs = plan_kwargs(agency, contract, made, ahead=datetime.timedelta(hours=30), location="1# 楼工程桩（低应变法）")
    filed = services.plan_file(actor=admin, **kwargs)
    services.plan_change(actor=admin, plan=filed, reason="施工进度调整，数量增加", quantity=48)
    return {"plan": filed, "admin": admin, "project": project}


def _fits(page: Any) -> None:
    widths = page.evaluate("({doc: document.documentElement.scrollWidth, view: window.innerWidth})")
    assert widths["doc"] <= widths["view"], f"the page scrolls sideways: {widths}"


def test_calendar_and_plan_page_on_a_phone(
    phone_page: Any, e2e_tree: dict[str, Any], plan: Any, screenshot: Any
) -> None:
    from playwright.sync_api import expect

    page = phone_page
    sign_in(page, e2e_tree["gz_inspector"])
    day = timezone.localtime(plan["plan"].planned_start).date()
    page.goto(f"/projects/plans/calendar/?start={day:%Y-%m-%d}&span=week")
    expect(page.get_by_test_id("calendar-plan").first).to_contain_text("1# 楼工程桩")
    _fits(page)
    screenshot(page, "plans-calendar-phone", full_page=True)
    page.get_by_test_id("calendar-plan").first.click()
    expect(page.get_by_test_id("plan-versions")).to_contain_text("施工进度调整")
    _fits(page)
    screenshot(page, "plans-detail-phone", full_page=True)


def test_filing_form_on_a_phone(phone_page: Any, plan: Any, screenshot: Any) -> None:
    from playwright.sync_api import expect

    page = phone_page
    sign_in(page, plan["admin"])
    page.goto(f"/projects/{plan['project'].pk}/plans/new/")
    expect(page.get_by_test_id("plan-form")).to_be_visible()
    _fits(page)
    screenshot(page, "plans-form-phone", full_page=True)
