"""The filters of the project list, shared by the page and ``GET /api/v1/projects/``
(T/CECS 4.3.2)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from inspecta.core.filtersets import BaseFilterSet

from .models import Project


class ProjectFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(label=_("项目名称/编号"), method="filter_q")
    region = django_filters.CharFilter(label=_("行政区划"), field_name="region__code", lookup_expr="startswith")

    class Meta(BaseFilterSet.Meta):
        model = Project
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))
