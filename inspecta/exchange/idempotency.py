"""Idempotent creating POSTs (CONTRACT §3; draft-ietf-httpapi-idempotency-key-header).

Put ``@idempotent`` under the router decorator of any creating operation::

    @router.post("/things", response={201: ThingOut})
    @idempotent
    def thing_create(request, payload: ThingIn): ...

With an ``Idempotency-Key`` header, per owner (the signed client, or the signed-in
user): the first request runs and its response (status, body, ``Location``) is kept
for ``INSPECTA_EXCHANGE_IDEMPOTENCY_HOURS``; the same key and the same body replay
that response (``Idempotent-Replayed: true``); the same key with a different body is
422 ``idempotency_key_reused``; a repeat while the first still runs is 409
``idempotency_in_progress``. Without the header the operation simply runs.

The record and the write are one transaction: the record is created, the operation
runs and the record is completed with its answer inside one ``transaction.atomic``, so
after any crash the key is either completed with the write (the retry replays the first
answer) or absent with no write (the retry does the work, once). A 5xx answer or an
exception rolls the whole attempt back, the key included: the retry runs at once
instead of waiting for a lease. On PostgreSQL a transaction-scoped advisory lock on
the key answers a concurrent repeat with 409 at once instead of making it wait on the
uncommitted row; SQLite serialises writers, so a repeat waits and then replays. A
record left running by an older version expires after
``INSPECTA_EXCHANGE_IDEMPOTENCY_LEASE_SECONDS``.

Plain Django views use :func:`idempotent_view` the same way.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import typing
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

import http_sfv
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header
from ninja.decorators import decorate_view
from ninja.utils import contribute_operation_args
from pydantic import WithJsonSchema

from inspecta.core.errors import AppError, ErrorCode, error_response

from .crypto import open_sealed, seal_secret
from .models import IdempotencyRecord

__all__ = ["idempotency_purge", "idempotent", "idempotent_view"]

_REPLAY_HEADERS = ("Location", "Content-Location")


def _parse_key(request: HttpRequest) -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    raw = raw.strip()
    key = raw
    if raw.startswith('"'):
        item = http_sfv.Item()
        try:
            item.parse(raw.encode("latin-1"))
        except (ValueError, UnicodeEncodeError):
            key = ""
        else:
            key = item.value if isinstance(item.value, str) else ""
    if not key or len(key) > 255 or not key.isprintable() or not key.isascii():
        raise AppError(
            ErrorCode.INVALID_IDEMPOTENCY_KEY,
            _("Idempotency-Key 须为 1-255 个可打印 ASCII 字符。"),
            {"header": raw[:80]},
        )
    return key


def _owner(request: HttpRequest) -> str:
    auth = getattr(request, "auth", None)
    tag = getattr(auth, "owner_tag", None)
    if tag:
        return str(tag)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    raise AppError(ErrorCode.NOT_AUTHENTICATED, _("请先登录或提供有效的签名。"))


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update((request.method or "").encode() + b" " + request.get_full_path().encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    # Bodies are stored sealed: a first response may carry a secret shown once (a new
    # HMAC key, an upload token) that a database dump must not reveal.
    response = HttpResponse(
        open_sealed(record.body) if record.body else b"",
        status=record.status_code or 200,
        content_type=record.content_type or None,
    )
    for name, value in (record.headers or {}).items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(request: HttpRequest, key: str) -> IdempotencyRecord | HttpResponse:
    """Create the running record, or answer from an existing one."""

    owner = _owner(request)
    fingerprint = _fingerprint(request)
    now = timezone.now()
    if not _lock(owner, key):
        return error_response(
            ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            _("相同 Idempotency-Key 的请求仍在处理中，请稍后重试。"),
            {"idempotency_key": key},
            Retry_After="1",
        )
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    owner=owner,
                    key=key,
                    fingerprint=fingerprint,
                    operation=f"{request.method} {request.path}"[:255],
                    expires_at=now + timedelta(hours=settings.INSPECTA_EXCHANGE_IDEMPOTENCY_HOURS),
                )
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if existing is None:
            continue  # purged in between: try again
        lease = timedelta(seconds=settings.INSPECTA_EXCHANGE_IDEMPOTENCY_LEASE_SECONDS)
        stale = existing.running and existing.created_at < now - lease
        if existing.expires_at < now or stale:
            IdempotencyRecord.objects.filter(pk=existing.pk).delete()
            continue
        if existing.fingerprint != fingerprint:
            return error_response(
                ErrorCode.IDEMPOTENCY_KEY_REUSED,
                _("该 Idempotency-Key 已用于另一请求内容。"),
                {"idempotency_key": key},
            )
        if existing.running:
            return error_response(
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
                _("相同 Idempotency-Key 的请求仍在处理中，请稍后重试。"),
                {"idempotency_key": key},
                Retry_After="1",
            )
        return _replay(existing)
    return error_response(ErrorCode.IDEMPOTENCY_IN_PROGRESS, _("请求冲突，请稍后重试。"), {"idempotency_key": key})


def _lock(owner: str, key: str) -> bool:
    """PostgreSQL: take the key's transaction-scoped advisory lock, or say that another
    transaction holds it (the first request with this key is still running)."""

    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return True  # SQLite: writers are serialised by the database itself
    digest = hashlib.sha256(f"idempotency\n{owner}\n{key}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])
        return bool(cursor.fetchone()[0])


def _failed(response: HttpResponseBase) -> bool:
    return response.status_code >= 500 or response.streaming


def _settle(record: IdempotencyRecord, response: HttpResponseBase) -> None:
    """Complete ``record`` with ``response``, in the transaction of the write."""

    headers = {name: response[name] for name in _REPLAY_HEADERS if response.has_header(name)}
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        running=False,
        status_code=response.status_code,
        content_type=response.get("Content-Type", ""),
        headers=headers,
        body=seal_secret(response.content),  # type: ignore[attr-defined]
    )


def _resolve_signature(wrapper: Callable[..., Any], func: Callable[..., Any]) -> None:
    """Give ``wrapper`` the signature of ``func`` with its annotations resolved in
    ``func``'s own module: Django Ninja resolves string annotations (``from __future__
    import annotations``) against the globals of the function it is given, which for
    the wrapper would be this module."""

    signature = inspect.signature(func)
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except (NameError, TypeError):
        return  # names defined later: Ninja resolves them itself as far as it can
    parameters = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=hints.get("return", signature.return_annotation)
    )


def idempotent(func: Callable[..., Any]) -> Callable[..., Any]:
    """Make a Django Ninja operation idempotent per CONTRACT §3 (see the module doc)."""

    @functools.wraps(func)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Runs after authentication and input parsing, so the owner is known.
        kwargs.pop("idempotency_key", None)  # declared for the OpenAPI schema; read raw below
        key = _parse_key(request)
        if key is None:
            return func(request, *args, **kwargs)
        claimed = _claim(request, key)
        if isinstance(claimed, HttpResponse):
            return claimed
        request._idempotency_record = claimed  # type: ignore[attr-defined]
        return func(request, *args, **kwargs)

    def around_run(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(run)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if "Idempotency-Key" not in request.headers:
                return run(request, *args, **kwargs)
            # claim (in ``inner``), write and completion: one transaction
            with transaction.atomic():
                response = run(request, *args, **kwargs)
                record = getattr(request, "_idempotency_record", None)
                if record is not None:
                    if _failed(response):
                        transaction.set_rollback(True)  # nothing kept, the key released
                    else:
                        _settle(record, response)
            return response

        return wrapped

    _resolve_signature(inner, func)
    contribute_operation_args(
        inner,
        "idempotency_key",
        Annotated[  # the rule of _parse_key, stated (answered with 400 invalid_idempotency_key)
            str | None,
            WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]*[!-~][ -~]*$"}),
        ],  # type: ignore[arg-type]
        Header(
            None,
            alias="Idempotency-Key",
            description="CONTRACT §3：同一键与相同请求体重放首次响应；不同请求体 422；首次仍在处理 409；保留至少 24 小时。",
        ),
    )
    return decorate_view(around_run)(inner)


def idempotent_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """The same for a plain Django view (the owner comes from ``request.auth`` set by the
    view's own authentication before, or from the session user)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            key = _parse_key(request)
            if key is None:
                return view(request, *args, **kwargs)
            with transaction.atomic():  # claim, write and completion: one transaction
                claimed = _claim(request, key)
                if isinstance(claimed, HttpResponse):
                    return claimed
                response = view(request, *args, **kwargs)
                if _failed(response):
                    transaction.set_rollback(True)  # nothing kept, the key released
                else:
                    _settle(claimed, response)
                return response
        except AppError as exc:
            return exc.response()

    return wrapped


@transaction.atomic
def idempotency_purge() -> int:
    """Forget keys past their retention (job)."""
    return IdempotencyRecord.objects.filter(expires_at__lt=timezone.now()).delete()[0]
