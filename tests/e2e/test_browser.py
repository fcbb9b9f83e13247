"""Browser end-to-end tests (issue: "log in with 2FA, allocate a city admin, that admin
logs in and sees only their city"), plus lock-out and phone layout.

Run: ``uv run pytest tests/e2e -q`` (add ``INSPECTA_SCREENSHOTS=1`` to refresh the
README screenshots). Needs Chromium at /usr/bin/chromium, or INSPECTA_CHROMIUM.
"""

from __future__ import annotations

import os
import re
from base64 import b32decode
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from inspecta.accounts.models import User
from inspecta.core.testing.factories import PASSWORD

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")  # as in conftest.py

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]

HOME = re.compile(r"^https?://[^/]+/$")
NEW_ADMIN = "sz_admin2"
NEW_ADMIN_NAME = "深圳新管理员"
NEW_PASSWORD = "Shenzhen#2026ok-Kq9"


def _code(key: bytes, device: TOTPDevice) -> str:
    return str(totp(key, device.step, device.t0, device.digits, device.drift)).zfill(device.digits)


def _submit(page: Any, button: str) -> None:
    """Click a form's submit button and wait until the answer page has loaded, so no
    assertion can pass on the page the form was on."""

    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def _submit_login(page: Any, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    _submit(page, "登录")


def _login_with_totp(page: Any, user: User) -> None:
    """Password, then the 6-digit code of the user's confirmed authenticator."""

    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    _submit_login(page, user.username, PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/otp/$"))
    page.fill("input[name=token]", _code(device.bin_key, device))
    _submit(page, "验证")
    expect(page).to_have_url(HOME)
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def _enrol_totp(page: Any, username: str) -> None:
    """On the setup page: scan (read) the shown secret and confirm with its current code."""

    expect(page).to_have_url(re.compile(r"/accounts/otp/setup/$"))
    expect(page.get_by_test_id("otp-qr").locator("svg")).to_be_visible()
    secret = page.get_by_test_id("otp-secret").inner_text().replace(" ", "")
    device = TOTPDevice.objects.get(user__username=username, confirmed=False)
    key = b32decode(secret + "=" * (-len(secret) % 8))
    assert key == device.bin_key, "the secret shown is not the device being enrolled"
    page.fill("input[name=token]", _code(key, device))
    _submit(page, "确认绑定")
    expect(page).not_to_have_url(re.compile(r"/accounts/otp/setup/$"))


def _logout(page: Any) -> None:
    # Through the logout page: the header's user menu does not open (see
    # test_user_menu_opens_and_signs_out below).
    page.goto("/accounts/logout/")
    _submit(page, "确认退出")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", name="账号登录")).to_be_visible()


def _usernames(page: Any) -> set[str]:
    table = page.get_by_test_id("user-table")
    expect(table).to_be_visible()
    return {name.strip() for name in table.locator("tbody tr td:first-child").all_inner_texts()}


def test_province_admin_allocates_city_admin_who_sees_only_their_city(page, e2e_tree, screenshot):
    sz, gz_admin = e2e_tree["sz"], e2e_tree["gz_admin"]

    # The login page, as the README shows it.
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="账号登录")).to_be_visible()
    screenshot(page, "login")

    # 1. The province admin signs in with password + TOTP code.
    _login_with_totp(page, e2e_tree["gd_admin"])

    # 2. ... opens account management and allocates a city admin for 深圳局, password generated.
    page.get_by_test_id("nav-group-system").click()  # the 系统管理 menu
    page.get_by_role("link", name="账号管理").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/users/$"))
    page.get_by_test_id("new-user").click()
    expect(page).to_have_url(re.compile(r"/accounts/users/new/$"))
    page.select_option("select[name=allocation]", f"{sz.pk}:authority_admin")
    page.fill("input[name=username]", NEW_ADMIN)
    page.fill("input[name=full_name]", NEW_ADMIN_NAME)
    page.fill("input[name=mobile]", "13800138000")
    _submit(page, "创建")

    expect(page).to_have_url(re.compile(r"/accounts/users/\d+/$"))
    expect(page.get_by_text(f"账号 {NEW_ADMIN} 已创建。")).to_be_visible()
    issued = page.get_by_test_id("issued-password").locator("code")
    expect(issued).to_be_visible()
    issued_password = issued.inner_text().strip()
    assert len(issued_password) >= 8
    expect(page.locator("dl")).to_contain_text("深圳局")
    expect(page.locator("dl")).to_contain_text("主管部门管理员")
    # Shown once: a reload no longer shows it.
    page.reload()
    expect(page.get_by_test_id("issued-password")).to_have_count(0)

    # The province admin's list now holds the new admin beside the rest of the province.
    page.goto("/accounts/users/")
    province_view = _usernames(page)
    assert {NEW_ADMIN, "gd_admin", "gz_admin", "sz_admin", "th_admin"} <= province_view
    screenshot(page, "users", full_page=True)

    _logout(page)

    # 3. The new city admin signs in with the issued password and must enrol TOTP.
    _submit_login(page, NEW_ADMIN, issued_password)
    _enrol_totp(page, NEW_ADMIN)
    # The recovery codes should come next; today the forced password change pre-empts them
    # (test_first_login_enrolment_shows_recovery_codes). Accept either order.
    expect(page).to_have_url(re.compile(r"/accounts/(otp/recovery-codes|password)/$"))
    if page.url.endswith("/recovery-codes/"):
        expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
        page.get_by_role("link", name="继续").click()

    # 4. First login: the password must change before anything else.
    expect(page).to_have_url(re.compile(r"/accounts/password/$"))
    expect(page.get_by_test_id("password-reason")).to_contain_text("首次登录")
    page.fill("input[name=old_password]", issued_password)
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=new_password_again]", NEW_PASSWORD)
    _submit(page, "保存新密码")
    expect(page).to_have_url(HOME)
    expect(page.get_by_text("密码已修改。")).to_be_visible()

    # 5. The city admin sees only 深圳 accounts.
    page.get_by_test_id("nav-group-system").click()  # the 系统管理 menu
    page.get_by_role("link", name="账号管理").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/users/$"))
    city_view = _usernames(page)
    assert {NEW_ADMIN, "sz_admin", "sz_supervisor"} <= city_view
    assert not city_view & {"gd_admin", "gz_admin", "gz_supervisor", "gz_inspector", "th_admin", "operator"}
    table = page.get_by_test_id("user-table")
    expect(table).not_to_contain_text("广州")
    expect(table).not_to_contain_text("天河")
    expect(table).not_to_contain_text("省厅")

    # 6. ... and a 广州 user's page, reached by URL, is "not found".
    response = page.goto(f"/accounts/users/{gz_admin.pk}/")
    assert response is not None and response.status == 404
    expect(page.locator(".empty-header")).to_have_text("404")
    expect(page.get_by_text("页面不存在或不在您的权限范围内。")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("gz_admin")


def test_five_wrong_passwords_lock_the_account(page, e2e_tree):
    for _attempt in range(4):
        _submit_login(page, "gz_supervisor", "Wrong#Pass1")
        expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码不正确。")

    _submit_login(page, "gz_supervisor", "Wrong#Pass1")  # the fifth consecutive failure
    expect(page.get_by_test_id("login-error")).to_contain_text("锁定")

    # Locked: even the right password is refused, with the same message.
    _submit_login(page, "gz_supervisor", PASSWORD)
    expect(page.get_by_test_id("login-error")).to_contain_text("已锁定 15 分钟")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_test_id("user-menu")).to_have_count(0)


