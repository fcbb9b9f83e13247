"""Projects over the signed exchange API (T/CECS 4.3.2: "created by authorities or
through the exchange API, shareable with other platforms"; CONTRACT §2-3). Requests are
signed by the independent ``http-message-signatures`` package (exchange test helpers)."""

from __future__ import annotations

import datetime
import json
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inspecta.exchange import services as exchange_services
from inspecta.exchange.testing import approved_client, prepare, send, sign_prepared, signed_call
from inspecta.projects.models import Project

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/"


def _body(code: str, region: str = "440106", **over) -> dict:
    return {
        "code": code,
        "name": f"平台项目{code}",
        "region": region,
        "address": "天河路 1 号",
        "longitude": "113.3",
        "latitude": "23.1",
        "supervision_number": f"JD-{code}",
        "parties": [{"role": "owner", "name": "业主", "people": [{"name": "王五"}]}],
    } | over


def _post(client, creds, path: str, body: dict, key: str | None = None, method: str = "POST"):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    prepared = prepare(method, path, json.dumps(body).encode(), **headers)
    sign_prepared(prepared, creds)
    return send(client, prepared)


@pytest.fixture
def platforms(tree):
    """The Guangzhou and Shenzhen authorities' platforms and the province's."""

    scopes = ["projects:read", "projects:write"]
    return {
        "gz": approved_client(applicant=tree["gz_admin"], reviewer=tree["gd_admin"], scopes=scopes, name="广州平台"),
        "sz": approved_client(applicant=tree["sz_admin"], reviewer=tree["gd_admin"], scopes=scopes, name="深圳平台"),
        "gz_read": approved_client(
            applicant=tree["gz_admin"], reviewer=tree["gd_admin"], scopes=["projects:read"], name="广州只读"
        ),
    }


