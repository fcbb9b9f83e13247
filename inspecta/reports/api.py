"""Reports on the exchange API (CONTRACT §1-3, §6; T/CECS 4.1.2, 4.3.4, 6.0.x; Nanchang 三).

* ``POST /api/v1/reports/``: submission by an agency's LIMS (RFC 9421 signed, scope
  ``reports:submit``) or a signed-in agency user; ``Idempotency-Key`` honoured.
* ``POST /api/v1/reports/batch``: up to 100 at once, per-report results; ``"async": true``
  answers 202 with a receipt (receipt operation ``reports.batch``, T/CECS 6.0.6).
  Refusals are 4xx with the check's code (see ``checks.py``).
* reads (list, detail with status and ``log_index`` once sequenced, the platform-stamped
  PDF, the QR) for signed-in users and for the submitting agency's signed clients
  (``reports:submit``), scoped (``core.scoping``: an agency's client reads its own
  agency's reports, and a report of another agency is ``404`` as a missing one);
  printed date, amendments and revocation for signed-in users.
* ``GET /api/v1/public/reports/{code}`` and ``POST .../check-file``: public verification.
"""

import datetime
import json
import uuid
from typing import Annotated, Any, Literal, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel, Field, WithJsonSchema
from pydantic import ValidationError as PydanticValidationError
from pydantic.config import JsonDict

from inspecta.core.api_base import AuthedRequest, session_auth
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.filtersets import api_filter
from inspecta.core.limits import MAX_ID
from inspecta.core.pagination import Keyset, Pages
from inspecta.exchange import feedback
from inspecta.exchange.auth import SignatureAuth
from inspecta.exchange.choices import Scope
from inspecta.exchange.idempotency import idempotent
from inspecta.exchange.schemas import ItemErrorOut, ReceiptAcceptedOut
from inspecta.ledger.selectors import entries_for_records
from inspecta.registry.models import Agency

from . import codes, public, selectors, services
from .filtersets import ReportFilterSet
from .models import Report

router = Router(tags=["检测报告"])

READ_AUTH = [SignatureAuth(scopes=[Scope.REPORTS_SUBMIT.value], optional=True), session_auth]
"""A browser session, or a signed client granted ``reports:submit`` (reads back the
reports of its organisation)."""
public_router = Router(tags=["报告公开查验"], auth=None)


class ReportIn(BaseModel):
    """The fields of Nanchang 三(一) and the three-level approval trail (Guangxi 第十一条)."""

    project_id: int = Field(ge=1, le=MAX_ID, description="工程项目 id")
    report_number: str = Field(min_length=1, max_length=64, description="报告编号")
    commissioning_unit: str = Field("", max_length=200, description="委托单位")
    commission_number: str = Field("", max_length=64, description="委托编号")
    contractor: str = Field("", max_length=200, description="施工单位")
    deliverer: str = Field("", max_length=64, description="送检人")
    project_part: str = Field("", max_length=200, description="工程部位")
    test_basis: list[str] = Field([], description="检测依据（标准）")
    test_item: str = Field(max_length=64, description="检测项目编码（资质目录）")
    parameters: list[str] = Field(min_length=1, description="检测参数编码")
    environment: str = Field("", max_length=200, description="检测环境")
    delivered_on: datetime.date | None = Field(None, description="送检日期")
    tested_on: datetime.date = Field(description="检测日期")
    reported_on: datetime.date = Field(description="报告日期")
    results: dict[str, Any] = Field({}, description="检测数据")
    conclusion: str = Field(description="qualified / nonconforming / no_verdict")
    equipment: list[str] = Field([], description="所用仪器设备编号")
    site_id: int | None = Field(None, ge=1, le=MAX_ID, description="检测场所 id")
    samples: list[str] = Field(
        [], max_length=100, description="报告所检样品的唯一性编码（见证取样、封样并经本机构收样）"
    )
    pdf_id: uuid.UUID = Field(description="报告 PDF 的上传文件 id（tus）")
    tester_id: int = Field(ge=1, le=MAX_ID, description="检测人（人员 id）")
    tested_at: datetime.datetime
    reviewer_id: int = Field(ge=1, le=MAX_ID, description="审核人（人员 id）")
    reviewed_at: datetime.datetime
    signatory_id: int = Field(ge=1, le=MAX_ID, description="批准人/授权签字人（人员 id）")
    approved_at: datetime.datetime

    def report_fields(self) -> services.ReportFields:
        """What ``services.report_submit`` takes (the same field names)."""

        return cast(services.ReportFields, self.model_dump())


