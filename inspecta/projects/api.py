"""Projects, contracts and on-site inspection plans on the exchange API (T/CECS 4.3.2,
4.3.3; Nanchang 二(三); Guangxi 第十条).

Authorities create and update projects from a browser session or through their
platform's exchange client (RFC 9421 signed, scope ``projects:write``, authority clients
only, projects inside the client organisation's region); clients with ``projects:read``
read the projects of their scope, incrementally (``updated_since``, ``cursor``), to
mirror them on other platforms by ``external_id`` (region:code). Agencies upload
contracts from a browser session or their LIMS (``records:submit``, or ``reports:submit``
as before). A lower platform pushes its projects up with ``sync:push``, as
``projects:write`` does. ``Idempotency-Key``
is honoured on creating POSTs (CONTRACT §2-3)."""

import datetime
import decimal
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from inspecta.core.api_base import AuthedRequest, session_auth
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.filtersets import api_filter
from inspecta.core.limits import MAX_ID
from inspecta.core.pagination import Keyset, Pages
from inspecta.exchange.auth import SignatureAuth
from inspecta.exchange.choices import Scope
from inspecta.exchange.idempotency import idempotent
from inspecta.ledger.selectors import entries_for_records, entry_for_record
from inspecta.registry.models import Agency

from . import selectors, services
from .filtersets import PlanFilterSet, ProjectFilterSet
from .models import Contract, InspectionPlan, Project, ProjectPerson

router = Router(tags=["工程项目与检测合同"])


class PersonIn(Schema):
    name: str = Field(max_length=64)
    role: str = Field("", max_length=64)
    mobile: str = Field("", max_length=20)


class PartyIn(Schema):
    role: str = Field(description="owner / contractor / supervising_firm / agency")
    name: str = Field("", max_length=200)
    credit_code: str = Field("", max_length=18)
    agency_id: int | None = None
    organisation_id: int | None = None
    people: list[PersonIn] = []


class ProjectIn(Schema):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(pattern=r"^\d{6}$", description="GB/T 2260")
    address: str = Field(min_length=1, max_length=255)
    longitude: decimal.Decimal | None = Field(None, ge=-180, le=180)
    latitude: decimal.Decimal | None = Field(None, ge=-90, le=90)
    supervision_number: str = Field("", max_length=64)
    station_id: int | None = None
    parties: list[PartyIn] = []


class PartyOut(Schema):
    role: str
    name: str
    credit_code: str
    agency_id: int | None
    organisation_id: int | None


class NamedPersonOut(Schema):
    person_id: int
    duty: str = Field(description="sampler（取样人）/ witness（见证人）")
    party_role: str


