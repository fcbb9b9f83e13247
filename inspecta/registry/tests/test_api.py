"""The registry API and the public list (CONTRACT §6a)."""

from __future__ import annotations

import json

import pytest

from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.registry.models import Equipment, Staff
from inspecta.registry.testing import approved, fill, id_number, register

pytestmark = pytest.mark.django_db


def test_public_list_shows_approved_with_no_personal_numbers(client, tree):
    agency, _admin = approved(tree, 11)
    draft, draft_admin = register(12)
    fill(draft, draft_admin, seed=12)
    response = client.get("/api/v1/public/agencies")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and len(body["items"]) == 1
    item = body["items"][0]
    assert item["name"] == agency.name and item["credit_code"] == agency.credit_code
    assert item["region"]["code"] == "440100"
    assert item["cma"]["status"] == "valid"
    assert [s["code"] for s in item["specialties"]] == ["SP01"]
    assert item["qualifications"][0]["specialties"][0]["code"] == "SP01"
    assert item["legal_representative"].endswith("*")
    text = response.content.decode()
    for staff in Staff.objects.filter(agency=agency):
        assert staff.id_number not in text and staff.mobile not in text and staff.name not in text
    # searchable by region and specialty
    assert client.get("/api/v1/public/agencies?region=440300").json()["count"] == 0
    assert client.get("/api/v1/public/agencies?region=440000").json()["count"] == 1
    assert client.get("/api/v1/public/agencies?specialty=SP04").json()["count"] == 0
    assert client.get("/api/v1/public/agencies?specialty=SP01").json()["count"] == 1
    assert client.get(f"/api/v1/public/agencies/{agency.pk}").json()["name"] == agency.name
    assert client.get(f"/api/v1/public/agencies/{draft.pk}").status_code == 404
    bad = client.get("/api/v1/public/agencies?region=44")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"


def test_public_page_lists_and_masks(client, tree):
    agency, _admin = approved(tree, 13)
    response = client.get("/agencies/?region=440100&specialty=SP01")
    assert response.status_code == 200
    html = response.content.decode()
    assert agency.name in html and agency.credit_code in html
    for staff in Staff.objects.filter(agency=agency):
        assert staff.id_number not in html
    assert agency.name not in client.get("/agencies/?region=440300").content.decode()