class ReportFindingOut(BaseModel):
    code: str
    message: str


class VersionOut(BaseModel):
    number: int
    pdf_sha256: str
    stamped_sha256: str | None = Field(
        None, description="平台加盖流水号和二维码的副本（/reports/{id}/stamped.pdf）的 SHA-256；无副本时为 null"
    )
    created_at: datetime.datetime
    superseded_at: datetime.datetime | None
    log_index: int | None
    signatures: list[dict[str, Any]]


class ReportOut(BaseModel):
    id: int
    serial_number: str
    serial_no: int
    verification_code: str
    verification_url: str
    status: str
    report_number: str
    agency_id: int
    project_id: int
    test_item: str
    conclusion: str
    tested_on: datetime.date
    reported_on: datetime.date
    issued_at: datetime.datetime
    printed_at: datetime.datetime | None
    version: int
    pdf_sha256: str
    log_index: int | None = Field(
        description="当前版本在存证日志中的序号；报送后由排序任务在数秒内赋予，此前为 null（见 log_record_url）"
    )
    log_status: Literal["pending", "sequenced"] = Field(
        description="当前版本的存证状态：pending 待排序，sequenced 已入树"
    )
    log_record_url: str = Field(
        description="当前版本的存证状态地址（公开，GET 返回 status 与 log_index），log_index 为 null 时据此获取"
    )
    findings: list[ReportFindingOut]
    versions: list[VersionOut]


def _fresh_version_json(v: Any) -> dict[str, Any]:
    """``public._version_json`` of a version just inserted, without reading it back."""

    return {
        "number": v.number,
        "pdf_sha256": v.pdf_sha256,
        "stamped_sha256": v.stamped_sha256 or None,
        "created_at": v.created_at.isoformat(),
        "superseded_at": None,
        "log_index": getattr(v, "_log_index", None),
        "signatures": [
            {k: s.get(k) for k in ("signer", "signed_at", "intact", "valid", "trusted", "ok")} for s in v.signatures
        ],
        "amended": v.amendment_id is not None,
    }


def log_record_url(version: Any) -> str:
    """Where a version's log index appears once sequenced (``GET /api/v1/log/records/…``,
    public): the entry is appended with the submission and sequenced within seconds."""

    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}/api/v1/log/records/{version._meta.label_lower}/{version.pk}"


def report_json(report: Report, entries: dict[tuple[str, str], Any] | None = None) -> dict[str, Any]:
    """``entries``: the log entries of the versions, loaded at once for a page of reports
    whose versions are prefetched (``reports_json``)."""

    fresh = getattr(report, "_fresh", None)  # set by services.report_submit_many
    if fresh is not None:
        latest = fresh["versions"][-1]
        versions = [_fresh_version_json(v) for v in fresh["versions"]]
        findings = fresh["findings"]
    elif entries is not None:
        rows = sorted(report.versions.all(), key=lambda v: v.number)
        latest = rows[-1]
        versions = [public._version_json(v, entries) for v in rows]
        findings = report.findings.all()
    else:
        rows = list(report.versions.order_by("number"))
        latest = rows[-1]
        versions = [public._version_json(v) for v in rows]
        findings = report.findings.all()
    return {
        "id": report.pk,
        "serial_number": report.serial_number,
        "serial_no": report.serial_no,
        "verification_code": report.verification_code,
        "verification_url": codes.verification_url(report.verification_code),
        "status": report.status,
        "report_number": report.report_number,
        "agency_id": report.agency_id,
        "project_id": report.project_id,
        "test_item": report.test_item_id,
        "conclusion": report.conclusion,
        "tested_on": report.tested_on,
        "reported_on": report.reported_on,
        "issued_at": report.issued_at,
        "printed_at": report.printed_at,
        "version": versions[-1]["number"],
        "pdf_sha256": versions[-1]["pdf_sha256"],
        "log_index": versions[-1]["log_index"],
        "log_status": "pending" if versions[-1]["log_index"] is None else "sequenced",
        "log_record_url": log_record_url(latest),
        "findings": [{"code": f.rule, "message": f.detail} for f in findings],
        "versions": versions,
    }


