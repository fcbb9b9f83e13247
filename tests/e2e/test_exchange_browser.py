"""Browser test: the HMAC secret of an approved access application reaches the applying
agency's admin, once, on the client page; the approving authority never sees it
(T/CECS 6.0.5, 6.0.8)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from inspecta.core.testing.browser import sign_in
from inspecta.exchange import services
from inspecta.exchange.crypto import decode_secret, open_secret
from inspecta.exchange.models import ClientKey, ExchangeClient
from inspecta.exchange.testing import agency_with_admin

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")  # as in conftest.py

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def test_approver_sees_no_secret_applicant_admin_sees_it_once(browser, live_server, e2e_tree):
    _, admin = agency_with_admin()
    application = services.application_submit(
        actor=admin,
        system_name="检测管理系统",
        auth_method="hmac-sha256",
        contact_name="李四",
        contact_phone="13900000000",
        scopes=["files:upload"],
    )

    # The city authority approves in its own browser: a key id, no secret.
    approver = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = approver.new_page()
    sign_in(page, e2e_tree["gz_admin"])
    page.goto(f"/exchange/applications/{application.pk}/")
    page.fill("input[name=reason]", "材料齐全")
    with page.expect_navigation():
        page.get_by_test_id("approve").click()
    expect(page).to_have_url(re.compile(r"/exchange/clients/\d+/$"))
    expect(page.get_by_test_id("secret-pending")).to_contain_text("由接入单位管理员在本页领取")
    expect(page.get_by_test_id("secret")).to_have_count(0)
    expect(page.get_by_test_id("reveal")).to_have_count(0)
    approver.close()

    # The agency's admin receives it once on the client page.
    client_pk = ExchangeClient.objects.get().pk
    applicant = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = applicant.new_page()
    sign_in(page, admin)
    page.goto(f"/exchange/clients/{client_pk}/")
    expect(page.get_by_test_id("secret")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_test_id("reveal").click()
    secret = page.get_by_test_id("secret").inner_text().strip()
    assert decode_secret(secret) == open_secret(ClientKey.objects.get().sealed_secret)
    page.goto(f"/exchange/clients/{client_pk}/")
    expect(page.get_by_test_id("secret")).to_have_count(0)
    expect(page.get_by_test_id("reveal")).to_have_count(0)
    expect(page.get_by_test_id("keys")).to_contain_text("密钥已于")
    assert secret not in page.content()
    applicant.close()
