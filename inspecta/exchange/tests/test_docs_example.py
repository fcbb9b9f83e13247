"""The worked example of docs/integration/signing.md is right: the server builds the same
signature base, and the independent library verifies the documented signature."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from pathlib import Path

import requests
from django.test import RequestFactory
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver
from http_message_signatures.algorithms import HMAC_SHA256

from inspecta.exchange import signatures
from inspecta.exchange.crypto import decode_secret

DOC = Path(__file__).resolve().parents[3] / "docs" / "integration" / "signing.md"
SECRET = "c2VjcmV0LWtleS1mb3ItZG9jcy1leGFtcGxlLTMyYnk"
BODY = b'{"reports":[{"report_number":"GZ-2026-000123"}],"async":true}'
DIGEST = "sha-256=:Fi+OsZ8e9NUGe9kfHqiEL+PsC2GZhB06/0U3qnIU2WY=:"
PARAMS = (
    '("@method" "@target-uri" "content-digest");created=1779321600;expires=1779321720;'
    'nonce="q0k2bW9Hc1xZ3vN8TfR1aA";keyid="ik_3f9a1c0d2e4b6a8c7d5e";alg="hmac-sha256"'
)
SIGNATURE = "ehkCuXVFd4ydJEPUmveROqdjmt798W1pLW9Bx+nbpLM="
URL = "https://platform.example.cn/api/v1/reports/batch"


def test_documented_values_appear_in_the_guide():
    text = DOC.read_text(encoding="utf-8")
    for value in (SECRET, DIGEST, PARAMS, SIGNATURE, URL):
        assert value in text


def test_server_builds_the_documented_base(settings):
    settings.ALLOWED_HOSTS = ["platform.example.cn"]
    request = RequestFactory().post(
        "/api/v1/reports/batch",
        data=BODY,
        content_type="application/json",
        secure=True,
        HTTP_HOST="platform.example.cn",
        HTTP_CONTENT_DIGEST=DIGEST,
        HTTP_SIGNATURE_INPUT=f"sig1={PARAMS}",
        HTTP_SIGNATURE=f"sig1=:{SIGNATURE}:",
    )
    parsed = signatures.parse_signature(request)
    signatures.check_content_digest(request, request.body, parsed)
    base = signatures.signature_base(request, parsed)
    assert base.decode().splitlines()[1] == f'"@target-uri": {URL}'
    signatures.verify_signature(request, parsed, algorithm="hmac-sha256", key=decode_secret(SECRET))  # no refusal
    assert base64.b64encode(hmac.new(decode_secret(SECRET), base, hashlib.sha256).digest()).decode() == SIGNATURE


def test_independent_library_verifies_the_example():
    key = decode_secret(SECRET)

    class Resolver(HTTPSignatureKeyResolver):
        def resolve_public_key(self, key_id):
            return key

    message = requests.Request(
        "POST",
        URL,
        data=BODY,
        headers={"Content-Digest": DIGEST, "Signature-Input": f"sig1={PARAMS}", "Signature": f"sig1=:{SIGNATURE}:"},
    ).prepare()
    verifier = HTTPMessageVerifier(signature_algorithm=HMAC_SHA256, key_resolver=Resolver())
    verifier.max_clock_skew = datetime.timedelta(days=36500)  # the example has fixed times
    results = verifier.verify(message, max_age=None, body=BODY)
    assert results[0].parameters["keyid"] == "ik_3f9a1c0d2e4b6a8c7d5e"
