"""A contractor's admin names the project's sampler on a 390 px phone (Nanchang 一(二)):
the project page offers only their own organisation's people, the naming shows at once,
another sampler of the firm may then no longer record there, and 解除 ends it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from test_sampling_browser import CHROMIUM, _fits, _phone

from inspecta.accounts.choices import Role
from inspecta.core.testing.browser import sign_in
from inspecta.core.testing.factories import UserFactory
from inspecta.projects.models import ProjectPerson
from inspecta.sampling.permissions import may_record_on
from inspecta.sampling.testing import sampling_scene

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def test_the_party_admin_names_and_ends_a_sampler(
    browser: Any, live_server: Any, e2e_tree: dict[str, Any], screenshot: Any
) -> None:
    scene = sampling_scene(e2e_tree, named=False)
    project, sampler = scene["project"], scene["sampler"]
    other = UserFactory(username="other_sampler", organisation=scene["contractor"], roles=[Role.SAMPLER])

    page = _phone(browser, live_server)
    sign_in(page, scene["contractor_admin"])
    page.goto(f"/projects/{project.pk}/")
    people = page.get_by_test_id("project-people")
    expect(people).to_contain_text("本项目尚未指定取样人、见证人。")
    form = page.get_by_test_id("name-person")
    # only the contractor's own people are offered (not the supervising firm's witness)
    offered = form.locator("select[name=person] option").all_inner_texts()
    assert any(sampler.full_name in o for o in offered) and not any(scene["witness"].full_name in o for o in offered)
    form.locator("select[name=person]").select_option(str(sampler.pk))
    form.locator("select[name=duty]").select_option("sampler")
    _fits(page)
    with page.expect_navigation():
        form.get_by_role("button", name="指定").click()
    expect(page.locator(".alert-success")).to_contain_text(f"已指定 {sampler.full_name} 为本项目取样人")
    expect(people.get_by_test_id("named-person")).to_have_count(1)
    expect(people.get_by_test_id("named-person").first).to_contain_text(sampler.full_name)
    screenshot(page, "project-people")
    assert may_record_on(sampler, project) and not may_record_on(other, project)

    with page.expect_navigation():
        people.get_by_role("button", name="解除").click()
    expect(people.get_by_test_id("named-person").first).to_contain_text("已解除")
    expect(people.get_by_role("button", name="解除")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert ProjectPerson.objects.get().ended_at is not None
    assert may_record_on(other, project)
