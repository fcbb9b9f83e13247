"""Encryption at rest of the checkpoint signing keys (T/CECS 8.x).

The Ed25519 seed, and the SM2 private scalar of the optional second signature line
(GB/T 39786), are sealed with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived
by HKDF-SHA256 from ``INSPECTA_LOG_KEY_SECRET`` (default: ``SECRET_KEY``). Losing that
secret makes the stored keys useless (a new key is then generated and the old public
keys stay in the history); leaking the database alone does not leak the keys.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["KeyUnavailable", "open_private_key", "seal_private_key"]

_INFO = b"inspecta ledger signing key v1"


class KeyUnavailable(Exception):
    """The stored private key cannot be decrypted with the configured secret."""


def _fernet() -> Fernet:
    secret = settings.INSPECTA_LOG_KEY_SECRET or settings.SECRET_KEY
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"inspecta-ledger", info=_INFO).derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def seal_private_key(private_key: bytes) -> bytes:
    """Encrypt a private key for storage."""
    return _fernet().encrypt(private_key)


def open_private_key(sealed: bytes) -> bytes:
    """Decrypt a stored private key; :class:`KeyUnavailable` if the secret changed."""
    try:
        return _fernet().decrypt(bytes(sealed))
    except InvalidToken:
        raise KeyUnavailable("the log signing key cannot be decrypted with INSPECTA_LOG_KEY_SECRET") from None
