"""Report pages and API: scoping, submission over HTTP, public verification."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inspecta.core.testing.access import assert_gets_nothing, login_verified
from inspecta.ledger.services import checkpoint_publish, sequence_pending
from inspecta.reports import codes, services
from inspecta.reports.models import Report, ReportDraft
from inspecta.reports.testing import (
    approved_agency,
    bind_accounts,
    pdf_bytes,
    project_with,
    stored_file,
    submission,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree):
    agency, admin, made = approved_agency(tree, 601)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project))
    return {"tree": tree, "agency": agency, "admin": admin, "made": made, "project": project, "report": report}


def _json_body(kwargs):
    body = {k: v for k, v in kwargs.items() if k != "agency"}
    for key, value in list(body.items()):
        if isinstance(value, datetime.datetime | datetime.date):
            body[key] = value.isoformat()
    body["pdf_id"] = str(body["pdf_id"])
    return body


def test_submit_over_api_with_idempotency(client, scene):
    login_verified(client, scene["admin"])
    body = _json_body(submission(scene["agency"], scene["made"], scene["project"], "R-API"))
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    first = client.post("/api/v1/reports/", json.dumps(body), content_type="application/json", **headers)
    assert first.status_code == 201, first.content
    again = client.post("/api/v1/reports/", json.dumps(body), content_type="application/json", **headers)
    assert again.status_code == 201 and again.json()["serial_number"] == first.json()["serial_number"]
    assert Report.objects.count() == 2
    data = first.json()
    assert data["serial_no"] == 2 and data["verification_url"].endswith("/v/" + data["verification_code"])


def test_bad_input_is_4xx_and_changes_nothing(client, scene):
    login_verified(client, scene["admin"])
    body = _json_body(submission(scene["agency"], scene["made"], scene["project"], "R-BAD"))
    before = Report.objects.count()
    for change in ({"tested_on": "not-a-date"}, {"parameters": []}, {"pdf_id": "x"}, {"test_item": "NOPE"}):
        response = client.post("/api/v1/reports/", json.dumps(body | change), content_type="application/json")
        assert 400 <= response.status_code < 500 and "error" in response.json()
    response = client.post(
        "/api/v1/reports/",
        json.dumps(body | {"tester_id": scene["made"]["reviewer"].pk}),
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "tester_certificate_invalid"
    assert Report.objects.count() == before
    assert client.post("/api/v1/reports/", "{", content_type="application/json").status_code in (400, 422)


def test_city_supervisor_outside_region_gets_nothing(client, scene):
    report = scene["report"]
    tree = scene["tree"]
    urls = [
        f"/reports/{report.pk}/",
        f"/reports/{report.pk}/qr.png",
        f"/reports/{report.pk}/stamped.pdf",
        f"/api/v1/reports/{report.pk}",
        f"/projects/{scene['project'].pk}/",
        f"/api/v1/projects/{scene['project'].pk}",
    ]
    login_verified(client, tree["sz_supervisor"])
    assert_gets_nothing(client, urls, secrets=[report.serial_number, report.verification_code])
    listing = client.get("/reports/").content.decode()
    assert report.serial_number not in listing
    assert client.get("/api/v1/reports/").json()["count"] == 0
    client.logout()
    login_verified(client, tree["gz_supervisor"])
    assert client.get(f"/reports/{report.pk}/").status_code == 200
    assert client.get(f"/api/v1/reports/{report.pk}").status_code == 200
    assert report.serial_number in client.get("/reports/?conclusion=qualified").content.decode()
    export = client.get("/reports/export.xlsx?conclusion=qualified")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")
    login_verified(client, tree["gz_inspector"])
    assert client.get(f"/projects/{scene['project'].pk}/").status_code == 200


def test_public_verification_json_and_page(client, scene):
    report = scene["report"]
    sequence_pending()
    checkpoint_publish()
    data = client.get(f"/api/v1/public/reports/{report.verification_code}").json()
    for key in ("status", "serial_number", "report_number", "agency", "issued_at", "pdf_sha256", "log_index"):
        assert key in data
    assert data["status"] == "valid" and data["log_index"] is not None and data["proof"]["hashes"] is not None
    body = json.dumps(data, ensure_ascii=False)
    assert scene["made"]["staff"].name not in body and "李四" not in body
    page = client.get(f"/v/{report.verification_code}")
    assert page.status_code == 200 and 'data-status="valid"' in page.content.decode()
    assert "proof-data" in page.content.decode()
    # a mistyped character is caught by the check character and reveals nothing
    code = report.verification_code
    typo = code[:3] + ("0" if code[3] != "0" else "1") + code[4:]
    response = client.get(f"/api/v1/public/reports/{typo}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "mistyped_code"
    assert 'data-status="mistyped"' in client.get(f"/v/{typo}").content.decode()
    unknown = codes.new_verification_code()
    assert client.get(f"/api/v1/public/reports/{unknown}").json()["error"]["code"] == "unknown_code"
    assert client.get(f"/v/{unknown}").status_code == 404
    # file check, API and page
    version = report.versions.get()
    original = services._read_file(version.pdf)
    match = client.post(
        f"/api/v1/public/reports/{code}/check-file", {"file": SimpleUploadedFile("r.pdf", original)}
    ).json()
    assert match["matches"] and match["version"] == 1
    other = client.post(f"/api/v1/public/reports/{code}/check-file", {"file": SimpleUploadedFile("r.pdf", b"%PDF-x")})
    assert other.json()["matches"] is False
    page = client.post(f"/v/{code}", {"file": SimpleUploadedFile("r.pdf", original)})
    assert 'data-file="match"' in page.content.decode()


def test_public_page_shows_beijing_time(client, scene):
    """Instants on the public page are in the platform's time zone (Asia/Shanghai), not
    the UTC text of the JSON: a report issued at 23:30 UTC shows the next day."""

    report = scene["report"]
    issued = datetime.datetime(2026, 3, 4, 23, 30, 5, tzinfo=datetime.UTC)
    Report.objects.filter(pk=report.pk).update(issued_at=issued)
    report.versions.update(created_at=issued)
    page = client.get(f"/v/{report.verification_code}").content.decode()
    assert "2026-03-05 07:30:05" in page and "2026-03-04T23:30" not in page
    assert "v1 · 2026-03-05 07:30" in page
    services.report_revoke(actor=scene["tree"]["gz_supervisor"], report=Report.objects.get(pk=report.pk), reason="伪造")
    revoked_at = timezone.localtime(Report.objects.get(pk=report.pk).revoked_at).strftime("%Y-%m-%d %H:%M:%S")
    page = client.get(f"/v/{report.verification_code}").content.decode()
    assert "撤销时间" in page and revoked_at in page
    assert (
        client.get(f"/api/v1/public/reports/{report.verification_code}")
        .json()["issued_at"]
        .startswith("2026-03-04T23:30:05")
    )


def test_proof_recomputes_to_root(client, scene):
    import base64
    import hashlib

    from inspecta.ledger import merkle

    sequence_pending()
    checkpoint_publish()
    proof = client.get(f"/api/v1/public/reports/{scene['report'].verification_code}").json()["proof"]
    entry = base64.b64decode(proof["entry"])
    leaf = hashlib.sha256(b"\x00" + entry).digest()
    assert base64.b64encode(leaf).decode() == proof["leaf_hash"]
    root = merkle.root_from_inclusion_proof(
        leaf, proof["index"], proof["size"], [base64.b64decode(h) for h in proof["hashes"]]
    )
    assert base64.b64encode(root).decode() == proof["root"]


def test_public_rate_limit(client, scene, settings):
    settings.INSPECTA_VERIFY_RATE_PER_MINUTE = 3
    from django.core.cache import cache

    cache.clear()
    code = scene["report"].verification_code
    statuses = [client.get(f"/api/v1/public/reports/{code}").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[-1] == 429
    cache.clear()


def test_amendment_end_to_end_over_http(client, scene):
    tree = scene["tree"]
    report = scene["report"]
    old_sha = report.versions.get().pdf_sha256
    login_verified(client, scene["admin"])
    response = client.post(
        f"/reports/{report.pk}/amend/",
        {"reason": "结论笔误", "conclusion": "nonconforming", "pdf": SimpleUploadedFile("n.pdf", pdf_bytes("v2"))},
    )
    assert response.status_code == 302
    amendment = report.amendments.get()
    client.logout()
    login_verified(client, tree["sz_supervisor"])
    assert (
        client.post(
            f"/api/v1/reports/amendments/{amendment.pk}/approve", {}, content_type="application/json"
        ).status_code
        == 404
    )
    client.logout()
    login_verified(client, tree["gz_supervisor"])
    response = client.post(
        f"/api/v1/reports/amendments/{amendment.pk}/approve", {"reason": "同意"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "approved"
    report.refresh_from_db()
    versions = list(report.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2] and versions[0].pdf_sha256 == old_sha
    public = client.get(f"/api/v1/public/reports/{report.verification_code}").json()
    assert public["status"] == "amended" and len(public["versions"]) == 2
    page = client.get(f"/v/{report.verification_code}").content.decode()
    assert 'data-status="amended"' in page and old_sha in page and versions[1].pdf_sha256 in page
    assert client.get("/reports/nonconformance/", follow=True).status_code == 200
    response = client.post(f"/api/v1/reports/{report.pk}/revoke", {"reason": ""}, content_type="application/json")
    assert response.status_code == 400
    response = client.post(f"/api/v1/reports/{report.pk}/revoke", {"reason": "伪造"}, content_type="application/json")
    assert response.json()["status"] == "revoked"
    assert 'data-status="revoked"' in client.get(f"/v/{report.verification_code}").content.decode()


def test_web_amendment_changes_only_the_filled_fields(client, scene):
    """The agency fills in only what changes; the page shows each field before and after;
    an approval makes version 2 with exactly those changes; an empty application, a date
    out of order or a report number the agency already used is refused, nothing written."""

    from inspecta.reports.models import Amendment

    tree, report = scene["tree"], scene["report"]
    other = services.report_submit(
        actor=scene["admin"], **submission(scene["agency"], scene["made"], scene["project"], "R-USED")
    )
    v1 = report.versions.get()
    login_verified(client, scene["admin"])
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert 'data-testid="amendment-form"' in page
    for bad in (
        {"reason": "无内容"},
        {"reason": "日期", "reported_on": (v1.data["tested_on"][:4] + "-01-01")},
        {"reason": "编号", "report_number": "R-USED"},
    ):
        client.post(f"/reports/{report.pk}/amend/", bad)
        assert not Amendment.objects.filter(report=report).exists(), bad
    response = client.post(
        f"/reports/{report.pk}/amend/",
        {"reason": "部位笔误", "project_part": "二层梁", "tested_on": v1.data["tested_on"]},
    )
    assert response.status_code == 302
    amendment = report.amendments.get()
    assert amendment.data == {"project_part": "二层梁", "tested_on": v1.data["tested_on"]}
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert "一层柱" in page and "<strong>二层梁</strong>" in page
    client.logout()
    login_verified(client, tree["gz_supervisor"])
    assert client.post(f"/reports/amendments/{amendment.pk}/approve/", {"reason": "同意"}).status_code == 302
    v2 = report.versions.get(number=2)
    assert v2.data == {**v1.data, "project_part": "二层梁"} and v2.pdf_sha256 == v1.pdf_sha256
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert "一层柱" in page and "二层梁" in page  # before and after, after the approval too
    assert other.report_number == "R-USED"


def test_web_form_prepares_a_draft_not_a_report(client, scene):
    """The web form stores a draft waiting for the tester's sign-off: no report, no
    serial number, no typed times; a file that is not a PDF is refused."""

    form = _web_form(scene, "R-WEB")
    login_verified(client, scene["admin"])
    page = client.get("/reports/new/")
    assert page.status_code == 200 and 'name="tested_at"' not in page.content.decode()
    form["pdf"] = SimpleUploadedFile("r.pdf", pdf_bytes("web"))
    response = client.post("/reports/new/", form)
    draft = ReportDraft.objects.get(report_number="R-WEB")
    assert response.status_code == 302 and response["Location"] == f"/reports/drafts/{draft.pk}/"
    assert draft.status == "testing" and draft.prepared_by == scene["admin"]
    assert not Report.objects.filter(report_number="R-WEB").exists()
    form["pdf"] = SimpleUploadedFile("r.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    form["report_number"] = "R-WEB2"
    assert client.post("/reports/new/", form).status_code == 400
    assert not ReportDraft.objects.filter(report_number="R-WEB2").exists()


def test_web_form_offers_the_agencys_own_records(client, scene, tree):
    """The submission form lists the agency's projects, capable items, staff,
    signatories and equipment; the parameters follow the chosen item (htmx); another
    agency's person is not a choice and is refused without writing anything."""

    from inspecta.reports.forms import ReportSubmitForm

    other, _other_admin, other_made = approved_agency(tree, 603)
    login_verified(client, scene["admin"])
    unbound = client.get("/reports/new/").context["form"]
    assert [pk for pk, _label in unbound.fields["tester_id"].choices if pk] == []  # no account: cannot sign
    bind_accounts(scene["agency"], scene["admin"], scene["made"], 601)
    page = client.get("/reports/new/")
    form = page.context["form"]
    assert sorted(f.name for s in form.sections() for f in s["fields"]) == sorted(ReportSubmitForm.base_fields)
    projects = [pk for pk, _label in form.fields["project_id"].choices if pk]
    assert projects == [scene["project"].pk]
    staff_ids = {pk for pk, _label in form.fields["tester_id"].choices if pk}
    assert scene["made"]["staff"].pk in staff_ids and other_made["staff"].pk not in staff_ids
    signatories = {pk for pk, _label in form.fields["signatory_id"].choices if pk}
    assert signatories and signatories <= staff_ids
    items = [code for _group, options in form.fields["test_item"].choices[1:] for code, _label in options]
    kwargs = submission(scene["agency"], scene["made"], scene["project"], "R-WEB3")
    assert kwargs["test_item"] in items
    assert set(kwargs["equipment"]) <= {code for code, _label in form.fields["equipment"].choices}
    html = page.content.decode()
    assert 'hx-get="/reports/new/parameters"' in html and other.name not in html

    fragment = client.get("/reports/new/parameters", {"test_item": kwargs["test_item"]}).content.decode()
    assert all(f'value="{p}"' in fragment for p in kwargs["parameters"])
    assert "先选择检测项目" in client.get("/reports/new/parameters").content.decode()

    posted = {
        k: (v.strftime("%Y-%m-%dT%H:%M") if isinstance(v, datetime.datetime) else v)
        for k, v in kwargs.items()
        if k not in ("agency", "pdf_id", "results") and v is not None
    }
    posted["test_basis"] = "\n".join(kwargs["test_basis"])
    posted["tester_id"] = other_made["staff"].pk
    posted["pdf"] = SimpleUploadedFile("r.pdf", pdf_bytes("web3"))
    refused = client.post("/reports/new/", posted)
    assert refused.status_code == 400 and "tester_id" in refused.context["form"].errors
    assert not Report.objects.filter(report_number="R-WEB3").exists()

    client.logout()
    login_verified(client, tree["gz_supervisor"])
    assert client.get("/reports/new/parameters", {"test_item": kwargs["test_item"]}).status_code == 403


@pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")), reason="zbar-tools/poppler not installed"
)
def test_qr_png_and_stamped_pdf_decode_with_zbarimg(client, scene, tmp_path):
    report = scene["report"]
    login_verified(client, scene["admin"])
    png = client.get(f"/reports/{report.pk}/qr.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    (tmp_path / "qr.png").write_bytes(png.content)
    url = codes.verification_url(report.verification_code)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "qr.png")], capture_output=True, text=True)
    assert decoded.stdout.strip() == url
    svg = client.get(f"/reports/{report.pk}/qr.svg")
    assert svg.status_code == 200 and b"<svg" in svg.content
    stamped = client.get(f"/reports/{report.pk}/stamped.pdf")
    assert stamped.status_code == 200
    (tmp_path / "s.pdf").write_bytes(b"".join(stamped.streaming_content))  # the stored stamped copy
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "s.pdf"), str(tmp_path / "s")], check=True
    )
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "s.png")], capture_output=True, text=True)
    assert decoded.stdout.strip() == url
    # the URL opens the right verification page
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200 and report.serial_number in page.content.decode()


def test_unknown_file_of_other_agency_is_refused(scene, tree):
    other, _admin, _made = approved_agency(tree, 602)
    foreign = stored_file(other.organisation_id, pdf_bytes("foreign"))
    from inspecta.core.errors import AppError

    with pytest.raises(AppError) as exc:
        services.report_submit(
            actor=scene["admin"], **submission(scene["agency"], scene["made"], scene["project"], "R-F", pdf=foreign)
        )
    assert exc.value.code == "unknown_file"


