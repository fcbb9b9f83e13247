"""RFC 9421 HTTP Message Signatures and RFC 9530 Content-Digest (T/CECS 6.0.5; CONTRACT §2).

The library ``http-message-signatures`` signs the platform's callbacks, computes and
checks the digest and runs the signature algorithms; the signature base of a request
being verified is built here (the hot path of every signed call: see "The signature
base" below). What is ours is the profile: which components, parameters, times and
algorithms are accepted, and the stable error code of each refusal.

The policy of CONTRACT §2: covered components must include ``"@method"`` and
``"@target-uri"``, and ``"content-digest"`` when the request has a body (whose
``sha-256`` must match); parameters ``created``, ``expires``, ``nonce`` and ``keyid``
are all required; ``created`` at most 60 s ahead, ``expires`` not past, window at most
300 s. Each refusal raises :class:`SignatureError` with its own stable code.
"""

from __future__ import annotations

import base64
import datetime
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import http_sfv
from cryptography.exceptions import InvalidSignature as CryptographyInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPSignatureAlgorithm,
    InvalidSignature,
    MappingKeyResolver,
)
from http_message_signatures.algorithms import ED25519, HMAC_SHA256

from inspecta.core.errors import ErrorCode

from .crypto import load_public_key

__all__ = [
    "REQUIRED_PARAMS",
    "ParsedSignature",
    "SignatureError",
    "content_digest",
    "parse_signature",
    "request_target_uri",
    "sign_message",
    "signature_base",
    "verify_signature",
]

REQUIRED_PARAMS = ("created", "expires", "nonce", "keyid")
DERIVED = {"@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query"}
ALGORITHMS: dict[str, type[HTTPSignatureAlgorithm]] = {"hmac-sha256": HMAC_SHA256, "ed25519": ED25519}

# Stable error codes and their messages (docs/integration/errors.md).
MESSAGES: dict[ErrorCode, Any] = {
    ErrorCode.MISSING_SIGNATURE: _("请求未签名：缺少 Signature-Input 或 Signature 头。"),
    ErrorCode.MALFORMED_SIGNATURE: _("签名头格式不正确。"),
    ErrorCode.MISSING_COMPONENT: _("签名未覆盖必需的组件或缺少必需的参数。"),
    ErrorCode.UNKNOWN_KEY: _("密钥标识不存在。"),
    ErrorCode.REVOKED_KEY: _("密钥已被吊销。"),
    ErrorCode.KEY_EXPIRED: _("密钥已轮换失效。"),
    ErrorCode.SIGNATURE_EXPIRED: _("签名已过期。"),
    ErrorCode.CREATED_IN_FUTURE: _("签名创建时间超前服务器时间过多。"),
    ErrorCode.WINDOW_TOO_LONG: _("签名有效期超过上限。"),
    ErrorCode.DIGEST_MISMATCH: _("请求体与 Content-Digest 不一致。"),
    ErrorCode.BAD_SIGNATURE: _("签名校验失败。"),
    ErrorCode.NONCE_REPLAYED: _("该随机数已使用过（疑似重放）。"),
    ErrorCode.CLIENT_DISABLED: _("接入方已停用。"),
}


class SignatureError(Exception):
    """A refused signature; ``code`` is the stable error code of the 401 answer."""

    def __init__(self, code: ErrorCode, detail: str = "", **details: Any) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = ErrorCode(code)
        self.message = str(MESSAGES.get(self.code, self.code))
        self.details = {k: v for k, v in {"reason": detail, **details}.items() if v not in ("", None)}


@dataclass
class ParsedSignature:
    label: str
    components: list[Any]
    params: dict[str, Any]
    serialized_params: str
    signature: bytes
    keyid: str = ""
    nonce: str = ""
    created: int = 0
    expires: int = 0
    alg: str = ""
    names: list[str] = field(default_factory=list)


def _header(request: HttpRequest, name: str) -> str | None:
    return request.headers.get(name)


