"""CONTRACT §2: requests signed by the independent ``http-message-signatures`` package are
accepted; every tampering is refused with its own 401 code."""

from __future__ import annotations

import datetime
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from inspecta.exchange import services
from inspecta.exchange.models import CallLog, ClientKey
from inspecta.exchange.testing import prepare, send, sign_prepared, signed_call

PING = "/api/v1/exchange/ping"
BODY = json.dumps({"hello": "世界", "n": 1}, ensure_ascii=False).encode()


def code(response) -> str:
    return response.json()["error"]["code"]


@pytest.mark.parametrize("which", ["hmac", "ed"])
def test_independent_signer_is_accepted(client, which, hmac_creds, ed_creds):
    creds = hmac_creds if which == "hmac" else ed_creds
    response = signed_call(client, creds, "POST", PING + "?x=1&y=%E4%B8%AD", BODY)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["echo"] == {"hello": "世界", "n": 1}
    assert data["key_id"] == creds.key_id
    assert data["client_id"] == creds.client.pk
    assert data["query"] == {"x": "1", "y": "中"}
    get = signed_call(client, creds, "GET", PING)
    assert get.status_code == 200, get.content
    assert get.json()["echo"] is None


def test_library_default_components_are_accepted(client, hmac_creds):
    response = signed_call(client, hmac_creds, "POST", PING, BODY, components=("@method", "@authority", "@target-uri"))
    assert response.status_code == 200, response.content


def _tampered(client, creds, mutate):
    prepared = prepare("POST", PING + "?a=1", BODY, **{"Content-Type": "application/json"})
    sign_prepared(prepared, creds)
    mutate(prepared)
    return send(client, prepared)


@pytest.mark.parametrize(
    ("name", "mutate", "expected"),
    [
        ("method", lambda p: setattr(p, "method", "GET"), "bad_signature"),
        ("path", lambda p: setattr(p, "url", p.url.replace("/ping", "/upload-tokens")), "bad_signature"),
        ("query", lambda p: setattr(p, "url", p.url.replace("a=1", "a=2")), "bad_signature"),
        ("body", lambda p: setattr(p, "body", BODY.replace(b"1", b"2")), "digest_mismatch"),
        (
            "digest header and body",
            lambda p: (
                setattr(p, "body", b"{}"),
                p.headers.__setitem__("Content-Digest", "sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:"),
            ),
            "bad_signature",
        ),
        ("signature bytes", lambda p: p.headers.__setitem__("Signature", "pyhms=:AAAA:"), "bad_signature"),
        ("garbage", lambda p: p.headers.__setitem__("Signature-Input", "pyhms=(("), "malformed_signature"),
    ],
)
def test_tampering_is_refused(client, hmac_creds, ed_creds, name, mutate, expected):
    for creds in (hmac_creds, ed_creds):
        response = _tampered(client, creds, mutate)
        assert response.status_code == 401, (name, response.content)
        assert code(response) == expected, (name, response.json())


def test_path_tamper_on_same_route(client, hmac_creds):
    """Change of the path to another valid route (the signed target no longer matches)."""
    prepared = prepare("GET", "/api/v1/exchange/ping")
    sign_prepared(prepared, hmac_creds)
    prepared.url = "http://testserver/api/v1/exchange/receipts/00000000-0000-0000-0000-000000000000"
    assert code(send(client, prepared)) == "bad_signature"


def test_time_limits(client, hmac_creds):
    now = datetime.datetime.now(datetime.UTC)
    expired = signed_call(
        client, hmac_creds, "GET", PING, created=now - timedelta(seconds=200), expires=now - timedelta(seconds=5)
    )
    assert (expired.status_code, code(expired)) == (401, "signature_expired")
    future = signed_call(client, hmac_creds, "GET", PING, created=now + timedelta(seconds=90), window=100)
    assert (future.status_code, code(future)) == (401, "created_in_future")
    slightly_ahead = signed_call(client, hmac_creds, "GET", PING, created=now + timedelta(seconds=30), window=100)
    assert slightly_ahead.status_code == 200
    long = signed_call(client, hmac_creds, "GET", PING, created=now, window=301)
    assert (long.status_code, code(long)) == (401, "window_too_long")
    exactly = signed_call(client, hmac_creds, "GET", PING, created=now, window=300)
    assert exactly.status_code == 200


