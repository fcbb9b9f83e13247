"""Forms of the log explorer pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inspecta.core.forms import PlainForm

MAX_INDEX = 2**63 - 1


class IndexSearchForm(PlainForm):
    """Find an entry by its index in the log (T/CECS 4.1.2): a non-negative integer."""

    _invalid = _("请输入非负整数序号。")

    index = forms.IntegerField(
        label=_("序号"),
        min_value=0,
        max_value=MAX_INDEX,
        error_messages={"invalid": _invalid, "min_value": _invalid, "max_value": _invalid, "required": _invalid},
    )
