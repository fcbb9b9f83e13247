"""Every write of the exchange app (STYLE.md 4; T/CECS 6.0.5-6.0.8).

Access applications are reviewed by the competent authority of the applicant's region
(an authority admin or supervisor whose region contains it, never the applicant's own
department); approval creates the client and issues its first key. HMAC secrets are
stored only sealed and shown once, to an admin of the client's own organisation
(``key_secret_reveal``; a rotation by that admin shows the new one at once), never to
the authority that approves or rotates.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inspecta.accounts.choices import OrganisationKind
from inspecta.accounts.models import User

from .choices import ApplicationStatus, AuthMethod, KeyStatus, Scope
from .crypto import load_public_key, new_secret, open_secret, public_key_pem, seal_secret, secret_text
from .models import AccessApplication, ClientKey, ExchangeClient
from .permissions import is_competent_for, may_apply, may_manage_client, may_receive_secret, may_review

__all__ = [
    "IssuedKey",
    "application_approve",
    "application_reject",
    "application_submit",
    "client_update",
    "key_register_public",
    "key_revoke",
    "key_rotate",
    "key_secret_reveal",
    "upload_token_issue",
    "upload_token_read",
]


@dataclass(frozen=True)
class IssuedKey:
    """A key just issued; ``secret`` is the HMAC secret when the actor is the admin of the
    client's organisation it is shown to (this once), otherwise ``None``: it waits for
    ``key_secret_reveal``."""

    key: ClientKey
    secret: str | None


def _clean_scopes(scopes: list[str]) -> list[str]:
    valid = set(Scope.values)
    cleaned = sorted({s for s in scopes})
    if not cleaned:
        raise ValidationError({"scopes": _("至少选择一项权限。")})
    unknown = [s for s in cleaned if s not in valid]
    if unknown:
        raise ValidationError({"scopes": _("未知的权限：%(s)s。") % {"s": "、".join(unknown)}})
    return cleaned


# --- applications -----------------------------------------------------------------


@transaction.atomic
def application_submit(
    *,
    actor: User,
    system_name: str,
    auth_method: str,
    contact_name: str,
    contact_phone: str,
    scopes: list[str],
    callback_url: str = "",
    contact_email: str = "",
    reason: str = "",
) -> AccessApplication:
    """Apply for exchange access for the actor's organisation (T/CECS 6.0.7-6.0.8)."""

    if not may_apply(actor):
        raise PermissionDenied(_("只有本单位管理员可以申请接入。"))
    if auth_method not in AuthMethod.values:
        raise ValidationError({"auth_method": _("认证方式不正确。")})
    org = actor.organisation
    pushes = {Scope.PROJECTS_WRITE, Scope.SYNC_PUSH}.intersection(scopes)
    if pushes and (org is None or org.kind != OrganisationKind.AUTHORITY):
        # T/CECS 4.3.2: projects are registered by the authorities (or their platforms)
        raise ValidationError({"scopes": _("只有主管部门的平台可以申请登记或上报工程项目的权限。")})
    application = AccessApplication(
        organisation=actor.organisation,
        system_name=system_name.strip(),
        callback_url=callback_url.strip(),
        auth_method=auth_method,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        contact_email=contact_email.strip(),
        scopes=_clean_scopes(scopes),
        reason=reason.strip(),
        applied_by=actor,
    )
    if application.callback_url and not application.callback_url.startswith(("https://", "http://")):
        raise ValidationError({"callback_url": _("回调地址须为 http(s) 地址。")})
    application.full_clean()
    application.save()
    return application


def _decide_check(actor: User, application: AccessApplication) -> None:
    if not may_review(actor, application):
        raise PermissionDenied(_("只有申请单位所在辖区的主管部门可以审核。"))
    if application.status != ApplicationStatus.PENDING:
        raise ValidationError(_("该申请已审核，不能重复处理。"))


@transaction.atomic
def application_approve(
    *, actor: User, application: AccessApplication, reason: str = "", scopes: list[str] | None = None
) -> tuple[ExchangeClient, IssuedKey]:
    """Approve: the client is created with the granted scopes (a subset of those asked
    for) and its first key id issued. An HMAC secret is not returned to the approver: it
    waits for an admin of the applying organisation (``key_secret_reveal``)."""

    application = AccessApplication.objects.select_for_update().get(pk=application.pk)
    _decide_check(actor, application)
    granted = _clean_scopes(scopes if scopes is not None else list(application.scopes))
    if not set(granted) <= set(application.scopes):
        raise ValidationError({"scopes": _("批准的权限不能超出申请的范围。")})
    application.approve(actor, reason)
    application.save()
    client = ExchangeClient(
        application=application,
        organisation=application.organisation,
        name=application.system_name,
        callback_url=application.callback_url,
        auth_method=application.auth_method,
        scopes=granted,
    )
    client.full_clean()
    client.save()
    return client, _key_issue(client=client)


