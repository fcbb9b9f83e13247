"""Public endpoints of the transparency log, exactly as CONTRACT §5 fixes them.

``/api/v1/log/checkpoint`` and ``/key`` are ``text/plain`` (C2SP tlog-checkpoint and
signed-note verifier key); proofs and entries are JSON with base64 hashes. Everything
is public and cacheable; what depends only on (index, size) never changes and is
cached as immutable. Error codes (all in the error envelope, never 500 for bad input):

* ``invalid_input`` (422): a parameter is missing, not an integer, or negative;
* ``tree_size_exceeded`` (400): ``size`` is larger than the tree;
* ``index_out_of_range`` (400): ``index >= size``;
* ``size_zero`` (400): an inclusion proof in the empty tree;
* ``consistency_from_zero`` (400): a consistency proof from the empty tree;
* ``from_exceeds_size`` (400): ``from > size``;
* ``invalid_range`` (400): ``end <= start`` or more than 1000 entries asked;
* ``entry_not_found`` / ``record_not_logged`` / ``timestamp_not_found`` (404);
* ``log_unavailable`` (503): the stored tree is damaged (the self-audit reports it).
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import WithJsonSchema

from inspecta.core.errors import AppError, ErrorCode

from . import selectors, services, store, tsa
from .models import Entry

router = Router(tags=["存证日志"], auth=None)

MAX_INT64 = 2**63 - 1
MAX_RANGE = 1000
IMMUTABLE = "public, max-age=31536000, immutable"


def _b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode("ascii")


def _cache(response: HttpResponse, value: str) -> HttpResponse:
    response["Cache-Control"] = value
    return response


def _json(data: dict[str, Any], cache: str) -> JsonResponse:
    return _cache(JsonResponse(data, json_dumps_params={"ensure_ascii": False}), cache)  # type: ignore[return-value]


def _short_cache() -> str:
    seconds = max(1, int(settings.INSPECTA_LOG_CHECKPOINT_INTERVAL // 2))
    return f"public, max-age={seconds}"


def _check_size(size: int) -> int:
    current = store.tree_size()
    if size > current:
        raise AppError(
            ErrorCode.TREE_SIZE_EXCEEDED,
            _("树大小 %(size)d 超过当前日志大小 %(current)d。") % {"size": size, "current": current},
            {"size": size, "tree_size": current},
        )
    return current


def _store_call(fn: Any, *args: int) -> list[bytes]:
    try:
        result: list[bytes] = fn(*args)
    except store.StoreError as exc:
        raise AppError(ErrorCode.LOG_UNAVAILABLE, _("存证日志暂不可用，请稍后再试。"), {"reason": str(exc)}) from exc
    return result


RULES = {
    400: {
        "description": "请求合乎格式但与日志不符（tree_size_exceeded、index_out_of_range、size_zero、consistency_from_zero、from_exceeds_size、invalid_range）"
    }
}
TEXT_PLAIN = {"responses": {200: {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}}}


@router.get("/checkpoint", summary="当前检查点（C2SP tlog-checkpoint）", openapi_extra=TEXT_PLAIN)
def checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest signed checkpoint: origin, tree size, base64 root, blank line, Ed25519
    signature lines (C2SP signed note)."""
    latest = selectors.checkpoint_latest()
    if latest is None:
        latest = services.checkpoint_publish() or selectors.checkpoint_latest()
    assert latest is not None
    response = HttpResponse(latest.note, content_type="text/plain; charset=utf-8")
    return _cache(response, _short_cache())


@router.get("/key", summary="检查点验证公钥（signed-note 格式）", openapi_extra=TEXT_PLAIN)
def key(request: HttpRequest) -> HttpResponse:
    """The current verifier key ``<name>+<hex key hash>+<base64 key>`` and a newline."""
    active = services.signing_key_active()
    response = HttpResponse(active.verifier_key + "\n", content_type="text/plain; charset=utf-8")
    return _cache(response, "public, max-age=300")


class LogKeyOut(Schema):
    verifier_key: str
    algorithm: str
    key_hash: str
    is_active: bool
    created_at: str
    retired_at: str | None


class KeysOut(Schema):
    items: list[LogKeyOut]


@router.get("/keys", response=KeysOut, summary="验证公钥历史")
def keys(request: HttpRequest) -> HttpResponse:
    """Every key that ever signed checkpoints, oldest first (the public key history):
    Ed25519 keys (``algorithm`` ``ed25519``) and, when the optional second signature
    line is on, SM2-with-SM3 keys (``sm2``, GB/T 39786)."""
    services.signing_key_active()
    services.sm2_key_active()
    items = [
        {
            "verifier_key": k.verifier_key,
            "algorithm": k.algorithm,
            "key_hash": k.key_hash,
            "is_active": k.is_active,
            "created_at": k.created_at.isoformat(),
            "retired_at": k.retired_at.isoformat() if k.retired_at else None,
        }
        for k in selectors.signing_keys()
    ]
    return _json({"items": items}, "public, max-age=300")


