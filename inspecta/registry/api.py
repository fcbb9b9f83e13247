"""The agency registry over the API (CONTRACT §1, §6a).

``/api/v1/public/agencies``: the public list of approved agencies (no login, no
personal numbers). ``/api/v1/registry/``: the scoped registry, the same rules as the
pages (modelled on the Jg_Aptitude, Jg_Employee, Jg_Device, Jg_InspectProject downlink).

Signed exchange clients read it for their organisation (an agency's LIMS its own
agency, a city platform the agencies of its region: ``core.scoping``): the lists and
details with ``registry:read``, and the change feeds ``/api/v1/registry/feed/<kind>``
(``updated_since``, ``cursor``: ``core.pagination.Keyset``) and the feed of removals
``/api/v1/registry/feed/removed?kind=<kind>`` with ``sync:pull``: the registry downlink
of Guangdong 附件2 一(三)(四) ("审核通过后的企业信息，以及企业添加的资质、人员、设备信息，
将会通过接口同步至对应的地市监管系统"; "通过接口下发给各地市系统和检测机构").
"""

import datetime
from typing import Any, Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from inspecta.core.api_base import AuthedRequest, session_auth
from inspecta.core.filtersets import api_filter
from inspecta.core.masking import Audience, mask_id_number, mask_mobile, mask_name
from inspecta.core.pagination import Keyset, KeysetInput, Pages
from inspecta.exchange.auth import SignatureAuth
from inspecta.exchange.choices import Scope
from inspecta.exchange.idempotency import idempotent

from . import selectors, services
from .choices import AgencyStatus, ChangeRequestStatus, HeadRole
from .filtersets import AgencyFilterSet, PublicAgencyFilterSet
from .models import (
    Agency,
    AgencyCertificate,
    AgencyHead,
    ChangeRequest,
    Equipment,
    Finding,
    PostCertificate,
    QualificationCertificate,
    Signatory,
    Site,
    SiteCapability,
    Staff,
)

public_router = Router(tags=["检测机构公开名录"], auth=None)
router = Router(tags=["检测机构登记"])

READ_AUTH = [SignatureAuth(scopes=[Scope.REGISTRY_READ.value], optional=True), session_auth]
"""A browser session, or a signed client granted ``registry:read``."""
FEED_AUTH = [SignatureAuth(scopes=[Scope.SYNC_PULL.value], optional=True), session_auth]
"""A browser session, or a signed client granted ``sync:pull``."""


# --- schemas ------------------------------------------------------------------------


class CodeName(Schema):
    code: str
    name: str


class CertificateStatusOut(Schema):
    status: str = Field(..., description="valid / expired / missing")
    number: str
    valid_until: datetime.date | None


class QualificationPublicOut(Schema):
    number: str
    grade: str
    valid_until: datetime.date
    valid: bool
    specialties: list[CodeName]


class PublicAgencyOut(Schema):
    id: int
    name: str
    credit_code: str = Field(..., description="统一社会信用代码（GB 32100）")
    region: CodeName
    office_address: str
    phone: str
    legal_representative: str = Field("", description="法定代表人（脱敏）")
    qualifications: list[QualificationPublicOut]
    specialties: list[CodeName] = Field(..., description="各检测场所开展的检测专项")
    cma: CertificateStatusOut
    cnas: CertificateStatusOut
    approved_at: datetime.datetime | None


class PublicFilter(Schema):
    region: str = Field("", pattern=r"^(\d{6})?$", description="行政区划代码（含下级）")
    specialty: str = Field("", max_length=16, description="检测专项编码，如 SP01")
    q: str = Field("", max_length=100, description="名称或统一社会信用代码")


def public_items(agencies: list[Agency]) -> list[dict[str, Any]]:
    """Public list entries with the legal representative's masked name (needs the
    ``agencyhead_set`` prefetched)."""

    items = selectors.public_agency_items(agencies)
    for agency, item in zip(agencies, items, strict=True):
        head = next((h for h in agency.agencyhead_set.all() if h.role == HeadRole.LEGAL_REPRESENTATIVE), None)
        item["legal_representative"] = mask_name(head.name, Audience.PUBLIC) if head else ""
    return items


