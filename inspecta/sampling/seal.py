"""The electronic seal of a sample (电子封志; T/CECS 2.0.16, 2.0.5, 2.0.6, 4.3.4-1/-2;
Nanchang 四(二)).

At sampling the witness seals the sample: the platform signs a statement that binds the
sample's unique code (唯一性编码, 2.0.5), its tags (样品标识, 2.0.6), the perceptual
hashes of the specimen photos (the 图像特征 of 2.0.16), the count and dimensions (结构特征),
the time and place of sealing and the SHA-256 of the witness's WebAuthn assertion (the
witness's own signature, which the platform key countersigns). The agency checks the seal
when it receives the sample (4.3.4-1: 检测机构接收样品时应对标识和封志进行核验), offline
if need be, with the platform's published keys (:func:`seal_keys`).

Encoding (the scheme of the EU digital COVID certificate, without its zlib step: the
payload is a few hundred bytes of CBOR that deflate does not shrink, and leaving it out
keeps the verifier to three standard steps)::

    "SEAL1:" + base45(COSE_Sign1)

* base45: RFC 9285, the alphabet of the QR alphanumeric mode, so the whole text, prefix
  included, is printed in that compact mode;
* COSE_Sign1: RFC 9052 §4.2, CBOR tag 18, ``[protected, unprotected, payload,
  signature]``, signed with Ed25519; the protected header is the canonical CBOR map
  ``{1: -8, 4: kid}`` (``alg`` EdDSA, ``kid`` the 4-byte key ID of the platform key, the
  key hash of the transparency log's signed-note key, ``SigningKey.key_hash``); the
  unprotected header is empty; the signature is over the RFC 9052 ``Sig_structure``
  ``["Signature1", protected, h'', payload]`` (no external AAD);
* payload: a canonical CBOR map (RFC 8949 §4.2.1) with short text keys:

  ====  ===========================  =================================================
  key   value                        claim
  ====  ===========================  =================================================
  v     uint                         format version, 1
  c     tstr                         the sample's unique code (唯一性编码)
  t     [* tstr]                     the tag ids (样品标识), in order
  p     [* bstr .size 8]             the 64-bit pHashes of the specimen photos, in order
  n     uint                         the number of specimens
  d     tstr                         the dimensions, as written (e.g. "150×150×150 mm")
  s     int                          sealing time, Unix seconds (UTC)
  la    tstr                         latitude, decimal degrees (absent when unknown)
  lo    tstr                         longitude, decimal degrees (absent when unknown)
  r     tstr                         region of the site, 6-digit GB/T 2260 code
  w     bstr .size 32                SHA-256 of the witness's WebAuthn assertion
  ====  ===========================  =================================================

The signing key is the transparency log's active Ed25519 key
(:func:`inspecta.ledger.services.signing_key_active`): one platform key, one published
key history. Keys retired by rotation stay in that history, so a seal made before a
rotation still verifies after it.

base45 and COSE are implemented here on ``cbor2`` and ``cryptography``; the tests check
them against the independent ``base45`` and ``pycose`` packages.
"""

from __future__ import annotations

import base64
import datetime
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.db import models
from django.utils.translation import gettext_lazy as _

from inspecta.core.errors import AppError, ErrorCode

__all__ = [
    "PREFIX",
    "SealCheck",
    "SealClaims",
    "SealReason",
    "b45decode",
    "b45encode",
    "seal_decode",
    "seal_encode",
    "seal_keys",
]

PREFIX = "SEAL1:"
"""What every seal text starts with (the format version is the ``1``)."""

FORMAT_VERSION = 1
COSE_SIGN1_TAG = 18
HEADER_ALG = 1
HEADER_CRIT = 2
HEADER_KID = 4
ALG_EDDSA = -8
MAX_SEAL_LENGTH = 4296
"""Longest text accepted: what a QR code holds at most in alphanumeric mode."""

