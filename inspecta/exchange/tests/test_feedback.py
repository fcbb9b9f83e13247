"""Result feedback (T/CECS 6.0.6): per-record outcomes, receipts, callbacks signed by the
platform and verified with the independent ``http-message-signatures`` package; the call
log, monitoring series, anomaly findings and housekeeping."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver
from http_message_signatures.algorithms import ED25519

from inspecta.exchange import feedback, housekeeping, monitoring, selectors, services
from inspecta.exchange.choices import DeliveryStatus, FindingKind, ReceiptStatus
from inspecta.exchange.models import (
    AnomalyFinding,
    CallbackDelivery,
    CallLog,
    IdempotencyRecord,
    Receipt,
    SignatureNonce,
)
from inspecta.exchange.testing import approved_client, signed_call


class Receiver:
    """A client's callback endpoint: records every request; fails the first ``fail`` times."""

    def __init__(self, fail: int = 0) -> None:
        self.requests: list[dict] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = 503 if outer.fail > 0 else 204
                outer.fail -= 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/inspecta/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_synchronous_batch_answers_per_record(client, hmac_creds):
    body = json.dumps({"records": [{"id": "A-1"}, {"name": "no id"}, {"id": " "}]}).encode()
    response = signed_call(client, hmac_creds, "POST", "/api/v1/exchange/test-batches", body)
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["rejected"]) == (1, 2)
    assert data["results"][0]["status"] == "accepted" and data["results"][0]["id"] == "A-1"
    assert data["results"][1]["status"] == "rejected" and data["results"][1]["code"] == "missing_id"
    empty = signed_call(client, hmac_creds, "POST", "/api/v1/exchange/test-batches", b'{"records": []}')
    assert empty.status_code == 422


class PlatformKeys(HTTPSignatureKeyResolver):
    def __init__(self, keys: dict) -> None:
        self.keys = keys

    def resolve_public_key(self, key_id: str):
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.keys[key_id]))


def test_receipt_and_signed_callback(client, tree, agency, receiver, django_capture_on_commit_callbacks):
    creds = approved_client(
        applicant=agency["admin"], reviewer=tree["gz_admin"], name="回调", callback_url=receiver.url
    )
    body = json.dumps({"records": [{"id": "X"}, {}], "async": True}).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_call(client, creds, "POST", "/api/v1/exchange/test-batches", body)
    assert response.status_code == 202
    receipt_id = response.json()["receipt_id"]
    polled = signed_call(client, creds, "GET", f"/api/v1/exchange/receipts/{receipt_id}")
    assert polled.status_code == 200
    assert polled.json()["status"] == ReceiptStatus.SUCCEEDED
    assert [r["status"] for r in polled.json()["results"]] == ["accepted", "rejected"]

    assert len(receiver.requests) == 1
    delivered = receiver.requests[0]
    document = json.loads(delivered["body"])
    assert document["receipt_id"] == receipt_id and document["event"] == "receipt.finished"
    keys = {k["keyid"]: k["public_key"] for k in client.get("/api/v1/exchange/platform-keys").json()["keys"]}
    message = requests.Request("POST", receiver.url, data=delivered["body"], headers=delivered["headers"]).prepare()
    verifier = HTTPMessageVerifier(signature_algorithm=ED25519, key_resolver=PlatformKeys(keys))
    results = verifier.verify(message, require_components=("@method", "@target-uri"), body=delivered["body"])
    assert results and results[0].body == delivered["body"]
    assert CallbackDelivery.objects.get().status == DeliveryStatus.DELIVERED
    # Another client cannot poll this receipt.
    other = approved_client(applicant=agency["admin"], reviewer=tree["gz_admin"], name="另一个")
    assert signed_call(client, other, "GET", f"/api/v1/exchange/receipts/{receipt_id}").status_code == 404


