"""The facts acceptance reads without scanning every report: which agencies report which
item on a project (``ProjectItemAgency``, the "too many agencies" check) and the
signature result recorded for a PDF's content (``services._known_signatures``)."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inspecta.registry.testing import CEMENT
from inspecta.reports import services
from inspecta.reports.checks import CheckContext
from inspecta.reports.choices import CheckCode
from inspecta.reports.models import ProjectItemAgency, Report, ReportFinding, ReportVersion
from inspecta.reports.testing import approved_agency, pdf_bytes, project_with, stored_file, submission

pytestmark = pytest.mark.django_db


def _submit(agency, admin, made, project, number, **over):
    return services.report_submit(actor=admin, **submission(agency, made, project, number, **over))


def test_accepting_fills_the_item_agencies_once_per_pair(tree):
    agencies = [approved_agency(tree, 610 + i) for i in range(2)]
    project = project_with(tree, [a for a, _, _ in agencies])
    for agency, admin, made in agencies:
        for n in range(2):
            _submit(agency, admin, made, project, f"A{agency.pk}-{n}")
    rows = set(ProjectItemAgency.objects.values_list("project_id", "test_item_id", "agency_id"))
    assert rows == {(project.pk, CEMENT, a.pk) for a, _, _ in agencies}
    # a batch of an agency that already reported this item inserts no row again
    agency, admin, made = agencies[0]
    items = []
    for n in range(3):
        kwargs = submission(agency, made, project, f"B-{n}")
        kwargs.pop("agency")
        items.append(kwargs)
    with CaptureQueriesContext(connection) as queries:
        results = services.report_submit_many(actor=admin, agency=agency, items=items)
    assert all(isinstance(r, Report) for r in results)
    assert not any("INSERT" in q["sql"] and "reports_projectitemagency" in q["sql"] for q in queries)
    assert ProjectItemAgency.objects.count() == 2


def test_too_many_agencies_reads_the_side_table_not_the_reports(tree):
    agencies = [approved_agency(tree, 620 + i) for i in range(3)]
    project = project_with(tree, [a for a, _, _ in agencies])
    (a1, _, _), (a2, _, _), (a3, admin3, made3) = agencies
    # two other agencies known to test cement on the project (no report rows needed)
    ProjectItemAgency.objects.bulk_create(
        [ProjectItemAgency(project=project, test_item_id=CEMENT, agency=a) for a in (a1, a2)]
    )
    with CaptureQueriesContext(connection) as queries:
        report = _submit(a3, admin3, made3, project, "T-1")
    finding = ReportFinding.objects.get(report=report, rule=CheckCode.TOO_MANY_AGENCIES)
    assert finding.details == {"agencies": sorted([a1.pk, a2.pk])}
    sql = " ".join(q["sql"] for q in queries)
    assert "reports_projectitemagency" in sql
    assert not [q for q in queries if "DISTINCT" in q["sql"].upper() and 'FROM "reports_report"' in q["sql"]]
    assert (project.pk, CEMENT, a3.pk) in set(
        ProjectItemAgency.objects.values_list("project_id", "test_item_id", "agency_id")
    )


def test_too_many_agencies_fires_after_two_other_agencies_reported(tree):
    agencies = [approved_agency(tree, 630 + i) for i in range(3)]
    project = project_with(tree, [a for a, _, _ in agencies])
    reports = [_submit(a, admin, made, project, f"F-{i}") for i, (a, admin, made) in enumerate(agencies)]
    assert not ReportFinding.objects.filter(report__in=reports[:2], rule=CheckCode.TOO_MANY_AGENCIES).exists()
    assert ReportFinding.objects.filter(report=reports[2], rule=CheckCode.TOO_MANY_AGENCIES).count() == 1
    # the context of a fourth submission by one of the first two sees the two others
    agency, _, made = agencies[0]
    ctx_input = SimpleNamespace(
        test_item=SimpleNamespace(pk=CEMENT),
        project=project,
        tester=made["staff"],
        signatory=made["approver"],
        equipment=[],
        samples=[],
    )
    ctx = CheckContext.load(agency=agency, inputs=[ctx_input])  # type: ignore[list-item]
    assert ctx.item_agencies[(project.pk, CEMENT)] == {a.pk for a, _, _ in agencies}
    assert ctx.reported_items == {(project.pk, CEMENT)}


def test_backfill_migration_rebuilds_the_side_table(tree):
    agencies = [approved_agency(tree, 640 + i) for i in range(2)]
    project = project_with(tree, [a for a, _, _ in agencies])
    for i, (a, admin, made) in enumerate(agencies):
        _submit(a, admin, made, project, f"M-{i}")
        _submit(a, admin, made, project, f"M-{i}b")
    expected = set(ProjectItemAgency.objects.values_list("project_id", "test_item_id", "agency_id"))
    ProjectItemAgency.objects.all().delete()
    migration = importlib.import_module("inspecta.reports.migrations.0003_project_item_agency")
    migration.backfill(django_apps, SimpleNamespace(connection=connection))
    assert set(ProjectItemAgency.objects.values_list("project_id", "test_item_id", "agency_id")) == expected
    assert len(expected) == 2


def test_known_signatures_one_row_per_digest(tree):
    agency, admin, made = approved_agency(tree, 650)
    project = project_with(tree, [agency])
    shared = stored_file(agency.organisation_id, pdf_bytes("shared"))
    copy = stored_file(agency.organisation_id, pdf_bytes("shared"))  # same bytes, other upload
    for n in range(4):
        _submit(agency, admin, made, project, f"S-{n}", pdf=shared)
    ReportVersion.objects.filter(pdf_sha256=shared.sha256).update(signatures=[{"ok": True, "signer": "x"}])
    assert ReportVersion.objects.filter(pdf_sha256=shared.sha256).count() == 4
    fresh = stored_file(agency.organisation_id, pdf_bytes("fresh"))
    with CaptureQueriesContext(connection) as queries:
        known = services._known_signatures([shared, copy, fresh])
    assert len(queries) == 1
    assert known == {shared.sha256: [{"ok": True, "signer": "x"}]}
    assert services._known_signatures([]) == {}
    # a later submission of the same content reuses the recorded result
    report = _submit(agency, admin, made, project, "S-9", pdf=copy)
    assert report.versions.get().signatures == [{"ok": True, "signer": "x"}]
