"""Exchange scenario builders for tests of any app: clients approved through the real services, and requests signed by the
INDEPENDENT peer ``http-message-signatures`` (CONTRACT §2), never by our own code."""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, HTTPSignatureKeyResolver
from http_message_signatures.algorithms import ED25519, HMAC_SHA256

from inspecta.accounts.choices import OrganisationKind, Role
from inspecta.core.testing.factories import OrganisationFactory, UserFactory
from inspecta.exchange import services
from inspecta.exchange.crypto import decode_secret

ALL_SCOPES = ["files:upload", "records:submit", "registry:read"]


@dataclass
class Credentials:
    client: Any
    key_id: str
    algorithm: str
    key: Any  # HMAC key bytes or Ed25519PrivateKey
    secret_text: str | None = None


class _Resolver(HTTPSignatureKeyResolver):
    def __init__(self, key: Any) -> None:
        self.key = key

    def resolve_private_key(self, key_id: str) -> Any:
        return self.key

    def resolve_public_key(self, key_id: str) -> Any:
        return self.key


def agency_with_admin(parent_region: str = "440100", name: str = "广州检测中心", username: str = "agency_admin"):
    agency = OrganisationFactory(name=name, kind=OrganisationKind.AGENCY, level="", region_code=parent_region)
    admin = UserFactory(username=username, organisation=agency, roles=[Role.AGENCY_ADMIN])
    return agency, admin


def approved_client(
    *, applicant, reviewer, algorithm: str = "hmac-sha256", scopes=None, name: str = "LIMS", callback_url: str = ""
) -> Credentials:
    application = services.application_submit(
        actor=applicant,
        system_name=name,
        auth_method=algorithm,
        contact_name="张三",
        contact_phone="13800000000",
        scopes=scopes or ALL_SCOPES,
        callback_url=callback_url,
    )
    client, issued = services.application_approve(actor=reviewer, application=application, reason="同意")
    if algorithm == "hmac-sha256":
        # the secret is shown to the applying organisation's admin, not to the reviewer
        assert issued.secret is None
        secret = services.key_secret_reveal(actor=applicant, key=issued.key)
        return Credentials(client, issued.key.key_id, algorithm, decode_secret(secret), secret)
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    services.key_register_public(actor=applicant, key=issued.key, public_key=pem)
    return Credentials(client, issued.key.key_id, algorithm, private)


def sign_prepared(
    prepared: requests.PreparedRequest,
    creds: Credentials,
    *,
    created: datetime.datetime | None = None,
    expires: datetime.datetime | None = None,
    window: int = 120,
    nonce: str | None = None,
    key_id: str | None = None,
    key: Any = None,
    components: tuple[str, ...] = ("@method", "@target-uri"),
) -> requests.PreparedRequest:
    created = created or datetime.datetime.now(datetime.UTC)
    expires = expires or created + datetime.timedelta(seconds=window)
    algorithm = HMAC_SHA256 if creds.algorithm == "hmac-sha256" else ED25519
    signer = HTTPMessageSigner(signature_algorithm=algorithm, key_resolver=_Resolver(key or creds.key))
    body = prepared.body
    if isinstance(body, str):
        body = body.encode()
    signer.sign(
        prepared,
        key_id=key_id or creds.key_id,
        created=created,
        expires=expires,
        nonce=nonce or secrets.token_urlsafe(16),
        covered_component_ids=components,
        body=body if body else None,
    )
    return prepared


def prepare(method: str, path: str, body: bytes | None = None, base: str = "http://testserver", **headers: str):
    request = requests.Request(method, base + path, data=body, headers=headers)
    return request.prepare()


def send(client: Client, prepared: requests.PreparedRequest):
    """Replay a prepared (signed) request through Django's test client, byte for byte."""

    path = prepared.path_url
    headers = {k: v for k, v in prepared.headers.items() if k.lower() not in ("content-length", "host")}
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    content_type = headers.pop("Content-Type", "application/json")
    return client.generic(prepared.method or "GET", path, data=body, content_type=content_type, headers=headers)


def signed_call(client: Client, creds: Credentials, method: str, path: str, body: bytes | None = None, **kw: Any):
    prepared = prepare(method, path, body, **({"Content-Type": "application/json"} if body else {}))
    sign_prepared(prepared, creds, **kw)
    return send(client, prepared)


def _sqlite() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


# pytest-django's live server shares the test thread's single connection to the in-memory
# SQLite test database between all its request threads, so truly concurrent requests
# would interleave on one connection; concurrency tests need PostgreSQL (CONTRACT §3,
# T/CECS 6.0.3). Production SQLite (a WAL file, one connection per thread) is not affected.
needs_concurrent_db = pytest.mark.skipif(
    _sqlite(), reason="concurrent requests need separate database connections (run on PostgreSQL)"
)

# A second server process can reach the test database only when it is a server
# (PostgreSQL); the SQLite test database lives in this process's memory.
needs_shared_db = pytest.mark.skipif(
    _sqlite(), reason="a separate server process needs a shared test database (run on PostgreSQL)"
)


class CallbackReceiver:
    """A client's callback endpoint on a local port: records every request it gets and
    answers 503 to the first ``fail`` of them, 204 after. ``close()`` when done."""

    def __init__(self, fail: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = 503 if outer.fail > 0 else 204
                outer.fail -= 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/inspecta/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _PlatformKeys(HTTPSignatureKeyResolver):
    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys

    def resolve_public_key(self, key_id: str) -> Any:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.keys[key_id]))


def verified_callback(client: Client, receiver: CallbackReceiver, delivered: dict[str, Any]) -> dict[str, Any]:
    """The document of a delivered callback, after the INDEPENDENT peer verified its
    RFC 9421 signature with the platform key published at
    ``GET /api/v1/exchange/platform-keys`` (raises if it does not verify)."""

    published = client.get("/api/v1/exchange/platform-keys").json()["keys"]
    keys = {k["keyid"]: k["public_key"] for k in published}
    message = requests.Request("POST", receiver.url, data=delivered["body"], headers=delivered["headers"]).prepare()
    verifier = HTTPMessageVerifier(signature_algorithm=ED25519, key_resolver=_PlatformKeys(keys))
    results = verifier.verify(message, require_components=("@method", "@target-uri"), body=delivered["body"])
    assert results and results[0].body == delivered["body"]
    return json.loads(delivered["body"])