def _agency_of(actor: Any) -> Agency:
    org = getattr(actor, "organisation", None)
    agency = Agency.objects.filter(organisation__pk=getattr(org, "pk", -1)).first()
    if agency is None:
        raise PermissionDenied("只有检测机构可以报送检测报告。")
    return agency


@router.post(
    "/",
    response={201: ReportOut},
    auth=[SignatureAuth(scopes=[Scope.REPORTS_SUBMIT.value], optional=True), session_auth],
    summary="报送检测报告（LIMS 签名调用或网页）",
)
@idempotent
def report_submit(request: AuthedRequest, payload: ReportIn) -> Status:
    agency = _agency_of(request.auth)
    report = services.report_submit(actor=request.auth, agency=agency, **payload.report_fields())
    return Status(201, report_json(report))


class ReportBatchIn(BaseModel):
    """Up to 100 reports, each the body of ``POST /api/v1/reports/``; ``"async": true``
    asks for a receipt instead of waiting for the results (T/CECS 6.0.6)."""

    reports: list[dict[str, Any]] = Field(description="每项与 POST /api/v1/reports/ 的请求体相同（ReportIn），1-100 项")
    asynchronous: bool = Field(
        False,
        alias="async",
        description="true：立即返回 202 受理回执，后台逐份处理，结果记入回执并回调（仅签名调用）",
    )


class BatchAcceptedOut(BaseModel):
    index: int
    status: Literal["accepted"]
    report: ReportOut


class BatchRejectedOut(BaseModel):
    index: int
    status: Literal["rejected"]
    error: ItemErrorOut


class ReportBatchOut(BaseModel):
    accepted: int
    rejected: int
    results: list[Annotated[BatchAcceptedOut | BatchRejectedOut, Field(discriminator="status")]]


BATCH_OPERATION = "reports.batch"
"""The receipt operation of an asynchronous batch (``ReportsConfig.receipt_operations``)."""


def _item_error(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details}


def _batch_size_check(reports: list[Any]) -> None:
    if not reports:
        raise AppError(ErrorCode.BATCH_EMPTY, _("请至少报送一份报告。"))
    if len(reports) > services.BATCH_MAX:
        raise AppError(
            ErrorCode.BATCH_TOO_LARGE,
            _("每批最多报送 %(n)d 份报告。") % {"n": services.BATCH_MAX},
            {"max": services.BATCH_MAX, "count": len(reports)},
        )


