"""The 201 of a report submission tells a LIMS where its log index appears (CONTRACT
§5 "every logged record shows its log_index"; T/CECS 4.3.3): entries are appended in
the submission's transaction and sequenced by the sequencer within seconds, so the
answer carries ``log_index`` (``null`` while pending), ``log_status`` and
``log_record_url``, which answers the index once sequenced."""

from __future__ import annotations

import json

import pytest

from inspecta.exchange.testing import approved_client, signed_call
from inspecta.ledger.services import sequence_pending
from inspecta.reports.models import Report
from inspecta.reports.testing import approved_agency, project_with, submission

from .test_pages_api import _json_body

pytestmark = pytest.mark.django_db


def test_submission_answers_where_its_log_index_appears(client, tree):
    agency, admin, made = approved_agency(tree, 651)
    project = project_with(tree, [agency])
    creds = approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=["reports:submit", "files:upload"])
    body = json.dumps(_json_body(submission(agency, made, project, "R-LOG"))).encode()
    answer = signed_call(client, creds, "POST", "/api/v1/reports/", body)
    assert answer.status_code == 201, answer.content
    data = answer.json()
    version = Report.objects.get(report_number="R-LOG").versions.get()
    assert data["log_index"] is None and data["log_status"] == "pending"
    assert data["log_record_url"].endswith(f"/api/v1/log/records/reports.reportversion/{version.pk}")

    path = data["log_record_url"].split("://", 1)[-1].split("/", 1)[1]
    pending = client.get("/" + path)
    assert pending.status_code == 200 and pending.json()["status"] == "pending"

    sequence_pending()
    sequenced = client.get("/" + path).json()
    assert sequenced["status"] == "sequenced" and isinstance(sequenced["log_index"], int)
    assert client.get(f"/api/v1/log/entries/{sequenced['log_index']}").json()["record_id"] == str(version.pk)