@public_router.get("", response=list[PublicAgencyOut], summary="已登记检测机构公开名录", auth=None)
@paginate(Pages, page_size=20)
def public_agencies(request: Any, filters: Query[PublicFilter]) -> Any:
    """Approved agencies (Guangdong 附件2 一(四) 向社会公布), searchable by region and specialty."""

    qs = api_filter(PublicAgencyFilterSet, filters.dict(), selectors.public_agency_list(), request=request)
    return _LazyItems(qs.prefetch_related("agencyhead_set"))


class _LazyItems:
    """A queryset whose page slices are turned into public items (no personal data)."""

    def __init__(self, qs: Any) -> None:
        self.qs = qs

    def count(self) -> int:
        return int(self.qs.count())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        return public_items(list(self.qs[index]))


@public_router.get("/{agency_id}", response=PublicAgencyOut, summary="已登记检测机构公开信息", auth=None)
def public_agency(request: Any, agency_id: int) -> Any:
    agency = selectors.public_agency_list().prefetch_related("agencyhead_set").filter(pk=agency_id).first()
    if agency is None:
        raise Http404(_("检测机构不存在或未通过审核。"))
    return public_items([agency])[0]


# --- scoped registry ----------------------------------------------------------------


class AgencyOut(Schema):
    id: int
    name: str
    credit_code: str
    region: str
    status: AgencyStatus
    out_of_province: bool
    open_findings: int = 0
    submitted_at: datetime.datetime | None
    approved_at: datetime.datetime | None

    @staticmethod
    def resolve_region(obj: Agency | dict[str, Any]) -> str:
        # the list renders model rows, the detail a dict it builds (region included)
        return str(obj["region"]) if isinstance(obj, dict) else obj.region_id


class HeadOut(Schema):
    role: str
    name: str
    id_number: str
    mobile: str
    position: str
    title: str


class AgencyDetailOut(AgencyOut):
    founded_on: datetime.date | None
    registered_address: str
    office_address: str
    office_longitude: float | None
    office_latitude: float | None
    phone: str
    postcode: str
    fax: str
    email: str
    registration_authority: str
    registered_capital: str | None
    registration_type: str
    social_insurance_count: int | None
    technical_staff_count: int | None
    intermediate_title_count: int | None
    senior_title_count: int | None
    equipment_count: int | None
    testing_area: str | None
    return_reason: str
    parent_id: int | None
    heads: list[HeadOut]
    version: int | None


class StaffOut(Schema):
    id: int
    name: str
    gender: str
    id_number: str = Field(..., description="按权限脱敏")
    mobile: str = Field(..., description="按权限脱敏")
    education: str
    title: str
    title_level: str
    post: str
    site_id: int | None
    active: bool
    post_certificates: list[dict[str, Any]]


class EquipmentOut(Schema):
    id: int
    asset_no: str
    name: str
    equipment_type: str
    model: str
    measuring_range: str
    accuracy: str
    calibration_body: str
    calibration_interval_months: int | None
    calibrated_on: datetime.date | None
    calibration_valid_until: datetime.date | None
    site_id: int | None
    status: str
    test_items: list[str]
    parameters: list[str]

    @staticmethod
    def resolve_test_items(obj: Equipment) -> list[str]:
        return [item.pk for item in obj.test_items.all()]

    @staticmethod
    def resolve_parameters(obj: Equipment) -> list[str]:
        return [p.code for p in obj.parameters.all()]


class CapabilityOut(Schema):
    specialty: str
    test_item: str
    parameter: str
    level: str


class SiteOut(Schema):
    id: int
    name: str
    address: str
    capabilities: list[CapabilityOut]

    @staticmethod
    def resolve_capabilities(obj: Site) -> list[dict[str, str]]:
        return [
            {
                "specialty": c.item_parameter.test_item.specialty_id,
                "test_item": c.item_parameter.test_item_id,
                "parameter": c.item_parameter.parameter_id,
                "level": c.item_parameter.level,
            }
            for c in obj.capabilities.all()
        ]


