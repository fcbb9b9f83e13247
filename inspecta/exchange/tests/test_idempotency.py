"""CONTRACT §3: Idempotency-Key on creating POSTs, for browser sessions and signed clients."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from inspecta.core.testing.access import login_verified
from inspecta.exchange import services
from inspecta.exchange.models import AccessApplication, IdempotencyRecord, Receipt
from inspecta.exchange.testing import (
    agency_with_admin,
    needs_concurrent_db,
    prepare,
    send,
    sign_prepared,
    signed_call,
)
from inspecta.reports.testing import report_body, reporting_scene

from .test_applications import APPLY, post_json

URL = "/api/v1/exchange/applications"


def test_session_same_key_three_times_one_record(client, tree, agency):
    login_verified(client, agency["admin"])
    responses = [post_json(client, URL, APPLY, **{"Idempotency-Key": "k-1"}) for _i in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.content for r in responses}) == 1
    assert "Idempotent-Replayed" not in responses[0]
    assert responses[1]["Idempotent-Replayed"] == "true"
    assert AccessApplication.objects.count() == 1
    # Different body, same key: 422, nothing created.
    other = post_json(client, URL, {**APPLY, "system_name": "另一个"}, **{"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert AccessApplication.objects.count() == 1
    # Structured-field form of the same key is the same key.
    quoted = post_json(client, URL, APPLY, **{"Idempotency-Key": '"k-1"'})
    assert quoted.status_code == 201 and quoted["Idempotent-Replayed"] == "true"
    # Without a key, or with another, a new record.
    assert post_json(client, URL, APPLY).status_code == 201
    assert post_json(client, URL, APPLY, **{"Idempotency-Key": "k-2"}).status_code == 201
    assert AccessApplication.objects.count() == 3
    bad = post_json(client, URL, APPLY, **{"Idempotency-Key": "x" * 300})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_idempotency_key"


def test_keys_are_scoped_per_owner(client, tree, agency):
    _org, other_admin = agency_with_admin("440300", name="深圳检测", username="sz_agency")
    login_verified(client, agency["admin"])
    assert post_json(client, URL, APPLY, **{"Idempotency-Key": "same"}).status_code == 201
    login_verified(client, other_admin)
    second = post_json(client, URL, APPLY, **{"Idempotency-Key": "same"})
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert AccessApplication.objects.count() == 2


def test_repeat_while_running_gets_409(client, tree, agency, monkeypatch):
    login_verified(client, agency["admin"])
    seen = {}
    original = services.application_submit

    def slow_submit(**kwargs):
        # While the first request is still being processed, the same request arrives.
        seen["inner"] = post_json(client, URL, APPLY, **{"Idempotency-Key": "busy"})
        return original(**kwargs)

    monkeypatch.setattr(services, "application_submit", slow_submit)
    first = post_json(client, URL, APPLY, **{"Idempotency-Key": "busy"})
    assert first.status_code == 201
    assert seen["inner"].status_code == 409
    assert seen["inner"].json()["error"]["code"] == "idempotency_in_progress"
    assert AccessApplication.objects.count() == 1


def test_failed_first_attempt_can_be_retried(client, tree, agency, monkeypatch):
    login_verified(client, agency["admin"])

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "application_submit", boom)
    assert post_json(client, URL, APPLY, **{"Idempotency-Key": "retry"}).status_code == 500
    monkeypatch.undo()
    assert post_json(client, URL, APPLY, **{"Idempotency-Key": "retry"}).status_code == 201
    assert IdempotencyRecord.objects.filter(key="retry", running=False).count() == 1


BATCH = "/api/v1/reports/batch"


@pytest.fixture
def reporting(tree):
    return reporting_scene(tree, 902)


def test_signed_client_three_times(client, reporting):
    """An asynchronous batch sent three times with one key: one receipt, three 202s."""

    body = json.dumps({"reports": [{"report_number": "a"}, {"x": 1}], "async": True}).encode()
    results = []
    for _i in range(3):
        prepared = prepare(
            "POST",
            BATCH,
            body,
            **{"Content-Type": "application/json", "Idempotency-Key": "b1"},
        )
        sign_prepared(prepared, reporting["creds"])
        results.append(send(client, prepared))
    assert [r.status_code for r in results] == [202, 202, 202]
    assert len({r.json()["receipt_id"] for r in results}) == 1
    assert Receipt.objects.count() == 1


@needs_concurrent_db
@pytest.mark.django_db(transaction=True)
def test_concurrent_same_key_one_record(live_server):
    from inspecta.core import services as core_services
    from inspecta.core.testing.factories import authority_tree

    core_services.regions_load()  # reference data a transactional test's flush removed
    core_services.catalog_load()
    tree = authority_tree()
    creds = reporting_scene(tree, 903)["creds"]
    body = json.dumps({"reports": [{"report_number": "a"}], "async": True}).encode()
    barrier = threading.Barrier(3)

    def call(_i: int) -> requests.Response:
        prepared = prepare(
            "POST",
            BATCH,
            body,
            base=live_server.url,
            **{"Content-Type": "application/json", "Idempotency-Key": "concurrent"},
        )
        sign_prepared(prepared, creds)
        barrier.wait()
        with requests.Session() as session:
            return session.send(prepared, timeout=30)

    with ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(call, range(3)))
    statuses = sorted(r.status_code for r in responses)
    assert all(s in (202, 409) for s in statuses), [r.content for r in responses]
    assert statuses.count(202) >= 1
    assert len({r.json()["receipt_id"] for r in responses if r.status_code == 202}) == 1
    assert Receipt.objects.count() == 1
    # After the first finished, the same key replays.
    again = call_once = prepare(
        "POST",
        BATCH,
        body,
        base=live_server.url,
        **{"Content-Type": "application/json", "Idempotency-Key": "concurrent"},
    )
    sign_prepared(call_once, creds)
    replay = requests.Session().send(again, timeout=30)
    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"


def test_signed_and_session_keys_do_not_mix(client, reporting):
    login_verified(client, reporting["admin"])
    assert post_json(client, URL, APPLY, **{"Idempotency-Key": "shared"}).status_code == 201
    client.logout()
    body = json.dumps(report_body(reporting, "K-1")).encode()
    prepared = prepare(
        "POST",
        "/api/v1/reports/",
        body,
        **{"Content-Type": "application/json", "Idempotency-Key": "shared"},
    )
    sign_prepared(prepared, reporting["creds"])
    response = send(client, prepared)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert response.json()["report_number"] == "K-1" and response.json()["serial_no"] == 1
    assert signed_call(client, reporting["creds"], "GET", "/api/v1/exchange/ping").status_code == 200


def test_stored_responses_do_not_reveal_secrets(client, tree, agency, hmac_creds):
    """A rotation's response carries the new HMAC secret once; its idempotency copy is sealed."""
    login_verified(client, agency["admin"])
    url = f"/api/v1/exchange/clients/{hmac_creds.client.pk}/keys"
    first = post_json(client, url, {"overlap_hours": 1}, **{"Idempotency-Key": "rotate-1"})
    assert first.status_code == 201, first.content
    secret = first.json()["secret"]
    again = post_json(client, url, {"overlap_hours": 1}, **{"Idempotency-Key": "rotate-1"})
    assert again.json()["secret"] == secret and again["Idempotent-Replayed"] == "true"
    record = IdempotencyRecord.objects.get(key="rotate-1")
    assert secret.encode() not in bytes(record.body)
    from inspecta.exchange.models import ClientKey

    assert ClientKey.objects.filter(client=hmac_creds.client).count() == 2


