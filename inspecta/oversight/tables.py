"""The table of the warning list."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inspecta.core.tables import BaseTable

from .catalog import rule_label
from .choices import WarningStatus

STATUS_TONES: dict[str, str] = {
    WarningStatus.OPEN: "red",
    WarningStatus.ACKNOWLEDGED: "orange",
    WarningStatus.HANDLED: "blue",
    WarningStatus.CLOSED: "green",
}
SEVERITY_TONES = {"critical": "red", "warning": "orange", "info": "secondary"}


class WarningTable(BaseTable):
    rule = tables.Column(_("预警规则"))
    subject = tables.Column(_("对象"))
    agency = tables.Column(_("检测机构"), accessor="agency__name", default="—")
    region = tables.Column(_("所属地区"))
    severity = tables.Column(_("严重程度"))
    status = tables.Column(_("状态"))
    raised_at = tables.DateTimeColumn(verbose_name=_("发现时间"), format="Y-m-d H:i")
    assigned_region = tables.Column(_("承办"))

    class Meta(BaseTable.Meta):
        attrs = {"class": "table card-table", "data-testid": "warning-table"}
        empty_text = _("暂无预警。")

    def __init__(self, *args: Any, region_names: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region_names = region_names or {}

    def render_rule(self, record: Any, value: str) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("oversight:warning_detail", args=[record.pk]), rule_label(value)
        )

    def render_region(self, value: str) -> str:
        return self.region_names.get(value, value) or "—"

    def render_assigned_region(self, record: Any, value: str) -> str:
        name = self.region_names.get(value, value) or "—"
        if record.escalations:
            return format_html('{} <span class="badge bg-red-lt">{}</span>', name, _("已升级"))
        return name

    def render_severity(self, record: Any, value: str) -> str:
        return format_html(
            '<span class="badge bg-{}-lt">{}</span>',
            SEVERITY_TONES.get(value, "secondary"),
            record.get_severity_display(),
        )

    def render_status(self, record: Any, value: str) -> str:
        return format_html(
            '<span class="badge bg-{}-lt">{}</span>', STATUS_TONES.get(value, "secondary"), record.get_status_display()
        )


class NonconformanceTable(BaseTable):
    serial_number = tables.Column(_("统一流水号"), accessor="report__serial_number")
    project = tables.Column(_("工程项目"), accessor="project__name")
    agency = tables.Column(_("检测机构"), accessor="agency__name")
    test_item = tables.Column(_("检测项目"), accessor="test_item__name")
    created_at = tables.DateTimeColumn(verbose_name=_("登记时间"), format="Y-m-d H:i")
    closure_status = tables.Column(_("闭环状态"), empty_values=())

    class Meta(BaseTable.Meta):
        attrs = {"class": "table card-table", "data-testid": "nonconformance-table"}
        empty_text = _("暂无不合格记录。")

    def render_serial_number(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("oversight:nonconformance_detail", args=[record.pk]), value)

    def render_closure_status(self, record: Any) -> str:
        from django.template.defaultfilters import date

        if record.closed_at:
            return format_html(
                '<span class="badge bg-green-lt">{} {}</span>', _("已闭环"), date(record.closed_at, "Y-m-d")
            )
        if getattr(record, "overdue", False):
            return format_html('<span class="badge bg-red-lt">{}</span>', _("逾期未闭环"))
        if getattr(record, "pending", False):
            return format_html('<span class="badge bg-blue-lt">{}</span>', _("待监督站确认"))
        return format_html('<span class="badge bg-orange-lt">{}</span>', _("未闭环"))