def test_check_rules_and_nonconformance_api(client, tree, scene):
    login_verified(client, tree["gz_supervisor"])
    rules = {r["code"]: r for r in client.get("/api/v1/reports/check-rules").json()}
    assert rules["too_many_agencies"]["action"] == "flag" and rules["capability_missing"]["action"] == "reject"
    refused = client.put(
        "/api/v1/reports/check-rules/capability_missing", {"action": "flag"}, content_type="application/json"
    )
    assert refused.status_code == 403
    client.logout()
    login_verified(client, tree["gd_admin"])
    bad = client.put("/api/v1/reports/check-rules/nope", {"action": "flag"}, content_type="application/json")
    assert bad.status_code == 400
    ok = client.put(
        "/api/v1/reports/check-rules/capability_missing", {"action": "flag"}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["action"] == "flag"
    services.report_submit(
        actor=scene["admin"],
        **submission(scene["agency"], scene["made"], scene["project"], "R-NC", conclusion="nonconforming"),
    )
    client.logout()
    login_verified(client, tree["gz_inspector"])
    assert client.get("/api/v1/reports/nonconformance").json()["count"] == 1
    client.logout()
    login_verified(client, tree["sz_supervisor"])
    assert client.get("/api/v1/reports/nonconformance").json()["count"] == 0


def test_list_page_query_count(client, scene, django_assert_max_num_queries):
    for i in range(5):
        services.report_submit(
            actor=scene["admin"], **submission(scene["agency"], scene["made"], scene["project"], f"R-Q{i}")
        )
    login_verified(client, scene["tree"]["gz_supervisor"])
    client.get("/reports/")  # warm the session and caches
    # 16 on PostgreSQL: the planner's count estimate and the bell's unread messages
    with django_assert_max_num_queries(16):
        response = client.get("/reports/")
    assert response.status_code == 200 and "R-Q4" in response.content.decode()


def test_list_filters_offer_only_what_the_user_may_see(client, scene, tree):
    """Region, agency and item filters of the report list are choices within the user's
    scope; a project is found by code or name; an agency sees no agency filter."""

    sz_agency, sz_admin, sz_made = approved_agency(tree, 602, region="440300")
    sz_project = project_with(tree, [sz_agency], code="SZ-001", region="440304")
    services.report_submit(actor=sz_admin, **submission(sz_agency, sz_made, sz_project, "R-SZ"))
    other = project_with(tree, [scene["agency"]], code="GZ-OTHER")
    services.report_submit(actor=scene["admin"], **submission(scene["agency"], scene["made"], other, "R-OTHER"))

    login_verified(client, tree["gz_supervisor"])
    page = client.get("/reports/")
    form = page.context["form"]
    regions = [code for code, _label in form.fields["region"].choices if code]
    assert regions and all(code.startswith("4401") and code != "440100" for code in regions)
    agencies = [pk for pk, _label in form.fields["agency"].choices if pk]
    assert agencies == [scene["agency"].pk]
    html = page.content.decode()
    assert sz_agency.name not in html and "R-SZ" not in html

    found = client.get("/reports/", {"project_q": "GZ-OTHER"}).content.decode()
    assert "R-OTHER" in found and scene["report"].report_number not in found
    by_name = client.get("/reports/", {"project_q": "测试工程P-001"}).content.decode()
    assert "R-OTHER" not in by_name and scene["report"].report_number in by_name
    by_agency = client.get("/reports/", {"agency": sz_agency.pk}).content.decode()
    assert "R-SZ" not in by_agency  # not a choice: the form refuses it, the list stays in scope
    assert 'data-testid="filter-errors"' in by_agency
    both = client.get("/reports/", {"agency": sz_agency.pk, "project_q": "GZ-OTHER"}).content.decode()
    assert "R-OTHER" in both and scene["report"].report_number not in both  # the valid filter still applies
    export = client.get("/reports/export.xlsx", {"project_q": "GZ-OTHER"})
    assert export.status_code == 200

    client.logout()
    login_verified(client, scene["admin"])
    form = client.get("/reports/").context["form"]
    assert "agency" not in form.fields


def test_a_multipart_body_without_boundary_is_400_not_500(scene):
    """A broken multipart body gets the envelope's 400 from the API (Django answers 400
    for pages; the API's catch-all made it a 500: the CSRF check of a signed-in call and
    a file upload both parse the body), and changes nothing."""

    from django.test import Client

    report = scene["report"]
    client = Client(enforce_csrf_checks=True)
    login_verified(client, scene["tree"]["gz_supervisor"])
    client.get("/")  # the csrftoken cookie
    token = client.cookies["csrftoken"].value
    for path in (f"/api/v1/reports/{report.pk}/revoke", f"/api/v1/reports/{report.pk}/printed"):
        response = client.generic(
            "POST", path, b'{"reason": "x"}', content_type="multipart/form-data", headers={"X-CSRFToken": token}
        )
        assert response.status_code == 400, (path, response.content)
        assert response.json()["error"]["code"] == "invalid_input"
    public = Client().generic(
        "POST",
        f"/api/v1/public/reports/{report.verification_code}/check-file",
        b"%PDF-1.7 not a form",
        content_type="multipart/form-data",
    )
    assert public.status_code == 400 and public.json()["error"]["code"] == "invalid_input", public.content
    report.refresh_from_db()
    assert report.status == "valid" and report.revoked_at is None


def test_report_page_offers_exactly_what_the_services_accept(client, scene):
    """The revoke card and the agency's actions appear for those, and only those, whose
    request the service would accept (reports.permissions)."""

    from django.test import Client

    tree, report = scene["tree"], scene["report"]
    url = f"/reports/{report.pk}/"
    viewers = {
        "gz_supervisor": tree["gz_supervisor"],
        "gd_admin": tree["gd_admin"],
        "th_admin": tree["th_admin"],
        "gz_inspector": tree["gz_inspector"],
        "agency": scene["admin"],
    }
    decides = {"gz_supervisor", "gd_admin", "th_admin"}
    for name, user in viewers.items():
        page = login_verified(Client(), user).get(url)
        assert page.status_code == 200, name
        body = page.content.decode()
        assert ('data-testid="revoke"' in body) == (name in decides), name
        assert ('data-testid="amendment-form"' in body) == (name == "agency"), name
    # the station inspector sees the report but may not revoke it: the service agrees
    inspector = login_verified(Client(), tree["gz_inspector"])
    inspector.post(f"/reports/{report.pk}/revoke/", {"reason": "试图撤销"})
    report.refresh_from_db()
    assert report.status != "revoked"
    supervisor = login_verified(Client(), tree["gz_supervisor"])
    supervisor.post(f"/reports/{report.pk}/revoke/", {"reason": "报告数据有误"})
    report.refresh_from_db()
    assert report.status == "revoked"


def test_bad_action_input_re_renders_the_report_page_with_400_and_changes_nothing(client, scene):
    from django.test import Client

    tree, report, admin = scene["tree"], scene["report"], scene["admin"]
    supervisor = login_verified(Client(), tree["gz_supervisor"])
    # a revocation without a reason
    page = supervisor.post(f"/reports/{report.pk}/revoke/", {"reason": ""})
    assert page.status_code == 400
    assert 'data-testid="revoke"' in page.content.decode() and "invalid-feedback" in page.content.decode()
    # in the platform's own words, not Django's
    assert "请填写此项。" in page.content.decode() and "这个字段是必填项" not in page.content.decode()
    report.refresh_from_db()
    assert report.status != "revoked"
    # an amendment without a reason
    agency = login_verified(Client(), admin)
    page = agency.post(f"/reports/{report.pk}/amend/", {"reason": "", "conclusion": "nonconforming"})
    assert page.status_code == 400 and 'data-testid="amendment-form"' in page.content.decode()
    assert not report.amendments.exists()
    # a rejection without a reason, on a real pending amendment
    amendment = services.amendment_apply(actor=admin, report=report, reason="笔误", data={"project_part": "二层柱"})
    page = supervisor.post(f"/reports/amendments/{amendment.pk}/reject/", {"reason": ""})
    assert page.status_code == 400 and 'data-testid="decision-error"' in page.content.decode()
    amendment.refresh_from_db()
    assert amendment.status == "pending"


def test_refused_printed_mark_re_renders_the_report_page_and_changes_nothing(client, scene):
    from django.test import Client

    tree, report, admin = scene["tree"], scene["report"], scene["admin"]
    supervisor = login_verified(Client(), tree["gz_supervisor"])
    assert supervisor.post(f"/reports/{report.pk}/printed/").status_code == 403
    agency = login_verified(Client(), admin)
    assert 'data-testid="printed"' in agency.get(f"/reports/{report.pk}/").content.decode()
    assert agency.post(f"/reports/{report.pk}/printed/").status_code == 302
    report.refresh_from_db()
    printed_at = report.printed_at
    assert printed_at is not None
    supervisor.post(f"/reports/{report.pk}/revoke/", {"reason": "报告数据有误"})
    page = agency.post(f"/reports/{report.pk}/printed/")
    html = page.content.decode()
    assert page.status_code == 409 and "报告已撤销" in html and 'data-testid="print-error"' in html
    assert 'data-testid="printed"' not in html
    report.refresh_from_db()
    assert report.printed_at == printed_at and report.status == "revoked"


def _web_form(scene, number):
    kwargs = submission(scene["agency"], scene["made"], scene["project"], number)
    form = {
        k: (v.strftime("%Y-%m-%dT%H:%M") if isinstance(v, datetime.datetime) else v)
        for k, v in kwargs.items()
        if k not in ("agency", "pdf_id", "results") and v is not None
    }
    form["parameters"] = list(kwargs["parameters"])
    form["equipment"] = list(kwargs["equipment"])
    form["test_basis"] = "\n".join(kwargs["test_basis"])
    for key in ("tested_at", "reviewed_at", "approved_at"):  # recorded by the sign-offs, not typed
        form.pop(key)
    bind_accounts(scene["agency"], scene["admin"], scene["made"], 601)
    return form


def test_web_form_keeps_the_uploaded_pdf_when_re_shown_and_says_so_once(client, scene):
    """A refused submission re-shows the form with the PDF kept (no second choice of the
    file); the corrected post uses it; the report page then shows one success message."""

    login_verified(client, scene["admin"])
    form = _web_form(scene, scene["report"].report_number)  # number already taken: refused
    form["pdf"] = SimpleUploadedFile("kept.pdf", pdf_bytes("kept"))
    refused = client.post("/reports/new/", form)
    html = refused.content.decode()
    assert refused.status_code == 400 and 'data-testid="pdf-kept"' in html and "kept.pdf" in html
    kept = refused.context["form"].kept_pdf
    assert kept is not None and f'value="{kept.pk}"' in html
    form.pop("pdf")
    form.update(report_number="R-KEPT", pdf_kept=str(kept.pk))
    done = client.post("/reports/new/", form, follow=True)
    assert done.status_code == 200
    draft = ReportDraft.objects.get(report_number="R-KEPT")
    assert draft.pdf_id == kept.pk
    assert done.content.decode().count("报告草稿已提交") == 1


def test_web_form_never_keeps_another_organisations_file(client, scene, tree):
    from inspecta.core.files import file_store

    other, _admin, _made = approved_agency(tree, 604)
    foreign = file_store(pdf_bytes("x"), organisation_id=other.organisation_id, purpose="report", name="f.pdf").pk
    login_verified(client, scene["admin"])
    form = _web_form(scene, "R-FOREIGN")
    form["pdf_kept"] = str(foreign)
    refused = client.post("/reports/new/", form)
    assert refused.status_code == 400 and "pdf" in refused.context["form"].errors
    assert not ReportDraft.objects.filter(report_number="R-FOREIGN").exists()


def test_approving_an_amendment_on_the_page_says_so(client, scene):
    tree, report = scene["tree"], scene["report"]
    login_verified(client, scene["admin"])
    client.post(f"/reports/{report.pk}/amend/", {"reason": "部位笔误", "project_part": "三层板"})
    amendment = report.amendments.get()
    client.logout()
    login_verified(client, tree["gz_supervisor"])
    page = client.post(f"/reports/amendments/{amendment.pk}/approve/", {"reason": "同意"}, follow=True)
    assert page.status_code == 200 and page.content.decode().count("变更已批准") == 1


def test_verification_page_explains_the_hash_and_the_proof_plainly(client, scene):
    """One plain sentence each for the file's hash and the log proof; the hex and the
    checkpoint are folded away (<details>) for those who want them."""
    import re

    report = scene["report"]
    sequence_pending()
    checkpoint_publish()
    page = client.get(f"/v/{report.verification_code}").content.decode()
    digest = report.versions.get().pdf_sha256
    hash_part = re.search(r'data-testid="hash-explained">(.*?)</dd>', page, re.S).group(1)
    before, _sep, folded = hash_part.partition("<details")
    assert "指纹" in before and digest not in before and digest in folded
    proof_part = page[page.index('data-testid="proof-explained"') :]
    sentence, _sep, rest = proof_part.partition("</p>")
    assert "存证日志" in sentence and "RFC" not in sentence and "哈希" not in sentence
    details = rest[rest.index('data-testid="proof-details"') :]
    assert "RFC 9162" in details and re.search(r"<pre[^>]*>", details)