def batch_results(*, actor: Any, reports: list[Any]) -> list[dict[str, Any]]:
    """The per-report results of a batch, in the order sent: ``accepted`` with the report
    (as the single call's 201 body) or ``rejected`` with the error the single call would
    give. A rejected report changes nothing; the accepted ones get consecutive serial
    numbers. Refuses the whole batch (``AppError``, ``PermissionDenied``) when it is empty,
    too large, or ``actor`` is not a testing agency."""

    _batch_size_check(reports)
    agency = _agency_of(actor)
    results: list[dict[str, Any] | None] = [None] * len(reports)
    items: list[services.ReportFields] = []
    positions: list[int] = []
    for index, raw in enumerate(reports):
        try:
            items.append(ReportIn.model_validate(raw).report_fields())
            positions.append(index)
        except PydanticValidationError as exc:
            errors = [
                {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
                for e in exc.errors()
            ]
            results[index] = {
                "index": index,
                "status": "rejected",
                "error": _item_error("invalid_input", _("请求参数不合法。"), {"errors": errors}),
            }
    outcomes = services.report_submit_many(actor=actor, agency=agency, items=items) if items else []
    for index, outcome in zip(positions, outcomes, strict=True):
        if isinstance(outcome, Report):
            results[index] = {"index": index, "status": "accepted", "report": report_json(outcome)}
        else:
            error = _item_error(outcome.code, outcome.message, outcome.details or {})
            results[index] = {"index": index, "status": "rejected", "error": error}
    return [r for r in results if r is not None]


def batch_receipt_run(*, request: dict[str, Any], actor: Any) -> list[dict[str, Any]]:
    """The receipt operation ``reports.batch``: the batch stored by an asynchronous
    ``POST /api/v1/reports/batch``, run as the client that sent it."""

    reports = request.get("reports")
    results = batch_results(actor=actor, reports=reports if isinstance(reports, list) else [])
    # rendered as the synchronous answer's ``results`` are: through its schema and encoder
    rendered = ReportBatchOut.model_validate({"accepted": 0, "rejected": 0, "results": results}).model_dump()
    return cast(list[dict[str, Any]], json.loads(json.dumps(rendered["results"], cls=NinjaJSONEncoder)))


@router.post(
    "/batch",
    response={200: ReportBatchOut, 202: ReceiptAcceptedOut},
    auth=[SignatureAuth(scopes=[Scope.REPORTS_SUBMIT.value], optional=True), session_auth],
    summary="批量报送检测报告（每批 1-100 份，逐份返回结果；async=true 时返回受理回执并回调）",
)
@idempotent
def report_submit_batch(request: AuthedRequest, payload: ReportBatchIn) -> Status:
    """Each report is validated and checked as by ``POST /api/v1/reports/`` and answers
    on its own (``batch_results``). With ``"async": true`` (a signed call) the batch is
    checked as a whole, stored on a receipt and answered 202; a job computes the same
    results, keeps them on the receipt and posts them to the client's callback URL
    (docs/integration/callbacks.md)."""

    if payload.asynchronous:
        _batch_size_check(payload.reports)
        _agency_of(request.auth)
        receipt = feedback.receipt_create(
            actor=request.auth, operation=BATCH_OPERATION, request={"reports": payload.reports}
        )
        return Status(202, {"receipt_id": receipt.pk, "operation": receipt.operation, "status": receipt.status})
    results = batch_results(actor=request.auth, reports=payload.reports)
    accepted = sum(1 for r in results if r["status"] == "accepted")
    return Status(200, {"accepted": accepted, "rejected": len(results) - accepted, "results": results})


class ReportFilters(Schema):
    region: str = ""
    agency: int | None = Field(None, ge=1, le=MAX_ID)
    project: int | None = Field(None, ge=1, le=MAX_ID)
    project_q: str = Field("", max_length=100, description="工程项目编号或名称（包含即可）")
    test_item: str = ""
    conclusion: str = ""
    status: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    q: str = ""


def reports_json(reports: list[Report]) -> list[dict[str, Any]]:
    """``report_json`` of each report (versions and findings prefetched), with the log
    entries of all their versions read in one query."""

    entries = entries_for_records([v for r in reports for v in r.versions.all()])
    return [report_json(r, entries) for r in reports]


@router.get("/", response=list[ReportOut], auth=READ_AUTH, summary="检测报告列表（按权限范围，每页 50 条）")
@paginate(Pages, page_size=50, render=reports_json)
def report_list(request: AuthedRequest, filters: Query[ReportFilters]) -> QuerySet[Report]:
    qs = api_filter(ReportFilterSet, filters.dict(), selectors.report_list(actor=request.auth), request=request)
    return qs.prefetch_related("findings", "versions")


# ------------------------------------------------------------------ change feed


FEED_PAGE_SIZE = 100


class AmendmentOut(Schema):
    id: int
    report_id: int
    status: str
    reason: str
    data: dict[str, Any]
    pdf_sha256: str
    decision_reason: str


def amendment_json(a: Any) -> dict[str, Any]:
    return {
        "id": a.pk,
        "report_id": a.report_id,
        "status": a.status,
        "reason": a.reason,
        "data": a.data,
        "pdf_sha256": a.pdf_sha256,
        "decision_reason": a.decision_reason,
    }


class ReportFeedOut(ReportOut):
    updated_at: datetime.datetime = Field(
        description="报告或其变更申请的最近修改时间；下次同步从最大值开始（updated_since）"
    )
    amendments: list[AmendmentOut] = Field(description="报告的变更申请（按申请时间升序），含待审批、已批准和已驳回的")


def report_feed_json(reports: list[Report]) -> list[dict[str, Any]]:
    """``reports_json`` of a feed page, with each report's ``updated_at`` and
    amendments (prefetched)."""

    items = reports_json(reports)
    for report, item in zip(reports, items, strict=True):
        amendments = sorted(report.amendments.all(), key=lambda a: (a.applied_at, a.pk))
        item.update(updated_at=report.updated_at, amendments=[amendment_json(a) for a in amendments])
    return items


@router.get(
    "/feed",
    response=list[ReportFeedOut],
    auth=READ_AUTH,
    summary="检测报告变更（增量同步：?updated_since= 后按 next_cursor 翻页；"
    "签名调用须有权限 reports:submit；检测机构读本机构的，主管部门读本辖区的）",
)
@paginate(Keyset, page_size=FEED_PAGE_SIZE, render=report_feed_json)
def report_feed(request: AuthedRequest) -> QuerySet[Report]:
    """The reports in the caller's scope (as ``GET /api/v1/reports/``) created or
    changed at or after ``updated_since``, oldest change first, each as the report
    list's item with ``updated_at`` and its amendments. A report changes when it is
    printed, revoked, or an amendment of it is applied, approved (a new version) or
    rejected. The sequencing of a version in the transparency log does not change the
    report (its ``log_index`` is read from the log): a ``log_index`` still ``null`` is
    learnt from ``log_record_url`` or by reading the report."""

    return selectors.report_feed(actor=request.auth).prefetch_related("findings", "versions", "amendments")


class NonconformanceOut(Schema):
    id: int
    report_id: int
    serial_number: str
    project_id: int
    agency_id: int
    test_item: str
    created_at: datetime.datetime
    closed_at: datetime.datetime | None


def _nonconformance_json(e: Any) -> dict[str, Any]:
    return {
        "id": e.pk,
        "report_id": e.report_id,
        "serial_number": e.report.serial_number,
        "project_id": e.project_id,
        "agency_id": e.agency_id,
        "test_item": e.test_item_id,
        "created_at": e.created_at,
        "closed_at": e.closed_at,
    }


@router.get("/nonconformance", response=list[NonconformanceOut], summary="不合格台账（监督站、主管部门）")
@paginate(Pages, page_size=50, render=lambda rows: [_nonconformance_json(e) for e in rows])
def nonconformance_list(request: AuthedRequest) -> QuerySet[Any]:
    return selectors.nonconformance_list(actor=request.auth)


class CheckRuleIn(Schema):
    action: str = Field(description="reject / flag")


class CheckRuleOut(Schema):
    code: str
    action: str
    default: str
    province: str = Field("", description="规则适用的省级行政区划；空为全平台")


@router.get("/check-rules", response=list[CheckRuleOut], summary="报告接收检查规则及默认值（本省）")
def check_rules(request: AuthedRequest, province: str = "") -> list[dict[str, str]]:
    return selectors.check_rule_list(actor=request.auth, province=province or None)


@router.put("/check-rules/{code}", response=CheckRuleOut, summary="配置检查规则：拒绝或接收并记录（省级）")
def check_rule_set(request: AuthedRequest, code: str, payload: CheckRuleIn, province: str = "") -> dict[str, str]:
    from .checks import DEFAULT_ACTIONS

    rule = services.check_rule_set(actor=request.auth, code=code, action=payload.action, province=province or None)
    return {
        "code": rule.code,
        "action": rule.action,
        "default": str(DEFAULT_ACTIONS.get(rule.code, "")),
        "province": rule.province,
    }


@router.get("/{report_id}", response=ReportOut, auth=READ_AUTH, summary="检测报告详情（状态、版本、log_index）")
def report_detail(request: AuthedRequest, report_id: int) -> dict[str, Any]:
    """``log_index`` (of the current version; each version has its own) is null until
    the sequencer has put the version in the transparency log, usually within
    seconds: read the report again to learn it (CONTRACT §5)."""

    return report_json(selectors.report_get(actor=request.auth, pk=report_id))


_PDF = {
    "responses": {
        200: {"description": "PDF", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
        422: {"description": "stamp_failed：该 PDF 无法加盖流水号和二维码"},
    }
}
_QR = {
    "responses": {
        200: {
            "description": "二维码图片（编码 {PUBLIC_BASE_URL}/v/{verification_code}）",
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/svg+xml": {"schema": {"type": "string"}},
            },
        }
    }
}


@router.get(
    "/{report_id}/pdf",
    auth=READ_AUTH,
    summary="加盖流水号和二维码的报告 PDF（当前版本）",
    openapi_extra=_PDF,
)
def report_stamped_pdf(request: AuthedRequest, report_id: int) -> HttpResponse:
    """The current version's PDF with the serial number and the verification QR stamped
    top right, the copy the agency hands to the builder (Guangdong 二(十四); Nanchang 三).
    The page's "下载加盖二维码的 PDF" gives the same bytes."""

    report = selectors.report_get(actor=request.auth, pk=report_id)
    version = report.versions.select_related("pdf").order_by("-number").first()
    if version is None:
        raise Http404
    try:
        data = codes.stamp_pdf(
            services._read_file(version.pdf), code=report.verification_code, serial=report.serial_number
        )
    except Exception as exc:  # a PDF the stamping library cannot rewrite
        raise AppError(
            ErrorCode.STAMP_FAILED, _("该 PDF 无法加盖流水号和二维码。"), {"reason": str(exc)[:200]}
        ) from exc
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.serial_number}-stamped.pdf"'
    return response


