"""The demo agencies load, are idempotent, and only one of them has findings."""

from __future__ import annotations

import pytest

from inspecta.core.demo import demo_load
from inspecta.registry.choices import AgencyStatus, FindingRule
from inspecta.registry.conformity import findings_recompute_all
from inspecta.registry.demo import registry_demo_load
from inspecta.registry.models import Agency, Finding

pytestmark = pytest.mark.django_db


def test_demo_loads_once(client):
    demo_load()
    added, logins = registry_demo_load()
    assert added == 4 and len(logins) == 4
    assert registry_demo_load()[0] == 0
    approved = Agency.objects.filter(status=AgencyStatus.APPROVED)
    assert approved.count() == 3
    assert {a.region_id[:4] for a in approved} == {"4401", "4403"}
    assert Agency.objects.filter(status=AgencyStatus.SUBMITTED).count() == 1
    with_findings = set(Finding.objects.filter(resolved_at__isnull=True).values_list("agency__name", flat=True))
    assert with_findings == {"广州穗安建设工程质量检测有限公司"}
    rules = set(Finding.objects.filter(resolved_at__isnull=True).values_list("rule", flat=True))
    assert {
        FindingRule.CALIBRATION_EXPIRED,
        FindingRule.CALIBRATION_EXPIRING,
        FindingRule.PARAMETER_WITHOUT_EQUIPMENT,
    } <= rules
    assert client.get("/api/v1/public/agencies").json()["count"] == 3
    # one key-fact change waits for 广州's reviewer, and stays unapplied until decided
    from inspecta.registry.choices import ChangeRequestStatus
    from inspecta.registry.models import ChangeRequest

    waiting = ChangeRequest.objects.get(status=ChangeRequestStatus.PENDING)
    assert waiting.agency.name == "广州穗安建设工程质量检测有限公司"
    assert str(waiting.agency.registered_capital) == "2000.00"
    # the transparency log's self-audit re-renders every logged record: nothing changed unlogged
    from inspecta.ledger.audit import verify_log
    from inspecta.ledger.choices import FindingKind

    agency = Agency.objects.get(name="广州建科工程检测技术有限公司")
    from inspecta.accounts.models import User
    from inspecta.registry import services

    services.agency_update(
        actor=User.objects.get(username="gz_agency"), agency=agency, data={"name": "广州建科工程检测技术股份有限公司"}
    )
    changed = [p for p in verify_log() if p.kind in (FindingKind.RECORD_CHANGED, FindingKind.RECORD_MISSING)]
    assert changed == []
    totals = findings_recompute_all()  # the nightly job changes nothing when nothing changed
    assert totals["agencies"] == 4 and totals["created"] == totals["resolved"] == 0
