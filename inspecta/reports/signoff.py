"""Three-level sign-off of reports prepared on the web (Nanchang 三(一) "检测、审核、批准
三级审批"; Guangxi 第十一条 "经授权签字人批准"): a draft is prepared by a clerk or the
tester (the web form's fields and PDF), then the tester, the reviewer and the authorised
signatory it names each sign it off in turn with their own account, the platform
recording who (the account bound to the registry person, ``Staff.user``) and when (the
server's clock). Any of them may return it to the preparer with a reason. The
signatory's approval issues it through ``services.report_submit`` (the same checks,
numbering and log entry as the LIMS path) with the trail of the three sign-offs.

The LIMS path (signed API) keeps sending the trail it recorded; nothing here changes it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import rules
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.core.actors import actor_of
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.models import StoredFile, TestItem
from inspecta.registry.models import Agency, Signatory, Staff

from . import permissions, services
from .choices import DraftStatus
from .models import Report, ReportDraft

__all__ = ["OPEN", "draft_approve", "draft_prepare", "draft_return", "may_sign"]

OPEN = (DraftStatus.TESTING, DraftStatus.REVIEWING, DraftStatus.APPROVING)
"""The states in which a draft waits for a sign-off."""

_NEXT = {
    DraftStatus.TESTING: DraftStatus.REVIEWING,
    DraftStatus.REVIEWING: DraftStatus.APPROVING,
    DraftStatus.APPROVING: DraftStatus.ISSUED,
}


@rules.predicate
def may_sign(who: Any, draft: ReportDraft) -> bool:
    """Signs off (or returns) ``draft`` now: the signed-in person bound to the registry
    record whose sign-off the draft waits for, acting for the draft's agency."""

    actor = actor_of(who)
    person = draft.awaiting()
    return bool(
        person is not None
        and actor.user is not None
        and person.user_id == actor.user.pk
        and person.active
        and permissions.acts_for_agency(who, draft.agency)
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def draft_prepare(*, actor: Any, agency: Agency, fields: Mapping[str, Any], pdf: StoredFile) -> ReportDraft:
    """Store the web form's report as a draft waiting for the tester (no serial number,
    no log entry). ``fields`` are ``services.ReportFields`` without ``pdf_id`` and the
    three times. Refused, changing nothing, when the three people are not three active
    people of the agency with platform accounts, the signatory is not an authorised
    signatory of the agency for the item's specialty, or the report number is taken."""

    preparer = actor_of(actor).user
    if preparer is None or not permissions.acts_for_agency(actor, agency):
        raise AppError(ErrorCode.FORBIDDEN, _("只能编制本机构的检测报告。"))
    ids = [fields["tester_id"], fields["reviewer_id"], fields["signatory_id"]]
    people = {p.pk: p for p in Staff.objects.filter(agency=agency, active=True, pk__in=ids)}
    if len(set(ids)) != 3:
        raise AppError(ErrorCode.VALIDATION_FAILED, _("检测人、审核人、批准人须为三个不同的人。"))
    for pk, role in zip(ids, (_("检测人"), _("审核人"), _("批准人")), strict=True):
        person = people.get(pk)
        if person is None:
            raise AppError(ErrorCode.VALIDATION_FAILED, _("%(role)s不是本机构在职人员。") % {"role": role})
        if person.user_id is None:
            raise AppError(
                ErrorCode.VALIDATION_FAILED,
                _("%(role)s %(name)s 尚未绑定平台账号，无法在平台签署；请机构管理员在人员信息中绑定。")
                % {"role": role, "name": person.name},
            )
    item = TestItem.objects.filter(pk=fields["test_item"]).first()
    if (
        item is None
        or not Signatory.objects.filter(
            agency=agency, staff_id=fields["signatory_id"], scope=item.specialty_id
        ).exists()
    ):
        raise AppError(ErrorCode.VALIDATION_FAILED, _("批准人不是本机构在该检测专项的授权签字人。"))
    number = fields["report_number"]
    with transaction.atomic():
        if (
            Report.objects.filter(agency=agency, report_number=number).exists()
            or ReportDraft.objects.filter(agency=agency, report_number=number, status__in=OPEN).exists()
        ):
            raise AppError(ErrorCode.CONFLICT, _("报告编号 %(n)s 已被本机构使用。") % {"n": number})
        data = {k: _plain(v) for k, v in fields.items() if k not in ("tester_id", "reviewer_id", "signatory_id")}
        return ReportDraft.objects.create(
            agency=agency,
            report_number=number,
            data=data,
            pdf=pdf,
            tester_id=ids[0],
            reviewer_id=ids[1],
            signatory_id=ids[2],
            prepared_by=preparer,
        )


def _locked(draft: ReportDraft) -> ReportDraft:
    return (
        ReportDraft.objects.select_for_update(of=("self",))
        .select_related("agency", "tester", "reviewer", "signatory")
        .get(pk=draft.pk)
    )


def _require_signer(actor: Any, draft: ReportDraft) -> None:
    if draft.status not in OPEN:
        raise AppError(ErrorCode.CONFLICT, _("该报告草稿已%(s)s，无需签署。") % {"s": draft.get_status_display()})
    if not may_sign(actor, draft):
        person = draft.awaiting()
        raise AppError(
            ErrorCode.FORBIDDEN,
            _("该报告草稿%(s)s，只有 %(name)s 本人可以签署或退回。")
            % {"s": draft.get_status_display(), "name": person.name if person else ""},
        )


def _fields(draft: ReportDraft) -> dict[str, Any]:
    data = dict(draft.data)
    for key in ("tested_on", "reported_on", "delivered_on"):
        if data.get(key):
            data[key] = datetime.date.fromisoformat(data[key])
    assert draft.tested_at and draft.reviewed_at and draft.approved_at
    data.update(
        pdf_id=draft.pdf_id,
        tester_id=draft.tester_id,
        tested_at=draft.tested_at,
        reviewer_id=draft.reviewer_id,
        reviewed_at=draft.reviewed_at,
        signatory_id=draft.signatory_id,
        approved_at=draft.approved_at,
    )
    return data


def draft_approve(*, actor: Any, draft: ReportDraft) -> ReportDraft:
    """The awaited person signs the draft off, with the server's time. The signatory's
    approval issues the report (``services.report_submit``: checks, serial number, log
    entry); a refusal of the checks raises its ``AppError`` and leaves the draft waiting
    for the signatory, unchanged."""

    with transaction.atomic():
        draft = _locked(draft)
        _require_signer(actor, draft)
        user = actor_of(actor).user
        now = timezone.now()
        status = DraftStatus(draft.status)
        if status is DraftStatus.TESTING:
            draft.tested_by, draft.tested_at = user, now
        elif status is DraftStatus.REVIEWING:
            draft.reviewed_by, draft.reviewed_at = user, now
        else:
            draft.approved_by, draft.approved_at = user, now
            draft.report = services.report_submit(actor=actor, agency=draft.agency, **_fields(draft))  # type: ignore[arg-type]
        draft.status = _NEXT[status]
        draft.save()
    return draft


def draft_return(*, actor: Any, draft: ReportDraft, reason: str) -> ReportDraft:
    """The awaited person returns the draft to its preparer with a reason; the preparer
    prepares it again (a new draft)."""

    reason = (reason or "").strip()
    if not reason:
        raise AppError(ErrorCode.VALIDATION_FAILED, _("请填写退回理由。"))
    with transaction.atomic():
        draft = _locked(draft)
        _require_signer(actor, draft)
        draft.status = DraftStatus.RETURNED
        draft.returned_by = actor_of(actor).user
        draft.returned_at = timezone.now()
        draft.return_reason = reason[:2000]
        draft.save()
    return draft