def _signed_report(client, scene, body: bytes, key: str):
    prepared = prepare("POST", "/api/v1/reports/", body, **{"Content-Type": "application/json", "Idempotency-Key": key})
    sign_prepared(prepared, scene["creds"])
    return send(client, prepared)


def _fail_on(table: str, verb: str, exc_class=None):
    """The database fails the first ``verb`` statement on ``table``: the fault lands
    between the write and the completion of its idempotency record."""

    from django.db import OperationalError

    state = {"done": False}

    def wrapper(execute, sql, params, many, context):
        if not state["done"] and sql.lstrip().upper().startswith(verb) and table in sql:
            state["done"] = True
            raise (exc_class or OperationalError)("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


def test_completion_fails_after_the_write_then_the_retry_does_the_work_once(reporting):
    """The report and its idempotency record commit together (or not at all): a fault
    after the report was written, at the completion of the record, leaves no report, and
    the retry with the same key runs at once and gets its serial number."""

    from django.db import connection
    from django.test import Client

    from inspecta.reports.models import Report

    client = Client(raise_request_exception=False)
    body = json.dumps(report_body(reporting, "R-CRASH")).encode()
    with connection.execute_wrapper(_fail_on("exchange_idempotencyrecord", "UPDATE")):
        failed = _signed_report(client, reporting, body, "crash-1")
    assert failed.status_code >= 500
    retry = _signed_report(client, reporting, body, "crash-1")
    assert retry.status_code == 201, retry.content
    assert retry.json()["serial_number"]
    assert Report.objects.filter(report_number="R-CRASH").count() == 1
    again = _signed_report(client, reporting, body, "crash-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["serial_number"] == retry.json()["serial_number"]


def test_a_5xx_answer_releases_the_key_and_keeps_nothing(reporting):
    """A database outage in the middle of the write answers 503; the key is free at once
    (no 409 for the lease) and the retry does the work once."""

    from django.db import connection
    from django.test import Client

    from inspecta.reports.models import Report

    client = Client(raise_request_exception=False)
    body = json.dumps(report_body(reporting, "R-OUT")).encode()
    with connection.execute_wrapper(_fail_on("ledger_", "INSERT")):
        failed = _signed_report(client, reporting, body, "out-1")
    assert failed.status_code == 503, failed.content
    assert not Report.objects.filter(report_number="R-OUT").exists()
    assert not IdempotencyRecord.objects.filter(key="out-1").exists()
    retry = _signed_report(client, reporting, body, "out-1")
    assert retry.status_code == 201, retry.content
    assert Report.objects.filter(report_number="R-OUT").count() == 1
