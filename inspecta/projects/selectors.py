"""Reads of projects, contracts and on-site inspection plans scoped to the acting user (STYLE.md 6)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet

from inspecta.core.regionrules import rule_value

from .choices import PlanStatus
from .models import Contract, InspectionPlan, InspectionPlanVersion, Project, ProjectPerson
from .regionrules import PLAN_LEAD_HOURS


def project_list(*, actor: Any) -> QuerySet[Project]:
    """Projects the actor may see, newest first (``filtersets.ProjectFilterSet`` narrows
    them; the exchange API's feed orders them by change, ``inspecta.core.pagination.Keyset``)."""

    qs = Project.objects.restrict(actor).select_related("region", "station")
    return qs.order_by("-created_at", "-pk")


def project_get(*, actor: Any, pk: int) -> Project:
    return Project.objects.select_related("region", "station").reach(actor, pk=pk)


def named_people(project: Project | int, duty: str) -> frozenset[int]:
    """The ids of the people ``project`` names now for ``duty`` (empty: it names nobody,
    and any person of a party with the duty's role may act, with a finding)."""

    project_id = project if isinstance(project, int) else project.pk
    return frozenset(
        ProjectPerson.objects.filter(project_id=project_id, duty=duty, ended_at__isnull=True).values_list(
            "person_id", flat=True
        )
    )


def project_people(*, project: Project) -> QuerySet[ProjectPerson]:
    """Every naming of ``project``, current and ended, for its page."""

    return (
        ProjectPerson.objects.filter(project=project)
        .select_related("party", "person", "named_by", "ended_by")
        .order_by("party__role", "party_id", "duty", "-named_at", "-pk")
    )


def contract_list(*, actor: Any, project: Project | None = None) -> QuerySet[Contract]:
    qs = Contract.objects.restrict(actor).select_related("project", "agency")
    if project is not None:
        qs = qs.filter(project=project)
    return qs.order_by("-created_at", "-pk")


def plan_list(*, actor: Any) -> QuerySet[InspectionPlan]:
    """The on-site inspection plans the actor may see, by planned start (the filters are
    ``filtersets.PlanFilterSet``)."""

    qs = InspectionPlan.objects.restrict(actor).select_related("project", "agency", "test_item", "contract")
    return qs.order_by("planned_start", "pk")


def plan_get(*, actor: Any, pk: int) -> InspectionPlan:
    """One plan in the actor's scope, else ``Http404``."""

    return InspectionPlan.objects.select_related(
        "project", "project__region", "agency", "test_item", "contract", "document"
    ).reach(actor, pk=pk)


def plan_versions(plan: InspectionPlan) -> QuerySet[InspectionPlanVersion]:
    """Every version of ``plan``, oldest first (read through the plan the actor reached)."""

    return plan.versions.select_related("filed_by", "client", "document").order_by("number")


def plan_calendar(*, actor: Any, start: datetime.datetime, end: datetime.datetime) -> QuerySet[InspectionPlan]:
    """The filed plans whose on-site work overlaps ``[start, end)``, for the calendar of
    the regulators (their region's projects, their station's) and operators."""

    qs = plan_list(actor=actor).filter(status=PlanStatus.FILED, planned_start__lt=end, planned_end__gt=start)
    return qs.select_related("project__station").prefetch_related("testers")


def plan_lead(region_code: str, test_item_code: str) -> tuple[int, Any]:
    """The lead time in hours of a plan for ``test_item_code`` on a project in
    ``region_code`` and the ``core.RegionRule`` that sets it (``core.regionrules``: the
    nearest region's, the item's own first); without one the setting
    ``INSPECTA_PLAN_LEAD_HOURS`` (Guangxi 第十条), with no rule."""

    hours, rule = rule_value(PLAN_LEAD_HOURS, region_code, test_item_code)
    return int(hours), rule
