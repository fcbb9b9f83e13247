"""The chain of custody on the API (57号令 第十八条; T/CECS 2.0.16, 4.3.4-1/-2; Nanchang
四(一)-(二)): the sampler records a sampling from a phone, each party asks for the
challenge of its confirmation (the SHA-256 of what it confirms, with the WebAuthn options
of its passkeys) and confirms with the passkey assertion or the TOTP fallback; the
witness's confirmation seals the sample. The seal keys are public for offline checks.
Creating POSTs honour ``Idempotency-Key`` (CONTRACT §3).

Every step is open to a signed call with scope ``custody:write`` as well as to the
session (a contractor's or supervising firm's site app, an agency's LIMS): the call names
``person_id``, one of its organisation's own people, and the step is done as that person
(``core.actors.acting_for``), whose own passkey assertion or code still confirms it."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from inspecta.accounts.models import User
from inspecta.accounts.passkeys import identity_challenge_options
from inspecta.core.actors import Actor, acting_for, actor_of
from inspecta.core.api_base import AuthedRequest, session_auth
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.limits import MAX_ID
from inspecta.core.models import StoredFile, TestItem
from inspecta.core.pagination import Keyset, Pages
from inspecta.exchange.auth import SignatureAuth
from inspecta.exchange.choices import Scope
from inspecta.exchange.idempotency import idempotent
from inspecta.ledger.selectors import entries_for_records, entry_for_record
from inspecta.projects.models import Project
from inspecta.registry.models import Agency

from . import commissions, custody, permissions, public, selectors, services
from .choices import ConfirmationStep, SampleStatus
from .codes import display, normalise
from .models import Commission, ConcreteBatch, CustodyEvent, Sample
from .seal import seal_keys

router = Router(tags=["取样送检"])

_READ_AUTH = [
    SignatureAuth(any_of=[Scope.RECORDS_SUBMIT.value, Scope.CUSTODY_WRITE.value], optional=True),
    session_auth,
]
_WRITE_AUTH = [SignatureAuth(scopes=[Scope.CUSTODY_WRITE.value], optional=True), session_auth]

_PERSON = Field(
    None,
    description="办理该环节的本单位人员 id：接口调用（custody:write）必填，平台代其办理；"
    "登录用户本人办理时可省略（只能是本人）",
)


class TagSchema(Schema):
    tag_id: str = Field(min_length=1, max_length=64, description="扫描得到的样品标识（二维码标签或芯片编号）")
    kind: Literal["label", "chip"] = "label"


class PhotoIn(Schema):
    kind: Literal["specimen", "placard"]
    file_id: uuid.UUID = Field(description="照片的上传文件 id（tus）")


class SampleIn(Schema):
    project_id: int
    agency_id: int
    test_item: str = Field(min_length=1, max_length=32, description="资质目录中的检测项目代码")
    part: str = Field(min_length=1, max_length=200)
    batch: str = Field("", max_length=100)
    count: int = Field(ge=1, le=1000)
    dimensions: str = Field("", max_length=100)
    description: str = Field("", max_length=255)
    tags: list[TagSchema]
    photos: list[PhotoIn]
    latitude: decimal.Decimal = Field(ge=-90, le=90)
    longitude: decimal.Decimal = Field(ge=-180, le=180)
    accuracy_m: int | None = Field(None, ge=0, le=100000)
    person_id: int | None = _PERSON


class PhotoOut(Schema):
    kind: str
    file_id: uuid.UUID
    sha256: str
    phash: str


class ConfirmationOut(Schema):
    step: str
    person_id: int
    factor: str
    challenge: str
    proof: dict[str, Any]
    live_photo_sha256: str
    latitude: decimal.Decimal | None
    longitude: decimal.Decimal | None
    at: datetime.datetime


class FindingOut(Schema):
    rule: str
    detail: str
    status: str
    since: datetime.datetime


class SampleOut(Schema):
    id: int
    code: str
    code_display: str
    project_id: int
    agency_id: int
    test_item: str
    part: str
    batch: str
    count: int
    dimensions: str
    description: str
    status: str
    status_display: str
    project_name: str
    test_item_name: str
    sampled_at: datetime.datetime
    latitude: decimal.Decimal | None
    longitude: decimal.Decimal | None
    distance_m: int | None
    record_sha256: str
    witnessed_at: datetime.datetime | None
    tags: list[TagSchema]
    photos: list[PhotoOut]
    confirmations: list[ConfirmationOut]
    seal: str | None = Field(description="电子封志（SEAL1: 开头的 base45 文本）")
    findings: list[FindingOut]
    log_index: int | None


class SampleListOut(Schema):
    id: int
    code: str
    project_id: int
    agency_id: int
    test_item: str
    part: str
    count: int
    status: str
    sampled_at: datetime.datetime
    witnessed_at: datetime.datetime | None

    @staticmethod
    def resolve_test_item(obj: Sample) -> str:
        return obj.test_item_id


class ChallengeOut(Schema):
    step: str
    challenge: str = Field(description="待确认记录的 SHA-256（十六进制），即 WebAuthn 断言的 challenge")
    options: dict[str, Any] = Field(description="navigator.credentials.get 的 publicKey 选项（JSON）")


class ConfirmIn(Schema):
    assertion: dict[str, Any] | None = Field(None, description="WebAuthn 断言（PublicKeyCredential 的 JSON）")
    totp_code: str = Field("", max_length=8, description="无法使用通行密钥时：动态口令")
    live_photo_id: uuid.UUID = Field(description="确认人现场照片的上传文件 id")
    latitude: decimal.Decimal = Field(ge=-90, le=90)
    longitude: decimal.Decimal = Field(ge=-180, le=180)
    accuracy_m: int | None = Field(None, ge=0, le=100000)
    person_id: int | None = _PERSON


class SealKeyOut(Schema):
    kid: str
    kty: str
    crv: str
    x: str
    active: bool


def confirmation_json(c: Any) -> dict[str, Any]:
    return {
        "step": c.step,
        "person_id": c.person_id,
        "factor": c.factor,
        "challenge": c.challenge,
        "proof": c.proof,
        "live_photo_sha256": c.live_photo_sha256,
        "latitude": c.latitude,
        "longitude": c.longitude,
        "at": c.at,
    }


def sample_json(sample: Sample) -> dict[str, Any]:
    entry = entry_for_record(sample)
    seal = getattr(sample, "seal", None) if sample.status != SampleStatus.RECORDED else None
    return {
        "id": sample.pk,
        "code": sample.code,
        "code_display": display(sample.code),
        "project_id": sample.project_id,
        "agency_id": sample.agency_id,
        "test_item": sample.test_item.code,
        "part": sample.part,
        "batch": sample.batch,
        "count": sample.count,
        "dimensions": sample.dimensions,
        "description": sample.description,
        "status": sample.status,
        "status_display": str(sample.get_status_display()),
        "project_name": sample.project.name,
        "test_item_name": sample.test_item.name,
        "sampled_at": sample.sampled_at,
        "latitude": sample.latitude,
        "longitude": sample.longitude,
        "distance_m": sample.distance_m,
        "record_sha256": sample.record_sha256,
        "witnessed_at": sample.witnessed_at,
        "tags": [{"tag_id": s.tag_id, "kind": s.tag_kind} for s in sample.specimens.all()],
        "photos": [
            {"kind": p.kind, "file_id": p.file_id, "sha256": p.sha256, "phash": p.phash} for p in sample.photos.all()
        ],
        "confirmations": [confirmation_json(c) for c in sample.confirmations.all()],
        "seal": seal.text if seal is not None else None,
        "findings": [
            {"rule": f.rule, "detail": f.detail, "status": f.status, "since": f.since} for f in sample.findings.all()
        ],
        "log_index": entry.index if entry is not None else None,
    }


def _person(actor: Actor) -> User:
    user = actor.user
    if user is None:
        raise PermissionDenied(_("只有本人可以确认。"))
    return user


def _file(actor: Any, file_id: uuid.UUID) -> StoredFile:
    """A file the acting organisation uploaded (through tus or a page) for this step: every
    photo of the chain is the organisation's own, so the file's ``change`` grant (its
    owner) decides, not every record that could let the actor see someone else's."""

    stored = StoredFile.objects.restrict(actor, "change").filter(pk=file_id).first()
    if stored is None:
        raise AppError(ErrorCode.UNKNOWN_FILE, _("文件不存在：%(id)s。") % {"id": file_id})
    return stored


