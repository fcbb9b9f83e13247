"""The inbox in Chromium: on a 390 px phone the bell shows the unread count, the messages
are cards that never make the page scroll sideways, and opening one marks it read; at
1366 px the operator's bar, with the bell beside the user menu, stays on one line.

Run: ``uv run pytest tests/e2e/test_notifications_browser.py -q`` (``INSPECTA_SCREENSHOTS=1``
writes docs/screenshots/notifications-*.png).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from inspecta.core.testing.browser import sign_in
from inspecta.notifications.notices import HEALTH_DISK, HEALTH_RECOVERED
from inspecta.notifications.services import notify

pytestmark = pytest.mark.e2e


def _messages(user: Any) -> None:
    notify(
        recipients=[user],
        kind=HEALTH_DISK,
        subject="【运维告警】磁盘空间不足：数据目录所在磁盘剩余 1024 MB，请尽快清理或扩容",
        body="数据目录所在磁盘剩余 1024 MB（3.2%），低于阈值 2048 MB 或 5%。",
        url="/notifications/preferences/",
    )
    notify(recipients=[user], kind=HEALTH_RECOVERED, subject="【已恢复】后台任务停滞", body="该问题已消除。")


def test_the_inbox_on_a_phone(phone_page, e2e_tree, screenshot):
    user = e2e_tree["operator"]
    _messages(user)
    page = phone_page
    sign_in(page, user)
    expect(page.get_by_test_id("inbox-unread")).to_have_text("2")
    page.get_by_test_id("inbox-link").click()
    expect(page.get_by_test_id("inbox-list")).to_be_visible()
    expect(page.get_by_test_id("inbox-item")).to_have_count(2)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390, f"the inbox makes the page {width} px wide"
    screenshot(page, "notifications-inbox-phone")

    page.get_by_test_id("inbox-item").last.click()
    expect(page.get_by_test_id("notification-subject")).to_contain_text("磁盘空间不足")
    expect(page.get_by_test_id("inbox-unread")).to_have_text("1")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    screenshot(page, "notifications-detail-phone")


@pytest.mark.parametrize("width", [1366])
def test_the_bell_keeps_the_operators_bar_on_one_line(browser, live_server, e2e_tree, width):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": 900}
    )
    try:
        page = context.new_page()
        user = e2e_tree["operator"]
        _messages(user)
        sign_in(page, user)
        page.goto("/registry/")
        expect(page.get_by_test_id("inbox-link")).to_be_visible()
        tops = (
            page.get_by_test_id("main-nav")
            .locator(":scope > .nav-item")
            .evaluate_all("items => items.map(i => Math.round(i.getBoundingClientRect().top))")
        )
        assert len(set(tops)) == 1, f"the navigation wraps onto {len(set(tops))} rows: {tops}"
        header = page.locator("header.navbar").bounding_box()
        assert header["height"] < 80, header
    finally:
        context.close()
