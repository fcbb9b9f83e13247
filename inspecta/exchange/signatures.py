"""RFC 9421 HTTP Message Signatures and RFC 9530 Content-Digest, our own implementation
(T/CECS 6.0.5; CONTRACT §2). ``http_sfv`` parses the structured fields; everything else
(component values, the signature base, the algorithms, the policy) is here.

The policy of CONTRACT §2: covered components must include ``"@method"`` and
``"@target-uri"``, and ``"content-digest"`` when the request has a body (whose
``sha-256`` must match); parameters ``created``, ``expires``, ``nonce`` and ``keyid``
are all required; ``created`` at most 60 s ahead, ``expires`` not past, window at most
300 s. Each refusal raises :class:`SignatureError` with its own stable code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import http_sfv
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

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
]

REQUIRED_PARAMS = ("created", "expires", "nonce", "keyid")
DERIVED = {"@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query"}

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


def _component_value(request: HttpRequest, name: str, target: str) -> str:
    if name == "@method":
        return request.method or ""
    if name == "@target-uri":
        return target
    parts = urlsplit(target)
    if name == "@authority":
        host = (parts.hostname or "").lower()
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


def content_digest(body: bytes) -> str:
    """RFC 9530 ``Content-Digest`` value with ``sha-256``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def check_content_digest(request: HttpRequest, body: bytes, parsed: ParsedSignature) -> None:
    """A request with a body must cover ``content-digest`` and the digest must match."""

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
    if not hmac.compare_digest(member.value, hashlib.sha256(body).digest()):
        raise SignatureError(ErrorCode.DIGEST_MISMATCH)


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
def _public_key(text: str) -> Ed25519PublicKey:
    return load_public_key(text)


def verify_hmac(key: bytes, base: bytes, signature: bytes) -> bool:
    return hmac.compare_digest(hmac.new(key, base, hashlib.sha256).digest(), signature)


def verify_ed25519(public_key_text: str, base: bytes, signature: bytes) -> bool:
    try:
        _public_key(public_key_text).verify(signature, base)
    except (InvalidSignature, ValueError):
        return False
    return True


# ---------------------------------------------------------------- signing (callbacks)


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
    """Headers that sign a request per CONTRACT §2 (used for the platform's callbacks).

    Returns ``Content-Digest`` (when there is a body), ``Signature-Input``, ``Signature``
    to add to ``headers``.
    """

    created = int(time.time())
    out: dict[str, str] = dict(headers or {})
    names = ['"@method"', '"@target-uri"']
    lines = [f'"@method": {method.upper()}', f'"@target-uri": {url}']
    if body:
        out["Content-Digest"] = content_digest(body)
        names.append('"content-digest"')
        lines.append(f'"content-digest": {out["Content-Digest"]}')
    alg = "ed25519" if private_key is not None else "hmac-sha256"
    params = (
        f"({' '.join(names)});created={created};expires={created + validity}"
        f';nonce="{secrets.token_urlsafe(16)}";keyid="{key_id}";alg="{alg}"'
    )
    lines.append(f'"@signature-params": {params}')
    base = "\n".join(lines).encode("ascii")
    if private_key is not None:
        signature = private_key.sign(base)
    elif hmac_key is not None:
        signature = hmac.new(hmac_key, base, hashlib.sha256).digest()
    else:
        raise ValueError("a private key or an HMAC key is needed")
    out["Signature-Input"] = f"sig1={params}"
    out["Signature"] = f"sig1=:{base64.b64encode(signature).decode('ascii')}:"
    return out
