"""The exchange API: access applications, clients and keys for people; the
signed ``ping``, upload tokens, receipts and files for machines (CONTRACT §1-4)."""

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from inspecta.core.actors import Actor, actor_of
from inspecta.core.api_base import AuthedRequest, session_auth
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.filtersets import api_filter
from inspecta.core.models import StoredFile
from inspecta.core.pagination import Pages

from . import feedback, selectors, services
from .auth import SignatureAuth, signature_auth, signature_optional
from .choices import AuthMethod, Scope
from .filtersets import ApplicationFilterSet
from .idempotency import idempotent
from .models import AccessApplication, ClientKey, ExchangeClient, Receipt

router = Router(tags=["数据交换"])


def _user(request: AuthedRequest) -> Any:
    if actor_of(request.auth).is_client:
        raise AppError(ErrorCode.FORBIDDEN, _("该操作须由用户登录后办理。"))
    return request.auth


# --------------------------------------------------------------------- schemas


class ApplicationIn(Schema):
    system_name: str = Field(..., min_length=1, max_length=200, description="接入系统名称")
    callback_url: str = Field("", max_length=500, description="回调地址（http/https）")
    auth_method: AuthMethod
    contact_name: str = Field(..., min_length=1, max_length=64)
    contact_phone: str = Field(..., min_length=5, max_length=32)
    contact_email: str = Field("", max_length=254)
    scopes: list[Scope] = Field(..., min_length=1)
    reason: str = Field("", max_length=2000)


class ApplicationOut(Schema):
    id: int
    organisation_id: int
    organisation: str
    system_name: str
    callback_url: str
    auth_method: str
    contact_name: str
    scopes: list[str]
    status: str
    submitted_at: datetime
    decided_at: datetime | None
    decision_reason: str
    client_id: int | None

    @staticmethod
    def resolve_organisation(obj: AccessApplication) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_submitted_at(obj: AccessApplication) -> datetime:
        return obj.applied_at

    @staticmethod
    def resolve_client_id(obj: AccessApplication) -> int | None:
        client = getattr(obj, "client", None)
        return client.pk if client is not None else None


class ApplicationDecisionIn(Schema):
    reason: str = Field("", max_length=2000)
    scopes: list[Scope] | None = None


class ClientKeyOut(Schema):
    key_id: str
    algorithm: str
    status: str
    created_at: datetime
    not_after: datetime | None
    revoked_at: datetime | None
    public_key: str
    secret_pending: bool = Field(
        description="HMAC 密钥待接入单位管理员领取（POST /exchange/keys/{key_id}/secret，仅一次）"
    )
    secret_revealed_at: datetime | None = Field(description="HMAC 密钥的领取时间（已领取的密钥不再显示）")


class IssuedKeyOut(ClientKeyOut):
    secret: str | None = Field(
        None,
        description="HMAC 密钥（Base64url，解码后 32 字节为 HMAC 密钥）：仅当调用者是接入单位管理员（自助轮换）时"
        "在此返回，且仅此一次；主管部门批准或轮换时为 null，由接入单位管理员领取",
    )


class SecretOut(Schema):
    key_id: str
    secret: str = Field(description="HMAC 密钥（Base64url，解码后 32 字节为 HMAC 密钥），仅显示这一次")


class ClientOut(Schema):
    id: int
    name: str
    organisation_id: int
    region: str
    auth_method: str
    scopes: list[str]
    callback_url: str
    is_active: bool
    rate_limit_per_minute: int
    last_seen_at: datetime | None
    keys: list[ClientKeyOut]

    @staticmethod
    def resolve_region(obj: ExchangeClient) -> str:
        return obj.organisation.region_id

    @staticmethod
    def resolve_keys(obj: ExchangeClient) -> list[ClientKey]:
        return list(obj.keys.all())


class ApprovalOut(Schema):
    application: ApplicationOut
    client: ClientOut
    key: IssuedKeyOut


class RotateIn(Schema):
    public_key: str = Field("", max_length=2000, description="Ed25519 接入方：新公钥（PEM 或 Base64）")
    overlap_hours: float | None = Field(None, ge=0, le=24 * 90)