def test_replayed_nonce_is_refused(client, hmac_creds):
    prepared = prepare("POST", PING, BODY, **{"Content-Type": "application/json"})
    sign_prepared(prepared, hmac_creds)
    assert send(client, prepared).status_code == 200
    again = send(client, prepared)
    assert (again.status_code, code(again)) == (401, "nonce_replayed")
    # Same nonce with a fresh signature is a replay too.
    third = signed_call(client, hmac_creds, "GET", PING, nonce="fixed-nonce-123456")
    assert third.status_code == 200
    fourth = signed_call(client, hmac_creds, "GET", PING, nonce="fixed-nonce-123456")
    assert code(fourth) == "nonce_replayed"


def test_nonce_store_in_cache(client, hmac_creds, settings):
    settings.INSPECTA_EXCHANGE_NONCE_STORE = "cache"
    prepared = prepare("GET", PING)
    sign_prepared(prepared, hmac_creds)
    assert send(client, prepared).status_code == 200
    assert code(send(client, prepared)) == "nonce_replayed"


def test_unknown_revoked_and_rotated_out_keys(client, tree, agency, hmac_creds, ed_creds):
    unknown = signed_call(client, hmac_creds, "GET", PING, key_id="ik_doesnotexist")
    assert (unknown.status_code, code(unknown)) == (401, "unknown_key")

    # Rotation: old and new both valid during the overlap, the old one refused after it.
    issued = services.key_rotate(actor=agency["admin"], client=hmac_creds.client, overlap=timedelta(hours=1))
    from inspecta.exchange.crypto import decode_secret

    assert issued.secret
    new_key = decode_secret(issued.secret)
    assert signed_call(client, hmac_creds, "GET", PING).status_code == 200
    assert signed_call(client, hmac_creds, "GET", PING, key_id=issued.key.key_id, key=new_key).status_code == 200
    ClientKey.objects.filter(key_id=hmac_creds.key_id).update(not_after=timezone.now() - timedelta(seconds=1))
    rotated = signed_call(client, hmac_creds, "GET", PING)
    assert (rotated.status_code, code(rotated)) == (401, "key_expired")
    assert signed_call(client, hmac_creds, "GET", PING, key_id=issued.key.key_id, key=new_key).status_code == 200

    # Revocation takes effect at once.
    key = ClientKey.objects.get(key_id=ed_creds.key_id)
    assert signed_call(client, ed_creds, "GET", PING).status_code == 200
    services.key_revoke(actor=tree["gz_admin"], key=key, reason="泄露")
    revoked = signed_call(client, ed_creds, "GET", PING)
    assert (revoked.status_code, code(revoked)) == (401, "revoked_key")


def test_wrong_key_material(client, hmac_creds, ed_creds):
    assert code(signed_call(client, hmac_creds, "GET", PING, key=b"x" * 32)) == "bad_signature"
    assert code(signed_call(client, ed_creds, "GET", PING, key=Ed25519PrivateKey.generate())) == "bad_signature"


def test_missing_parts(client, hmac_creds):
    unsigned = client.get(PING)
    assert (unsigned.status_code, code(unsigned)) == (401, "missing_signature")
    # Body not covered by content-digest.
    prepared = prepare("POST", PING, BODY, **{"Content-Type": "application/json"})
    sign_prepared(prepared, hmac_creds)
    prepared.headers["Signature-Input"] = prepared.headers["Signature-Input"].replace(' "content-digest"', "")
    assert code(send(client, prepared)) == "missing_component"
    # Only @method covered.
    only_method = signed_call(client, hmac_creds, "GET", PING, components=("@method",))
    assert code(only_method) == "missing_component"
    # No nonce parameter.
    prepared = prepare("GET", PING)
    sign_prepared(prepared, hmac_creds)
    import re

    prepared.headers["Signature-Input"] = re.sub(r';nonce="[^"]*"', "", prepared.headers["Signature-Input"])
    response = send(client, prepared)
    assert code(response) == "missing_component"
    assert response.json()["error"]["details"]["parameter"] == "nonce"


def test_disabled_client_and_call_log(client, tree, hmac_creds):
    assert signed_call(client, hmac_creds, "GET", PING).status_code == 200
    services.client_update(actor=tree["gz_admin"], client=hmac_creds.client, is_active=False)
    refused = signed_call(client, hmac_creds, "GET", PING)
    assert code(refused) == "client_disabled"
    rows = list(CallLog.objects.filter(operation__contains="exchange/ping").order_by("at"))
    assert [r.status for r in rows][-2:] == [200, 401]
    assert rows[-2].client_id == hmac_creds.client.pk
    assert rows[-1].error_code == "client_disabled"
    with pytest.raises(Exception):  # noqa: B017 - append-only
        rows[-1].save()


