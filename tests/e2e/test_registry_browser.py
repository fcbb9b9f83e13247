"""Browser test of the agency registry: an agency registers, fills in, submits; the city supervisor
of its registration region approves; the agency is on the public list, masked.

Run: ``uv run pytest tests/e2e/test_registry_browser.py -q``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from inspecta.accounts.models import User
from inspecta.core.testing.factories import PASSWORD
from inspecta.registry.models import Agency, Staff
from inspecta.registry.testing import credit_code, fill

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def _click(page: Any, test_id: str) -> None:
    with page.expect_navigation():
        page.get_by_test_id(test_id).click()


def test_register_fill_submit_approve_public(page: Any, e2e_tree: dict[str, Any], screenshot: Any) -> None:
    code = credit_code(901)
    page.goto("/register/")
    page.fill("input[name=name]", "浏览器注册检测有限公司")
    page.fill("input[name=credit_code]", code)
    page.select_option("select[name=region_code]", "440106")
    page.fill("input[name=contact_name]", "赵六")
    page.fill("input[name=contact_mobile]", "13800009010")
    page.fill("input[name=username]", "browser_agency")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="注册", exact=True).click()
    expect(page).to_have_url(re.compile(r"/registry/\d+/$"))
    expect(page.get_by_test_id("agency-status")).to_have_text("填报中")
    screenshot(page, "registry-registered")

    agency = Agency.objects.get(credit_code=code)
    admin = User.objects.get(username="browser_agency")
    # basic information through the page, the rest through the same services the pages call
    _click(page, "edit-basic")
    page.fill("input[name=registered_address]", "广州市天河区测试路 1 号")
    page.fill("input[name=office_address]", "广州市天河区测试路 1 号 3 楼")
    _click(page, "save")
    fill(agency, admin, seed=901)
    page.reload()
    _click(page, "submit-review")
    expect(page.get_by_test_id("agency-status")).to_have_text("待审核")

    page.context.clear_cookies()
    supervisor = e2e_tree["gz_supervisor"]
    device = TOTPDevice.objects.create(user=supervisor, name="phone", confirmed=True)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", supervisor.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录", exact=True).click()
    page.fill(
        "input[name=token]", str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(6)
    )
    with page.expect_navigation():
        page.get_by_role("button", name="验证", exact=True).click()
    page.goto("/registry/?status=submitted")
    with page.expect_navigation():
        page.get_by_role("link", name="浏览器注册检测有限公司").click()
    _click(page, "approve")
    expect(page.get_by_test_id("agency-status")).to_have_text("审核通过")
    screenshot(page, "registry-approved")

    page.context.clear_cookies()
    page.goto("/agencies/?region=440100")
    table = page.get_by_test_id("public-agencies")
    expect(table).to_contain_text("浏览器注册检测有限公司")
    expect(table).to_contain_text(code)
    body = page.content()
    for staff in Staff.objects.filter(agency=agency):
        assert staff.id_number not in body
    screenshot(page, "registry-public-list")