def parse_signature(request: HttpRequest) -> ParsedSignature:
    """The first signature of the request, parsed and checked for required parameters."""

    raw_input = _header(request, "Signature-Input")
    raw_signature = _header(request, "Signature")
    if not raw_input or not raw_signature:
        raise SignatureError(ErrorCode.MISSING_SIGNATURE)
    inputs = http_sfv.Dictionary()
    signatures = http_sfv.Dictionary()
    try:
        inputs.parse(raw_input.encode("latin-1"))
        signatures.parse(raw_signature.encode("latin-1"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "structured field cannot be parsed") from exc
    if not inputs:
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "empty Signature-Input")
    label = next(iter(inputs))
    member = inputs[label]
    if not isinstance(member, http_sfv.InnerList):
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "Signature-Input member is not an inner list", label=label)
    if label not in signatures:
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "no Signature for the label", label=label)
    sig_item = signatures[label]
    if not isinstance(sig_item, http_sfv.Item) or not isinstance(sig_item.value, bytes):
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "Signature member is not a byte sequence", label=label)
    params = dict(member.params)
    for name in REQUIRED_PARAMS:
        if name not in params:
            raise SignatureError(ErrorCode.MISSING_COMPONENT, f"parameter {name} is required", parameter=name)
    created, expires = params["created"], params["expires"]
    if type(created) is not int or type(expires) is not int:
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "created and expires must be integers")
    keyid, nonce = params["keyid"], params["nonce"]
    if not isinstance(keyid, str) or not isinstance(nonce, str) or not keyid or not nonce:
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "keyid and nonce must be non-empty strings")
    if len(nonce) > 128 or len(keyid) > 64:
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "keyid or nonce too long")
    alg = params.get("alg", "")
    if not isinstance(alg, str):
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "alg must be a string")
    names = []
    for item in member:
        if not isinstance(item.value, str):
            raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "component identifiers are strings")
        if item.params:
            raise SignatureError(
                ErrorCode.MALFORMED_SIGNATURE, "component parameters are not supported", component=str(item)
            )
        if item.value in names:
            raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "component repeated", component=item.value)
        names.append(item.value)
    return ParsedSignature(
        label=label,
        components=list(member),
        params=params,
        serialized_params=str(member),
        signature=sig_item.value,
        keyid=keyid,
        nonce=nonce,
        created=created,
        expires=expires,
        alg=alg,
        names=names,
    )


def request_target_uri(request: HttpRequest) -> str:
    """The request's target URI as the client addressed it: scheme, Host header and the
    request-target as sent (the raw one when the server exposes it)."""

    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI") or ""
    path = raw if raw.startswith("/") else request.get_full_path()
    return f"{request.scheme}://{request.get_host()}{path}"


# ---------------------------------------------------------------- the signature base
#
# Verification builds the RFC 9421 §2.5 signature base here rather than through
# ``HTTPMessageVerifier.verify``: the library parses both signature fields again and
# serialises every structured field character by character, which made parse, digest,
# base and HMAC take twice as long or more (about 260 µs against 570-730 µs per call,
# measured side by side), and cut the in-process signed ping of
# benchmarks/bench_exchange.py from 192 to 128 requests/s. Signing (callbacks, the SDK)
# is not on that path and goes through the library. ``test_base_is_the_librarys`` in
# ``tests/test_signatures.py`` proves that both build the same base for every component
# we accept.


def _component_value(request: HttpRequest, name: str, target: str) -> str:
    if name == "@method":
        return request.method or ""
    if name == "@target-uri":
        return target
    parts = urlsplit(target)
    if name == "@authority":
        host = (parts.hostname or "").lower()
        if ":" in host:  # an IPv6 address keeps its brackets
            host = f"[{host}]"
        port = parts.port
        default = 443 if parts.scheme == "https" else 80
        return f"{host}:{port}" if port and port != default else host
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return f"?{parts.query}"
    if name == "@request-target":
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if name.startswith("@"):
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "unsupported derived component", component=name)
    if name != name.lower():
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "field names must be lowercase", component=name)
    value = request.headers.get(name)
    if value is None:
        raise SignatureError(ErrorCode.MISSING_COMPONENT, "covered header is absent", component=name)
    return value.strip()


def signature_base(request: HttpRequest, parsed: ParsedSignature) -> bytes:
    """The RFC 9421 §2.5 signature base of ``parsed`` over ``request``."""

    target = request_target_uri(request)
    lines = []
    for item in parsed.components:
        value = _component_value(request, item.value, target)
        if "\n" in value or "\r" in value:
            raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "component value contains a newline")
        lines.append(f"{item}: {value}")
    lines.append(f'"@signature-params": {parsed.serialized_params}')
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError as exc:
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "signature base is not ASCII") from exc


