"""Test data not uploaded in time (Guangdong 附件2 二(十一); T/CECS 4.3.4-4/-5): each rule
fires on a case built for it, not a minute early, follows its region's time and item, and
is resolved when the data arrives."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from inspecta.core.findings import FindingStatus, open_findings
from inspecta.core.models import TestItemParameter
from inspecta.core.regionrules import region_rule_add
from inspecta.projects.testing import PILE
from inspecta.sampling.models import Receipt
from inspecta.testing import services
from inspecta.testing.choices import TestingRule
from inspecta.testing.models import TestingFinding
from inspecta.testing.overdue import overdue_scan
from inspecta.testing.testing import filed_pile_plan, lab_fields, scene_with_sample

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    s = scene_with_sample(tree)
    received = timezone.now() - datetime.timedelta(days=40)
    Receipt.objects.filter(sample=s["sample"]).update(received_at=received)  # the sample came in 40 days ago
    s["sample"].refresh_from_db()
    return s | {"received": s["sample"].receipt.received_at}


def _upload(scene: dict[str, Any], number: str, ended_ago: datetime.timedelta) -> Any:
    ended = timezone.now() - ended_ago
    # equipment registered today cannot have served yesterday's test
    fields = lab_fields(scene, number, started_at=ended - datetime.timedelta(hours=1), ended_at=ended, equipment=[])
    return services.test_record_upload(actor=scene["agency_admin"], agency=scene["agency"], **fields)


def test_an_upload_later_than_its_hours_is_a_finding_and_not_a_minute_early(scene: dict[str, Any]) -> None:
    in_time = _upload(scene, "L-1", datetime.timedelta(hours=24) - MINUTE)
    assert not TestingFinding.objects.filter(record=in_time).exists()
    late = _upload(scene, "L-2", datetime.timedelta(hours=24) + MINUTE)
    finding = TestingFinding.objects.get(record=late)
    assert finding.rule == TestingRule.UPLOADED_LATE and finding.region == scene["project"].region_id
    assert "24 小时" in finding.detail and finding.agency_id == scene["agency"].pk


def test_a_received_sample_without_data_is_overdue_at_its_day_and_resolved_by_the_data(scene: dict[str, Any]) -> None:
    due = scene["received"] + datetime.timedelta(days=31)
    assert overdue_scan(now=due - MINUTE).found == 0
    assert not TestingFinding.objects.exists()
    assert overdue_scan(now=due).found == 1
    finding = TestingFinding.objects.get(rule=TestingRule.SAMPLE_DATA_OVERDUE)
    assert finding.sample_id == scene["sample"].pk and finding.is_open
    assert overdue_scan(now=due + MINUTE).found == 0  # kept once
    supervisor = scene["tree"]["gz_supervisor"]
    assert finding in [f for f in open_findings(supervisor) if isinstance(f, TestingFinding)]
    assert not [f for f in open_findings(scene["tree"]["sz_supervisor"]) if isinstance(f, TestingFinding)]
    _upload(scene, "O-1", datetime.timedelta(hours=1))
    assert overdue_scan(now=due + 2 * MINUTE).resolved == 1
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED


def test_the_region_sets_the_days_per_item(scene: dict[str, Any]) -> None:
    region_rule_add(
        actor=scene["tree"]["gz_admin"],
        name="test_due_days",
        region_code="440100",
        test_item=scene["sample"].test_item_id,
        value=3,
    )
    due = scene["received"] + datetime.timedelta(days=3)
    assert overdue_scan(now=due - MINUTE).found == 0
    assert overdue_scan(now=due).found == 1


def test_an_onsite_plan_without_data_is_overdue_after_its_hours(scene: dict[str, Any]) -> None:
    agency, admin, made = scene["agency"], scene["agency_admin"], scene["made"]
    plan = filed_pile_plan(scene)
    due = plan.planned_end + datetime.timedelta(hours=24)
    onsite = TestingFinding.objects.filter(rule=TestingRule.ONSITE_DATA_OVERDUE)
    overdue_scan(now=due - MINUTE)
    assert not onsite.exists()
    overdue_scan(now=due)
    assert onsite.get().plan_id == plan.pk
    parameter = TestItemParameter.objects.filter(test_item_id=PILE).values_list("parameter_id", flat=True).first()
    now = timezone.now()
    services.test_record_upload(
        actor=admin,
        agency=agency,
        number="P-1",
        kind="onsite",
        plan_id=plan.pk,
        test_item=PILE,
        tester_id=made["staff"].pk,
        started_at=now - datetime.timedelta(hours=2),
        ended_at=now - datetime.timedelta(hours=1),
        latitude="23.130100",
        longitude="113.330100",
        standard="JGJ 106-2014",
        parameters=[
            {
                "parameter": parameter,
                "unit": "",
                "values": ["I 类"] * 12,
                "result": "I 类桩 12 根",
                "limit": "",
                "judgement": "qualified",
                "source": "instrument",
            }
        ],
        conclusion="qualified",
    )
    overdue_scan(now=due + MINUTE)
    assert onsite.get().status == FindingStatus.RESOLVED


def test_a_parameter_typed_in_where_the_region_requires_the_instrument_is_a_finding(scene: dict[str, Any]) -> None:
    item = scene["sample"].test_item_id
    first = _upload(scene, "M-1", datetime.timedelta(hours=1))  # no rule yet: manual entries are fine
    assert not TestingFinding.objects.filter(rule=TestingRule.MANUAL_ENTRY).exists()
    region_rule_add(
        actor=scene["tree"]["gz_admin"], name="auto_collect_required", region_code="440100", test_item=item, value="yes"
    )
    second = _upload(scene, "M-2", datetime.timedelta(hours=1))
    finding = TestingFinding.objects.get(rule=TestingRule.MANUAL_ENTRY)
    assert finding.record == second and finding.details["parameters"] == ["IP-0002", "IP-0004"]
    assert first.pk != second.pk


def test_a_scan_after_the_first_reads_only_what_can_have_become_due_and_changed_rules_rescan(
    scene: dict[str, Any],
) -> None:
    from inspecta.testing.models import ScanMark

    due = scene["received"] + datetime.timedelta(days=31)
    assert overdue_scan(now=due - MINUTE).found == 0
    mark = ScanMark.objects.get(rule=TestingRule.SAMPLE_DATA_OVERDUE)
    assert mark.until == due - MINUTE
    # a receipt older than the window of the next scan is not read again: made overdue
    # behind the mark's back (a receipt moved 100 days into the past), it stays unseen ...
    Receipt.objects.filter(sample=scene["sample"]).update(received_at=due - datetime.timedelta(days=100))
    assert overdue_scan(now=due).found == 0
    # ... until the rules change, which means a full scan
    region_rule_add(
        actor=scene["tree"]["gz_admin"], name="test_due_days", region_code="440100", test_item=None, value=40
    )
    assert overdue_scan(now=due + MINUTE).found == 1
    assert ScanMark.objects.get(rule=TestingRule.SAMPLE_DATA_OVERDUE).until == due + MINUTE
    assert overdue_scan(now=due - datetime.timedelta(days=1)).found == 0  # an earlier moment
    assert ScanMark.objects.get(rule=TestingRule.SAMPLE_DATA_OVERDUE).until == due + MINUTE  # never back
