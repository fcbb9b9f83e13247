"""The filters of the access-application list, shared by the page and
``GET /api/v1/exchange/applications`` (T/CECS 6.0.7)."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from inspecta.core.filtersets import BaseFilterSet

from .models import AccessApplication


class ApplicationFilterSet(BaseFilterSet):
    status = django_filters.CharFilter(label=_("状态"))

    class Meta(BaseFilterSet.Meta):
        model = AccessApplication
        fields: list[str] = []

    def narrow_form(self, form: forms.Form) -> None:
        """The page offers the three statuses of its buttons."""

        form.fields["status"] = forms.ChoiceField(
            label=_("状态"),
            required=False,
            choices=[("", _("全部")), ("pending", _("待审核")), ("approved", _("已批准")), ("rejected", _("已驳回"))],
        )