_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_VALUE = {ch: i for i, ch in enumerate(_B45)}
_HEX16 = re.compile(r"[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_REGION = re.compile(r"[0-9]{6}")
_DECIMAL = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,12})?")


class SealReason(models.TextChoices):
    """Why a seal does not verify: a stable code (the value) and the message shown."""

    PREFIX = "seal_prefix", _("扫描到的内容不是本平台的电子封志。")
    ENCODING = "seal_encoding", _("电子封志内容残缺或有误，无法识读。")
    FORMAT = "seal_format", _("电子封志的格式不正确，无法识读。")
    UNKNOWN_KEY = "seal_unknown_key", _("电子封志不是本平台的密钥签署的。")
    SIGNATURE = "seal_signature", _("电子封志签名验证不通过，内容可能被改动过。")


class SealError(ValueError):
    """A seal text that does not verify; ``reason`` says why."""

    def __init__(self, reason: SealReason, detail: str = "") -> None:
        super().__init__(detail or reason.value)
        self.reason = reason


# -------------------------------------------------------------------- base45


def b45encode(data: bytes) -> str:
    """RFC 9285 base45: each two bytes ``n = a·256 + b`` as three symbols
    ``n = c + d·45 + e·45²`` written ``c d e``; a last odd byte as two symbols."""
    out = []
    for i in range(0, len(data) - 1, 2):
        c, rest = divmod(data[i] * 256 + data[i + 1], 45)
        e, d = divmod(c, 45)
        out.append(_B45[rest] + _B45[d] + _B45[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out.append(_B45[c] + _B45[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """RFC 9285 §4.2 decoding; ``ValueError`` for a symbol outside the alphabet, a
    dangling single symbol or a group whose value does not fit (over 65535, or over 255
    for a last pair)."""
    try:
        values = [_B45_VALUE[ch] for ch in text]
    except KeyError:
        raise ValueError("not a base45 symbol") from None
    if len(values) % 3 == 1:
        raise ValueError("base45 text of invalid length")
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        if len(group) == 3:
            n = group[0] + group[1] * 45 + group[2] * 45 * 45
            if n > 0xFFFF:
                raise ValueError("base45 group out of range")
            out += n.to_bytes(2, "big")
        else:
            n = group[0] + group[1] * 45
            if n > 0xFF:
                raise ValueError("base45 group out of range")
            out.append(n)
    return bytes(out)


# -------------------------------------------------------------------- claims


def _tuple_of_str(values: Iterable[Any], what: str) -> tuple[str, ...]:
    if isinstance(values, str | bytes):
        raise ValueError(f"{what} must be a sequence of strings")
    items = tuple(values)
    if not all(isinstance(v, str) and v for v in items):
        raise ValueError(f"{what} must be non-empty strings")
    return items


@dataclass(frozen=True)
class SealClaims:
    """What a seal states about a sample (T/CECS 2.0.16, 4.3.4-1/-2; Nanchang 四(二)).

    ``sealed_at`` is kept to the second (the seal carries Unix seconds);
    ``photo_hashes`` are 16-hex-digit pHashes (:func:`inspecta.core.imaging.photo_phash`);
    ``latitude``/``longitude`` decimal degrees as strings, or ``None`` when the phone had
    no position; ``region`` a 6-digit GB/T 2260 code; ``witness_assertion_sha256`` the
    hex SHA-256 of the witness's WebAuthn assertion. Hex is normalised to lower case.
    Invalid values raise ``ValueError``.
    """

    code: str
    tags: tuple[str, ...]
    photo_hashes: tuple[str, ...]
    count: int
    dimensions: str
    sealed_at: datetime.datetime
    latitude: str | None
    longitude: str | None
    region: str
    witness_assertion_sha256: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code:
            raise ValueError("code must be a non-empty string")
        object.__setattr__(self, "tags", _tuple_of_str(self.tags, "tags"))
        hashes = tuple(h.lower() for h in _tuple_of_str(self.photo_hashes, "photo_hashes"))
        if not all(_HEX16.fullmatch(h) for h in hashes):
            raise ValueError("photo_hashes must be 16 hex digits each")
        object.__setattr__(self, "photo_hashes", hashes)
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            raise ValueError("count must be a non-negative integer")
        if not isinstance(self.dimensions, str):
            raise ValueError("dimensions must be a string")
        if not isinstance(self.sealed_at, datetime.datetime) or self.sealed_at.utcoffset() is None:
            raise ValueError("sealed_at must be an aware datetime")
        object.__setattr__(self, "sealed_at", self.sealed_at.replace(microsecond=0))
        for name, limit in (("latitude", 90), ("longitude", 180)):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, str) or not _DECIMAL.fullmatch(value) or abs(float(value)) > limit
            ):
                raise ValueError(f"{name} must be decimal degrees within ±{limit}")
        if not isinstance(self.region, str) or not _REGION.fullmatch(self.region):
            raise ValueError("region must be a 6-digit code")
        digest = self.witness_assertion_sha256
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest.lower()):
            raise ValueError("witness_assertion_sha256 must be 64 hex digits")
        object.__setattr__(self, "witness_assertion_sha256", digest.lower())

    def to_cbor_map(self) -> dict[str, Any]:
        """The payload map (keys in the module docstring)."""
        payload: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "c": self.code,
            "t": list(self.tags),
            "p": [bytes.fromhex(h) for h in self.photo_hashes],
            "n": self.count,
            "d": self.dimensions,
            "s": int(self.sealed_at.timestamp()),
            "r": self.region,
            "w": bytes.fromhex(self.witness_assertion_sha256),
        }
        if self.latitude is not None:
            payload["la"] = self.latitude
        if self.longitude is not None:
            payload["lo"] = self.longitude
        return payload

    @classmethod
    def from_cbor_map(cls, payload: Any) -> SealClaims:
        """Read a payload map; ``ValueError`` unless it is exactly the documented one."""
        if not isinstance(payload, Mapping):
            raise ValueError("payload is not a map")
        required = {"v", "c", "t", "p", "n", "d", "s", "r", "w"}
        keys = set(payload)
        if not required <= keys or not keys <= required | {"la", "lo"}:
            raise ValueError("payload keys differ from format 1")
        if type(payload["v"]) is not int or payload["v"] != FORMAT_VERSION:
            raise ValueError("unknown payload version")
        hashes, seconds, digest = payload["p"], payload["s"], payload["w"]
        if not isinstance(payload["t"], list | tuple) or not isinstance(hashes, list | tuple):
            raise ValueError("tags and photo hashes must be arrays")
        if not all(isinstance(h, bytes) and len(h) == 8 for h in hashes):
            raise ValueError("photo hashes must be 8-byte strings")
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise ValueError("sealing time must be an integer")
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise ValueError("assertion digest must be 32 bytes")
        try:
            sealed_at = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError("sealing time out of range") from exc
        return cls(
            code=payload["c"],
            tags=tuple(payload["t"]),
            photo_hashes=tuple(h.hex() for h in hashes),
            count=payload["n"],
            dimensions=payload["d"],
            sealed_at=sealed_at,
            latitude=payload.get("la"),
            longitude=payload.get("lo"),
            region=payload["r"],
            witness_assertion_sha256=digest.hex(),
        )