@transaction.atomic
def application_reject(*, actor: User, application: AccessApplication, reason: str) -> AccessApplication:
    application = AccessApplication.objects.select_for_update().get(pk=application.pk)
    _decide_check(actor, application)
    if not reason.strip():
        raise ValidationError({"reason": _("驳回须填写理由。")})
    application.reject(actor, reason)
    application.save()
    return application


# --- clients and keys -------------------------------------------------------------


def _new_key_id() -> str:
    return "ik_" + secrets.token_hex(10)


def _normalised_public_key(text: str) -> str:
    try:
        return public_key_pem(load_public_key(text)).strip()
    except (ValueError, TypeError) as exc:
        raise ValidationError({"public_key": _("公钥须为 Ed25519 公钥（PEM 或 32 字节的 Base64）。")}) from exc


def _key_issue(*, client: ExchangeClient, public_key: str = "") -> IssuedKey:
    if client.auth_method == AuthMethod.HMAC_SHA256:
        _, raw = new_secret()
        key = ClientKey.objects.create(
            client=client,
            key_id=_new_key_id(),
            algorithm=AuthMethod.HMAC_SHA256,
            sealed_secret=seal_secret(raw),
            status=KeyStatus.ACTIVE,
        )
        return IssuedKey(key=key, secret=None)
    status = KeyStatus.ACTIVE if public_key else KeyStatus.AWAITING_PUBLIC_KEY
    key = ClientKey.objects.create(
        client=client,
        key_id=_new_key_id(),
        algorithm=AuthMethod.ED25519,
        public_key=_normalised_public_key(public_key) if public_key else "",
        status=status,
    )
    return IssuedKey(key=key, secret=None)


@transaction.atomic
def key_register_public(*, actor: User, key: ClientKey, public_key: str) -> ClientKey:
    """The client registers the Ed25519 public key for a key id issued to it."""

    if not may_manage_client(actor, key.client):
        raise PermissionDenied(_("无权管理该接入方的密钥。"))
    if key.algorithm != AuthMethod.ED25519 or key.status != KeyStatus.AWAITING_PUBLIC_KEY:
        raise ValidationError(_("该密钥不需要登记公钥。"))
    key.public_key = _normalised_public_key(public_key)
    key.status = KeyStatus.ACTIVE
    key.save(update_fields=["public_key", "status"])
    return key


@transaction.atomic
def key_rotate(
    *, actor: User, client: ExchangeClient, public_key: str = "", overlap: timedelta | None = None
) -> IssuedKey:
    """Issue a new key; the keys valid so far stay valid for the overlap period
    (``INSPECTA_EXCHANGE_KEY_OVERLAP_HOURS``) so the client can roll over without
    downtime, then expire. Rotated by an admin of the client's own organisation
    (self-service), a new HMAC secret is returned to them at once and counts as its one
    showing; rotated by the authority, it waits for that admin (``key_secret_reveal``)."""

    if not may_manage_client(actor, client):
        raise PermissionDenied(_("无权管理该接入方的密钥。"))
    if not client.is_active:
        raise ValidationError(_("接入方已停用。"))
    if overlap is None:
        overlap = timedelta(hours=settings.INSPECTA_EXCHANGE_KEY_OVERLAP_HOURS)
    if overlap < timedelta(0):
        raise ValidationError({"overlap": _("过渡期不能为负。")})
    now = timezone.now()
    for old in ClientKey.objects.select_for_update().filter(
        client=client, status__in=[KeyStatus.ACTIVE, KeyStatus.RETIRING, KeyStatus.AWAITING_PUBLIC_KEY]
    ):
        if old.status == KeyStatus.AWAITING_PUBLIC_KEY:
            old.status = KeyStatus.REVOKED
            old.revoked_at = now
            old.revoked_reason = _("轮换时尚未登记公钥")
            old.save(update_fields=["status", "revoked_at", "revoked_reason"])
            continue
        end = now + overlap
        old.status = KeyStatus.RETIRING
        old.not_after = min(old.not_after, end) if old.not_after else end
        old.save(update_fields=["status", "not_after"])
    issued = _key_issue(client=client, public_key=public_key)
    if issued.key.secret_pending and may_receive_secret(actor, client):
        return IssuedKey(key=issued.key, secret=_reveal(actor=actor, key=issued.key))
    return issued


