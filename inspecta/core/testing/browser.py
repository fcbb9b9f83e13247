"""Browser-test steps shared by every Playwright walk (``tests/e2e``)."""

from __future__ import annotations

import re
from typing import Any

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from inspecta.core.testing.factories import PASSWORD

OTP_PAGE = re.compile(r"/accounts/otp/$")


def totp_code(device: TOTPDevice, key: bytes | None = None) -> str:
    """The current 6-digit code of ``device`` (or of ``key`` with the device's step)."""

    raw = totp(key if key is not None else device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(raw).zfill(device.digits)


def sign_in(page: Any, user: Any, *, password: str = PASSWORD) -> None:
    """Log ``user`` in through the login page: the password, then, where the platform
    asks for it (regulators and admins), the code of a newly confirmed authenticator."""

    from playwright.sync_api import expect

    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录", exact=True).click()
    if OTP_PAGE.search(page.url):
        page.fill("input[name=token]", totp_code(device))
        with page.expect_navigation():
            page.get_by_role("button", name="验证", exact=True).click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()
