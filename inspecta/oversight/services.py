"""Warnings: raised from the findings of every app, assigned to the competent authority,
answered by the agency, reviewed, escalated when they wait too long (T/CECS 4.3.4-6
"追踪、定位、确认、预警、处理和汇总", 8.2.4; Guangdong 附件2 二(十一)(十二); Guangxi
第十七条).

- :func:`warnings_sync` raises a warning for each open finding that has none, closes the
  active warnings whose finding has been resolved and reopens those closed so whose
  finding holds again. It runs as a periodic job over every finding model and, for one
  finding, whenever a finding is saved (``signals``): one open warning per finding, never
  two, however often it runs.
- :func:`warnings_escalate` hands a warning that waited longer than its region's days
  (``warning_escalation_days``) unhandled to the authority of the level above.
- :func:`warning_step` takes one step of a warning's lifecycle for a person or a client:
  sign for it, report the handling with evidence, close, dismiss, return, reopen.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed
from simple_history.utils import bulk_create_with_history

from inspecta.accounts.choices import OrganisationKind
from inspecta.accounts.models import Organisation
from inspecta.core.actors import actor_of
from inspecta.core.audit import audit_stamp
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.findings import Finding, FindingStatus, finding_models, organisation_path
from inspecta.core.regionrules import region_chain, rule_value
from inspecta.core.scoping import permits

from . import notices
from .choices import (
    ACTIVE,
    UNHANDLED,
    ClosureAction,
    ClosureStatus,
    NotifiedParty,
    OversightLogKind,
    OversightRule,
    WarningAction,
    WarningStatus,
)
from .models import NonconformanceClosure, NonconformanceFinding, Warning, WarningEvent
from .permissions import may_answer, may_decide
from .regionrules import CLOSE_DAYS, ESCALATION_DAYS

__all__ = [
    "STEPS",
    "SyncResult",
    "closure_decide",
    "closure_submit",
    "closures_overdue_scan",
    "competent_region",
    "step_allowed",
    "step_fits",
    "warning_step",
    "warnings_escalate",
    "warnings_sync",
]

BATCH = 1000


@dataclass
class SyncResult:
    raised: int = 0
    resolved: int = 0
    recurred: int = 0


def _authority_regions() -> set[str]:
    return set(
        Organisation.objects.filter(kind=OrganisationKind.AUTHORITY, is_active=True).values_list("region_id", flat=True)
    )


def competent_region(region: str, authorities: set[str] | None = None) -> str:
    """The region whose authority a warning of ``region`` goes to: the nearest one, from
    the district up, that has an active authority (the region itself when none has)."""

    if not region:
        return ""
    authorities = _authority_regions() if authorities is None else authorities
    return next((code for code in region_chain(region) if code in authorities), region)


def _region_above(region: str, authorities: set[str]) -> str | None:
    """The nearest region above ``region`` with an authority (``None`` at the top)."""

    chain = region_chain(region) if region else []
    return next((code for code in chain[1:] if code in authorities), None)


def _raise(model: type[Finding], findings: Any, now: datetime.datetime, authorities: set[str]) -> int:
    """Warnings for the open ``findings`` of ``model`` that have none yet."""

    label = model._meta.label
    paths = model.subject_paths
    extra: dict[str, Any] = {}
    if "agency" in paths:
        extra["w_agency"] = F(paths["agency"])
    if "project" in paths:
        extra["w_project"] = F(paths["project"])
    org = organisation_path(model)
    if org is not None:
        extra["w_org"] = F(org)
    rows = (
        findings.filter(status=FindingStatus.OPEN)
        .exclude(pk__in=Warning.objects.filter(source=label).values("finding_id"))
        .values("pk", "rule", "subject", "key", "severity", "detail", "region", "since", **extra)
        .order_by("pk")
    )
    raised: list[Warning] = []
    batch: list[Warning] = []
    for row in rows.iterator(chunk_size=BATCH):
        batch.append(
            Warning(
                source=label,
                finding_id=row["pk"],
                rule=row["rule"],
                subject=row["subject"][:255],
                key=row["key"][:255],
                severity=row["severity"],
                detail=row["detail"][:500],
                region=row["region"] or "",
                agency_id=row.get("w_agency"),
                project_id=row.get("w_project"),
                organisation_id=row.get("w_org"),
                raised_at=row["since"],
                created_at=now,
                assigned_region=competent_region(row["region"] or "", authorities),
                assigned_at=now,
                status_changed_at=now,
                updated_at=now,
            )
        )
        if len(batch) >= BATCH:
            raised += _insert(batch)
            batch = []
    if batch:
        raised += _insert(batch)
    if raised:
        notices.warnings_raised(raised)
    return len(raised)


def _insert(batch: list[Warning]) -> list[Warning]:
    try:
        with transaction.atomic():
            bulk_create_with_history(batch, Warning, batch_size=BATCH, default_change_reason="raised")
        return batch
    except IntegrityError:  # some were raised meanwhile, by the findings' own saves
        raised = []
        for warning in batch:
            try:
                with transaction.atomic():
                    warning.pk = None
                    warning.save(force_insert=True)
                    raised.append(warning)
            except IntegrityError:
                continue
        return raised


def _close_resolved(model: type[Finding], findings: Any, now: datetime.datetime) -> int:
    label = model._meta.label
    gone = findings.filter(status=FindingStatus.RESOLVED).values("pk")
    closed = 0
    for warning in Warning.objects.filter(source=label, status__in=ACTIVE, finding_id__in=gone).order_by("pk"):
        _take(warning, "resolve", WarningAction.RESOLVED, None, _("问题已消除，预警自动办结。"), (), now)
        warning.resolved = True
        warning.save(update_fields=["resolved"])
        closed += 1
    return closed


def _reopen_recurred(model: type[Finding], findings: Any, now: datetime.datetime, authorities: set[str]) -> int:
    label = model._meta.label
    back = findings.filter(status=FindingStatus.OPEN).values("pk")
    reopened = 0
    for warning in Warning.objects.filter(
        source=label, status=WarningStatus.CLOSED, resolved=True, finding_id__in=back
    ).order_by("pk"):
        warning.resolved = False
        warning.assigned_region = competent_region(warning.region, authorities)
        warning.assigned_at = now
        warning.escalations = 0
        _take(warning, "recur", WarningAction.RECURRED, None, _("问题再次出现，预警重新打开。"), (), now)
        notices.warnings_raised([warning], recurred=True)
        reopened += 1
    return reopened


def warnings_sync(
    *, models: Sequence[type[Finding]] | None = None, pk: Any = None, now: datetime.datetime | None = None
) -> SyncResult:
    """Bring the warnings in line with the findings of ``models`` (every finding model),
    or with the one finding ``pk`` of the single model given."""

    now = now or timezone.now()
    authorities = _authority_regions()
    result = SyncResult()
    for model in models or finding_models():
        findings = model._default_manager.all()
        if pk is not None:
            findings = findings.filter(pk=pk)
        with transaction.atomic():
            result.raised += _raise(model, findings, now, authorities)
            result.resolved += _close_resolved(model, findings, now)
            result.recurred += _reopen_recurred(model, findings, now, authorities)
    return result


def warnings_escalate(*, now: datetime.datetime | None = None) -> int:
    """Hand each warning that has waited, unhandled, longer than the escalation days of
    the region it lies with to the authority of the level above; returns how many."""

    now = now or timezone.now()
    authorities = _authority_regions()
    waiting = Warning.objects.filter(status__in=UNHANDLED).exclude(assigned_region="")
    escalated = 0
    moved: dict[str, list[Warning]] = {}
    for region in waiting.values_list("assigned_region", flat=True).distinct().order_by():
        above = _region_above(region, authorities)
        if above is None:
            continue
        days, _rule = rule_value(ESCALATION_DAYS, region)
        due = waiting.filter(assigned_region=region, assigned_at__lte=now - datetime.timedelta(days=days))
        for warning in due.order_by("pk"):
            with transaction.atomic():
                event = WarningEvent(
                    warning=warning,
                    action=WarningAction.ESCALATED,
                    at=now,
                    note=_("交办后 %(d)s 天未处置。") % {"d": days},
                    from_status=warning.status,
                    to_status=warning.status,
                    from_region=warning.assigned_region,
                    to_region=above,
                )
                warning.assigned_region = above
                warning.assigned_at = now
                warning.escalations += 1
                warning.updated_at = now
                audit_stamp(warning, None, reason="escalated")
                warning.save(update_fields=["assigned_region", "assigned_at", "escalations", "updated_at"])
                event.save()
            moved.setdefault(above, []).append(warning)
            escalated += 1
    for region, warnings in moved.items():
        with transaction.atomic():
            notices.warnings_escalated(region, warnings)
    return escalated


def _take(
    warning: Warning,
    transition: str,
    action: str,
    actor: Any,
    note: str,
    files: Iterable[Any],
    now: datetime.datetime,
) -> WarningEvent:
    """Take ``transition`` on ``warning`` and record it as an event by ``actor``."""

    before = warning.status
    try:
        getattr(warning, transition)()
    except TransitionNotAllowed:
        raise AppError(
            ErrorCode.WARNING_STATE,
            _("预警当前为“%(s)s”，不能%(a)s。") % {"s": WarningStatus(before).label, "a": WarningAction(action).label},
        ) from None
    warning.status_changed_at = now
    warning.updated_at = now
    audit_stamp(warning, actor, reason=action)
    warning.save()
    who = actor_of(actor) if actor is not None else None
    event = WarningEvent(
        warning=warning,
        action=action,
        by=who.user if who is not None else None,
        at=now,
        note=note,
        from_status=before,
        to_status=warning.status,
    )
    audit_stamp(event, actor)
    event.save()
    if files:
        event.files.set(list(files))
    if actor is not None:
        notices.warning_stepped(warning, action, note)
    return event


STEPS: dict[str, tuple[str, str, bool]] = {
    # step: (transition, action, whether a note is required)
    "acknowledge": ("acknowledge", WarningAction.ACKNOWLEDGED, False),
    "handle": ("handle", WarningAction.HANDLED, True),
    "close": ("close", WarningAction.CLOSED, False),
    "dismiss": ("dismiss", WarningAction.DISMISSED, True),
    "return": ("send_back", WarningAction.RETURNED, True),
    "reopen": ("reopen", WarningAction.REOPENED, True),
}


@transaction.atomic
def warning_step(*, actor: Any, warning: Warning, step: str, note: str = "", files: Sequence[Any] = ()) -> WarningEvent:
    """Take ``step`` on ``warning`` for ``actor``: ``acknowledge`` or ``handle`` (with a
    note of what was done and evidence files) by the agency it is about or a reviewer of
    its region; ``close``, ``dismiss`` (a false positive), ``return`` or ``reopen`` by a
    reviewer (with a reason, except to close). Audited; each step is an event."""

    if step not in STEPS:
        raise ValidationError({"step": _("没有这种处理操作：%(s)s。") % {"s": step}})
    transition, action, needs_note = STEPS[step]
    warning = Warning.objects.select_for_update().get(pk=warning.pk)
    if not step_fits(warning, step):
        raise AppError(
            ErrorCode.WARNING_STATE,
            _("预警当前为“%(s)s”，不能%(a)s。")
            % {"s": WarningStatus(warning.status).label, "a": WarningAction(action).label},
        )
    if not step_allowed(actor, warning, step):
        raise PermissionDenied(_("无权对该预警进行此操作。"))
    note = (note or "").strip()
    if needs_note and not note:
        raise ValidationError({"note": _("请填写说明。")})
    if len(note) > 2000:
        raise ValidationError({"note": _("说明不能超过 2000 字。")})
    _own_files(actor, files)
    return _take(warning, transition, action, actor, note, files, timezone.now())


def step_fits(warning: Warning, step: str) -> bool:
    """Whether the warning's state allows ``step``."""

    transition = STEPS[step][0]
    return any(t.name == transition for t in warning.get_available_status_transitions())  # type: ignore[attr-defined]