def test_other_city_supervisor_cannot_see_submission(client, tree):
    agency, admin = register(14)
    records = fill(agency, admin, seed=14)
    client.force_login(admin)
    assert client.post(f"/api/v1/registry/agencies/{agency.pk}/submit").status_code == 200
    secret = records["staff"].id_number
    login_verified(client, tree["sz_supervisor"])
    assert_gets_nothing(
        client,
        [
            f"/api/v1/registry/agencies/{agency.pk}",
            f"/api/v1/registry/agencies/{agency.pk}/staff",
            f"/registry/{agency.pk}/",
            f"/registry/{agency.pk}/staff/",
        ],
        secrets=[secret, agency.name],
    )
    listing = client.get("/api/v1/registry/agencies").json()
    assert agency.pk not in [a["id"] for a in listing["items"]]
    assert agency.name not in client.get("/registry/").content.decode()
    assert (
        client.post(f"/api/v1/registry/agencies/{agency.pk}/approve", "{}", content_type="application/json").status_code
        == 404
    )
    # the registration region's supervisor sees it in full and approves
    login_verified(client, tree["gz_supervisor"])
    staff = client.get(f"/api/v1/registry/agencies/{agency.pk}/staff").json()
    assert staff[0]["id_number"] == secret
    response = client.post(f"/api/v1/registry/agencies/{agency.pk}/approve", "{}", content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    # the province sees it, masked 6 + 4
    login_verified(client, tree["gd_admin"])
    staff = client.get(f"/api/v1/registry/agencies/{agency.pk}/staff").json()
    assert staff[0]["id_number"] == secret[:6] + "********" + secret[-4:]
    assert (
        client.post(
            f"/api/v1/registry/agencies/{agency.pk}/return",
            json.dumps({"reason": "x"}),
            content_type="application/json",
        ).status_code
        == 403
    )


def test_bad_input_is_4xx_and_changes_nothing(client, tree):
    agency, admin = register(15)
    client.force_login(admin)
    url = f"/api/v1/registry/agencies/{agency.pk}/staff"
    response = client.post(
        url, json.dumps({"name": "张三", "id_number": "440106198501010001"}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert "id_number" in response.json()["error"]["details"]["fields"]
    response = client.post(url, json.dumps({"name": "张三"}), content_type="application/json")
    assert response.status_code == 422
    response = client.post(
        url, json.dumps({"name": "张三", "id_number": id_number(1), "site": 999999}), content_type="application/json"
    )
    assert response.status_code == 400
    response = client.post(
        f"/api/v1/registry/agencies/{agency.pk}/equipment",
        json.dumps({"asset_no": "E1", "name": "x", "parameters": ["NOPE"]}),
        content_type="application/json",
    )
    assert response.status_code == 400
    response = client.post(f"/api/v1/registry/agencies/{agency.pk}/submit")
    assert response.status_code == 400  # nothing filled in
    assert not Staff.objects.filter(agency=agency).exists() and not Equipment.objects.filter(agency=agency).exists()
    other, _other_admin = register(16)
    response = client.post(
        f"/api/v1/registry/agencies/{other.pk}/staff",
        json.dumps({"name": "张三", "id_number": id_number(1)}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not Staff.objects.exists()


def test_openapi_documents_registry(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/public/agencies" in schema["paths"]
    assert "/api/v1/registry/agencies/{agency_id}/staff" in schema["paths"]


def test_staff_creation_is_idempotent(client, tree):
    """CONTRACT §3: the same Idempotency-Key and body create one record; another body is 422."""

    agency, admin = register(17)
    client.force_login(admin)
    url = f"/api/v1/registry/agencies/{agency.pk}/staff"
    body = json.dumps({"name": "李四", "id_number": id_number(7)})
    first = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY='"staff-001"')
    again = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY='"staff-001"')
    assert first.status_code == 201 and again.status_code == 201
    assert first.json() == again.json()
    other = json.dumps({"name": "王五", "id_number": id_number(8)})
    clash = client.post(url, other, content_type="application/json", HTTP_IDEMPOTENCY_KEY='"staff-001"')
    assert clash.status_code == 422
    assert Staff.objects.filter(agency=agency).count() == 1


def test_agency_detail_reads_for_its_agency_and_supervisor(client, tree):
    """``GET /api/v1/registry/agencies/{id}`` answers the agency itself and its city
    supervisor with the full record (region included), masked for the audience."""

    agency, admin = register(15)
    records = fill(agency, admin, seed=15)
    client.force_login(admin)
    own = client.get(f"/api/v1/registry/agencies/{agency.pk}")
    assert own.status_code == 200, own.content
    body = own.json()
    assert body["region"] == agency.region_id and body["name"] == agency.name and body["heads"]
    assert client.post(f"/api/v1/registry/agencies/{agency.pk}/submit").status_code == 200
    login_verified(client, tree["gz_supervisor"])
    seen = client.get(f"/api/v1/registry/agencies/{agency.pk}")
    assert seen.status_code == 200 and seen.json()["region"] == agency.region_id
    assert records["staff"].id_number not in seen.content.decode()


def test_change_request_decided_through_the_shared_decision(client, tree):
    """A key-fact change is decided by the ``core.decisions.Decision`` transitions; the
    API keeps the names and values it has always shown."""

    from django_fsm import TransitionNotAllowed

    from inspecta.registry import services
    from inspecta.registry.models import AgencyHead, ChangeRequest

    agency, admin = approved(tree, 331)
    head = AgencyHead.objects.get(agency=agency, role="legal_representative")
    change = services.head_save(actor=admin, agency=agency, pk=head.pk, data={"name": "新法人"})
    assert isinstance(change, ChangeRequest) and change.is_pending and change.applied_by == admin
    reviewer = tree["gz_supervisor"]
    services.change_request_return(actor=reviewer, change=change, reason="请补充任命文件")
    change.refresh_from_db()
    assert (change.status, change.decided_by, change.decision_reason) == ("rejected", reviewer, "请补充任命文件")
    assert change.decided_at is not None and change.applied_at <= change.decided_at
    with pytest.raises(TransitionNotAllowed):
        change.approve(reviewer, "")
    login_verified(client, reviewer)
    row = client.get(f"/api/v1/registry/agencies/{agency.pk}/change-requests").json()[0]
    assert row["status"] == "returned" and row["reason"] == "请补充任命文件"
    assert (row["submitted_by_id"], row["reviewed_by_id"]) == (admin.pk, reviewer.pk)


def test_approving_over_the_api_with_critical_findings_needs_confirm_findings(client, tree):
    from inspecta.registry import services
    from inspecta.registry.testing import with_expired_calibration

    agency, admin, equipment = with_expired_calibration(45)
    services.agency_submit(actor=admin, agency=agency)
    login_verified(client, tree["gz_supervisor"])
    url = f"/api/v1/registry/agencies/{agency.pk}/approve"
    refused = client.post(url, {"reason": "同意"}, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "validation_failed"
    assert equipment.name in json.dumps(refused.json(), ensure_ascii=False)
    done = client.post(url, {"reason": "同意", "confirm_findings": True}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "approved"