class PublicKeyIn(Schema):
    public_key: str = Field(..., min_length=40, max_length=2000)


class RevokeIn(Schema):
    reason: str = Field(..., min_length=1, max_length=255)


class ClientSettingsIn(Schema):
    is_active: bool | None = None
    rate_limit_per_minute: int | None = Field(None, ge=0, le=1_000_000)
    expect_calls_every_minutes: int | None = Field(None, ge=0, le=60 * 24 * 30)
    callback_url: str | None = Field(None, max_length=500)


class PingOut(Schema):
    ok: bool
    client_id: int
    client: str
    key_id: str
    organisation: str
    region: str
    scopes: list[str]
    method: str
    path: str
    query: dict[str, str]
    received_at: datetime
    echo: Any = None


class UploadTokenOut(Schema):
    token: str
    expires_in: int
    upload_url: str


class FileOut(Schema):
    id: UUID
    name: str
    sha256: str
    size: int
    content_type: str
    created_at: datetime

    @staticmethod
    def resolve_name(obj: StoredFile) -> str:
        return obj.original_name


class UploadOut(Schema):
    """The tus upload resource read with GET (CONTRACT §4): its offset and, once the
    last byte has arrived, the stored file."""

    id: UUID
    offset: int
    length: int
    file: FileOut | None = Field(..., description="上传完成前为 null")


class ReceiptErrorOut(Schema):
    code: str
    message: str


class ReceiptOut(Schema):
    id: UUID
    operation: str
    status: str = Field(..., description="pending（待处理）| succeeded | failed")
    created_at: datetime
    finished_at: datetime | None
    results: list[dict[str, Any]] = Field(..., description="逐条结果，与该操作同步调用应答中的 results 相同")
    error: ReceiptErrorOut | None = Field(None, description="status 为 failed 时的原因")


# ----------------------------------------------------------------- applications


@router.get("/applications", response=list[ApplicationOut], summary="接入申请列表（本人范围）")
@paginate(Pages, page_size=50)
def application_list(request: AuthedRequest, status: str = "") -> object:
    rows = selectors.application_list(actor=_user(request)).select_related("client")
    return api_filter(ApplicationFilterSet, {"status": status}, rows, request=request)


@router.post("/applications", response={201: ApplicationOut}, summary="提交接入申请（T/CECS 6.0.7-6.0.8）")
@idempotent
def application_submit(request: AuthedRequest, payload: ApplicationIn) -> Status[AccessApplication]:
    data = payload.dict()
    data["scopes"] = [s.value for s in payload.scopes]
    data["auth_method"] = payload.auth_method.value
    application = services.application_submit(actor=_user(request), **data)
    return Status(201, application)


def _application(request: AuthedRequest, application_id: int) -> AccessApplication:
    try:
        return selectors.application_get(actor=_user(request), pk=application_id)
    except AccessApplication.DoesNotExist as exc:
        raise Http404(_("接入申请不存在或不在您的权限范围内。")) from exc


@router.get("/applications/{application_id}", response=ApplicationOut, summary="接入申请详情")
def application_detail(request: AuthedRequest, application_id: int) -> AccessApplication:
    return _application(request, application_id)


@router.post(
    "/applications/{application_id}/approve",
    response=ApprovalOut,
    summary="批准接入申请（签发密钥标识；HMAC 密钥由申请单位管理员领取，不向审批人显示）",
)
def application_approve(request: AuthedRequest, application_id: int, payload: ApplicationDecisionIn) -> dict[str, Any]:
    application = _application(request, application_id)
    scopes = [s.value for s in payload.scopes] if payload.scopes is not None else None
    client, issued = services.application_approve(
        actor=_user(request), application=application, reason=payload.reason, scopes=scopes
    )
    application.refresh_from_db()
    key = ClientKeyOut.from_orm(issued.key).dict()
    return {"application": application, "client": client, "key": {**key, "secret": None}}


@router.post("/applications/{application_id}/reject", response=ApplicationOut, summary="驳回接入申请（须填写理由）")
def application_reject(
    request: AuthedRequest, application_id: int, payload: ApplicationDecisionIn
) -> AccessApplication:
    application = _application(request, application_id)
    return services.application_reject(actor=_user(request), application=application, reason=payload.reason)