def step_allowed(actor: Any, warning: Warning, step: str) -> bool:
    """Whether ``actor`` may take ``step`` on ``warning`` now (the pages offer exactly these)."""

    return may_answer(actor, warning) if step in ("acknowledge", "handle") else may_decide(actor, warning, step)


# --------------------------------------------------------------- nonconformance closure


def _own_files(actor: Any, files: Sequence[Any]) -> None:
    who = actor_of(actor)
    if files and (who.organisation is None or {f.organisation_id for f in files} - {who.organisation.pk}):
        raise ValidationError({"files": _("佐证材料须为本单位上传的文件。")})


@transaction.atomic
def closure_submit(
    *,
    actor: Any,
    entry: Any,
    parties: Sequence[str],
    notified_at: datetime.datetime,
    action: str,
    description: str,
    retest_report: Any = None,
    files: Sequence[Any] = (),
) -> NonconformanceClosure:
    """The agency records how it handled a nonconforming result (Guangdong 附件2 二(十二);
    T/CECS 4.3.4-6): whom it told and when, what it did, the re-test report (required for a
    re-test or a rework; one of its own later reports of the same project and test item),
    words and evidence. Waits for the station's confirmation; one at a time; audited."""

    from inspecta.registry.permissions import acts_for_agency
    from inspecta.reports.models import NonconformanceEntry

    entry = NonconformanceEntry.objects.select_for_update().select_related("report").get(pk=entry.pk)
    if not acts_for_agency(actor, entry.agency):
        raise PermissionDenied(_("只有出具该报告的检测机构可以报送处理情况。"))
    if entry.closed_at is not None:
        raise AppError(ErrorCode.CLOSURE_STATE, _("该不合格结果已闭环。"))
    if entry.closures.filter(status=ClosureStatus.PENDING).exists():
        raise AppError(ErrorCode.CLOSURE_STATE, _("已有处理情况等待监督站确认，不能重复报送。"))
    errors: dict[str, str] = {}
    chosen = sorted(set(parties))
    if not chosen or set(chosen) - set(NotifiedParty.values):
        errors["parties"] = _("请选择已告知的单位。")
    if notified_at > timezone.now():
        errors["notified_at"] = _("告知时间不能晚于当前时间。")
    elif notified_at < entry.report.issued_at - datetime.timedelta(days=1):
        errors["notified_at"] = _("告知时间不能早于报告出具时间。")
    if action not in ClosureAction.values:
        errors["action"] = _("请选择处理措施。")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("请填写处理情况。")
    elif len(description) > 4000:
        errors["description"] = _("处理情况不能超过 4000 字。")
    if retest_report is None and action in (ClosureAction.RETEST, ClosureAction.REWORK):
        errors["retest_report"] = _("复检须选择复检报告。")
    elif retest_report is not None and not (
        retest_report.agency_id == entry.agency_id
        and retest_report.project_id == entry.project_id
        and retest_report.test_item_id == entry.test_item_id
        and retest_report.pk != entry.report_id
        and retest_report.issued_at >= entry.report.issued_at
    ):
        errors["retest_report"] = _("复检报告须为本机构在该不合格报告之后出具的同一工程、同一检测项目的报告。")
    if errors:
        raise ValidationError(errors)
    _own_files(actor, files)
    who = actor_of(actor)
    last = entry.closures.order_by("-number").values_list("number", flat=True).first() or 0
    closure = NonconformanceClosure(
        entry=entry,
        number=last + 1,
        parties=chosen,
        notified_at=notified_at,
        action=action,
        retest_report=retest_report,
        description=description,
        applied_by=who.user,
    )
    audit_stamp(closure, actor)
    closure.save()
    if files:
        closure.files.set(list(files))
    notices.closure_submitted(closure)
    return closure