def _proof(actor: Any, payload: ConfirmIn) -> dict[str, Any]:
    """The arguments every person's confirmation takes from its payload (samples,
    commissions, concrete batches, custody events): the identity proof, which must be
    given, the live photo the person uploaded and the phone's position."""

    if payload.assertion is None and not payload.totp_code:
        raise AppError(ErrorCode.INVALID_INPUT, _("请用通行密钥（指纹或面容）确认，或输入动态口令。"))
    return {
        "live_photo": _file(actor, payload.live_photo_id),
        "assertion": payload.assertion,
        "totp_code": payload.totp_code,
        "latitude": payload.latitude,
        "longitude": payload.longitude,
        "accuracy_m": payload.accuracy_m,
    }


@router.post("/samples", response={201: SampleOut}, auth=_WRITE_AUTH, summary="记录见证取样（取样人，手机）")
@idempotent
def sample_record(request: AuthedRequest, payload: SampleIn) -> Status:
    actor = acting_for(request.auth, payload.person_id)
    if not permissions.may_record_samples(actor):
        raise PermissionDenied(_("只有参建单位的取样人可以记录取样。"))
    project = Project.objects.reach(actor, pk=payload.project_id)
    agency = Agency.objects.filter(pk=payload.agency_id).first()
    if agency is None:
        raise AppError(ErrorCode.UNKNOWN_AGENCY, _("检测机构不存在。"))
    item = TestItem.objects.filter(code=payload.test_item).first()
    if item is None:
        raise AppError(ErrorCode.UNKNOWN_TEST_ITEM, _("检测项目代码不存在：%(c)s。") % {"c": payload.test_item})
    sample = services.sample_record(
        actor=actor,
        project=project,
        agency=agency,
        test_item=item,
        part=payload.part,
        batch=payload.batch,
        count=payload.count,
        dimensions=payload.dimensions,
        description=payload.description,
        tags=[services.TagIn(t.tag_id, t.kind) for t in payload.tags],
        photos=[services.PhotoIn(p.kind, _file(actor, p.file_id)) for p in payload.photos],
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy_m=payload.accuracy_m,
    )
    return Status(201, sample_json(selectors.sample_get(actor=actor, pk=sample.pk)))


@router.get("/samples", response=list[SampleListOut], auth=_READ_AUTH, summary="可见的样品（每页 50 条）")
@paginate(Pages, page_size=50)
def sample_list(request: AuthedRequest, project_id: int | None = None, status: str = "") -> QuerySet[Sample]:
    qs = selectors.sample_list(actor=request.auth)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    if status:
        qs = qs.filter(status=status)
    return qs


