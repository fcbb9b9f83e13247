"""Test data on the exchange API (CONTRACT §1-3; T/CECS 6.0.6; Guangxi 第七条(二)(三),
第十三条).

* ``POST /api/v1/testing/records``: one test record from an agency's LIMS (RFC 9421
  signed, scope ``tests:submit``) or a signed-in tester; ``Idempotency-Key`` honoured.
* ``POST /api/v1/testing/records/batch``: 1-100 records, each accepted or refused on
  its own with its index and reason.
* ``POST /api/v1/testing/records/{id}/revisions``: a change, with its reason.
* reads (list with filters, one record with its revisions) for signed-in users and the
  agency's signed clients, scoped (``core.scoping``): another agency's record is ``404``
  as a missing one.
"""

import datetime
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import AwareDatetime, BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from inspecta.core.actors import actor_of
from inspecta.core.api_base import AuthedRequest, session_auth
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.filtersets import api_filter
from inspecta.core.limits import MAX_ID
from inspecta.core.pagination import Pages
from inspecta.exchange.auth import SignatureAuth
from inspecta.exchange.choices import Scope
from inspecta.exchange.idempotency import idempotent
from inspecta.exchange.schemas import ItemErrorOut
from inspecta.registry.models import Agency
from inspecta.registry.selectors import agency_of
from inspecta.sampling.codes import display

from . import selectors, services
from .filtersets import TestRecordFilterSet
from .models import TestRecord

router = Router(tags=["检测数据"])

AUTH = [SignatureAuth(scopes=[Scope.TESTS_SUBMIT.value], optional=True), session_auth]
"""A browser session, or a signed client granted ``tests:submit`` (uploads and reads back
its organisation's test data)."""


class TestParameterIn(BaseModel):
    parameter: str = Field(min_length=1, max_length=32, description="参数编码（资质目录）")
    unit: str = Field("", max_length=32, description="计量单位")
    values: list[Annotated[str, Field(max_length=64)]] = Field(
        [], max_length=1000, description="各试件的原始数据（按试件顺序，十进制数字或文字）"
    )
    result: str = Field("", max_length=64, description="检测结果（代表值）")
    limit: str = Field("", max_length=64, description="标准规定值（如 ≥42.5）")
    judgement: Literal["qualified", "nonconforming", "no_verdict"] = Field(description="单项判定")
    source: Literal["instrument", "manual"] = Field(description="数据来源：仪器自动采集或人工录入")


class TestFileIn(BaseModel):
    id: uuid.UUID = Field(description="已上传文件 id（tus）")
    kind: Literal["image", "clip"] = Field(description="image 关键图像；clip 视频片段")
    caption: str = Field("", max_length=200, description="说明")


class TestRecordIn(BaseModel):
    """A test record (T/CECS 2.0.7-2.0.9): a lab test of a received sample (``kind``
    ``lab``, ``sample``) or an on-site test under a filed plan (``onsite``, ``plan_id``,
    with the place)."""

    __test__ = False

    number: str = Field(min_length=1, max_length=64, description="原始记录编号（本机构唯一）")
    kind: Literal["lab", "onsite"] = Field(description="lab 室内检测；onsite 现场检测")
    sample: str = Field("", max_length=32, description="样品唯一性编码（室内检测；可带连字符）")
    plan_id: int | None = Field(None, ge=1, le=MAX_ID, description="现场检测方案 id（现场检测）")
    test_item: str = Field(min_length=1, max_length=64, description="检测项目编码（资质目录）")
    site_id: int | None = Field(None, ge=1, le=MAX_ID, description="检测场所 id")
    tester_id: int = Field(ge=1, le=MAX_ID, description="检测人员（人员 id）")
    equipment: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        [], max_length=50, description="所用仪器设备编号"
    )
    started_at: AwareDatetime = Field(description="检测开始时间（带时区）")
    ended_at: AwareDatetime = Field(description="检测结束时间（带时区）")
    temperature_c: Decimal | None = Field(None, ge=-60, le=99, max_digits=4, decimal_places=1, description="环境温度 ℃")
    humidity_pct: Decimal | None = Field(None, ge=0, le=100, max_digits=4, decimal_places=1, description="相对湿度 %")
    latitude: Decimal | None = Field(None, ge=-90, le=90, max_digits=9, decimal_places=6, description="纬度（现场）")
    longitude: Decimal | None = Field(None, ge=-180, le=180, max_digits=9, decimal_places=6, description="经度（现场）")
    standard: str = Field(min_length=1, max_length=255, description="检测依据（标准编号及名称）")
    parameters: list[TestParameterIn] = Field(min_length=1, max_length=100, description="各参数的数据")
    conclusion: Literal["qualified", "nonconforming", "no_verdict"] = Field(description="检测结论")
    files: list[TestFileIn] = Field([], max_length=20, description="关键图像和视频片段")

    def fields(self) -> services.RecordFields:
        data = self.model_dump()
        data["files"] = [dict(f) for f in data["files"]]
        return services.RecordFields(**data)  # type: ignore[typeddict-item]


class TestRevisionIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="修改原因")
    amendment: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="依据的报告变更申请 id（已批准）：报告出具后，检测数据只能依据报告变更修订，每项变更每条数据一次",
    )
    changes: dict[str, Any] = Field(
        description="要修改的字段及新值（字段同 TestRecordIn，不含 number、kind、sample、plan_id；files 为追加）"
    )


class TestParameterOut(BaseModel):
    parameter: str
    unit: str
    values: list[str]
    result: str
    limit: str
    judgement: str
    source: str


class TestFileOut(BaseModel):
    id: uuid.UUID
    kind: str
    sha256: str
    caption: str


class TestRevisionOut(BaseModel):
    number: int
    sha256: str
    changed: list[str]
    reason: str
    at: datetime.datetime
    by_client: bool = Field(description="由检测管理系统（签名调用）提交")
    amendment: int | None = Field(None, description="依据的报告变更申请 id")


class TestRecordOut(BaseModel):
    __test__ = False

    id: int
    number: str
    kind: str
    agency_id: int
    project_id: int
    sample: str | None
    plan_id: int | None
    test_item: str
    site_id: int | None
    tester_id: int
    equipment: list[str]
    started_at: datetime.datetime
    ended_at: datetime.datetime
    temperature_c: Decimal | None
    humidity_pct: Decimal | None
    latitude: Decimal | None
    longitude: Decimal | None
    standard: str
    parameters: list[TestParameterOut]
    conclusion: str
    files: list[TestFileOut]
    revision: int
    sha256: str = Field(description="当前内容（规范化 JSON，RFC 8785）的 SHA-256")
    uploaded_at: datetime.datetime
    updated_at: datetime.datetime


class TestRecordDetailOut(TestRecordOut):
    revisions: list[TestRevisionOut]


def record_json(record: TestRecord, *, revisions: bool = False) -> dict[str, Any]:
    files = [
        {"id": f.file_id, "kind": f.kind, "sha256": f.sha256, "caption": f.caption}
        for f in sorted(record.files.all(), key=lambda f: f.pk)
    ]
    data: dict[str, Any] = {
        "id": record.pk,
        "number": record.number,
        "kind": record.kind,
        "agency_id": record.agency_id,
        "project_id": record.project_id,
        "sample": display(record.sample.code) if record.sample is not None else None,
        "plan_id": record.plan_id,
        "test_item": record.test_item_id,
        "site_id": record.site_id,
        "tester_id": record.tester_id,
        "equipment": record.equipment,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "temperature_c": record.temperature_c,
        "humidity_pct": record.humidity_pct,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "standard": record.standard,
        "parameters": record.parameters,
        "conclusion": record.conclusion,
        "files": files,
        "revision": record.revision,
        "sha256": record.sha256,
        "uploaded_at": record.uploaded_at,
        "updated_at": record.updated_at,
    }
    if revisions:
        data["revisions"] = [
            {
                "number": r.number,
                "sha256": r.sha256,
                "changed": r.changed,
                "reason": r.reason,
                "at": r.at,
                "by_client": r.client_id is not None,
                "amendment": r.amendment_id,
            }
            for r in sorted(record.revisions.all(), key=lambda r: r.number)
        ]
    return data


