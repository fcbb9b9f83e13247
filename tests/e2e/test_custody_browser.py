"""Custody events walked in Chromium on 390 px phones (Nanchang 四(一), 四(三)): the
sampler records a concrete batch on arrival with its slump placard photo (through tus,
with the phone's position) and confirms it with the phone's passkey, the witness
confirms it on their own phone; on a sealed sample the sampler records 养护入室 and
confirms, and the witness confirms in turn. Passkeys as in ``test_sampling_browser``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from test_sampling_browser import CHROMIUM, _carry_passkey, _fits, _phone, _picture

from inspecta.core.testing.browser import sign_in
from inspecta.sampling.models import ConcreteBatch, CustodyEvent
from inspecta.sampling.testing import sampling_scene, sealed_sample

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def _confirm_on(page: Any, seed: int) -> None:
    page.set_input_files("#live-input", [_picture(seed)])
    expect(page.get_by_test_id("live-status")).to_contain_text("已上传")
    expect(page.get_by_test_id("confirm-geo")).to_contain_text("已定位")
    _fits(page)
    with page.expect_navigation():
        page.get_by_role("button", name="用指纹或面容确认").click()
    page.wait_for_load_state("networkidle")


def test_custody_events_on_phones(
    browser: Any, live_server: Any, e2e_tree: dict[str, Any], settings: Any, screenshot: Any
) -> None:
    settings.INSPECTA_WEBAUTHN_RP_ID = "localhost"
    settings.INSPECTA_WEBAUTHN_ORIGINS = [live_server.url]
    scene = sampling_scene(e2e_tree)
    sample = sealed_sample(scene)

    # --- the concrete arrives: the sampler records it from the project's page
    sampler = _phone(browser, live_server)
    _carry_passkey(sampler, scene["sampler_phone"])
    sign_in(sampler, scene["sampler"])
    sampler.goto(f"/projects/{scene['project'].pk}/")
    with sampler.expect_navigation():
        sampler.get_by_role("link", name="混凝土进场").click()
    expect(sampler.get_by_test_id("geo-status")).to_contain_text("已定位")
    sampler.fill("input[name=part]", "三层梁板")
    sampler.fill("input[name=volume_m3]", "12.5")
    sampler.fill("input[name=strength_grade]", "C30")
    sampler.fill("input[name=producer]", "广州某混凝土有限公司")
    sampler.fill("input[name=slump_mm]", "180")
    sampler.set_input_files("#slump_photos-input", [_picture(61)])
    expect(sampler.locator("#slump_photos-list [data-uploaded]")).to_have_count(1)
    _fits(sampler)
    screenshot(sampler, "custody-batch")
    with sampler.expect_navigation():
        sampler.get_by_role("button", name="提交进场记录").click()
    batch = ConcreteBatch.objects.get()
    assert sampler.url.endswith(f"/sampling/batches/{batch.pk}/")
    sampler.wait_for_load_state("networkidle")
    _confirm_on(sampler, 62)
    assert batch.confirmations.count() == 1

    witness = _phone(browser, live_server)
    _carry_passkey(witness, scene["witness_phone"])
    sign_in(witness, scene["witness"])
    witness.goto(f"/sampling/batches/{batch.pk}/")
    expect(witness.get_by_role("heading", name="见证人确认")).to_be_visible()
    _confirm_on(witness, 63)
    batch.refresh_from_db()
    assert batch.confirmed_at is not None and batch.witness == scene["witness"]

    # --- into the curing room, from the sample's page
    sampler.goto(f"/sampling/{sample.pk}/")
    expect(sampler.get_by_test_id("custody-curing_out")).to_have_count(0)
    with sampler.expect_navigation():
        sampler.get_by_test_id("custody-curing_in").click()
    expect(sampler.get_by_test_id("geo-status")).to_contain_text("已定位")
    sampler.fill("input[name=room]", "现场标准养护室")
    sampler.set_input_files("#photos-input", [_picture(64)])
    expect(sampler.locator("#photos-list [data-uploaded]")).to_have_count(1)
    _fits(sampler)
    screenshot(sampler, "custody-curing-in")
    with sampler.expect_navigation():
        sampler.get_by_role("button", name="提交").click()
    sampler.wait_for_load_state("networkidle")
    expect(sampler.get_by_test_id("custody-timeline")).to_contain_text("现场标准养护室")
    _confirm_on(sampler, 65)

    witness.goto(f"/sampling/{sample.pk}/")
    expect(witness.get_by_role("heading", name="见证人确认")).to_be_visible()
    _confirm_on(witness, 66)
    witness.wait_for_load_state("networkidle")
    event = CustodyEvent.objects.get()
    assert event.confirmed_at is not None and event.confirmations.count() == 2
    # once in the room, the sampler is offered the exit and nothing else
    sampler.goto(f"/sampling/{sample.pk}/")
    expect(sampler.get_by_test_id("custody-curing_out")).to_be_visible()
    expect(sampler.get_by_test_id("custody-transport")).to_have_count(0)
    _fits(sampler)
    # let both phones finish their requests before the test database is flushed
    sampler.wait_for_load_state("networkidle")
    witness.wait_for_load_state("networkidle")