@dataclass(frozen=True)
class SealCheck:
    """The outcome of :func:`seal_decode`.

    ``valid`` is true only when the signature verifies with a platform key; ``reason``
    is then ``None``, otherwise the :class:`SealReason` (its value is the stable code,
    e.g. ``seal_signature``); ``message`` is the plain Chinese sentence to show.
    ``claims`` are set whenever the payload could be read, also for an invalid seal:
    they are then unverified and must only be shown as such. ``kid`` is the hex key ID
    the seal names, ``key_active`` whether that key is the current one (``None`` when no
    platform key matched).
    """

    valid: bool
    reason: SealReason | None
    message: str
    claims: SealClaims | None = None
    kid: str | None = None
    key_active: bool | None = None

    def error(self) -> AppError | None:
        """The refusal to raise for an invalid seal (code = the reason, status 422), or
        ``None`` when the seal is valid."""
        if self.reason is None:
            return None
        return AppError(ErrorCode(self.reason.value), self.message)


# ---------------------------------------------------------------------- COSE


def _cbor(value: Any) -> bytes:
    return cbor2.dumps(value, canonical=True)


def _cbor_load(data: bytes) -> Any:
    """Strict decoding: one data item, no trailing bytes, no duplicate map keys."""
    fp = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(fp, allow_duplicate_keys=False, max_depth=16).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError, EOFError) as exc:
        raise SealError(SealReason.FORMAT, f"not CBOR: {exc}") from exc
    if fp.tell() != len(data):
        raise SealError(SealReason.FORMAT, "trailing bytes after the CBOR item")
    return value


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    """RFC 9052 §4.4 ``Sig_structure`` of a COSE_Sign1 without external AAD."""
    return _cbor(["Signature1", protected, b"", payload])