def _agency_of(actor: Any) -> Agency:
    agency = agency_of(actor_of(actor))
    if agency is None:
        raise PermissionDenied(_("只有检测机构可以上传检测数据。"))
    return agency


@router.post("/records", response={201: TestRecordOut}, auth=AUTH, summary="上传一条检测数据")
@idempotent
def record_upload(request: AuthedRequest, payload: TestRecordIn) -> Status:
    record = services.test_record_upload(actor=request.auth, agency=_agency_of(request.auth), **payload.fields())
    return Status(201, record_json(selectors.record_get(actor=request.auth, pk=record.pk)))


class TestRecordBatchIn(BaseModel):
    records: list[dict[str, Any]] = Field(description="每项与 POST /api/v1/testing/records 的请求体相同，1-100 项")


class TestRecordAcceptedOut(BaseModel):
    index: int
    status: Literal["accepted"]
    record: TestRecordOut


class TestRecordRejectedOut(BaseModel):
    index: int
    status: Literal["rejected"]
    error: ItemErrorOut


class TestRecordBatchOut(BaseModel):
    accepted: int
    rejected: int
    results: list[Annotated[TestRecordAcceptedOut | TestRecordRejectedOut, Field(discriminator="status")]]


def _rejected(index: int, code: str, message: str, details: dict[str, Any] | None) -> dict[str, Any]:
    return {"index": index, "status": "rejected", "error": {"code": code, "message": message, "details": details or {}}}


def _parse_batch(
    raw: list[dict[str, Any]], schema: type[BaseModel], *, empty: str, too_large: str
) -> tuple[list[Any], list[int], list[dict[str, Any] | None]]:
    """The batch's items that parse with ``schema`` (as validated models), their indexes,
    and the answers so far: the items that do not parse are rejected by index with
    ``invalid_input``. Refuses the whole batch when it is empty or over ``BATCH_MAX``."""

    if not raw:
        raise AppError(ErrorCode.BATCH_EMPTY, empty)
    if len(raw) > services.BATCH_MAX:
        raise AppError(
            ErrorCode.BATCH_TOO_LARGE,
            too_large % {"n": services.BATCH_MAX},
            {"max": services.BATCH_MAX, "count": len(raw)},
        )
    results: list[dict[str, Any] | None] = [None] * len(raw)
    parsed: list[Any] = []
    positions: list[int] = []
    for index, item in enumerate(raw):
        try:
            parsed.append(schema.model_validate(item))
            positions.append(index)
        except PydanticValidationError as exc:
            errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", "")} for e in exc.errors()]
            results[index] = _rejected(index, ErrorCode.INVALID_INPUT, _("请求参数不合法。"), {"errors": errors})
    return parsed, positions, results


@router.post(
    "/records/batch", response=TestRecordBatchOut, auth=AUTH, summary="批量上传检测数据（每批 1-100 条，逐条返回结果）"
)
@idempotent
def record_upload_batch(request: AuthedRequest, payload: TestRecordBatchIn) -> dict[str, Any]:
    """Each record is checked as by ``POST /api/v1/testing/records`` and answers on its
    own, by its index in the batch: a refused record (invalid, or failing a check)
    changes nothing, the accepted ones are stored."""

    agency = _agency_of(request.auth)
    parsed, positions, results = _parse_batch(
        payload.records,
        TestRecordIn,
        empty=_("请至少上传一条检测数据。"),
        too_large=_("每批最多上传 %(n)d 条检测数据。"),
    )
    items = [p.fields() for p in parsed]
    outcomes = services.test_record_upload_many(actor=request.auth, agency=agency, items=items) if items else []
    stored = {
        r.pk: r
        for r in selectors.record_list(actor=request.auth)
        .filter(pk__in=[o.pk for o in outcomes if isinstance(o, TestRecord)])
        .prefetch_related("files")
    }
    for index, outcome in zip(positions, outcomes, strict=True):
        if isinstance(outcome, TestRecord):
            results[index] = {"index": index, "status": "accepted", "record": record_json(stored[outcome.pk])}
        else:
            results[index] = _rejected(index, outcome.code, outcome.message, outcome.details)
    done = [r for r in results if r is not None]
    accepted = sum(1 for r in done if r["status"] == "accepted")
    return {"accepted": accepted, "rejected": len(done) - accepted, "results": done}


