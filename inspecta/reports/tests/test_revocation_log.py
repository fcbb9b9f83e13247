"""A revocation is logged (CONTRACT §5) and the nightly self-audit re-checks it."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inspecta.ledger import audit
from inspecta.ledger import services as ledger_services
from inspecta.ledger.choices import FindingKind
from inspecta.ledger.models import Entry
from inspecta.reports import services
from inspecta.reports.choices import ReportLogKind, ReportStatus
from inspecta.reports.testing import approved_agency, project_with, submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def revoked(tree):
    agency, admin, made = approved_agency(tree, 601)
    project = project_with(tree, [agency])
    report = services.report_submit(actor=admin, **submission(agency, made, project, "R-REV-1"))
    report = services.report_revoke(actor=tree["gz_supervisor"], report=report, reason="伪造")
    ledger_services.sequence_pending()
    return report


def _revocation_problems(problems):
    return [p for p in problems if "reports.revocation" in p.summary or p.details.get("kind") == "report_revocation"]


def test_the_revocation_entry_holds_ids_time_and_authority_only(revoked, tree):
    entry = Entry.objects.get(kind=ReportLogKind.REPORT_REVOCATION, record_id=str(revoked.pk))
    document = json.loads(bytes(entry.entry))
    assert document["type"] == "reports.revocation"
    assert document["data"] == {
        "report": revoked.pk,
        "serial_number": revoked.serial_number,
        "revoked_at": ledger_services.format_time(revoked.revoked_at),
        "authority": tree["gz_supervisor"].organisation_id,
    }


def test_the_self_audit_verifies_a_revocation(revoked):
    problems = audit.verify_log()
    assert [p for p in problems if p.critical] == []
    assert _revocation_problems(problems) == []  # neither changed nor "no registered renderer"


def test_an_entry_logged_as_a_mapping_before_the_renderer_existed_still_verifies(tree):
    agency, admin, made = approved_agency(tree, 602)
    report = services.report_submit(actor=admin, **submission(agency, made, project_with(tree, [agency]), "R-REV-2"))
    report.status, report.revoked_by = ReportStatus.REVOKED, tree["gz_supervisor"]
    report.revoked_at = timezone.now()
    report.save(update_fields=["status", "revoked_by", "revoked_at"])
    with transaction.atomic():  # the mapping report_revoke appended until the renderer was registered
        ledger_services.log_append(
            kind="report_revocation",
            record={
                "type": "reports.revocation",
                "id": str(report.pk),
                "report": report.pk,
                "serial_number": report.serial_number,
                "revoked_at": ledger_services.format_time(report.revoked_at),
                "authority": tree["gz_supervisor"].organisation_id,
            },
        )
    ledger_services.sequence_pending()
    assert _revocation_problems(audit.verify_log()) == []


def test_a_revocation_undone_in_sql_is_caught(revoked):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reports_report SET status = %s, revoked_at = NULL, revoked_by_id = NULL WHERE id = %s",
            [ReportStatus.VALID.value, revoked.pk],
        )
    problems = [p for p in audit.verify_log() if p.critical and p.kind == FindingKind.RECORD_CHANGED]
    assert [p.details["record_type"] for p in problems] == ["reports.revocation"]
    assert {"revoked_at", "authority"} <= set(problems[0].details["fields"])