@router.get("/samples/{sample_id}", response=SampleOut, auth=_READ_AUTH, summary="样品详情（含确认记录和电子封志）")
def sample_detail(request: AuthedRequest, sample_id: int) -> dict[str, Any]:
    return sample_json(selectors.sample_get(actor=request.auth, pk=sample_id))


@router.get(
    "/samples/{sample_id}/challenge",
    response=ChallengeOut,
    auth=_WRITE_AUTH,
    summary="待本人确认的记录摘要和通行密钥选项",
)
def sample_challenge(request: AuthedRequest, sample_id: int, person_id: int | None = None) -> dict[str, Any]:
    import json

    actor = acting_for(request.auth, person_id)
    sample = selectors.sample_get(actor=actor, pk=sample_id)
    if not permissions.may_confirm(actor, sample):
        raise PermissionDenied(_("您现在不能确认该样品。"))
    user = _person(actor)
    if sample.status == SampleStatus.RECORDED:
        step, challenge = ConfirmationStep.SAMPLING, sample.record_sha256
    else:
        step, challenge = ConfirmationStep.WITNESS, services.witness_digest(sample, user.pk)
    options = json.loads(identity_challenge_options(user=user, challenge=bytes.fromhex(challenge)))
    return {"step": step, "challenge": challenge, "options": options}


@router.post(
    "/samples/{sample_id}/confirmations",
    response={201: ConfirmationOut},
    auth=_WRITE_AUTH,
    summary="确认样品（取样人，随后见证人；见证人确认即封样）",
)
@idempotent
def sample_confirm(request: AuthedRequest, sample_id: int, payload: ConfirmIn) -> Status:
    actor = acting_for(request.auth, payload.person_id)
    sample = Sample.objects.reach(actor, pk=sample_id)  # the service reads it again, locked
    c = services.sample_confirm(
        actor=actor,
        sample=sample,
        **_proof(actor, payload),
    )
    return Status(201, confirmation_json(c))


@router.get("/seal-keys", response=list[SealKeyOut], auth=None, summary="电子封志验证公钥（公开，离线验证用）")
def seal_key_list(request: AuthedRequest) -> list[dict[str, Any]]:
    return seal_keys()


class HandoverChallengeOut(Schema):
    nonce: str = Field(description="平台签发的一次性随机数（提交身份核验时原样带回）")
    challenge: str
    options: dict[str, Any]


class HandoverIn(Schema):
    nonce: str = Field(max_length=200)
    assertion: dict[str, Any] | None = None
    totp_code: str = Field("", max_length=8)
    person_id: int | None = _PERSON


class HandoverOut(Schema):
    code: str = Field(description="送样人一次性身份码（HANDOVER1: 开头），由收样人扫描")
    expires_at: datetime.datetime
    factor: str
    qr_svg: str


class ReceiptIn(Schema):
    accept: bool
    tags: list[str] = Field(description="收样时逐个扫描的样品标识")
    seal: str = Field("", max_length=4000, description="扫描的电子封志（SEAL1: 开头）")
    handover: str = Field(max_length=200, description="送样人一次性身份码")
    deliverer_photo_id: uuid.UUID
    photo_ids: list[uuid.UUID] = []
    appearance: str = Field("", max_length=255)
    reasons: str = Field("", max_length=2000)
    person_id: int | None = _PERSON


class SampleReceiptOut(Schema):
    sample_id: int
    outcome: str
    reasons: str
    receiver_id: int
    deliverer_id: int
    deliverer_factor: str
    tags_ok: bool
    seal_ok: bool
    seal_check: dict[str, Any]
    photo_distances: list[int | None]
    photos_ok: bool
    received_at: datetime.datetime
    log_index: int | None


def receipt_json(receipt: Any) -> dict[str, Any]:
    entry = entry_for_record(receipt)
    return {
        "sample_id": receipt.sample_id,
        "outcome": receipt.outcome,
        "reasons": receipt.reasons,
        "receiver_id": receipt.receiver_id,
        "deliverer_id": receipt.deliverer_id,
        "deliverer_factor": receipt.handover.factor,
        "tags_ok": receipt.tags_ok,
        "seal_ok": receipt.seal_ok,
        "seal_check": receipt.seal_check,
        "photo_distances": receipt.photo_distances,
        "photos_ok": receipt.photos_ok,
        "received_at": receipt.received_at,
        "log_index": entry.index if entry is not None else None,
    }


@router.get(
    "/handover/challenge",
    response=HandoverChallengeOut,
    auth=_WRITE_AUTH,
    summary="送样人身份核验的摘要和通行密钥选项",
)
def handover_challenge(request: AuthedRequest, person_id: int | None = None) -> dict[str, Any]:
    import json

    actor = acting_for(request.auth, person_id)
    nonce, challenge = services.handover_challenge(actor=actor)
    user = _person(actor)
    options = json.loads(identity_challenge_options(user=user, challenge=bytes.fromhex(challenge)))
    return {"nonce": nonce, "challenge": challenge, "options": options}


@router.post(
    "/handover", response={201: HandoverOut}, auth=_WRITE_AUTH, summary="生成送样人一次性身份码（送样人，手机）"
)
def handover_issue(request: AuthedRequest, payload: HandoverIn) -> Status:
    import io

    import segno

    actor = acting_for(request.auth, payload.person_id)
    if payload.assertion is None and not payload.totp_code:
        raise AppError(ErrorCode.INVALID_INPUT, _("请用通行密钥（指纹或面容）核验，或输入动态口令。"))
    handover, code = services.handover_issue(
        actor=actor, nonce=payload.nonce, assertion=payload.assertion, totp_code=payload.totp_code
    )
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="svg", scale=6, border=4, xmldecl=False)
    return Status(
        201,
        {"code": code, "expires_at": handover.expires_at, "factor": handover.factor, "qr_svg": out.getvalue().decode()},
    )