@transaction.atomic
def closure_decide(
    *, actor: Any, closure: NonconformanceClosure, approve: bool, reason: str = ""
) -> NonconformanceClosure:
    """The project's station (or the authority of its region) confirms the closure, which
    closes the ledger entry, resolves its overdue finding and appends the closure to the
    transparency log; or sends it back with the reason. Audited."""

    from inspecta.ledger.services import log_append

    closure = NonconformanceClosure.objects.select_for_update().select_related("entry").get(pk=closure.pk)
    if not permits(actor, closure, "decide"):
        raise PermissionDenied(_("只有项目监督站或所在地区主管部门可以确认闭环。"))
    if closure.status != ClosureStatus.PENDING:
        raise AppError(ErrorCode.CLOSURE_STATE, _("该处理情况已确认或已退回。"))
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": _("退回须填写理由。")})
    if len(reason) > 2000:
        raise ValidationError({"reason": _("意见不能超过 2000 字。")})
    person = actor_of(actor).user
    if approve:
        closure.approve(person, reason)
    else:
        closure.reject(person, reason)
    audit_stamp(closure, actor, reason="approved" if approve else "rejected")
    closure.save()
    if approve:
        entry = closure.entry
        entry.closed_at = closure.decided_at
        entry.save(update_fields=["closed_at"])
        log_append(kind=OversightLogKind.NONCONFORMANCE_CLOSURE, record=closure)
        for finding in NonconformanceFinding.objects.filter(entry=entry, status=FindingStatus.OPEN):
            finding.save(update_fields=finding.resolve(closure.decided_at))
    notices.closure_decided(closure)
    return closure