class SignatoryOut(Schema):
    id: int
    staff_id: int
    name: str
    position: str
    title: str
    site_id: int | None
    scope: list[str]

    @staticmethod
    def resolve_name(obj: Signatory) -> str:
        return obj.staff.name

    @staticmethod
    def resolve_scope(obj: Signatory) -> list[str]:
        return [s.code for s in obj.scope.all()]


class QualificationOut(Schema):
    id: int
    number: str
    grade: str
    issuer: str
    issued_on: datetime.date | None
    valid_until: datetime.date
    specialties: list[str]

    @staticmethod
    def resolve_specialties(obj: QualificationCertificate) -> list[str]:
        return [s.code for s in obj.specialties.all()]


class CertificateOut(Schema):
    id: int
    kind: str
    number: str
    issuer: str
    valid_until: datetime.date


class AgencyFindingOut(Schema):
    id: int
    rule: str
    rule_label: str
    severity: str
    subject: str
    detail: str
    since: datetime.datetime
    resolved_at: datetime.datetime | None

    @staticmethod
    def resolve_rule_label(obj: Finding) -> str:
        return str(obj.get_rule_display())


_CHANGE_STATUS_OUT = {ChangeRequestStatus.PENDING: "submitted", ChangeRequestStatus.REJECTED: "returned"}


class ChangeRequestOut(Schema):
    id: int
    agency_id: int
    operation: str
    summary: str
    status: str
    submitted_by_id: int | None
    reviewed_by_id: int | None
    reason: str
    created_at: datetime.datetime

    # the stored values and columns are those of ``core.decisions.Decision``; the output
    # keeps the names and values it has always had
    @staticmethod
    def resolve_status(obj: ChangeRequest) -> str:
        return _CHANGE_STATUS_OUT.get(obj.status, obj.status)

    @staticmethod
    def resolve_submitted_by_id(obj: ChangeRequest) -> int | None:
        return obj.applied_by_id

    @staticmethod
    def resolve_reviewed_by_id(obj: ChangeRequest) -> int | None:
        return obj.decided_by_id

    @staticmethod
    def resolve_reason(obj: ChangeRequest) -> str:
        return obj.decision_reason


class AgencyFilter(Schema):
    q: str = Field("", max_length=100)
    status: AgencyStatus | None = None
    region: str = Field("", pattern=r"^(\d{6})?$")
    specialty: str = Field("", max_length=16)
    findings: bool = False


class ReasonIn(Schema):
    reason: str = Field("", max_length=1000)


class ApproveIn(ReasonIn):
    confirm_findings: bool = Field(
        False,
        description="确认已核查该机构的严重不符合项；有严重不符合项而未确认时拒绝（400，details.confirm 列出各项）",
    )


class StaffIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    id_number: str = Field(..., min_length=18, max_length=18)
    gender: str = ""
    mobile: str = ""
    education: str = ""
    title: str = ""
    title_level: str = "none"
    post: str = ""
    site: int | None = None
    specialties: list[str] = []


class EquipmentIn(Schema):
    asset_no: str = Field(..., min_length=1, max_length=64)
    name: str = Field(..., min_length=1, max_length=128)
    equipment_type: str = ""
    model: str = ""
    measuring_range: str = ""
    accuracy: str = ""
    calibration_body: str = ""
    calibration_interval_months: int | None = None
    calibrated_on: datetime.date | None = None
    calibration_valid_until: datetime.date | None = None
    site: int | None = None
    status: str = "in_use"
    test_items: list[str] = Field([], description="登记的检测项目代码（目录）；有项目时，参数须属于其中之一")
    parameters: list[str] = []


def _agency(request: AuthedRequest, agency_id: int) -> Agency:
    return selectors.agency_get(actor=request.auth, pk=agency_id)


def _staff_out(staff: Staff, audience: Audience) -> dict[str, Any]:
    return {
        "id": staff.pk,
        "name": staff.name,
        "gender": staff.gender,
        "id_number": mask_id_number(staff.id_number, audience),
        "mobile": mask_mobile(staff.mobile, audience),
        "education": staff.education,
        "title": staff.title,
        "title_level": staff.title_level,
        "post": staff.post,
        "site_id": staff.site_id,
        "active": staff.active,
        "post_certificates": [
            {"number": c.number, "category": c.category_id, "level": c.level, "valid_until": c.valid_until.isoformat()}
            for c in staff.post_certificates.all()
        ],
    }


