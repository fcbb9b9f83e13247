"""The platform-stamped copy of each version (serial number and QR, Guangdong 附件2
二(十四)) is registered: stored once, its SHA-256 in the version and in the version's log
entry, handed out byte for byte, and recognised by the public file check (CONTRACT §6)."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inspecta.core.testing.access import login_verified
from inspecta.ledger.models import Entry
from inspecta.reports import services
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file, submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree):
    agency, admin, made = approved_agency(tree, 611)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project))
    return {"tree": tree, "agency": agency, "admin": admin, "report": report}


def _entry_files(version):
    entry = Entry.objects.get(record_type="reports.reportversion", record_id=str(version.pk))
    return {f["name"]: f["sha256"] for f in json.loads(bytes(entry.entry))["files"]}


def _check(client, code, content):
    return client.post(f"/api/v1/public/reports/{code}/check-file", {"file": SimpleUploadedFile("r.pdf", content)})


def test_stamped_copy_is_registered_logged_and_verifies(client, scene):
    report = scene["report"]
    code = report.verification_code
    login_verified(client, scene["admin"])
    first = client.get(f"/reports/{report.pk}/stamped.pdf")
    assert first.status_code == 200
    stamped = b"".join(first.streaming_content)
    again = b"".join(client.get(f"/reports/{report.pk}/stamped.pdf").streaming_content)
    assert stamped.startswith(b"%PDF") and stamped == again
    digest = hashlib.sha256(stamped).hexdigest()
    version = report.versions.get()
    assert version.stamped_sha256 == digest and version.stamped_pdf.sha256 == digest
    assert _entry_files(version) == {"report.pdf": version.pdf_sha256, "report-stamped.pdf": digest}
    client.logout()

    answer = _check(client, code, stamped).json()
    assert answer["matches"] and answer["version"] == 1 and answer["rendition"] == "stamped"
    assert answer["message"] == "与平台加盖的第 1 版副本完全一致。"
    original = _check(client, code, services._read_file(version.pdf)).json()
    assert original["rendition"] == "original" and original["message"] == "与登记的第 1 版完全一致。"
    page = client.post(f"/v/{code}", {"file": SimpleUploadedFile("r.pdf", stamped)}).content.decode()
    assert 'data-file="match"' in page and "与平台加盖的第 1 版副本完全一致。" in page
    public = client.get(f"/api/v1/public/reports/{code}").json()
    assert public["versions"][0]["stamped_sha256"] == digest
    login_verified(client, scene["admin"])
    own = client.get(f"/api/v1/reports/{report.pk}").json()
    assert own["versions"][0]["stamped_sha256"] == digest


def test_amended_version_gets_its_own_stamped_copy(client, scene):
    report, tree, admin = scene["report"], scene["tree"], scene["admin"]
    new_pdf = stored_file(scene["agency"].organisation_id, pdf_bytes("amended"))
    amendment = services.amendment_apply(actor=admin, report=report, reason="更正", pdf_id=new_pdf.pk)
    v2 = services.amendment_approve(actor=tree["gz_supervisor"], amendment=amendment, reason="同意")
    v1 = report.versions.get(number=1)
    assert v2.stamped_sha256 and v2.stamped_sha256 != v1.stamped_sha256
    assert _entry_files(v2)["report-stamped.pdf"] == v2.stamped_sha256
    login_verified(client, admin)
    response = client.get(f"/reports/{report.pk}/stamped.pdf")
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == v2.stamped_sha256
    client.logout()
    answer = _check(client, report.verification_code, content).json()
    assert answer["message"] == "与平台加盖的第 2 版副本完全一致。" and answer["is_current"]
    old = _check(client, report.verification_code, services._read_file(v1.stamped_pdf)).json()
    assert old["version"] == 1 and old["rendition"] == "stamped" and not old["is_current"]


def test_log_self_audit_recomputes_the_stamped_hash(scene):
    """The self-audit recomputes each version's entry with its stamped hash: a changed
    stamped hash is caught like a changed PDF hash."""

    from inspecta.ledger import audit
    from inspecta.ledger.services import sequence_pending
    from inspecta.reports.models import ReportVersion

    version = scene["report"].versions.get()
    sequence_pending()
    assert [p for p in audit.verify_log() if p.critical] == []
    ReportVersion.objects.filter(pk=version.pk).update(stamped_sha256="0" * 64)
    assert any(p.critical for p in audit.verify_log())
