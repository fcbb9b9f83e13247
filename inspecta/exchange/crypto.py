"""Secrets at rest and the platform's own signing key (T/CECS 6.0.5).

HMAC client secrets and the platform's Ed25519 callback key are sealed with Fernet under
a key derived by HKDF-SHA256 from ``INSPECTA_EXCHANGE_KEY_SECRET`` (default:
``SECRET_KEY``): a database dump alone reveals neither. The secret issued to a client is
32 random bytes shown once as unpadded base64url; the HMAC key is those 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = [
    "SecretUnavailable",
    "decode_secret",
    "load_public_key",
    "new_secret",
    "open_secret",
    "seal_secret",
    "secret_text",
]

_INFO = b"inspecta exchange secrets v1"


class SecretUnavailable(Exception):
    """A sealed secret cannot be opened with the configured key secret."""


@lru_cache(maxsize=4)
def _fernet_for(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"inspecta-exchange", info=_INFO).derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> Fernet:
    return _fernet_for(settings.INSPECTA_EXCHANGE_KEY_SECRET or settings.SECRET_KEY)


def seal_secret(raw: bytes) -> bytes:
    return _fernet().encrypt(raw)


@lru_cache(maxsize=1024)
def _open_cached(sealed: bytes, secret: str) -> bytes:
    try:
        return _fernet_for(secret).decrypt(sealed)
    except InvalidToken:
        raise SecretUnavailable("sealed secret cannot be opened with INSPECTA_EXCHANGE_KEY_SECRET") from None


def open_secret(sealed: bytes | memoryview) -> bytes:
    """Decrypt a sealed secret (memoised: Fernet's HMAC check costs on every request)."""
    return _open_cached(bytes(sealed), settings.INSPECTA_EXCHANGE_KEY_SECRET or settings.SECRET_KEY)


def open_sealed(sealed: bytes | memoryview) -> bytes:
    """Decrypt sealed data without memoising it (large or rarely read values)."""
    try:
        return _fernet().decrypt(bytes(sealed))
    except InvalidToken:
        raise SecretUnavailable("sealed data cannot be opened with INSPECTA_EXCHANGE_KEY_SECRET") from None


def new_secret() -> tuple[str, bytes]:
    """A fresh HMAC secret: (text shown to the client once, raw key bytes)."""
    raw = secrets.token_bytes(32)
    return secret_text(raw), raw


def secret_text(raw: bytes) -> str:
    """The HMAC key bytes as shown to the client: unpadded base64url."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_secret(text: str) -> bytes:
    """The HMAC key bytes of a secret as shown to the client."""
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    return base64.urlsafe_b64decode(padded)


def load_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key given as PEM (SubjectPublicKeyInfo) or as the base64 of the
    32 raw bytes; ``ValueError`` for anything else."""

    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("public key is neither PEM nor base64") from exc
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def new_platform_key() -> tuple[bytes, bytes]:
    """(sealed private key, raw public key) of a fresh Ed25519 key."""
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return seal_secret(raw_private), raw_public


def open_platform_key(sealed: bytes | memoryview) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(open_secret(sealed))
