"""A signed client does its whole job without a browser: it reads, by scope, what its
organisation owns (the registry and its change feeds, the catalog codes, its reports
with status, log_index, stamped PDF and QR), and nothing of anyone else's (404 as
missing). Signed by the independent ``http-message-signatures`` (CONTRACT §2)."""

from __future__ import annotations

import datetime
import io
import json
import shutil
import subprocess
from urllib.parse import quote

import pytest

from inspecta.exchange.testing import approved_client, signed_call
from inspecta.ledger import services as ledger_services
from inspecta.registry.testing import CEMENT
from inspecta.reports import codes
from inspecta.reports.testing import approved_agency, project_with, report_body

pytestmark = pytest.mark.django_db

LIMS_SCOPES = ["files:upload", "reports:submit", "registry:read", "sync:pull"]


def _error(response) -> dict:
    return response.json()["error"]


@pytest.fixture
def two_agencies(tree):
    """Agency A in Guangzhou with a LIMS that holds every agency scope; agency B in
    Shenzhen with its own LIMS; a report of each."""

    agency_a, admin_a, made_a = approved_agency(tree, 801)
    agency_b, admin_b, made_b = approved_agency(tree, 802, region="440300")
    project_a = project_with(tree, [agency_a], code="P-801")
    project_b = project_with(tree, [agency_b], code="P-802", region="440304")
    lims_a = approved_client(applicant=admin_a, reviewer=tree["gz_admin"], scopes=LIMS_SCOPES, name="LIMS-A")
    lims_b = approved_client(applicant=admin_b, reviewer=tree["sz_admin"], scopes=LIMS_SCOPES, name="LIMS-B")
    scene_a = {"agency": agency_a, "made": made_a, "project": project_a}
    scene_b = {"agency": agency_b, "made": made_b, "project": project_b}
    return {
        "a": {**scene_a, "admin": admin_a, "creds": lims_a},
        "b": {**scene_b, "admin": admin_b, "creds": lims_b},
    }


