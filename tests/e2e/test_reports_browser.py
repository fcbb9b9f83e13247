"""Browser tests of reports: a phone opens the public verification page a report's QR
code points to and checks the log inclusion proof in the browser (CONTRACT §6:
"verify in your browser" recomputes leaf hash and root with WebCrypto); a tampered
proof fails; a city supervisor works through the report list and detail.

Run: ``uv run pytest tests/e2e/test_reports_browser.py -q`` (``INSPECTA_SCREENSHOTS=1``
refreshes the README screenshots).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from inspecta.core.testing.browser import sign_in
from inspecta.core.testing.factories import PASSWORD
from inspecta.ledger.services import checkpoint_publish, sequence_pending
from inspecta.reports import codes, services
from inspecta.reports.testing import approved_agency, project_with, submission

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


@pytest.fixture
def report(e2e_tree: dict[str, Any]) -> Any:
    agency, admin, made = approved_agency(e2e_tree, 801)
    project = project_with(e2e_tree, [agency])
    first = services.report_submit(actor=admin, **submission(agency, made, project, "R-E2E-1"))
    services.report_submit(actor=admin, **submission(agency, made, project, "R-E2E-2"))
    sequence_pending()
    checkpoint_publish()
    return first


def test_phone_verifies_the_proof_in_the_browser(phone_page: Any, report: Any, screenshot: Any) -> None:
    page = phone_page
    page.goto(f"/v/{codes.display(report.verification_code)}")  # as printed under the QR
    expect(page.locator("[data-status=valid]")).to_be_visible()
    expect(page.get_by_text(report.serial_number).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.locator("#proof-check").click()
    expect(page.locator("#proof-result")).to_have_text(re.compile("验证通过"))
    expect(page.locator("#proof-result")).to_have_class("text-success")
    screenshot(page, "verify-phone", full_page=True)


def test_a_tampered_proof_fails_in_the_browser(phone_page: Any, report: Any) -> None:
    """The same page with one proof hash altered on the way: the browser's own check
    says so (the check can fail)."""

    page = phone_page
    path = f"/v/{report.verification_code}"
    page.goto(path)
    proof = json.loads(page.locator("#proof-data").text_content())
    assert proof["hashes"], "the tree holds two entries: the proof has a sibling hash"
    original = proof["hashes"][0]
    altered = ("A" if original[0] != "A" else "B") + original[1:]

    def tamper(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace(original, altered))

    page.route(f"**{path}", tamper)
    page.reload()
    assert json.loads(page.locator("#proof-data").text_content())["hashes"][0] == altered
    page.locator("#proof-check").click()
    expect(page.locator("#proof-result")).to_have_text(re.compile("验证失败"))
    expect(page.locator("#proof-result")).to_have_class("text-danger")


def test_phone_checks_the_platform_stamped_copy(phone_page: Any, report: Any, tmp_path: Path) -> None:
    """The copy the agency downloads with serial number and QR is recognised on the
    public page as the platform-stamped copy of its version (CONTRACT §6 file check)."""

    version = report.versions.get()
    stamped = tmp_path / "stamped.pdf"
    stamped.write_bytes(services._read_file(version.stamped_pdf))
    page = phone_page
    page.goto(f"/v/{report.verification_code}")
    page.set_input_files("input[name=file]", str(stamped))
    page.get_by_role("button", name="核对文件").click()
    expect(page.locator("[data-file=match]")).to_contain_text("与平台加盖的第 1 版副本完全一致。")


def test_city_supervisor_lists_and_opens_reports(
    page: Any, e2e_tree: dict[str, Any], report: Any, screenshot: Any
) -> None:
    sign_in(page, e2e_tree["gz_supervisor"])
    page.goto("/reports/")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_text("R-E2E-1")).to_be_visible()
    screenshot(page, "reports-list", full_page=True)
    # The shared filter form: one report by its number, then an invalid status named on the
    # form (400) while the list still answers with the valid filters.
    page.get_by_placeholder("报告编号/流水号").fill("R-E2E-2")
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_text("R-E2E-2")).to_be_visible()
    response = page.goto("/reports/?status=zzz")
    assert response is not None and response.status == 400
    expect(page.get_by_text("筛选条件无效")).to_be_visible()
    expect(rows).to_have_count(2)
    page.goto("/reports/")
    with page.expect_navigation():
        page.get_by_role("link", name=report.serial_number).click()
    expect(page).to_have_url(re.compile(rf"/reports/{report.pk}/$"))
    expect(page.get_by_text("R-E2E-1").first).to_be_visible()
    screenshot(page, "report-detail", full_page=True)


def test_supervisor_of_another_city_sees_none_of_them(page: Any, e2e_tree: dict[str, Any], report: Any) -> None:
    sign_in(page, e2e_tree["sz_supervisor"])
    page.goto("/reports/")
    expect(page.get_by_text("R-E2E-1")).to_have_count(0)
    response = page.goto(f"/reports/{report.pk}/")
    assert response is not None and response.status in (403, 404)


def _password_login(page: Any, user: Any) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录", exact=True).click()


def test_agency_without_lims_prepares_and_three_accounts_sign_off(
    browser: Any, live_server: Any, e2e_tree: dict[str, Any], tmp_path: Path, screenshot: Any
) -> None:
    """A clerk chooses project, item (its parameters appear), site, the three people and
    equipment from the agency's own records and attaches the PDF: a draft, no report.
    Then the tester, the reviewer and the authorised signatory each sign in with their
    own account, find it in "待我签批的报告" and sign it off; the signatory's approval
    issues the numbered report whose trail names the three and the server's times
    (Nanchang 三(一); Guangxi 第十一条)."""

    from django.utils import timezone

    from inspecta.reports.models import Report, ReportDraft
    from inspecta.reports.testing import bind_accounts, pdf_bytes

    agency, admin, made = approved_agency(e2e_tree, 802)
    accounts = bind_accounts(agency, admin, made, 802)
    project = project_with(e2e_tree, [agency], code="WEB-001")
    kwargs = submission(agency, made, project, "R-WEB-E2E")

    def new_page() -> Any:
        return browser.new_page(base_url=live_server.url, viewport={"width": 1366, "height": 900})

    page = new_page()
    _password_login(page, admin)
    page.goto("/reports/new/")
    page.select_option("select[name=project_id]", str(project.pk))
    page.fill("input[name=report_number]", "R-WEB-E2E")
    page.fill("input[name=commissioning_unit]", "某施工单位")
    page.select_option("select[name=test_item]", kwargs["test_item"])
    parameters = page.get_by_test_id("parameters")
    for code in kwargs["parameters"]:  # loaded by htmx for the chosen item
        parameters.locator(f"input[value='{code}']").check()
    page.select_option("select[name=site_id]", str(made["site"].pk))
    page.select_option("select[name=equipment]", kwargs["equipment"])
    today = timezone.localdate().isoformat()
    page.fill("input[name=tested_on]", today)
    page.fill("input[name=reported_on]", today)
    page.select_option("select[name=conclusion]", "qualified")
    assert page.locator("input[name=tested_at]").count() == 0  # times are the platform's, not typed
    for person in ("tester_id", "reviewer_id", "signatory_id"):
        page.select_option(f"select[name={person}]", str(kwargs[person]))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_bytes("R-WEB-E2E"))
    page.set_input_files("input[name=pdf]", str(pdf))
    screenshot(page, "report-form", full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="提交", exact=True).click()
    draft = ReportDraft.objects.get(report_number="R-WEB-E2E")
    expect(page).to_have_url(re.compile(rf"/reports/drafts/{draft.pk}/$"))
    expect(page.get_by_test_id("sign")).to_have_count(0)  # the clerk signs nothing
    assert not Report.objects.filter(report_number="R-WEB-E2E").exists()
    page.close()

    for key in ("tester", "reviewer", "signatory"):
        page = new_page()
        _password_login(page, accounts[key])
        page.goto("/")
        page.get_by_role("link", name=re.compile("待我签批的报告")).first.click()
        page.get_by_role("link", name="R-WEB-E2E").click()
        expect(page).to_have_url(re.compile(rf"/reports/drafts/{draft.pk}/$"))
        screenshot(page, f"report-signoff-{key}", full_page=True)
        with page.expect_navigation():
            page.get_by_test_id("sign").click()
        if key != "signatory":
            expect(page.get_by_test_id("sign")).to_have_count(0)  # the next person's turn
            page.close()

    report = Report.objects.get(report_number="R-WEB-E2E")
    expect(page).to_have_url(re.compile(rf"/reports/{report.pk}/$"))
    expect(page.get_by_text(report.serial_number).first).to_be_visible()
    version = report.versions.get()
    assert sorted(version.data["parameters"]) == sorted(kwargs["parameters"])
    draft.refresh_from_db()
    assert (draft.tested_by, draft.reviewed_by, draft.approved_by) == (
        accounts["tester"],
        accounts["reviewer"],
        accounts["signatory"],
    )
    assert version.tested_at == draft.tested_at < version.reviewed_at < version.approved_at
    page.close()


def test_amendment_applied_and_approved_in_the_browser(
    browser: Any, live_server: Any, e2e_tree: dict[str, Any], report: Any, screenshot: Any
) -> None:
    """The agency asks to change one field; the city supervisor sees before and after
    and approves; version 2 is in force and the public page says "amended"."""

    agency_page = browser.new_page(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    admin = report.agency.organisation.users.filter(is_active=True).order_by("pk").first()
    agency_page.goto("/accounts/login/")
    agency_page.fill("input[name=username]", admin.username)
    agency_page.fill("input[name=password]", PASSWORD)
    with agency_page.expect_navigation():
        agency_page.get_by_role("button", name="登录", exact=True).click()
    agency_page.goto(f"/reports/{report.pk}/")
    form = agency_page.get_by_test_id("amendment-form")
    form.locator("textarea[name=reason]").fill("工程部位笔误")
    form.locator("input[name=project_part]").fill("二层梁")
    with agency_page.expect_navigation():
        form.get_by_role("button", name="申请变更").click()
    expect(agency_page.get_by_test_id("amendment").first).to_contain_text("待审批")
    agency_page.close()

    supervisor_page = browser.new_page(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    sign_in(supervisor_page, e2e_tree["gz_supervisor"])
    supervisor_page.goto(f"/reports/{report.pk}/")
    amendment = supervisor_page.get_by_test_id("amendment").first
    expect(amendment).to_contain_text("一层柱")
    expect(amendment).to_contain_text("二层梁")
    screenshot(supervisor_page, "amendment-review", full_page=True)
    with supervisor_page.expect_navigation():
        amendment.get_by_role("button", name="批准").click()
    expect(supervisor_page.get_by_test_id("amendment").first).to_contain_text("已批准")
    supervisor_page.goto(f"/v/{report.verification_code}")
    expect(supervisor_page.locator("[data-status=amended]")).to_be_visible()
    supervisor_page.close()
    assert report.versions.count() == 2 and report.versions.get(number=2).data["project_part"] == "二层梁"


def test_the_report_page_offers_revoke_only_to_the_competent_authority(
    page: Any, e2e_tree: dict[str, Any], report: Any
) -> None:
    """The station inspector reads the report but is offered no revocation; the city
    supervisor, whom the service lets revoke, is (reports.permissions.may_decide)."""

    sign_in(page, e2e_tree["gz_inspector"])
    page.goto(f"/reports/{report.pk}/")
    expect(page.get_by_text("R-E2E-1").first).to_be_visible()
    expect(page.get_by_test_id("revoke")).to_have_count(0)
    page.context.clear_cookies()
    sign_in(page, e2e_tree["gz_supervisor"])
    page.goto(f"/reports/{report.pk}/")
    expect(page.get_by_test_id("revoke")).to_be_visible()
