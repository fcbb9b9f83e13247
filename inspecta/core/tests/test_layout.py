"""The layout every page shares: the navigation gathered into menus so the bar stays on
one line, table cells that do not wrap dates, statuses and numbers, the login page's
links for those without an account. The browser measures the boxes in
tests/e2e/test_layout_browser.py."""

from __future__ import annotations

import django_tables2 as tables
import pytest
from django.test import RequestFactory

from inspecta.core.context_processors import navigation
from inspecta.core.tables import BaseTable

pytestmark = pytest.mark.django_db

BAR_MAX = 7


@pytest.mark.parametrize("who", ["operator", "gd_admin", "gz_admin", "gz_supervisor"])
def test_the_bar_gathers_entries_into_menus(tree, who):
    request = RequestFactory().get("/accounts/users/")
    request.user = tree[who]
    context = navigation(request)
    bar, flat = context["nav_menu"], context["nav_items"]
    assert len(bar) <= BAR_MAX, [str(item["label"]) for item in bar]
    # every entry is on the bar or in exactly one menu, in the same order
    listed = [child["url"] for item in bar for child in item.get("children", [item])]
    assert sorted(listed) == sorted(item["url"] for item in flat)
    menus = {str(item["label"]): item for item in bar if item.get("children")}
    assert all(len(menu["children"]) > 1 for menu in menus.values())
    if who in ("operator", "gd_admin"):
        system = menus["系统管理"]
        assert bar[-1] is system or bar.index(system) > 0
        assert system["active"] and [c["active"] for c in system["children"]].count(True) == 1


def test_a_menu_of_one_entry_is_that_entry(tree):
    from inspecta.accounts.choices import OrganisationKind, Role
    from inspecta.core.testing.factories import OrganisationFactory, UserFactory

    agency = OrganisationFactory(kind=OrganisationKind.AGENCY, level="", region_code="440100", parent=tree["gz"])
    request = RequestFactory().get("/")
    request.user = UserFactory(username="nav_tester", organisation=agency, roles=[Role.TESTER])
    bar = navigation(request)["nav_menu"]
    labels = [str(item["label"]) for item in bar]
    assert "检测报告" in labels and "检测机构" in labels and "系统管理" not in labels
    # warnings and their rules are one menu, projects and their plans another; reports
    # alone stand as one entry
    assert [str(item["label"]) for item in bar if item.get("children")] == ["监督管理", "工程项目", "基础数据"]


class _Table(BaseTable):
    name = tables.Column("名称")
    status = tables.Column("状态")
    reported_on = tables.DateColumn(verbose_name="日期", format="Y-m-d")
    created_at = tables.DateTimeColumn(verbose_name="时间", format="Y-m-d H:i")
    remark = tables.Column("备注")

    nowrap = ("remark",)


def test_dates_statuses_and_named_columns_do_not_wrap():
    import datetime as dt

    table = _Table(
        [
            {
                "name": "某某检测有限公司",
                "status": "审核通过",
                "reported_on": dt.date(2026, 1, 2),
                "created_at": dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
                "remark": "x",
            }
        ]
    )
    cells = {column.name: column.attrs["td"].get("class") or "" for column in table.columns}
    assert "text-nowrap" not in cells["name"]
    for name in ("status", "reported_on", "created_at", "remark"):
        assert "text-nowrap" in cells[name].split(), name
    # a second table of the class starts from the declaration, not from the first's attrs
    assert "text-nowrap" not in str(_Table.base_columns["status"].attrs.get("td", {}).get("class"))


def test_login_page_links_registration_and_verification(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/register/"' in page
    assert 'href="/v/"' in page
