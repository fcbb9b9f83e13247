"""Every answer of every operation in the OpenAPI document (CONTRACT §1).

Django Ninja documents the success answers an operation declares. The errors come from
one place for the whole API (the handlers at the root), so they are documented from one
place too: :class:`DocumentedAPI` adds the error envelope
``{"error": {"code", "message", "details"}}`` as the component ``ErrorEnvelope`` and, to
each operation, the error answers it can give:

- 401 and 403 when it requires authentication (a session or a signature);
- 404 when its path names a record;
- 422 when it takes parameters or a body (``invalid_input``), 400 when it takes a body
  (``bad_request``: not JSON or not multipart; ``validation_failed``: a rule on the data
  or on the record's state that the schema cannot state);
- 429 when a signed client may call it (``rate_limited``, with ``Retry-After``);
- 409 when it takes an ``Idempotency-Key`` (CONTRACT §3: the first request with that
  key is still running).

The document's ``tags`` list names every tag the operations use, in the product's first
language (zh-hans), each with its description from :data:`TAGS`; a router with a new
tag adds it there.

An operation declares the answers that are its own (409, 410, 412, 413, 415, ...) with
``openapi_extra={"responses": {...}}``; those without a body schema get the envelope.
"""

from __future__ import annotations

import re
from typing import Any

from ninja import NinjaAPI, Schema
from ninja.openapi.schema import OpenAPISchema
from ninja.utils import normalize_path
from pydantic import Field

ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"


class ErrorBody(Schema):
    code: str = Field(
        ..., description="稳定的 snake_case 错误码，见 docs/integration/README.md", pattern=r"^[a-z0-9_]+$"
    )
    message: str = Field(..., description="可读说明，默认简体中文")
    details: dict[str, Any] = Field(default_factory=dict, description="与错误码相关的附加信息")


class ErrorEnvelope(Schema):
    """CONTRACT §1: the body of every 4xx and 5xx answer."""

    error: ErrorBody


#: The answers added by :func:`document_errors`, with their description (zh-hans).
STANDARD = {
    "400": "请求体无法解析（bad_request）或不符合业务规则（validation_failed）",
    "401": "未登录或签名无效（not_authenticated 及签名错误码）",
    "403": "无权执行该操作（forbidden）",
    "404": "资源不存在或不在权限范围内（not_found）",
    "422": "请求参数不合法（invalid_input）",
    "429": "调用过于频繁（rate_limited，见 Retry-After）",
    "409": "相同 Idempotency-Key 的请求仍在处理中（idempotency_in_progress）",
}

#: Every tag of the API, in the order of the document, with its description (zh-hans).
TAGS = {
    "基础数据": "行政区划、检测专项与检测项目目录",
    "用户与组织": "账号与单位（自上而下分配）",
    "检测机构登记": "检测机构登记、资质、人员、设备与审核",
    "检测机构公开名录": "已通过审核的检测机构，向社会公开（无需登录）",
    "工程项目与检测合同": "工程项目登记、增量同步与检测合同上传",
    "取样送检": "见证取样、双方确认与电子封志、送样人身份码和收样（电子封志验证公钥公开）",
    "检测数据": "检测原始记录（室内、现场）的上传、批量上传、修订留痕与查询",
    "预警": "预警的查询、签收与处置情况报送（检测机构及其检测管理系统）、审核办结和规则目录",
    "检测报告": "报告上传、查询、修改与撤销",
    "报告公开查验": "凭防伪监管码查验报告及其文件（无需登录）",
    "数据交换": "接入申请、接入方与密钥、签名调用、上传令牌与结果反馈",
    "文件上传（tus 1.0.0）": "可续传文件上传（tus 1.0.0：creation、expiration、checksum、termination）",
    "存证日志": "透明日志（RFC 9162）：检查点、证明与条目（无需登录）",
    "消息通知": "本人的站内消息（预警、审核结果、运维告警等）：查询与标为已读",
}

_WRITE_METHODS = {"post", "put", "patch", "delete"}


def _signed(operation: Any) -> bool:
    from inspecta.exchange.auth import SignatureAuth

    return any(isinstance(callback, SignatureAuth) for callback in operation.auth_callbacks)


def _answers(details: dict[str, Any], method: str, rate_limited: bool) -> list[str]:
    parameters = details.get("parameters") or []
    wanted = []
    if details.get("security"):
        wanted += ["401", "403"]
    if any(parameter.get("in") == "path" for parameter in parameters):
        wanted.append("404")
    if parameters or details.get("requestBody"):
        wanted.append("422")
    if details.get("requestBody") or method in _WRITE_METHODS:
        wanted.append("400")
    if rate_limited:
        wanted.append("429")
    if any(parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key" for parameter in parameters):
        wanted.append("409")
    return wanted


def _envelope(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ENVELOPE_REF}}}}


def document_errors(document: OpenAPISchema, api: NinjaAPI) -> None:
    """Add the envelope component and the standard error answers to ``document``."""

    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    envelope = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(envelope.pop("$defs", {}))
    schemas["ErrorEnvelope"] = envelope
    for router in api._get_bound_routers():
        for path, path_view in router.path_operations.items():
            full = normalize_path("/" + document.path_prefix + "/".join(p for p in (router.prefix, path) if p))
            entry = document["paths"].get(re.sub(r"{[^}:]+:", "{", full), {})
            for operation in path_view.operations:
                for method in operation.methods:
                    details = entry.get(method.lower())
                    if details is None:
                        continue
                    _complete(details, method.lower(), _signed(operation))


def document_tags(document: OpenAPISchema) -> None:
    """The top-level ``tags`` list: the tags of :data:`TAGS` that operations use, then
    any other (undescribed; the tests refuse one)."""

    used = {tag for entry in document["paths"].values() for op in entry.values() for tag in op.get("tags", [])}
    names = [name for name in TAGS if name in used] + sorted(used - set(TAGS))
    document["tags"] = [{"name": name, "description": TAGS[name]} if name in TAGS else {"name": name} for name in names]


def _complete(details: dict[str, Any], method: str, rate_limited: bool) -> None:
    # ``openapi_extra`` may name a status as a string next to the integer of ``response=``:
    # one answer, the declared body with the extra description.
    responses: dict[str, Any] = {}
    for status, answer in details["responses"].items():
        responses[str(status)] = {**responses.get(str(status), {}), **answer}
    details["responses"] = responses
    for status, description in STANDARD.items():
        if status not in responses and status in _answers(details, method, rate_limited):
            responses[status] = _envelope(description)
    for status, answer in list(responses.items()):
        if int(status) >= 400 and "content" not in answer:
            responses[status] = _envelope(answer.get("description") or STANDARD.get(str(status), ""))


class DocumentedAPI(NinjaAPI):
    """:class:`NinjaAPI` whose OpenAPI document lists every error answer."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> OpenAPISchema:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_errors(document, self)
        document_tags(document)
        return document
