"""Passkeys (WebAuthn) as the identity factor of confirmations (T/CECS 4.3.4-2
"采集人员生物特征信息…身份核验"; Nanchang 四(四)2).

Every person who takes part in the chain of custody (sampler, witness, receiver,
deliverer) enrols a passkey on their phone; user verification is required, so the phone
unlocks the key only after its own fingerprint or face check. The platform keeps the
public key and nothing of the fingerprint or face.

A confirmation of a custody record is a WebAuthn assertion whose challenge is the
SHA-256 of the record being confirmed:

1. ``identity_challenge_options(user=..., challenge=record_sha256)`` gives the options
   for ``navigator.credentials.get`` (``static/inspecta/passkey.js``:
   ``InspectaPasskey.confirm``);
2. ``identity_confirm(user=..., challenge=record_sha256, assertion=...)`` verifies the
   answer and returns an :class:`IdentityProof`, whose ``as_record()`` the record keeps;
3. ``identity_proof_verify(record=..., challenge=record_sha256)`` re-verifies the kept
   proof at any later time from its stored bytes and the passkey's public key, without
   trusting the platform's word that it was checked.

Where a passkey is impossible (an old phone), the fallback is the code of the person's
TOTP authenticator (the same device as the sign-in's second factor); the proof says
which factor was used (``ConfirmationFactor``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    ClientDataType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.helpers.verify_signature import verify_signature

from inspecta.core.audit import audit_stamp
from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.scoping import permits

from .choices import ConfirmationFactor
from .models import Passkey, User

__all__ = [
    "IdentityProof",
    "identity_challenge_options",
    "identity_confirm",
    "identity_factors",
    "identity_proof_verify",
    "passkey_register",
    "passkey_registration_options",
    "passkey_remove",
]

NAME_MAX = 64
MIN_CHALLENGE_BYTES = 16  # WebAuthn §13.4.3: at least 16 random bytes


# --- configuration ----------------------------------------------------------------


def rp_id() -> str:
    return str(settings.INSPECTA_WEBAUTHN_RP_ID)


def expected_origins() -> list[str]:
    return [str(o).rstrip("/") for o in settings.INSPECTA_WEBAUTHN_ORIGINS]


def _timeout_ms() -> int:
    return int(settings.INSPECTA_WEBAUTHN_TIMEOUT_SECONDS) * 1000


def user_handle(user: User) -> bytes:
    """The WebAuthn user handle of ``user``: stable, so that a phone replaces its passkey
    for the same account instead of adding a second, and free of personal data."""

    return b"inspecta-user:" + str(user.pk).encode()


def _registration_key(user: User) -> str:
    return f"passkey-registration:{user.pk}"


def _b64(value: bytes) -> str:
    return bytes_to_base64url(value)


# --- enrolment --------------------------------------------------------------------


def _active(user: User) -> list[Passkey]:
    return list(Passkey.objects.filter(user=user, removed_at__isnull=True).order_by("created_at", "id"))


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for value in passkey.transports or []:
        try:
            transports.append(AuthenticatorTransport(value))
        except ValueError:
            continue  # a transport a newer browser reports: not needed to find the key
    return PublicKeyCredentialDescriptor(id=bytes(passkey.credential_id), transports=transports or None)


def passkey_registration_options(*, user: User) -> str:
    """The JSON options for ``navigator.credentials.create`` that enrol a passkey for
    ``user``: user verification required (the phone's fingerprint or face), a resident
    key preferred, the user's current passkeys excluded (a phone is not enrolled twice).

    The challenge is kept server-side in the shared cache, bound to the user, for
    ``INSPECTA_WEBAUTHN_TIMEOUT_SECONDS``; :func:`passkey_register` consumes it (one use).
    Asking again replaces it.
    """

    challenge = secrets.token_bytes(32)
    options = generate_registration_options(
        rp_id=rp_id(),
        rp_name=str(settings.INSPECTA_WEBAUTHN_RP_NAME),
        user_id=user_handle(user),
        user_name=user.username,
        user_display_name=user.full_name or user.username,
        challenge=challenge,
        timeout=_timeout_ms(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(p) for p in _active(user)],
    )
    cache.set(_registration_key(user), challenge, timeout=int(settings.INSPECTA_WEBAUTHN_TIMEOUT_SECONDS))
    return options_to_json(options)


def _take_registration_challenge(user: User) -> bytes:
    """The pending registration challenge of ``user``, removed so it serves once."""

    key = _registration_key(user)
    challenge = cache.get(key)
    # only the request that actually removes it may use it (two posts of one answer race)
    if not isinstance(challenge, bytes) or not cache.delete(key):
        raise AppError(
            ErrorCode.PASSKEY_CHALLENGE_EXPIRED, _("添加通行密钥的请求已过期或已使用，请重新点击“添加通行密钥”。")
        )
    return challenge


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return _("我的手机")
    if len(name) > NAME_MAX:
        raise AppError(
            ErrorCode.VALIDATION_FAILED,
            _("名称不能超过 %(n)d 个字。") % {"n": NAME_MAX},
            {"fields": {"name": [_("名称不能超过 %(n)d 个字。") % {"n": NAME_MAX}]}},
        )
    return name


@transaction.atomic
def passkey_register(*, actor: User, user: User, credential: str | dict[str, Any], name: str) -> Passkey:
    """Verify the phone's answer to :func:`passkey_registration_options` and keep the
    passkey. Only the person themself enrols (the key is made on their own phone). The
    pending challenge is used up even when the answer is refused."""

    if actor.pk != user.pk:
        raise AppError(ErrorCode.FORBIDDEN, _("只能为自己的账号添加通行密钥。"))
    name = _clean_name(name)
    challenge = _take_registration_challenge(user)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id(),
            expected_origin=expected_origins(),
            require_user_verification=True,
        )
        parsed = parse_registration_credential_json(credential)
    except Exception as exc:  # any fault of the phone's answer is a refusal, never a 500
        raise AppError(
            ErrorCode.PASSKEY_INVALID, _("通行密钥未能通过验证，请重试，并在手机上完成指纹或面容验证。")
        ) from exc
    if Passkey.objects.filter(credential_id=verified.credential_id).exists():
        raise AppError(ErrorCode.PASSKEY_ALREADY_REGISTERED, _("这个通行密钥已经添加过了。"))
    passkey = Passkey(
        user=user,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t.value for t in (parsed.response.transports or [])],
        name=name,
        aaguid=verified.aaguid,
    )
    passkey.full_clean()
    audit_stamp(passkey, actor)
    passkey.save()
    return passkey


@transaction.atomic
def passkey_remove(*, actor: User, passkey: Passkey) -> Passkey:
    """Withdraw a passkey: it confirms nothing from now on. The row stays (``removed_at``)
    so that the confirmations it made can still be re-verified. The owner removes their
    own; an operator removes anyone's (a lost phone)."""

    if not permits(actor, passkey, "change"):
        raise AppError(ErrorCode.NOT_FOUND, _("通行密钥不存在。"))
    passkey = Passkey.objects.select_for_update().get(pk=passkey.pk)
    if passkey.removed_at is None:
        passkey.removed_at = timezone.now()
        audit_stamp(passkey, actor)
        passkey.save(update_fields=["removed_at"])
    return passkey


# --- confirmation -----------------------------------------------------------------


@dataclass(frozen=True)
class IdentityProof:
    """Who confirmed, how, when, and the bytes that prove it (T/CECS 4.3.4-2).

    For a passkey, ``authenticator_data``, ``client_data_json`` and ``signature`` are the
    phone's assertion: the signature over ``authenticator_data || SHA-256(client_data_json)``
    verifies with the passkey's public key, and ``client_data_json`` carries
    ``challenge`` (the SHA-256 of the confirmed record). For the TOTP fallback those bytes
    are empty: a code leaves nothing that a third party could check later.
    """

    factor: str
    user_id: int
    passkey_id: int | None
    credential_id: bytes
    authenticator_data: bytes
    client_data_json: bytes
    signature: bytes
    challenge: bytes
    at: datetime

    def as_record(self) -> dict[str, Any]:
        """JSON-safe form to store with the confirmed record (bytes as base64url)."""

        return {
            "factor": str(self.factor),
            "user_id": self.user_id,
            "passkey_id": self.passkey_id,
            "credential_id": _b64(self.credential_id),
            "authenticator_data": _b64(self.authenticator_data),
            "client_data_json": _b64(self.client_data_json),
            "signature": _b64(self.signature),
            "challenge": _b64(self.challenge),
            "at": self.at.isoformat(),
        }


def identity_factors(*, user: User) -> list[str]:
    """The factors ``user`` can confirm with now, the passkey first (``ConfirmationFactor``)."""

    factors = []
    if Passkey.objects.filter(user=user, removed_at__isnull=True).exists():
        factors.append(ConfirmationFactor.PASSKEY.value)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        factors.append(ConfirmationFactor.TOTP.value)
    return factors


def _check_challenge(challenge: bytes) -> None:
    if not isinstance(challenge, bytes) or len(challenge) < MIN_CHALLENGE_BYTES:
        raise ValueError("the challenge is the record's SHA-256: at least 16 bytes")


def identity_challenge_options(*, user: User, challenge: bytes) -> str:
    """The JSON options for ``navigator.credentials.get`` with which ``user`` confirms the
    record whose SHA-256 is ``challenge``: the user's passkeys allowed, user verification
    required. Refused (``identity_factor_missing``) when the user has no passkey; the
    caller then offers the TOTP fallback."""

    _check_challenge(challenge)
    passkeys = _active(user)
    if not passkeys:
        raise AppError(ErrorCode.IDENTITY_FACTOR_MISSING, _("您还没有添加通行密钥，请使用动态口令确认。"))
    options = generate_authentication_options(
        rp_id=rp_id(),
        challenge=challenge,
        timeout=_timeout_ms(),
        allow_credentials=[_descriptor(p) for p in passkeys],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


def identity_confirm(
    *, user: User, challenge: bytes, assertion: str | dict[str, Any] | None = None, totp_code: str = ""
) -> IdentityProof:
    """Verify that ``user`` confirms the record whose SHA-256 is ``challenge``.

    With an ``assertion`` (the JSON of ``InspectaPasskey.confirm``): it must be made by
    one of the user's passkeys, over exactly this challenge, on a configured origin for
    the configured relying party, with the phone's user verification, and its signature
    counter must have moved forward (a counter going back means a copied key). Without
    one, ``totp_code`` must be the current code of the user's confirmed TOTP device.

    Raises :class:`AppError` with a Chinese message on any failure (also for a disabled
    account); nothing is changed then (except django-otp's count of wrong codes, which
    throttles guessing).
    """

    _check_challenge(challenge)
    if not user.is_active:
        raise AppError(ErrorCode.FORBIDDEN, _("该账号已停用，不能确认记录。"))
    if assertion:
        return _confirm_passkey(user=user, challenge=challenge, assertion=assertion)
    if (totp_code or "").strip():
        return _confirm_totp(user=user, challenge=challenge, code=totp_code)
    raise AppError(ErrorCode.IDENTITY_FACTOR_MISSING, _("请用通行密钥（指纹或面容）或动态口令确认身份。"))


def _refused() -> AppError:
    return AppError(ErrorCode.PASSKEY_INVALID, _("身份验证未通过，请重试，并在手机上完成指纹或面容验证。"))


@transaction.atomic
def _confirm_passkey(*, user: User, challenge: bytes, assertion: str | dict[str, Any]) -> IdentityProof:
    try:
        parsed = parse_authentication_credential_json(assertion)
    except Exception as exc:  # a malformed answer is a refusal, never a 500
        raise _refused() from exc
    passkey = (
        Passkey.objects.select_for_update()
        .filter(user=user, credential_id=bytes(parsed.raw_id), removed_at__isnull=True)
        .first()
    )
    handle = parsed.response.user_handle
    if passkey is None or (handle and bytes(handle) != user_handle(user)):
        raise AppError(ErrorCode.PASSKEY_UNKNOWN, _("所用的通行密钥不是您本人的，或已被移除。"))
    try:
        # the counter is checked below, after the signature, so that a forged answer is
        # reported as such and not as a copied key
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id(),
            expected_origin=expected_origins(),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except Exception as exc:  # see above
        raise _refused() from exc
    if (verified.new_sign_count or passkey.sign_count) and verified.new_sign_count <= passkey.sign_count:
        raise AppError(
            ErrorCode.PASSKEY_SIGN_COUNT_REGRESSED,
            _("通行密钥的签名计数异常，可能已被复制。请联系管理员，并改用动态口令确认。"),
        )
    now = timezone.now()
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
    audit_stamp(passkey, user)
    passkey.save(update_fields=["sign_count", "last_used_at"])
    response = parsed.response
    return IdentityProof(
        factor=ConfirmationFactor.PASSKEY.value,
        user_id=user.pk,
        passkey_id=passkey.pk,
        credential_id=bytes(passkey.credential_id),
        authenticator_data=bytes(response.authenticator_data),
        client_data_json=bytes(response.client_data_json),
        signature=bytes(response.signature),
        challenge=challenge,
        at=now,
    )


def _confirm_totp(*, user: User, challenge: bytes, code: str) -> IdentityProof:
    # not atomic: django-otp's count of wrong codes must survive the refusal
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise AppError(ErrorCode.IDENTITY_FACTOR_MISSING, _("您还没有绑定动态口令，无法用动态口令确认。"))
    allowed, _detail = device.verify_is_allowed()
    if not allowed:
        raise AppError(ErrorCode.TOTP_INVALID, _("动态口令错误次数过多，请稍后再试。"))
    if not device.verify_token(code.strip().replace(" ", "")):
        raise AppError(ErrorCode.TOTP_INVALID, _("动态口令不正确。"))
    return IdentityProof(
        factor=ConfirmationFactor.TOTP.value,
        user_id=user.pk,
        passkey_id=None,
        credential_id=b"",
        authenticator_data=b"",
        client_data_json=b"",
        signature=b"",
        challenge=challenge,
        at=timezone.now(),
    )


# --- later re-verification ----------------------------------------------------------


def identity_proof_verify(*, record: dict[str, Any], challenge: bytes) -> bool:
    """Re-verify a stored proof (``IdentityProof.as_record()``) of a confirmation of the
    record whose SHA-256 is ``challenge``, from the stored bytes alone and the public key
    of the passkey it names (also a removed one).

    A passkey proof holds when the signature over ``authenticatorData ||
    SHA-256(clientDataJSON)`` verifies with that key, ``clientDataJSON`` is a
    ``webauthn.get`` whose challenge is ``challenge``, the stored challenge is
    ``challenge``, the authenticator data names the configured relying party and says
    the person was present and verified by the phone, and the passkey belongs to the
    stored user. Anything missing or malformed makes it false, never an exception.

    A TOTP proof holds when the record says factor ``totp`` for this challenge: a
    one-time code leaves nothing a third party could check again, so what remains is the
    platform's own audit trail of the confirmation.
    """

    try:
        if record.get("factor") == ConfirmationFactor.TOTP:
            return base64url_to_bytes(record["challenge"]) == challenge
        if record.get("factor") != ConfirmationFactor.PASSKEY:
            return False
        if base64url_to_bytes(record["challenge"]) != challenge:
            return False
        credential_id = base64url_to_bytes(record["credential_id"])
        authenticator_data = base64url_to_bytes(record["authenticator_data"])
        client_data_json = base64url_to_bytes(record["client_data_json"])
        signature = base64url_to_bytes(record["signature"])
        passkey = Passkey.objects.filter(credential_id=credential_id, user_id=int(record["user_id"])).first()
        if passkey is None:
            return False
        client_data = parse_client_data_json(client_data_json)
        if client_data.type != ClientDataType.WEBAUTHN_GET or client_data.challenge != challenge:
            return False
        auth_data = parse_authenticator_data(authenticator_data)
        if auth_data.rp_id_hash != hashlib.sha256(rp_id().encode()).digest():
            return False
        if not (auth_data.flags.up and auth_data.flags.uv):
            return False
        decoded = decode_credential_public_key(bytes(passkey.public_key))
        verify_signature(
            public_key=decoded_public_key_to_cryptography(decoded),
            signature_alg=decoded.alg,
            signature=signature,
            data=authenticator_data + hashlib.sha256(client_data_json).digest(),
        )
    except Exception:  # a bad signature or a damaged record: not verified
        return False
    return True