def test_callback_retries_with_backoff(tree, agency, settings):
    receiver = Receiver(fail=2)
    try:
        creds = approved_client(applicant=agency["admin"], reviewer=tree["gz_admin"], callback_url=receiver.url)
        receipt = Receipt.objects.create(client=creds.client, operation="t", request={"records": [{"id": "1"}]})
        feedback.receipt_process(receipt_id=str(receipt.pk))
        delivery = CallbackDelivery.objects.get()
        assert feedback.callback_attempt(delivery_id=delivery.pk) is False
        assert feedback.callback_attempt(delivery_id=delivery.pk) is False
        assert feedback.callback_attempt(delivery_id=delivery.pk) is True
        delivery.refresh_from_db()
        assert delivery.attempts == 3 and delivery.status == DeliveryStatus.DELIVERED
        assert feedback.callback_attempt(delivery_id=delivery.pk) is None
    finally:
        receiver.close()
    delays = [feedback.retry_delay(n) for n in (1, 2, 3, 4)]
    base = settings.INSPECTA_CALLBACK_RETRY_DELAY
    for n, delay in enumerate(delays, start=1):
        assert 0.8 * base * 2 ** (n - 1) <= delay <= 1.2 * base * 2 ** (n - 1) + 1
    # Giving up after the maximum number of attempts.
    settings.INSPECTA_CALLBACK_MAX_ATTEMPTS = 1
    receipt = Receipt.objects.create(client=creds.client, operation="t", request={})
    failing = CallbackDelivery.objects.create(receipt=receipt, url="http://127.0.0.1:9/nowhere")
    assert feedback.callback_attempt(delivery_id=failing.pk) is None
    failing.refresh_from_db()
    assert failing.status == DeliveryStatus.FAILED and failing.last_error


def test_monitoring_series_and_anomalies(client, tree, agency, hmac_creds, settings):
    for _i in range(3):
        assert signed_call(client, hmac_creds, "GET", "/api/v1/exchange/ping").status_code == 200
    signed_call(client, hmac_creds, "GET", "/api/v1/exchange/ping", key_id="ik_nope")
    series = selectors.traffic_series(client_ids=[hmac_creds.client.pk], hours=1, bucket_minutes=5)
    assert series["calls"] == 3
    assert series["series"][-1]["p95_ms"] > 0
    node = selectors.traffic_series(client_ids=None, hours=1, bucket_minutes=5)
    assert node["calls"] == 4 and node["errors"] == 1

    settings.INSPECTA_EXCHANGE_ERROR_RATE_MIN_CALLS = 3
    settings.INSPECTA_EXCHANGE_ERROR_RATE_THRESHOLD = 0.2
    for _i in range(3):
        signed_call(client, hmac_creds, "POST", "/api/v1/exchange/test-batches", b"{}")  # 422s
    services.client_update(actor=tree["gz_admin"], client=hmac_creds.client, expect_calls_every_minutes=5)
    found = monitoring.anomalies_scan()
    assert [f.rule for f in found] == [FindingKind.ERROR_RATE]
    assert monitoring.anomalies_scan() == []  # one open finding per kind
    hmac_creds.client.refresh_from_db()
    type(hmac_creds.client).objects.filter(pk=hmac_creds.client.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=30)
    )
    assert [f.rule for f in monitoring.anomalies_scan()] == [FindingKind.SILENT]
    assert AnomalyFinding.objects.filter(resolved_at__isnull=True).count() == 2

    from inspecta.core.testing.access import login_verified

    login_verified(client, tree["gz_supervisor"])
    page = client.get("/exchange/monitoring/")
    assert page.status_code == 200 and "echarts.min.js" in page.content.decode()
    assert client.get("/exchange/monitoring/data/").json()["calls"] == 6  # its clients only
    login_verified(client, agency["admin"])
    assert client.get("/exchange/monitoring/").status_code == 403
    assert client.get(f"/exchange/monitoring/data/?client={hmac_creds.client.pk}").status_code == 200
    login_verified(client, tree["sz_supervisor"])
    assert client.get(f"/exchange/monitoring/data/?client={hmac_creds.client.pk}").status_code == 404
    sz_view = client.get("/exchange/monitoring/")
    assert hmac_creds.client.name not in sz_view.content.decode()
    assert CallLog.objects.filter(client_id=hmac_creds.client.pk).count() >= 6


def test_housekeeping_forgets_what_expired(client, hmac_creds, tree, agency):
    assert signed_call(client, hmac_creds, "GET", "/api/v1/exchange/ping").status_code == 200
    assert SignatureNonce.objects.count() == 1
    SignatureNonce.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert housekeeping.nonces_purge() == 1
    IdempotencyRecord.objects.create(
        owner="user:1", key="k", fingerprint="f", operation="x", expires_at=timezone.now() - timedelta(seconds=1)
    )
    from inspecta.exchange.idempotency import idempotency_purge

    assert idempotency_purge() == 1
    from inspecta.exchange.tasks import exchange_housekeeping

    assert exchange_housekeeping.call_local() == {"nonces": 0, "idempotency": 0, "uploads": 0}