# ----------------------------------------------------------------- clients, keys


@router.get("/clients", response=list[ClientOut], summary="接入方列表")
@paginate(Pages, page_size=50)
def client_list(request: AuthedRequest) -> object:
    return selectors.client_list(actor=_user(request)).prefetch_related("keys")


def _client(request: AuthedRequest, client_id: int) -> ExchangeClient:
    try:
        return selectors.client_get(actor=_user(request), pk=client_id)
    except ExchangeClient.DoesNotExist as exc:
        raise Http404(_("接入方不存在或不在您的权限范围内。")) from exc


@router.get("/clients/{client_id}", response=ClientOut, summary="接入方详情（含密钥）")
def client_detail(request: AuthedRequest, client_id: int) -> ExchangeClient:
    return _client(request, client_id)


@router.patch("/clients/{client_id}", response=ClientOut, summary="修改接入方设置（启停、限流、回调）")
def client_settings(request: AuthedRequest, client_id: int, payload: ClientSettingsIn) -> ExchangeClient:
    client = _client(request, client_id)
    return services.client_update(actor=_user(request), client=client, **payload.dict())


@router.post("/clients/{client_id}/keys", response={201: IssuedKeyOut}, summary="轮换密钥（旧密钥在过渡期内仍有效）")
@idempotent
def key_rotate(request: AuthedRequest, client_id: int, payload: RotateIn) -> Status[dict[str, Any]]:
    from datetime import timedelta

    client = _client(request, client_id)
    overlap = timedelta(hours=payload.overlap_hours) if payload.overlap_hours is not None else None
    issued = services.key_rotate(actor=_user(request), client=client, public_key=payload.public_key, overlap=overlap)
    return Status(201, {**ClientKeyOut.from_orm(issued.key).dict(), "secret": issued.secret})


def _key(request: AuthedRequest, key_id: str) -> ClientKey:
    try:
        return selectors.key_get(actor=_user(request), key_id=key_id)
    except ClientKey.DoesNotExist as exc:
        raise Http404(_("密钥不存在或不在您的权限范围内。")) from exc


@router.post(
    "/keys/{key_id}/secret",
    response=SecretOut,
    summary="领取 HMAC 密钥（仅接入单位管理员，仅一次）",
)
def key_secret_reveal(request: AuthedRequest, key_id: str) -> HttpResponse:
    """The HMAC secret of a key, shown once to an admin of the client's own organisation
    (T/CECS 6.0.5, 6.0.8). Anyone else is refused (403, the approving authority
    included); a second request is refused (400): rotate the key to get a new one."""

    key = _key(request, key_id)
    secret = services.key_secret_reveal(actor=_user(request), key=key)
    response = HttpResponse(
        json.dumps({"key_id": key.key_id, "secret": secret}), content_type="application/json", status=200
    )
    response["Cache-Control"] = "no-store"
    return response


@router.post("/keys/{key_id}/public-key", response=ClientKeyOut, summary="登记 Ed25519 公钥")
def key_register_public(request: AuthedRequest, key_id: str, payload: PublicKeyIn) -> ClientKey:
    return services.key_register_public(actor=_user(request), key=_key(request, key_id), public_key=payload.public_key)


@router.post("/keys/{key_id}/revoke", response=ClientKeyOut, summary="立即吊销密钥")
def key_revoke(request: AuthedRequest, key_id: str, payload: RevokeIn) -> ClientKey:
    return services.key_revoke(actor=_user(request), key=_key(request, key_id), reason=payload.reason)


# ------------------------------------------------------------- machine calls


