"""Result feedback (T/CECS 6.0.6): per-record outcomes, receipts, callbacks signed by the
platform and verified with the independent ``http-message-signatures`` package; the call
log, monitoring series, anomaly findings and housekeeping."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

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
from inspecta.exchange.testing import (
    CallbackReceiver,
    agency_with_admin,
    approved_client,
    signed_call,
    verified_callback,
)
from inspecta.reports.testing import report_body, reporting_scene


@pytest.fixture
def receiver():
    r = CallbackReceiver()
    yield r
    r.close()


@pytest.fixture
def reporting(tree):
    return reporting_scene(tree, 901)


def test_synchronous_batch_answers_per_record(client, reporting):
    """The real batch (``POST /api/v1/reports/batch``) answers each record on its own."""

    creds = reporting["creds"]
    items = [report_body(reporting, "F-1"), {"report_number": "no other field"}, report_body(reporting, "F-2")]
    response = signed_call(client, creds, "POST", "/api/v1/reports/batch", json.dumps({"reports": items}).encode())
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["rejected"]) == (2, 1)
    assert data["results"][0]["status"] == "accepted" and data["results"][0]["report"]["report_number"] == "F-1"
    assert data["results"][1]["status"] == "rejected" and data["results"][1]["error"]["code"] == "invalid_input"
    empty = signed_call(client, creds, "POST", "/api/v1/reports/batch", b'{"reports": []}')
    assert empty.status_code == 422


def test_receipt_and_signed_callback(client, tree, reporting, receiver, django_capture_on_commit_callbacks):
    admin = reporting["admin"]
    creds = approved_client(
        applicant=admin, reviewer=tree["gz_admin"], name="回调", scopes=["reports:submit"], callback_url=receiver.url
    )
    items = [report_body(reporting, "X-1"), {}]
    body = json.dumps({"reports": items, "async": True}).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_call(client, creds, "POST", "/api/v1/reports/batch", body)
    assert response.status_code == 202
    receipt_id = response.json()["receipt_id"]
    polled = signed_call(client, creds, "GET", f"/api/v1/exchange/receipts/{receipt_id}")
    assert polled.status_code == 200
    assert polled.json()["status"] == ReceiptStatus.SUCCEEDED
    assert [r["status"] for r in polled.json()["results"]] == ["accepted", "rejected"]

    assert len(receiver.requests) == 1
    document = verified_callback(client, receiver, receiver.requests[0])
    assert document["receipt_id"] == receipt_id and document["event"] == "receipt.finished"
    assert document["results"] == polled.json()["results"]
    assert CallbackDelivery.objects.get().status == DeliveryStatus.DELIVERED
    # Another client cannot poll this receipt.
    other = approved_client(applicant=admin, reviewer=tree["gz_admin"], name="另一个")
    assert signed_call(client, other, "GET", f"/api/v1/exchange/receipts/{receipt_id}").status_code == 404


def test_unknown_operation_fails_the_receipt(client, tree, agency, receiver):
    """A receipt whose operation no app declares finishes as failed, with a message, a
    callback and a readable receipt; nothing answers 500."""

    creds = approved_client(applicant=agency["admin"], reviewer=tree["gz_admin"], callback_url=receiver.url)
    receipt = Receipt.objects.create(client=creds.client, operation="federation.push", request={"records": [1]})
    assert feedback.receipt_process(receipt_id=str(receipt.pk)).status == ReceiptStatus.FAILED
    receipt.refresh_from_db()
    assert receipt.results == [] and receipt.finished_at is not None
    assert receipt.error["code"] == "unknown_operation" and "federation.push" in receipt.error["message"]
    polled = signed_call(client, creds, "GET", f"/api/v1/exchange/receipts/{receipt.pk}")
    assert polled.status_code == 200
    assert polled.json()["status"] == "failed" and polled.json()["error"] == receipt.error
    assert feedback.callback_attempt(delivery_id=CallbackDelivery.objects.get(receipt=receipt).pk) is True
    document = verified_callback(client, receiver, receiver.requests[0])
    assert document["status"] == "failed" and document["error"]["code"] == "unknown_operation"
    # processed again (a repeated job): nothing changes
    assert feedback.receipt_process(receipt_id=str(receipt.pk)).error == receipt.error
    assert CallbackDelivery.objects.filter(receipt=receipt).count() == 1


def test_refused_operation_fails_the_receipt_and_writes_nothing(tree, reporting):
    """The handler refuses the whole request (here: the batch is empty, then the client's
    organisation is not a testing agency): the receipt fails with the refusal's message."""

    from inspecta.reports.models import Report

    creds = reporting["creds"]
    empty = Receipt.objects.create(client=creds.client, operation="reports.batch", request={"reports": []})
    feedback.receipt_process(receipt_id=str(empty.pk))
    empty.refresh_from_db()
    assert empty.status == ReceiptStatus.FAILED and empty.error["code"] == "batch_empty"
    other = approved_client(
        applicant=agency_with_admin("440100", "未登记的机构", "unregistered")[1], reviewer=tree["gz_admin"]
    )
    refused = Receipt.objects.create(
        client=other.client, operation="reports.batch", request={"reports": [report_body(reporting, "N-1")]}
    )
    feedback.receipt_process(receipt_id=str(refused.pk))
    refused.refresh_from_db()
    assert refused.status == ReceiptStatus.FAILED and refused.error["code"] == "forbidden"
    assert "检测机构" in refused.error["message"]
    assert not Report.objects.exists()


def test_callback_retries_with_backoff(tree, agency, settings):
    receiver = CallbackReceiver(fail=2)
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
        signed_call(client, hmac_creds, "POST", "/api/v1/reports/batch", b"{}")  # 403s: no reports:submit
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

    assert exchange_housekeeping.call_local() == {
        "nonces": 0,
        "idempotency": 0,
        "uploads": 0,
        "uploads_recovered": 0,
        "uploads_orphaned_removed": 0,
    }


def test_a_failing_operation_fails_the_receipt_and_undoes_its_writes(reporting, monkeypatch):
    """An error inside the operation's handler: its writes are undone and the receipt
    fails with a plain message (the job does not leave it pending)."""

    from inspecta.reports import api as reports_api
    from inspecta.reports.models import Report

    real = reports_api.batch_results

    def breaks_after_writing(**kwargs):
        real(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(reports_api, "batch_results", breaks_after_writing)
    receipt = Receipt.objects.create(
        client=reporting["creds"].client,
        operation="reports.batch",
        request={"reports": [report_body(reporting, "E-1")]},
    )
    feedback.receipt_process(receipt_id=str(receipt.pk))
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.FAILED and receipt.error["code"] == "internal_error"
    assert "内部错误" in receipt.error["message"]
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_monitoring_hours_are_beijing_time():
    """The chart labels its buckets by the hours of their start: Beijing time, as every
    other time on the pages, not UTC."""
    import datetime as dt

    now = dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.UTC)  # 10:30 in Beijing
    series = selectors.traffic_series(client_ids=None, hours=3, bucket_minutes=60, now=now)
    assert series["to"] == "2026-03-01T10:30:00+08:00"
    assert [bucket["start"][11:16] for bucket in series["series"]] == ["07:30", "08:30", "09:30"]
    assert all(bucket["start"].endswith("+08:00") for bucket in series["series"])
