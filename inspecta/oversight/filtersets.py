"""The filters of the warning list, shared by the page and ``GET /api/v1/oversight/warnings``."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from inspecta.core.actors import actor_of
from inspecta.core.filtersets import BaseFilterSet, IntegerFilter, named_choice
from inspecta.core.findings import SEVERITY_CHOICES, FindingStatus
from inspecta.core.limits import MAX_ID
from inspecta.core.permissions import is_agency
from inspecta.core.scoping import region_prefix
from inspecta.reports.models import NonconformanceEntry

from .catalog import warning_rules
from .choices import ACTIVE, UNHANDLED, ClosureStatus, WarningStatus
from .models import NonconformanceClosure, NonconformanceFinding, Warning

STATE_CHOICES = [
    ("active", _("未办结")),
    ("unhandled", _("待处置")),
    *WarningStatus.choices,
]


def _rule_choices() -> list[tuple[str, str]]:
    return [(r.code, f"{r.label}") for r in warning_rules()]


class WarningFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(label=_("对象"), method="filter_q", max_length=64)
    state = django_filters.ChoiceFilter(
        label=_("状态"), choices=STATE_CHOICES, method="filter_state", empty_label=_("全部状态")
    )
    rule = django_filters.ChoiceFilter(label=_("预警规则"), choices=_rule_choices, empty_label=_("全部规则"))
    severity = django_filters.ChoiceFilter(label=_("严重程度"), choices=SEVERITY_CHOICES, empty_label=_("全部级别"))
    region = django_filters.CharFilter(label=_("行政区划代码"), method="filter_region", max_length=12)
    mine = django_filters.ChoiceFilter(
        label=_("承办"), choices=[("true", _("交办本级"))], method="filter_mine", empty_label=_("全部承办")
    )
    agency = IntegerFilter(label=_("检测机构"), field_name="agency_id", min_value=1, max_value=MAX_ID)
    project = IntegerFilter(label=_("工程项目"), field_name="project_id", min_value=1, max_value=MAX_ID)
    escalated = django_filters.ChoiceFilter(
        label=_("升级"),
        choices=[("true", _("已升级")), ("false", _("未升级"))],
        method="filter_escalated",
        empty_label=_("升级与否不限"),
    )

    class Meta(BaseFilterSet.Meta):
        model = Warning
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Warning], name: str, value: str) -> QuerySet[Warning]:
        text = value.strip()
        return queryset.filter(Q(subject__icontains=text) | Q(key=text)) if text else queryset

    def filter_state(self, queryset: QuerySet[Warning], name: str, value: str) -> QuerySet[Warning]:
        if value == "active":
            return queryset.filter(status__in=ACTIVE)
        if value == "unhandled":
            return queryset.filter(status__in=UNHANDLED)
        return queryset.filter(status=value)

    def filter_region(self, queryset: QuerySet[Warning], name: str, value: str) -> QuerySet[Warning]:
        code = value.strip()
        if not code.isdigit() or len(code) != 6:
            return queryset.none()
        return queryset.filter(region__startswith=region_prefix(code))

    def filter_mine(self, queryset: QuerySet[Warning], name: str, value: str) -> QuerySet[Warning]:
        """The warnings lying with the actor's own authority (its queue)."""

        if value != "true":
            return queryset
        region = actor_of(self.actor).region_code
        return queryset.filter(assigned_region=region) if region else queryset.none()

    def filter_escalated(self, queryset: QuerySet[Warning], name: str, value: str) -> QuerySet[Warning]:
        if value not in ("true", "false"):
            return queryset
        return queryset.filter(escalations__gt=0) if value == "true" else queryset.filter(escalations=0)

    def narrow_form(self, form: forms.Form) -> None:
        """The page offers agencies and projects by name among those with warnings the
        actor sees (nobody types an id); an agency, which sees only its own, gets neither;
        the reviewer's queue only for those who have one."""

        from inspecta.core.forms import style_fields
        from inspecta.projects.models import Project
        from inspecta.registry.models import Agency

        from .permissions import may_decide_warnings

        seen = Warning.objects.restrict(self.actor).order_by()
        if is_agency(self.actor):
            del form.fields["agency"]
        else:
            agencies = (
                Agency.objects.filter(Exists(seen.filter(agency_id=OuterRef("pk"))))
                .order_by("name")
                .values_list("pk", "name")
            )
            form.fields["agency"] = named_choice(_("检测机构"), _("全部检测机构"), agencies)
        projects = (
            Project.objects.filter(Exists(seen.filter(project_id=OuterRef("pk"))))
            .order_by("name")
            .values_list("pk", "name")
        )
        form.fields["project"] = named_choice(_("工程项目"), _("全部工程项目"), projects)
        if not may_decide_warnings(self.actor):
            del form.fields["mine"]
        style_fields(form, placeholders=True)


CLOSURE_STATES = [
    ("open", _("未闭环")),
    ("pending", _("待监督站确认")),
    ("overdue", _("逾期未闭环")),
    ("closed", _("已闭环")),
]


class NonconformanceFilterSet(BaseFilterSet):
    """The nonconformance ledger's filters (T/CECS 4.3.4-6 追踪、定位、汇总)."""

    state = django_filters.ChoiceFilter(
        label=_("闭环状态"), choices=CLOSURE_STATES, method="filter_state", empty_label=_("全部状态")
    )
    agency = IntegerFilter(label=_("检测机构"), field_name="agency_id", min_value=1, max_value=MAX_ID)
    project = IntegerFilter(label=_("工程项目"), field_name="project_id", min_value=1, max_value=MAX_ID)
    test_item = django_filters.CharFilter(label=_("检测项目编码"), field_name="test_item_id", max_length=64)

    class Meta(BaseFilterSet.Meta):
        model = NonconformanceEntry
        fields: list[str] = []

    def filter_state(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        pending = NonconformanceClosure.objects.filter(entry=OuterRef("pk"), status=ClosureStatus.PENDING)
        overdue = NonconformanceFinding.objects.filter(entry=OuterRef("pk"), status=FindingStatus.OPEN)
        if value == "closed":
            return queryset.filter(closed_at__isnull=False)
        queryset = queryset.filter(closed_at__isnull=True)
        if value == "pending":
            return queryset.filter(Exists(pending))
        if value == "overdue":
            return queryset.filter(Exists(overdue))
        return queryset
