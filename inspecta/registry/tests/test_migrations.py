"""The migrations onto the shared decision and finding columns keep every row: undone
and redone, a change request and a finding come back with what they held."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from inspecta.core import services as core_services
from inspecta.core.testing.migrations import migrate_to, on_postgresql
from inspecta.registry import services
from inspecta.registry.models import AgencyHead, ChangeRequest, Finding
from inspecta.registry.testing import approved

BEFORE = [("registry", "0003_audit_acting_client")]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_decision_and_finding_columns_keep_the_rows(tree):
    # a transactional test before this one flushed the reference data
    core_services.regions_load()
    core_services.catalog_load()
    agency, admin = approved(tree, 341)
    head = AgencyHead.objects.get(agency=agency, role="legal_representative")
    change = services.head_save(actor=admin, agency=agency, pk=head.pk, data={"name": "新法人"})
    services.change_request_return(actor=tree["gz_supervisor"], change=change, reason="请补充")
    resolved_at = timezone.now()
    finding = Finding.objects.create(
        agency=agency, rule="staff_missing", severity="critical", key="k1", subject="某人", resolved_at=resolved_at
    )
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()  # every app: migrations cross apps

    old = migrate_to(BEFORE).loader.project_state(BEFORE).apps
    OldChange = old.get_model("registry", "ChangeRequest")
    row = OldChange.objects.get(pk=change.pk)
    assert (row.status, row.reason, row.submitted_by_id, row.reviewed_by_id) == (
        "returned",
        "请补充",
        admin.pk,
        tree["gz_supervisor"].pk,
    )
    OldFinding = old.get_model("registry", "Finding")
    assert OldFinding.objects.get(pk=finding.pk).resolved_at == resolved_at

    migrate_to(latest)
    change = ChangeRequest.objects.get(pk=change.pk)
    assert (change.status, change.decision_reason, change.applied_by_id, change.decided_by_id) == (
        "rejected",
        "请补充",
        admin.pk,
        tree["gz_supervisor"].pk,
    )
    assert change.applied_at == change.created_at
    finding = Finding.objects.get(pk=finding.pk)
    assert (finding.region, finding.status, finding.resolved_at) == (agency.region_id, "resolved", resolved_at)
