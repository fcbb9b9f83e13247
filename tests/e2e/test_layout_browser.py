"""The layout measured in Chromium (issue 12 point 15): the admins' navigation stays on
one line at 1366 and 1440 px, dates and statuses in tables stay on one line, and on a
390 px phone the back-office and public tables scroll inside their card with the key
column held in place, never the page. The login page leads to registration and report
verification.

Run: ``uv run pytest tests/e2e/test_layout_browser.py -q`` (``INSPECTA_SCREENSHOTS=1``
writes docs/screenshots/layout-*.png).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from inspecta.core.testing.browser import sign_in

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")  # as in conftest.py

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def _one_line(page: Any, selector: str) -> list[dict[str, Any]]:
    """The visible elements under ``selector`` whose text runs over more than one line
    (the distinct tops of the line boxes of their content, padding aside)."""

    return page.eval_on_selector_all(
        selector,
        """els => els.filter(e => e.offsetParent !== null).map(e => {
            const tops = new Set();
            const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const range = document.createRange();
                range.selectNodeContents(node);
                for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.bottom));
            }
            const sorted = [...tops].sort((a, b) => a - b);
            const lines = sorted.filter((y, i) => i === 0 || y - sorted[i - 1] > 8).length;
            return {text: e.innerText.trim(), lines};
        }).filter(b => b.lines > 1)""",
    )


@pytest.fixture
def agencies(e2e_tree: dict[str, Any]) -> list[Any]:
    from inspecta.reports.testing import approved_agency

    return [approved_agency(e2e_tree, 951)[0], approved_agency(e2e_tree, 952, region="440300")[0]]


@pytest.mark.parametrize("width", [1366, 1440])
@pytest.mark.parametrize("who", ["operator", "gd_admin"])
def test_admin_navigation_stays_on_one_line(browser, live_server, e2e_tree, agencies, width, who, screenshot):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": 900}
    )
    try:
        page = context.new_page()
        sign_in(page, e2e_tree[who])
        page.goto("/registry/")
        nav = page.get_by_test_id("main-nav")
        expect(nav).to_be_visible()
        tops = nav.locator(":scope > .nav-item").evaluate_all(
            "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
        )
        assert len(set(tops)) == 1, f"the navigation wraps onto {len(set(tops))} rows: {tops}"
        assert not _one_line(page, "[data-testid=main-nav] .nav-link-title"), "a navigation entry breaks"
        header = page.locator("header.navbar").bounding_box()
        assert header["height"] < 80, header
        # the dates, statuses and codes of the list stay on one line
        assert page.locator("table td.text-nowrap").count() >= 2 * len(agencies)
        assert not _one_line(page, "table td.text-nowrap"), "a date or status wraps"
        screenshot(page, f"layout-nav-{who}-{width}")
        # the menus open and lead on
        page.get_by_test_id("nav-group-system").click()
        with page.expect_navigation():
            page.get_by_role("link", name="账号管理").click()
        expect(page).to_have_url(re.compile(r"/accounts/users/$"))
    finally:
        context.close()


def _fits_and_scrolls(page: Any, table: Any) -> None:
    """The page does not scroll sideways; the table does, inside its card, with the
    first column staying where it was."""

    widths = page.evaluate("({doc: document.documentElement.scrollWidth, view: window.innerWidth})")
    assert widths["doc"] <= widths["view"], f"the page scrolls sideways: {widths}"
    wrapper = table.locator("xpath=ancestor::div[contains(@class,'table-responsive')][1]")
    scroll = wrapper.evaluate("w => ({scroll: w.scrollWidth, client: w.clientWidth})")
    assert scroll["scroll"] > scroll["client"], "the table is squeezed instead of scrolling"
    key = table.locator("tbody tr:first-child td:first-child")
    before = key.bounding_box()
    wrapper.evaluate("w => { w.scrollLeft = 200; }")
    page.wait_for_function("() => true")
    after = key.bounding_box()
    assert abs(after["x"] - before["x"]) < 2, f"the key column scrolled away: {before} → {after}"
    other = table.locator("tbody tr:first-child td:nth-child(2)").bounding_box()
    assert other["x"] < before["x"] + before["width"], "the other columns did not scroll"
    assert not _one_line(page, "table tbody td:not(:first-child)"), "a cell wraps on the phone"


def test_public_agency_list_on_a_phone(phone_page, agencies, screenshot):
    page = phone_page
    page.goto("/agencies/")
    table = page.locator("table").first
    expect(table).to_be_visible()
    _fits_and_scrolls(page, table)
    screenshot(page, "layout-agencies-phone")


def test_back_office_list_on_a_phone(phone_page, e2e_tree, agencies, screenshot):
    page = phone_page
    sign_in(page, e2e_tree["gd_admin"])
    page.goto("/registry/")
    table = page.locator("table").first
    expect(table).to_be_visible()
    _fits_and_scrolls(page, table)
    screenshot(page, "layout-registry-phone")


def test_login_page_leads_to_registration_and_verification(phone_page, e2e_tree):
    page = phone_page
    page.goto("/accounts/login/")
    links = page.get_by_test_id("login-links")
    with page.expect_navigation():
        links.get_by_role("link", name="检测机构注册").click()
    expect(page).to_have_url(re.compile(r"/register/$"))
    page.goto("/accounts/login/")
    with page.expect_navigation():
        page.get_by_test_id("login-links").get_by_role("link", name="报告查验").click()
    expect(page).to_have_url(re.compile(r"/v/$"))
