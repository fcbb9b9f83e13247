"""The filters of the report list, shared by the page, its Excel export and
``GET /api/v1/reports/`` (Nanchang 三(一): by region, agency, project, test item,
conclusion, status and report date)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from inspecta.core.filtersets import BaseFilterSet, IntegerFilter
from inspecta.core.limits import MAX_ID
from inspecta.core.scoping import region_prefix

from .models import Report


class ReportFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(label=_("报告编号/流水号"), method="filter_q")
    region = django_filters.CharFilter(label=_("行政区划"), method="filter_region")
    agency = IntegerFilter(label=_("检测机构"), field_name="agency_id", min_value=1, max_value=MAX_ID)
    project_q = django_filters.CharFilter(label=_("项目编号/名称"), method="filter_project_q", max_length=100)
    project = IntegerFilter(field_name="project_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    test_item = django_filters.CharFilter(label=_("检测项目"), field_name="test_item_id")
    conclusion = django_filters.CharFilter(label=_("结论"))
    status = django_filters.CharFilter(label=_("状态"))
    date_from = django_filters.DateFilter(label=_("报告日期自"), field_name="reported_on", lookup_expr="gte")
    date_to = django_filters.DateFilter(label=_("报告日期至"), field_name="reported_on", lookup_expr="lte")
    amendment = django_filters.ChoiceFilter(
        label=_("变更申请"), choices=[("pending", _("有待审批的变更"))], method="filter_amendment"
    )

    class Meta(BaseFilterSet.Meta):
        model = Report
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        return queryset.filter(Q(report_number__icontains=value) | Q(serial_number__icontains=value))

    def filter_amendment(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        if value != "pending":
            return queryset
        from .models import Amendment

        return queryset.filter(pk__in=Amendment.objects.filter(status="pending").values("report_id"))

    def filter_region(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        return queryset.filter(project__region__code__startswith=region_prefix(value))

    def filter_project_q(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        return queryset.filter(Q(project__code__icontains=value) | Q(project__name__icontains=value))

    def narrow_form(self, form: forms.Form) -> None:
        """The page offers only what the actor may see: the regions below its own, the
        agencies that reported on its projects, the catalog's test items."""

        from .forms import ReportFilterForm

        form.fields = ReportFilterForm(user=self.actor).fields


def report_rows(actor: Any, data: Any, *, request: Any = None) -> tuple[ReportFilterSet, QuerySet[Report]]:
    """The page's filter set and rows (an invalid filter is ignored, the others apply)."""

    from .selectors import report_list

    filterset = ReportFilterSet(data or None, queryset=report_list(actor=actor), request=request, for_page=True)
    return filterset, filterset.qs