@router.get("/agencies", response=list[AgencyOut], auth=READ_AUTH, summary="检测机构列表（本人权限范围）")
@paginate(Pages, page_size=50)
def agencies(request: AuthedRequest, filters: Query[AgencyFilter]) -> Any:
    data = {**filters.dict(), "status": filters.status.value if filters.status else ""}
    return api_filter(AgencyFilterSet, data, selectors.agency_list(actor=request.auth), request=request)


@router.get("/agencies/{agency_id}", response=AgencyDetailOut, auth=READ_AUTH, summary="检测机构详情")
def agency_detail(request: AuthedRequest, agency_id: int) -> Any:
    agency = _agency(request, agency_id)
    audience = selectors.audience_for(request.auth, agency)
    latest = agency.versions.order_by("-number").first()
    data = {f: getattr(agency, f) for f in AgencyDetailOut.model_fields if hasattr(agency, f)}
    data.update(
        region=agency.region_id,
        registered_capital=str(agency.registered_capital) if agency.registered_capital is not None else None,
        testing_area=str(agency.testing_area) if agency.testing_area is not None else None,
        office_longitude=float(agency.office_longitude) if agency.office_longitude is not None else None,
        office_latitude=float(agency.office_latitude) if agency.office_latitude is not None else None,
        open_findings=selectors.open_findings(agency).count(),
        version=latest.number if latest else None,
        heads=[
            {
                "role": h.role,
                "name": h.name,
                "id_number": mask_id_number(h.id_number, audience),
                "mobile": mask_mobile(h.mobile, audience),
                "position": h.position,
                "title": h.title,
            }
            for h in AgencyHead.objects.filter(agency=agency).order_by("role")
        ],
    )
    return data


@router.get("/agencies/{agency_id}/staff", response=list[StaffOut], auth=READ_AUTH, summary="检测人员（Jg_Employee）")
def agency_staff(request: AuthedRequest, agency_id: int, active: bool | None = None) -> Any:
    agency = _agency(request, agency_id)
    audience = selectors.audience_for(request.auth, agency)
    qs = Staff.objects.filter(agency=agency).prefetch_related("post_certificates")
    if active is not None:
        qs = qs.filter(active=active)
    return [_staff_out(s, audience) for s in qs]


@router.get(
    "/agencies/{agency_id}/equipment", response=list[EquipmentOut], auth=READ_AUTH, summary="仪器设备（Jg_Device）"
)
def agency_equipment(request: AuthedRequest, agency_id: int) -> Any:
    agency = _agency(request, agency_id)
    return Equipment.objects.filter(agency=agency).prefetch_related("test_items", "parameters")


@router.get(
    "/agencies/{agency_id}/sites",
    response=list[SiteOut],
    auth=READ_AUTH,
    summary="检测场所及检测能力（Jg_InspectProject）",
)
def agency_sites(request: AuthedRequest, agency_id: int) -> Any:
    agency = _agency(request, agency_id)
    return Site.objects.filter(agency=agency).prefetch_related(
        "capabilities__item_parameter__test_item", "capabilities__item_parameter"
    )


@router.get("/agencies/{agency_id}/signatories", response=list[SignatoryOut], auth=READ_AUTH, summary="报告批准人")
def agency_signatories(request: AuthedRequest, agency_id: int) -> Any:
    agency = _agency(request, agency_id)
    return Signatory.objects.filter(agency=agency).select_related("staff").prefetch_related("scope")


@router.get(
    "/agencies/{agency_id}/qualifications",
    response=list[QualificationOut],
    auth=READ_AUTH,
    summary="资质证书（Jg_Aptitude）",
)
def agency_qualifications(request: AuthedRequest, agency_id: int) -> Any:
    agency = _agency(request, agency_id)
    return QualificationCertificate.objects.filter(agency=agency).prefetch_related("specialties")