@pytest.mark.parametrize("embedded", [False, True])
def test_rate_limit_answers_429_with_retry_after(client, tree, hmac_creds, settings, embedded):
    if embedded:  # the embedded footprint's database cache, shared by its web processes
        from django.core.management import call_command

        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "test_rate_cache"}
        }
        call_command("createcachetable", verbosity=0)
    services.client_update(actor=tree["gz_admin"], client=hmac_creds.client, rate_limit_per_minute=2)
    statuses = [signed_call(client, hmac_creds, "GET", PING) for _i in range(3)]
    assert [r.status_code for r in statuses[:2]] == [200, 200] or statuses[0].status_code == 200
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert int(limited[0]["Retry-After"]) >= 1
    assert code(limited[0]) == "rate_limited"


def test_scope_and_size_limits(client, tree, agency, settings):
    from inspecta.exchange.testing import approved_client

    creds = approved_client(applicant=agency["admin"], reviewer=tree["gz_admin"], scopes=["registry:read"])
    refused = signed_call(client, creds, "POST", "/api/v1/exchange/upload-tokens")
    assert (refused.status_code, code(refused)) == (403, "insufficient_scope")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = signed_call(client, creds, "POST", PING, b'{"x": "' + b"a" * 2000 + b'"}')
    assert (big.status_code, code(big)) == (413, "payload_too_large")


BASE_CASES = [
    # method, URL as sent, raw request-target (as gunicorn passes it) or "", headers, components
    ("POST", "https://platform.example.cn/api/v1/exchange/ping?x=1&y=%E4%B8%AD", "", {}, ("@method", "@target-uri")),
    (
        "GET",
        "http://testserver/api/v1/exchange/ping",
        "",
        {},
        ("@method", "@authority", "@scheme", "@path", "@query", "@request-target", "@target-uri"),
    ),
    (
        "GET",
        "http://Platform.Example.CN:8443/api/v1/exchange/ping?q=&r=%20",
        "",
        {},
        ("@method", "@authority", "@target-uri", "@query", "@request-target"),
    ),
    ("GET", "https://platform.example.cn:443/api/v1/x", "", {}, ("@authority", "@target-uri", "@method")),
    ("GET", "http://[::1]:8000/api/v1/x?a=1", "", {}, ("@method", "@authority", "@target-uri")),
    ("GET", "http://testserver/api/v1/x?", "/api/v1/x?", {}, ("@method", "@target-uri", "@query")),
    (
        "PUT",
        "http://testserver/api/v1/x",
        "",
        {"X-Lims-Batch": "  B-2026-01  ", "Content-Type": "application/json"},
        ("@method", "@target-uri", "x-lims-batch", "content-type"),
    ),
]


@pytest.mark.parametrize(("method", "url", "raw", "headers", "components"), BASE_CASES)
def test_base_is_the_librarys(settings, method, url, raw, headers, components):
    """The signature base verification builds (signatures.signature_base, kept for speed)
    is byte for byte the one ``http-message-signatures`` signs, for every component."""

    from types import SimpleNamespace
    from urllib.parse import urlsplit

    from django.test import RequestFactory
    from http_message_signatures import HTTPMessageSigner
    from http_message_signatures.algorithms import HMAC_SHA256

    from inspecta.exchange import signatures

    settings.ALLOWED_HOSTS = ["*"]
    body = BODY if method in ("POST", "PUT") else None
    message = SimpleNamespace(method=method, url=url, headers=dict(headers))
    now = datetime.datetime.now(datetime.UTC)
    prepared = HTTPMessageSigner(signature_algorithm=HMAC_SHA256).prepare(
        message,
        key_id="ik_base",
        created=now,
        expires=now + timedelta(seconds=60),
        nonce="n-0123456789",
        label="sig1",
        covered_component_ids=components,
        body=body,
    )
    parts = urlsplit(url)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in message.headers.items() if k != "Content-Type"}
    if raw:
        extra["RAW_URI"] = raw
    request = RequestFactory().generic(
        method,
        parts.path + (f"?{parts.query}" if parts.query else ""),
        data=body or b"",
        content_type=message.headers.get("Content-Type", "application/json"),
        secure=parts.scheme == "https",
        HTTP_HOST=parts.netloc,
        HTTP_SIGNATURE_INPUT=f"sig1={prepared.signature_params}",
        HTTP_SIGNATURE="sig1=:AAAA:",
        **extra,
    )
    parsed = signatures.parse_signature(request)
    assert signatures.signature_base(request, parsed) == prepared.signature_base