@router.get("/{report_id}/qr", auth=READ_AUTH, summary="报告二维码（PNG 或 SVG）", openapi_extra=_QR)
def report_qr(request: AuthedRequest, report_id: int, format: Literal["png", "svg"] = "png") -> HttpResponse:
    """The QR printed on the report: ``{PUBLIC_BASE_URL}/v/{verification_code}``."""

    report = selectors.report_get(actor=request.auth, pk=report_id)
    if format == "svg":
        response = HttpResponse(codes.qr_svg(report.verification_code), content_type="image/svg+xml")
    else:
        response = HttpResponse(codes.qr_png(report.verification_code), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{report.serial_number}.{format}"'
    return response


class PrintedIn(Schema):
    printed_at: datetime.datetime | None = None


@router.post("/{report_id}/printed", response=ReportOut, summary="报告打印时间（检测机构）")
def report_printed(request: AuthedRequest, report_id: int, payload: PrintedIn) -> dict[str, Any]:
    report = selectors.report_get(actor=request.auth, pk=report_id)
    return report_json(services.report_print(actor=request.auth, report=report, printed_at=payload.printed_at))


class AmendmentIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)
    data: dict[str, Any] = {}
    pdf_id: uuid.UUID | None = None


_CONFLICT: dict[str, Any] = {"responses": {409: {"description": "报告或变更的状态不允许该操作（如已决定、已撤销）"}}}