@router.get(
    "/agencies/{agency_id}/certificates", response=list[CertificateOut], auth=READ_AUTH, summary="CMA/CNAS 证书"
)
def agency_certificates(request: AuthedRequest, agency_id: int) -> Any:
    return AgencyCertificate.objects.filter(agency=_agency(request, agency_id))


@router.get("/agencies/{agency_id}/findings", response=list[AgencyFindingOut], summary="资质符合性问题")
def agency_findings(request: AuthedRequest, agency_id: int, include_resolved: bool = False) -> Any:
    agency = _agency(request, agency_id)
    qs = Finding.objects.filter(agency=agency)
    if not include_resolved:
        qs = qs.filter(resolved_at__isnull=True)
    return qs.order_by("severity", "rule", "since", "pk")


@router.get("/agencies/{agency_id}/change-requests", response=list[ChangeRequestOut], summary="关键信息变更申请")
def agency_change_requests(request: AuthedRequest, agency_id: int) -> Any:
    return ChangeRequest.objects.filter(agency=_agency(request, agency_id))


@router.post("/agencies/{agency_id}/submit", response=AgencyOut, summary="提交审核")
def agency_submit(request: AuthedRequest, agency_id: int) -> Any:
    return services.agency_submit(actor=request.auth, agency=_agency(request, agency_id))


@router.post("/agencies/{agency_id}/approve", response=AgencyOut, summary="审核通过（注册地主管部门）")
def agency_approve(request: AuthedRequest, agency_id: int, payload: ApproveIn) -> Any:
    return services.agency_approve(
        actor=request.auth,
        agency=_agency(request, agency_id),
        reason=payload.reason,
        confirm_findings=payload.confirm_findings,
    )


@router.post("/agencies/{agency_id}/return", response=AgencyOut, summary="退回（须填写原因）")
def agency_return(request: AuthedRequest, agency_id: int, payload: ReasonIn) -> Any:
    return services.agency_return(actor=request.auth, agency=_agency(request, agency_id), reason=payload.reason)


@router.post("/agencies/{agency_id}/staff", response={201: StaffOut}, summary="新增检测人员")
@idempotent
def agency_staff_create(request: AuthedRequest, agency_id: int, payload: StaffIn) -> Any:
    agency = _agency(request, agency_id)
    staff = services.staff_save(actor=request.auth, agency=agency, data=payload.dict())
    assert isinstance(staff, Staff)
    return Status(201, _staff_out(staff, selectors.audience_for(request.auth, agency)))


@router.post("/agencies/{agency_id}/equipment", response={201: EquipmentOut}, summary="新增仪器设备")
@idempotent
def agency_equipment_create(request: AuthedRequest, agency_id: int, payload: EquipmentIn) -> Any:
    agency = _agency(request, agency_id)
    return Status(201, services.equipment_save(actor=request.auth, agency=agency, data=payload.dict()))


@router.delete("/agencies/{agency_id}/equipment/{equipment_id}", response={204: None}, summary="删除仪器设备")
def agency_equipment_delete(request: AuthedRequest, agency_id: int, equipment_id: int) -> Any:
    agency = _agency(request, agency_id)
    if not Equipment.objects.filter(agency=agency, pk=equipment_id).exists():
        raise Http404(_("设备不存在。"))
    services.equipment_remove(actor=request.auth, agency=agency, pk=equipment_id)
    return Status(204, None)


def _change(request: AuthedRequest, change_id: int) -> ChangeRequest:
    change = ChangeRequest.objects.restrict(request.auth).select_related("agency").filter(pk=change_id).first()
    if change is None:
        raise Http404(_("变更申请不存在或不在您的权限范围内。"))
    return change


@router.post("/change-requests/{change_id}/approve", response=ChangeRequestOut, summary="变更申请审核通过")
def change_approve(request: AuthedRequest, change_id: int, payload: ReasonIn) -> Any:
    return services.change_request_approve(
        actor=request.auth, change=_change(request, change_id), reason=payload.reason
    )


