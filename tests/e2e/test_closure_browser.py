"""A nonconforming result closed as its users close it (Guangdong 附件2 二(十二); T/CECS
4.3.4-6): the agency's admin, on a 390 px phone, opens the ledger entry, reports whom it
told, the re-test and its report (chosen by number, never typed as an id); the project's
station inspector, at a desk, sends it back once and confirms the second; the entry shows
closed and the summary counts it. Nothing scrolls sideways on the phone."""

from __future__ import annotations

from typing import Any

import pytest

from inspecta.core.testing.browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ledger(e2e_tree: dict[str, Any]) -> dict[str, Any]:
    from inspecta.projects.models import Project
    from inspecta.reports import services as report_services
    from inspecta.reports.choices import Conclusion
    from inspecta.reports.models import NonconformanceEntry
    from inspecta.reports.testing import approved_agency, project_with, submission

    agency, admin, made = approved_agency(e2e_tree, 994)
    project = project_with(e2e_tree, [agency], code="P-NC")
    Project.objects.filter(pk=project.pk).update(station=e2e_tree["gz_station"])
    bad = report_services.report_submit(
        actor=admin, **submission(agency, made, project, number="NC-001", conclusion=Conclusion.NONCONFORMING)
    )
    retest = report_services.report_submit(actor=admin, **submission(agency, made, project, number="NC-002"))
    return {"admin": admin, "entry": NonconformanceEntry.objects.get(report=bad), "agency": agency, "retest": retest}


def _fits(page: Any) -> None:
    widths = page.evaluate("({doc: document.documentElement.scrollWidth, view: window.innerWidth})")
    assert widths["doc"] <= widths["view"], f"the page scrolls sideways: {widths}"


def test_the_agency_reports_and_the_station_closes(
    phone_page: Any, page: Any, e2e_tree: dict[str, Any], ledger: dict[str, Any], screenshot: Any
) -> None:
    from django.utils import timezone
    from playwright.sync_api import expect

    entry = ledger["entry"]
    phone = phone_page
    sign_in(phone, ledger["admin"])
    phone.goto("/oversight/nonconformance/")
    expect(phone.get_by_test_id("nonconformance-table")).to_contain_text("未闭环")
    phone.get_by_test_id("nonconformance-table").get_by_role("link", name=entry.report.serial_number).click()
    expect(phone.get_by_test_id("closure-state")).to_have_text("未闭环")

    # the form refuses a handling that names nobody told, in plain words
    phone.get_by_label("告知时间").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    phone.get_by_label("处理措施").select_option("retest")
    phone.get_by_label("处理情况").fill("加倍取样复检。")
    phone.get_by_test_id("closure-submit").click()
    expect(phone.get_by_test_id("field-error").first).to_contain_text("请填写此项")

    phone.get_by_label("建设单位").check()
    phone.get_by_label("监理单位").check()
    phone.get_by_label("告知时间").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    phone.get_by_label("处理措施").select_option("retest")
    phone.get_by_label("复检报告").select_option(str(ledger["retest"].pk))
    phone.get_by_label("处理情况").fill("已告知建设、监理单位，见证取样加倍复检合格。")
    phone.get_by_test_id("closure-submit").click()
    expect(phone.get_by_test_id("closure-state")).to_have_text("待监督站确认")
    expect(phone.get_by_test_id("closures")).to_contain_text("NC-002")
    _fits(phone)
    screenshot(phone, "closure-agency-phone", full_page=True)

    sign_in(page, e2e_tree["gz_inspector"])
    page.goto(f"/oversight/nonconformance/{entry.pk}/")
    page.get_by_test_id("closure-return").click()
    expect(page.get_by_test_id("reason-error")).to_contain_text("退回须填写理由")
    page.get_by_label("意见").fill("请补充告知施工单位的记录。")
    page.get_by_test_id("closure-return").click()
    expect(page.get_by_test_id("closure-state")).to_have_text("未闭环")

    phone.reload()
    phone.get_by_label("建设单位").check()
    phone.get_by_label("监理单位").check()
    phone.get_by_label("施工单位").check()
    phone.get_by_label("告知时间").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    phone.get_by_label("处理措施").select_option("retest")
    phone.get_by_label("复检报告").select_option(str(ledger["retest"].pk))
    phone.get_by_label("处理情况").fill("补充：已书面告知施工单位，复检合格。")
    phone.get_by_test_id("closure-submit").click()
    expect(phone.get_by_test_id("closure-state")).to_have_text("待监督站确认")

    page.reload()
    page.get_by_test_id("closure-confirm").click()
    expect(page.get_by_test_id("closure-state")).to_have_text("已闭环")
    screenshot(page, "closure-station")
    page.goto("/oversight/nonconformance/summary/?by=agency")
    expect(page.get_by_test_id("summary-table")).to_contain_text(ledger["agency"].name)
    expect(page.get_by_test_id("summary-table")).to_contain_text("100%")

    entry.refresh_from_db()
    assert entry.closed_at is not None
    assert [c.status for c in entry.closures.order_by("number")] == ["rejected", "approved"]
