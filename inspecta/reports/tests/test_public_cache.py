"""The public verification JSON is cached and dropped when the report changes (issue 5
benchmark: verification under load)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inspecta.ledger.services import checkpoint_publish, sequence_pending
from inspecta.reports import public, services

from .factories import approved_agency, pdf_bytes, project_with, stored_file, submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree, settings):
    settings.INSPECTA_VERIFY_RATE_PER_MINUTE = 0
    agency, admin, made = approved_agency(tree, 611)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-CACHE"))
    sequence_pending()
    checkpoint_publish()
    return {"tree": tree, "agency": agency, "admin": admin, "report": report}


def _get(client, code):
    response = client.get(f"/api/v1/public/reports/{code}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json" and response["Cache-Control"] == "no-store"
    return response.json()


def test_cached_then_dropped_on_amendment_and_revocation(client, scene):
    report, tree = scene["report"], scene["tree"]
    code = report.verification_code
    first = _get(client, code)
    assert first["status"] == "valid" and first["version"] == 1
    assert public.verification_body_cached(code) is not None
    with CaptureQueriesContext(connection) as queries:  # served from the cache (hyphenated input too)
        assert _get(client, "-".join([code[:4], code[4:8], code[8:12], code[12:16], code[16:]]).lower()) == first
    assert not [q["sql"] for q in queries.captured_queries if "reports_" in q["sql"] or "ledger_" in q["sql"]]

    amendment = services.amendment_apply(
        actor=scene["admin"],
        report=report,
        reason="部位笔误",
        data={"project_part": "二层梁"},
        pdf_id=stored_file(scene["agency"].organisation_id, pdf_bytes("R-CACHE-v2")).pk,
    )
    assert public.verification_body_cached(code) is not None  # an application changes nothing public
    services.amendment_approve(actor=tree["gz_supervisor"], amendment=amendment, reason="同意")
    assert public.verification_body_cached(code) is None
    sequence_pending()
    checkpoint_publish()
    amended = _get(client, code)
    assert amended["status"] == "amended" and amended["version"] == 2 and len(amended["versions"]) == 2
    assert amended["versions"][1]["amended"] is True and amended["pdf_sha256"] != first["pdf_sha256"]
    assert public.verification_body_cached(code) is not None

    report.refresh_from_db()
    services.report_revoke(actor=tree["gz_supervisor"], report=report, reason="伪造")
    assert public.verification_body_cached(code) is None
    revoked = _get(client, code)
    assert revoked["status"] == "revoked" and revoked["revoked_at"] is not None
    assert [step["step"] for step in revoked["chain"]][-1] == "revocation"


def test_pending_log_entry_is_not_cached(client, tree, settings):
    settings.INSPECTA_VERIFY_RATE_PER_MINUTE = 0
    agency, admin, made = approved_agency(tree, 612)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-PENDING"))
    assert _get(client, report.verification_code)["log_index"] is None
    assert public.verification_body_cached(report.verification_code) is None
    sequence_pending()
    checkpoint_publish()
    assert _get(client, report.verification_code)["log_index"] is not None
    assert public.verification_body_cached(report.verification_code) is not None
    cache.clear()


def test_cache_disabled(client, scene, settings):
    settings.INSPECTA_VERIFY_CACHE_SECONDS = 0
    code = scene["report"].verification_code
    assert _get(client, code)["status"] == "valid"
    assert public.verification_body_cached(code) is None