class ProjectOut(Schema):
    id: int
    external_id: str = Field(description="跨平台标识：行政区划:项目编号（登记后不变），供其他平台镜像")
    code: str
    name: str
    region: str
    address: str
    longitude: decimal.Decimal | None
    latitude: decimal.Decimal | None
    supervision_number: str
    station_id: int | None
    parties: list[PartyOut]
    people: list[NamedPersonOut] = Field(
        description="项目当前指定的取样人、见证人（人员 id；项目指定后只有他们可以在本项目取样、见证）"
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime


def project_json(project: Project) -> dict[str, Any]:
    return {
        "id": project.pk,
        "external_id": project.external_id,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "code": project.code,
        "name": project.name,
        "region": project.region_id,
        "address": project.address,
        "longitude": project.longitude,
        "latitude": project.latitude,
        "supervision_number": project.supervision_number,
        "station_id": project.station_id,
        "parties": [
            {
                "role": p.role,
                "name": p.name,
                "credit_code": p.credit_code,
                "agency_id": p.agency_id,
                "organisation_id": p.organisation_id,
            }
            for p in project.parties.all()
        ],
        "people": [
            {"person_id": n.person_id, "duty": n.duty, "party_role": n.party.role}
            for n in project.people.all()
            if n.ended_at is None  # the list prefetches the current namings only
        ],
    }


class ContractIn(Schema):
    number: str = Field(min_length=1, max_length=64)
    client_name: str = Field(min_length=1, max_length=200)
    amount: decimal.Decimal = Field(ge=0, max_digits=14, decimal_places=2, description="元，十进制字符串")
    signed_on: datetime.date
    valid_from: datetime.date
    valid_until: datetime.date
    test_items: list[str] = Field(min_length=1)
    scan_id: uuid.UUID = Field(description="合同扫描件的上传文件 id（tus）")
    parties: list[dict[str, str]] = []
    allows_additional_agency: bool = False


class ContractOut(Schema):
    id: int
    project_id: int
    agency_id: int
    number: str
    client_name: str
    amount: str
    signed_on: datetime.date
    valid_from: datetime.date
    valid_until: datetime.date
    test_items: list[str]
    scan_id: str
    scan_sha256: str
    log_index: int | None


def contract_json(contract: Contract, entries: dict[tuple[str, str], Any] | None = None) -> dict[str, Any]:
    """``entries``: the log entries of a list of contracts read at once (``contract_list``)."""

    if entries is None:
        entry = entry_for_record(contract)
    else:
        entry = entries.get((contract._meta.label_lower, str(contract.pk)))
    return {
        "id": contract.pk,
        "project_id": contract.project_id,
        "agency_id": contract.agency_id,
        "number": contract.number,
        "client_name": contract.client_name,
        "amount": str(contract.amount),
        "signed_on": contract.signed_on,
        "valid_from": contract.valid_from,
        "valid_until": contract.valid_until,
        "test_items": sorted(t.code for t in contract.test_items.all()),
        "scan_id": str(contract.scan_id),
        "scan_sha256": contract.scan_sha256,
        "log_index": entry.index if entry is not None else None,
    }


_WRITE_AUTH = [SignatureAuth(any_of=[Scope.PROJECTS_WRITE.value, Scope.SYNC_PUSH.value], optional=True), session_auth]
_READ_AUTH = [SignatureAuth(scopes=[Scope.PROJECTS_READ.value], optional=True), session_auth]


def _parties(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(p, people=[dict(x) for x in p.get("people", [])]) for p in raw]


@router.post(
    "/",
    response={201: ProjectOut},
    auth=_WRITE_AUTH,
    summary="登记工程项目（主管部门；或其平台签名调用，权限 projects:write）",
)
@idempotent
def project_create(request: AuthedRequest, payload: ProjectIn) -> Status:
    data = payload.dict()
    parties = _parties(data.pop("parties"))
    project = services.project_create(actor=request.auth, region_code=data.pop("region"), parties=parties, **data)
    return Status(201, project_json(project))


class ProjectPatch(Schema):
    """Fields to change (only those sent); code and region never change."""

    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, min_length=1, max_length=255)
    longitude: decimal.Decimal | None = Field(None, ge=-180, le=180)
    latitude: decimal.Decimal | None = Field(None, ge=-90, le=90)
    supervision_number: str | None = Field(None, max_length=64)
    station_id: int | None = None
    add_parties: list[PartyIn] = Field([], description="新增的参建单位")


@router.patch(
    "/{int:project_id}",
    response=ProjectOut,
    auth=_WRITE_AUTH,
    summary="修改工程项目（主管部门；或其平台签名调用，权限 projects:write）",
)
def project_update(request: AuthedRequest, project_id: int, payload: ProjectPatch) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    add_parties = _parties(data.pop("add_parties", []))
    for name in ("name", "address", "supervision_number"):
        if name in data and data[name] is None:
            raise AppError(ErrorCode.INVALID_INPUT, _("%(f)s 不能为空。") % {"f": name})
    project = selectors.project_get(actor=request.auth, pk=project_id)
    project = services.project_update(actor=request.auth, project=project, changes=data, add_parties=add_parties)
    return project_json(selectors.project_get(actor=request.auth, pk=project.pk))


PAGE_SIZE = 50


@router.get("/", response=list[ProjectOut], auth=_READ_AUTH, summary="可见的工程项目（每页 50 条；增量同步）")
@paginate(Keyset, page_size=PAGE_SIZE, render=lambda rows: [project_json(p) for p in rows])
def project_list(request: AuthedRequest, q: str = "", region: str = "") -> QuerySet[Project]:
    """Projects in the caller's scope. For sharing with other platforms (T/CECS 4.3.2),
    a client with ``projects:read`` mirrors them by ``external_id``: first
    ``?updated_since=<last sync time>``, then follow ``next_cursor`` until it is null
    (:class:`inspecta.core.pagination.Keyset`)."""

    qs = selectors.project_list(actor=request.auth)
    return api_filter(ProjectFilterSet, {"q": q, "region": region}, qs, request=request).prefetch_related(
        "parties", Prefetch("people", ProjectPerson.objects.filter(ended_at__isnull=True).select_related("party"))
    )


@router.get("/{int:project_id}", response=ProjectOut, auth=_READ_AUTH, summary="工程项目详情")
def project_detail(request: AuthedRequest, project_id: int) -> dict[str, Any]:
    return project_json(selectors.project_get(actor=request.auth, pk=project_id))