@router.post(
    "/{report_id}/amendments", response={201: AmendmentOut}, summary="申请报告变更（检测机构）", openapi_extra=_CONFLICT
)
@idempotent
def amendment_apply(request: AuthedRequest, report_id: int, payload: AmendmentIn) -> Status:
    report = selectors.report_get(actor=request.auth, pk=report_id)
    amendment = services.amendment_apply(
        actor=request.auth, report=report, reason=payload.reason, data=payload.data, pdf_id=payload.pdf_id
    )
    return Status(201, amendment_json(amendment))


class ReportDecisionIn(Schema):
    reason: str = Field("", max_length=2000)


@router.post(
    "/amendments/{amendment_id}/approve",
    response=AmendmentOut,
    summary="批准报告变更（主管部门）",
    openapi_extra=_CONFLICT,
)
def amendment_approve(request: AuthedRequest, amendment_id: int, payload: ReportDecisionIn) -> dict[str, Any]:
    amendment = selectors.amendment_get(actor=request.auth, pk=amendment_id)
    services.amendment_approve(actor=request.auth, amendment=amendment, reason=payload.reason)
    amendment.refresh_from_db()
    return amendment_json(amendment)


@router.post(
    "/amendments/{amendment_id}/reject",
    response=AmendmentOut,
    summary="驳回报告变更（主管部门）",
    openapi_extra=_CONFLICT,
)
def amendment_reject(request: AuthedRequest, amendment_id: int, payload: ReportDecisionIn) -> dict[str, Any]:
    amendment = selectors.amendment_get(actor=request.auth, pk=amendment_id)
    return amendment_json(services.amendment_reject(actor=request.auth, amendment=amendment, reason=payload.reason))