def _submit(client, side, number):
    body = json.dumps(report_body(side, number)).encode()
    response = signed_call(client, side["creds"], "POST", "/api/v1/reports/", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_lims_reads_its_registry_records_signed(client, two_agencies):
    a = two_agencies["a"]
    creds, agency, made = a["creds"], a["agency"], a["made"]
    base = f"/api/v1/registry/agencies/{agency.pk}"
    detail = signed_call(client, creds, "GET", base)
    assert detail.status_code == 200, detail.content
    assert detail.json()["name"] == agency.name
    staff = signed_call(client, creds, "GET", base + "/staff")
    assert staff.status_code == 200
    by_id = {s["id"]: s for s in staff.json()}
    tester = by_id[made["staff"].pk]
    assert tester["post_certificates"], tester  # the tester's post certificate
    assert {made["reviewer"].pk, made["approver"].pk} <= set(by_id)
    equipment = signed_call(client, creds, "GET", base + "/equipment").json()
    assert [e["asset_no"] for e in equipment] == [made["equipment"].asset_no]
    assert equipment[0]["calibration_valid_until"] is not None
    signatories = signed_call(client, creds, "GET", base + "/signatories").json()
    assert made["approver"].pk in {s["staff_id"] for s in signatories}
    sites = signed_call(client, creds, "GET", base + "/sites").json()
    assert sites[0]["id"] == made["site"].pk and sites[0]["capabilities"]
    # the catalog codes the LIMS maps its own to
    specialties = signed_call(client, creds, "GET", "/api/v1/core/catalog/specialties")
    assert specialties.status_code == 200 and specialties.json()
    code = specialties.json()[0]["code"]
    assert signed_call(client, creds, "GET", f"/api/v1/core/catalog/specialties/{code}/items").status_code == 200
    assert signed_call(client, creds, "GET", "/api/v1/core/regions").status_code == 200
    # the list shows its own agency only
    listed = signed_call(client, creds, "GET", "/api/v1/registry/agencies").json()
    assert [x["id"] for x in listed["items"]] == [agency.pk]


def test_another_agencys_registry_and_reports_look_missing(client, tree, two_agencies):
    a, b = two_agencies["a"], two_agencies["b"]
    report_b = _submit(client, b, "R-B-1")
    missing = 10**9
    for template in (
        "/api/v1/registry/agencies/{}",
        "/api/v1/registry/agencies/{}/staff",
        "/api/v1/registry/agencies/{}/equipment",
        "/api/v1/registry/agencies/{}/signatories",
    ):
        other = signed_call(client, a["creds"], "GET", template.format(b["agency"].pk))
        absent = signed_call(client, a["creds"], "GET", template.format(missing))
        assert (other.status_code, _error(other)["code"]) == (404, "not_found"), template
        assert other.json() == absent.json(), template
    for template in ("/api/v1/reports/{}", "/api/v1/reports/{}/pdf", "/api/v1/reports/{}/qr"):
        other = signed_call(client, a["creds"], "GET", template.format(report_b["id"]))
        absent = signed_call(client, a["creds"], "GET", template.format(missing))
        assert (other.status_code, _error(other)["code"]) == (404, "not_found"), template
        assert other.json() == absent.json(), template
    assert signed_call(client, a["creds"], "GET", "/api/v1/reports/").json()["items"] == []
    for kind in ("staff", "equipment", "signatories", "sites", "post-certificates", "capabilities"):
        feed = signed_call(client, a["creds"], "GET", f"/api/v1/registry/feed/{kind}")
        assert feed.status_code == 200, (kind, feed.content)
        assert {item["agency_id"] for item in feed.json()["items"]} == {a["agency"].pk}, kind
    # a city platform reads the registry of the agencies of its region, not the others'
    platform = approved_client(
        applicant=tree["gz_admin"], reviewer=tree["gd_admin"], scopes=["registry:read", "sync:pull"], name="广州平台"
    )
    listed = signed_call(client, platform, "GET", "/api/v1/registry/agencies").json()
    assert a["agency"].pk in [x["id"] for x in listed["items"]]
    assert b["agency"].pk not in [x["id"] for x in listed["items"]]
    assert signed_call(client, platform, "GET", f"/api/v1/registry/agencies/{a['agency'].pk}/staff").status_code == 200
    other = signed_call(client, platform, "GET", f"/api/v1/registry/agencies/{b['agency'].pk}/staff")
    assert other.status_code == 404
    feed = signed_call(client, platform, "GET", "/api/v1/registry/feed/staff").json()
    assert {s["agency_id"] for s in feed["items"]} == {a["agency"].pk}


def test_registry_feed_follows_changes_by_cursor(client, two_agencies):
    from inspecta.registry import services as registry_services

    a = two_agencies["a"]
    creds = a["creds"]
    since = quote((datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)).isoformat())
    first = signed_call(client, creds, "GET", f"/api/v1/registry/feed/equipment?updated_since={since}")
    assert first.status_code == 200, first.content
    page = first.json()
    assert [e["asset_no"] for e in page["items"]] == [a["made"]["equipment"].asset_no]
    assert page["next_cursor"] is None
    stamp = page["items"][0]["updated_at"]
    # a recalibration moves the record to the end of the feed
    equipment = a["made"]["equipment"]
    registry_services.equipment_save(
        actor=a["admin"],
        agency=a["agency"],
        pk=equipment.pk,
        data={
            "asset_no": equipment.asset_no,
            "name": equipment.name,
            "calibrated_on": datetime.date.today(),
            "calibration_valid_until": datetime.date.today() + datetime.timedelta(days=365),
            "parameters": [p.code for p in equipment.parameters.all()],
            "status": equipment.status,
        },
    )
    again = signed_call(client, creds, "GET", f"/api/v1/registry/feed/equipment?updated_since={quote(stamp)}").json()
    assert (
        again["items"][0]["calibration_valid_until"]
        == (datetime.date.today() + datetime.timedelta(days=365)).isoformat()
    )
    assert again["items"][0]["updated_at"] > stamp
    staff = signed_call(client, creds, "GET", f"/api/v1/registry/feed/staff?updated_since={since}").json()
    assert staff["count"] >= 3 and all(s["agency_id"] == a["agency"].pk for s in staff["items"])
    bad = signed_call(client, creds, "GET", "/api/v1/registry/feed/staff?cursor=nonsense")
    assert (bad.status_code, _error(bad)["code"]) == (422, "invalid_cursor")