@router.api_operation(
    ["GET", "POST"],
    "/ping",
    auth=signature_auth,
    response=PingOut,
    summary="签名回显：用于接入方调试签名（CONTRACT §2）",
)
def ping(request: AuthedRequest) -> dict[str, Any]:
    principal: Actor = request.auth
    echo: Any = None
    if request.body:
        try:
            echo = json.loads(request.body)
        except ValueError:
            echo = request.body[:1024].decode("utf-8", errors="replace")
    return {
        "ok": True,
        "client_id": principal.client.pk,
        "client": principal.client.name,
        "key_id": principal.key.key_id,
        "organisation": principal.client.organisation.name,
        "region": principal.region_code,
        "scopes": sorted(principal.scopes),
        "method": request.method,
        "path": request.path,
        "query": {k: v for k, v in request.GET.items()},
        "received_at": timezone.now(),
        "echo": echo,
    }


@router.post(
    "/upload-tokens",
    auth=[SignatureAuth(scopes=[Scope.FILES_UPLOAD.value], optional=True), session_auth],
    response={201: UploadTokenOut},
    summary="获取上传令牌（tus，CONTRACT §4）",
)
@idempotent
def upload_token(request: AuthedRequest) -> Status[dict[str, Any]]:
    if actor_of(request.auth).is_client:
        token, ttl = services.upload_token_issue(client=request.auth.client)
    else:
        user = request.auth
        if user.organisation_id is None:
            raise AppError(ErrorCode.FORBIDDEN, _("无所属单位的账号不能上传文件。"))
        token, ttl = services.upload_token_issue(user=user)
    return Status(
        201, {"token": token, "expires_in": ttl, "upload_url": request.build_absolute_uri("/api/v1/uploads/")}
    )


@router.get(
    "/files/{file_id}", auth=[signature_optional, session_auth], response=FileOut, summary="文件信息（SHA-256、类型）"
)
def file_detail(request: AuthedRequest, file_id: UUID) -> StoredFile:
    try:
        return selectors.file_get(actor=request.auth, pk=file_id)
    except StoredFile.DoesNotExist as exc:
        raise Http404(_("文件不存在或不在您的权限范围内。")) from exc


@router.get("/receipts/{receipt_id}", auth=signature_auth, response=ReceiptOut, summary="查询受理回执")
def receipt_detail(request: AuthedRequest, receipt_id: UUID) -> Receipt:
    actor: Actor = request.auth
    receipt = Receipt.objects.restrict(actor, "view").filter(pk=receipt_id, client=actor.client).first()
    if receipt is None:
        raise Http404(_("回执不存在。"))
    return receipt


class PlatformKeyOut(Schema):
    keyid: str
    alg: str = Field(..., description="ed25519")
    public_key: str = Field(..., description="Ed25519 公钥（32 字节，base64）")
    active: bool
    created_at: str = Field(..., json_schema_extra={"format": "date-time"})


class PlatformKeysOut(Schema):
    keys: list[PlatformKeyOut]


@router.get("/platform-keys", auth=None, response=PlatformKeysOut, summary="平台回调签名公钥（Ed25519）")
def platform_keys(request: HttpRequest) -> dict[str, Any]:
    return {"keys": feedback.platform_public_keys()}


# ------------------------------------------------- tus endpoint in the schema

# The tus endpoint (CONTRACT §4) is served by ``uploads.py`` (its URL patterns come before
# this API's in ``inspecta/urls.py``); these operations put it into the OpenAPI schema
# (CONTRACT §1) and, should they ever be routed, hand the request to the same views.
uploads_router = Router(tags=["文件上传（tus 1.0.0）"])


def _header(name: str, description: str, schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"in": "header", "name": name, "required": required, "description": description, "schema": schema}


def _error(description: str) -> dict[str, Any]:
    return {"description": description}  # the envelope is added by inspecta.core.openapi


_DIGITS = {"type": "string", "pattern": "^[0-9]{1,18}$"}
_TUS = _header("Tus-Resumable", "协议版本，须为 1.0.0（否则 412）", {"type": "string", "enum": ["1.0.0"]})
_BEARER = _header(
    "Authorization",
    "Bearer <上传令牌>（POST /api/v1/exchange/upload-tokens）",
    {"type": "string", "pattern": "^Bearer [A-Za-z0-9._~+/-]+=*$"},
)
_TUS_ERRORS = {
    "401": _error("not_authenticated / invalid_upload_token"),
    "404": _error("上传任务不存在或不属于该令牌（not_found）"),
    "410": _error("upload_gone：已终止或过期"),
    "412": _error("tus_version_unsupported：缺少 Tus-Resumable 或版本不是 1.0.0"),
    "423": _error("upload_locked：另一请求正在写入"),
}


