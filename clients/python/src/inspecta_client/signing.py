"""RFC 9421 request signing as the Inspecta exchange API requires it (CONTRACT §2).

The signature covers ``"@method" "@target-uri"`` and, with a body,
``"content-digest"`` (RFC 9530, ``sha-256``); parameters ``created``, ``expires``,
``nonce``, ``keyid`` and ``alg``. The HMAC key is the base64url-decoded secret issued
by the platform. The signature base, the signature and the digest are made by the
``http-message-signatures`` library.
"""

from __future__ import annotations

import base64
import datetime
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import ContentDigest, HTTPMessageSigner, MappingKeyResolver
from http_message_signatures.algorithms import ED25519, HMAC_SHA256


def content_digest(body: bytes) -> str:
    """RFC 9530 ``Content-Digest`` value with ``sha-256``."""
    return ContentDigest.create(body)


def decode_secret(secret: str) -> bytes:
    text = secret.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


@dataclass
class _Message:
    method: str
    url: str
    headers: dict[str, str]


class Signer:
    """Signs requests with one key: ``Signer(key_id, secret=...)`` for HMAC,
    ``Signer(key_id, private_key=...)`` for Ed25519."""

    def __init__(
        self,
        key_id: str,
        *,
        secret: str | bytes | None = None,
        private_key: Ed25519PrivateKey | None = None,
        validity: int = 120,
    ) -> None:
        if (secret is None) == (private_key is None):
            raise ValueError("give exactly one of secret and private_key")
        self.key_id = key_id
        self.hmac_key = decode_secret(secret) if isinstance(secret, str) else secret
        self.private_key = private_key
        self.validity = validity
        self.algorithm = "ed25519" if private_key is not None else "hmac-sha256"
        key = private_key if private_key is not None else self.hmac_key
        self._signer = HTTPMessageSigner(
            signature_algorithm=ED25519 if private_key is not None else HMAC_SHA256,
            key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
        )

    def headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        """The headers to add: ``Signature-Input``, ``Signature`` and, with a body,
        ``Content-Digest``. ``url`` must be exactly the URL sent (scheme, host, path, query)."""

        message = _Message(method.upper(), url, {})
        created = datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 - the SDK supports Python 3.10
        self._signer.sign(
            message,
            key_id=self.key_id,
            created=created,
            expires=created + datetime.timedelta(seconds=self.validity),
            nonce=secrets.token_urlsafe(18),
            label="sig1",
            covered_component_ids=("@method", "@target-uri"),
            body=body or None,
        )
        return message.headers
