"""Reads of reports scoped to the acting user (STYLE.md 6); the list filters are
``filtersets.ReportFilterSet``."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .choices import AmendmentStatus
from .models import Amendment, NonconformanceEntry, Report, ReportDraft


def report_list(*, actor: Any) -> QuerySet[Report]:
    """The reports ``actor`` may see, newest first; ``filtersets.ReportFilterSet`` narrows them."""

    pending = Amendment.objects.filter(report=OuterRef("pk"), status=AmendmentStatus.PENDING)
    return (
        Report.objects.restrict(actor)
        .select_related("agency", "project", "test_item")
        .annotate(pending_amendment=Exists(pending))
        .order_by("-issued_at", "-pk")
    )


def report_feed(*, actor: Any) -> QuerySet[Report]:
    """The reports ``actor`` may see (as ``report_list``), oldest change first: the
    change feed (``core.pagination.Keyset`` on ``updated_at``)."""

    return Report.objects.restrict(actor).order_by("updated_at", "pk")


def report_get(*, actor: Any, pk: int) -> Report:
    report = (
        Report.objects.restrict(actor).select_related("agency", "project__region", "test_item").filter(pk=pk).first()
    )
    if report is None:
        raise Http404
    return report


def amendment_get(*, actor: Any, pk: int) -> Amendment:
    amendment = Amendment.objects.filter(pk=pk, report__in=Report.objects.restrict(actor)).first()
    if amendment is None:
        raise Http404
    return amendment


def nonconformance_list(*, actor: Any) -> QuerySet[NonconformanceEntry]:
    return NonconformanceEntry.objects.restrict(actor).select_related("report", "project", "agency", "test_item")


def check_rule_viewer(actor: Any) -> tuple[str | None, bool]:
    """``(province, may_change)`` of the acceptance check rules for ``actor``: authority
    admins and supervisors see their province's rules and a province authority admin
    changes them; operators see and change the platform-wide rules
    (``province`` None). Anyone else is refused (403)."""

    from django.core.exceptions import PermissionDenied

    from inspecta.core.actors import actor_of

    from .checks import province_of
    from .permissions import may_change_check_rules, may_view_check_rules

    if not may_view_check_rules(actor):
        raise PermissionDenied(_("只有主管部门可以查看报告接收检查规则。"))
    who = actor_of(actor)
    if who.is_operator:
        return None, True
    return province_of(who.region_code), may_change_check_rules(who)


def check_rule_list(*, actor: Any, province: str | None = None) -> list[dict[str, Any]]:
    """Every acceptance check with its Chinese description, default and the action now
    in force in the actor's province (an operator may name any ``province``)."""

    from django.core.exceptions import PermissionDenied

    from .checks import DEFAULT_ACTIONS, PLATFORM, check_actions
    from .choices import CheckCode

    own, _may_change = check_rule_viewer(actor)
    if own is not None and province not in (None, own):
        raise PermissionDenied(_("只能查看本省的报告接收检查规则。"))
    target = own if own is not None else (province or PLATFORM)
    actions = check_actions([target])[target]
    labels = dict(CheckCode.choices)
    return [
        {
            "code": str(code),
            "label": str(labels.get(code, code)),
            "action": actions[code],
            "default": str(default),
            "province": target,
        }
        for code, default in DEFAULT_ACTIONS.items()
    ]


def draft_get(*, actor: Any, pk: int) -> ReportDraft:
    """A report draft of the actor's own agency; 404 for any other (out of scope looks
    like missing)."""

    draft = (
        ReportDraft.objects.restrict(actor)
        .select_related("agency", "pdf", "tester", "reviewer", "signatory", "prepared_by", "report")
        .filter(pk=pk)
        .first()
    )
    if draft is None:
        raise Http404
    return draft


def drafts_awaiting(*, actor: Any) -> QuerySet[ReportDraft]:
    """The drafts of the actor's agency waiting for the sign-off of the actor's own
    registry record (``Staff.user``): the work queue "待我签批的报告"."""

    from django.db.models import Q

    from inspecta.core.actors import actor_of

    from .choices import DraftStatus

    person = actor_of(actor).user
    user = person.pk if person is not None else None
    return (
        ReportDraft.objects.restrict(actor)
        .filter(
            Q(status=DraftStatus.TESTING, tester__user_id=user, tester__active=True)
            | Q(status=DraftStatus.REVIEWING, reviewer__user_id=user, reviewer__active=True)
            | Q(status=DraftStatus.APPROVING, signatory__user_id=user, signatory__active=True)
        )
        .select_related("tester", "reviewer", "signatory")
    )
