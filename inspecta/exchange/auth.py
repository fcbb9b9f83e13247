"""``signature_auth``: the Ninja auth class of signed machine calls (CONTRACT §2).

Use it on any router or operation::

    router = Router(auth=signature_auth)                       # signed clients only
    @router.post("/x", auth=[signature_optional, session_auth]) # signed or browser
    @router.post("/y", auth=SignatureAuth(scopes=["reports:submit"]))

``request.auth`` is then the client's :class:`~inspecta.core.actors.Actor` (or a ``User``
for sessions; ``actor_of`` resolves either). Authorisation on top: :func:`require_scope`
and the models' declared scoping (``Model.objects.restrict(request.auth)``).
Every refusal is a 401 with its own code (``signatures.MESSAGES``); a client over its
rate limit gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage
from ninja.security.base import AuthBase

from inspecta.accounts.models import Organisation
from inspecta.core.actors import Actor
from inspecta.core.audit import current_client
from inspecta.core.errors import AppError, ErrorCode

from . import signatures
from .choices import AuthMethod, KeyStatus
from .crypto import SecretUnavailable, open_secret
from .models import ClientKey, ExchangeClient, SignatureNonce

__all__ = [
    "AppError",
    "SignatureAuth",
    "nonce_remember",
    "require_scope",
    "signature_auth",
    "signature_optional",
    "verify_signed_request",
]


def require_scope(actor: Actor, scope: str, *alternatives: str) -> None:
    """Refuse a signed call whose client was granted neither ``scope`` nor one of
    ``alternatives`` (403 ``insufficient_scope``; ``details.scope`` names the scope to
    ask for, ``details.accepted`` every scope that would do)."""

    accepted = (scope, *alternatives)
    if any(actor.has_scope(s) for s in accepted):
        return
    if alternatives:
        message = _("接入方未获授权：该接口需要权限 %(s)s（或 %(o)s），本密钥的接入方未获授予。") % {
            "s": scope,
            "o": "、".join(alternatives),
        }
    else:
        message = _("接入方未获授权：该接口需要权限 %(s)s，本密钥的接入方未获授予。") % {"s": scope}
    raise AppError(
        ErrorCode.INSUFFICIENT_SCOPE,
        message,
        {"scope": scope, "accepted": list(accepted), "granted": sorted(actor.scopes)},
    )


def _refuse(error: signatures.SignatureError) -> AppError:
    return AppError(error.code, error.message, error.details, status=401)


def nonce_remember(key_id: str, nonce: str, expires: int) -> bool:
    """Record a nonce until the signature expires; ``False`` if it was seen before."""

    ttl = max(1, int(expires - time.time()) + 1)
    if settings.INSPECTA_EXCHANGE_NONCE_STORE == "cache":
        return bool(cache.add(f"exnonce:{key_id}:{nonce}", 1, ttl))
    expires_at = datetime.fromtimestamp(expires + 1, tz=UTC)
    # One INSERT on the hot path of every signed call: written in SQL to spare the ORM's
    # per-call query compilation (see benchmarks/bench_exchange.py).
    sql = f"INSERT INTO {SignatureNonce._meta.db_table} (key_id, nonce, expires_at) VALUES (%s, %s, %s)"  # noqa: S608 - table name from the model, values are parameters
    params = [key_id, nonce, connection.ops.adapt_datetimefield_value(expires_at)]
    for _attempt in range(2):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
            return True
        except IntegrityError:
            # A row left over from a signature that has expired does not count as a replay.
            if not SignatureNonce.objects.filter(key_id=key_id, nonce=nonce, expires_at__lt=timezone.now()).delete()[0]:
                return False
    return False


_KEY_CACHE: dict[str, tuple[Any, ClientKey]] = {}


def _key_state_sql() -> str:
    key, client, org = ClientKey._meta.db_table, ExchangeClient._meta.db_table, Organisation._meta.db_table
    return (
        "SELECT k.status, k.not_after, k.public_key, c.id, c.is_active, c.scopes, c.rate_limit_per_minute, "  # noqa: S608 - table names from the models
        f"c.name, c.callback_url, o.id, o.region_id, o.kind FROM {key} k JOIN {client} c ON c.id = k.client_id "
        f"JOIN {org} o ON o.id = c.organisation_id WHERE k.key_id = %s"
    )


def key_lookup(key_id: str) -> ClientKey | None:
    """The key with its client and organisation, as they are in the database now.

    Every call reads the key's current state (one indexed query, so revocation and
    rotation take effect at once); the full objects are rebuilt by the ORM only when that
    state changed, since compiling the three-model query costs more than the rest of the
    verification."""

    with connection.cursor() as cursor:
        cursor.execute(_key_state_sql(), [key_id])
        state = cursor.fetchone()
    if state is None:
        _KEY_CACHE.pop(key_id, None)
        return None
    cached = _KEY_CACHE.get(key_id)
    if cached is not None and cached[0] == state:
        return cached[1]
    key = ClientKey.objects.select_related("client__organisation").filter(key_id=key_id).order_by().first()
    if key is not None:
        if len(_KEY_CACHE) > 10_000:
            _KEY_CACHE.clear()
        _KEY_CACHE[key_id] = (state, key)
    return key


def verify_signed_request(request: HttpRequest) -> Actor:
    """Verify ``request`` per CONTRACT §2; :class:`AppError` 401 with the refusal's code."""

    now = time.time()
    try:
        parsed = signatures.parse_signature(request)
    except signatures.SignatureError as exc:
        raise _refuse(exc) from None
    key = key_lookup(parsed.keyid)
    try:
        if key is None or key.status == KeyStatus.AWAITING_PUBLIC_KEY:
            raise signatures.SignatureError(ErrorCode.UNKNOWN_KEY, keyid=parsed.keyid)
        if key.status == KeyStatus.REVOKED:
            raise signatures.SignatureError(ErrorCode.REVOKED_KEY, keyid=parsed.keyid)
        if key.not_after is not None and key.not_after.timestamp() <= now:
            raise signatures.SignatureError(ErrorCode.KEY_EXPIRED, keyid=parsed.keyid)
        if not key.client.is_active:
            raise signatures.SignatureError(ErrorCode.CLIENT_DISABLED)
        try:
            body = request.body
        except RequestDataTooBig:
            raise AppError(
                ErrorCode.PAYLOAD_TOO_LARGE,
                _("请求体过大；文件请使用上传接口（tus）。"),
                {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
            ) from None
        signatures.check_policy(
            parsed,
            now=now,
            max_skew=settings.INSPECTA_EXCHANGE_MAX_CLOCK_SKEW,
            max_window=settings.INSPECTA_EXCHANGE_MAX_WINDOW,
        )
        if parsed.alg and parsed.alg != key.algorithm:
            raise signatures.SignatureError(ErrorCode.BAD_SIGNATURE, "alg does not match the key")
        signatures.check_content_digest(request, body, parsed)
        material: bytes | Ed25519PublicKey
        try:
            if key.algorithm == AuthMethod.HMAC_SHA256:
                material = open_secret(key.sealed_secret or b"")
            else:
                material = signatures.public_key(key.public_key)
        except (SecretUnavailable, ValueError):
            raise signatures.SignatureError(ErrorCode.BAD_SIGNATURE, "key material unavailable") from None
        signatures.verify_signature(request, parsed, algorithm=key.algorithm, key=material)
        if not nonce_remember(key.key_id, parsed.nonce, parsed.expires):
            raise signatures.SignatureError(ErrorCode.NONCE_REPLAYED)
    except signatures.SignatureError as exc:
        raise _refuse(exc) from None
    return Actor.for_client(key.client, key)


def rate_limit_check(request: HttpRequest, client: ExchangeClient) -> None:
    """A one-minute window per client, counted by django-ratelimit in the shared cache
    (Redis in production, the database cache of the embedded footprint), so that every
    web process counts against the one limit. Over it: 429 with ``Retry-After``."""

    limit = client.rate_limit_per_minute
    if not limit:
        return
    usage = get_usage(
        request, group="exchange.client", key=lambda _group, _request: str(client.pk), rate=(limit, 60), increment=True
    )
    if usage is None or not usage["should_limit"]:
        return
    retry = max(1, int(usage["time_left"]) + 1)
    raise AppError(
        ErrorCode.RATE_LIMITED,
        _("调用过于频繁，请 %(s)d 秒后再试。") % {"s": retry},
        {"limit_per_minute": limit, "retry_after": retry},
        Retry_After=str(retry),
    )


def _touch(client: ExchangeClient) -> None:
    """Last-seen, written at most once a minute per client (a hot row otherwise)."""

    now = timezone.now()
    if client.last_seen_at is None or now - client.last_seen_at > timedelta(seconds=60):
        ExchangeClient.objects.filter(pk=client.pk).update(last_seen_at=now)
        client.last_seen_at = now


class SignatureAuth(AuthBase):
    """RFC 9421 request signatures as a Django Ninja auth (CONTRACT §2).

    ``scopes``: every one of them must have been granted to the client (else 403
    ``insufficient_scope``). ``any_of``: at least one of them must have been granted
    (an operation that two scopes open, e.g. the old and the specific one). ``optional``: a request without signature headers is passed
    on to the next auth (e.g. ``session_auth``) instead of refused.
    """

    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = "Signature"
    openapi_description = (
        "RFC 9421 HTTP Message Signatures: Signature-Input/Signature over "
        '"@method" "@target-uri" (and "content-digest" with a body), with created, expires, '
        "nonce and keyid. See docs/integration/signing.md."
    )

    def __init__(
        self, scopes: list[str] | tuple[str, ...] = (), optional: bool = False, any_of: list[str] | tuple[str, ...] = ()
    ) -> None:
        super().__init__()
        self.scopes = tuple(scopes)
        self.any_of = tuple(any_of)
        self.optional = optional

    def __call__(self, request: HttpRequest) -> Actor | None:
        if self.optional and "Signature-Input" not in request.headers and "Signature" not in request.headers:
            return None
        principal = verify_signed_request(request)
        request.exchange_principal = principal  # type: ignore[attr-defined]
        current_client.set(principal.client)  # every audit row of this call names the client
        rate_limit_check(request, principal.client)
        _touch(principal.client)
        for scope in self.scopes:
            require_scope(principal, scope)
        if self.any_of:
            require_scope(principal, *self.any_of)
        return principal


signature_auth = SignatureAuth()
signature_optional = SignatureAuth(optional=True)
