"""The base of every list table (django-tables2): the Tabler classes of the pages, no
column sorting (a list keeps the order of its selector, which the paging relies on),
and the cells that appear in many tables."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

NOWRAP_NAMES = frozenset({"status", "conclusion", "serial_number", "report_number", "number", "credit_code", "code"})
"""Columns that keep their value on one line wherever they appear: statuses, numbers, codes."""


def _nowrap(column: Any) -> None:
    attrs = column.attrs
    for part in ("th", "td"):
        cell = dict(attrs.get(part, {}))
        classes = str(cell.get("class", ""))
        if "text-nowrap" not in classes.split():
            cell["class"] = f"{classes} text-nowrap".strip()
        attrs[part] = cell


class BaseTable(tables.Table):
    """Subclasses declare their columns; ``Meta.attrs`` may add a ``data-testid``.

    Dates, times, statuses and numbers never wrap (date and time columns, the columns of
    :data:`NOWRAP_NAMES` and those a table names in ``nowrap``); on a narrow screen the
    table scrolls sideways with its first column held in place
    (``inspecta/static/inspecta/app.css``)."""

    nowrap: tuple[str, ...] = ()

    class Meta:
        attrs = {"class": "table table-vcenter card-table"}
        orderable = False
        empty_text = _("暂无记录")
        default = ""
        template_name = "generic/table.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for bound in self.columns.iterall():
            column = bound.column
            name = bound.name
            if (
                isinstance(column, tables.DateColumn | tables.DateTimeColumn)
                or name in NOWRAP_NAMES
                or name.endswith("_status")
                or name.endswith("_at")
                or name.endswith("_on")
                or name in self.nowrap
            ):
                _nowrap(column)


def date_or_dash(value: Any) -> str:
    """An ISO date, or a dash when there is none."""

    return value.isoformat() if value else "—"


def names(manager: Any) -> str:
    """The related objects of a (prefetched) many-to-many field, joined the Chinese way."""

    return "、".join(str(x) for x in manager.all()) or "—"


REGION_ACTIONS = """{% load i18n %}{% if can_edit %}<a href="{% url 'core:reference_edit' 'region' record.code %}">{% translate "更正" %}</a> · {% endif %}<a href="{% url 'core:reference_history' 'region' record.code %}">{% translate "历史" %}</a>"""
REGION_NAME = """{% load i18n %}{{ record.name }}{% if not record.enabled %} <span class="badge bg-secondary-lt">{% translate "停用" %}</span>{% endif %}"""
REGION_CHILDREN = """{% if record.child_count %}<a href="?parent={{ record.code }}">{{ record.child_count }}</a>{% else %}—{% endif %}"""


class RegionTable(BaseTable):
    code = tables.Column(_("代码"))
    name = tables.TemplateColumn(REGION_NAME, verbose_name=_("名称"))
    level = tables.Column(_("层级"))
    child_count = tables.TemplateColumn(REGION_CHILDREN, verbose_name=_("下级"))
    actions = tables.TemplateColumn(REGION_ACTIONS, verbose_name="", attrs={"td": {"class": "text-end"}})

    class Meta(BaseTable.Meta):
        empty_text = _("没有符合条件的行政区划")
