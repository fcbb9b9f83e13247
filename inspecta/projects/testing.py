"""Plan scenario builders for tests, browser tests and benchmarks of any app: an agency
party of a project with its contract, and the keyword arguments of a plan that passes
every check (STYLE.md 12)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from inspecta.accounts.models import User
from inspecta.projects import services
from inspecta.projects.models import Contract, Project
from inspecta.registry.models import Agency

PILE = "OBJ-SP04-P3"
"""桩身完整性: an on-site test of the catalog."""


def contract_for(admin: User, agency: Agency, project: Project, number: str = "HT-PLAN") -> Contract:
    """A contract of ``agency`` on ``project`` covering the pile tests."""

    from inspecta.reports.testing import pdf_bytes, stored_file

    scan = stored_file(agency.organisation_id, pdf_bytes(number), name="contract.pdf")
    today = timezone.localdate()
    return services.contract_upload(
        actor=admin,
        agency=agency,
        project=project,
        number=number,
        client_name="某建设单位",
        amount="50000.00",
        signed_on=today,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=365),
        test_items=[PILE],
        scan_id=scan.pk,
    )


def plan_kwargs(
    agency: Agency, contract: Contract, made: dict[str, Any], *, ahead: datetime.timedelta | None = None, **over: Any
) -> dict[str, Any]:
    """Keyword arguments of ``plan_file`` for a plan starting ``ahead`` from now (3 days
    by default: in time under every rule)."""

    from inspecta.reports.testing import pdf_bytes, stored_file

    start = timezone.now() + (ahead if ahead is not None else datetime.timedelta(days=3))
    data: dict[str, Any] = {
        "agency": agency,
        "project": contract.project,
        "contract_id": contract.pk,
        "test_item": PILE,
        "tester_ids": [made["staff"].pk],
        "planned_start": start,
        "planned_end": start + datetime.timedelta(hours=8),
        "quantity": 12,
        "quantity_unit": "根",
        "location": "1# 楼桩基",
        "document_id": stored_file(agency.organisation_id, pdf_bytes(f"plan {start}"), name="plan.pdf").pk,
    }
    data.update(over)
    return data


def plan_scene(tree: dict[str, Any]) -> dict[str, Any]:
    """Agency A (Guangzhou) on the Tianhe project ``P-PLAN`` with its pile contract and a
    second project ``P-PLAN2`` with another contract; agency B (Shenzhen) on a Shenzhen
    project with its own contract."""

    from inspecta.reports.testing import approved_agency, project_with

    agency, admin, made = approved_agency(tree, 981)
    other, other_admin, other_made = approved_agency(tree, 982, region="440300")
    project = project_with(tree, [agency], code="P-PLAN")
    second = project_with(tree, [agency], code="P-PLAN2")
    shenzhen = project_with(tree, [other], code="P-SZPLAN", region="440300")
    return {
        "agency": agency,
        "admin": admin,
        "made": made,
        "project": project,
        "contract": contract_for(admin, agency, project),
        "second_contract": contract_for(admin, agency, second, number="HT-PLAN2"),
        "other": other,
        "other_admin": other_admin,
        "other_made": other_made,
        "other_project": shenzhen,
        "other_contract": contract_for(other_admin, other, shenzhen, number="HT-SZ"),
    }
