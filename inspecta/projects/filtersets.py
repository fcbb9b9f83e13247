"""The filters of the project and plan lists, shared by the pages and the API
(``GET /api/v1/projects/``, ``GET /api/v1/projects/plans``; T/CECS 4.3.2)."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspecta.core.filtersets import BaseFilterSet, IntegerFilter
from inspecta.core.forms import PickerSelect, style_fields
from inspecta.core.limits import MAX_ID
from inspecta.registry.models import Agency

from .choices import PlanStatus
from .models import InspectionPlan, Project


class ProjectFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(label=_("项目名称/编号"), method="filter_q")
    region = django_filters.CharFilter(label=_("行政区划"), field_name="region__code", lookup_expr="startswith")

    class Meta(BaseFilterSet.Meta):
        model = Project
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))


class PlanFilterSet(BaseFilterSet):
    """The filters of the plan list, shared by the page and ``GET /api/v1/projects/plans``."""

    project = IntegerFilter(label=_("工程项目"), field_name="project_id", min_value=1, max_value=MAX_ID)
    agency = IntegerFilter(label=_("检测机构"), field_name="agency_id", min_value=1, max_value=MAX_ID)
    date_from = django_filters.DateFilter(label=_("计划开始日期自"), method="filter_date_from")
    date_to = django_filters.DateFilter(label=_("计划开始日期至"), method="filter_date_to")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=PlanStatus.choices)

    class Meta(BaseFilterSet.Meta):
        model = InspectionPlan
        fields: list[str] = []

    def filter_date_from(self, queryset: QuerySet[InspectionPlan], name: str, value: Any) -> QuerySet[InspectionPlan]:
        return queryset.filter(planned_start__gte=_day_start(value))

    def filter_date_to(self, queryset: QuerySet[InspectionPlan], name: str, value: Any) -> QuerySet[InspectionPlan]:
        return queryset.filter(planned_start__lt=_day_start(value + datetime.timedelta(days=1)))

    def narrow_form(self, form: forms.Form) -> None:
        """The page offers the projects and agencies of the plans the actor sees, by name."""

        from .selectors import plan_list

        seen = plan_list(actor=self.actor)
        projects = Project.objects.filter(pk__in=seen.values("project_id")).order_by("code")
        agencies = Agency.objects.filter(pk__in=seen.values("agency_id")).order_by("name")
        form.fields["project"] = forms.TypedChoiceField(
            label=_("工程项目"),
            required=False,
            coerce=int,
            choices=[("", _("全部项目"))] + [(p.pk, f"{p.code} {p.name}") for p in projects],
            widget=PickerSelect(placeholder=_("输入项目名称搜索")),
        )
        form.fields["agency"] = forms.TypedChoiceField(
            label=_("检测机构"),
            required=False,
            coerce=int,
            choices=[("", _("全部机构"))] + [(a.pk, a.name) for a in agencies],
            widget=PickerSelect(placeholder=_("输入机构名称搜索")),
        )
        style_fields(form, placeholders=True)


def _day_start(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in the node's time zone (Beijing time)."""

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
