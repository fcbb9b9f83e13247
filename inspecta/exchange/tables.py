"""The tables of the exchange pages."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inspecta.core.tables import BaseTable


class ApplicationTable(BaseTable):
    system_name = tables.Column(_("系统名称"))
    organisation = tables.Column(_("申请单位"))
    auth_method = tables.Column(_("认证方式"))
    applied_at = tables.DateTimeColumn(verbose_name=_("申请时间"), format="Y-m-d H:i")
    status = tables.Column(_("状态"))

    class Meta(BaseTable.Meta):
        attrs = {"class": "table table-vcenter card-table", "data-testid": "applications"}
        empty_text = _("暂无接入申请。")

    def render_system_name(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("exchange:application_detail", args=[record.pk]), value)


class ClientTable(BaseTable):
    name = tables.Column(_("系统名称"))
    organisation = tables.Column(_("所属单位"))
    auth_method = tables.Column(_("认证方式"))
    scopes = tables.Column(_("授权范围"), attrs={"td": {"class": "small"}})
    is_active = tables.Column(_("状态"), empty_values=())
    last_seen_at = tables.DateTimeColumn(verbose_name=_("最近调用"), format="Y-m-d H:i", default="—")

    class Meta(BaseTable.Meta):
        attrs = {"class": "table table-vcenter card-table", "data-testid": "clients"}
        empty_text = _("暂无接入方。")

    def render_name(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("exchange:client_detail", args=[record.pk]), value)

    def render_scopes(self, value: list[str]) -> str:
        return ", ".join(value)

    def render_is_active(self, record: Any) -> str:
        if record.is_active:
            return format_html('<span class="badge bg-green-lt">{}</span>', _("启用"))
        return format_html('<span class="badge bg-secondary-lt">{}</span>', _("停用"))