@router.post("/{report_id}/revoke", response=ReportOut, summary="撤销报告（主管部门）", openapi_extra=_CONFLICT)
def report_revoke(request: AuthedRequest, report_id: int, payload: ReportDecisionIn) -> dict[str, Any]:
    report = selectors.report_get(actor=request.auth, pk=report_id)
    return report_json(services.report_revoke(actor=request.auth, report=report, reason=payload.reason))


# ------------------------------------------------------------------ public


# 17 symbols of Crockford base32 (any case, optionally grouped by hyphens or spaces); the
# check character is verified by the view (400 mistyped_code)
VerificationCode = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9A-Za-z]([ -]?[0-9A-Za-z]){16}$",
            "description": "防伪监管码（17 位，末位为校验位）",
        }
    ),
]
_PUBLIC_ANSWERS: dict[str, Any] = {
    "responses": {
        400: {"description": "mistyped_code：校验位不符"},
        404: {"description": "unknown_code：未查询到该防伪监管码"},
        429: {"description": "rate_limited：查询过于频繁"},
    }
}


_TIME: JsonDict = {"format": "date-time"}
_DATE: JsonDict = {"format": "date"}


class PublicSignatureOut(BaseModel):
    """One PDF signature as validated on submission (``pdfsig``)."""

    signer: str | None
    signed_at: str | None
    intact: bool | None
    valid: bool | None
    trusted: bool | None
    ok: bool | None


class PublicVersionOut(BaseModel):
    number: int
    pdf_sha256: str
    stamped_sha256: str | None = Field(
        None, description="平台加盖流水号和二维码的副本的 SHA-256（与版本一同存证）；无副本时为 null"
    )
    created_at: str = Field(json_schema_extra=_TIME)
    superseded_at: str | None = Field(json_schema_extra=_TIME)
    log_index: int | None
    signatures: list[PublicSignatureOut]
    amended: bool


class PublicProjectOut(BaseModel):
    code: str
    name: str
    region: str


class PublicTestItemOut(BaseModel):
    code: str
    name: str


class PublicTrailOut(BaseModel):
    """Tester, reviewer and signatory, names masked (Guangxi 第十一条)."""

    tester: str
    tested_at: str = Field(json_schema_extra=_TIME)
    reviewer: str
    reviewed_at: str = Field(json_schema_extra=_TIME)
    signatory: str
    approved_at: str = Field(json_schema_extra=_TIME)


class ThumbnailOut(BaseModel):
    kind: Literal["specimen", "placard"]
    label: str
    url: str = Field(description="缩略图（JPEG，不含 EXIF/GPS）：GET /api/v1/sampling/public/{code}/photos/{id}")
    sha256: str = Field(description="原照片的 SHA-256（封样时记入日志）")


class ChainStepOut(BaseModel):
    step: Literal[
        "agency_approval",
        "contract",
        "witnessed_sampling",
        "seal",
        "receipt",
        "test_record",
        "report_version",
        "revocation",
    ]
    label: str
    at: str | None = Field(json_schema_extra=_TIME)
    log_index: int | None
    number: str | None = Field(None, description="合同编号（contract）")
    sha256: str | None = Field(None, description="合同扫描件或报告 PDF 的 SHA-256")
    sample: str | None = Field(None, description="样品唯一性编码（witnessed_sampling、seal、receipt）")
    thumbnails: list[ThumbnailOut] | None = Field(
        None, description="见证取样的关键影像缩略图：试件照片（含标识）和举牌验证照片；不含人员现场照片"
    )
    ended_at: str | None = Field(None, description="检测结束时间（test_record）", json_schema_extra=_TIME)
    equipment: list[str] | None = Field(None, description="所用仪器设备编号（test_record）")
    tester: str | None = Field(None, description="检测人员（脱敏，test_record）")
    revision: int | None = Field(None, description="检测数据的当前修订号（test_record）")
    curves: list[dict[str, Any]] | None = Field(
        None, description="仪器采集曲线的草图（test_record）：参数、试件、采集结果，最多 60 个点及其 SVG 折线"
    )
    images: list[dict[str, Any]] | None = Field(
        None, description="检测数据的关键图像缩略图（test_record）：url、sha256、说明"
    )


