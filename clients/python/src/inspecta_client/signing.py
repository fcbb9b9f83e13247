"""RFC 9421 request signing as the Inspecta exchange API requires it (CONTRACT §2).

The signature covers ``"@method" "@target-uri"`` and, with a body,
``"content-digest"`` (RFC 9530, ``sha-256``); parameters ``created``, ``expires``,
``nonce``, ``keyid`` and ``alg``. The HMAC key is the base64url-decoded secret issued
by the platform.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def content_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def decode_secret(secret: str) -> bytes:
    text = secret.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


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

    def signature_base(self, method: str, url: str, digest: str | None, params: str) -> bytes:
        lines = [f'"@method": {method.upper()}', f'"@target-uri": {url}']
        if digest is not None:
            lines.append(f'"content-digest": {digest}')
        lines.append(f'"@signature-params": {params}')
        return "\n".join(lines).encode("ascii")

    def headers(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        """The headers to add: ``Signature-Input``, ``Signature`` and, with a body,
        ``Content-Digest``. ``url`` must be exactly the URL sent (scheme, host, path, query)."""

        created = int(time.time())
        digest = content_digest(body) if body else None
        components = '"@method" "@target-uri"' + (' "content-digest"' if digest else "")
        params = (
            f"({components});created={created};expires={created + self.validity}"
            f';nonce="{secrets.token_urlsafe(18)}";keyid="{self.key_id}";alg="{self.algorithm}"'
        )
        base = self.signature_base(method, url, digest, params)
        if self.private_key is not None:
            signature = self.private_key.sign(base)
        else:
            assert self.hmac_key is not None
            signature = hmac.new(self.hmac_key, base, hashlib.sha256).digest()
        out = {
            "Signature-Input": f"sig1={params}",
            "Signature": f"sig1=:{base64.b64encode(signature).decode('ascii')}:",
        }
        if digest:
            out["Content-Digest"] = digest
        return out
