"""A commission (委托单; Nanchang 四(四)1) walked in Chromium on 390 px phones: the
deliverer picks the project, the agency and a sealed sample, submits, and confirms with
the phone's passkey; the witness confirms on their own phone; the printed form's QR reads
back as the commission's address.

Passkeys and phones as in ``test_sampling_browser`` (the same helpers)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from test_sampling_browser import CHROMIUM, _carry_passkey, _fits, _phone, _picture, _qr_text

from inspecta.core.testing.browser import sign_in
from inspecta.sampling.choices import CommissionStatus
from inspecta.sampling.documents import commission_url
from inspecta.sampling.models import Commission
from inspecta.sampling.testing import sampling_scene
from inspecta.sampling.tests.test_commissions import sealed

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


@pytest.mark.skipif(not (shutil.which("zbarimg") and shutil.which("pdftoppm")), reason="zbar-tools and poppler")
def test_a_commission_on_phones(
    browser: Any, live_server: Any, e2e_tree: dict[str, Any], settings: Any, screenshot: Any
) -> None:
    settings.INSPECTA_WEBAUTHN_RP_ID = "localhost"
    settings.INSPECTA_WEBAUTHN_ORIGINS = [live_server.url]
    scene = sampling_scene(e2e_tree)
    sample = sealed(scene, 51)

    # --- the deliverer fills the commission
    deliverer = _phone(browser, live_server)
    _carry_passkey(deliverer, scene["sampler_phone"])
    sign_in(deliverer, scene["sampler"])
    deliverer.goto("/sampling/commissions/")
    with deliverer.expect_navigation():
        deliverer.get_by_role("link", name="填写委托单").click()
    deliverer.select_option("select[name=project]", str(scene["project"].pk))
    deliverer.select_option("select[name=agency]", str(scene["agency"].pk))
    with deliverer.expect_navigation():
        deliverer.get_by_role("button", name="下一步：选择样品").click()
    expect(deliverer.get_by_test_id("sample-choice")).to_have_count(1)
    deliverer.get_by_test_id("sample-choice").click()
    # asks for one parameter of the sample's item (none ticked would mean the whole item)
    deliverer.get_by_test_id("sample-parameters").locator("summary").click()
    parameter = deliverer.get_by_test_id("sample-parameters").locator("input[type=checkbox]").first
    wanted = parameter.get_attribute("value")
    parameter.check()
    deliverer.fill("textarea[name=notes]", "按标准检测抗压强度")
    _fits(deliverer)
    screenshot(deliverer, "commission-fill")
    with deliverer.expect_navigation():
        deliverer.get_by_role("button", name="提交委托单").click()
    commission = Commission.objects.get()
    assert deliverer.url.endswith(f"/sampling/commissions/{commission.pk}/")
    assert list(commission.lines.values_list("sample_id", "parameters")) == [(sample.pk, [wanted])]
    deliverer.wait_for_load_state("networkidle")

    # --- and confirms it
    expect(deliverer.get_by_role("heading", name="送样人确认委托单")).to_be_visible()
    deliverer.set_input_files("#live-input", [_picture(52)])
    expect(deliverer.get_by_test_id("live-status")).to_contain_text("已上传")
    expect(deliverer.get_by_test_id("confirm-geo")).to_contain_text("已定位")
    with deliverer.expect_navigation():
        deliverer.get_by_role("button", name="用指纹或面容确认").click()
    expect(deliverer.get_by_test_id("commission-status")).to_have_text(str(CommissionStatus.DELIVERER_CONFIRMED.label))
    deliverer.wait_for_load_state("networkidle")

    # --- the witness confirms on their own phone
    witness = _phone(browser, live_server)
    _carry_passkey(witness, scene["witness_phone"])
    sign_in(witness, scene["witness"])
    witness.goto(f"/sampling/commissions/{commission.pk}/")
    expect(witness.get_by_role("heading", name="见证人确认委托单")).to_be_visible()
    witness.set_input_files("#live-input", [_picture(53)])
    expect(witness.get_by_test_id("live-status")).to_contain_text("已上传")
    expect(witness.get_by_test_id("confirm-geo")).to_contain_text("已定位")
    _fits(witness)
    screenshot(witness, "commission-witness")
    with witness.expect_navigation():
        witness.get_by_role("button", name="用指纹或面容确认").click()
    expect(witness.get_by_test_id("commission-status")).to_have_text(str(CommissionStatus.CONFIRMED.label))
    witness.wait_for_load_state("networkidle")
    commission.refresh_from_db()
    assert commission.status == CommissionStatus.CONFIRMED
    assert [c.factor for c in commission.confirmations.order_by("at")] == ["passkey", "passkey"]

    # the printed form's QR is the commission's address
    form = witness.request.get(f"/sampling/commissions/{commission.pk}/form.pdf")
    assert form.ok and form.headers["content-type"] == "application/pdf"
    assert _qr_text(form.body()) == commission_url(commission)