def closures_overdue_scan(*, now: datetime.datetime | None = None) -> int:
    """Findings (hence warnings) for the ledger entries not closed within their region's
    days for their test item (``nonconformance_close_days``); returns how many were new."""

    from inspecta.reports.models import NonconformanceEntry

    now = now or timezone.now()
    days_of: dict[tuple[str, str], int] = {}
    found = 0
    shortest = now - datetime.timedelta(days=1)
    entries = (
        NonconformanceEntry.objects.filter(closed_at__isnull=True, created_at__lte=shortest)
        .exclude(pk__in=NonconformanceFinding.objects.values("entry_id"))
        .select_related("report", "project")
        .order_by("pk")
    )
    for entry in entries.iterator(chunk_size=BATCH):
        key = (entry.project.region_id, entry.test_item_id)
        if key not in days_of:
            days_of[key] = rule_value(CLOSE_DAYS, *key)[0]
        days = days_of[key]
        if entry.created_at > now - datetime.timedelta(days=days):
            continue
        with transaction.atomic():
            NonconformanceFinding.keep(
                rule=OversightRule.NONCONFORMANCE_OVERDUE,
                key=f"nonconformance:{entry.pk}",
                entry=entry,
                subject=_("报告 %(s)s") % {"s": entry.report.serial_number},
                detail=_("不合格检测结果登记 %(d)s 天后仍未闭环。") % {"d": days},
                region=entry.project.region_id,
            )
        found += 1
    return found