@router.post("/change-requests/{change_id}/return", response=ChangeRequestOut, summary="变更申请退回")
def change_return(request: AuthedRequest, change_id: int, payload: ReasonIn) -> Any:
    return services.change_request_return(actor=request.auth, change=_change(request, change_id), reason=payload.reason)


# --- change feeds (Guangdong 附件2 一(三)(四): the registry downlink) ---------------

FEED_PAGE_SIZE = 100


class FeedStamp(Schema):
    agency_id: int
    updated_at: datetime.datetime = Field(..., description="最近修改时间；下次同步从最大值开始（updated_since）")


class StaffFeedOut(StaffOut, FeedStamp):
    pass


class EquipmentFeedOut(EquipmentOut, FeedStamp):
    pass


class SignatoryFeedOut(SignatoryOut, FeedStamp):
    pass


class SiteFeedOut(SiteOut, FeedStamp):
    pass


class PostCertificateFeedOut(FeedStamp):
    id: int
    staff_id: int
    number: str
    category: str = Field(..., description="检测类别（检测专项编码）")
    level: str
    issued_on: datetime.date | None
    valid_until: datetime.date

    @staticmethod
    def resolve_category(obj: PostCertificate) -> str:
        return obj.category_id


class CapabilityFeedOut(FeedStamp):
    id: int
    site_id: int
    specialty: str
    test_item: str
    parameter: str
    level: str

    @staticmethod
    def resolve_specialty(obj: SiteCapability) -> str:
        return obj.item_parameter.test_item.specialty_id

    @staticmethod
    def resolve_test_item(obj: SiteCapability) -> str:
        return obj.item_parameter.test_item_id

    @staticmethod
    def resolve_parameter(obj: SiteCapability) -> str:
        return obj.item_parameter.parameter_id

    @staticmethod
    def resolve_level(obj: SiteCapability) -> str:
        return obj.item_parameter.level


def _feed(request: AuthedRequest, model: type[Any]) -> Any:
    """The rows of ``model`` in the caller's scope (their agencies'), oldest change first."""

    return model.objects.restrict(request.auth).order_by("updated_at", "pk")


def _staff_feed_items(request: AuthedRequest, rows: list[Staff]) -> list[dict[str, Any]]:
    audiences: dict[int, Audience] = {}
    items = []
    for staff in rows:
        if staff.agency_id not in audiences:
            audiences[staff.agency_id] = selectors.audience_for(request.auth, staff.agency)
        item = _staff_out(staff, audiences[staff.agency_id])
        item.update(agency_id=staff.agency_id, updated_at=staff.updated_at)
        items.append(item)
    return items


_FEED_DOC = "（增量同步：?updated_since= 后按 next_cursor 翻页；签名调用须有权限 sync:pull）"


class _StaffKeyset(Keyset):
    """The feed of staff rows, masked for the caller (the masking depends on who asks)."""

    def paginate_queryset(self, queryset: Any, pagination: Any, request: Any, **params: Any) -> Any:
        per_request = Keyset(page_size=self.page_size, render=lambda rows: _staff_feed_items(request, rows))
        return per_request.paginate_queryset(queryset, pagination, request, **params)


@router.get("/feed/staff", response=list[StaffFeedOut], auth=FEED_AUTH, summary="检测人员变更" + _FEED_DOC)
@paginate(_StaffKeyset, page_size=FEED_PAGE_SIZE)
def feed_staff(request: AuthedRequest) -> Any:
    """Staff (with their post certificates; personal numbers masked as on the lists) of
    the agencies in scope, oldest change first. A new or changed post certificate also
    comes in ``/feed/post-certificates``."""

    return _feed(request, Staff).select_related("agency").prefetch_related("post_certificates")


@router.get(
    "/feed/post-certificates",
    response=list[PostCertificateFeedOut],
    auth=FEED_AUTH,
    summary="人员岗位证书变更" + _FEED_DOC,
)
@paginate(Keyset, page_size=FEED_PAGE_SIZE)
def feed_post_certificates(request: AuthedRequest) -> Any:
    return _feed(request, PostCertificate)