def _assert_no_horizontal_scroll(page: Any, what: str) -> None:
    widths = page.evaluate(
        "() => ({scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth,"
        " client: document.documentElement.clientWidth})"
    )
    # Guard against a mobile browser zooming out to fit an over-wide page.
    assert widths["inner"] == 390, f"{what}: viewport is {widths}"
    assert widths["scroll"] <= widths["inner"], f"{what} scrolls sideways on a phone: {widths}"


def test_login_and_home_fit_a_phone(phone_page, e2e_tree):
    page = phone_page
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="账号登录")).to_be_visible()
    _assert_no_horizontal_scroll(page, "login page")

    _login_with_totp(page, e2e_tree["gd_admin"])
    expect(page.get_by_role("button", name="菜单")).to_be_visible()  # collapsed navigation
    _assert_no_horizontal_scroll(page, "home page")


def test_user_menu_opens_and_signs_out(page, e2e_tree):
    _login_with_totp(page, e2e_tree["gd_admin"])
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="退出登录").click(timeout=3_000)
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_first_login_enrolment_shows_recovery_codes(page, e2e_tree):
    from inspecta.core.testing.factories import UserFactory

    UserFactory(username="sz_new", organisation=e2e_tree["sz"], must_change_password=True)
    _submit_login(page, "sz_new", PASSWORD)
    _enrol_totp(page, "sz_new")
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10, timeout=3_000)
