"""A supervisor reads the test data of her region all day (T/CECS 4.3.4-4; Guangxi
第十三条): the list filters by conclusion, a record shows its raw values, the curves the
instrument collected, and each revision with its reason, before and after; the same page
fits a 390 px phone."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from test_sampling_browser import CHROMIUM, _fits, _phone

from inspecta.core.testing.browser import sign_in
from inspecta.testing import services
from inspecta.testing.demo import demo_parameters
from inspecta.testing.instruments import instrument_ingest
from inspecta.testing.testing import lab_fields, scene_with_sample

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def _readings(scene: dict[str, Any], number: str) -> None:
    now = timezone.now()
    items = []
    for specimen in (1, 2, 3):
        peak = 1070 + 15 * specimen
        force = [round(peak * math.sin(math.pi * i / 1200) ** 2, 2) for i in range(1200)]
        items.append(
            {
                "source_id": f"ACQ-{specimen}",
                "record_number": number,
                "equipment": scene["made"]["equipment"].asset_no,
                "parameter": "IP-0003",
                "specimen": specimen,
                "collected_at": now,
                "value": str(max(force)),
                "unit": "kN",
                "curve": {"y": force, "dt": 0.05, "x_unit": "s", "y_unit": "kN"},
            }
        )
    outcomes = instrument_ingest(actor=scene["agency_admin"], agency=scene["agency"], items=items)
    assert [o.status for o in outcomes] == ["accepted"] * 3  # type: ignore[union-attr]


def test_a_supervisor_reads_a_test_record_its_curves_and_its_revisions(
    browser: Any, live_server: Any, e2e_tree: dict[str, Any], screenshot: Any
) -> None:
    scene = scene_with_sample(e2e_tree)
    _readings(scene, "JK-SN-0101")
    record = services.test_record_upload(
        actor=scene["agency_admin"], agency=scene["agency"], **lab_fields(scene, "JK-SN-0101")
    )
    services.test_record_revise(
        actor=scene["agency_admin"],
        record=record,
        reason="第 6 块试件抗压强度录入错误，按原始记录更正",
        parameters=demo_parameters(["48.2", "47.9", "49.1", "48.6", "47.5", "49.0"]),
    )

    page = browser.new_page(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    sign_in(page, e2e_tree["gz_supervisor"])
    page.goto("/testing/")
    expect(page.locator("table")).to_contain_text("JK-SN-0101")
    page.locator("select[name=conclusion]").select_option("nonconforming")
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    expect(page.locator("table")).to_contain_text("暂无检测数据。")
    page.locator("select[name=conclusion]").select_option("qualified")
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    with page.expect_navigation():
        page.get_by_role("link", name="JK-SN-0101").click()

    expect(page.get_by_test_id("record-conclusion")).to_have_text("合格")
    expect(page.get_by_test_id("record-parameter")).to_have_count(4)
    expect(page.get_by_test_id("record-reading")).to_have_count(3)
    expect(page.locator("#record-curves canvas").first).to_be_visible()
    revisions = page.get_by_test_id("record-revision")
    expect(revisions).to_have_count(2)
    latest = revisions.first
    expect(latest).to_contain_text("第 2 次修订")
    expect(latest).to_contain_text("按原始记录更正")
    expect(latest.locator("del")).to_contain_text("48.8")
    expect(latest.locator("ins")).to_contain_text("49.0")
    record.refresh_from_db()
    expect(page.get_by_test_id("record-sha256")).to_have_text(record.sha256)
    screenshot(page, "testing-record", full_page=True)

    phone = _phone(browser, live_server)
    phone.context.add_cookies(page.context.cookies())  # the same session (a code is good once)
    phone.goto(f"/testing/{record.pk}/")
    expect(phone.get_by_test_id("record-parameter")).to_have_count(4)
    expect(phone.locator("#record-curves canvas").first).to_be_visible()
    _fits(phone)
    screenshot(phone, "testing-record-phone", full_page=True)
