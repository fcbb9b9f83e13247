"""Batch submission (POST /api/v1/reports/batch): per-report results, the same checks as
a single submission, consecutive serial numbers, idempotency, scoping (T/CECS 6.0.6; CONTRACT §2-3, §6)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inspecta.core.errors import AppError
from inspecta.core.models import SequenceCounter
from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.exchange.testing import approved_client, prepare, send, sign_prepared
from inspecta.ledger.models import Entry
from inspecta.reports import services
from inspecta.reports.choices import CheckAction, CheckCode
from inspecta.reports.codes import SERIAL_COUNTER
from inspecta.reports.models import NonconformanceEntry, Report, ReportFinding
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file, submission

from .test_pages_api import _json_body

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/batch"


@pytest.fixture
def scene(tree):
    agency, admin, made = approved_agency(tree, 801)
    project = project_with(tree, [agency])
    return {"tree": tree, "agency": agency, "admin": admin, "made": made, "project": project}


def _post(client, creds, body: dict, key: str | None = None):
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    prepared = prepare("POST", URL, raw, **headers)
    sign_prepared(prepared, creds)
    return send(client, prepared)


def _variants(scene) -> list[tuple[str, dict]]:
    """Inputs that pass, or fail one way or another, each by name."""

    made, agency = scene["made"], scene["agency"]
    now = timezone.now()
    other_project = project_with(scene["tree"], [], code="P-NOT-PARTY")
    return [
        ("ok", {}),
        ("nonconforming", {"conclusion": "nonconforming"}),
        ("unknown_project", {"project_id": 999999}),
        ("tester", {"tester_id": made["reviewer"].pk, "reviewer_id": made["staff"].pk}),
        ("signatory", {"signatory_id": made["reviewer"].pk, "reviewer_id": made["approver"].pk}),
        ("equipment", {"equipment": ["NO-SUCH-ASSET"]}),
        ("trail", {"reviewed_at": now - datetime.timedelta(hours=5)}),
        ("not_party", {"project_id": other_project.pk}),
        ("unknown_staff", {"tester_id": 999999}),
        ("unknown_parameter", {"parameters": ["IP-9999"]}),
        ("dates", {"reported_on": timezone.localdate() - datetime.timedelta(days=30)}),
        ("not_a_pdf", {"pdf": stored_file(agency.organisation_id, b"\x89PNG\r\n\x1a\n" + b"0" * 64)}),
        ("ok2", {}),
    ]


def _outcome(result) -> tuple:
    if isinstance(result, AppError):
        return ("rejected", result.status, result.code, json.dumps(result.details, sort_keys=True, default=str))
    return ("accepted", sorted(f.rule for f in ReportFinding.objects.filter(report=result)))


def test_checks_equal_the_single_path(scene):
    # one rule configured to flag, so that a finding is compared too
    services.check_rule_set(
        actor=scene["tree"]["gd_admin"], code=CheckCode.EQUIPMENT_NOT_CALIBRATED, action=CheckAction.FLAG
    )
    variants = _variants(scene)
    agency, made, project, admin = scene["agency"], scene["made"], scene["project"], scene["admin"]
    items = []
    for name, over in variants:
        kwargs = submission(agency, made, project, f"B-{name}", **over)
        kwargs.pop("agency")
        items.append(kwargs)
    batch = services.report_submit_many(actor=admin, agency=agency, items=items)
    for (name, over), batch_result in zip(variants, batch, strict=True):
        try:
            single = services.report_submit(actor=admin, **submission(agency, made, project, f"S-{name}", **over))
        except AppError as exc:
            single = exc
        assert _outcome(batch_result) == _outcome(single), name
    accepted = [r for r in batch if isinstance(r, Report)]
    assert [r.report_number for r in accepted] == ["B-ok", "B-nonconforming", "B-equipment", "B-ok2"]
    # consecutive serial numbers in input order, then the single path continues
    assert [r.serial_no for r in accepted] == [1, 2, 3, 4]
    assert ReportFinding.objects.filter(report=accepted[2], rule=CheckCode.EQUIPMENT_NOT_CALIBRATED).exists()
    assert NonconformanceEntry.objects.filter(report=accepted[1]).exists()


def test_signed_mixed_batch_then_idempotent_replay(client, scene):
    agency, made, project, admin = scene["agency"], scene["made"], scene["project"], scene["admin"]
    creds = approved_client(applicant=admin, reviewer=scene["tree"]["gz_admin"], scopes=["reports:submit"])
    good = [_json_body(submission(agency, made, project, f"L-{i}")) for i in range(3)]
    bad_check = _json_body(submission(agency, made, project, "L-BAD", equipment=["NO-SUCH-ASSET"]))
    bad_schema = {k: v for k, v in good[0].items() if k != "tested_on"} | {"report_number": "L-SCHEMA"}
    duplicate = dict(good[1])
    body = {"reports": [good[0], bad_check, good[1], bad_schema, duplicate, good[2]]}
    counter_before = SequenceCounter.objects.filter(name=SERIAL_COUNTER, last__gt=0).count()
    response = _post(client, creds, body, key="batch-1")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["accepted"] == 3 and data["rejected"] == 3
    assert [r["index"] for r in data["results"]] == list(range(6))
    statuses = [(r["status"], r.get("error", {}).get("code")) for r in data["results"]]
    assert statuses == [
        ("accepted", None),
        ("rejected", "equipment_not_registered"),
        ("accepted", None),
        ("rejected", "invalid_input"),
        ("rejected", "report_number_taken"),
        ("accepted", None),
    ]
    failure = data["results"][1]["error"]["details"]["failures"][0]
    assert (failure["code"], failure["check"]) == ("equipment_not_registered", "equipment_not_calibrated")
    serials = [r["report"]["serial_no"] for r in data["results"] if r["status"] == "accepted"]
    assert serials == [1, 2, 3] and counter_before == 0
    assert SequenceCounter.objects.get(name=SERIAL_COUNTER).last == 3
    reports = Report.objects.filter(report_number__in=["L-0", "L-1", "L-2"])
    assert reports.count() == 3 and all(r.client_id == creds.client.pk for r in reports)
    assert not Report.objects.filter(report_number__in=["L-BAD", "L-SCHEMA"]).exists()
    # audited and logged like a single submission
    for report in reports:
        [record] = report.history.filter(history_type="+")
        assert record.acting_client_id == creds.client.pk and record.request_id
        version = report.versions.get()
        assert Entry.objects.filter(kind="report_version", record_id=str(version.pk)).exists()
    # the accepted item is shaped as the single endpoint's 201 body
    single_keys = set(client_json_keys(client, admin, reports.first().pk))
    assert set(data["results"][0]["report"]) == single_keys
    replay = _post(client, creds, body, key="batch-1")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == data
    assert Report.objects.count() == 3
    changed = _post(client, creds, {"reports": [good[0]]}, key="batch-1")
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "idempotency_key_reused"


def client_json_keys(client, admin, pk):
    from django.test import Client

    other = login_verified(Client(), admin)
    return other.get(f"/api/v1/reports/{pk}").json().keys()


def test_batch_size_limits(client, scene):
    login_verified(client, scene["admin"])
    item = _json_body(submission(scene["agency"], scene["made"], scene["project"], "Z-1"))
    too_many = client.post(URL, json.dumps({"reports": [item] * 101}), content_type="application/json")
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "batch_too_large"
    empty = client.post(URL, json.dumps({"reports": []}), content_type="application/json")
    assert empty.status_code == 422 and "error" in empty.json()
    for broken in ("{", json.dumps({"reports": "x"}), json.dumps({"reports": [1, "a"]})):
        response = client.post(URL, broken, content_type="application/json")
        assert 400 <= response.status_code < 500 and "error" in response.json()
    assert not Report.objects.exists()


def test_session_batch_and_failed_transaction_burns_no_number(client, scene, monkeypatch):
    agency, made, project, admin = scene["agency"], scene["made"], scene["project"], scene["admin"]

    class Boom(RuntimeError):
        pass

    def failing(*, kind, records):
        raise Boom

    items = []
    for i in range(3):
        kwargs = submission(agency, made, project, f"T-{i}")
        kwargs.pop("agency")
        items.append(kwargs)
    monkeypatch.setattr(services, "log_append_many", failing)
    with pytest.raises(Boom):
        services.report_submit_many(actor=admin, agency=agency, items=items)
    assert not Report.objects.exists() and not SequenceCounter.objects.filter(name=SERIAL_COUNTER, last__gt=0).exists()
    monkeypatch.undo()
    login_verified(client, admin)
    body = {"reports": [_json_body({"agency": agency, **i}) for i in items]}
    response = client.post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    assert [r["report"]["serial_no"] for r in response.json()["results"]] == [1, 2, 3]


def test_other_agency_and_other_region_get_nothing(client, scene, tree):
    agency, made, project, admin = scene["agency"], scene["made"], scene["project"], scene["admin"]
    creds = approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=["reports:submit"])
    ok = _post(client, creds, {"reports": [_json_body(submission(agency, made, project, "O-1"))]})
    report = Report.objects.get(report_number="O-1")
    assert ok.status_code == 200
    # another agency's LIMS names our staff, files and project: refused item by item
    other, other_admin, _ = approved_agency(tree, 802)
    other_creds = approved_client(applicant=other_admin, reviewer=tree["gz_admin"], scopes=["reports:submit"], name="X")
    theirs = _json_body(submission(agency, made, project, "O-2"))
    response = _post(client, other_creds, {"reports": [theirs]})
    assert response.status_code == 200
    result = response.json()["results"][0]
    # our project is not one they may see: refused as a missing one, telling nothing of it
    assert result["status"] == "rejected" and result["error"]["code"] == "unknown_project"
    assert report.serial_number not in response.content.decode()
    assert not Report.objects.filter(agency=other).exists()
    # a client without the scope, and an authority of another region, get nothing
    no_scope = approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=["files:upload"], name="Y")
    refused = _post(client, no_scope, {"reports": [theirs]})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    login_verified(client, tree["sz_supervisor"])
    response = client.post(URL, json.dumps({"reports": [theirs]}), content_type="application/json")
    assert response.status_code == 403
    assert_gets_nothing(
        client, [f"/api/v1/reports/{report.pk}", f"/reports/{report.pk}/"], secrets=[report.serial_number]
    )
    client.logout()
    assert client.post(URL, json.dumps({"reports": [theirs]}), content_type="application/json").status_code == 401
    assert Report.objects.count() == 1


def test_batch_queries_do_not_grow_with_size(scene):
    agency, made, project, admin = scene["agency"], scene["made"], scene["project"], scene["admin"]
    pdf = stored_file(agency.organisation_id, pdf_bytes("shared"))

    def run(prefix: str, n: int) -> int:
        items = []
        for i in range(n):
            kwargs = submission(agency, made, project, f"{prefix}-{i}", pdf=pdf)
            kwargs.pop("agency")
            items.append(kwargs)
        with CaptureQueriesContext(connection) as queries:
            results = services.report_submit_many(actor=admin, agency=agency, items=items)
        assert all(isinstance(r, Report) for r in results)
        return len(queries)

    small, large = run("Q", 2), run("R", 40)
    assert large <= small + 2, (small, large)


def test_signed_pdfs_validated_once_and_unreadable_file_refused(scene, tmp_path, monkeypatch):
    from django.core.files.storage import default_storage

    from inspecta.reports import pdfsig

    from .test_pdfsig import signed_pdf

    agency, made, project, admin = scene["agency"], scene["made"], scene["project"], scene["admin"]
    signed = stored_file(agency.organisation_id, signed_pdf(tmp_path))
    same_bytes = stored_file(agency.organisation_id, default_storage.open(signed.file.name).read())
    gone = stored_file(agency.organisation_id, pdf_bytes("gone"))
    default_storage.delete(gone.file.name)
    calls = []
    real = pdfsig.signature_check
    monkeypatch.setattr(pdfsig, "signature_check", lambda content: calls.append(1) or real(content))
    items = []
    for number, pdf in (("G-1", signed), ("G-2", gone), ("G-3", same_bytes), ("G-4", None)):
        kwargs = submission(agency, made, project, number, pdf=pdf)
        kwargs.pop("agency")
        items.append(kwargs)
    results = services.report_submit_many(actor=admin, agency=agency, items=items)
    assert isinstance(results[1], AppError) and results[1].code == "file_unavailable"
    first, third, fourth = results[0], results[2], results[3]
    assert first.versions.get().signatures[0]["ok"] is True
    assert third.versions.get().signatures == first.versions.get().signatures
    assert fourth.versions.get().signatures == []  # unsigned: no /ByteRange, no parse
    assert len(calls) == 1  # the signed content was parsed once
    assert [r.serial_no for r in (first, third, fourth)] == [1, 2, 3]


def test_async_batch_end_to_end(client, scene, django_capture_on_commit_callbacks):
    """``"async": true``: 202 with the receipt, the job runs as the calling client, the
    receipt holds the results a synchronous call gives, the callback is delivered signed
    by the platform, and another agency's client cannot read the receipt."""

    from inspecta.exchange.choices import DeliveryStatus, ReceiptStatus
    from inspecta.exchange.models import CallbackDelivery, Receipt
    from inspecta.exchange.testing import CallbackReceiver, signed_call, verified_callback
    from inspecta.reports.testing import submission_json

    agency, made, project, admin, tree = scene["agency"], scene["made"], scene["project"], scene["admin"], scene["tree"]
    receiver = CallbackReceiver()
    try:
        creds = approved_client(
            applicant=admin, reviewer=tree["gz_admin"], scopes=["reports:submit"], callback_url=receiver.url
        )

        def batch(prefix: str) -> list[dict]:
            good = [submission_json(submission(agency, made, project, f"{prefix}-{i}")) for i in range(2)]
            bad = submission_json(submission(agency, made, project, f"{prefix}-BAD", equipment=["NO-SUCH-ASSET"]))
            schema = {k: v for k, v in good[0].items() if k != "tested_on"} | {"report_number": f"{prefix}-SCHEMA"}
            return [good[0], bad, schema, good[1]]

        sync = _post(client, creds, {"reports": batch("S")})
        assert sync.status_code == 200, sync.content
        body = {"reports": batch("A"), "async": True}
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = _post(client, creds, body, key="async-1")
        assert response.status_code == 202, response.content
        accepted = response.json()
        assert accepted["status"] == ReceiptStatus.PENDING and accepted["operation"] == "reports.batch"
        receipt_id = accepted["receipt_id"]
        assert callbacks  # the job was queued after commit, and ran (in-process jobs)

        polled = signed_call(client, creds, "GET", f"/api/v1/exchange/receipts/{receipt_id}")
        assert polled.status_code == 200
        receipt = polled.json()
        assert receipt["status"] == ReceiptStatus.SUCCEEDED and receipt["error"] is None

        def shape(results: list[dict]) -> list[tuple]:
            return [(r["index"], r["status"], r.get("error", {}).get("code")) for r in results]

        assert shape(receipt["results"]) == shape(sync.json()["results"])
        assert shape(receipt["results"]) == [
            (0, "accepted", None),
            (1, "rejected", "equipment_not_registered"),
            (2, "rejected", "invalid_input"),
            (3, "accepted", None),
        ]
        single_keys = set(client_json_keys(client, admin, Report.objects.get(report_number="S-0").pk))
        assert set(receipt["results"][0]["report"]) == single_keys
        # the reports exist, numbered after the synchronous batch's, written as the client
        reports = Report.objects.filter(report_number__in=["A-0", "A-1"]).order_by("serial_no")
        assert [r.serial_no for r in reports] == [3, 4]
        assert [r["report"]["serial_number"] for r in receipt["results"] if r["status"] == "accepted"] == [
            r.serial_number for r in reports
        ]
        for report in reports:
            assert report.client_id == creds.client.pk
            [record] = report.history.filter(history_type="+")
            assert record.acting_client_id == creds.client.pk and record.request_id == f"receipt:{receipt_id}"
        assert not Report.objects.filter(report_number__in=["A-BAD", "A-SCHEMA"]).exists()
        assert Receipt.objects.get().key_id == creds.client.keys.get().pk

        # the callback: delivered once, signed by the platform, the receipt's results
        assert len(receiver.requests) == 1
        document = verified_callback(client, receiver, receiver.requests[0])
        assert document["event"] == "receipt.finished" and document["receipt_id"] == receipt_id
        assert document["operation"] == "reports.batch" and document["status"] == ReceiptStatus.SUCCEEDED
        assert document["results"] == receipt["results"]
        assert CallbackDelivery.objects.get().status == DeliveryStatus.DELIVERED

        # a retry with the same key gets the same receipt, and nothing runs twice
        again = _post(client, creds, body, key="async-1")
        assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
        assert again.json() == accepted
        assert Receipt.objects.count() == 1 and Report.objects.count() == 4

        # another agency's client gets a 404
        _other, other_admin, _ = approved_agency(tree, 803)
        other_creds = approved_client(applicant=other_admin, reviewer=tree["gz_admin"], scopes=["reports:submit"])
        hidden = signed_call(client, other_creds, "GET", f"/api/v1/exchange/receipts/{receipt_id}")
        assert hidden.status_code == 404 and "A-0" not in hidden.content.decode()
    finally:
        receiver.close()


def test_async_batch_is_checked_before_a_receipt(client, scene, tree):
    """The batch as a whole is refused at once (size, agency, signed callers only): no receipt."""

    from inspecta.exchange.models import Receipt
    from inspecta.reports.testing import submission_json

    agency, made, project, admin = scene["agency"], scene["made"], scene["project"], scene["admin"]
    creds = approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=["reports:submit"])
    item = submission_json(submission(agency, made, project, "C-1"))
    empty = _post(client, creds, {"reports": [], "async": True})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "batch_empty"
    too_many = _post(client, creds, {"reports": [item] * 101, "async": True})
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "batch_too_large"
    login_verified(client, admin)
    session = client.post(URL, json.dumps({"reports": [item], "async": True}), content_type="application/json")
    assert session.status_code == 403 and "签名调用" in session.json()["error"]["message"]
    assert not Receipt.objects.exists() and not Report.objects.exists()