@router.get("/tags/{tag_id}", response=SampleOut, auth=_READ_AUTH, summary="按样品标识查样品（收样扫码）")
def sample_by_tag(request: AuthedRequest, tag_id: str) -> dict[str, Any]:
    from .models import Specimen

    specimen = Specimen.objects.restrict(request.auth).filter(tag_id=tag_id.strip()).first()
    if specimen is None:
        raise AppError(ErrorCode.NOT_FOUND, _("没有找到该标识的样品：%(t)s。") % {"t": tag_id})
    return sample_json(selectors.sample_get(actor=request.auth, pk=specimen.sample_id))


@router.post(
    "/samples/{sample_id}/receipt",
    response={201: SampleReceiptOut},
    auth=_WRITE_AUTH,
    summary="收样或拒收（送检机构收样人）",
)
@idempotent
def sample_receive(request: AuthedRequest, sample_id: int, payload: ReceiptIn) -> Status:
    actor = acting_for(request.auth, payload.person_id)
    sample = selectors.sample_get(actor=actor, pk=sample_id)
    receipt = services.sample_receive(
        actor=actor,
        sample=sample,
        accept=payload.accept,
        tags=payload.tags,
        seal_text=payload.seal,
        handover_code=payload.handover,
        deliverer_photo=_file(actor, payload.deliverer_photo_id),
        photos=[_file(actor, i) for i in payload.photo_ids],
        appearance=payload.appearance,
        reasons=payload.reasons,
    )
    return Status(201, receipt_json(receipt))


