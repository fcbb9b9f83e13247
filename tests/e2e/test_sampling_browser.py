"""The chain of custody walked in Chromium on 390 px phones, as its people do it: the
sampler records a sampling (tags, photos through tus, the phone's position) and confirms
it with the phone's passkey; the witness confirms on their own phone, which seals the
sample; the seal label's QR is read back from the printed PDF; the deliverer shows a
one-time code; the receiver enters the tags, the seal and the code, photographs and
accepts; a report naming the sample shows the chain on the public verification page.

Passkeys: each person's passkey is registered with the platform from a software phone
(``accounts.testing.SoftAuthenticator``) and the same key is placed into Chromium's
virtual authenticator (CDP ``WebAuthn.addCredential``), so the browser signs with it.
Served on ``localhost``: WebAuthn refuses an IP address as relying party id.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import expect

from inspecta.core.testing.browser import sign_in
from inspecta.reports import services as report_services
from inspecta.reports.testing import submission
from inspecta.sampling.choices import SampleStatus
from inspecta.sampling.demo import picture_bytes
from inspecta.sampling.models import Sample
from inspecta.sampling.seal import seal_decode
from inspecta.sampling.testing import sampling_scene

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")
SITE = {"latitude": 23.1301, "longitude": 113.3301, "accuracy": 8}
PHONE = {"width": 390, "height": 844}  # as the phone_page fixture
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def _phone(browser: Any, live_server: Any) -> Any:
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        geolocation=SITE,
        permissions=["geolocation"],
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def _carry_passkey(page: Any, phone: Any) -> None:
    """Put the person's registered passkey into this browser's virtual authenticator."""

    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]
    key = phone.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cdp.send(
        "WebAuthn.addCredential",
        {
            "authenticatorId": authenticator,
            "credential": {
                "credentialId": base64.b64encode(phone.credential_id).decode(),
                "isResidentCredential": True,
                "rpId": phone.rp_id,
                "privateKey": base64.b64encode(key).decode(),
                "userHandle": base64.b64encode(phone.user_handle).decode(),
                "signCount": phone.sign_count,
            },
        },
    )


def _picture(seed: int) -> dict[str, Any]:
    return {"name": f"photo-{seed}.png", "mimeType": "image/png", "buffer": picture_bytes(seed)}


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "wider than the phone"


def _qr_text(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "label.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "300", "-png", str(path), str(Path(folder) / "page")], check=True)
        image = sorted(Path(folder).glob("page*.png"))[0]
        out = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True, text=True, check=True)
        return out.stdout.strip()


@pytest.mark.skipif(not (shutil.which("zbarimg") and shutil.which("pdftoppm")), reason="zbar-tools and poppler")
def test_the_chain_of_custody_on_phones(
    browser: Any, live_server: Any, e2e_tree: dict[str, Any], settings: Any, screenshot: Any
) -> None:
    assert live_server.url.startswith("http://localhost:")
    settings.INSPECTA_WEBAUTHN_RP_ID = "localhost"
    settings.INSPECTA_WEBAUTHN_ORIGINS = [live_server.url]
    scene = sampling_scene(e2e_tree)
    project, agency = scene["project"], scene["agency"]

    # --- the sampler records the sampling on site
    sampler = _phone(browser, live_server)
    _carry_passkey(sampler, scene["sampler_phone"])
    sign_in(sampler, scene["sampler"])
    sampler.goto("/sampling/")
    with sampler.expect_navigation():
        sampler.get_by_role("link", name="记录取样").click()
    expect(sampler.get_by_test_id("geo-status")).to_contain_text("已定位")
    sampler.select_option("select[name=project]", str(project.pk))
    sampler.select_option("select[name=agency]", str(agency.pk))
    sampler.select_option("select[name=test_item]", scene["item"].code)
    sampler.fill("input[name=part]", "三层梁板")
    sampler.fill("input[name=count]", "2")
    sampler.fill("input[name=dimensions]", "150×150×150 mm")
    sampler.fill("textarea[name=tags]", "E2E-TAG-1\nE2E-TAG-2")
    expect(sampler.get_by_test_id("tag-count")).to_contain_text("已录入 2 个")
    sampler.set_input_files("#specimen-input", [_picture(31), _picture(32)])
    sampler.set_input_files("#placard-input", [_picture(33)])
    try:
        expect(sampler.locator("#specimen-list [data-uploaded]")).to_have_count(2)
    except AssertionError:
        raise AssertionError(sampler.locator("#specimen-list").inner_text()) from None
    expect(sampler.locator("#placard-list [data-uploaded]")).to_have_count(1)
    _fits(sampler)
    screenshot(sampler, "sampling-record")
    with sampler.expect_navigation():
        sampler.get_by_role("button", name="提交取样记录").click()
    sample = Sample.objects.get(project=project)
    assert sampler.url.endswith(f"/sampling/{sample.pk}/")
    sampler.wait_for_load_state("networkidle")
    assert float(sample.latitude) == pytest.approx(SITE["latitude"]) and sample.distance_m is not None

    # --- and confirms it with the phone's fingerprint
    sampler.set_input_files("#live-input", [_picture(34)])
    expect(sampler.get_by_test_id("live-status")).to_contain_text("已上传")
    expect(sampler.get_by_test_id("confirm-geo")).to_contain_text("已定位")
    with sampler.expect_navigation():
        sampler.get_by_role("button", name="用指纹或面容确认").click()
    expect(sampler.locator(".page-pretitle")).to_have_text(str(SampleStatus.CONFIRMED.label))
    sampler.wait_for_load_state("networkidle")
    sample.refresh_from_db()
    assert sample.status == SampleStatus.CONFIRMED
    assert sample.confirmations.get().factor == "passkey"

    # --- the witness confirms on their own phone: the sample is sealed
    witness = _phone(browser, live_server)
    _carry_passkey(witness, scene["witness_phone"])
    sign_in(witness, scene["witness"])
    witness.goto(f"/sampling/{sample.pk}/")
    expect(witness.get_by_role("heading", name="见证人确认并封样")).to_be_visible()
    witness.set_input_files("#live-input", [_picture(35)])
    expect(witness.get_by_test_id("live-status")).to_contain_text("已上传")
    expect(witness.get_by_test_id("confirm-geo")).to_contain_text("已定位")
    _fits(witness)
    screenshot(witness, "sampling-witness")
    with witness.expect_navigation():
        witness.get_by_role("button", name="用指纹或面容确认").click()
    expect(witness.locator(".page-pretitle")).to_have_text(str(SampleStatus.SEALED.label))
    # the page's photos load in parallel; the test's own requests come after them (the
    # in-memory SQLite of the live server locks a table per writer: sessions are written)
    witness.wait_for_load_state("networkidle")
    sample.refresh_from_db()
    assert sample.status == SampleStatus.SEALED

    # the seal label is printed; its QR reads back as the seal, which verifies
    label = witness.request.get(f"/sampling/{sample.pk}/seal.pdf")
    assert label.ok and label.headers["content-type"] == "application/pdf"
    seal_text = _qr_text(label.body())
    assert seal_text == sample.seal.text and seal_decode(seal_text).valid

    # --- the deliverer shows a one-time code at the agency
    sampler.goto("/sampling/handover/")
    sampler.get_by_role("button", name="用指纹或面容核验并生成").click()
    expect(sampler.get_by_test_id("handover-qr")).to_be_visible()
    handover = sampler.locator("#handover-code").inner_text().strip()
    assert handover.startswith("HANDOVER1:")

    # --- the receiver enters the tags, the seal and the code, photographs, accepts
    receiver = _phone(browser, live_server)
    sign_in(receiver, scene["receiver"])
    receiver.goto("/sampling/receive/")
    for code in ("E2E-TAG-1", "E2E-TAG-2", seal_text, handover):
        receiver.fill("#manual-code", code)
        receiver.get_by_role("button", name="录入").click()
        if code == "E2E-TAG-1":
            expect(receiver.get_by_test_id("sample-card")).to_be_visible()
    expect(receiver.locator("#tag-list .text-success")).to_have_count(2)
    expect(receiver.get_by_test_id("seal-state")).to_contain_text("已扫描")
    expect(receiver.get_by_test_id("handover-state")).to_contain_text("已扫描")
    receiver.set_input_files("#receipt-input", [{**_picture(31), "name": "again.png"}])
    receiver.set_input_files("#deliverer-input", [_picture(36)])
    expect(receiver.locator("#receipt-status")).to_have_text("已上传")
    expect(receiver.locator("#deliverer-status")).to_have_text("已上传")
    _fits(receiver)
    receiver.evaluate("document.getElementById('sample-card').scrollIntoView({block: 'center'})")
    screenshot(receiver, "sampling-receive")
    with receiver.expect_navigation():
        receiver.get_by_role("button", name="收样", exact=True).click()
    expect(receiver.get_by_test_id("receipt-outcome")).to_have_text("收样")
    receiver.wait_for_load_state("networkidle")
    sample.refresh_from_db()
    assert sample.status == SampleStatus.RECEIVED
    assert sample.receipt.seal_ok and sample.receipt.tags_ok and sample.receipt.photos_ok

    # --- a report naming the sample shows the chain to anyone who scans its QR
    report = report_services.report_submit(
        actor=scene["agency_admin"],
        **submission(agency, scene["made"], project, number="R-E2E-CHAIN", samples=[sample.code]),
    )
    public = _phone(browser, live_server)
    public.goto(f"/v/{report.verification_code}")
    expect(public.locator("[data-step=witnessed_sampling]")).to_contain_text(sample.code)
    expect(public.locator("[data-step=seal]")).to_contain_text("封志签名有效")
    expect(public.locator("[data-step=receipt]")).to_be_visible()
    assert scene["witness"].full_name not in public.content()
    _fits(public)
