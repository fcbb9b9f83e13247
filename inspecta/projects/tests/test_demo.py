"""The plans demo loads after the reports demo, once: the Nanchang 72-hour rules and two
plans on the Guangzhou demo project, one in time and one late with its finding."""

from __future__ import annotations

import pytest

from inspecta.core.demo import demo_load
from inspecta.core.models import RegionRule
from inspecta.projects import services
from inspecta.projects.demo import NANCHANG, plans_demo_load
from inspecta.projects.models import InspectionPlan, PlanFinding
from inspecta.projects.regionrules import PLAN_LEAD_HOURS
from inspecta.projects.selectors import plan_lead
from inspecta.registry.demo import registry_demo_load
from inspecta.reports.demo import reports_demo_load

pytestmark = pytest.mark.django_db


def test_plans_demo_loads_once_and_its_log_entries_verify():
    demo_load()
    assert plans_demo_load() == {"rules": 4, "plans": 0}  # no demo project yet
    registry_demo_load()
    reports_demo_load()
    assert plans_demo_load() == {"rules": 0, "plans": 2}
    assert plans_demo_load() == {"rules": 0, "plans": 0}
    assert RegionRule.objects.filter(name=PLAN_LEAD_HOURS, region_id=NANCHANG, value="72").count() == 4
    assert plan_lead("360102", "OBJ-SP04-P3")[0] == 72  # a Nanchang district, pile integrity
    assert plan_lead("360102", "OBJ-SP01-P1")[0] == 24  # cement: the default
    late = PlanFinding.objects.get()
    assert late.rule == "plan_filed_late" and late.region == "440106"
    in_time = InspectionPlan.objects.exclude(pk=late.plan_id).get()
    # a change adds a version; the log's self-audit re-renders every version: all match
    from inspecta.accounts.models import User

    services.plan_change(actor=User.objects.get(username="gz_agency"), plan=in_time, reason="调整数量", quantity=40)
    from inspecta.ledger.audit import verify_log
    from inspecta.ledger.choices import FindingKind
    from inspecta.ledger.services import sequence_pending

    sequence_pending()
    changed = [p for p in verify_log() if p.kind in (FindingKind.RECORD_CHANGED, FindingKind.RECORD_MISSING)]
    assert changed == []
