"""The tables of the report pages."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inspecta.core.tables import BaseTable


class ReportTable(BaseTable):
    serial_number = tables.Column(_("统一流水号"))
    report_number = tables.Column(_("报告编号"))
    agency = tables.Column(_("检测机构"), accessor="agency__name")
    project = tables.Column(_("工程项目"), accessor="project__name")
    test_item = tables.Column(_("检测项目"), accessor="test_item__name")
    conclusion = tables.Column(_("结论"))
    status = tables.Column(_("状态"))
    reported_on = tables.DateColumn(verbose_name=_("报告日期"), format="Y-m-d")

    class Meta(BaseTable.Meta):
        empty_text = _("没有符合条件的报告。")

    def render_serial_number(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("reports:report_detail", args=[record.pk]), value)

    def render_status(self, record: Any) -> str:
        status = str(record.get_status_display())
        if getattr(record, "pending_amendment", False):
            return format_html(
                '{} <span class="badge bg-yellow-lt" data-testid="pending-amendment">{}</span>', status, _("变更待审批")
            )
        return status

    def render_conclusion(self, record: Any) -> str:
        if record.conclusion == "nonconforming":
            return format_html('<span class="badge bg-red-lt">{}</span>', record.get_conclusion_display())
        return str(record.get_conclusion_display())


class DraftTable(BaseTable):
    """Report drafts in sign-off (``signoff``)."""

    report_number = tables.Column(_("报告编号"))
    status = tables.Column(_("状态"))
    tester = tables.Column(_("检测人"), accessor="tester__name")
    reviewer = tables.Column(_("审核人"), accessor="reviewer__name")
    signatory = tables.Column(_("批准人"), accessor="signatory__name")
    prepared_at = tables.DateTimeColumn(verbose_name=_("编制时间"), format="Y-m-d H:i")

    class Meta(BaseTable.Meta):
        empty_text = _("没有报告草稿。")

    def render_report_number(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("reports:draft_detail", args=[record.pk]), value)
