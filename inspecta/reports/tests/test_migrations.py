"""The migrations onto the shared decision and finding columns keep every row of reports
and exchange: undone and redone, findings and applications come back with what they held,
and the new columns are filled from what the rows are about."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inspecta.core import services as core_services
from inspecta.core.testing.migrations import migrate_to, on_postgresql
from inspecta.exchange.choices import FindingKind
from inspecta.exchange.models import AccessApplication, AnomalyFinding
from inspecta.exchange.testing import approved_client
from inspecta.reports import services
from inspecta.reports.choices import CheckCode
from inspecta.reports.models import ReportFinding
from inspecta.reports.testing import approved_agency, project_with, submission

BEFORE = [("reports", "0004_audit_acting_client"), ("exchange", "0002_audit_acting_client")]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_finding_and_application_columns_keep_the_rows(tree):
    # a transactional test before this one flushed the reference data
    core_services.regions_load()
    core_services.catalog_load()
    agency, admin, made = approved_agency(tree, 351)
    project = project_with(tree, [agency], code="P-MIG", region="440106")
    report = services.report_submit(actor=admin, **submission(agency, made, project, number="R-MIG"))
    finding = ReportFinding.of(report, rule=CheckCode.TOO_MANY_AGENCIES, detail="检测机构过多")
    finding.save()
    creds = approved_client(applicant=admin, reviewer=tree["gz_admin"], scopes=["reports:submit"])
    anomaly = AnomalyFinding.of(creds.client, rule=FindingKind.SILENT, measures={"last_seen": None})
    anomaly.resolve()
    anomaly.save()
    application = AccessApplication.objects.get(pk=creds.client.application_id)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()  # every app: migrations cross apps

    old = migrate_to(BEFORE).loader.project_state(BEFORE).apps
    row = old.get_model("reports", "ReportFinding").objects.get(pk=finding.pk)
    assert (row.code, row.message) == (CheckCode.TOO_MANY_AGENCIES, "检测机构过多")
    row = old.get_model("exchange", "AnomalyFinding").objects.get(pk=anomaly.pk)
    assert (row.kind, row.detail, row.resolved_at) == (FindingKind.SILENT, {"last_seen": None}, anomaly.resolved_at)
    row = old.get_model("exchange", "AccessApplication").objects.get(pk=application.pk)
    assert (row.submitted_by_id, row.submitted_at, row.status) == (admin.pk, application.applied_at, "approved")

    migrate_to(latest)
    finding = ReportFinding.objects.get(pk=finding.pk)
    assert (finding.rule, finding.detail, finding.severity, finding.status) == (
        CheckCode.TOO_MANY_AGENCIES,
        "检测机构过多",
        "warning",
        "open",
    )
    assert (finding.region, finding.subject, finding.key) == ("440106", "R-MIG", f"report:{report.pk}")
    anomaly = AnomalyFinding.objects.get(pk=anomaly.pk)
    assert (anomaly.rule, anomaly.measures, anomaly.status) == (FindingKind.SILENT, {"last_seen": None}, "resolved")
    assert (anomaly.region, anomaly.key) == (admin.organisation.region_id, f"client:{creds.client.pk}")
    assert (anomaly.subject, anomaly.detail) == (creds.client.name, "接入方长时间无调用")
    application = AccessApplication.objects.get(pk=application.pk)
    assert (application.applied_by_id, application.status, application.decided_by_id) == (
        admin.pk,
        "approved",
        tree["gz_admin"].pk,
    )
