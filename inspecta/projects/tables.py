"""The tables of the project pages."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
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