def test_authority_client_creates_with_idempotency_and_region_limit(client, tree, platforms):
    gz = platforms["gz"]
    first = _post(client, gz, URL, _body("EX-1"), key="p-1")
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["external_id"] == "440106:EX-1" and data["updated_at"]
    project = Project.objects.get(code="EX-1")
    assert project.client_id == gz.client.pk and project.created_by is None
    # audited, naming the client
    record = project.history.get()
    assert record.history_type == "+" and record.acting_client_id == gz.client.pk and record.history_user is None
    replay = _post(client, gz, URL, _body("EX-1"), key="p-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true" and replay.json() == data
    assert Project.objects.filter(code="EX-1").count() == 1
    reused = _post(client, gz, URL, _body("EX-1", name="别的"), key="p-1")
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    # outside the client organisation's region: refused, nothing written
    outside = _post(client, gz, URL, _body("EX-SZ", region="440305"))
    assert outside.status_code == 403 and not Project.objects.filter(code="EX-SZ").exists()
    # read-only client: insufficient scope
    refused = _post(client, platforms["gz_read"], URL, _body("EX-2"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    # unsigned, bad input
    assert client.post(URL, json.dumps(_body("EX-3")), content_type="application/json").status_code == 401
    bad = _post(client, gz, URL, _body("EX-4", region="12"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    taken = _post(client, gz, URL, _body("EX-1"))
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "project_code_taken"
    assert set(Project.objects.values_list("code", flat=True)) == {"EX-1"}


def test_only_authority_clients_may_write(client, tree):
    from inspecta.reports.testing import approved_agency, project_with

    agency, agency_admin, _ = approved_agency(tree, 951)
    with pytest.raises(ValidationError):
        exchange_services.application_submit(
            actor=agency_admin,
            system_name="LIMS",
            auth_method="hmac-sha256",
            contact_name="张三",
            contact_phone="13800000000",
            scopes=["projects:write"],
        )
    lims = approved_client(applicant=agency_admin, reviewer=tree["gz_admin"], scopes=["projects:read"])
    refused = _post(client, lims, URL, _body("EX-LIMS"))
    assert refused.status_code == 403 and not Project.objects.filter(code="EX-LIMS").exists()
    # an agency's client reads only the projects its agency is a party of
    mine = project_with(tree, [agency], code="P-MINE")
    other = project_with(tree, [], code="P-OTHER")
    listing = signed_call(client, lims, "GET", URL + "?" + urlencode({"updated_since": "2000-01-01T00:00:00+08:00"}))
    assert listing.status_code == 200, listing.content
    codes = [p["code"] for p in listing.json()["items"]]
    assert codes == ["P-MINE"] and "P-OTHER" not in listing.content.decode()
    assert signed_call(client, lims, "GET", f"{URL}{other.pk}").status_code == 404
    assert signed_call(client, lims, "GET", f"{URL}{mine.pk}").status_code == 200


def test_update_by_client_and_other_region_gets_nothing(client, tree, platforms):
    gz, sz = platforms["gz"], platforms["sz"]
    created = _post(client, gz, URL, _body("EX-U"))
    pk = created.json()["id"]
    before = Project.objects.get(pk=pk).updated_at
    patch = {"name": "改名后的项目", "add_parties": [{"role": "contractor", "name": "某施工单位"}]}
    response = _post(client, gz, f"{URL}{pk}", patch, method="PATCH")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["name"] == "改名后的项目" and data["external_id"] == "440106:EX-U"
    assert {p["role"] for p in data["parties"]} == {"owner", "contractor"}
    project = Project.objects.get(pk=pk)
    assert project.updated_at > before and project.history.count() >= 2
    # the identity does not change; unknown or empty fields are refused
    assert _post(client, gz, f"{URL}{pk}", {"name": None}, method="PATCH").status_code == 422
    # another region's platform gets nothing and changes nothing
    other = _post(client, sz, f"{URL}{pk}", {"name": "深圳改的"}, method="PATCH")
    assert other.status_code == 404
    assert signed_call(client, sz, "GET", f"{URL}{pk}").status_code == 404
    listing = signed_call(client, sz, "GET", URL + "?" + urlencode({"updated_since": "2000-01-01T00:00:00Z"}))
    assert listing.status_code == 200 and listing.json()["count"] == 0 and "EX-U" not in listing.content.decode()
    assert Project.objects.get(pk=pk).name == "改名后的项目"
    # the read-only client may not write
    read_only = _post(client, platforms["gz_read"], f"{URL}{pk}", {"name": "x"}, method="PATCH")
    assert read_only.status_code == 403


def test_incremental_listing_for_mirroring(client, tree, platforms, monkeypatch):
    from inspecta.core.testing.pagination import paginator_of
    from inspecta.projects import api as projects_api

    gz = platforms["gz"]
    monkeypatch.setattr(paginator_of(projects_api.project_list), "page_size", 2)
    start = timezone.now() - datetime.timedelta(seconds=1)
    for i in range(5):
        assert _post(client, gz, URL, _body(f"EX-M{i}")).status_code == 201
    _post(client, platforms["sz"], URL, _body("EX-SZ", region="440305"))
    seen: list[str] = []
    query = {"updated_since": start.isoformat()}
    for _round in range(10):
        response = signed_call(client, platforms["gz_read"], "GET", URL + "?" + urlencode(query))
        assert response.status_code == 200, response.content
        data = response.json()
        assert data["count"] == 5
        seen += [p["external_id"] for p in data["items"]]
        if not data["next_cursor"]:
            break
        query = {"cursor": data["next_cursor"]}
    assert seen == [f"440106:EX-M{i}" for i in range(5)]
    # an update moves the project after the last sync point
    last_sync = timezone.now()
    pk = Project.objects.get(code="EX-M1").pk
    assert _post(client, gz, f"{URL}{pk}", {"address": "新地址"}, method="PATCH").status_code == 200
    again = signed_call(client, gz, "GET", URL + "?" + urlencode({"updated_since": last_sync.isoformat()}))
    assert [p["code"] for p in again.json()["items"]] == ["EX-M1"]
    for bad in ({"cursor": "!!"}, {"updated_since": "2026-01-01T00:00:00"}):
        response = signed_call(client, gz, "GET", URL + "?" + urlencode(bad))
        assert response.status_code == 422 and "error" in response.json()


def test_session_update_by_authority_of_the_region_only(client, tree):
    from inspecta.core.testing.access import login_verified
    from inspecta.reports.testing import project_with

    project = project_with(tree, [], code="P-SESSION")
    login_verified(client, tree["sz_supervisor"])
    refused = client.patch(f"{URL}{project.pk}", json.dumps({"name": "x"}), content_type="application/json")
    assert refused.status_code == 404
    client.logout()
    login_verified(client, tree["gz_inspector"])  # the station sees the project but may not change it
    assert client.get(f"{URL}{project.pk}").status_code == 200
    refused = client.patch(f"{URL}{project.pk}", json.dumps({"name": "x"}), content_type="application/json")
    assert refused.status_code == 403
    client.logout()
    login_verified(client, tree["gz_supervisor"])
    ok = client.patch(
        f"{URL}{project.pk}", json.dumps({"supervision_number": "JD-NEW"}), content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["supervision_number"] == "JD-NEW"
    record = Project.objects.get(pk=project.pk).history.order_by("-history_id").first()
    assert record.history_user == tree["gz_supervisor"] and record.supervision_number == "JD-NEW"
    bad = client.patch(f"{URL}{project.pk}", json.dumps({"station_id": 999999}), content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_station"
    assert Project.objects.get(pk=project.pk).name == "测试工程P-SESSION"
