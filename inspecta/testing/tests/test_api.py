"""Test data over the signed API: single and batch uploads answered per record,
idempotent, revisions with a reason, reads scoped to the agency (T/CECS 6.0.6; CONTRACT
§1-3; Guangxi 第七条(二)(三), 第十三条)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from inspecta.accounts.choices import Role
from inspecta.core.testing.access import login_verified
from inspecta.core.testing.factories import UserFactory
from inspecta.exchange.choices import Scope
from inspecta.exchange.testing import Credentials, approved_client, prepare, send, sign_prepared
from inspecta.ledger.models import Entry
from inspecta.testing.choices import TestingLogKind
from inspecta.testing.demo import demo_parameters
from inspecta.testing.models import TestRecord, TestRecordRevision
from inspecta.testing.testing import lab_fields, scene_with_sample

pytestmark = pytest.mark.django_db

API = "/api/v1/testing/records"


def _lims(tree: dict[str, Any], scene: dict[str, Any]) -> Credentials:
    return approved_client(
        applicant=scene["agency_admin"],
        reviewer=tree["gz_supervisor"],
        scopes=[Scope.TESTS_SUBMIT.value, Scope.FILES_UPLOAD.value],
        name="LIMS",
    )


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    s = scene_with_sample(tree)
    return s | {"lims": _lims(tree, s)}


def _json(fields: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(fields, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def call(creds: Credentials, method: str, path: str, body: Any = None, key: str = "") -> Any:
    raw = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if raw else {}
    if key:
        headers["Idempotency-Key"] = key
    return send(Client(), sign_prepared(prepare(method, path, raw, **headers), creds))


def test_a_batch_with_one_invalid_record_stores_the_others_and_a_replay_stores_nothing(scene: dict[str, Any]) -> None:
    records = [
        _json(lab_fields(scene, "B-1")),
        _json(lab_fields(scene, "B-2", sample="440106-2026-999999-X")),
        _json(lab_fields(scene, "B-3")),
        {**_json(lab_fields(scene, "B-4")), "tester_id": None},
    ]
    response = call(scene["lims"], "POST", f"{API}/batch", {"records": records}, key="batch-1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 2)
    by_index = {r["index"]: r for r in body["results"]}
    assert by_index[0]["status"] == by_index[2]["status"] == "accepted"
    assert by_index[1]["error"]["code"] == "test_sample_invalid"
    assert by_index[3]["error"]["code"] == "invalid_input"
    assert by_index[0]["record"]["number"] == "B-1" and by_index[0]["record"]["revision"] == 1
    assert set(TestRecord.objects.values_list("number", flat=True)) == {"B-1", "B-3"}
    assert Entry.objects.filter(kind=TestingLogKind.TEST_RECORD).count() == 2
    revision = TestRecordRevision.objects.get(record__number="B-1")
    assert revision.by is None and revision.client == scene["lims"].client

    replay = call(scene["lims"], "POST", f"{API}/batch", {"records": records}, key="batch-1")
    assert replay.status_code == 200 and replay.json() == body
    assert TestRecord.objects.count() == 2 and Entry.objects.filter(kind=TestingLogKind.TEST_RECORD).count() == 2

    again = call(scene["lims"], "POST", f"{API}/batch", {"records": records[:1]}, key="batch-2")
    assert again.json()["results"][0]["error"]["code"] == "test_record_exists"


def test_bad_input_is_refused_in_plain_chinese_and_changes_nothing(scene: dict[str, Any]) -> None:
    fields = _json(lab_fields(scene))
    naive = {**fields, "started_at": "2026-12-01T08:00:00"}
    for body in (naive, {**fields, "kind": "field"}, {**fields, "parameters": []}, {"records": []}):
        path = f"{API}/batch" if "records" in body else API
        response = call(scene["lims"], "POST", path, body)
        assert response.status_code == 422, response.content
        assert response.json()["error"]["message"]
    too_many = call(scene["lims"], "POST", f"{API}/batch", {"records": [fields] * 101})
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "batch_too_large"
    assert not TestRecord.objects.exists()


def test_a_revision_over_the_api_needs_its_reason_and_keeps_the_first(scene: dict[str, Any]) -> None:
    created = call(scene["lims"], "POST", API, _json(lab_fields(scene, "R-1")))
    assert created.status_code == 201, created.content
    record_id = created.json()["id"]
    fixed = demo_parameters(["48.2", "47.9", "49.1", "48.6", "47.5", "49.0"])
    refused = call(
        scene["lims"], "POST", f"{API}/{record_id}/revisions", {"reason": "改", "changes": {"number": "R-9"}}
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "field_not_updatable"
    revised = call(
        scene["lims"],
        "POST",
        f"{API}/{record_id}/revisions",
        {"reason": "第 6 块录入错误", "changes": {"parameters": fixed}},
    )
    assert revised.status_code == 200, revised.content
    body = revised.json()
    assert body["revision"] == 2 and [r["changed"] for r in body["revisions"]] == [[], ["parameters"]]
    assert body["revisions"][1]["reason"] == "第 6 块录入错误" and body["revisions"][1]["by_client"] is True
    assert body["parameters"][2]["values"][-1] == "49.0"


def test_another_agency_and_region_see_nothing(tree: dict[str, Any], scene: dict[str, Any]) -> None:
    created = call(scene["lims"], "POST", API, _json(lab_fields(scene, "S-1")))
    record_id = created.json()["id"]
    other = scene_with_sample(tree, 2, seed=33)
    other_lims = _lims(tree, other)
    assert call(other_lims, "GET", f"{API}/{record_id}").status_code == 404
    assert call(other_lims, "GET", API).json()["count"] == 0
    revise = call(other_lims, "POST", f"{API}/{record_id}/revisions", {"reason": "改", "changes": {"standard": "X"}})
    assert revise.status_code == 404
    assert call(scene["lims"], "GET", API).json()["count"] == 1
    for user, seen in ((tree["gz_supervisor"], 1), (tree["sz_supervisor"], 0), (other["agency_admin"], 0)):
        listing = login_verified(Client(), user).get(API).json()
        assert listing["count"] == seen, user
    assert TestRecord.objects.get().standard == "GB 175-2023"


def test_a_tester_uploads_from_the_web_session_and_a_receiver_may_not(scene: dict[str, Any]) -> None:
    tester = UserFactory(username="tester1", organisation=scene["agency"].organisation, roles=[Role.TESTER])
    created = login_verified(Client(), tester).post(
        API, _json(lab_fields(scene, "W-1")), content_type="application/json"
    )
    assert created.status_code == 201, created.content
    refused = login_verified(Client(), scene["receiver"]).post(
        API, _json(lab_fields(scene, "W-2")), content_type="application/json"
    )
    assert refused.status_code == 403
    assert list(TestRecord.objects.values_list("number", flat=True)) == ["W-1"]
