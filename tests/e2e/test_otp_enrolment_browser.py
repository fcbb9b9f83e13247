"""TOTP enrolment in Chromium: the QR on screen stays valid while the browser fetches its
favicon and the user reloads the page, and its code is accepted."""

from __future__ import annotations

import os
import re
from base64 import b32decode
from pathlib import Path
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from inspecta.core.testing.browser import totp_code
from inspecta.core.testing.factories import PASSWORD, UserFactory

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")  # as in conftest.py

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]

SETUP = re.compile(r"/accounts/otp/setup/$")


def _secret(page: Any) -> str:
    expect(page.get_by_test_id("otp-qr").locator("svg")).to_be_visible()
    return page.get_by_test_id("otp-secret").inner_text().replace(" ", "")


def test_enrolment_keeps_its_secret_through_favicon_and_reload(page: Any, e2e_tree: dict[str, Any]) -> None:
    UserFactory(username="gz_enrol", organisation=e2e_tree["gz"])
    icons: list[tuple[str, int]] = []
    page.on("response", lambda r: icons.append((r.url, r.status)) if "favicon" in r.url else None)

    page.goto("/accounts/login/")
    page.fill("input[name=username]", "gz_enrol")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(SETUP)
    first = _secret(page)
    page.wait_for_load_state("networkidle")  # the browser's own icon request has run

    # the icon the page links, and the one a browser asks the site root for, are files
    href = page.locator("link[rel=icon]").get_attribute("href")
    for url in (href, "/favicon.ico"):
        answer = page.request.get(url, max_redirects=0)
        assert answer.status == 200, url
        assert answer.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon"), url
        assert answer.body()[:4] == b"\x00\x00\x01\x00", url  # an ICO file
    assert all(status == 200 for _url, status in icons), icons

    page.reload()
    expect(page).to_have_url(SETUP)
    assert _secret(page) == first  # the QR already scanned is still the one enrolled

    device = TOTPDevice.objects.get(user__username="gz_enrol", confirmed=False)
    key = b32decode(first + "=" * (-len(first) % 8))
    assert key == device.bin_key
    page.fill("input[name=token]", totp_code(device, key))
    with page.expect_navigation():
        page.get_by_role("button", name="确认绑定", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/otp/recovery-codes/$"))
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    assert TOTPDevice.objects.get(user__username="gz_enrol").confirmed