def _reveal(*, actor: User, key: ClientKey) -> str:
    key.secret_revealed_at = timezone.now()
    key.secret_revealed_by = actor
    key.save(update_fields=["secret_revealed_at", "secret_revealed_by"])
    return secret_text(open_secret(key.sealed_secret or b""))


@transaction.atomic
def key_secret_reveal(*, actor: User, key: ClientKey) -> str:
    """Show an HMAC secret, once, to an admin of the client's own organisation (T/CECS
    6.0.5, 6.0.8): who received it and when is recorded (and audited); a second request
    is refused, and so is anyone else (the approving authority included). A lost secret
    is replaced by rotating the key."""

    key = ClientKey.objects.select_for_update().select_related("client").get(pk=key.pk)
    if not may_receive_secret(actor, key.client):
        raise PermissionDenied(_("只有接入单位的管理员可以领取密钥。"))
    if key.algorithm != AuthMethod.HMAC_SHA256:
        raise ValidationError(_("该密钥使用接入方登记的公钥，没有平台签发的密钥可领取。"))
    if key.secret_revealed_at is not None:
        raise ValidationError(
            _("该密钥已于 %(t)s 领取，不能再次显示；如已遗失，请轮换密钥。")
            % {"t": timezone.localtime(key.secret_revealed_at).strftime("%Y-%m-%d %H:%M")}
        )
    if not key.secret_pending:
        raise ValidationError(_("该密钥已失效，不能领取。"))
    return _reveal(actor=actor, key=key)


@transaction.atomic
def key_revoke(*, actor: User, key: ClientKey, reason: str) -> ClientKey:
    """Revoke at once: the next request signed with the key is refused."""

    if not may_manage_client(actor, key.client):
        raise PermissionDenied(_("无权管理该接入方的密钥。"))
    if not reason.strip():
        raise ValidationError({"reason": _("吊销须填写原因。")})
    if key.status == KeyStatus.REVOKED:
        return key
    key.status = KeyStatus.REVOKED
    key.revoked_at = timezone.now()
    key.revoked_reason = reason.strip()[:255]
    key.save(update_fields=["status", "revoked_at", "revoked_reason"])
    return key


@transaction.atomic
def client_update(
    *,
    actor: User,
    client: ExchangeClient,
    is_active: bool | None = None,
    rate_limit_per_minute: int | None = None,
    expect_calls_every_minutes: int | None = None,
    callback_url: str | None = None,
) -> ExchangeClient:
    """Settings of a client: status, rate limit and monitoring by its authority; the
    callback URL also by the client's own admins."""

    authority = is_competent_for(actor, client.organisation)
    if not (authority or may_manage_client(actor, client)):
        raise PermissionDenied(_("无权修改该接入方。"))
    if (is_active is not None or rate_limit_per_minute is not None) and not authority:
        raise PermissionDenied(_("只有主管部门可以启停接入方或调整限流。"))
    if is_active is not None:
        client.is_active = is_active
    if rate_limit_per_minute is not None:
        client.rate_limit_per_minute = rate_limit_per_minute
    if expect_calls_every_minutes is not None:
        client.expect_calls_every_minutes = expect_calls_every_minutes
    if callback_url is not None:
        client.callback_url = callback_url.strip()
    client.full_clean()
    client.save()
    return client


# --- upload tokens (CONTRACT §4) --------------------------------------------------

_TOKEN_SALT = "inspecta.exchange.upload-token"  # noqa: S105 - a signing salt, not a secret


def upload_token_issue(*, client: ExchangeClient | None = None, user: User | None = None) -> tuple[str, int]:
    """A short-lived bearer token for the tus endpoint, bound to one client or one user:
    (token, lifetime in seconds)."""

    if (client is None) == (user is None):
        raise ValueError("exactly one of client and user")
    payload: dict[str, Any] = {"c": client.pk} if client is not None else {"u": user.pk}  # type: ignore[union-attr]
    payload["n"] = secrets.token_urlsafe(6)
    return signing.dumps(payload, salt=_TOKEN_SALT, compress=False), settings.INSPECTA_UPLOAD_TOKEN_SECONDS


def upload_token_read(token: str) -> dict[str, Any] | None:
    """The token's owner, or ``None`` when it is forged or expired."""

    try:
        data = signing.loads(token, salt=_TOKEN_SALT, max_age=settings.INSPECTA_UPLOAD_TOKEN_SECONDS)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) else None