@router.post(
    "/{project_id}/contracts",
    response={201: ContractOut},
    auth=[SignatureAuth(any_of=[Scope.RECORDS_SUBMIT.value, Scope.REPORTS_SUBMIT.value], optional=True), session_auth],
    summary="上传检测合同（检测机构；签名调用须有权限 records:submit 或 reports:submit）",
)
@idempotent
def contract_upload(request: AuthedRequest, project_id: int, payload: ContractIn) -> Status:
    actor = request.auth
    agency = Agency.objects.filter(organisation__pk=getattr(actor.organisation, "pk", -1)).first()
    if agency is None:
        raise PermissionDenied("只有检测机构可以上传检测合同。")
    # a project the agency may not see answers as a missing one, not agency_not_party
    project = Project.objects.reach(actor, pk=project_id)
    contract = services.contract_upload(actor=actor, agency=agency, project=project, **payload.dict())
    return Status(201, contract_json(contract))


@router.get("/{project_id}/contracts", response=list[ContractOut], summary="项目的检测合同")
def contract_list(request: AuthedRequest, project_id: int) -> list[dict[str, Any]]:
    project = selectors.project_get(actor=request.auth, pk=project_id)
    contracts = list(selectors.contract_list(actor=request.auth, project=project).prefetch_related("test_items"))
    entries = entries_for_records(contracts)
    return [contract_json(c, entries) for c in contracts]


# --- on-site inspection plans (Nanchang 二(三); Guangxi 第十条) --------------------------


class PlanFilters(Schema):
    project: int | None = Field(None, ge=1, le=MAX_ID, description="工程项目 id")
    agency: int | None = Field(None, ge=1, le=MAX_ID, description="检测机构 id")
    date_from: datetime.date | None = Field(None, description="计划开始日期自（含）")
    date_to: datetime.date | None = Field(None, description="计划开始日期至（含）")
    status: str = Field("", description="filed / cancelled")


class PlanIn(Schema):
    contract_id: int = Field(ge=1, le=MAX_ID, description="本机构在该项目上的检测合同 id")
    test_item: str = Field(min_length=1, max_length=64, description="检测项目编码（目录）")
    tester_ids: list[int] = Field(min_length=1, max_length=50, description="本机构在职检测人员 id")
    planned_start: datetime.datetime = Field(description="计划开始时间（RFC 3339，带时区）")
    planned_end: datetime.datetime = Field(description="计划结束时间，须晚于开始时间")
    quantity: int = Field(ge=1, le=1_000_000, description="检测数量（正整数）")
    quantity_unit: str = Field(min_length=1, max_length=16, description="数量单位，如 根、点、组")
    location: str = Field(min_length=1, max_length=255, description="检测部位")
    document_id: uuid.UUID = Field(description="检测方案扫描件的上传文件 id（tus）")


class PlanChangeIn(Schema):
    """The reason and the fields to change (only those sent); the others stay."""

    reason: str = Field(min_length=1, max_length=500, description="变更原因")
    contract_id: int | None = Field(None, ge=1, le=MAX_ID)
    test_item: str | None = Field(None, min_length=1, max_length=64)
    tester_ids: list[int] | None = Field(None, min_length=1, max_length=50)
    planned_start: datetime.datetime | None = None
    planned_end: datetime.datetime | None = None
    quantity: int | None = Field(None, ge=1, le=1_000_000)
    quantity_unit: str | None = Field(None, min_length=1, max_length=16)
    location: str | None = Field(None, min_length=1, max_length=255)
    document_id: uuid.UUID | None = None


class PlanCancelIn(Schema):
    reason: str = Field(min_length=1, max_length=500, description="取消原因")


class PlanOut(Schema):
    id: int
    project_id: int
    agency_id: int
    contract_id: int
    test_item: str
    tester_ids: list[int]
    planned_start: datetime.datetime
    planned_end: datetime.datetime
    quantity: int
    quantity_unit: str
    location: str
    document_id: str
    document_sha256: str
    status: str = Field(description="filed（已报送） / cancelled（已取消）")
    version: int = Field(description="当前版本号")
    filed_at: datetime.datetime
    updated_at: datetime.datetime


class PlanVersionOut(Schema):
    number: int
    status: str
    data: dict[str, Any] = Field(description="该版本的方案内容（时间为 UTC）")
    document_id: str
    document_sha256: str
    filed_at: datetime.datetime
    reason: str
    log_index: int | None


class PlanFindingOut(Schema):
    rule: str
    key: str
    severity: str
    status: str
    detail: str
    version: int


class PlanDetailOut(PlanOut):
    versions: list[PlanVersionOut]
    findings: list[PlanFindingOut]


def plan_json(plan: InspectionPlan) -> dict[str, Any]:
    """``plan`` with ``testers`` prefetched (or read here)."""

    return {
        "id": plan.pk,
        "project_id": plan.project_id,
        "agency_id": plan.agency_id,
        "contract_id": plan.contract_id,
        "test_item": plan.test_item_id,
        "tester_ids": sorted(t.pk for t in plan.testers.all()),
        "planned_start": plan.planned_start,
        "planned_end": plan.planned_end,
        "quantity": plan.quantity,
        "quantity_unit": plan.quantity_unit,
        "location": plan.location,
        "document_id": str(plan.document_id),
        "document_sha256": plan.document_sha256,
        "status": plan.status,
        "version": plan.version,
        "filed_at": plan.filed_at,
        "updated_at": plan.updated_at,
    }


