"""The tables of the account pages."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from inspecta.core.tables import BaseTable


class UserTable(BaseTable):
    username = tables.Column(_("用户名"))
    full_name = tables.Column(_("姓名"))
    organisation = tables.Column(_("单位"), default="—")
    region = tables.Column(_("行政区划"), accessor="organisation__region__name", default="—")
    roles = tables.Column(_("角色"), accessor="pk", empty_values=())
    is_active = tables.Column(_("状态"), empty_values=())

    class Meta(BaseTable.Meta):
        attrs = {"class": "table table-vcenter card-table", "data-testid": "user-table"}
        empty_text = _("没有符合条件的账号")

    def render_username(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("accounts:user_detail", args=[record.pk]), value)

    def render_roles(self, record: Any) -> str:
        return format_html_join(
            "",
            '<span class="badge bg-blue-lt me-1">{}</span>',
            ((g.get_role_display(),) for g in record.role_grants.all()),
        )

    def render_is_active(self, record: Any) -> str:
        if record.is_active:
            return format_html('<span class="badge bg-green-lt">{}</span>', _("启用"))
        return format_html('<span class="badge bg-red-lt">{}</span>', _("停用"))


class OrganisationTable(BaseTable):
    name = tables.Column(_("名称"))
    kind = tables.Column(_("类别"))
    level = tables.Column(_("层级"), default="—")
    region = tables.Column(_("行政区划"), default="—")
    parent = tables.Column(_("上级单位"), default="—")
    history = tables.Column("", accessor="pk", empty_values=(), attrs={"td": {"class": "text-end"}})

    class Meta(BaseTable.Meta):
        attrs = {"class": "table table-vcenter card-table", "data-testid": "organisation-table"}
        empty_text = _("暂无单位")

    def render_history(self, record: Any) -> str:
        return format_html('<a href="{}">{}</a>', reverse("accounts:organisation_history", args=[record.pk]), _("历史"))
