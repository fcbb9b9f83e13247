"""The tables of the test-data pages."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inspecta.core.tables import BaseTable


class TestRecordTable(BaseTable):
    __test__ = False

    number = tables.Column(_("原始记录编号"))
    kind = tables.Column(_("类别"))
    project = tables.Column(_("工程项目"), accessor="project__name")
    agency = tables.Column(_("检测机构"), accessor="agency__name")
    test_item = tables.Column(_("检测项目"), accessor="test_item__name")
    conclusion = tables.Column(_("结论"))
    started_at = tables.DateTimeColumn(verbose_name=_("检测时间"), format="Y-m-d H:i")
    revision = tables.Column(_("修订"))

    class Meta(BaseTable.Meta):
        attrs = {"class": "table card-table"}
        empty_text = _("暂无检测数据。")

    def render_number(self, record: Any, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("testing:record_detail", args=[record.pk]), value)

    def render_conclusion(self, record: Any, value: str) -> str:
        tone = {"qualified": "green", "nonconforming": "red"}.get(record.conclusion, "secondary")
        return format_html('<span class="badge bg-{}-lt">{}</span>', tone, record.get_conclusion_display())

    def render_revision(self, record: Any, value: int) -> str:
        return (
            format_html('<span class="badge bg-orange-lt">{}</span>', _("已修订 %(n)s 次") % {"n": value - 1})
            if value > 1
            else "—"
        )