def _tus(parameters: list[dict[str, Any]], responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"parameters": parameters, "responses": responses, **extra}


@uploads_router.api_operation(
    ["OPTIONS"],
    "/",
    auth=None,
    response={204: None},
    summary="tus：能力声明（Tus-Version、Tus-Extension、Tus-Max-Size、Tus-Checksum-Algorithm）",
    openapi_extra={"responses": {"204": {"description": "无内容，见响应头"}}},
)
def tus_options(request: HttpRequest) -> HttpResponse:
    from . import uploads

    return uploads.collection_view(request)


@uploads_router.post(
    "/",
    auth=None,
    response={201: None},
    summary="tus creation：创建上传任务（201 + Location）",
    openapi_extra=_tus(
        [
            _TUS,
            _BEARER,
            _header("Upload-Length", "文件字节数（不超过 Tus-Max-Size）", _DIGITS),
            _header(
                "Upload-Metadata",
                "逗号分隔的 `键 Base64值`，如 `filename 5qOA5rWL5oql5ZGKLnBkZg==`",
                {"type": "string"},
                required=False,
            ),
        ],
        {
            "201": {"description": "Location、Upload-Expires"},
            "400": _error("请求头错误（bad_request）"),
            "413": _error("upload_too_large"),
            **_TUS_ERRORS,
        },
    ),
)
def tus_create(request: HttpRequest) -> HttpResponse:
    from . import uploads

    return uploads.collection_view(request)


@uploads_router.api_operation(
    ["HEAD"],
    "/{upload_id}",
    auth=None,
    response={200: None},
    summary="tus：查询偏移量（Upload-Offset、Upload-Length）",
    openapi_extra=_tus([_TUS, _BEARER], {"200": {"description": "Upload-Offset、Upload-Length"}, **_TUS_ERRORS}),
)
def tus_head(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    from . import uploads

    return uploads.resource_view(request, upload_id)


@uploads_router.patch(
    "/{upload_id}",
    auth=None,
    response={204: None},
    summary="tus：续传数据块（checksum sha1/sha256）",
    openapi_extra=_tus(
        [
            _TUS,
            _BEARER,
            _header("Upload-Offset", "当前偏移量", _DIGITS),
            _header(
                "Upload-Checksum",
                "`sha256 <Base64>` 或 `sha1 <Base64>`",
                {"type": "string", "pattern": "^(sha1|sha256) [A-Za-z0-9+/]+={0,2}$"},
                required=False,
            ),
        ],
        {
            "204": {"description": "新的 Upload-Offset（最后一块另有 Inspecta-File-Id、Inspecta-File-SHA256）"},
            "400": _error("请求头错误（bad_request / bad_checksum）"),
            "409": _error("offset_mismatch"),
            "413": _error("upload_too_large"),
            "415": _error("unsupported_media_type / unsupported_file_type"),
            "460": _error("checksum_mismatch"),
            **_TUS_ERRORS,
        },
        requestBody={
            "required": True,
            "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
    ),
)
def tus_patch(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    from . import uploads

    return uploads.resource_view(request, upload_id)


@uploads_router.delete(
    "/{upload_id}",
    auth=None,
    response={204: None},
    summary="tus termination：终止上传",
    openapi_extra=_tus([_TUS, _BEARER], {"204": {"description": "已终止"}, **_TUS_ERRORS}),
)
def tus_delete(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    from . import uploads

    return uploads.resource_view(request, upload_id)


@uploads_router.get(
    "/{upload_id}",
    auth=None,
    response={200: UploadOut},
    summary="完成后的文件信息（JSON）",
    openapi_extra=_tus(
        [_BEARER], {"200": {"description": "文件信息"}, "401": _TUS_ERRORS["401"], "404": _TUS_ERRORS["404"]}
    ),
)
def tus_file(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    from . import uploads

    return uploads.resource_view(request, upload_id)
