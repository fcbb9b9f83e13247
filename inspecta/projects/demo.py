"""Demo on-site inspection plans and lead-time rules; idempotent: a second run adds
nothing.

Run after the reports demo (its project ``DEMO-GZ-001`` of 广州建科): the Nanchang rule
(Nanchang 二(三): pile and concrete-structure on-site tests filed at least 3 days ahead,
72 hours, for the catalog's items ``PLAN_ITEMS``), a contract of 广州建科 covering the
pile tests, and two plans on the project: one filed in time (planned 3 days ahead) and
one filed late (planned 6 hours ahead, under Guangzhou's default of 24 hours: a
``plan_filed_late`` finding). Without the reports demo it adds the rules only.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.db import transaction
from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.core.files import file_store
from inspecta.core.models import Region, RegionRule, TestItem
from inspecta.core.regionrules import region_rule_add
from inspecta.projects.regionrules import PLAN_LEAD_HOURS
from inspecta.registry.models import Agency, Staff

from . import services
from .models import Contract, InspectionPlan, Project

NANCHANG = "360100"
NANCHANG_LEAD_HOURS = 72
PLAN_ITEMS = (
    "OBJ-SP04-P2",  # 桩的承载力
    "OBJ-SP04-P3",  # 桩身完整性
    "OBJ-SP02-P1",  # 混凝土结构构件强度、砌体结构构件强度
    "OBJ-SP02-P2",  # 钢筋及保护层厚度
)
CONTRACT = "GZJK-HT-2026-002"
PLANS = (
    # location, test item, hours ahead of now, quantity, unit
    ("1# 楼工程桩（低应变）", "OBJ-SP04-P3", 72, 36, "根"),
    ("2# 楼主体结构（回弹法）", "OBJ-SP02-P1", 6, 10, "构件"),
)


def _pdf(organisation_id: int, title: str) -> Any:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return file_store(out.getvalue(), organisation_id=organisation_id, purpose="plan", name=f"{title}.pdf")


def _rules(operator: User) -> int:
    """The Nanchang 72-hour rules for the pile and concrete-structure items the catalog has."""

    if not Region.objects.filter(pk=NANCHANG).exists():
        return 0
    added = 0
    for code in PLAN_ITEMS:
        if not TestItem.objects.filter(pk=code).exists():
            continue
        if RegionRule.objects.filter(name=PLAN_LEAD_HOURS, region_id=NANCHANG, test_item_id=code).exists():
            continue
        region_rule_add(
            actor=operator, name=PLAN_LEAD_HOURS, region_code=NANCHANG, test_item=code, value=NANCHANG_LEAD_HOURS
        )
        added += 1
    return added


def _contract(admin: User, agency: Agency, project: Project) -> Contract:
    contract = Contract.objects.filter(agency=agency, number=CONTRACT).first()
    if contract is not None:
        return contract
    today = timezone.localdate()
    scan = _pdf(agency.organisation_id, CONTRACT)
    return services.contract_upload(
        actor=admin,
        agency=agency,
        project=project,
        number=CONTRACT,
        client_name="广州市某安置房建设单位",
        amount="180000.00",
        signed_on=today - datetime.timedelta(days=30),
        valid_from=today - datetime.timedelta(days=30),
        valid_until=today + datetime.timedelta(days=335),
        test_items=[code for code in PLAN_ITEMS if TestItem.objects.filter(pk=code).exists()],
        scan_id=scan.pk,
    )


@transaction.atomic
def plans_demo_load() -> dict[str, int]:
    """Create the rules and plans that are missing; returns counts added."""

    added = {"rules": 0, "plans": 0}
    operator = User.objects.filter(username="operator", is_active=True).first()
    if operator is not None:
        added["rules"] = _rules(operator)
    agency = Agency.objects.filter(organisation__users__username="gz_agency").first()
    project = Project.objects.filter(code="DEMO-GZ-001").first()
    admin = User.objects.filter(username="gz_agency").first()
    if agency is None or project is None or admin is None or agency.pk not in project.agency_ids():
        return added
    if InspectionPlan.objects.filter(agency=agency, project=project).exists():
        return added
    staff = list(Staff.objects.filter(agency=agency, active=True).order_by("pk")[:2])
    if not staff:
        return added
    contract = _contract(admin, agency, project)
    now = timezone.now().replace(second=0, microsecond=0)
    for location, item, hours, quantity, unit in PLANS:
        if not contract.test_items.filter(pk=item).exists():
            continue
        start = now + datetime.timedelta(hours=hours)
        services.plan_file(
            actor=admin,
            agency=agency,
            project=project,
            contract_id=contract.pk,
            test_item=item,
            tester_ids=[s.pk for s in staff],
            planned_start=start,
            planned_end=start + datetime.timedelta(hours=6),
            quantity=quantity,
            quantity_unit=unit,
            location=location,
            document_id=_pdf(agency.organisation_id, f"检测方案-{location}").pk,
        )
        added["plans"] += 1
    return added


def plans_demo() -> tuple[int, list[Any]]:
    """``inspecta demo``'s loader (``ProjectsConfig.demo_loader``)."""

    return sum(plans_demo_load().values()), []
