"""What waits for a person among reports (the home page's work queues, ``WorkItem``):
for the authority that decides them, the pending amendments (Nanchang 三(二)); for an
agency, its amendments rejected in the last 30 days."""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.appconfig import HomeFigure, WorkItem
from inspecta.core.permissions import is_agency, is_member, is_operator

from . import selectors
from .choices import AmendmentStatus, Conclusion
from .models import Amendment, Report


def work_queue(actor: Any) -> list[WorkItem]:
    items: list[WorkItem] = []
    reports = reverse("reports:report_list")
    decidable = Report.objects.restrict(actor, "decide")
    pending = Amendment.objects.filter(status=AmendmentStatus.PENDING, report__in=decidable.values("pk"))
    items.append(WorkItem(_("待审批的报告变更"), pending.count(), f"{reports}?amendment=pending", "red"))
    if is_agency(actor):
        since = timezone.now() - datetime.timedelta(days=30)
        rejected = Amendment.objects.filter(
            status=AmendmentStatus.REJECTED,
            decided_at__gte=since,
            report__agency__organisation_id=actor.organisation_id,
        ).count()
        own_pending = Amendment.objects.filter(
            status=AmendmentStatus.PENDING, report__agency__organisation_id=actor.organisation_id
        ).count()
        mine = selectors.drafts_awaiting(actor=actor).count()
        items += [
            WorkItem(_("待我签批的报告"), mine, reverse("reports:draft_list") + "?mine=1", "red"),
            WorkItem(_("被驳回的报告变更（30 日内）"), rejected, reports, "red"),
            WorkItem(_("已提交、待主管部门审批的报告变更"), own_pending, f"{reports}?amendment=pending"),
        ]
    return items


def home_figures(actor: Any) -> list[HomeFigure]:
    """The reports of the person's scope, and how many of them are nonconforming (the
    nonconformance ledger, Guangdong 附件2 二(十二))."""

    if not (is_member(actor) or is_operator(actor)):
        return []
    reports = Report.objects.restrict(actor)
    url = reverse("reports:report_list")
    return [
        HomeFigure("reports", _("检测报告"), reports.count(), url),
        HomeFigure(
            "nonconforming",
            _("其中不合格报告"),
            reports.filter(conclusion=Conclusion.NONCONFORMING).count(),
            f"{url}?conclusion={Conclusion.NONCONFORMING}",
        ),
    ]