class PublicProofOut(BaseModel):
    """RFC 9162 inclusion proof of the current version in the latest checkpoint; until
    a checkpoint covers the entry only ``index``, ``size`` (null) and
    ``pending_checkpoint`` (CONTRACT §5)."""

    index: int
    size: int | None
    pending_checkpoint: bool | None = None
    entry: str | None = Field(None, description="条目字节（RFC 8785 JSON）的 base64")
    leaf_hash: str | None = None
    hashes: list[str] | None = None
    root: str | None = None
    checkpoint: str | None = Field(None, description="C2SP tlog-checkpoint 签名文本")


class PublicReportOut(BaseModel):
    """CONTRACT §6: ``GET /api/v1/public/reports/{verification_code}``, personal data masked."""

    status: str
    serial_number: str
    report_number: str
    agency: str
    agency_credit_code: str
    project: PublicProjectOut
    test_item: PublicTestItemOut
    conclusion: str
    tested_on: str = Field(json_schema_extra=_DATE)
    reported_on: str = Field(json_schema_extra=_DATE)
    issued_at: str = Field(json_schema_extra=_TIME)
    printed_at: str | None = Field(json_schema_extra=_TIME)
    revoked_at: str | None = Field(json_schema_extra=_TIME)
    pdf_sha256: str
    version: int
    log_index: int | None
    trail: PublicTrailOut
    versions: list[PublicVersionOut]
    chain: list[ChainStepOut]
    proof: PublicProofOut | None


class FileMatchOut(BaseModel):
    """CONTRACT §6: whether an uploaded file is byte-identical to a registered version."""

    sha256: str
    matches: bool
    version: int | None = Field(description="相同的版本号；不相同时为 null")
    rendition: Literal["original", "stamped"] | None = Field(
        description="original：报送的原件；stamped：平台加盖流水号和二维码的副本；不相同时为 null"
    )
    message: str = Field(description="核对结论，如“与平台加盖的第 1 版副本完全一致。”")
    is_current: bool
    status: str


def _public_report(request: HttpRequest, code: str, *, limit: bool = True) -> Report:
    if limit and public.rate_limited(request):
        raise AppError(ErrorCode.RATE_LIMITED, "查询过于频繁，请稍后再试。")
    state, report = public.lookup(code)
    if state == "mistyped":
        raise AppError(ErrorCode.MISTYPED_CODE, "防伪监管码有误（校验位不符），请核对后重新输入。")
    if report is None:
        raise AppError(ErrorCode.UNKNOWN_CODE, "未查询到该防伪监管码对应的报告。")
    return report


@public_router.get(
    "/{code}", response=PublicReportOut, summary="报告公开查验（防伪监管码）", openapi_extra=_PUBLIC_ANSWERS
)
def public_report(request: HttpRequest, code: VerificationCode) -> HttpResponse:
    """Status, serial and report numbers, agency, dates, file hash, versions, chain and
    inclusion proof of the report behind a verification code (CONTRACT §6)."""

    if public.rate_limited(request):
        raise AppError(ErrorCode.RATE_LIMITED, "查询过于频繁，请稍后再试。")
    body = public.verification_body_cached(code)
    if body is None:
        body = public.verification_body(_public_report(request, code, limit=False))
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


@public_router.post(
    "/{code}/check-file",
    response=FileMatchOut,
    summary="核对报告文件是否与登记版本一致",
    openapi_extra={
        "responses": {**_PUBLIC_ANSWERS["responses"], 413: {"description": "payload_too_large：文件超过 50 MB"}}
    },
)
def public_check_file(request: HttpRequest, code: VerificationCode, file: File[UploadedFile]) -> JsonResponse:
    report = _public_report(request, code)
    if file.size is not None and file.size > 50 * 1024 * 1024:
        raise AppError(ErrorCode.PAYLOAD_TOO_LARGE, "文件过大。")
    return JsonResponse(public.file_match(report, file.read()), json_dumps_params={"ensure_ascii": False})
