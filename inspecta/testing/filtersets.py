"""The filters of the test-record list, shared by the page and
``GET /api/v1/testing/records`` (T/CECS 4.3.4-4/-5: by region, agency, project, test
item, result and time)."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inspecta.core.filtersets import BaseFilterSet, IntegerFilter, named_choice
from inspecta.core.limits import MAX_ID
from inspecta.core.permissions import is_operator, is_regulator
from inspecta.core.scoping import region_prefix

from .choices import Judgement, TestKind
from .models import TestRecord


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the platform's time zone: a range on the indexed column,
    not a date of every row."""

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class TestRecordFilterSet(BaseFilterSet):
    __test__ = False

    q = django_filters.CharFilter(label=_("原始记录编号/样品编码"), method="filter_q", max_length=64)
    region = django_filters.CharFilter(label=_("行政区划"), method="filter_region", max_length=12)
    agency = IntegerFilter(label=_("检测机构"), field_name="agency_id", min_value=1, max_value=MAX_ID)
    project = IntegerFilter(field_name="project_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    test_item = django_filters.CharFilter(label=_("检测项目编码"), field_name="test_item_id", max_length=64)
    kind = django_filters.ChoiceFilter(label=_("检测类别"), choices=TestKind.choices, empty_label=_("全部类别"))
    conclusion = django_filters.ChoiceFilter(label=_("检测结论"), choices=Judgement.choices, empty_label=_("全部结论"))
    date_from = django_filters.DateFilter(label=_("检测日期自"), method="filter_from")
    date_to = django_filters.DateFilter(label=_("检测日期至"), method="filter_to")

    class Meta(BaseFilterSet.Meta):
        model = TestRecord
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[TestRecord], name: str, value: str) -> QuerySet[TestRecord]:
        code = value.strip().upper().replace("-", "")
        return queryset.filter(Q(number__icontains=value.strip()) | Q(sample__code__startswith=code))

    def filter_from(self, queryset: QuerySet[TestRecord], name: str, value: datetime.date) -> QuerySet[TestRecord]:
        return queryset.filter(started_at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet[TestRecord], name: str, value: datetime.date) -> QuerySet[TestRecord]:
        return queryset.filter(started_at__lt=_day_start(value + datetime.timedelta(days=1)))

    def filter_region(self, queryset: QuerySet[TestRecord], name: str, value: str) -> QuerySet[TestRecord]:
        return queryset.filter(project__region__code__startswith=region_prefix(value))

    def narrow_form(self, form: forms.Form) -> None:
        """The page offers, by name (nobody types a code or an id), the test items and
        agencies that have test data: for an agency or a project party among its own
        records; for supervisors, whose records are millions, among all of them (an
        indexed probe per catalog item and per agency; the names are the public catalog's
        and registry's, the records stay scoped)."""

        from inspecta.core.forms import style_fields
        from inspecta.core.models import TestItem
        from inspecta.registry.models import Agency

        seen = TestRecord.objects.order_by()
        if not (is_operator(self.actor) or is_regulator(self.actor)):
            seen = seen.restrict(self.actor)
        items = (
            TestItem.objects.filter(Exists(seen.filter(test_item_id=OuterRef("pk"))))
            .order_by("pk")
            .values_list("pk", "name")
        )
        agencies = (
            Agency.objects.filter(Exists(seen.filter(agency_id=OuterRef("pk"))))
            .order_by("name")
            .values_list("pk", "name")
        )
        form.fields["test_item"] = forms.ChoiceField(
            label=_("检测项目"), required=False, choices=[("", _("全部检测项目")), *items]
        )
        form.fields["agency"] = named_choice(_("检测机构"), _("全部检测机构"), agencies)
        style_fields(form, placeholders=True)