def plan_detail_json(plan: InspectionPlan) -> dict[str, Any]:
    versions = list(selectors.plan_versions(plan))
    entries = entries_for_records(versions)
    numbers = {v.pk: v.number for v in versions}
    return plan_json(plan) | {
        "versions": [
            {
                "number": v.number,
                "status": v.status,
                "data": v.data,
                "document_id": str(v.document_id),
                "document_sha256": v.document_sha256,
                "filed_at": v.filed_at,
                "reason": v.reason,
                "log_index": getattr(entries.get((v._meta.label_lower, str(v.pk))), "index", None),
            }
            for v in versions
        ],
        "findings": [
            {
                "rule": f.rule,
                "key": f.key,
                "severity": f.severity,
                "status": f.status,
                "detail": f.detail,
                "version": numbers.get(f.version_id, 0),
            }
            for f in plan.findings.order_by("pk")
        ],
    }


_PLAN_WRITE_AUTH = [SignatureAuth(scopes=[Scope.RECORDS_SUBMIT.value], optional=True), session_auth]
_PLAN_READ_AUTH = [
    SignatureAuth(any_of=[Scope.PROJECTS_READ.value, Scope.RECORDS_SUBMIT.value], optional=True),
    session_auth,
]


def _acting_agency(actor: Any) -> Agency:
    agency = Agency.objects.filter(organisation__pk=getattr(actor.organisation, "pk", -1)).first()
    if agency is None:
        raise PermissionDenied(_("只有检测机构可以报送检测方案。"))
    return agency


@router.post(
    "/{project_id}/plans",
    response={201: PlanDetailOut},
    auth=_PLAN_WRITE_AUTH,
    summary="报送现场检测方案（检测机构；签名调用须有权限 records:submit）",
)
@idempotent
def plan_file(request: AuthedRequest, project_id: int, payload: PlanIn) -> Status:
    """Version 1 of a plan; filed (server time) less than the lead time before
    ``planned_start`` it carries a ``plan_filed_late`` finding."""

    actor = request.auth
    agency = _acting_agency(actor)
    # a project the agency may not see answers as a missing one
    project = Project.objects.reach(actor, pk=project_id)
    plan = services.plan_file(actor=actor, agency=agency, project=project, **payload.dict())
    return Status(201, plan_detail_json(plan))


@router.get("/plans", response=list[PlanOut], auth=_PLAN_READ_AUTH, summary="可见的现场检测方案（按计划开始时间）")
@paginate(Pages, page_size=PAGE_SIZE, render=lambda rows: [plan_json(p) for p in rows])
def plan_list(request: AuthedRequest, filters: Query[PlanFilters]) -> QuerySet[InspectionPlan]:
    qs = selectors.plan_list(actor=request.auth)
    return api_filter(PlanFilterSet, filters.dict(), qs, request=request).prefetch_related("testers")


@router.get("/plans/{plan_id}", response=PlanDetailOut, auth=_PLAN_READ_AUTH, summary="现场检测方案详情及各版本")
def plan_detail(request: AuthedRequest, plan_id: int) -> dict[str, Any]:
    return plan_detail_json(selectors.plan_get(actor=request.auth, pk=plan_id))


@router.post(
    "/plans/{plan_id}/change",
    response={201: PlanDetailOut},
    auth=_PLAN_WRITE_AUTH,
    summary="变更现场检测方案（新版本；报送的检测机构）",
)
@idempotent
def plan_change(request: AuthedRequest, plan_id: int, payload: PlanChangeIn) -> Status:
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason")
    nulls = sorted(name for name, value in data.items() if value is None)
    if nulls:
        raise AppError(ErrorCode.INVALID_INPUT, _("%(f)s 不能为空。") % {"f": "、".join(nulls)})
    plan = selectors.plan_get(actor=request.auth, pk=plan_id)
    plan = services.plan_change(actor=request.auth, plan=plan, reason=reason, **data)
    return Status(201, plan_detail_json(plan))


@router.post(
    "/plans/{plan_id}/cancel",
    response={201: PlanDetailOut},
    auth=_PLAN_WRITE_AUTH,
    summary="取消现场检测方案（报送的检测机构）",
)
@idempotent
def plan_cancel(request: AuthedRequest, plan_id: int, payload: PlanCancelIn) -> Status:
    plan = selectors.plan_get(actor=request.auth, pk=plan_id)
    plan = services.plan_cancel(actor=request.auth, plan=plan, reason=payload.reason)
    return Status(201, plan_detail_json(plan))
