"""The filters of the sample and commission lists (page and API)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from inspecta.core.filtersets import BaseFilterSet

from .choices import CommissionStatus, SampleStatus
from .models import Commission, Sample


class SampleFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(label=_("样品编码/工程部位"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=SampleStatus.choices, empty_label=_("全部状态"))

    class Meta(BaseFilterSet.Meta):
        model = Sample
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Sample], name: str, value: str) -> QuerySet[Sample]:
        code = value.strip().upper().replace("-", "")
        return queryset.filter(Q(code__startswith=code) | Q(part__icontains=value.strip()))


class CommissionFilterSet(BaseFilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=CommissionStatus.choices, empty_label=_("全部状态"))

    class Meta(BaseFilterSet.Meta):
        model = Commission
        fields: list[str] = []
