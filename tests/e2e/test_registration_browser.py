"""A person registers on a 390 px phone (Nanchang 一(二) 人员注册): name, citizen ID,
mobile, a photo from the front camera, employer and duty; the contractor's admin
confirms them; the person signs in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.models import Registration
from inspecta.accounts.services import organisation_create
from inspecta.core.identifiers import id_number_check_char
from inspecta.core.testing import factories
from inspecta.core.testing.browser import sign_in
from inspecta.core.testing.factories import PASSWORD, UserFactory
from inspecta.sampling.demo import picture_bytes

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]

FIRST17 = "44010619900307123"


def test_register_on_a_phone_then_confirmed_then_sign_in(phone_page: Any, e2e_tree: Any, tmp_path: Path) -> None:
    contractor = organisation_create(
        actor=None, name="广州建工第一公司", kind=OrganisationKind.CONTRACTOR, region=factories.region("440106")
    )
    admin = UserFactory(username="c_admin", organisation=contractor, roles=[Role.PARTY_ADMIN])
    picture = tmp_path / "me.jpg"
    picture.write_bytes(picture_bytes(11, fmt="JPEG"))
    page = phone_page

    page.goto("/accounts/login/")
    page.get_by_test_id("person-register-link").click()
    expect(page.locator("[data-testid=photo-input]")).to_have_attribute("capture", "user")
    page.fill("input[name=full_name]", "李取样")
    page.fill("input[name=id_number]", FIRST17 + "0" if id_number_check_char(FIRST17) != "0" else FIRST17 + "1")
    page.fill("input[name=mobile]", "13912345678")
    page.fill("input[name=employer]", "建工第一")
    page.select_option("select[name=role]", Role.SAMPLER)
    page.set_input_files("[data-testid=photo-input]", str(picture))
    page.fill("input[name=username]", "li_sampler")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_text("身份证号码不正确")).to_be_visible()  # the check character, in Chinese
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone

    page.fill("input[name=id_number]", FIRST17 + id_number_check_char(FIRST17))
    page.set_input_files("[data-testid=photo-input]", str(picture))
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("registration-state")).to_have_text("待单位确认")
    status_url = page.url
    registration = Registration.objects.get()
    assert registration.organisation_id == contractor.pk and registration.user is None

    page.context.clear_cookies()
    sign_in(page, admin)
    page.goto(f"/accounts/registrations/{registration.pk}/")
    expect(page.get_by_test_id("id-number")).to_have_text(FIRST17 + id_number_check_char(FIRST17))
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("registration-table")).to_be_visible()

    page.context.clear_cookies()
    page.goto(status_url)
    expect(page.get_by_test_id("registration-state")).to_have_text("已确认")
    page.get_by_test_id("go-login").click()
    page.fill("input[name=username]", "li_sampler")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()
