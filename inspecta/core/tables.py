"""The base of every list table (django-tables2): the Tabler classes of the pages, no
column sorting (a list keeps the order of its selector, which the paging relies on),
and the cells that appear in many tables."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _


class BaseTable(tables.Table):
    """Subclasses declare their columns; ``Meta.attrs`` may add a ``data-testid``."""

    class Meta:
        attrs = {"class": "table table-vcenter card-table"}
        orderable = False
        empty_text = _("暂无记录")
        default = ""
        template_name = "generic/table.html"


def date_or_dash(value: Any) -> str:
    """An ISO date, or a dash when there is none."""

    return value.isoformat() if value else "—"


def names(manager: Any) -> str:
    """The related objects of a (prefetched) many-to-many field, joined the Chinese way."""

    return "、".join(str(x) for x in manager.all()) or "—"
