"""Warnings on the API (T/CECS 4.3.4-6, 8.2.4).

* ``GET /api/v1/oversight/warnings``: the warnings in the caller's scope, filtered as the
  page (``state``, ``rule``, ``severity``, ``region``, ``mine``, ``agency``, ``project``...).
* ``GET /api/v1/oversight/warnings/{id}``: one warning with its steps.
* ``POST /api/v1/oversight/warnings/{id}/{step}``: ``acknowledge`` or ``handle`` (the agency
  it is about: its admin signed in, or its LIMS signed with ``warnings:answer``; evidence
  as uploaded file ids), ``close``, ``dismiss``, ``return``, ``reopen`` (reviewers of its
  region).
* ``GET /api/v1/oversight/rules``: the rule catalog.
"""

import datetime
import uuid
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from inspecta.core.api_base import AuthedRequest, session_auth
from inspecta.core.filtersets import api_filter
from inspecta.core.limits import MAX_ID
from inspecta.core.models import StoredFile
from inspecta.core.pagination import Pages
from inspecta.exchange.auth import SignatureAuth
from inspecta.exchange.choices import Scope
from inspecta.exchange.idempotency import idempotent

from . import selectors, services
from .catalog import rule_label, warning_rules
from .filtersets import WarningFilterSet
from .models import Warning

router = Router(tags=["预警"])

AUTH = [SignatureAuth(scopes=[Scope.WARNINGS_ANSWER.value], optional=True), session_auth]
"""A browser session, or a signed client granted ``warnings:answer`` (reads and answers
its organisation's warnings)."""


class WarningEventOut(Schema):
    action: str = Field(
        description="操作：acknowledged、handled、closed、dismissed、returned、reopened、escalated、resolved、recurred"
    )
    by: int | None = Field(description="操作人 id（平台自动操作为空）")
    at: datetime.datetime
    note: str
    from_status: str
    to_status: str
    from_region: str = Field(description="升级前承办地区代码")
    to_region: str = Field(description="升级后承办地区代码")
    files: list[dict[str, str]] = Field(description="佐证材料：id 与 sha256")


class WarningOut(Schema):
    id: int
    rule: str = Field(description="预警规则编码（GET /api/v1/oversight/rules）")
    rule_name: str
    subject: str
    key: str = Field(description="对象标识，如 report:12、sample:3")
    severity: Literal["critical", "warning", "info"]
    detail: str
    region: str = Field(description="所属地区代码")
    agency: int | None
    project: int | None
    status: Literal["open", "acknowledged", "handled", "closed"]
    raised_at: datetime.datetime
    created_at: datetime.datetime
    assigned_region: str = Field(description="承办主管部门所在地区代码")
    assigned_at: datetime.datetime
    escalations: int
    resolved: bool = Field(description="问题已消除（自动办结）")
    updated_at: datetime.datetime


class WarningDetailOut(WarningOut):
    events: list[WarningEventOut]


class WarningFilters(Schema):
    q: str = Field("", max_length=64)
    state: str = ""
    rule: str = Field("", max_length=64)
    severity: str = ""
    region: str = Field("", max_length=12)
    mine: Literal["true", ""] = Field("", description="true：交办本级（主管部门、监督站）")
    agency: int | None = Field(None, ge=1, le=MAX_ID)
    project: int | None = Field(None, ge=1, le=MAX_ID)
    escalated: Literal["true", "false", ""] = Field("", description="true 已升级；false 未升级")


class StepIn(Schema):
    note: str = Field("", max_length=2000, description="说明（报送处置、误报、退回、重新打开时必填）")
    files: list[uuid.UUID] = Field([], max_length=20, description="佐证材料：本单位已上传文件的 id（tus）")


class RuleOut(Schema):
    code: str
    name: str
    source: str
    clause: str


def warning_json(w: Warning, *, events: bool = False) -> dict[str, Any]:
    out = {
        "id": w.pk,
        "rule": w.rule,
        "rule_name": rule_label(w.rule),
        "subject": w.subject,
        "key": w.key,
        "severity": w.severity,
        "detail": w.detail,
        "region": w.region,
        "agency": w.agency_id,
        "project": w.project_id,
        "status": w.status,
        "raised_at": w.raised_at,
        "created_at": w.created_at,
        "assigned_region": w.assigned_region,
        "assigned_at": w.assigned_at,
        "escalations": w.escalations,
        "resolved": w.resolved,
        "updated_at": w.updated_at,
    }
    if events:
        out["events"] = [
            {
                "action": e.action,
                "by": e.by_id,
                "at": e.at,
                "note": e.note,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "from_region": e.from_region,
                "to_region": e.to_region,
                "files": [{"id": str(f.pk), "sha256": f.sha256} for f in e.files.all()],
            }
            for e in selectors.warning_events(warning=w)
        ]
    return out


def _warnings_json(rows: list[Warning]) -> list[dict[str, Any]]:
    return [warning_json(w) for w in rows]


@router.get("/warnings", response=list[WarningOut], auth=AUTH, summary="预警列表（按权限范围，每页 50 条）")
@paginate(Pages, page_size=50, render=_warnings_json)
def warning_list(request: AuthedRequest, filters: Query[WarningFilters]) -> QuerySet[Warning]:
    return api_filter(WarningFilterSet, filters.dict(), selectors.warning_list(actor=request.auth), request=request)


@router.get("/warnings/{warning_id}", response=WarningDetailOut, auth=AUTH, summary="预警详情（含处理记录）")
def warning_detail(request: AuthedRequest, warning_id: int) -> dict[str, Any]:
    return warning_json(selectors.warning_get(actor=request.auth, pk=warning_id), events=True)


