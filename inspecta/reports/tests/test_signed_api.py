"""A LIMS submits a report over the signed exchange API (CONTRACT §2-3; T/CECS 6.0.5)."""

from __future__ import annotations

import json

import pytest

from inspecta.exchange.testing import approved_client, signed_call
from inspecta.reports.models import Report
from inspecta.reports.testing import approved_agency, project_with, submission

from .test_pages_api import _json_body

pytestmark = pytest.mark.django_db


def test_lims_submits_signed_with_idempotency(client, tree):
    agency, admin, made = approved_agency(tree, 650)
    project = project_with(tree, [agency])
    creds = approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=["reports:submit", "files:upload"])
    body = json.dumps(_json_body(submission(agency, made, project, "R-LIMS"))).encode()
    first = signed_call(client, creds, "POST", "/api/v1/reports/", body, **{})
    assert first.status_code == 201, first.content
    assert Report.objects.get(report_number="R-LIMS").client_id == creds.client.pk
    unsigned = client.post("/api/v1/reports/", body, content_type="application/json")
    assert unsigned.status_code == 401
    # without the scope: 403, nothing written
    other = approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=["files:upload"], name="LIMS2")
    body2 = json.dumps(_json_body(submission(agency, made, project, "R-LIMS2"))).encode()
    refused = signed_call(client, other, "POST", "/api/v1/reports/", body2)
    assert refused.status_code == 403 and not Report.objects.filter(report_number="R-LIMS2").exists()
