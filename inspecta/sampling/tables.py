"""The tables of the sampling pages."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inspecta.core.tables import BaseTable

from .codes import display


class SampleTable(BaseTable):
    code = tables.Column(_("样品编码"))
    project = tables.Column(_("工程项目"), accessor="project__name")
    test_item = tables.Column(_("检测项目"), accessor="test_item__name")
    part = tables.Column(_("工程部位"))
    count = tables.Column(_("试件数"))
    status = tables.Column(_("状态"))
    sampled_at = tables.DateTimeColumn(verbose_name=_("取样时间"), format="Y-m-d H:i")

    class Meta(BaseTable.Meta):
        attrs = {"class": "table card-table"}
        empty_text = _("暂无样品。")

    def render_code(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("sampling:sample_detail", args=[record.pk]), display(value))


class CommissionTable(BaseTable):
    number = tables.Column(_("委托单编号"), accessor="sequence", order_by=("year", "sequence"))
    project = tables.Column(_("工程项目"), accessor="project__name")
    agency = tables.Column(_("检测机构"), accessor="agency__name")
    status = tables.Column(_("状态"))
    lims_number = tables.Column(_("检测机构系统编号"))
    created_at = tables.DateTimeColumn(verbose_name=_("填写时间"), format="Y-m-d H:i")

    class Meta(BaseTable.Meta):
        attrs = {"class": "table card-table"}
        empty_text = _("暂无委托单。")

    def render_number(self, record: Any, value: int) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("sampling:commission_detail", args=[record.pk]), record.number
        )
