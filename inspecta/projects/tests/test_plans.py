"""On-site inspection plans (Nanchang 二(三): pile and concrete-structure tests filed 3
days ahead; Guangxi 第十条: every on-site test at least 24 hours ahead): versions, the
lead-time rules and the late-filing finding."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from inspecta.core.errors import AppError, ErrorCode
from inspecta.core.findings import open_findings
from inspecta.core.models import RegionRule
from inspecta.core.regionrules import region_rule_add, region_rule_delete
from inspecta.ledger.models import Entry
from inspecta.projects import selectors, services
from inspecta.projects.choices import PlanStatus
from inspecta.projects.models import InspectionPlan, InspectionPlanVersion, PlanFinding
from inspecta.projects.regionrules import PLAN_LEAD_HOURS
from inspecta.projects.testing import PILE, contract_for, plan_kwargs
from inspecta.reports.testing import approved_agency, project_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(tree: dict[str, Any]) -> dict[str, Any]:
    agency, admin, made = approved_agency(tree, 971)
    other, other_admin, other_made = approved_agency(tree, 972)
    project = project_with(tree, [agency], code="P-PLAN")
    elsewhere = project_with(tree, [agency, other], code="P-ELSE")
    return {
        "agency": agency,
        "admin": admin,
        "made": made,
        "project": project,
        "contract": contract_for(admin, agency, project),
        "other_contract": contract_for(admin, agency, elsewhere, number="HT-ELSE"),
        "other": other,
        "other_admin": other_admin,
        "other_made": other_made,
        "elsewhere": elsewhere,
    }


def _file(scene: dict[str, Any], **over: Any) -> InspectionPlan:
    return services.plan_file(
        actor=scene["admin"], **plan_kwargs(scene["agency"], scene["contract"], scene["made"], **over)
    )


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime.datetime:
    """Server time stands still (the filing time is the server's)."""

    now = timezone.now().replace(microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def test_filed_in_time_is_version_one_logged_without_finding(scene: dict[str, Any]) -> None:
    plan = _file(scene)
    assert plan.status == PlanStatus.FILED and plan.version == 1
    version = plan.versions.get()
    assert version.number == 1 and version.filed_by == scene["admin"]
    assert version.data["testers"] == [scene["made"]["staff"].pk] and version.data["quantity"] == 12
    assert version.document_sha256 == plan.document.sha256
    entry = Entry.objects.get(record_type="projects.inspectionplanversion", record_id=str(version.pk))
    assert entry.kind == "inspection_plan"
    assert b"plan_document" in bytes(entry.entry) and plan.document.sha256.encode() in bytes(entry.entry)
    assert not PlanFinding.objects.exists()


def test_late_at_lead_minus_one_minute_not_at_exactly_lead(scene: dict[str, Any], frozen: datetime.datetime) -> None:
    lead = datetime.timedelta(hours=24)  # the default (Guangxi 第十条)
    exactly = _file(scene, planned_start=frozen + lead, planned_end=frozen + lead + datetime.timedelta(hours=2))
    assert not PlanFinding.objects.filter(plan=exactly).exists()
    late = _file(
        scene,
        planned_start=frozen + lead - datetime.timedelta(minutes=1),
        planned_end=frozen + lead + datetime.timedelta(hours=2),
    )
    finding = PlanFinding.objects.get(plan=late)
    assert finding.rule == "plan_filed_late" and finding.key == f"plan:{late.pk}:v1"
    assert finding.region == "440106" and finding.severity == "warning" and finding.is_open
    assert finding.detail == "提前 23 小时 59 分钟报送，规定须至少提前 24 小时报送。"
    assert finding.details["lead_hours"] == 24


def test_a_rule_of_the_project_region_sets_the_lead(
    scene: dict[str, Any], tree: dict[str, Any], frozen: datetime.datetime
) -> None:
    region_rule_add(actor=tree["gz_admin"], name=PLAN_LEAD_HOURS, region_code="440100", test_item=PILE, value=72)
    start = frozen + datetime.timedelta(hours=48)
    plan = _file(scene, planned_start=start, planned_end=start + datetime.timedelta(hours=4))
    finding = PlanFinding.objects.get(plan=plan)
    assert finding.details["lead_hours"] == 72
    assert finding.detail == "提前 48 小时报送，规定须至少提前 72 小时报送。"


def test_the_most_specific_rule_wins(tree: dict[str, Any]) -> None:
    assert selectors.plan_lead("440106", PILE) == (24, None)  # the setting
    province = region_rule_add(
        actor=tree["gd_admin"], name=PLAN_LEAD_HOURS, region_code="440000", test_item=None, value=30
    )
    assert selectors.plan_lead("440106", PILE) == (30, province)
    province_item = region_rule_add(
        actor=tree["gd_admin"], name=PLAN_LEAD_HOURS, region_code="440000", test_item=PILE, value=36
    )
    assert selectors.plan_lead("440106", PILE) == (36, province_item)
    assert selectors.plan_lead("440106", "OBJ-SP01-P1") == (30, province)
    city = region_rule_add(actor=tree["gz_admin"], name=PLAN_LEAD_HOURS, region_code="440100", test_item=None, value=48)
    assert selectors.plan_lead("440106", PILE) == (48, city)  # nearer region before the item
    city_item = region_rule_add(
        actor=tree["gz_admin"], name=PLAN_LEAD_HOURS, region_code="440100", test_item=PILE, value=72
    )
    assert selectors.plan_lead("440106", PILE) == (72, city_item)
    district = region_rule_add(
        actor=tree["th_admin"], name=PLAN_LEAD_HOURS, region_code="440106", test_item=None, value=12
    )
    assert selectors.plan_lead("440106", PILE) == (12, district)
    assert selectors.plan_lead("440104", PILE) == (72, city_item)  # another district of the city
    assert selectors.plan_lead("440304", PILE) == (36, province_item)  # Shenzhen


def test_lead_rules_only_in_the_admins_region(tree: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        region_rule_add(actor=tree["sz_admin"], name=PLAN_LEAD_HOURS, region_code="440100", test_item=None, value=48)
    with pytest.raises(PermissionDenied):  # a city admin cannot set the province's rule
        region_rule_add(actor=tree["gz_admin"], name=PLAN_LEAD_HOURS, region_code="440000", test_item=None, value=48)
    with pytest.raises(PermissionDenied):  # supervisors do not manage rules
        region_rule_add(
            actor=tree["gz_supervisor"], name=PLAN_LEAD_HOURS, region_code="440100", test_item=None, value=48
        )
    with pytest.raises(AppError) as bad:
        region_rule_add(actor=tree["gz_admin"], name=PLAN_LEAD_HOURS, region_code="440100", test_item=None, value=0)
    assert bad.value.code == ErrorCode.INVALID_REGION_RULE
    rule = region_rule_add(actor=tree["gz_admin"], name=PLAN_LEAD_HOURS, region_code="440106", test_item=None, value=48)
    with pytest.raises(AppError):  # one rule per region and item
        region_rule_add(actor=tree["gz_admin"], name=PLAN_LEAD_HOURS, region_code="440106", test_item=None, value=50)
    with pytest.raises(PermissionDenied):
        region_rule_delete(actor=tree["sz_admin"], rule=rule)
    pk = rule.pk
    region_rule_delete(actor=tree["th_admin"], rule=rule)
    assert not RegionRule.objects.exists()
    assert RegionRule.history.filter(
        id=pk, history_type="-", history_user=tree["th_admin"]
    ).exists()  # the deletion is audited


def test_change_makes_version_two_and_keeps_version_one(scene: dict[str, Any]) -> None:
    plan = _file(scene)
    first = plan.versions.get()
    new_start = plan.planned_start + datetime.timedelta(days=1)
    changed = services.plan_change(
        actor=scene["admin"],
        plan=plan,
        reason="桩基施工推迟一天",
        planned_start=new_start,
        planned_end=new_start + datetime.timedelta(hours=8),
        quantity=20,
    )
    assert changed.version == 2 and changed.quantity == 20 and changed.planned_start == new_start
    versions = list(changed.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    first.refresh_from_db()
    assert first.data["quantity"] == 12 and first.reason == ""
    assert versions[1].data["quantity"] == 20 and versions[1].reason == "桩基施工推迟一天"
    assert Entry.objects.filter(kind="inspection_plan").count() == 2
    from inspecta.projects.models import PlanVersionImmutable

    with pytest.raises(PlanVersionImmutable):
        first.save()
    with pytest.raises(PlanVersionImmutable):
        first.delete()


def test_a_late_change_is_a_finding_of_its_version(scene: dict[str, Any], frozen: datetime.datetime) -> None:
    plan = _file(scene)
    soon = frozen + datetime.timedelta(hours=5)
    services.plan_change(
        actor=scene["admin"],
        plan=plan,
        reason="提前",
        planned_start=soon,
        planned_end=soon + datetime.timedelta(hours=1),
    )
    assert list(PlanFinding.objects.values_list("key", flat=True)) == [f"plan:{plan.pk}:v2"]


def test_cancel_is_a_last_version(scene: dict[str, Any]) -> None:
    plan = _file(scene)
    with pytest.raises(AppError) as no_reason:
        services.plan_cancel(actor=scene["admin"], plan=plan, reason=" ")
    assert no_reason.value.code == ErrorCode.REASON_REQUIRED
    cancelled = services.plan_cancel(actor=scene["admin"], plan=plan, reason="业主取消检测")
    assert cancelled.status == PlanStatus.CANCELLED and cancelled.version == 2
    assert cancelled.versions.get(number=2).status == PlanStatus.CANCELLED
    with pytest.raises(AppError) as again:
        services.plan_change(actor=scene["admin"], plan=cancelled, reason="再改", quantity=3)
    assert again.value.code == ErrorCode.PLAN_CANCELLED


def test_only_the_filing_agency_changes(scene: dict[str, Any], tree: dict[str, Any]) -> None:
    plan = _file(scene)
    for outsider in (scene["other_admin"], tree["gz_supervisor"], tree["operator"]):
        with pytest.raises(PermissionDenied):
            services.plan_change(actor=outsider, plan=plan, reason="改", quantity=3)
        with pytest.raises(PermissionDenied):
            services.plan_cancel(actor=outsider, plan=plan, reason="取消")
    assert InspectionPlanVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"planned_end": "before"}, ErrorCode.INVALID_DATES),
        ({"contract_id": "elsewhere"}, ErrorCode.UNKNOWN_CONTRACT),
        ({"tester_ids": "other"}, ErrorCode.UNKNOWN_STAFF),
        ({"tester_ids": []}, ErrorCode.UNKNOWN_STAFF),
        ({"test_item": "NOPE"}, ErrorCode.UNKNOWN_TEST_ITEM),
        ({"quantity": 0}, ErrorCode.VALIDATION_FAILED),
    ],
)
def test_bad_input_is_refused_in_chinese_and_stores_nothing(scene: dict[str, Any], over: dict, code: ErrorCode) -> None:
    kwargs = plan_kwargs(scene["agency"], scene["contract"], scene["made"])
    if over.get("planned_end") == "before":
        over = {"planned_end": kwargs["planned_start"] - datetime.timedelta(minutes=1)}
    elif over.get("contract_id") == "elsewhere":
        over = {"contract_id": scene["other_contract"].pk}  # the agency's, of another project
    elif over.get("tester_ids") == "other":
        over = {"tester_ids": [scene["other_made"]["staff"].pk]}
    kwargs.update(over)
    with pytest.raises(AppError) as refused:
        services.plan_file(actor=scene["admin"], **kwargs)
    assert refused.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
    assert not InspectionPlan.objects.exists() and not InspectionPlanVersion.objects.exists()


def test_another_agency_cannot_file_for_the_project(scene: dict[str, Any]) -> None:
    kwargs = plan_kwargs(scene["agency"], scene["contract"], scene["made"])
    with pytest.raises(PermissionDenied):
        services.plan_file(actor=scene["other_admin"], **kwargs)
    kwargs["agency"] = scene["other"]  # a party of another project only
    with pytest.raises(AppError) as refused:
        services.plan_file(actor=scene["other_admin"], **kwargs)
    assert refused.value.code == ErrorCode.AGENCY_NOT_PARTY
    assert not InspectionPlan.objects.exists()


def test_open_findings_list_a_late_plan_for_its_region(
    scene: dict[str, Any], tree: dict[str, Any], frozen: datetime.datetime
) -> None:
    start = frozen + datetime.timedelta(hours=2)
    plan = _file(scene, planned_start=start, planned_end=start + datetime.timedelta(hours=2))
    key = f"plan:{plan.pk}:v1"
    for who in (tree["gz_supervisor"], tree["gz_inspector"], tree["th_admin"], scene["admin"]):
        assert key in {f.key for f in open_findings(who)}
    for who in (tree["sz_admin"], scene["other_admin"]):
        assert key not in {f.key for f in open_findings(who)}