@router.post(
    "/warnings/{warning_id}/{step}",
    response=WarningDetailOut,
    auth=AUTH,
    summary="处理预警：签收、报送处置情况、办结、误报、退回、重新打开",
)
@idempotent
def warning_step(
    request: AuthedRequest,
    warning_id: int,
    step: Literal["acknowledge", "handle", "close", "dismiss", "return", "reopen"],
    payload: StepIn,
) -> dict[str, Any]:
    warning = selectors.warning_get(actor=request.auth, pk=warning_id)
    wanted = set(payload.files)
    files = list(StoredFile.objects.restrict(request.auth, "change").filter(pk__in=wanted)) if wanted else []
    if len(files) != len(wanted):
        raise ValidationError({"files": "佐证材料须为本单位已上传的文件，有文件 id 不存在。"})
    services.warning_step(actor=request.auth, warning=warning, step=step, note=payload.note, files=files)
    return warning_json(selectors.warning_get(actor=request.auth, pk=warning_id), events=True)


@router.get("/rules", response=list[RuleOut], auth=AUTH, summary="预警规则目录")
def rule_list(request: AuthedRequest) -> list[dict[str, Any]]:
    return [{"code": r.code, "name": str(r.label), "source": r.source, "clause": r.clause} for r in warning_rules()]


# --------------------------------------------------------------- nonconformance closure

CLOSURE_AUTH = [SignatureAuth(scopes=[Scope.REPORTS_SUBMIT.value], optional=True), session_auth]
"""The agency's LIMS reports its handling with the scope it reports with
(``reports:submit``); people with their session."""


class ClosureOut(Schema):
    number: int = Field(description="报送次序")
    status: Literal["pending", "approved", "rejected"]
    parties: list[str] = Field(description="已告知单位：owner、supervising_firm、contractor、station")
    notified_at: datetime.datetime
    action: str = Field(description="处理措施：retest、rework、entity_test、removed、other")
    retest_report: int | None = Field(description="复检报告 id")
    retest_conclusion: str | None
    description: str
    files: list[dict[str, str]]
    applied_at: datetime.datetime
    decided_at: datetime.datetime | None
    decision_reason: str


class NonconformanceDetailOut(Schema):
    id: int
    report_id: int
    serial_number: str
    project_id: int
    agency_id: int
    test_item: str
    created_at: datetime.datetime
    closed_at: datetime.datetime | None
    closures: list[ClosureOut]


class ClosureIn(Schema):
    parties: list[Literal["owner", "supervising_firm", "contractor", "station"]] = Field(
        min_length=1, max_length=4, description="已告知单位"
    )
    notified_at: datetime.datetime = Field(description="告知时间（带时区）")
    action: Literal["retest", "rework", "entity_test", "removed", "other"] = Field(description="处理措施")
    retest_report: int | None = Field(None, ge=1, le=MAX_ID, description="复检报告 id（复检、返工返修后复检必填）")
    description: str = Field(min_length=1, max_length=4000, description="处理情况")
    files: list[uuid.UUID] = Field([], max_length=20, description="佐证材料：本单位已上传文件的 id（tus）")


def _entry_json(entry: Any) -> dict[str, Any]:
    closures = entry.closures.select_related("retest_report").prefetch_related("files").order_by("number")
    return {
        "id": entry.pk,
        "report_id": entry.report_id,
        "serial_number": entry.report.serial_number,
        "project_id": entry.project_id,
        "agency_id": entry.agency_id,
        "test_item": entry.test_item_id,
        "created_at": entry.created_at,
        "closed_at": entry.closed_at,
        "closures": [
            {
                "number": c.number,
                "status": c.status,
                "parties": c.parties,
                "notified_at": c.notified_at,
                "action": c.action,
                "retest_report": c.retest_report_id,
                "retest_conclusion": c.retest_report.conclusion if c.retest_report is not None else None,
                "description": c.description,
                "files": [{"id": str(f.pk), "sha256": f.sha256} for f in c.files.all()],
                "applied_at": c.applied_at,
                "decided_at": c.decided_at,
                "decision_reason": c.decision_reason,
            }
            for c in closures
        ],
    }


@router.get(
    "/nonconformance/{entry_id}",
    response=NonconformanceDetailOut,
    auth=CLOSURE_AUTH,
    summary="不合格台账条目及其闭环处理情况",
)
def nonconformance_detail(request: AuthedRequest, entry_id: int) -> dict[str, Any]:
    return _entry_json(selectors.nonconformance_get(actor=request.auth, pk=entry_id))


@router.post(
    "/nonconformance/{entry_id}/closures",
    response={201: NonconformanceDetailOut},
    auth=CLOSURE_AUTH,
    summary="报送不合格结果的处理情况（检测机构；等待监督站确认）",
)
@idempotent
def closure_submit(request: AuthedRequest, entry_id: int, payload: ClosureIn) -> Status:
    from inspecta.reports.models import Report

    entry = selectors.nonconformance_get(actor=request.auth, pk=entry_id)
    retest = None
    if payload.retest_report is not None:
        retest = Report.objects.restrict(request.auth).filter(pk=payload.retest_report).first()
        if retest is None:
            raise ValidationError({"retest_report": "复检报告不存在。"})
    wanted = set(payload.files)
    files = list(StoredFile.objects.restrict(request.auth, "change").filter(pk__in=wanted)) if wanted else []
    if len(files) != len(wanted):
        raise ValidationError({"files": "佐证材料须为本单位已上传的文件，有文件 id 不存在。"})
    services.closure_submit(
        actor=request.auth,
        entry=entry,
        parties=list(payload.parties),
        notified_at=payload.notified_at,
        action=payload.action,
        description=payload.description,
        retest_report=retest,
        files=files,
    )
    return Status(201, _entry_json(selectors.nonconformance_get(actor=request.auth, pk=entry_id)))