def test_lims_reads_its_report_status_log_index_pdf_and_qr(client, two_agencies, tmp_path):
    a = two_agencies["a"]
    created = _submit(client, a, "R-A-1")
    read = signed_call(client, a["creds"], "GET", f"/api/v1/reports/{created['id']}")
    assert read.status_code == 200, read.content
    assert read.json()["status"] == "valid" and read.json()["serial_number"] == created["serial_number"]
    ledger_services.sequence_pending()
    sequenced = signed_call(client, a["creds"], "GET", f"/api/v1/reports/{created['id']}").json()
    assert isinstance(sequenced["log_index"], int)
    assert sequenced["versions"][-1]["log_index"] == sequenced["log_index"]
    listed = signed_call(client, a["creds"], "GET", "/api/v1/reports/").json()
    assert [r["id"] for r in listed["items"]] == [created["id"]]
    pdf = signed_call(client, a["creds"], "GET", f"/api/v1/reports/{created['id']}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == 1
    png = signed_call(client, a["creds"], "GET", f"/api/v1/reports/{created['id']}/qr")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    svg = signed_call(client, a["creds"], "GET", f"/api/v1/reports/{created['id']}/qr?format=svg")
    assert svg.status_code == 200 and b"<svg" in svg.content
    if shutil.which("zbarimg") and shutil.which("pdftoppm"):
        (tmp_path / "qr.png").write_bytes(png.content)
        decoded = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "qr.png")], capture_output=True, text=True)
        assert decoded.stdout.strip() == codes.verification_url(created["verification_code"])
        (tmp_path / "s.pdf").write_bytes(pdf.content)
        subprocess.run(
            ["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "s.pdf"), str(tmp_path / "s")], check=True
        )
        decoded = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "s.png")], capture_output=True, text=True)
        assert decoded.stdout.strip() == codes.verification_url(created["verification_code"])


def test_a_call_outside_the_keys_scopes_names_the_missing_scope(client, tree, two_agencies):
    a = two_agencies["a"]
    report = _submit(client, a, "R-A-2")
    narrow = approved_client(applicant=a["admin"], reviewer=tree["gz_admin"], scopes=["files:upload"], name="窄")
    for path, scope in (
        (f"/api/v1/registry/agencies/{a['agency'].pk}/staff", "registry:read"),
        ("/api/v1/registry/agencies", "registry:read"),
        ("/api/v1/core/catalog/specialties", "registry:read"),
        ("/api/v1/registry/feed/equipment", "sync:pull"),
        ("/api/v1/reports/", "reports:submit"),
        (f"/api/v1/reports/{report['id']}", "reports:submit"),
        (f"/api/v1/reports/{report['id']}/pdf", "reports:submit"),
    ):
        response = signed_call(client, narrow, "GET", path)
        assert response.status_code == 403, (path, response.content)
        error = _error(response)
        assert error["code"] == "insufficient_scope"
        assert error["details"]["scope"] == scope and error["details"]["granted"] == ["files:upload"], path
        assert scope in error["message"]
    # a signed call to an operation no scope opens says so (unsigned: not authenticated)
    response = signed_call(client, a["creds"], "GET", "/api/v1/reports/nonconformance")
    assert (response.status_code, _error(response)["code"]) == (403, "session_only")
    unsigned = client.get("/api/v1/reports/nonconformance")
    assert (unsigned.status_code, _error(unsigned)["code"]) == (401, "not_authenticated")


def test_records_submit_uploads_contracts_and_sync_push_registers_projects(client, tree, two_agencies):
    from inspecta.reports.testing import pdf_bytes, stored_file

    a = two_agencies["a"]
    records = approved_client(applicant=a["admin"], reviewer=tree["gz_admin"], scopes=["records:submit"], name="档案")
    scan = stored_file(a["agency"].organisation_id, pdf_bytes("contract 801"), name="contract.pdf")
    today = datetime.date.today()
    body = {
        "number": "HT-801",
        "client_name": "某建设单位",
        "amount": "1000.00",
        "signed_on": today.isoformat(),
        "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=300)).isoformat(),
        "test_items": [CEMENT],
        "scan_id": str(scan.pk),
    }
    path = f"/api/v1/projects/{a['project'].pk}/contracts"
    created = signed_call(client, records, "POST", path, json.dumps(body).encode())
    assert created.status_code == 201, created.content
    none = approved_client(applicant=a["admin"], reviewer=tree["gz_admin"], scopes=["files:upload"], name="仅上传")
    refused = signed_call(client, none, "POST", path, json.dumps(body | {"number": "HT-802"}).encode())
    assert _error(refused)["code"] == "insufficient_scope"
    assert _error(refused)["details"]["accepted"] == ["records:submit", "reports:submit"]
    # a lower platform pushes its projects up with sync:push
    pusher = approved_client(applicant=tree["gz_admin"], reviewer=tree["gd_admin"], scopes=["sync:push"], name="上报")
    project = {"code": "PUSH-1", "name": "上报工程", "region": "440106", "address": "天河路 2 号"}
    pushed = signed_call(client, pusher, "POST", "/api/v1/projects/", json.dumps(project).encode())
    assert pushed.status_code == 201, pushed.content
    outside = signed_call(
        client,
        pusher,
        "POST",
        "/api/v1/projects/",
        json.dumps(project | {"code": "PUSH-2", "region": "440304"}).encode(),
    )
    assert outside.status_code == 403
