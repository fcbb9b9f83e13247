"""Whom oversight tells, and of what (T/CECS 8.2.4 "预警信息应通过短信、邮件等方式推送"):
the kinds it declares for ``notifications.services.notify`` and who receives each.

- ``warning_assigned``: a warning lies with an authority (raised, recurred or escalated):
  its reviewers (authority admins and supervisors, station inspectors of that region);
  the agency it is about is told too (``warning_raised``);
- ``warning_answered``: the agency reported its handling: the reviewers it lies with;
- ``warning_reviewed``: the reviewer closed, dismissed, returned or reopened it: the
  agency's admins;
- ``closure_submitted`` / ``closure_decided``: a nonconformance closure waits for the
  project's station (its inspectors, else the authority reviewers of the project's
  region) / was confirmed or sent back (the agency's admins).

Many warnings raised at once for one authority or agency (a scan) are told in one message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.accounts.models import User
from inspecta.core.permissions import has_role, is_agency, is_regulator
from inspecta.notifications.catalog import NotificationKind
from inspecta.notifications.choices import Channel
from inspecta.notifications.services import notify

from .catalog import rule_label

WARNING_ASSIGNED = "warning_assigned"
WARNING_RAISED = "warning_raised"
WARNING_ANSWERED = "warning_answered"
WARNING_REVIEWED = "warning_reviewed"
CLOSURE_SUBMITTED = "closure_submitted"
CLOSURE_DECIDED = "closure_decided"

_reviewer = is_regulator & has_role(Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR, Role.STATION_INSPECTOR)
_agency_admin = is_agency & has_role(Role.AGENCY_ADMIN)

KINDS = (
    NotificationKind(
        WARNING_ASSIGNED,
        gettext_lazy("预警交办本级（含升级）"),
        (Channel.EMAIL, Channel.SMS),
        _reviewer,
        gettext_lazy("本级主管部门承办的新预警、重新打开和下级逾期升级的预警。"),
    ),
    NotificationKind(WARNING_ANSWERED, gettext_lazy("预警处置情况待审核"), (Channel.EMAIL,), _reviewer),
    NotificationKind(
        WARNING_RAISED,
        gettext_lazy("关于本机构的预警"),
        (Channel.EMAIL, Channel.SMS),
        _agency_admin,
        gettext_lazy("平台发现本机构的问题并形成预警，须签收并报送处置情况。"),
    ),
    NotificationKind(
        WARNING_REVIEWED, gettext_lazy("预警审核结果（办结、退回、重新打开）"), (Channel.EMAIL,), _agency_admin
    ),
    NotificationKind(CLOSURE_SUBMITTED, gettext_lazy("不合格闭环待确认"), (Channel.EMAIL,), _reviewer),
    NotificationKind(CLOSURE_DECIDED, gettext_lazy("不合格闭环确认结果"), (Channel.EMAIL,), _agency_admin),
)


def reviewers_of(region: str) -> QuerySet[User]:
    """The people who review warnings lying with the authority (and station) of ``region``."""

    return User.objects.filter(
        is_active=True,
        organisation__is_active=True,
        organisation__region_id=region,
        organisation__kind__in=[OrganisationKind.AUTHORITY, OrganisationKind.STATION],
        role_grants__role__in=[Role.AUTHORITY_ADMIN, Role.AUTHORITY_SUPERVISOR, Role.STATION_INSPECTOR],
    ).distinct()


def station_inspectors(station_id: int) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True, organisation_id=station_id, role_grants__role=Role.STATION_INSPECTOR
    ).distinct()


def admins_of(organisation_id: int) -> QuerySet[User]:
    """The admins of an agency (or of any organisation a warning is about)."""

    return User.objects.filter(
        is_active=True, organisation_id=organisation_id, role_grants__role__in=[Role.AGENCY_ADMIN, Role.PARTY_ADMIN]
    ).distinct()


def _list_url(query: str) -> str:
    return f"{reverse('oversight:warning_list')}?{query}"


def warnings_raised(warnings: Iterable[Any], *, recurred: bool = False) -> None:
    """Tell the authorities the warnings now lie with, and the organisations they are
    about: one message per warning, or one per recipient group for many."""

    by_region: dict[str, list[Any]] = defaultdict(list)
    by_org: dict[int, list[Any]] = defaultdict(list)
    for w in warnings:
        if w.assigned_region:
            by_region[w.assigned_region].append(w)
        if w.organisation_id:
            by_org[w.organisation_id].append(w)
    for region, group in by_region.items():
        if len(group) == 1:
            w = group[0]
            subject = (_("预警重新打开：%(r)s") if recurred else _("新预警：%(r)s")) % {"r": rule_label(w.rule)}
            notify(
                recipients=reviewers_of(region),
                kind=WARNING_ASSIGNED,
                subject=subject,
                body=f"{w.subject}\n{w.detail}",
                url=reverse("oversight:warning_detail", args=[w.pk]),
            )
        else:
            notify(
                recipients=reviewers_of(region),
                kind=WARNING_ASSIGNED,
                subject=_("新交办本级的预警 %(n)s 条") % {"n": len(group)},
                body="\n".join(sorted({rule_label(w.rule) for w in group})),
                url=_list_url("mine=true&state=active"),
            )
    for org, group in by_org.items():
        if len(group) == 1:
            w = group[0]
            notify(
                recipients=admins_of(org),
                kind=WARNING_RAISED,
                subject=_("关于本单位的预警：%(r)s") % {"r": rule_label(w.rule)},
                body=_("%(s)s\n%(d)s\n请签收并报送处置情况。") % {"s": w.subject, "d": w.detail},
                url=reverse("oversight:warning_detail", args=[w.pk]),
            )
        else:
            notify(
                recipients=admins_of(org),
                kind=WARNING_RAISED,
                subject=_("关于本单位的新预警 %(n)s 条") % {"n": len(group)},
                body=_("请逐条签收并报送处置情况。"),
                url=_list_url("state=unhandled"),
            )


def warnings_escalated(region: str, warnings: list[Any]) -> None:
    """Tell the authority of ``region`` what came up to it."""

    if not warnings:
        return
    one = len(warnings) == 1
    notify(
        recipients=reviewers_of(region),
        kind=WARNING_ASSIGNED,
        subject=(
            _("下级逾期未处置，预警升级至本级：%(r)s") % {"r": rule_label(warnings[0].rule)}
            if one
            else _("下级逾期未处置，%(n)s 条预警升级至本级") % {"n": len(warnings)}
        ),
        body=warnings[0].subject if one else "",
        url=reverse("oversight:warning_detail", args=[warnings[0].pk])
        if one
        else _list_url("mine=true&escalated=true"),
    )


def warning_stepped(warning: Any, action: str, note: str) -> None:
    """Tell the other side of a step: the reviewers of an answer, the agency of a review."""

    from .choices import WarningAction

    url = reverse("oversight:warning_detail", args=[warning.pk])
    label = rule_label(warning.rule)
    if action == WarningAction.HANDLED and warning.assigned_region:
        notify(
            recipients=reviewers_of(warning.assigned_region),
            kind=WARNING_ANSWERED,
            subject=_("预警处置情况待审核：%(r)s") % {"r": label},
            body=f"{warning.subject}\n{note}",
            url=url,
        )
    elif (
        action in (WarningAction.CLOSED, WarningAction.DISMISSED, WarningAction.RETURNED, WarningAction.REOPENED)
        and warning.organisation_id
    ):
        notify(
            recipients=admins_of(warning.organisation_id),
            kind=WARNING_REVIEWED,
            subject=_("预警%(a)s：%(r)s") % {"a": WarningAction(action).label, "r": label},
            body=f"{warning.subject}\n{note}".strip(),
            url=url,
        )


def closure_submitted(closure: Any) -> None:
    entry = closure.entry
    station = entry.project.station_id
    recipients = station_inspectors(station) if station else reviewers_of(entry.project.region_id)
    notify(
        recipients=recipients,
        kind=CLOSURE_SUBMITTED,
        subject=_("不合格闭环待确认：报告 %(s)s") % {"s": entry.report.serial_number},
        body=closure.description,
        url=reverse("oversight:nonconformance_detail", args=[entry.pk]),
    )


def closure_decided(closure: Any) -> None:
    entry = closure.entry
    notify(
        recipients=admins_of(entry.agency.organisation_id),
        kind=CLOSURE_DECIDED,
        subject=_("不合格闭环%(s)s：报告 %(n)s") % {"s": closure.get_status_display(), "n": entry.report.serial_number},
        body=closure.decision_reason,
        url=reverse("oversight:nonconformance_detail", args=[entry.pk]),
    )
