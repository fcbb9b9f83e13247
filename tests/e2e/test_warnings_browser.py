"""A warning walked as its users walk it (T/CECS 4.3.4-6): the agency's admin, on a 390 px
phone, finds the warning about a sample without test data on the home page, signs for it
and reports how it was handled with a photo as evidence; the district's reviewer, at a
desk, sends it back once, then closes it after the second handling. Nothing scrolls
sideways on the phone."""

from __future__ import annotations

from typing import Any

import pytest

from inspecta.core.testing.browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def warned(e2e_tree: dict[str, Any]) -> dict[str, Any]:
    from inspecta.oversight.models import Warning
    from inspecta.reports.testing import approved_agency, project_with
    from inspecta.testing.models import TestingFinding

    agency, admin, _made = approved_agency(e2e_tree, 993)
    project = project_with(e2e_tree, [agency], code="P-WARN")
    finding = TestingFinding.objects.create(
        agency=agency,
        project=project,
        rule="sample_data_overdue",
        key="sample:E2E",
        subject="样品 440106-2026-000123-K",
        detail="收样后 31 天仍未上传检测数据",
    )
    warning = Warning.objects.get(source="testing.TestingFinding", finding_id=finding.pk)
    return {"admin": admin, "warning": warning}


def _fits(page: Any) -> None:
    widths = page.evaluate("({doc: document.documentElement.scrollWidth, view: window.innerWidth})")
    assert widths["doc"] <= widths["view"], f"the page scrolls sideways: {widths}"


def test_the_agency_answers_and_the_district_closes(
    phone_page: Any, page: Any, e2e_tree: dict[str, Any], warned: dict[str, Any], screenshot: Any, tmp_path: Any
) -> None:
    from playwright.sync_api import expect

    from inspecta.core.imaging import picture_bytes
    from inspecta.oversight.models import Warning

    warning = warned["warning"]
    phone = phone_page
    sign_in(phone, warned["admin"])
    phone.goto("/")
    phone.get_by_role("link", name="待签收、处置的预警").click()
    expect(phone.get_by_test_id("warning-table")).to_contain_text("收样后逾期未上传检测数据")
    _fits(phone)
    screenshot(phone, "warnings-list-phone", full_page=True)
    phone.get_by_test_id("warning-table").get_by_role("link", name="收样后逾期未上传检测数据").click()
    expect(phone.get_by_test_id("warning-detail")).to_contain_text("31 天")
    expect(phone.get_by_test_id("warning-assigned")).to_contain_text("天河局")
    phone.get_by_test_id("step-acknowledge").click()
    expect(phone.get_by_test_id("warning-status")).to_have_text("已签收")

    # reporting without words is refused with a plain message, and nothing changes
    phone.get_by_test_id("step-handle").click()
    expect(phone.get_by_test_id("note-error")).to_contain_text("请填写说明")
    expect(phone.get_by_test_id("warning-status")).to_have_text("已签收")

    photo = tmp_path / "evidence.jpg"
    photo.write_bytes(picture_bytes(7, fmt="JPEG"))
    phone.get_by_label("说明").fill("已补传该样品的检测数据，并对收样台账逐一核对。")
    phone.get_by_label("佐证材料（PDF/图片，可选）").set_input_files(str(photo))
    phone.get_by_test_id("step-handle").click()
    expect(phone.get_by_test_id("warning-status")).to_have_text("已处置待审核")
    expect(phone.get_by_test_id("warning-events")).to_contain_text("evidence.jpg")
    _fits(phone)
    screenshot(phone, "warnings-detail-phone", full_page=True)

    # the district's reviewer sends it back, then closes the second handling
    sign_in(page, e2e_tree["th_admin"])
    page.goto(f"/oversight/warnings/{warning.pk}/")
    expect(page.get_by_test_id("warning-events")).to_contain_text("已补传该样品的检测数据")
    page.get_by_label("说明").fill("请同时上传仪器采集曲线。")
    page.get_by_test_id("step-return").click()
    expect(page.get_by_test_id("warning-status")).to_have_text("待处理")

    phone.reload()
    phone.get_by_label("说明").fill("已上传压力机采集曲线。")
    phone.get_by_test_id("step-handle").click()
    expect(phone.get_by_test_id("warning-status")).to_have_text("已处置待审核")

    page.reload()
    page.get_by_test_id("step-close").click()
    expect(page.get_by_test_id("warning-status")).to_have_text("已办结")
    # a closed warning offers its reviewer only to reopen it
    expect(page.get_by_test_id("step-close")).to_have_count(0)
    expect(page.get_by_test_id("step-reopen")).to_be_visible()
    screenshot(page, "warnings-detail-closed")

    warning.refresh_from_db()
    assert warning.status == "closed"
    assert list(warning.events.values_list("action", flat=True)) == [
        "acknowledged",
        "handled",
        "returned",
        "handled",
        "closed",
    ]
    assert Warning.objects.filter(status="closed").count() >= 1