class ProofOut(Schema):
    index: int
    size: int
    hashes: list[str]


def _bounds(minimum: int) -> dict[str, Any]:
    """The range stated in the schema; the view answers outside it with the codes of the
    module docstring (``invalid_input`` 422, ``size_zero``/``consistency_from_zero`` 400)."""

    return {"minimum": minimum, "maximum": MAX_INT64}


# Path and query parameters with the same stated ranges.
NonNegative = Annotated[int, WithJsonSchema({"type": "integer", **_bounds(0)})]
Positive = Annotated[int, WithJsonSchema({"type": "integer", **_bounds(1)})]


class InclusionQuery(Schema):
    index: int = Field(..., json_schema_extra=_bounds(0))
    size: int = Field(..., description="树大小，不超过当前日志大小", json_schema_extra=_bounds(1))


@router.get("/proof/inclusion", response=ProofOut, summary="包含性证明（RFC 9162）", openapi_extra={"responses": RULES})
def proof_inclusion(request: HttpRequest, q: Query[InclusionQuery]) -> HttpResponse:
    """RFC 9162 §2.1.3 inclusion proof of entry ``index`` in the tree of ``size`` entries."""
    index, size = q.index, q.size
    if index < 0 or size < 0 or index > MAX_INT64 or size > MAX_INT64:
        raise AppError(ErrorCode.INVALID_INPUT, _("index 和 size 须为非负整数。"))
    if size == 0:
        raise AppError(ErrorCode.SIZE_ZERO, _("空树没有包含性证明。"))
    _check_size(size)
    if index >= size:
        raise AppError(
            ErrorCode.INDEX_OUT_OF_RANGE,
            _("序号 %(index)d 不在大小为 %(size)d 的树中。") % {"index": index, "size": size},
        )
    hashes = _store_call(store.inclusion_proof, index, size)
    return _json({"index": index, "size": size, "hashes": [_b64(h) for h in hashes]}, IMMUTABLE)


class ConsistencyProofOut(Schema):
    from_: int = Field(..., alias="from")
    size: int
    hashes: list[str]


@router.get(
    "/proof/consistency",
    response=ConsistencyProofOut,
    by_alias=True,
    summary="一致性证明（RFC 9162）",
    openapi_extra={"responses": RULES},
)
def proof_consistency(request: HttpRequest, size: Positive, from_: Positive = Query(..., alias="from")) -> HttpResponse:  # noqa: B008
    """RFC 9162 §2.1.4 consistency proof from the tree of ``from`` entries to ``size``."""
    if from_ < 0 or size < 0 or from_ > MAX_INT64 or size > MAX_INT64:
        raise AppError(ErrorCode.INVALID_INPUT, _("from 和 size 须为非负整数。"))
    if from_ == 0:
        raise AppError(ErrorCode.CONSISTENCY_FROM_ZERO, _("不能从空树证明一致性。"))
    if from_ > size:
        raise AppError(ErrorCode.FROM_EXCEEDS_SIZE, _("from 不能大于 size。"))
    _check_size(size)
    hashes = _store_call(store.consistency_proof, from_, size)
    return _json({"from": from_, "size": size, "hashes": [_b64(h) for h in hashes]}, IMMUTABLE)


class EntryOut(Schema):
    index: int
    entry: str
    kind: str
    record_type: str
    record_id: str
    leaf_hash: str
    logged_at: str
    sequenced_at: str | None


def entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "index": entry.index,
        "entry": _b64(entry.entry),
        "kind": entry.kind,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        "leaf_hash": _b64(entry.leaf_hash),
        "logged_at": entry.created_at.isoformat(),
        "sequenced_at": entry.sequenced_at.isoformat() if entry.sequenced_at else None,
    }


class EntriesOut(Schema):
    start: int
    end: int
    tree_size: int
    items: list[EntryOut]


class RangeQuery(Schema):
    """RFC 9162 range reads, not pages (CONTRACT §5): a client walks the log by asking
    again from the ``end`` of the previous answer until ``tree_size``."""

    start: int = Field(0, description="起始序号（含）", json_schema_extra=_bounds(0))
    end: int | None = Field(None, description="不含；须大于 start，且 end - start ≤ 1000", json_schema_extra=_bounds(1))


