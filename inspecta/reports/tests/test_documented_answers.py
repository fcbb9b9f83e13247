"""The public verification answers (CONTRACT §6) are written as cached bytes; their
declared schemas must agree with them at every stage of the log entry."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inspecta.core.testing.openapi import assert_documented
from inspecta.ledger.services import checkpoint_publish, sequence_pending
from inspecta.reports import services
from inspecta.reports.testing import approved_agency, project_with, submission

pytestmark = pytest.mark.django_db

PUBLIC = "/api/v1/public/reports/{code}"
CHECK = "/api/v1/public/reports/{code}/check-file"


def test_public_report_and_file_check_match_their_schemas(client, tree, settings):
    settings.INSPECTA_VERIFY_CACHE_SECONDS = 0
    agency, admin, made = approved_agency(tree, 611)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project))
    url = f"/api/v1/public/reports/{report.verification_code}"
    waiting = assert_documented(client.get(url), PUBLIC)  # the entry awaits its index
    assert waiting["log_index"] is None and waiting["proof"] is None
    sequence_pending()
    unsigned = assert_documented(client.get(url), PUBLIC)  # indexed, no checkpoint yet
    assert unsigned["proof"]["pending_checkpoint"] is True
    checkpoint_publish()
    final = assert_documented(client.get(url), PUBLIC)
    assert final["proof"]["hashes"] is not None and final["chain"][0]["step"] == "agency_approval"
    original = services._read_file(report.versions.get().pdf)
    for content, matches in ((original, True), (b"%PDF-x", False)):
        answer = client.post(f"{url}/check-file", {"file": SimpleUploadedFile("r.pdf", content)})
        assert assert_documented(answer, CHECK, "post")["matches"] is matches