@router.get(
    "/public/{code}/photos/{photo_id}",
    auth=None,
    summary="报告所附样品的关键影像缩略图（公开）",
    openapi_extra={
        "responses": {
            200: {
                "description": "JPEG 缩略图（长边不超过 320 像素，不含 EXIF/GPS 等元数据）",
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            },
            404: {"description": "not_found：样品未被有效报告引用，或不是其试件照片"},
            429: {"description": "rate_limited：查询过于频繁"},
        }
    },
)
def public_photo(request: HttpRequest, code: str, photo_id: int) -> HttpResponse:
    """A key image of a sample that a report in force names, as a small JPEG without
    metadata, for the public verification page (T/CECS 4.1.2 "调阅…关键影像资料")."""

    from inspecta.reports.public import rate_limited

    if rate_limited(request, bucket="thumbnail"):
        raise AppError(ErrorCode.RATE_LIMITED, _("查询过于频繁，请稍后再试。"))
    response = HttpResponse(public.public_thumbnail(normalise(code), photo_id), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- commissions (检测委托单; 57号令 第二十条; T/CECS 4.3.4-3; Nanchang 四(四)1) ------------
#
# People fill and confirm commissions from a session; a site app does it for one of its
# organisation's people (signed, ``custody:write``, ``person_id``). The agency's LIMS
# (signed, ``records:submit``) reads its agency's commissions from a feed, acknowledges
# each with its own number, or pushes those it creates.

_COMMISSION_PERSON_AUTH = [SignatureAuth(scopes=[Scope.CUSTODY_WRITE.value], optional=True), session_auth]
_COMMISSION_READ_AUTH = [
    SignatureAuth(any_of=[Scope.RECORDS_SUBMIT.value, Scope.CUSTODY_WRITE.value], optional=True),
    session_auth,
]
_LIMS_AUTH = [SignatureAuth(scopes=[Scope.RECORDS_SUBMIT.value])]


class CommissionLineIn(Schema):
    sample_code: str = Field(min_length=1, max_length=32, description="样品唯一性编码（可带连字符）")
    parameters: list[str] = Field([], max_length=50, description="委托的检测参数代码（目录）；空：按检测项目")


class CommissionIn(Schema):
    project_id: int = Field(ge=1, le=MAX_ID)
    agency_id: int = Field(ge=1, le=MAX_ID)
    samples: list[CommissionLineIn] = Field(min_length=1, max_length=100)
    notes: str = Field("", max_length=2000)
    person_id: int | None = Field(None, ge=1, le=MAX_ID, description="签名调用：办理的本单位人员（送样人）")


class CommissionPushIn(Schema):
    project_id: int = Field(ge=1, le=MAX_ID)
    lims_number: str = Field(min_length=1, max_length=64, description="检测机构系统中的委托单编号")
    deliverer_id: int = Field(ge=1, le=MAX_ID, description="送样人（本项目参建单位人员）的平台账号 id")
    samples: list[CommissionLineIn] = Field(min_length=1, max_length=100)
    notes: str = Field("", max_length=2000)


class CommissionAckIn(Schema):
    lims_number: str = Field(min_length=1, max_length=64, description="检测机构系统中的委托单编号")


class CommissionConfirmIn(ConfirmIn):
    person_id: int | None = Field(None, ge=1, le=MAX_ID, description="签名调用：确认的本单位人员")


class CommissionLineOut(Schema):
    sample_id: int
    sample_code: str
    test_item: str
    parameters: list[str]


class CommissionOut(Schema):
    id: int
    number: str = Field(description="平台委托单编号（每检测机构每年连续）")
    year: int
    sequence: int
    agency_id: int
    project_id: int
    status: str
    status_display: str
    source: str
    deliverer_id: int
    witness_id: int | None
    notes: str
    samples: list[CommissionLineOut]
    record_sha256: str
    lims_number: str
    acknowledged_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    confirmations: list[ConfirmationOut]
    log_index: int | None


def _commissions_json(rows: Any) -> list[dict[str, Any]]:
    """A page of commissions with their log entries read in one query."""

    rows = list(rows)
    entries = entries_for_records(rows)
    return [commission_json(c, entries) for c in rows]


def commission_json(commission: Any, entries: dict[tuple[str, str], Any] | None = None) -> dict[str, Any]:
    entry = (
        entries.get((commission._meta.label_lower, str(commission.pk)))
        if entries is not None
        else entry_for_record(commission)
    )
    return {
        "id": commission.pk,
        "number": commission.number,
        "year": commission.year,
        "sequence": commission.sequence,
        "agency_id": commission.agency_id,
        "project_id": commission.project_id,
        "status": commission.status,
        "status_display": str(commission.get_status_display()),
        "source": commission.source,
        "deliverer_id": commission.deliverer_id,
        "witness_id": commission.witness_id,
        "notes": commission.notes,
        "samples": [
            {
                "sample_id": line.sample_id,
                "sample_code": line.sample.code,
                "test_item": line.test_item_id,
                "parameters": line.parameters,
            }
            for line in commission.lines.all()
        ],
        "record_sha256": commission.record_sha256,
        "lims_number": commission.lims_number,
        "acknowledged_at": commission.acknowledged_at,
        "created_at": commission.created_at,
        "updated_at": commission.updated_at,
        "confirmations": [confirmation_json(c) for c in commission.confirmations.all()],
        "log_index": entry.index if entry is not None else None,
    }


def _commission_lines(actor: Any, lines: list[CommissionLineIn]) -> list[commissions.LineIn]:
    """The samples named by code, among those the actor sees (an unseen one is unknown)."""

    wanted = [normalise(line.sample_code) for line in lines]
    found = {s.code: s for s in Sample.objects.restrict(actor).filter(code__in=wanted)}
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise AppError(
            ErrorCode.COMMISSION_SAMPLE_INVALID,
            _("样品编码不存在：%(c)s。") % {"c": "、".join(unknown)},
            {"samples": unknown},
        )
    return [commissions.LineIn(found[code], tuple(line.parameters)) for code, line in zip(wanted, lines, strict=True)]


def _own_agency(actor: Any) -> Agency:
    agency = Agency.objects.filter(organisation__pk=getattr(actor_of(actor).organisation, "pk", -1)).first()
    if agency is None:
        raise PermissionDenied(_("只有检测机构可以调用该接口。"))
    return agency


@router.post(
    "/commissions",
    response={201: CommissionOut},
    auth=_COMMISSION_PERSON_AUTH,
    summary="填写检测委托单（送样人；签名调用须有权限 custody:write 并指明 person_id）",
    openapi_extra={"responses": {404: {"description": "not_found：工程项目或检测机构不存在或不在权限范围内"}}},
)
@idempotent
def commission_fill(request: AuthedRequest, payload: CommissionIn) -> Status:
    actor = acting_for(request.auth, payload.person_id)
    project = Project.objects.reach(actor, pk=payload.project_id)
    agency = Agency.objects.filter(pk=payload.agency_id).first()
    if agency is None:
        raise AppError(ErrorCode.UNKNOWN_AGENCY, _("检测机构不存在。"))
    commission = commissions.commission_fill(
        actor=actor,
        project=project,
        agency=agency,
        lines=_commission_lines(actor, payload.samples),
        notes=payload.notes,
    )
    return Status(201, commission_json(selectors.commission_get(actor=actor, pk=commission.pk)))


@router.get(
    "/commissions", response=list[CommissionOut], auth=_COMMISSION_READ_AUTH, summary="可见的检测委托单（每页 50 条）"
)
@paginate(Pages, page_size=50, render=lambda rows: _commissions_json(rows))
def commission_list(request: AuthedRequest, project_id: int | None = None, status: str = "") -> QuerySet[Commission]:
    qs = selectors.commission_list(actor=request.auth)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    if status:
        qs = qs.filter(status=status)
    return qs


@router.get(
    "/commissions/feed",
    response=list[CommissionOut],
    auth=_LIMS_AUTH,
    summary="本检测机构的委托单变更订阅（检测机构系统，权限 records:submit；增量同步）",
)
@paginate(Keyset, page_size=50, render=lambda rows: _commissions_json(rows))
def commission_feed(request: AuthedRequest) -> QuerySet[Commission]:
    """The agency's commissions, new and changed (filled, confirmed, acknowledged), for its
    LIMS: ``?updated_since=<last sync time>``, then follow ``next_cursor`` until it is null
    (:class:`inspecta.core.pagination.Keyset`)."""

    agency = _own_agency(request.auth)
    return selectors.commission_list(actor=request.auth).filter(agency=agency)


@router.post(
    "/commissions/lims",
    response={201: CommissionOut},
    auth=_LIMS_AUTH,
    summary="推送检测机构系统创建的委托单（权限 records:submit；平台仍编号，随后由送样人和见证人在平台确认）",
)
@idempotent
def commission_push(request: AuthedRequest, payload: CommissionPushIn) -> Status:
    actor = request.auth
    agency = _own_agency(actor)
    project = Project.objects.reach(actor, pk=payload.project_id)
    deliverer = User.objects.select_related("organisation").filter(pk=payload.deliverer_id, is_active=True).first()
    if deliverer is None:
        raise AppError(ErrorCode.INVALID_INPUT, _("送样人账号不存在。"), {"field": "deliverer_id"})
    commission = commissions.commission_fill(
        actor=actor,
        project=project,
        agency=agency,
        lines=_commission_lines(actor, payload.samples),
        notes=payload.notes,
        deliverer=deliverer,
        lims_number=payload.lims_number,
    )
    return Status(201, commission_json(selectors.commission_get(actor=actor, pk=commission.pk)))


@router.get(
    "/commissions/{int:commission_id}",
    response=CommissionOut,
    auth=_COMMISSION_READ_AUTH,
    summary="检测委托单详情（含确认记录）",
)
def commission_detail(request: AuthedRequest, commission_id: int) -> dict[str, Any]:
    return commission_json(selectors.commission_get(actor=request.auth, pk=commission_id))


@router.post(
    "/commissions/{int:commission_id}/acknowledge",
    response=CommissionOut,
    auth=_LIMS_AUTH,
    summary="确认接收委托单并回填检测机构系统编号（权限 records:submit）",
)
def commission_acknowledge(request: AuthedRequest, commission_id: int, payload: CommissionAckIn) -> dict[str, Any]:
    commission = selectors.commission_get(actor=request.auth, pk=commission_id)
    commissions.commission_acknowledge(actor=request.auth, commission=commission, lims_number=payload.lims_number)
    return commission_json(selectors.commission_get(actor=request.auth, pk=commission_id))


@router.get(
    "/commissions/{int:commission_id}/challenge",
    response=ChallengeOut,
    auth=_COMMISSION_PERSON_AUTH,
    summary="待本人确认的委托单摘要和通行密钥选项",
)
def commission_challenge(request: AuthedRequest, commission_id: int, person_id: int | None = None) -> dict[str, Any]:
    import json

    actor = acting_for(request.auth, person_id)
    commission = selectors.commission_get(actor=actor, pk=commission_id)
    if not permissions.may_confirm_commission(actor, commission):
        raise PermissionDenied(_("您现在不能确认该委托单。"))
    user = _person(actor)
    step, challenge = commissions.commission_challenge(commission, user.pk)
    options = json.loads(identity_challenge_options(user=user, challenge=bytes.fromhex(challenge)))
    return {"step": step, "challenge": challenge, "options": options}


@router.post(
    "/commissions/{int:commission_id}/confirmations",
    response={201: ConfirmationOut},
    auth=_COMMISSION_PERSON_AUTH,
    summary="确认委托单（送样人，随后见证人；签名调用须有权限 custody:write 并指明 person_id）",
)
@idempotent
def commission_confirm(request: AuthedRequest, commission_id: int, payload: CommissionConfirmIn) -> Status:
    actor = acting_for(request.auth, payload.person_id)
    commission = selectors.commission_get(actor=actor, pk=commission_id)
    c = commissions.commission_confirm(
        actor=actor,
        commission=commission,
        **_proof(actor, payload),
    )
    return Status(201, confirmation_json(c))


# ------------------------------------------------------------------ custody events
# Concrete batches on arrival and the custody events of a sealed sample (Nanchang 四(一),
# 四(三); ``sampling.custody``). A person signed in acts as themself; a site app signs its
# calls (scope ``custody:write``) and names the person doing the step (``person_id``,
# ``core.actors.acting_for``).

_CUSTODY_AUTH = [SignatureAuth(scopes=[Scope.CUSTODY_WRITE.value], optional=True), session_auth]
_CUSTODY_READ_AUTH = [
    SignatureAuth(any_of=[Scope.RECORDS_SUBMIT.value, Scope.CUSTODY_WRITE.value], optional=True),
    session_auth,
]


class ConcreteBatchPhotoIn(Schema):
    kind: Literal["slump", "other"]
    file_id: uuid.UUID = Field(description="照片的上传文件 id（tus）")


class ConcreteBatchIn(Schema):
    person_id: int | None = Field(None, description="接口调用时：办理该环节的本单位人员 id（试验员）")
    project_id: int
    part: str = Field(min_length=1, max_length=200, description="浇筑部位")
    volume_m3: decimal.Decimal = Field(gt=0, le=100000, decimal_places=2, description="方量（m³）")
    strength_grade: str = Field(min_length=1, max_length=32, description="强度等级，如 C30")
    curing: Literal["standard", "same_condition"] = Field(description="养护条件：标准养护或同条件养护")
    producer: str = Field(min_length=1, max_length=200, description="生产单位（搅拌站）")
    delivery_note: str = Field("", max_length=64, description="送货单号")
    produced_at: datetime.datetime | None = Field(None, description="生产（出站）时间")
    slump_mm: int | None = Field(None, ge=0, le=300, description="实测坍落度（mm）")
    photos: list[ConcreteBatchPhotoIn] = Field(description="至少一张坍落度检测举牌照片（slump）")
    latitude: decimal.Decimal = Field(ge=-90, le=90)
    longitude: decimal.Decimal = Field(ge=-180, le=180)
    accuracy_m: int | None = Field(None, ge=0, le=100000)


class CustodyConfirmationOut(Schema):
    step: str
    person_id: int
    factor: str
    challenge: str
    proof: dict[str, Any]
    live_photo_sha256: str
    latitude: decimal.Decimal | None
    longitude: decimal.Decimal | None
    at: datetime.datetime


class ConcreteBatchOut(Schema):
    id: int
    project_id: int
    part: str
    volume_m3: decimal.Decimal
    strength_grade: str
    curing: str
    producer: str
    delivery_note: str
    produced_at: datetime.datetime | None
    arrived_at: datetime.datetime
    slump_mm: int | None
    recorded_by_id: int
    witness_id: int | None
    latitude: decimal.Decimal | None
    longitude: decimal.Decimal | None
    distance_m: int | None
    record_sha256: str
    confirmed_at: datetime.datetime | None
    photos: list[PhotoOut]
    confirmations: list[CustodyConfirmationOut]
    findings: list[FindingOut]
    log_index: int | None


class ConcreteBatchListOut(Schema):
    id: int
    project_id: int
    part: str
    volume_m3: decimal.Decimal
    strength_grade: str
    curing: str
    producer: str
    arrived_at: datetime.datetime
    slump_mm: int | None
    confirmed_at: datetime.datetime | None


class CustodyEventIn(Schema):
    person_id: int | None = Field(None, description="接口调用时：办理该环节的本单位人员 id（记录人）")
    kind: Literal["curing_in", "curing_out", "transport"]
    photo_ids: list[uuid.UUID] = Field(description="现场照片的上传文件 id（至少一张）")
    to_person_id: int | None = Field(None, description="运输交接：接收样品的人员 id")
    room: str = Field("", max_length=200, description="养护室/地点")
    age_days: int | None = Field(None, ge=1, le=365, description="出室：龄期（天），缺省 28")
    note: str = Field("", max_length=255)
    latitude: decimal.Decimal = Field(ge=-90, le=90)
    longitude: decimal.Decimal = Field(ge=-180, le=180)
    accuracy_m: int | None = Field(None, ge=0, le=100000)


class CustodyEventOut(Schema):
    id: int
    sample_id: int
    kind: str
    kind_display: str
    recorded_by_id: int
    to_person_id: int | None
    room: str
    age_days: int | None
    note: str
    at: datetime.datetime
    latitude: decimal.Decimal | None
    longitude: decimal.Decimal | None
    distance_m: int | None
    record_sha256: str
    confirmed_at: datetime.datetime | None
    photos: list[PhotoOut]
    confirmations: list[CustodyConfirmationOut]
    log_index: int | None


class CustodyConfirmIn(ConfirmIn):
    person_id: int | None = Field(None, description="接口调用时：确认的本单位人员 id")


def _photos_json(rows: Any) -> list[dict[str, Any]]:
    return [{"kind": p.kind, "file_id": p.file_id, "sha256": p.sha256, "phash": p.phash} for p in rows]


def batch_json(batch: Any) -> dict[str, Any]:
    entry = entry_for_record(batch) if batch.confirmed_at else None
    return {
        **{
            f: getattr(batch, f)
            for f in (
                "part",
                "volume_m3",
                "strength_grade",
                "curing",
                "producer",
                "delivery_note",
                "produced_at",
                "arrived_at",
                "slump_mm",
                "latitude",
                "longitude",
                "distance_m",
                "record_sha256",
                "confirmed_at",
            )
        },
        "id": batch.pk,
        "project_id": batch.project_id,
        "recorded_by_id": batch.recorded_by_id,
        "witness_id": batch.witness_id,
        "photos": _photos_json(batch.photos.order_by("pk")),
        "confirmations": [confirmation_json(c) for c in batch.confirmations.order_by("at", "pk")],
        "findings": [
            {"rule": f.rule, "detail": f.detail, "status": f.status, "since": f.since}
            for f in batch.findings.order_by("pk")
        ],
        "log_index": entry.index if entry is not None else None,
    }


def custody_event_json(event: Any, entries: dict[tuple[str, str], Any] | None = None) -> dict[str, Any]:
    if not event.confirmed_at:
        entry = None
    elif entries is not None:
        entry = entries.get((event._meta.label_lower, str(event.pk)))
    else:
        entry = entry_for_record(event)
    return {
        **{
            f: getattr(event, f)
            for f in (
                "sample_id",
                "kind",
                "recorded_by_id",
                "to_person_id",
                "room",
                "age_days",
                "note",
                "at",
                "latitude",
                "longitude",
                "distance_m",
                "record_sha256",
                "confirmed_at",
            )
        },
        "id": event.pk,
        "kind_display": str(event.get_kind_display()),
        "photos": _photos_json(sorted(event.photos.all(), key=lambda p: p.pk)),
        "confirmations": [confirmation_json(c) for c in sorted(event.confirmations.all(), key=lambda c: (c.at, c.pk))],
        "log_index": entry.index if entry is not None else None,
    }


def _challenge_json(user: User, step: str, challenge: str) -> dict[str, Any]:
    import json

    options = json.loads(identity_challenge_options(user=user, challenge=bytes.fromhex(challenge)))
    return {"step": step, "challenge": challenge, "options": options}


@router.post(
    "/concrete-batches",
    response={201: ConcreteBatchOut},
    auth=_CUSTODY_AUTH,
    summary="记录混凝土进场（试验员，手机或现场应用）",
    openapi_extra={"responses": {404: {"description": "not_found：工程项目不存在或不在权限范围内"}}},
)
@idempotent
def batch_record(request: AuthedRequest, payload: ConcreteBatchIn) -> Status:
    actor = acting_for(request.auth, payload.person_id)
    project = Project.objects.reach(actor, pk=payload.project_id)
    batch = custody.batch_record(
        actor=actor,
        project=project,
        part=payload.part,
        volume_m3=payload.volume_m3,
        strength_grade=payload.strength_grade,
        curing=payload.curing,
        producer=payload.producer,
        delivery_note=payload.delivery_note,
        produced_at=payload.produced_at,
        slump_mm=payload.slump_mm,
        photos=[services.PhotoIn(p.kind, _file(actor, p.file_id)) for p in payload.photos],
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy_m=payload.accuracy_m,
    )
    return Status(201, batch_json(batch))


@router.get(
    "/concrete-batches",
    response=list[ConcreteBatchListOut],
    auth=_CUSTODY_READ_AUTH,
    summary="可见的混凝土进场记录（每页 50 条）",
)
@paginate(Pages, page_size=50)
def batch_list(request: AuthedRequest, project_id: int | None = None) -> QuerySet[ConcreteBatch]:
    qs = ConcreteBatch.objects.restrict(request.auth).order_by("-arrived_at", "-pk")
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    return qs


@router.get(
    "/concrete-batches/{batch_id}", response=ConcreteBatchOut, auth=_CUSTODY_READ_AUTH, summary="混凝土进场记录详情"
)
def batch_detail(request: AuthedRequest, batch_id: int) -> dict[str, Any]:
    return batch_json(ConcreteBatch.objects.reach(request.auth, pk=batch_id))


@router.get(
    "/concrete-batches/{batch_id}/challenge",
    response=ChallengeOut,
    auth=_CUSTODY_AUTH,
    summary="待本人确认的混凝土进场记录摘要和通行密钥选项",
)
def batch_challenge(request: AuthedRequest, batch_id: int, person_id: int | None = None) -> dict[str, Any]:
    actor = acting_for(request.auth, person_id)
    batch = ConcreteBatch.objects.reach(actor, pk=batch_id)
    if not permissions.may_confirm_batch(actor, batch):
        raise PermissionDenied(_("您现在不能确认该混凝土进场记录。"))
    user = _person(actor)
    return _challenge_json(user, *custody.batch_challenge(batch, user))


@router.post(
    "/concrete-batches/{batch_id}/confirmations",
    response={201: CustodyConfirmationOut},
    auth=_CUSTODY_AUTH,
    summary="确认混凝土进场（记录人，随后见证人）",
)
@idempotent
def batch_confirm(request: AuthedRequest, batch_id: int, payload: CustodyConfirmIn) -> Status:
    actor = acting_for(request.auth, payload.person_id)
    batch = ConcreteBatch.objects.reach(actor, pk=batch_id)
    c = custody.batch_confirm(
        actor=actor,
        batch=batch,
        **_proof(actor, payload),
    )
    return Status(201, confirmation_json(c))


@router.post(
    "/samples/{sample_id}/custody-events",
    response={201: CustodyEventOut},
    auth=_CUSTODY_AUTH,
    summary="记录养护入室、出室或运输交接（手机或现场应用）",
)
@idempotent
def custody_record(request: AuthedRequest, sample_id: int, payload: CustodyEventIn) -> Status:
    actor = acting_for(request.auth, payload.person_id)
    sample = selectors.sample_get(actor=actor, pk=sample_id)
    to_person = None
    if payload.to_person_id is not None:
        to_person = User.objects.select_related("organisation").filter(pk=payload.to_person_id).first()
        if to_person is None:
            raise AppError(ErrorCode.CUSTODY_PERSON_INVALID, _("接收人不存在。"), {"field": "to_person_id"})
    event = custody.custody_record(
        actor=actor,
        sample=sample,
        kind=payload.kind,
        photos=[_file(actor, i) for i in payload.photo_ids],
        to_person=to_person,
        room=payload.room,
        age_days=payload.age_days,
        note=payload.note,
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy_m=payload.accuracy_m,
    )
    return Status(201, custody_event_json(event))


@router.get(
    "/samples/{sample_id}/custody-events",
    response=list[CustodyEventOut],
    auth=_CUSTODY_READ_AUTH,
    summary="样品的养护和运输交接记录",
)
def custody_list(request: AuthedRequest, sample_id: int) -> list[dict[str, Any]]:
    sample = selectors.sample_get(actor=request.auth, pk=sample_id)
    events = list(sample.custody_events.order_by("at", "pk").prefetch_related("photos", "confirmations"))
    entries = entries_for_records([e for e in events if e.confirmed_at])
    return [custody_event_json(e, entries) for e in events]


@router.get(
    "/custody-events/{event_id}/challenge",
    response=ChallengeOut,
    auth=_CUSTODY_AUTH,
    summary="待本人确认的流转事件摘要和通行密钥选项",
)
def custody_challenge(request: AuthedRequest, event_id: int, person_id: int | None = None) -> dict[str, Any]:
    actor = acting_for(request.auth, person_id)
    event = CustodyEvent.objects.select_related("sample__project").reach(actor, pk=event_id)
    if not permissions.may_confirm_custody(actor, event):
        raise PermissionDenied(_("您现在不能确认该流转事件。"))
    user = _person(actor)
    return _challenge_json(user, *custody.custody_challenge(event, user))


@router.post(
    "/custody-events/{event_id}/confirmations",
    response={201: CustodyConfirmationOut},
    auth=_CUSTODY_AUTH,
    summary="确认流转事件（记录人，随后见证人或接收人）",
)
@idempotent
def custody_confirm(request: AuthedRequest, event_id: int, payload: CustodyConfirmIn) -> Status:
    actor = acting_for(request.auth, payload.person_id)
    event = CustodyEvent.objects.reach(actor, pk=event_id)
    c = custody.custody_confirm(
        actor=actor,
        event=event,
        **_proof(actor, payload),
    )
    return Status(201, confirmation_json(c))