@router.get(
    "/feed/equipment", response=list[EquipmentFeedOut], auth=FEED_AUTH, summary="仪器设备及检定校准变更" + _FEED_DOC
)
@paginate(Keyset, page_size=FEED_PAGE_SIZE)
def feed_equipment(request: AuthedRequest) -> Any:
    return _feed(request, Equipment).prefetch_related("test_items", "parameters")


@router.get("/feed/signatories", response=list[SignatoryFeedOut], auth=FEED_AUTH, summary="报告批准人变更" + _FEED_DOC)
@paginate(Keyset, page_size=FEED_PAGE_SIZE)
def feed_signatories(request: AuthedRequest) -> Any:
    return _feed(request, Signatory).select_related("staff").prefetch_related("scope")


@router.get("/feed/sites", response=list[SiteFeedOut], auth=FEED_AUTH, summary="检测场所变更" + _FEED_DOC)
@paginate(Keyset, page_size=FEED_PAGE_SIZE)
def feed_sites(request: AuthedRequest) -> Any:
    return _feed(request, Site).prefetch_related("capabilities__item_parameter__test_item")


@router.get("/feed/capabilities", response=list[CapabilityFeedOut], auth=FEED_AUTH, summary="检测能力变更" + _FEED_DOC)
@paginate(Keyset, page_size=FEED_PAGE_SIZE)
def feed_capabilities(request: AuthedRequest) -> Any:
    return _feed(request, SiteCapability).select_related("item_parameter__test_item")


# A removal (Guangdong 附件2 一(三)(四)): equipment taken off the register, a signatory
# withdrawn, a site closed with its capabilities, a capability or post certificate
# removed. Staff are never removed: people leave, which ``/feed/staff`` carries as
# ``active``.
REMOVED_KINDS: dict[str, type[Any]] = {
    "post-certificates": PostCertificate,
    "equipment": Equipment,
    "signatories": Signatory,
    "sites": Site,
    "capabilities": SiteCapability,
}
RemovedKind = Literal["post-certificates", "equipment", "signatories", "sites", "capabilities"]
_KIND_OF_MODEL = {model: kind for kind, model in REMOVED_KINDS.items()}


class RemovedSinceInput(KeysetInput):
    updated_since: datetime.datetime | None = Field(
        None, description="只列出此时间（含）之后删除的记录，按删除时间升序（RFC 3339，须带时区）"
    )


class _RemovedKeyset(Keyset):
    """The feed of removals: keyed by the removal time, tie-broken by the audit row."""

    Input = RemovedSinceInput  # type: ignore[assignment]


class RemovedOut(Schema):
    kind: RemovedKind = Field(..., description="记录类别（即对应的变更同步）")
    id: int = Field(..., description="被删除记录的 id（与变更同步中的 id 相同）")
    agency_id: int
    removed_at: datetime.datetime = Field(..., description="删除时间；下次同步从最大值开始（updated_since）")

    @staticmethod
    def resolve_kind(obj: Any) -> str:
        return _KIND_OF_MODEL[obj.instance_type]

    @staticmethod
    def resolve_removed_at(obj: Any) -> datetime.datetime:
        return obj.history_date  # type: ignore[no-any-return]


@router.get(
    "/feed/removed",
    response=list[RemovedOut],
    auth=FEED_AUTH,
    summary="已删除的登记记录（按与变更同步相同的 updated_since 获取，删除本地副本中的这些记录）" + _FEED_DOC,
)
@paginate(_RemovedKeyset, page_size=FEED_PAGE_SIZE, key="history_date")
def feed_removed(
    request: AuthedRequest,
    kind: RemovedKind = Query(..., description="记录类别，与变更同步的路径相同"),  # noqa: B008
) -> Any:
    """Records of ``kind`` removed from the agencies in scope, oldest removal first:
    ``kind``, the removed record's ``id``, ``agency_id``, ``removed_at``. Follow the
    removed feed with the same ``updated_since`` to delete what you mirror (a change feed
    carries created and changed records only). Staff are not removed but marked as
    having left (``active`` in ``/feed/staff``)."""

    return selectors.removals(actor=request.auth, model=REMOVED_KINDS[kind])
