"""Browser test of the searchable pickers: a city supervisor registers a project by
choosing its region and agency by name (typing narrows the lists); an agency's equipment
form shows only the parameters of the chosen test item, each with its item.

Run: ``uv run pytest tests/e2e/test_forms_browser.py -q``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from inspecta.core.testing.browser import sign_in
from inspecta.projects.models import Project
from inspecta.registry.testing import CEMENT
from inspecta.reports.testing import approved_agency

CHROMIUM = os.environ.get("INSPECTA_CHROMIUM", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def _visible(page: Any, select: str) -> list[str]:
    return page.eval_on_selector(
        select, "s => Array.from(s.options).filter(o => o.value && !o.hidden).map(o => o.value)"
    )


def test_pickers_narrow_by_typing_and_by_the_chosen_item(page: Any, e2e_tree: dict[str, Any]) -> None:
    first, admin, _made = approved_agency(e2e_tree, 851)
    second, _admin2, _made2 = approved_agency(e2e_tree, 852)
    sign_in(page, e2e_tree["gz_supervisor"])
    page.goto("/projects/new/")
    page.fill("input[name=code]", "E2E-PICK")
    page.fill("input[name=name]", "选取测试工程")
    page.fill("input[name=address]", "天河路 1 号")
    page.fill("input[data-picker-search=id_region_code]", "天河")
    visible = _visible(page, "select[name=region_code]")
    assert "440106" in visible and "440104" not in visible
    page.select_option("select[name=region_code]", "440106")
    page.fill("input[data-picker-search=id_agencies]", first.name)
    assert _visible(page, "select[name=agencies]") == [str(first.pk)]
    page.select_option("select[name=agencies]", [str(first.pk)])
    with page.expect_navigation():
        page.get_by_role("button", name="保存", exact=True).click()
    project = Project.objects.get(code="E2E-PICK")
    assert [p.agency_id for p in project.parties.filter(role="agency")] == [first.pk]
    assert second.pk != first.pk

    page.context.clear_cookies()
    sign_in(page, admin)
    page.goto(f"/registry/{first.pk}/equipment/new/")
    every = page.eval_on_selector("select[name=parameters]", "s => s.options.length")
    page.select_option("select[name=test_items]", [CEMENT])
    shown = _visible(page, "select[name=parameters]")
    assert "IP-0001" in shown and 0 < len(shown) < every
    label = page.eval_on_selector("select[name=parameters] option[value='IP-0001']", "o => o.text")
    assert "水泥" in label
