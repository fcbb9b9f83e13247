"""Projects and contracts on the exchange API (T/CECS 4.3.2, 4.3.3).

Authorities create projects (browser session); agencies upload contracts from a browser
session or their LIMS (RFC 9421 signed, ``reports:submit`` scope) with an optional
``Idempotency-Key`` (CONTRACT §2-3)."""

import datetime
import decimal
import uuid
from typing import Any

from django.http import Http404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from inspecta.api import AuthedRequest, session_auth
from inspecta.exchange.auth import SignatureAuth
from inspecta.exchange.choices import Scope
from inspecta.exchange.idempotency import idempotent
from inspecta.ledger.selectors import entry_for_record
from inspecta.registry.models import Agency

from . import selectors, services
from .models import Contract, Project

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


class ProjectOut(Schema):
    id: int
    code: str
    name: str
    region: str
    address: str
    longitude: decimal.Decimal | None
    latitude: decimal.Decimal | None
    supervision_number: str
    station_id: int | None
    parties: list[PartyOut]


def project_json(project: Project) -> dict[str, Any]:
    return {
        "id": project.pk,
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


def contract_json(contract: Contract) -> dict[str, Any]:
    entry = entry_for_record(contract)
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
        "test_items": sorted(contract.test_items.values_list("code", flat=True)),
        "scan_id": str(contract.scan_id),
        "scan_sha256": contract.scan_sha256,
        "log_index": entry.index if entry is not None else None,
    }


@router.post("/", response={201: ProjectOut}, summary="登记工程项目（主管部门）")
@idempotent
def project_create(request: AuthedRequest, payload: ProjectIn) -> Status:
    data = payload.dict()
    parties = [dict(p, people=[dict(x) for x in p.get("people", [])]) for p in data.pop("parties")]
    project = services.project_create(actor=request.auth, region_code=data.pop("region"), parties=parties, **data)
    return Status(201, project_json(project))


class ProjectPage(Schema):
    items: list[ProjectOut]
    count: int


@router.get("/", response=ProjectPage, summary="本人可见的工程项目（每页 50 条）")
def project_list(request: AuthedRequest, q: str = "", region: str = "", page: int = Query(1, ge=1)) -> dict[str, Any]:
    qs = selectors.project_list(actor=request.auth, q=q, region=region).prefetch_related("parties")
    start = (page - 1) * 50
    return {"items": [project_json(p) for p in qs[start : start + 50]], "count": qs.count()}


@router.get("/{project_id}", response=ProjectOut, summary="工程项目详情")
def project_detail(request: AuthedRequest, project_id: int) -> dict[str, Any]:
    return project_json(selectors.project_get(actor=request.auth, pk=project_id))


@router.post(
    "/{project_id}/contracts",
    response={201: ContractOut},
    auth=[SignatureAuth(scopes=[Scope.REPORTS_SUBMIT.value], optional=True), session_auth],
    summary="上传检测合同（检测机构）",
)
@idempotent
def contract_upload(request: AuthedRequest, project_id: int, payload: ContractIn) -> Status:
    actor = request.auth
    agency = Agency.objects.filter(organisation__pk=getattr(actor.organisation, "pk", -1)).first()
    if agency is None:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("只有检测机构可以上传检测合同。")
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise Http404
    contract = services.contract_upload(actor=actor, agency=agency, project=project, **payload.dict())
    return Status(201, contract_json(contract))


@router.get("/{project_id}/contracts", response=list[ContractOut], summary="项目的检测合同")
def contract_list(request: AuthedRequest, project_id: int) -> list[dict[str, Any]]:
    project = selectors.project_get(actor=request.auth, pk=project_id)
    return [contract_json(c) for c in selectors.contract_list(actor=request.auth, project=project)]