def _sign1(payload: bytes, *, kid: bytes, private_key: bytes) -> bytes:
    protected = _cbor({HEADER_ALG: ALG_EDDSA, HEADER_KID: kid})
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(_sig_structure(protected, payload))
    return _cbor(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


@dataclass(frozen=True)
class _Sign1:
    protected: bytes
    payload: bytes
    signature: bytes
    kid: bytes


def _parse_sign1(data: bytes) -> _Sign1:
    """The parts of a tagged COSE_Sign1 signed with EdDSA; :class:`SealError`
    (``seal_format``) for anything else."""
    message = _cbor_load(data)
    if not isinstance(message, cbor2.CBORTag) or message.tag != COSE_SIGN1_TAG:
        raise SealError(SealReason.FORMAT, "not a tagged COSE_Sign1")
    parts = message.value
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise SealError(SealReason.FORMAT, "COSE_Sign1 is not a 4-element array")
    protected, unprotected, payload, signature = parts
    if not all(isinstance(x, bytes) for x in (protected, payload, signature)) or not isinstance(unprotected, Mapping):
        raise SealError(SealReason.FORMAT, "COSE_Sign1 element of the wrong type")
    headers = _cbor_load(protected) if protected else {}
    if not isinstance(headers, Mapping):
        raise SealError(SealReason.FORMAT, "protected header is not a map")
    if HEADER_CRIT in headers or HEADER_CRIT in unprotected:
        raise SealError(SealReason.FORMAT, "critical headers are not supported")
    if headers.get(HEADER_ALG) != ALG_EDDSA or HEADER_ALG in unprotected:
        raise SealError(SealReason.FORMAT, "alg must be EdDSA in the protected header")
    kid = headers.get(HEADER_KID, unprotected.get(HEADER_KID))
    if not isinstance(kid, bytes) or not kid:
        raise SealError(SealReason.FORMAT, "no kid")
    if len(signature) != 64:
        raise SealError(SealReason.SIGNATURE, "an Ed25519 signature is 64 bytes")
    return _Sign1(protected, payload, signature, kid)


def _verify(sign1: _Sign1, public_keys: Sequence[bytes]) -> bool:
    signed = _sig_structure(sign1.protected, sign1.payload)
    for raw in public_keys:
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(sign1.signature, signed)
        except (InvalidSignature, ValueError):
            continue
        return True
    return False


# --------------------------------------------------------------- platform keys


def _platform_keys(kid: bytes | None = None) -> list[tuple[bytes, bytes, bool]]:
    """``(kid, raw public key, active)`` of the Ed25519 keys the platform ever used
    (those with key ID ``kid`` only, when given), oldest first."""
    from inspecta.ledger.choices import KeyAlgorithm
    from inspecta.ledger.note import ED25519, Verifier
    from inspecta.ledger.selectors import signing_keys

    rows = signing_keys().filter(algorithm=KeyAlgorithm.ED25519)
    if kid is not None:
        rows = rows.filter(key_hash=kid.hex())
    keys = []
    for key in rows:
        verifier = Verifier.from_key_string(key.verifier_key)
        if verifier.algorithm is ED25519:
            keys.append((bytes.fromhex(key.key_hash), verifier.public_key, key.is_active))
    return keys


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def seal_keys() -> list[dict[str, Any]]:
    """Every platform key that signs seals, oldest first, as JWK-style dicts (RFC 8037
    ``OKP``/``Ed25519``; the fields of a COSE_Key, RFC 9053 §7.2)::

        {"kid": "<8 hex>", "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
         "x": "<base64url public key, no padding>", "active": true}

    Retired keys stay listed (``active`` false): seals they made remain verifiable. The
    active key is created on first use, so the list is never empty.
    """
    from inspecta.ledger.services import signing_key_active

    signing_key_active()
    return [
        {"kid": kid.hex(), "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": _b64url(raw), "active": active}
        for kid, raw, active in _platform_keys()
    ]


# ------------------------------------------------------------ encode / decode


def seal_encode(claims: SealClaims) -> str:
    """The ``SEAL1:`` text of ``claims`` signed with the platform's active Ed25519 key.

    Deterministic for one key (Ed25519 signatures and canonical CBOR are)."""
    from inspecta.ledger.services import signer_for, signing_key_active

    key = signing_key_active()
    signer = signer_for(key)
    cose = _sign1(_cbor(claims.to_cbor_map()), kid=bytes.fromhex(key.key_hash), private_key=signer.private_key)
    return PREFIX + b45encode(cose)


def _check(text: str, keys_for: Callable[[bytes], list[tuple[bytes, bool]]]) -> SealCheck:
    def refused(reason: SealReason, **extra: Any) -> SealCheck:
        return SealCheck(valid=False, reason=reason, message=str(reason.label), **extra)

    if not isinstance(text, str) or not text.startswith(PREFIX):
        return refused(SealReason.PREFIX)
    body = text[len(PREFIX) :]
    if not body or len(text) > MAX_SEAL_LENGTH:
        return refused(SealReason.ENCODING)
    try:
        data = b45decode(body)
    except ValueError:
        return refused(SealReason.ENCODING)
    try:
        sign1 = _parse_sign1(data)
    except SealError as exc:
        return refused(exc.reason)
    claims: SealClaims | None
    try:
        claims = SealClaims.from_cbor_map(_cbor_load(sign1.payload))
    except ValueError:
        claims = None
    kid = sign1.kid.hex()
    candidates = keys_for(sign1.kid)
    if not candidates:
        return refused(SealReason.UNKNOWN_KEY, claims=claims, kid=kid)
    matched = [active for raw, active in candidates if _verify(sign1, [raw])]
    if not matched:
        return refused(SealReason.SIGNATURE, claims=claims, kid=kid)
    if claims is None:
        return refused(SealReason.FORMAT, kid=kid, key_active=matched[0])
    return SealCheck(
        valid=True, reason=None, message=str(_("电子封志验证通过。")), claims=claims, kid=kid, key_active=matched[0]
    )


def seal_decode(text: str) -> SealCheck:
    """Verify a ``SEAL1:`` text with the platform keys, retired ones included.

    Checked in this order, the first failure being the reason: the prefix
    (``seal_prefix``), base45 (``seal_encoding``), the COSE_Sign1 structure with EdDSA
    and a kid (``seal_format``), a platform key with that kid (``seal_unknown_key``),
    the signature (``seal_signature``), and last the payload (``seal_format``). A
    changed byte anywhere in the signed part therefore reads ``seal_signature``.
    """

    def keys_for(kid: bytes) -> list[tuple[bytes, bool]]:
        return [(raw, active) for _, raw, active in _platform_keys(kid)]

    return _check(text.strip() if isinstance(text, str) else text, keys_for)
