"""The tables of the project pages."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inspecta.core.tables import BaseTable


class ProjectTable(BaseTable):
    code = tables.Column(_("项目编号"))
    name = tables.Column(_("项目名称"))
    region = tables.Column(_("行政区划"), accessor="region__name")
    supervision_number = tables.Column(_("监督登记号"))
    station = tables.Column(_("监督站"), accessor="station__name", default="—")

    class Meta(BaseTable.Meta):
        attrs = {"class": "table card-table"}
        empty_text = _("暂无项目。")

    def render_name(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("projects:project_detail", args=[record.pk]), value)


class PlanTable(BaseTable):
    planned_start = tables.Column(_("计划时间"))
    project = tables.Column(_("工程项目"), accessor="project__name")
    agency = tables.Column(_("检测机构"), accessor="agency__name")
    test_item = tables.Column(_("检测项目"), accessor="test_item__name")
    location = tables.Column(_("检测部位"))
    quantity = tables.Column(_("数量"))
    status = tables.Column(_("状态"))
    version = tables.Column(_("版本"))

    class Meta(BaseTable.Meta):
        attrs = {"class": "table card-table"}
        empty_text = _("暂无检测方案。")

    def render_planned_start(self, record: Any) -> str:
        start = timezone.localtime(record.planned_start)
        end = timezone.localtime(record.planned_end)
        return format_html(
            '<a href="{}" class="text-nowrap">{} — {}</a>',
            reverse("projects:plan_detail", args=[record.pk]),
            f"{start:%Y-%m-%d %H:%M}",
            f"{end:%m-%d %H:%M}",
        )

    def render_quantity(self, record: Any) -> str:
        return f"{record.quantity} {record.quantity_unit}"

    def render_status(self, record: Any) -> str:
        return str(record.get_status_display())

    def render_version(self, value: int) -> str:
        return f"v{value}"