@router.get(
    "/entries",
    response=EntriesOut,
    summary="日志条目（区间 [start, end)，每次至多 1000 条；从答复的 end 继续读取）",
    openapi_extra={"responses": RULES},
)
def entries(request: HttpRequest, q: Query[RangeQuery]) -> HttpResponse:
    """Entries ``start <= index < end`` (at most 1000; ``end`` defaults to ``start + 100``
    and is clipped to the tree size)."""
    start = q.start
    end = q.end if q.end is not None else start + 100
    if start < 0 or end < 0 or start > MAX_INT64 or end > MAX_INT64:
        raise AppError(ErrorCode.INVALID_INPUT, _("start 和 end 须为非负整数。"))
    if end <= start or end - start > MAX_RANGE:
        raise AppError(ErrorCode.INVALID_RANGE, _("须满足 start < end 且一次最多 %(max)d 条。") % {"max": MAX_RANGE})
    current = store.tree_size()
    clipped = min(end, current)
    items = [entry_json(e) for e in selectors.entries_range(start, clipped)] if start < clipped else []
    cache = IMMUTABLE if end <= current else _short_cache()
    return _json({"start": start, "end": max(start, clipped), "tree_size": current, "items": items}, cache)


@router.get("/entries/{index}", response=EntryOut, summary="日志条目")
def entry(request: HttpRequest, index: NonNegative) -> HttpResponse:
    """One entry: base64 of its bytes (RFC 8785 JSON), kind, record and leaf hash."""
    if index < 0 or index > MAX_INT64:
        raise AppError(ErrorCode.INVALID_INPUT, _("序号须为非负整数。"))
    found = selectors.entry_at(index)
    if found is None:
        raise AppError(ErrorCode.ENTRY_NOT_FOUND, _("日志中没有序号为 %(index)d 的条目。") % {"index": index})
    return _json(entry_json(found), IMMUTABLE)


class RecordLogOut(Schema):
    record_type: str
    record_id: str
    status: str
    log_index: int | None
    kind: str
    logged_at: str


RecordType = Annotated[str, WithJsonSchema({"type": "string", "pattern": r"^[a-z_]+\.[a-z_]+$", "maxLength": 100})]
RecordId = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 64})]


@router.get("/records/{record_type}/{record_id}", response=RecordLogOut, summary="记录的存证状态")
def record_status(request: HttpRequest, record_type: RecordType, record_id: RecordId) -> HttpResponse:
    """The latest entry of a record: ``pending`` until the sequencer gives it its
    ``log_index`` (within seconds), then ``sequenced``."""
    found = Entry.objects.filter(record_type=record_type[:100], record_id=record_id[:64]).order_by("-pk").first()
    if found is None:
        raise AppError(ErrorCode.RECORD_NOT_LOGGED, _("该记录没有存证。"))
    data = {
        "record_type": found.record_type,
        "record_id": found.record_id,
        "status": "pending" if found.index is None else "sequenced",
        "log_index": found.index,
        "kind": found.kind,
        "logged_at": found.created_at.isoformat(),
    }
    return _json(data, "public, max-age=2" if found.index is None else _short_cache())


TIMESTAMP_REPLY = {
    "responses": {
        200: {
            "description": "RFC 3161 TimeStampResp (DER)",
            "content": {"application/timestamp-reply": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/checkpoints/{size}/timestamp",
    summary="检查点的 RFC 3161 时间戳",
    openapi_extra=TIMESTAMP_REPLY,
)
def checkpoint_timestamp(request: HttpRequest, size: Positive) -> HttpResponse:
    """The RFC 3161 timestamp of the checkpoint of ``size`` entries (T/CECS 4.1.2, 7.2.3):
    a DER ``TimeStampResp`` (``application/timestamp-reply``) whose token stamps
    SHA-256 of the checkpoint body ``origin\nsize\nbase64(root)\n``. Only when
    ``INSPECTA_LOG_TSA_URL`` is configured; ``timestamp_not_found`` (404) until the
    TSA has answered."""
    if size < 0 or size > MAX_INT64:
        raise AppError(ErrorCode.INVALID_INPUT, _("size 须为非负整数。"))
    stamp = selectors.checkpoint_timestamp(size)
    if stamp is None or stamp.token is None:
        raise AppError(
            ErrorCode.TIMESTAMP_NOT_FOUND, _("树大小为 %(size)d 的检查点没有时间戳。") % {"size": size}, {"size": size}
        )
    response = HttpResponse(tsa.timestamp_reply(bytes(stamp.token)), content_type="application/timestamp-reply")
    response["Content-Disposition"] = f'attachment; filename="checkpoint-{size}.tsr"'
    return _cache(response, IMMUTABLE)