def verify_signature(
    request: HttpRequest, parsed: ParsedSignature, *, algorithm: str, key: bytes | Ed25519PublicKey
) -> None:
    """Check the signature of ``parsed`` over ``request`` with ``key`` (the HMAC secret or
    the Ed25519 public key), by the library's algorithm; ``bad_signature`` if it does not
    match."""

    base = signature_base(request, parsed)
    try:
        ALGORITHMS[algorithm](public_key=key).verify(parsed.signature, base)
    except (CryptographyInvalidSignature, HTTPMessageSignaturesException, ValueError):
        raise SignatureError(ErrorCode.BAD_SIGNATURE) from None


def content_digest(body: bytes) -> str:
    """RFC 9530 ``Content-Digest`` value with ``sha-256``."""
    return ContentDigest.create(body)


def check_content_digest(request: HttpRequest, body: bytes, parsed: ParsedSignature) -> None:
    """A request with a body must cover ``content-digest``, whose ``sha-256`` member must
    match the body (other members are not read)."""

    if not body:
        return
    if "content-digest" not in parsed.names:
        raise SignatureError(ErrorCode.MISSING_COMPONENT, "a request with a body must cover content-digest")
    raw = request.headers.get("Content-Digest", "")
    digests = http_sfv.Dictionary()
    try:
        digests.parse(raw.encode("latin-1"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureError(ErrorCode.DIGEST_MISMATCH, "Content-Digest cannot be parsed") from exc
    member = digests.get("sha-256") if "sha-256" in digests else None
    if not isinstance(member, http_sfv.Item) or not isinstance(member.value, bytes):
        raise SignatureError(ErrorCode.MISSING_COMPONENT, "Content-Digest must carry sha-256")
    try:
        # The member's byte sequence as its structured-field text (RFC 8941 §3.3.5),
        # written directly: serialising it through http_sfv again doubles the cost.
        ContentDigest.verify(b":" + base64.b64encode(member.value) + b":", body, key="sha-256")
    except InvalidSignature:
        raise SignatureError(ErrorCode.DIGEST_MISMATCH) from None


def check_policy(parsed: ParsedSignature, *, now: float, max_skew: int, max_window: int) -> None:
    if "@method" not in parsed.names or "@target-uri" not in parsed.names:
        raise SignatureError(ErrorCode.MISSING_COMPONENT, 'must cover "@method" and "@target-uri"')
    if parsed.expires <= parsed.created:
        raise SignatureError(ErrorCode.MALFORMED_SIGNATURE, "expires must be after created")
    if parsed.expires < now:
        raise SignatureError(ErrorCode.SIGNATURE_EXPIRED, expires=parsed.expires, now=int(now))
    if parsed.created > now + max_skew:
        raise SignatureError(ErrorCode.CREATED_IN_FUTURE, created=parsed.created, now=int(now))
    if parsed.expires - parsed.created > max_window:
        raise SignatureError(ErrorCode.WINDOW_TOO_LONG, window=parsed.expires - parsed.created, limit=max_window)


@lru_cache(maxsize=1024)
def public_key(text: str) -> Ed25519PublicKey:
    """A registered Ed25519 public key, loaded once."""
    return load_public_key(text)


# ---------------------------------------------------------------- signing (callbacks)


@dataclass
class _Message:
    """What the library reads of a message: method, URL and header fields."""

    method: str
    url: str
    headers: dict[str, str]


def sign_message(
    *,
    method: str,
    url: str,
    body: bytes,
    key_id: str,
    private_key: Ed25519PrivateKey | None = None,
    hmac_key: bytes | None = None,
    validity: int = 300,
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Headers that sign a request per CONTRACT §2 (used for the platform's callbacks),
    signed by the library: ``headers`` with ``Content-Digest`` (when there is a body),
    ``Signature-Input`` and ``Signature`` added."""

    if private_key is not None:
        algorithm: type[HTTPSignatureAlgorithm] = ED25519
        key: Ed25519PrivateKey | bytes = private_key
    elif hmac_key is not None:
        algorithm, key = HMAC_SHA256, hmac_key
    else:
        raise ValueError("a private key or an HMAC key is needed")
    message = _Message(method.upper(), url, dict(headers or {}))
    created = datetime.datetime.now(datetime.UTC)
    HTTPMessageSigner(
        signature_algorithm=algorithm, key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key})
    ).sign(
        message,
        key_id=key_id,
        created=created,
        expires=created + datetime.timedelta(seconds=validity),
        nonce=secrets.token_urlsafe(16),
        label="sig1",
        covered_component_ids=("@method", "@target-uri"),
        body=body or None,
    )
    return message.headers