class RecordFilters(Schema):
    q: str = Field("", max_length=64)
    region: str = Field("", max_length=12)
    agency: int | None = Field(None, ge=1, le=MAX_ID)
    project: int | None = Field(None, ge=1, le=MAX_ID)
    test_item: str = Field("", max_length=64)
    kind: str = ""
    conclusion: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def _records_json(records: list[TestRecord]) -> list[dict[str, Any]]:
    return [record_json(r) for r in records]


@router.get("/records", response=list[TestRecordOut], auth=AUTH, summary="检测数据列表（按权限范围，每页 50 条）")
@paginate(Pages, page_size=50, render=_records_json)
def record_list(request: AuthedRequest, filters: Query[RecordFilters]) -> QuerySet[TestRecord]:
    rows = api_filter(TestRecordFilterSet, filters.dict(), selectors.record_list(actor=request.auth), request=request)
    return rows.prefetch_related("files")  # type: ignore[no-any-return]


@router.get("/records/{record_id}", response=TestRecordDetailOut, auth=AUTH, summary="检测数据详情（含修订记录）")
def record_detail(request: AuthedRequest, record_id: int) -> dict[str, Any]:
    return record_json(selectors.record_get(actor=request.auth, pk=record_id), revisions=True)


@router.post(
    "/records/{record_id}/revisions",
    response=TestRecordDetailOut,
    auth=AUTH,
    summary="修订检测数据（须填写修改原因；保留每次修订）",
)
@idempotent
def record_revise(request: AuthedRequest, payload: TestRevisionIn, record_id: int) -> dict[str, Any]:
    record = selectors.record_get(actor=request.auth, pk=record_id)
    changes = dict(payload.changes)
    fixed = sorted(set(changes) & {"number", "kind", "sample", "plan_id"})
    if fixed:
        raise AppError(
            ErrorCode.FIELD_NOT_UPDATABLE, _("以下字段不可修改：%(f)s。") % {"f": "、".join(fixed)}, {"fields": fixed}
        )
    current = {name: value for name, value in services.record_fields(record).items() if name != "files"}
    try:
        checked = TestRecordIn.model_validate(current | changes).fields()
    except PydanticValidationError as exc:
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", "")} for e in exc.errors()]
        raise AppError(ErrorCode.INVALID_INPUT, _("请求参数不合法。"), {"errors": errors}) from None
    services.test_record_revise(
        actor=request.auth,
        record=record,
        reason=payload.reason,
        amendment_id=payload.amendment,
        **{name: checked[name] for name in changes if name in services.REVISABLE},  # type: ignore[literal-required]
    )
    return record_json(selectors.record_get(actor=request.auth, pk=record_id), revisions=True)


class CurveIn(BaseModel):
    """A curve: ``y`` with ``x`` of the same length, or ``y`` at the step ``dt`` from ``x0``."""

    y: list[float] = Field(min_length=1, description="纵坐标（如力值）")
    x: list[float] | None = Field(None, description="横坐标（如时间、位移），与 y 等长；不给时用 dt")
    dt: float | None = Field(None, gt=0, description="等间隔采样的步长（无 x 时必填）")
    x0: float = Field(0, description="等间隔采样的起点")
    x_unit: str = Field("", max_length=16, description="横坐标单位，如 s")
    y_unit: str = Field("", max_length=16, description="纵坐标单位，如 kN")


