"""The filters of the agency lists, shared by the pages and the API: the authorities'
list (``GET /api/v1/registry/agencies``) and the public list (CONTRACT §6a; Guangdong
附件2 一(四): by region and specialty)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from inspecta.core.filtersets import BaseFilterSet
from inspecta.core.scoping import region_prefix

from .choices import FindingRule
from .models import Agency, Finding


class PublicAgencyFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(label=_("名称或信用代码"), method="filter_q")
    region = django_filters.CharFilter(label=_("行政区划"), method="filter_region")
    specialty = django_filters.CharFilter(label=_("检测专项"), method="filter_specialty")

    class Meta(BaseFilterSet.Meta):
        model = Agency
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Agency], name: str, value: str) -> QuerySet[Agency]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(credit_code__icontains=value.upper()))

    def filter_region(self, queryset: QuerySet[Agency], name: str, value: str) -> QuerySet[Agency]:
        return queryset.filter(region__code__startswith=region_prefix(value))

    def filter_specialty(self, queryset: QuerySet[Agency], name: str, value: str) -> QuerySet[Agency]:
        return queryset.filter(
            Q(sitecapability_set__item_parameter__test_item__specialty=value)
            | Q(qualificationcertificate_set__specialties=value)
        ).distinct()

    def narrow_form(self, form: forms.Form) -> None:
        from .forms import PublicFilterForm

        form.fields = PublicFilterForm().fields


class AgencyFilterSet(PublicAgencyFilterSet):
    """The authorities' list: also by review status and open findings."""

    status = django_filters.CharFilter(label=_("审核状态"))
    findings = django_filters.BooleanFilter(label=_("仅看有问题的机构"), method="filter_findings")
    changes = django_filters.ChoiceFilter(
        label=_("关键信息变更"), choices=[("pending", _("有待审核的变更"))], method="filter_changes"
    )

    def filter_changes(self, queryset: QuerySet[Agency], name: str, value: str) -> QuerySet[Agency]:
        if value != "pending":
            return queryset
        from .models import ChangeRequest

        return queryset.filter(pk__in=ChangeRequest.objects.filter(status="pending").values("agency_id"))

    def filter_specialty(self, queryset: QuerySet[Agency], name: str, value: str) -> QuerySet[Agency]:
        return queryset.filter(sitecapability_set__item_parameter__test_item__specialty=value).distinct()

    def filter_findings(self, queryset: QuerySet[Agency], name: str, value: Any) -> QuerySet[Agency]:
        return queryset.filter(open_findings__gt=0) if value else queryset  # type: ignore[misc]

    def narrow_form(self, form: forms.Form) -> None:
        from .forms import AgencyFilterForm

        form.fields = AgencyFilterForm(user=self.actor).fields


class FindingFilterSet(BaseFilterSet):
    """The open conformity findings of the authorities' page (T/CECS 4.1.3, 7.2.2), by rule."""

    rule = django_filters.ChoiceFilter(
        label=_("规则"),
        empty_label=_("全部规则"),
        choices=FindingRule.choices,
        widget=forms.Select(attrs={"onchange": "this.form.submit()"}),
    )

    class Meta(BaseFilterSet.Meta):
        model = Finding
        fields: list[str] = []