class InstrumentRecordIn(BaseModel):
    """One reading an instrument collected itself (Guangxi 第七条(二)(三))."""

    source_id: str = Field(min_length=1, max_length=64, description="采集记录编号（发送方自己的编号，重发时不变）")
    record_number: str = Field(min_length=1, max_length=64, description="所属检测数据的原始记录编号")
    equipment: str = Field(min_length=1, max_length=64, description="仪器设备编号（本机构登记）")
    parameter: str = Field(min_length=1, max_length=32, description="参数编码（资质目录）")
    specimen: int = Field(ge=0, le=1000, description="试件序号")
    collected_at: AwareDatetime = Field(description="采集时间（带时区）")
    value: str = Field("", max_length=64, description="采集结果（如峰值）")
    unit: str = Field("", max_length=32, description="单位")
    curve: CurveIn | None = Field(None, description="曲线（如力-时间曲线）")


class InstrumentBatchIn(BaseModel):
    records: list[dict[str, Any]] = Field(description="1-100 条仪器采集数据，每项为 InstrumentRecordIn")


class InstrumentStoredOut(BaseModel):
    index: int
    status: Literal["accepted", "duplicate"] = Field(description="accepted 本次存储；duplicate 此前已存储（重发）")
    id: int


class InstrumentRejectedOut(BaseModel):
    index: int
    status: Literal["rejected"]
    error: ItemErrorOut


class InstrumentBatchOut(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[Annotated[InstrumentStoredOut | InstrumentRejectedOut, Field(discriminator="status")]]


@router.post(
    "/instrument-records",
    response=InstrumentBatchOut,
    auth=AUTH,
    summary="上传仪器自动采集数据（每批 1-100 条，逐条确认；重发的记为 duplicate）",
)
@idempotent
def instrument_upload(request: AuthedRequest, payload: InstrumentBatchIn) -> dict[str, Any]:
    """Readings an instrument collected itself, in real time: each is acknowledged by its
    index (``accepted`` or ``duplicate`` with its id) or refused with its reason; a
    refused reading changes nothing, the others are stored."""

    from . import instruments

    agency = _agency_of(request.auth)
    parsed, positions, results = _parse_batch(
        payload.records,
        InstrumentRecordIn,
        empty=_("请至少上传一条仪器采集数据。"),
        too_large=_("每批最多上传 %(n)d 条仪器采集数据。"),
    )
    items = [p.model_dump() for p in parsed]
    outcomes = instruments.instrument_ingest(actor=request.auth, agency=agency, items=items) if items else []
    for index, outcome in zip(positions, outcomes, strict=True):
        if isinstance(outcome, AppError):
            results[index] = _rejected(index, outcome.code, outcome.message, outcome.details)
        else:
            results[index] = {"index": index, "status": outcome.status, "id": outcome.id}
    done = [r for r in results if r is not None]
    counts = {s: sum(1 for r in done if r["status"] == s) for s in ("accepted", "duplicate", "rejected")}
    return {
        "accepted": counts["accepted"],
        "duplicates": counts["duplicate"],
        "rejected": counts["rejected"],
        "results": done,
    }


@router.get(
    "/public/{code}/images/{image_id}",
    auth=None,
    summary="报告所附检测数据的关键图像缩略图（公开）",
    openapi_extra={
        "responses": {
            200: {
                "description": "JPEG 缩略图（长边不超过 320 像素，不含 EXIF/GPS 等元数据）",
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            },
            404: {"description": "not_found：样品未被有效报告引用，或不是其检测数据的关键图像"},
            429: {"description": "rate_limited：查询过于频繁"},
        }
    },
)
def public_image(request: HttpRequest, code: str, image_id: int) -> HttpResponse:
    """A key image of a test record of a sample that a report in force names, as a small
    JPEG without metadata, for the public verification page (T/CECS 4.1.2)."""

    from inspecta.reports.public import rate_limited
    from inspecta.sampling.codes import normalise

    from . import public

    if rate_limited(request, bucket="thumbnail"):
        raise AppError(ErrorCode.RATE_LIMITED, _("查询过于频繁，请稍后再试。"))
    response = HttpResponse(public.public_image(normalise(code), image_id), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
